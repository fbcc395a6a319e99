"""Durations the fixtures and tests measure, printed in pytest's summary ("e2e timings"), and
tables a test prints there whether it passes or fails (the upgrade matrix)."""

from __future__ import annotations

from typing import Optional

TIMINGS: dict[str, float] = {}


def record_timing(what: str, seconds: Optional[float]) -> None:
    if seconds is not None:
        TIMINGS[what] = seconds


REPORTS: dict[str, str] = {}


def record_report(title: str, text: str) -> None:
    REPORTS[title] = text
