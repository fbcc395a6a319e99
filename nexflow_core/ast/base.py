"""The base of every AST node: a frozen, tagged msgspec Struct carrying its source Span."""

from __future__ import annotations

from typing import ClassVar, Mapping, NamedTuple

import msgspec

from nexflow_core.diagnostics.span import Span


class Ref(NamedTuple):
    """What a string field of a node names, declared on the node class (`Node.refs`).

    kind: "stream", "store", "schema" (a schema), "type" (a type as written: a scalar, list,
    map, schema or enum), "transform", "rules" (a ruleset or a decision table), "function" (a
    built-in function or aggregation, or a transform called like one) or "environment".
    role: for streams and stores, "read" or "write" (the data flow of a proc); else ""."""

    kind: str
    role: str = ""


class Node(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="node"):
    """Every node keeps where it came from. Fields are keyword-only; the msgspec tag is the
    class name, so a Module encodes to JSON unambiguously.

    `refs` maps each field that names something declared elsewhere (a stream, a store, a
    schema, …) to what it names; `nexflow_core.ast.references` reads it, so the checker, the
    graph and the build's dependency inference need no list of their own. A new node with such a
    field declares it here (tests/frontend/test_completeness.py fails until it does)."""

    refs: ClassVar[Mapping[str, Ref]] = {}

    span: Span
