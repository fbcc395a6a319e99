"""Checks for L1 proc files: the statements form an ordered pipeline; the record type flows
from the source stream through every operator (transforms change it, rules inspect it,
aggregations and projections replace it) into the sinks."""

from __future__ import annotations

from functools import partial
from typing import Callable, Optional, Sequence

import msgspec

from nexflow_core import ast
from nexflow_core import typemodel as T
from nexflow_core.check.context import Ctx
from nexflow_core.check.exprs import ExprChecker, Scope, nonnull_if
from nexflow_core.check.flow import FlowEventTime, FlowKey, FlowName, FlowPartner, ProcFlow, Step
from nexflow_core.check.transform_check import check_lookup_key, check_mappings
from nexflow_core.check.typeref import check_typeref
from nexflow_core.diagnostics import Span
from nexflow_core.interface.model import RulesetSig
from nexflow_core.typemodel import Type

SOURCE_FREE = (
    ast.ParallelismStmt,
    ast.CheckpointStmt,
    ast.OnLookupErrorStmt,
    ast.OnPersistErrorStmt,
)
# What `rolling` computes per record (kept per entry, so no accumulator that cannot be undone).
ROLLING_AGGREGATIONS = ("count", "sum", "min", "max")


# Statements that start an operator of their own (so do calls of transforms with lookups).
BOUNDARIES = (
    ast.KeyByStmt,
    ast.DedupStmt,
    ast.CorrelateStmt,
    ast.LookupStmt,
    ast.JoinStmt,
    ast.WindowStmt,
)

# Statements after which a record that passed a `filter` is still the same record, its names
# bound to the same values (a lookup or an apply binds one new name, dropped from what a filter
# proved; an apply of rules may `set` fields of the record, so its fields are dropped too).
# `key by`, `deduplicate` and `event_time` end the operator: its names die (NX421), the
# record's fields stay what the filter proved.
KEEPS_RECORD = (
    ast.FilterStmt,
    ast.EventTimeStmt,
    ast.KeyByStmt,
    ast.DedupStmt,
    ast.LookupStmt,
    ast.ApplyStmt,
    ast.EmitStmt,
    ast.OnStmt,
    ast.StateStmt,
    ast.UpdateStmt,
    *SOURCE_FREE,
)

# Where a proc may call a transform with lookups: the job reads the stores right before.
LOOKUP_CALL_SITES = (ast.MapStmt, ast.FilterStmt, ast.RouteStmt, ast.TransformStmt)
LOOKUP_CALL_SITES_TEXT = (
    "a call in a proc's `map into`, filter or route condition, or `transform using`"
)

BOUNDARY_WORDS: dict[type, str] = {
    ast.KeyByStmt: "key by",
    ast.DedupStmt: "deduplicate",
    ast.CorrelateStmt: "correlate",
    ast.LookupStmt: "lookup",
    ast.JoinStmt: "join",
    ast.WindowStmt: "window",
}

# Statements `on late` belongs to (the nearest before it, else the first after it).
LATE_OWNERS = (ast.WindowStmt, ast.RollingStmt)


class _Flow:
    def __init__(self) -> None:
        self.current: Optional[Type] = None
        self.names: dict[str, Type] = {}
        self.states: dict[str, Type] = {}
        self.keyed = False
        self.key_types: list[Type] = []
        self.window: Optional[ast.WindowStmt] = None
        self.correlate_type: Optional[Type] = None
        self.late_type: Optional[Type] = None
        self.applied: list[tuple[RulesetSig, Type]] = []
        self.handled_routes: set = set()
        self.source: Optional[str] = None
        self.source_type: Optional[Type] = None
        self.lookup_error: Optional[ast.OnLookupErrorStmt] = None
        # Operators: each boundary statement starts a new one; a name (alias, state, rolling
        # value, table result, outcome) lives in the operator that binds it.
        self.operator = 0
        self.boundary = ""
        self.bound_in: dict[str, int] = {}
        self.dead: dict[str, str] = {}
        # A route with `otherwise`: every record leaves the proc there.
        self.terminated: Optional[ast.RouteStmt] = None
        # Why the records are not keyed any more (a lookup or join since the last key).
        self.keyed_after: Optional[str] = None
        # The record type when `key by` was written (a window keys by fields of it).
        self.key_record: Optional[Type] = None
        # The first `emit to` of each stream (one stream is written one way).
        self.emits: dict[str, ast.EmitStmt] = {}
        # The statement reading each stream (source, partner of a correlate or a join).
        self.reads: dict[str, ast.Node] = {}
        self.dead_letters: Optional[ast.OnStmt] = None
        # Paths already reported as lookup keys of a transform (NX902) in this statement.
        self.excused: set[int] = set()
        # What names each stateful operator (its uid, in the generator) -> its statement.
        self.operator_names: dict[tuple[str, ...], ast.Node] = {}
        self.key_text = ""
        # The statement that set the key in force (`key by` or `correlate`).
        self.key_at = 0
        self.persist_error: Optional[ast.OnPersistErrorStmt] = None
        # What bound each name: "outcome", "table", "state", "rolling", "lookup" or "join".
        self.bound_by: dict[str, str] = {}
        # The index of the open window's statement, and of the one an `aggregate into` closed.
        self.window_at: Optional[int] = None
        self.closed_window: Optional[int] = None
        # The partner stream of the current `correlate with` or `join`.
        self.partner: Optional[FlowPartner] = None
        # What the current `apply` applies: ("ruleset", its routes) or ("table", []).
        self.applies: Optional[tuple[str, list[str]]] = None
        # Paths a `filter` proved not null (`filter customer is not null`), for the statements
        # after it that still see the same record and names.
        self.nonnull: frozenset[str] = frozenset()


def _nearest(
    stmts: Sequence[ast.Node], i: int, pred: Callable[[ast.Node], bool]
) -> Optional[int]:
    """The index of the nearest statement before `i` for which `pred` holds."""
    for j in range(i - 1, -1, -1):
        if pred(stmts[j]):
            return j
    return None


def _calls(node: ast.Node | Sequence[ast.Node]) -> list[ast.Call]:
    return ast.nodes_of(node, ast.Call)


