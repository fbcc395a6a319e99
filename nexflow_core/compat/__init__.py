"""The upgrade-safety gate: what a change does to the state a savepoint of the last release
holds (state.py), the release's baseline (baseline.py) and the verdicts (report.py).

A tool stage: it reads the generator's job models and the interface files; nothing of the
compiler below imports it. docs/upgrades.md is the user's side of it.
"""
