"""Shared checking context: the symbol table, where we are (unit path/kind) and the list the
diagnostics go to."""

from __future__ import annotations

from typing import Optional

from nexflow_core.check.symbols import LAYER_NAME, WHAT, Entry, Symbols, layering_ok
from nexflow_core.diagnostics import Diagnostic, Span, file_span


class Ctx:
    def __init__(self, symbols: Symbols, path: str, kind: str, diags: list[Diagnostic]) -> None:
        self.symbols = symbols
        self.path = path
        self.kind = kind
        self.diags = diags
        self.expr_types: dict[int, object] = {}

    def error(
        self,
        code: str,
        message: str,
        span: Span,
        expected: Optional[str] = None,
        hint: Optional[str] = None,
        related: Optional[Span] = None,
    ) -> None:
        self.diags.append(Diagnostic(code, "error", message, span, expected, hint, related))

    def warning(
        self,
        code: str,
        message: str,
        span: Span,
        expected: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        self.diags.append(Diagnostic(code, "warning", message, span, expected, hint))

    def use(self, e: Entry, span: Span) -> bool:
        """Record a reference to entry e from this unit; report a layering violation."""
        if layering_ok(self.kind, e.unit_kind):
            return True
        self.error(
            "NX203",
            f"{LAYER_NAME[self.kind]} file {self.path} may not use {WHAT.get(e.what, e.what)} "
            f"'{getattr(e.sig, 'name', '?')}' defined in the {LAYER_NAME[e.unit_kind]} file "
            f"{e.path}",
            span,
            expected=f"only names from {', '.join(_allowed_words(self.kind))} files",
            related=file_span(e.path),
        )
        return False

    def did_you_mean(self, name: str, candidates: list[str]) -> Optional[str]:
        s = self.symbols.suggest(name, candidates)
        return f"did you mean '{s}'?" if s else None


def _allowed_words(kind: str) -> list[str]:
    from nexflow_core.check.symbols import ALLOWED

    return [f".{k}" for k in ALLOWED[kind]]