def _paths(node: ast.Node | Sequence[ast.Node]) -> list[ast.Path]:
    return ast.nodes_of(node, ast.Path)


def _shape(node: ast.Node) -> str:
    """A statement without its positions: equal for two statements written alike."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "span"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return msgspec.json.encode(strip(msgspec.to_builtins(node))).decode("utf-8")


def _names_bound_by(s: ast.Node) -> set[str]:
    """The names a statement binds (so a name bound again in a later operator lives there)."""
    if isinstance(s, (ast.LookupStmt, ast.JoinStmt)):
        return {s.alias}
    if isinstance(s, ast.ApplyStmt) and s.alias:
        return {s.alias}
    if isinstance(s, ast.StateStmt):
        return {s.name}
    if isinstance(s, ast.RollingStmt):
        return {mp.field for mp in s.mappings}
    return set()


def _bound_by(s: ast.Node, applies: Optional[tuple[str, list[str]]]) -> str:
    """What kind of name statement `s` binds (see FlowName.bound_by)."""
    if isinstance(s, ast.ApplyStmt):
        return "table" if applies is not None and applies[0] == "table" else "outcome"
    words = {
        ast.LookupStmt: "lookup",
        ast.JoinStmt: "join",
        ast.StateStmt: "state",
        ast.RollingStmt: "rolling",
    }
    return words.get(type(s), "name")


def _delivery(s: ast.EmitStmt) -> tuple[object, ...]:
    persist = (s.persist.store, s.persist.is_async) if s.persist is not None else None
    key = s.idempotency_key.dotted if s.idempotency_key is not None else None
    return (persist, s.delivery, key)


def check_proc_unit(ctx: Ctx, m: ast.Module) -> dict[str, ProcFlow]:
    ex = ExprChecker(ctx)
    out: dict[str, ProcFlow] = {}
    for d in m.decls:
        if isinstance(d, ast.ProcDecl):
            out[d.name] = ProcChecker(ctx, ex, d).run()
    return out


class ProcChecker:
    def __init__(self, ctx: Ctx, ex: ExprChecker, d: ast.ProcDecl) -> None:
        self.ctx = ctx
        self.ex = ex
        self.d = d
        self.f = _Flow()
        self.sy = ctx.symbols

    def scope(self, aggregates: bool = False) -> Scope:
        names = {n: t for n, t in self.f.names.items() if n not in self.f.dead}
        names.update((n, t) for n, t in self.f.states.items() if n not in self.f.dead)
        cur = (
            self.f.current
            if self.f.current is not None and self.f.current.kind in ("record", "struct")
            else None
        )
        if self.f.current is not None and self.f.current.kind == "any":
            # The record's type is unknown after an error (an unknown stream, a file that does
            # not parse): its fields are not errors of their own.
            return Scope(names, unbound=lambda _root, _path: T.ANY, aggregates=aggregates,
                         dead=dict(self.f.dead), excused=self.f.excused)  # fmt: skip
        dead = {n: why for n, why in self.f.dead.items()}
        return Scope(
            names,
            implicit=cur,
            aggregates=aggregates,
            dead=dead,
            excused=self.f.excused,
            nonnull=self.f.nonnull,
        )

    def _narrowed_after(self, s: ast.Node) -> frozenset[str]:
        """What is known not to be null after `s`: what a filter proves holds for every
        record it lets through, until the record or the name at a path's root changes."""
        if not isinstance(s, KEEPS_RECORD):
            return frozenset()
        rebound = _names_bound_by(s)
        # Rules may `set` the record's fields; a table only binds its result.
        sets_fields = isinstance(s, ast.ApplyStmt) and (
            self.f.applies is None or self.f.applies[0] != "table"
        )
        keep = {
            p
            for p in self.f.nonnull
            if p.split(".")[0] not in rebound
            and (not sets_fields or p.split(".")[0] in self.f.names)
        }
        if isinstance(s, ast.FilterStmt):
            # A state changes with `update`: what a filter saw of it is not kept.
            keep |= {
                p for p in nonnull_if(s.condition, True) if p.split(".")[0] not in self.f.states
            }
        return frozenset(keep)

    def stream_type(self, name: str, span: Span) -> Optional[Type]:
        e = self.sy.streams.get(name)
        if e is None:
            self.ctx.error(
                "NX205",
                f"unknown stream '{name}'",
                span,
                expected="a stream declared in a .schema file (stream name: Schema)",
                hint=self.ctx.did_you_mean(name, list(self.sy.streams)),
            )
            return None
        self.ctx.use(e, span)
        return T.record(e.sig.schema)

    def sink(self, name: str, span: Span, t: Optional[Type], what: str) -> None:
        st = self.stream_type(name, span)
        if st is None or t is None or t.kind == "any":
            return
        if not T.same(st, t):
            self.ctx.error(
                "NX304",
                f"{what} {t.display()} records, but stream {name} carries {st.display()}",
                span,
                expected=f"a stream of {t.display()}",
                hint="add `map into …` or `transform using …` before emitting",
            )

    def _reached(self, s: ast.Node) -> None:
        """NX422: a statement after a route whose `otherwise` sends every record away."""
        route = self.f.terminated
        if route is None or isinstance(s, (ast.OnStmt, *SOURCE_FREE)):
            return
        self.ctx.error(
            "NX422",
            f"no record reaches this statement: the route on line {route.span.line} sends "
            "every record away (it has `otherwise`)",
            s.span,
            expected="the statement before the route, or a route without `otherwise`",
        )
        self.f.terminated = None  # one report per route

    def _is_boundary(self, s: ast.Node) -> bool:
        """Does `s` start an operator of its own? (What the names before it cannot cross.)"""
        if isinstance(s, BOUNDARIES):
            return True
        return isinstance(s, LOOKUP_CALL_SITES) and self._calls_transform_with_lookups(s)

    def _check_transform_lookups(self, s: ast.Node) -> set[int]:
        """NX902: a call of a transform with lookups where the job cannot read its stores first
        (the store read runs in an operator right before the statement, with the key computed
        from the record's fields). The ids of the key arguments reported, so that their names
        are not reported again as read beyond their operator."""
        excused: set[int] = set()
        for call in _calls(s):
            sig = self.sy.transform(call.name)
            if sig is None or not sig.lookups:
                continue
            if not isinstance(s, LOOKUP_CALL_SITES):
                self.ctx.error(
                    "NX902",
                    f"transform {call.name} has lookups, which only a proc can read before "
                    "calling it",
                    call.span,
                    expected=LOOKUP_CALL_SITES_TEXT,
                    hint="see docs/language/transform.md, Lookups",
                )
                continue
            inputs = [p.name for p in sig.inputs]
            for lk in sig.lookups:
                if lk.input not in inputs or inputs.index(lk.input) >= len(call.args):
                    continue  # a wrong call: reported with its arguments
                arg = call.args[inputs.index(lk.input)]
                if all(self._is_record_field(path) for path in _paths(arg)):
                    continue
                excused.update(id(path) for path in _paths(arg))
                self.ctx.error(
                    "NX902",
                    f"transform {call.name} has lookups, and the argument for '{lk.input}' "
                    f"(the key of its lookup '{lk.alias}') reads more than the record's fields",
                    arg.span,
                    expected="an argument computed from the fields of the record the statement "
                    "sees",
                    hint="see docs/language/transform.md, Lookups",
                )
        return excused

    def _is_record_field(self, path: ast.Path) -> bool:
        cur = self.f.current
        if cur is None or cur.kind not in ("record", "struct"):
            return False
        return self.sy.field_type(cur, path.parts[0]) is not None

    def _new_operator(self, s: ast.Node) -> None:
        keyword = BOUNDARY_WORDS.get(type(s))
        where = (
            f"`{keyword}` on line {s.span.line}"
            if keyword
            else f"the store read of the transform called on line {s.span.line}"
        )
        for name, operator in self.f.bound_in.items():
            if operator == self.f.operator and name not in self.f.dead:
                self.f.dead[name] = where
        self.f.operator += 1
        if not isinstance(s, (ast.KeyByStmt, ast.DedupStmt, ast.CorrelateStmt, ast.WindowStmt)):
            # A store read (or a join) hands its records on unkeyed: keyed state after it
            # needs a `key by` of its own.
            self.f.keyed = False
            self.f.keyed_after = where

    def _calls_transform_with_lookups(self, node: ast.Node | Sequence[ast.Node]) -> bool:
        """A call of a transform with lookups (a call, or `transform using`): the job reads
        the store in an operator of its own right before the statement."""
        names = [c.name for c in _calls(node)]
        names += [t.transform for t in ast.nodes_of(node, ast.TransformStmt)]
        return any(self._transform_has_lookups(name) for name in names)

    def _transform_has_lookups(self, name: str) -> bool:
        sig = self.sy.transform(name)
        return sig is not None and bool(sig.lookups)

    def need_source(self, s: ast.Node) -> bool:
        if self.f.current is None:
            self.ctx.error(
                "NX408",
                "this step needs a source: start the proc with `from`",
                s.span,
                expected="from <stream> first",
            )
            return False
        return True

    def run(self) -> ProcFlow:
        steps: list[Step] = []
        event_time: Optional[str] = None
        event_time_at: Optional[int] = None
        for i, s in enumerate(self.d.statements):
            before = self.f.current
            if not isinstance(s, (ast.FromStmt, *SOURCE_FREE)) and not self.need_source(s):
                steps.append(Step(i, type(s).__name__, before, before, self.f.operator))
                continue
            self._reached(s)
            self.f.excused = self._check_transform_lookups(s)
            starts = self._is_boundary(s)
            if starts:
                self._new_operator(s)
                if not isinstance(s, BOUNDARIES):  # the store reads of a transform's lookups
                    self._one_operator(("lookups before", _shape(s)), s)
            names = self._live_names()
            dead = dict(self.f.dead)
            known = {*self.f.names, *self.f.states}
            self.f.partner = None
            self.f.applies = None
            self.f.closed_window = None
            if isinstance(s, ast.WindowStmt):
                self.f.window_at = i
            if isinstance(s, (ast.KeyByStmt, ast.CorrelateStmt)):
                self.f.key_at = i
            handler = getattr(self, "on_" + type(s).__name__)
            handler(s)
            self.f.nonnull = self._narrowed_after(s)
            for name in ({*self.f.names, *self.f.states} - known) | _names_bound_by(s):
                self.f.bound_in[name] = self.f.operator
                self.f.bound_by[name] = _bound_by(s, self.f.applies)
                self.f.dead.pop(name, None)
            if isinstance(s, ast.RouteStmt) and any(c.condition is None for c in s.cases):
                self.f.terminated = s
            if isinstance(s, ast.EventTimeStmt):
                event_time = s.field.dotted
                event_time_at = i
            applies, routes = self._applied_here()
            steps.append(
                Step(
                    i,
                    type(s).__name__,
                    before,
                    self.f.current,
                    operator=self.f.operator,
                    starts_operator=starts,
                    names=names,
                    dead=dead,
                    key=self._key_in_force(),
                    window=self.f.closed_window,
                    partner=self.f.partner,
                    applies=applies,
                    routes=routes,
                )
            )
        if self.f.window is not None:
            self.ctx.error(
                "NX408",
                "a window needs `aggregate into <Schema> { … }` after it",
                self.f.window.span,
                expected="aggregate into <Schema> { field = aggregation … } after the window",
            )
        if self.f.source is None:
            self.ctx.error(
                "NX431",
                f"proc {self.d.name} has no source",
                self.d.span,
                expected="a `from <stream>` statement",
            )
        for sig, _ in self.f.applied:
            for label in sig.routes:
                if label not in self.f.handled_routes:
                    self.ctx.error(
                        "NX409",
                        f"ruleset {sig.name} can route to '{label}' but "
                        f"proc {self.d.name} does not say where that goes",
                        self.d.span,
                        expected=f"on route {label} emit to <stream>",
                    )
        if event_time is None and self.f.source_type is not None:
            schema = self.sy.schema(self.f.source_type.name or "")
            if schema is not None:
                for fs in schema.fields:
                    if fs.event_time:
                        event_time = fs.name
        if event_time is not None:
            self._warn_zero_watermark()
        dead_letters = self.f.dead_letters
        return ProcFlow(
            self.d.name,
            steps,
            self.f.source,
            self.f.source_type,
            event_time,
            dict(self.f.names),
            dict(self.f.states),
            self._handler_owners(),
            event_time=self._event_time(event_time, event_time_at),
            dead_letters=(
                None
                if dead_letters is None
                else next(i for i, x in enumerate(self.d.statements) if x is dead_letters)
            ),
        )

    def _applied_here(self) -> tuple[Optional[str], list[str]]:
        """What the statement just checked applies: ("ruleset", its routes), ("table", [])."""
        if self.f.applies is None:
            return None, []
        return self.f.applies

    def _live_names(self) -> dict[str, FlowName]:
        """The names the current statement may read, with what bound them."""
        out: dict[str, FlowName] = {}
        for name, t in [*self.f.names.items(), *self.f.states.items()]:
            if name in self.f.dead or name not in self.f.bound_by:
                continue
            bound_by = self.f.bound_by[name]
            may_be_null = bound_by in ("lookup", "table", "state") or (
                bound_by == "rolling" and t.nullable
            )
            out[name] = FlowName(t, bound_by, may_be_null)
        return out

    def _key_in_force(self) -> Optional[FlowKey]:
        if not self.f.keyed or self.f.key_record is None:
            return None
        return FlowKey(self.f.key_at, self.f.key_text, self.f.key_record)

    def _event_time(self, field: Optional[str], at: Optional[int]) -> Optional[FlowEventTime]:
        """The event time in force: a field of the source, its kind, the watermark delay."""
        source = self.f.source_type
        if field is None or source is None or "." in field:
            return None
        ft = self.sy.field_type(source, field)
        if ft is None:
            return None
        kind = self.sy.resolve(ft).kind
        if kind not in ("datetime", "long"):
            return None
        watermark = 0
        if at is not None:
            stmt = self.d.statements[at]
            assert isinstance(stmt, ast.EventTimeStmt)
            watermark = stmt.watermark.millis if stmt.watermark is not None else 0
        return FlowEventTime(field, kind, watermark, at)

    def _handler_owners(self) -> dict[int, int]:
        """Which statement each `on <event> emit to` handler belongs to: the nearest statement
        before it that has the event (for `on late` with none before, the first after it). A
        handler without one is reported where the event is checked (NX408/NX409); a second
        handler of one event for one statement is NX419."""
        stmts = self.d.statements
        owners: dict[int, int] = {}
        taken: dict[tuple[int, str], ast.OnStmt] = {}
        for i, s in enumerate(stmts):
            if not isinstance(s, ast.OnStmt) or s.event == "error":
                continue
            owner = _nearest(stmts, i, partial(self._has_event, on=s))
            if owner is None and s.event == "late":
                owner = next(
                    (j for j in range(i + 1, len(stmts)) if isinstance(stmts[j], LATE_OWNERS)),
                    None,
                )
            if owner is None:
                if s.event == "late":
                    self.ctx.error(
                        "NX408",
                        "`on late` needs a window (or rolling) to belong to",
                        s.span,
                        expected="event_time … and window … (or rolling …) before it",
                    )
                continue
            slot = (owner, s.event if s.event != "route" else f"route {s.label}")
            first = taken.get(slot)
            if first is not None:
                what = f"route {s.label}" if s.event == "route" else s.event
                self.ctx.error(
                    "NX419",
                    f"a second `on {what}` for the statement on line {stmts[owner].span.line} "
                    f"(the first is on line {first.span.line})",
                    s.span,
                    expected=f"one `on {what}` per statement",
                    hint="remove one; to send the records to two streams, emit to one and read "
                    "it in another proc",
                )
                continue
            taken[slot] = s
            owners[i] = owner
        return owners

    def _has_event(self, x: object, on: ast.OnStmt) -> bool:
        """Can statement `x` produce the event `on` handles?"""
        if on.event == "timeout":
            return isinstance(x, ast.CorrelateStmt)
        if on.event == "late":
            return isinstance(x, LATE_OWNERS)
        if not isinstance(x, ast.ApplyStmt) or x.kind != "rules":
            return False
        sig = self.sy.ruleset(x.target)
        if sig is None:
            return False
        if on.event == "route":
            return on.label in sig.routes
        return on.event in sig.actions

    def _warn_zero_watermark(self) -> None:
        """NX413: windows and rolling aggregates close by the watermark; with no delay, a
        record one millisecond out of order behind the newest of its partition is late."""
        timed = [s for s in self.d.statements if isinstance(s, (ast.WindowStmt, ast.RollingStmt))]
        if not timed:
            return
        stmt = next((s for s in self.d.statements if isinstance(s, ast.EventTimeStmt)), None)
        if stmt is not None and stmt.watermark is not None and stmt.watermark.millis > 0:
            return
        what = "a window" if isinstance(timed[0], ast.WindowStmt) else "rolling aggregates"
        self.ctx.warning(
            "NX413",
            f"proc {self.d.name} has {what} but leaves the watermark delay at 0: a record "
            "that arrives even slightly out of order (behind a newer one of its partition) "
            "is late",
            timed[0].span,
            expected="event_time <field> watermark <duration>, such as watermark 5 seconds",
            hint="the delay is how long a window waits for stragglers before it closes; pick "
            "the disorder your producers show (a few seconds is common)",
        )

    # statements ----------------------------------------------------------------------
    def on_FromStmt(self, s: ast.FromStmt) -> None:
        if self.f.source is not None:
            self.ctx.error(
                "NX431",
                "a proc reads one source; combine streams with join or correlate",
                s.span,
                expected="a single from",
            )
            return
        t = self.stream_type(s.stream, s.span)
        self.f.source = s.stream
        self.f.current = t or T.ANY
        self.f.source_type = t
        self.f.reads[s.stream] = s

    def _read_again(self, stream: str, s: ast.Node) -> None:
        """NX423: a stream read by two statements other than as the proc's own source."""
        first = self.f.reads.get(stream)
        if first is None or isinstance(first, ast.FromStmt):
            self.f.reads.setdefault(stream, s)
            return
        self.ctx.error(
            "NX423",
            f"'{stream}' is already read by the statement on line {first.span.line}: a proc "
            "reads each partner stream once",
            s.span,
            expected=f"one correlate or join with {stream}",
            hint="split the proc in two, the first writing what the second needs to a stream",
        )

    def on_EventTimeStmt(self, s: ast.EventTimeStmt) -> None:
        first = next(x for x in self.d.statements if isinstance(x, ast.EventTimeStmt))
        if first is not s:
            self.ctx.error(
                "NX440",
                f"event time is declared twice (line {first.span.line} and here)",
                s.span,
                expected="one `event_time <field> watermark <duration>` per proc",
                related=first.span,
            )
            return
        source = self.f.source_type
        changed = source is not None and self.f.current is not None and not T.same(
            source, self.f.current
        )
        if len(s.field.parts) != 1 or changed:
            # Watermarks are made where the source is read, from a field of its records.
            self.ctx.error(
                "NX434",
                f"event time is a field of the records of the source '{self.f.source}', not "
                + (
                    f"of {self.f.current.display()} records"
                    if changed and self.f.current is not None
                    else f"the nested field '{s.field.dotted}'"
                ),
                s.field.span,
                expected="event_time <field of the source> watermark <duration>, before the "
                "steps that change the record",
            )
            return
        t = self.ex.infer(s.field, self.scope())
        if t.kind not in ("datetime", "long", "any"):
            self.ctx.error(
                "NX305",
                f"event time must be a datetime or long field, not {t.display()}",
                s.field.span,
                expected="a datetime field",
            )
        self.f.late_type = self.f.current

    def on_FilterStmt(self, s: ast.FilterStmt) -> None:
        self.ex.condition(s.condition, self.scope(), "a filter")

    def on_TransformStmt(self, s: ast.TransformStmt) -> None:
        e = self.sy.types.get(s.transform)
        if e is None or e.what != "transform":
            what = f" ('{s.transform}' is {e.what})" if e is not None else ""
            cands = [n for n, x in self.sy.types.items() if x.what == "transform"]
            self.ctx.error(
                "NX207",
                f"unknown transform '{s.transform}'{what}",
                s.span,
                expected="a transform declared in a .transform file",
                hint=self.ctx.did_you_mean(s.transform, cands),
            )
            self.f.current = T.ANY
            return
        if not self.ctx.use(e, s.span):
            self.f.current = T.ANY
            return
        sig = e.sig
        cur = self.f.current or T.ANY
        for k, p in enumerate(sig.inputs):
            want = self.sy.resolve(p.type)
            have = cur if k == 0 else self.f.names.get(p.name)
            if k > 0 and have is not None and p.name in self.f.dead:
                self.ctx.error(
                    "NX421",
                    f"transform {sig.name} takes '{p.name}', which belongs to the operator "
                    f"before {self.f.dead[p.name]}",
                    s.span,
                    expected=f"`transform using {sig.name}` before {self.f.dead[p.name]}"
                    + (
                        " (its own lookups are read by an operator before it)"
                        if sig.lookups
                        else ""
                    ),
                )
            elif have is None:
                self.ctx.error(
                    "NX308",
                    f"transform {sig.name} needs input '{p.name}' "
                    f"({want.display()}), which nothing earlier provides",
                    s.span,
                    expected=f"a lookup or join `as {p.name}` before this step",
                )
            elif not T.assignable(have, want):
                self.ctx.error(
                    "NX308",
                    f"transform {sig.name} takes {want.display()} as "
                    f"'{p.name}', but the records here are {have.display()}",
                    s.span,
                    expected=f"records of {want.display()}",
                )
        out = self.sy.resolve(sig.output)
        if out.kind not in ("record", "any"):
            self.ctx.error(
                "NX308",
                f"transform {sig.name} returns {out.display()}; a proc step needs a record",
                s.span,
                expected="a transform with a record "
                "output (call value transforms inside expressions instead)",
            )
            out = T.ANY
        self.f.current = out

    def on_ApplyStmt(self, s: ast.ApplyStmt) -> None:
        e = self.sy.types.get(s.target)
        if e is None or e.what not in ("ruleset", "table"):
            cands = [n for n, x in self.sy.types.items() if x.what in ("ruleset", "table")]
            what = f" ('{s.target}' is {e.what})" if e is not None else ""
            self.ctx.error(
                "NX208",
                f"unknown ruleset or decision table '{s.target}'{what}",
                s.span,
                expected="a ruleset or decision_table from a .rules file",
                hint=self.ctx.did_you_mean(s.target, cands),
            )
            return
        if not self.ctx.use(e, s.span):
            return
        if (s.kind == "rules" and e.what != "ruleset") or (s.kind == "table" and e.what != "table"):
            is_what = "a decision table" if e.what == "table" else "a ruleset"
            want_word = "table" if e.what == "table" else "rules"
            self.ctx.error(
                "NX208",
                f"'{s.target}' is {is_what}, not what `{s.kind}` names",
                s.span,
                expected=f"apply {s.target} {want_word}",
            )
        sig = e.sig
        cur = self.f.current or T.ANY
        if sig.input is not None:
            want = self.sy.resolve(sig.input.type)
            if not T.same(cur, want):
                self.ctx.error(
                    "NX308",
                    f"{s.target} inspects {want.display()} records "
                    f"('{sig.input.name}'), but the records here are {cur.display()}",
                    s.span,
                    expected=f"records of {want.display()}",
                )
        self.f.applies = ("ruleset", list(sig.routes)) if e.what == "ruleset" else ("table", [])
        if s.alias is not None and (s.alias in self.f.names or s.alias in self.f.states):
            self.ctx.error("NX202", f"'{s.alias}' is already defined in this proc", s.span)
        if e.what == "ruleset":
            self.f.applied.append((sig, cur))
            if s.alias:
                self.f.names[s.alias] = outcome_type()
        else:
            if s.alias is None:
                self.ctx.error(
                    "NX432",
                    f"the result of decision table {s.target} needs a name",
                    s.span,
                    expected=f"apply {s.target} as <name>",
                )
            else:
                self.f.names[s.alias] = self.sy.resolve(sig.result)

    def on_CorrelateStmt(self, s: ast.CorrelateStmt) -> None:
        kt = self.ex.infer(s.key, self.scope())
        if s.partner is not None and s.partner == self.f.source:
            self.ctx.error(
                "NX420",
                f"the proc reads '{s.partner}': correlating it with itself would pair every "
                "record with itself",
                s.span,
                expected=f"correlate by {s.key.dotted} within … (pairs the records of one "
                "stream), or correlate with another stream",
            )
        elif s.partner is not None:
            self._read_again(s.partner, s)
            self._check_partner_event_time(s.partner, s)
            pt = self.stream_type(s.partner, s.span)
            if pt is not None and kt.kind != "any":
                other = self.ex.infer(s.key, Scope(implicit=pt))
                if other.kind != "any" and not T.same(kt, other):
                    self.ctx.error(
                        "NX308",
                        f"the key {s.key.dotted} is {kt.display()} here but "
                        f"{other.display()} in {s.partner}",
                        s.key.span,
                        expected="keys of the same type",
                    )
        self.f.correlate_type = self.f.current
        self.f.keyed = True
        self.f.keyed_after = None
        self.f.key_record = self.f.current
        self.f.key_text = s.key.dotted
        self._one_operator(("correlate", s.key.dotted, s.partner or ""), s)
        self.f.key_types = [kt]

    def _check_partner_event_time(
        self, stream: str, s: "ast.CorrelateStmt | ast.JoinStmt"
    ) -> None:
        """`correlate with` and `join` pair records by their times: both streams need event
        time (a join of a stream with itself too: the partner is the stream as read)."""
        partner = self.sy.stream(stream)
        schema = self.sy.schema(partner.schema) if partner is not None else None
        field = next((f for f in schema.fields if f.event_time), None) if schema else None
        if partner is not None and field is not None:
            record = T.record(partner.schema)
            ft = self.sy.field_type(record, field.name)
            kind = self.sy.resolve(ft).kind if ft is not None else "any"
            self.f.partner = FlowPartner(stream, record, field.name, kind)
        if schema is not None and not any(f.event_time for f in schema.fields):
            self.ctx.error(
                "NX420",
                f"'{stream}' has no event time (its schema {schema.name} has no @event_time "
                "field): its records cannot be paired by time",
                s.span,
                expected=f"an @event_time field in {schema.name}",
            )
        if not self._source_has_event_time(s):
            self.ctx.error(
                "NX420",
                f"proc {self.d.name} has no event time: its records cannot be paired by time "
                f"with '{stream}'",
                s.span,
                expected="an @event_time field in the source's schema, or `event_time <field> "
                "watermark <duration>` before this statement",
            )

    def _source_has_event_time(self, before: ast.Node) -> bool:
        for stmt in self.d.statements:
            if stmt is before:
                break
            if isinstance(stmt, ast.EventTimeStmt):
                return True
        source = self.f.source_type
        schema = self.sy.schema(source.name or "") if source is not None else None
        return schema is None or any(f.event_time for f in schema.fields)

    def on_OnStmt(self, s: ast.OnStmt) -> None:
        ev = s.event
        t: Optional[Type] = None
        if ev == "timeout":
            if self.f.correlate_type is None:
                self.ctx.error(
                    "NX408",
                    "`on timeout` needs an earlier correlate step",
                    s.span,
                    expected="correlate by <key> within <duration> before it",
                )
                return
            t = self.f.correlate_type
        elif ev == "late":
            # Whether a window or `rolling` takes it is decided with the handlers' owners.
            t = self.f.late_type or self.f.current
        elif ev in ("reject", "flag", "route"):
            want = {"reject": "reject", "flag": "flag", "route": "route"}[ev]
            found = [(sig, ty) for sig, ty in self.f.applied if want in sig.actions]
            if not self.f.applied:
                self.ctx.error(
                    "NX408",
                    f"`on {ev}` needs an earlier `apply … rules`",
                    s.span,
                    expected="apply <ruleset> rules before it",
                )
                return
            if ev == "route":
                hits = [(sig, ty) for sig, ty in self.f.applied if s.label in sig.routes]
                if not hits:
                    labels = sorted({r for sig, _ in self.f.applied for r in sig.routes})
                    self.ctx.error(
                        "NX409",
                        f"no applied ruleset routes to '{s.label}'",
                        s.span,
                        expected=("one of: " + ", ".join(labels))
                        if labels
                        else "a ruleset with a `route to` action",
                    )
                    return
                self.f.handled_routes.add(s.label)
                t = hits[0][1]
            elif not found:
                self.ctx.error(
                    "NX409",
                    f"no applied ruleset can {ev} a record",
                    s.span,
                    expected=f"a ruleset with a {ev} action",
                )
                return
            else:
                t = found[0][1]
        else:  # error: dead letters carry an envelope of the failed record
            first_error = self.f.dead_letters
            if first_error is not None:
                self.ctx.error(
                    "NX419",
                    f"a second `on error` for the proc (the first is on line "
                    f"{first_error.span.line})",
                    s.span,
                    expected="one `on error emit to <stream>` per proc",
                )
                return
            self.f.dead_letters = s
            self.stream_type(s.stream, s.span)
            return
        self.sink(s.stream, s.span, t, f"`on {ev}` sends")

    def on_EmitStmt(self, s: ast.EmitStmt) -> None:
        first = self.f.emits.setdefault(s.stream, s)
        if first is not s and _delivery(first) != _delivery(s):
            self.ctx.error(
                "NX424",
                f"'{s.stream}' is emitted to on line {first.span.line} with another delivery "
                "or persistence: a stream has one sink, written one way",
                s.span,
                expected=f"the same `persist`, delivery and idempotency_key as line "
                f"{first.span.line}",
            )
        cur = self.f.current
        self.sink(s.stream, s.span, cur, "this step emits")
        if s.persist is not None:
            e = self.sy.stores.get(s.persist.store)
            if e is None:
                self.ctx.error(
                    "NX206",
                    f"unknown store '{s.persist.store}'",
                    s.persist.span,
                    expected="a store declared in a .schema file (store name: Schema)",
                    hint=self.ctx.did_you_mean(s.persist.store, list(self.sy.stores)),
                )
            else:
                self.ctx.use(e, s.persist.span)
                st = T.record(e.sig.schema)
                if cur is not None and not T.same(cur, st):
                    self.ctx.error(
                        "NX304",
                        f"store {s.persist.store} keeps {st.display()}, but "
                        f"the records here are {cur.display()}",
                        s.persist.span,
                        expected=f"a store of {cur.display()}",
                    )
        if s.idempotency_key is not None:
            self.ex.infer(s.idempotency_key, self.scope())

    def on_RouteStmt(self, s: ast.RouteStmt) -> None:
        seen_otherwise = False
        for c in s.cases:
            if seen_otherwise:
                self.ctx.error(
                    "NX403",
                    "this route case comes after `otherwise` and is never used",
                    c.span,
                    expected="otherwise as the last case",
                )
            if c.condition is not None:
                self.ex.condition(c.condition, self.scope(), "a route condition")
            else:
                seen_otherwise = True
            self.sink(c.stream, c.span, self.f.current, "this route sends")

    def on_KeyByStmt(self, s: ast.KeyByStmt) -> None:
        sc = self.scope()
        self.f.key_types = [self.ex.infer(k, sc) for k in s.keys]
        self.f.keyed = True
        self.f.keyed_after = None
        self.f.key_record = self.f.current
        self.f.key_text = ",".join(k.dotted for k in s.keys)

    def _one_operator(self, name: tuple[str, ...], s: ast.Node) -> None:
        """NX414: two statements that would make operators of one name (one uid: Flink refuses
        the job, and a restore could not tell their state apart)."""
        first = self.f.operator_names.setdefault(name, s)
        if first is s:
            return
        self.ctx.error(
            "NX414",
            f"this statement and the one at {first.span.location()} would be operators of one "
            f"name ({' '.join(name)}): a job's operators need distinct uids",
            s.span,
            expected="operators that differ in kind, key, stream, store or the names they declare",
            hint="uids derive from content, not position (docs/language/proc.md, 'Operator uids "
            "and state names: upgrades'): merge the two statements, or make them differ in what "
            "names them",
            related=first.span,
        )

    def _key_lost(self) -> str:
        after = self.f.keyed_after
        return f" (the records are not keyed after {after})" if after else ""

    def on_StateStmt(self, s: ast.StateStmt) -> None:
        if not self.f.keyed:
            self.ctx.error(
                "NX430",
                f"keyed state needs a key: add `key by …` before it{self._key_lost()}",
                s.span,
                expected="key by <field> before state",
            )
        if s.name in self.f.states or s.name in self.f.names:
            self.ctx.error("NX202", f"'{s.name}' is already defined in this proc", s.span)
        self.f.states[s.name] = T.with_nullable(check_typeref(self.ctx, s.type))

    def on_UpdateStmt(self, s: ast.UpdateStmt) -> None:
        st = self.f.states.get(s.name)
        t = self.ex.infer(s.expr, self.scope())
        if st is not None and s.name in self.f.dead:
            self.ctx.error(
                "NX421",
                f"the state '{s.name}' belongs to the operator before {self.f.dead[s.name]}: "
                "it cannot be updated after it",
                s.span,
                expected=f"the update before {self.f.dead[s.name]}",
            )
            return
        if st is None:
            self.ctx.error(
                "NX211",
                f"'{s.name}' is not a declared state",
                s.span,
                expected="state <name>: <type> ttl <duration> before it",
                hint=self.ctx.did_you_mean(s.name, list(self.f.states)),
            )
            return
        self.ex.check_assign(t, T.with_nullable(st, False), s.expr, f"state '{s.name}'")

    def on_RollingStmt(self, s: ast.RollingStmt) -> None:
        if not self.f.keyed:
            self.ctx.error(
                "NX430",
                f"rolling aggregates are per key: add `key by …` before it{self._key_lost()}",
                s.span,
                expected="key by <field> before rolling",
            )
        sc = self.scope(aggregates=True)
        bound: dict[str, Type] = {}
        for mp in s.mappings:
            e = mp.expr
            if not (
                isinstance(e, ast.Call)
                and e.name in ROLLING_AGGREGATIONS
                and len(e.args) == (0 if e.name == "count" else 1)
            ):
                self.ctx.error(
                    "NX307",
                    f"'{mp.field}' must be one aggregation over the key's recent records",
                    e.span,
                    expected="count(), sum(x), min(x) or max(x)",
                )
                bound[mp.field] = T.ANY
                continue
            t = self.ex.infer(e, sc)
            if mp.field in self.f.names or mp.field in self.f.states or mp.field in bound:
                self.ctx.error("NX202", f"'{mp.field}' is already defined in this proc", mp.span)
            # count() counts the record itself; the others skip nulls (null when all are).
            bound[mp.field] = T.with_nullable(t, e.name != "count")
        self.f.names.update(bound)
        self.f.late_type = self.f.current

    def on_WindowStmt(self, s: ast.WindowStmt) -> None:
        if not self.f.keyed:
            self.ctx.error(
                "NX430",
                f"a window groups records by key: add `key by …` before it{self._key_lost()}",
                s.span,
                expected="key by <field> before window",
            )
        elif (
            self.f.key_record is not None
            and self.f.current is not None
            and not T.same(self.f.key_record, self.f.current)
        ):
            self.ctx.error(
                "NX430",
                f"the window's records are {self.f.current.display()}, but the key was taken "
                f"from {self.f.key_record.display()} records",
                s.span,
                expected="key by <field> again after the step that changed the record",
            )
        if s.slide is not None and s.slide.millis > s.size.millis:
            self.ctx.error(
                "NX433",
                "a sliding window cannot slide further than its size",
                s.slide.span,
                expected=f"every at most {s.size.amount} {s.size.unit}",
            )
        self.f.window = s
        self.f.late_type = self.f.current

    def on_AggregateStmt(self, s: ast.AggregateStmt) -> None:
        if self.f.window is not None:
            window = self.f.window
            self._one_operator(("window", window.kind, self.f.key_text, s.schema), window)
        if self.f.window is None:
            self.ctx.error(
                "NX408",
                "aggregate needs a window before it",
                s.span,
                expected="window tumbling|sliding|session … before aggregate",
            )
        out = self._target(s.schema, s.span)
        sc = self.scope(aggregates=True)
        check_mappings(self.ctx, self.ex, s.mappings, out, sc, s.span)
        if self.f.window is not None:
            self.f.closed_window = self.f.window_at
        self.f.window = None
        self.f.current = out
        # The window's results are new records, not keyed: keyed state after it needs a key.
        self.f.keyed = False
        self.f.keyed_after = f"`aggregate into` on line {s.span.line}"

    def on_MapStmt(self, s: ast.MapStmt) -> None:
        out = self._target(s.schema, s.span)
        check_mappings(self.ctx, self.ex, s.mappings, out, self.scope(), s.span)
        self.f.current = out

    def _target(self, name: str, span: Span) -> Type:
        e = self.sy.types.get(name)
        if e is None or e.what != "schema":
            cands = [n for n, x in self.sy.types.items() if x.what == "schema"]
            self.ctx.error(
                "NX201",
                f"unknown schema '{name}'",
                span,
                expected="a schema name",
                hint=self.ctx.did_you_mean(name, cands),
            )
            return T.ANY
        self.ctx.use(e, span)
        return T.record(name)

    def on_JoinStmt(self, s: ast.JoinStmt) -> None:
        if s.stream != self.f.source:
            self._read_again(s.stream, s)
        t = self.stream_type(s.stream, s.span) or T.ANY
        if s.alias in self.f.names:
            self.ctx.error("NX202", f"'{s.alias}' is already defined in this proc", s.span)
        self.f.names[s.alias] = t
        self.ex.condition(s.condition, self.scope(), "a join condition")
        self._check_partner_event_time(s.stream, s)
        if not _has_alias_equality(s.condition, s.alias):
            self.ctx.error(
                "NX432",
                f"a join needs an equality with a field of '{s.alias}'",
                s.condition.span,
                expected=f"key == {s.alias}.key",
            )

    def on_LookupStmt(self, s: ast.LookupStmt) -> None:
        kt = self.ex.infer(s.key, self.scope())
        e = self.sy.stores.get(s.store)
        if e is None:
            self.ctx.error(
                "NX206",
                f"unknown store '{s.store}'",
                s.span,
                expected="a store declared in a .schema file",
                hint=self.ctx.did_you_mean(s.store, list(self.sy.stores)),
            )
            self.f.names[s.alias] = T.ANY
            return
        self.ctx.use(e, s.span)
        check_lookup_key(self.ctx, e.sig, kt, s.key)
        if s.alias in self.f.names:
            self.ctx.error("NX202", f"'{s.alias}' is already defined in this proc", s.span)
        self.f.names[s.alias] = T.record(e.sig.schema, nullable=True)

    def on_OnLookupErrorStmt(self, s: ast.OnLookupErrorStmt) -> None:
        first = self.f.lookup_error
        if first is not None:
            self.ctx.error(
                "NX417",
                f"`on lookup_error` is declared twice (line {first.span.line} and here)",
                s.span,
                expected="one `on lookup_error continue | dead_letter | fail` per proc",
            )
            return
        self.f.lookup_error = s
        if not self._has_lookups():
            self.ctx.warning(
                "NX418",
                f"proc {self.d.name} declares `on lookup_error` but looks nothing up",
                s.span,
                expected="a `lookup <store> by …` or a transform with a lookup before it",
                hint="remove the declaration, or add the lookup it is meant for",
            )

    def on_OnPersistErrorStmt(self, s: ast.OnPersistErrorStmt) -> None:
        first = self.f.persist_error
        if first is not None:
            self.ctx.error(
                "NX425",
                f"`on persist_error` is declared twice (line {first.span.line} and here)",
                s.span,
                expected="one `on persist_error dead_letter | fail` per proc",
            )
            return
        self.f.persist_error = s
        if not any(
            isinstance(x, ast.EmitStmt) and x.persist is not None for x in self.d.statements
        ):
            self.ctx.warning(
                "NX426",
                f"proc {self.d.name} declares `on persist_error` but persists nothing",
                s.span,
                expected="an `emit to <stream> persist to <store>`",
                hint="remove the declaration, or add the persist it is meant for",
            )

    def _has_lookups(self) -> bool:
        """A `lookup` statement, or a call of a transform that has lookups (the proc reads
        the store before the call)."""
        statements = self.d.statements
        return bool(ast.nodes_of(statements, ast.LookupStmt)) or self._calls_transform_with_lookups(
            statements
        )

    def on_DedupStmt(self, s: ast.DedupStmt) -> None:
        self.ex.infer(s.key, self.scope())
        self._one_operator(("deduplicate", s.key.dotted), s)

    def on_ParallelismStmt(self, s: ast.ParallelismStmt) -> None:
        return None

    def on_CheckpointStmt(self, s: ast.CheckpointStmt) -> None:
        return None


def outcome_type() -> Type:
    """The record a ruleset's `apply … as name` binds."""
    F = T.FieldType
    return Type(
        "struct",
        name="RuleOutcome",
        fields=(
            F("flagged", T.BOOLEAN),
            F("rejected", T.BOOLEAN),
            F("reason", T.with_nullable(T.STRING)),
            F("route", T.with_nullable(T.STRING)),
            F("alerts", T.list_of(T.STRING)),
            F("fired", T.list_of(T.STRING)),
        ),
    )


def _has_alias_equality(e: object, alias: str) -> bool:
    """Is there, in the conjunction, `x == alias.f` (either way round) where x reads nothing
    of the alias? The join's key is x on the flow's side and alias.f on the partner's."""
    if isinstance(e, ast.Binary):
        if e.op == "and":
            return _has_alias_equality(e.left, alias) or _has_alias_equality(e.right, alias)
        if e.op == "==":
            for mine, theirs in ((e.left, e.right), (e.right, e.left)):
                if (
                    isinstance(theirs, ast.Path)
                    and theirs.parts[0] == alias
                    and not any(p.parts[0] == alias for p in _paths(mine))
                ):
                    return True
    return False
