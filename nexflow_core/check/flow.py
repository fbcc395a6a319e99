"""A proc's flow as the checker computed it: what every statement sees and leaves.

The checker (check/proc_check.py) computes it once per proc; the generator (generate/jobs.py)
and `nexflow graph` (tool/graph.py) read it instead of working the same facts out again, so
what `check` accepts is what they build:

- the record type entering and leaving each statement;
- the operator each statement runs in (a `key by`, `deduplicate`, `correlate`, `lookup`,
  `join`, `window`, or the store reads of a transform with lookups, starts a new one), and the
  names (aliases, table results, states, rolling values) it may read there, or why not;
- the key in force (the statement that set it), the window an `aggregate into` closes, the
  event time in force and that of a correlated or joined stream;
- the statement each `on timeout|late|reject|flag|route` handler belongs to, and what
  `apply` applies (a ruleset, and the routes it can take, or a decision table).

The flow is complete only for a proc without errors; generation runs on no other.
"""

from __future__ import annotations

from typing import Optional

import msgspec

from nexflow_core.typemodel import Type


class FlowKey(msgspec.Struct, frozen=True):
    """The key the records are keyed by: set by the statement `at` (`key by` or `correlate`),
    its text as written, and the record type it reads its fields from."""

    at: int
    text: str
    record: Type


class FlowName(msgspec.Struct, frozen=True):
    """A name a statement may read: its type and what bound it. `may_be_null`: the name holds
    null when nothing was found (a lookup's miss, a table without a matching row, a state not
    yet set, min/max/sum of nothing)."""

    type: Type
    bound_by: str  # "outcome" | "table" | "state" | "rolling" | "lookup" | "join"
    may_be_null: bool


class FlowEventTime(msgspec.Struct, frozen=True):
    """Event time: a field of the source's records (`kind` datetime or long), with the
    watermark delay of the `event_time` statement at index `declared_at` (0 without one)."""

    field: str
    kind: str
    watermark_ms: int = 0
    declared_at: Optional[int] = None


class FlowPartner(msgspec.Struct, frozen=True):
    """The other stream of a `correlate with` or a `join`: its records and their event time."""

    stream: str
    record: Type
    event_time_field: str
    event_time_kind: str


class Step(msgspec.Struct, frozen=True):
    """One statement of the proc (None before the source)."""

    index: int
    statement: str
    input: Optional[Type]
    output: Optional[Type]
    # The operator the statement runs in (numbered from 0) and whether it starts it.
    operator: int = 0
    starts_operator: bool = False
    # Names the statement may read (not counting record fields), and names bound earlier
    # that it may not read, with the reason (they belong to an operator before this one).
    names: dict[str, FlowName] = {}
    dead: dict[str, str] = {}
    # The key in force after the statement (None: the records are not keyed).
    key: Optional[FlowKey] = None
    # `aggregate into`: the index of the window statement it closes.
    window: Optional[int] = None
    # `correlate with` and `join`: the partner stream.
    partner: Optional[FlowPartner] = None
    # `apply`: "ruleset" or "table"; for a ruleset, the route labels it can take.
    applies: Optional[str] = None
    routes: list[str] = []


class ProcFlow(msgspec.Struct, frozen=True):
    """A proc's flow: its steps, one per statement in order, and the proc-wide facts."""

    name: str
    steps: list[Step]
    source: Optional[str] = None
    source_type: Optional[Type] = None
    event_time_field: Optional[str] = None
    aliases: dict[str, Type] = {}
    states: dict[str, Type] = {}
    # The statement each `on timeout|late|reject|flag|route` handler belongs to (indexes into
    # the proc's statements): the generator writes the handler with that statement.
    handlers: dict[int, int] = {}
    event_time: Optional[FlowEventTime] = None
    # The `on error` statement (dead letters), if any.
    dead_letters: Optional[int] = None
