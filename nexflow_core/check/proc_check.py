"""Checks for L1 proc files: the statements form an ordered pipeline; the record type flows
from the source stream through every operator (transforms change it, rules inspect it,
aggregations and projections replace it) into the sinks."""

from __future__ import annotations

from typing import Optional

import msgspec

from nexflow_core import ast
from nexflow_core.check import types as T
from nexflow_core.check.context import Ctx
from nexflow_core.check.exprs import ExprChecker, Scope
from nexflow_core.check.transform_check import check_lookup_key, check_mappings
from nexflow_core.check.typeref import check_typeref
from nexflow_core.check.types import Type
from nexflow_core.interface.model import RulesetSig

SOURCE_FREE = (
    ast.ParallelismStmt,
    ast.CheckpointStmt,
    ast.OnLookupErrorStmt,
    ast.OnPersistErrorStmt,
)
# What `rolling` computes per record (kept per entry, so no accumulator that cannot be undone).
ROLLING_AGGREGATIONS = ("count", "sum", "min", "max")


class Step(msgspec.Struct, frozen=True):
    """The record type entering and leaving one statement (None before the source)."""

    index: int
    statement: str
    input: Optional[Type]
    output: Optional[Type]


class ProcFlow(msgspec.Struct, frozen=True):
    """What the generator needs beyond the AST: the record type at every step, names bound
    by aliases and states, and the event-time field of the source, if any."""

    name: str
    steps: list[Step]
    source: Optional[str] = None
    source_type: Optional[Type] = None
    event_time_field: Optional[str] = None
    aliases: dict[str, Type] = {}
    states: dict[str, Type] = {}


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
        self.persist_error: Optional[ast.OnPersistErrorStmt] = None


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
        names = dict(self.f.names)
        names.update(self.f.states)
        cur = (
            self.f.current
            if self.f.current is not None and self.f.current.kind in ("record", "struct")
            else None
        )
        return Scope(names, implicit=cur, aggregates=aggregates)

    def stream_type(self, name: str, span: object) -> Optional[Type]:
        e = self.sy.streams.get(name)
        if e is None:
            self.ctx.error(
                "NX205",
                f"unknown stream '{name}'",
                span,  # type: ignore[arg-type]
                expected="a stream declared in a .schema file (stream name: Schema)",
                hint=self.ctx.did_you_mean(name, list(self.sy.streams)),
            )
            return None
        self.ctx.use(e, span)  # type: ignore[arg-type]
        return T.record(e.sig.schema)

    def sink(self, name: str, span: object, t: Optional[Type], what: str) -> None:
        st = self.stream_type(name, span)
        if st is None or t is None or t.kind == "any":
            return
        if not T.same(st, t):
            self.ctx.error(
                "NX304",
                f"{what} {t.display()} records, but stream {name} carries {st.display()}",
                span,  # type: ignore[arg-type]
                expected=f"a stream of {t.display()}",
                hint="add `map into …` or `transform using …` before emitting",
            )

    def need_source(self, s: object) -> bool:
        if self.f.current is None:
            self.ctx.error(
                "NX408",
                "this step needs a source: start the proc with `from`",
                s.span,
                expected="from <stream> first",
            )  # type: ignore[attr-defined]
            return False
        return True

    def run(self) -> ProcFlow:
        steps: list[Step] = []
        event_time: Optional[str] = None
        for i, s in enumerate(self.d.statements):
            before = self.f.current
            if not isinstance(s, (ast.FromStmt, *SOURCE_FREE)) and not self.need_source(s):
                steps.append(Step(i, type(s).__name__, before, before))
                continue
            handler = getattr(self, "on_" + type(s).__name__)
            handler(s)
            if isinstance(s, ast.EventTimeStmt):
                event_time = s.field.dotted
            steps.append(Step(i, type(s).__name__, before, self.f.current))
        if self.f.source is None:
            self.ctx.error(
                "NX408",
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
        return ProcFlow(
            self.d.name,
            steps,
            self.f.source,
            self.f.source_type,
            event_time,
            dict(self.f.names),
            dict(self.f.states),
        )

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
                "NX408",
                "a proc reads one source; combine streams with join or correlate",
                s.span,
                expected="a single from",
            )
            return
        t = self.stream_type(s.stream, s.span)
        self.f.source = s.stream
        self.f.current = t or T.ANY
        self.f.source_type = t

    def on_EventTimeStmt(self, s: ast.EventTimeStmt) -> None:
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
            if have is None:
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
        if e.what == "ruleset":
            self.f.applied.append((sig, cur))
            if s.alias:
                self.f.names[s.alias] = outcome_type()
        else:
            if s.alias is None:
                self.ctx.error(
                    "NX408",
                    f"the result of decision table {s.target} needs a name",
                    s.span,
                    expected=f"apply {s.target} as <name>",
                )
            else:
                self.f.names[s.alias] = self.sy.resolve(sig.result)

    def on_CorrelateStmt(self, s: ast.CorrelateStmt) -> None:
        kt = self.ex.infer(s.key, self.scope())
        if s.partner is not None:
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
        self.f.key_types = [kt]

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
            if self.f.late_type is None and self.f.window is None:
                self.ctx.error(
                    "NX408",
                    "`on late` needs event time and a window (or rolling) before it",
                    s.span,
                    expected="event_time … and window … (or rolling …) before it",
                )
                return
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
            self.stream_type(s.stream, s.span)
            return
        self.sink(s.stream, s.span, t, f"`on {ev}` sends")

    def on_EmitStmt(self, s: ast.EmitStmt) -> None:
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

    def on_StateStmt(self, s: ast.StateStmt) -> None:
        if not self.f.keyed:
            self.ctx.error(
                "NX408",
                "keyed state needs a key: add `key by …` before it",
                s.span,
                expected="key by <field> before state",
            )
        if s.name in self.f.states or s.name in self.f.names:
            self.ctx.error("NX202", f"'{s.name}' is already defined in this proc", s.span)
        self.f.states[s.name] = T.with_nullable(check_typeref(self.ctx, s.type))

    def on_UpdateStmt(self, s: ast.UpdateStmt) -> None:
        st = self.f.states.get(s.name)
        t = self.ex.infer(s.expr, self.scope())
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
                "NX408",
                "rolling aggregates are per key: add `key by …` before it",
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
                "NX408",
                "a window groups records by key: add `key by …` before it",
                s.span,
                expected="key by <field> before window",
            )
        if s.slide is not None and s.slide.millis > s.size.millis:
            self.ctx.error(
                "NX408",
                "a sliding window cannot slide further than its size",
                s.slide.span,
                expected=f"every at most {s.size.amount} {s.size.unit}",
            )
        self.f.window = s
        self.f.late_type = self.f.current

    def on_AggregateStmt(self, s: ast.AggregateStmt) -> None:
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
        self.f.window = None
        self.f.current = out

    def on_MapStmt(self, s: ast.MapStmt) -> None:
        out = self._target(s.schema, s.span)
        check_mappings(self.ctx, self.ex, s.mappings, out, self.scope(), s.span)
        self.f.current = out

    def _target(self, name: str, span: object) -> Type:
        e = self.sy.types.get(name)
        if e is None or e.what != "schema":
            cands = [n for n, x in self.sy.types.items() if x.what == "schema"]
            self.ctx.error(
                "NX201",
                f"unknown schema '{name}'",
                span,  # type: ignore[arg-type]
                expected="a schema name",
                hint=self.ctx.did_you_mean(name, cands),
            )
            return T.ANY
        self.ctx.use(e, span)  # type: ignore[arg-type]
        return T.record(name)

    def on_JoinStmt(self, s: ast.JoinStmt) -> None:
        t = self.stream_type(s.stream, s.span) or T.ANY
        if s.alias in self.f.names:
            self.ctx.error("NX202", f"'{s.alias}' is already defined in this proc", s.span)
        self.f.names[s.alias] = t
        self.ex.condition(s.condition, self.scope(), "a join condition")
        if not _has_alias_equality(s.condition, s.alias):
            self.ctx.error(
                "NX408",
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
                "NX419",
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
                "NX420",
                f"proc {self.d.name} declares `on persist_error` but persists nothing",
                s.span,
                expected="an `emit to <stream> persist to <store>`",
                hint="remove the declaration, or add the persist it is meant for",
            )

    def _has_lookups(self) -> bool:
        """A `lookup` statement, or a call of a transform that has lookups (the proc reads
        the store before the call)."""
        stack: list = list(self.d.statements)
        while stack:
            n = stack.pop()
            if isinstance(n, ast.LookupStmt):
                return True
            name = None
            if isinstance(n, ast.Call):
                name = n.name
            elif isinstance(n, ast.TransformStmt):
                name = n.transform
            if name is not None:
                sig = self.sy.transform(name)
                if sig is not None and sig.lookups:
                    return True
            if isinstance(n, (list, tuple)):
                stack.extend(n)
            elif hasattr(n, "__struct_fields__"):
                stack.extend(getattr(n, f) for f in n.__struct_fields__ if f != "span")
        return False

    def on_DedupStmt(self, s: ast.DedupStmt) -> None:
        self.ex.infer(s.key, self.scope())

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
    if isinstance(e, ast.Binary):
        if e.op == "and":
            return _has_alias_equality(e.left, alias) or _has_alias_equality(e.right, alias)
        if e.op == "==":
            sides = [e.left, e.right]
            return any(isinstance(x, ast.Path) and x.parts[0] == alias for x in sides) and any(
                not (isinstance(x, ast.Path) and x.parts[0] == alias) for x in sides
            )
    return False
