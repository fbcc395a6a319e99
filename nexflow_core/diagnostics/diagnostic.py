"""The Diagnostic record and the only exception the front end lets escape."""

from __future__ import annotations

from typing import Optional

import msgspec

from nexflow_core.diagnostics.catalogue import CODES
from nexflow_core.diagnostics.span import Span

ERROR = "error"
WARNING = "warning"


class Diagnostic(msgspec.Struct, frozen=True):
    """One finding about the source: a stable code (see catalogue.CODES), a severity
    ("error" or "warning"), a plain-words message, where it is, what was expected and a hint.

    `related` points at a second place that matters (the other definition of a duplicate,
    the upstream file of a layering violation)."""

    code: str
    severity: str
    message: str
    span: Span
    expected: Optional[str] = None
    hint: Optional[str] = None
    related: Optional[Span] = None

    def __post_init__(self) -> None:
        # The catalogue is the registry: a diagnostic of a code it lacks is a bug in Nexflow
        # (an undocumented code a user could not look up), caught where it is made.
        if self.code not in CODES:
            raise ValueError(f"diagnostic code {self.code} is not in the catalogue")

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def sort_key(d: Diagnostic) -> tuple:
    """Stable, deterministic ordering: by file, position, then code."""
    s = d.span
    return (s.file, s.line, s.column, d.code, d.message)


class NexflowError(Exception):
    """Raised by parse/check entry points; always carries at least one located Diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        text = (
            f"{first.span.location()}: {first.code}: {first.message}" if first else "nexflow error"
        )
        super().__init__(text)
