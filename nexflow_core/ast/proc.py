"""L1 proc files: a proc is an ordered pipeline; each statement is one operator."""

from __future__ import annotations

from typing import Optional, Union

from nexflow_core.ast.base import Node, Ref
from nexflow_core.ast.expr import DurationLit, Expr, Path, TypeRef
from nexflow_core.ast.transform import Mapping


class FromStmt(Node, frozen=True):
    refs = {"stream": Ref("stream", "read")}

    stream: str


class EventTimeStmt(Node, frozen=True):
    """`event_time <field> [watermark <duration>]`: event time from a field, watermarks with
    bounded out-of-orderness."""

    field: Path
    watermark: Optional[DurationLit] = None


class FilterStmt(Node, frozen=True):
    condition: Expr


class TransformStmt(Node, frozen=True):
    """`transform using <transform>`: the record becomes the transform's output."""

    refs = {"transform": Ref("transform")}

    transform: str


class ApplyStmt(Node, frozen=True):
    """`apply <ruleset|table> [rules|table] [as alias]`."""

    refs = {"target": Ref("rules")}

    target: str
    kind: Optional[str] = None
    alias: Optional[str] = None


class CorrelateStmt(Node, frozen=True):
    """`correlate [with <stream>] by <key> within <duration>`."""

    refs = {"partner": Ref("stream", "read")}

    key: Path
    within: DurationLit
    partner: Optional[str] = None


class OnStmt(Node, frozen=True):
    """`on <event> emit to <stream>`; event is timeout, reject, flag, late, error or route
    (then `label` names the route)."""

    refs = {"stream": Ref("stream", "write")}

    event: str
    stream: str
    label: Optional[str] = None


class OnLookupErrorStmt(Node, frozen=True):
    """`on lookup_error continue | dead_letter | fail`: what every lookup of the proc does
    with a record when its store fails or gives no answer in time."""

    action: str


class OnPersistErrorStmt(Node, frozen=True):
    """`on persist_error dead_letter | fail`: what every `persist to` of the proc does with a
    record whose write failed after its retries, or was not acknowledged in time."""

    action: str


class Persist(Node, frozen=True):
    refs = {"store": Ref("store", "write")}

    store: str
    is_async: bool = False


class EmitStmt(Node, frozen=True):
    """`emit to <stream> [persist to <store> [async]] [exactly_once | at_least_once
    [idempotency_key <field>]]`."""

    refs = {"stream": Ref("stream", "write")}

    stream: str
    persist: Optional[Persist] = None
    delivery: Optional[str] = None
    idempotency_key: Optional[Path] = None


class RouteCase(Node, frozen=True):
    refs = {"stream": Ref("stream", "write")}

    condition: Optional[Expr]
    stream: str


class RouteStmt(Node, frozen=True):
    """`route { when <cond> to <stream> … otherwise to <stream> }` (first match wins)."""

    cases: list[RouteCase]


class KeyByStmt(Node, frozen=True):
    keys: list[Path]


class StateStmt(Node, frozen=True):
    """`state <name>: <type> ttl <duration>`: keyed state, always with a TTL."""

    name: str
    type: TypeRef
    ttl: DurationLit


class UpdateStmt(Node, frozen=True):
    """`update <state> = <expr>`."""

    name: str
    expr: Expr


class RollingStmt(Node, frozen=True):
    """`rolling <duration> { name = count() | sum(x) | min(x) | max(x) … }` after `key by`:
    per record, aggregates over the records of its key in the duration up to its time (itself
    included), bound to the names for the statements after it."""

    within: DurationLit
    mappings: list[Mapping]


class WindowStmt(Node, frozen=True):
    """kind: tumbling (size), sliding (size, slide), session (gap in size)."""

    kind: str
    size: DurationLit
    slide: Optional[DurationLit] = None
    allowed_lateness: Optional[DurationLit] = None


class AggregateStmt(Node, frozen=True):
    """`aggregate into <Schema> { field = count() … }` after a window."""

    refs = {"schema": Ref("schema")}

    schema: str
    mappings: list[Mapping]


class MapStmt(Node, frozen=True):
    """`map into <Schema> { field = expr … }`: an inline projection."""

    refs = {"schema": Ref("schema")}

    schema: str
    mappings: list[Mapping]


class JoinStmt(Node, frozen=True):
    """`join <stream> as <alias> on <cond> within <duration>` (interval join) or
    `… window tumbling <duration>` (windowed join)."""

    refs = {"stream": Ref("stream", "read")}

    stream: str
    alias: str
    condition: Expr
    within: Optional[DurationLit] = None
    window: Optional[DurationLit] = None


class LookupStmt(Node, frozen=True):
    """`lookup <store> by <key expr> as <alias> [cache <duration>]`."""

    refs = {"store": Ref("store", "read")}

    store: str
    key: Expr
    alias: str
    cache: Optional[DurationLit] = None


class DedupStmt(Node, frozen=True):
    key: Path
    within: DurationLit


class ParallelismStmt(Node, frozen=True):
    value: int


class CheckpointStmt(Node, frozen=True):
    every: DurationLit
    mode: Optional[str] = None


Stmt = Union[
    FromStmt,
    EventTimeStmt,
    FilterStmt,
    TransformStmt,
    ApplyStmt,
    CorrelateStmt,
    OnStmt,
    OnLookupErrorStmt,
    OnPersistErrorStmt,
    EmitStmt,
    RouteStmt,
    KeyByStmt,
    StateStmt,
    UpdateStmt,
    RollingStmt,
    WindowStmt,
    AggregateStmt,
    MapStmt,
    JoinStmt,
    LookupStmt,
    DedupStmt,
    ParallelismStmt,
    CheckpointStmt,
]


class ProcDecl(Node, frozen=True):
    name: str
    statements: list[Stmt]
