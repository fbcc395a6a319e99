"""Durations the fixtures and tests measure, printed in pytest's summary ("e2e timings")."""

from __future__ import annotations

from typing import Optional

TIMINGS: dict[str, float] = {}


def record_timing(what: str, seconds: Optional[float]) -> None:
    if seconds is not None:
        TIMINGS[what] = seconds
