"""bench/frontend.py at its smallest: its synthetic project still checks clean, so the benchmark
measures the front end instead of failing (it broke unnoticed twice)."""

from __future__ import annotations

from bench.frontend import generate, measure


def test_the_synthetic_project_checks_clean_and_is_measured() -> None:
    assert len(generate(20)) == 20
    lines, cpu, wall, files = measure(20, 1)
    assert lines > 0 and files == 20 and cpu > 0 and wall > 0
