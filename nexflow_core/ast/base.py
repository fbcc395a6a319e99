"""The base of every AST node: a frozen, tagged msgspec Struct carrying its source Span."""

from __future__ import annotations

import msgspec

from nexflow_core.diagnostics.span import Span


class Node(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="node"):
    """Every node keeps where it came from. Fields are keyword-only; the msgspec tag is the
    class name, so a Module encodes to JSON unambiguously."""

    span: Span
