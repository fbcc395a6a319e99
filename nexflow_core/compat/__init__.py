"""The upgrade-safety gate: what a change does to the state a savepoint of the last release
holds (state.py), the release's baseline (baseline.py), the verdicts (report.py), and the
streams' and stores' record schemas against the baseline's under their compatibility modes
(contract.py).

A tool stage: it reads the checker's results, the generator's job models and the interface
files; nothing of the compiler below imports it. docs/upgrades.md is the user's side of it.
"""
