"""Procs → the job model (model.Job): the meaning of each proc statement, target-independent.

The checker already verified names and types and computed the proc's flow
(`CheckedProject.proc_flow`, check/flow.py): the record type at every statement, the operator it
runs in and the names it may read there, the key in force, the window an `aggregate into`
closes, the event time, the partner streams, what `apply` applies and the owner of every `on`
handler. This module reads those facts, never works them out again, and decides how the
statements become the target's operators:

- Statements that need no state of their own (filter, transform, map into, apply rules or table,
  route, emit, update) run in one process function, a `Segment`, in the order written, with the
  record, table results and keyed state as local variables. A segment is keyed right after
  `key by`, and whenever it declares `state`.
- `correlate`, `deduplicate` and `window … aggregate into` are operators of their own, keyed by
  their key; a table result or a state cannot be read across them (the checker's NX421).
- Each `on reject|flag|route|timeout|late` belongs to the statement the checker chose
  (`ProcFlow.handlers`); `on error` to the whole proc.
- A statement that starts an operator in the flow (`Step.starts_operator`) ends the open
  segment; the names a statement may read are the flow's (`Step.names`).

Operator uids derive from the proc name and the DSL (the kind of operator, its key and the names
it declares), never from positions where state is involved, so a savepoint survives edits that
add or remove other statements; only operators without state (a run of stateless statements)
are numbered. Two stateful operators with the same uid are an error (NX414, which the checker
reports first) naming both; the whole scheme is in docs/language/proc.md, "Operator uids and
state names: upgrades".
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Optional

import msgspec

from nexflow_core import ast
from nexflow_core import typemodel as T
from nexflow_core.check.declare import proc_streams
from nexflow_core.check.flow import FlowEventTime, ProcFlow
from nexflow_core.check.flow import Step as FlowStep
from nexflow_core.check.infra_check import (
    ResolvedEnvironment,
    at_least_once_checkpoints_with_exactly_once_sink,
    exactly_once_without_checkpoints,
    sink_delivery,
    unbound_dead_letters,
)
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span
from nexflow_core.generate import model
from nexflow_core.generate.environments import uses_kafka
from nexflow_core.generate.lower import (
    Scope,
    checker_missed,
    generator_bug,
    plain,
)
from nexflow_core.typemodel import Type

if TYPE_CHECKING:  # core imports this module: its classes are only named here
    from nexflow_core.generate.core import Context, Unit

# The state_entries gauge counts a rolling key this long beyond its longest duration plus the
# watermark delay (processing time). No state of a correlation, deduplication or rolling run has
# a TTL: their timers own it (a TTL could expire it before a stalled watermark or a late restore
# let a timer fire).
STATE_GRACE_MS = 60 * 60 * 1000


class _Handlers:
    """The `on …` statements that belong to one statement."""

    def __init__(self) -> None:
        self.reject: Optional[ast.OnStmt] = None
        self.flag: Optional[ast.OnStmt] = None
        self.routes: dict[str, ast.OnStmt] = {}
        self.timeout: Optional[ast.OnStmt] = None
        self.late: Optional[ast.OnStmt] = None


class _OpenSegment:
    def __init__(self, input_type: Type, input_var: str, origin: model.Origin) -> None:
        self.input = input_type
        self.input_var = input_var
        self.origin = origin
        self.steps: list[model.Step] = []
        self.states: list[model.State] = []
        self.texts: list[str] = []
        self.explicit_key = False
        self.carried: Optional[model.Carried] = None
        self.also: list[model.Carried] = []
        # The statement that names a keyed segment's uid (its first state or rolling).
        self.state_span: Optional[Span] = None


class JobBuilder:
    def __init__(self, unit: Unit, proc: ast.ProcDecl, ctx: Context) -> None:
        self.unit = unit
        self.proc = proc
        self.ctx = ctx
        self.project = ctx.project
        self.lower = ctx.lower
        flow = self.project.proc_flow(proc.name)
        if flow is None or len(flow.steps) != len(proc.statements):
            raise generator_bug(proc.span, f"proc {proc.name} without the checker's flow")
        self.flow: ProcFlow = flow
        # The flow's step of the statement being built.
        self.step: FlowStep = flow.steps[0] if flow.steps else FlowStep(0, "", None, None)
        # The key each `key by` and `correlate` set, by statement index (FlowKey.at).
        self.keys: dict[int, model.Key] = {}
        self.operators: list[model.Operator] = []
        self.outputs: dict[str, model.Output] = {}
        # The proc's own `parallelism` and `checkpoint every`.
        self.execution = model.Execution()
        self.record: Optional[Type] = None
        self.var = "r$0"
        self.vars = 0
        self.segment: Optional[_OpenSegment] = None
        # names the current segment may read (table results, states) and the ones it may not
        self.live: dict[str, Type] = {}
        self.nullable: set = set()
        self.key: Optional[model.Key] = None
        self.key_pending = False
        self.uids: dict[str, int] = {}
        # Every uid of the job and the statement it came from (NX414: no two alike).
        self.uid_spans: dict[str, Span] = {}
        self.stateless = 0
        self.event_time: Optional[model.EventTime] = None
        self.source: Optional[model.Source] = None
        self.handlers: dict[int, _Handlers] = {}
        # Calls of transforms with lookups in the current statement -> the names of what the
        # lookup operator before it found for them (see _lift).
        self.lifted: dict[int, list[str]] = {}
        # `on lookup_error`: what every lookup does when its store fails or does not answer.
        self.lookup_error = model.DEFAULT_LOOKUP_ERROR
        self.lookup_error_origin: Optional[model.Origin] = None
        # `on persist_error`: what every persist does when a write fails after its retries.
        self.persist_error = model.DEFAULT_PERSIST_ERROR
        self.persist_error_origin: Optional[model.Origin] = None

    # helpers ---------------------------------------------------------------------------
    def origin(self, span: Span) -> model.Origin:
        return self.unit.origin(span)

    def uid(self, base: str, span: Span) -> str:
        """The uid of a stateful operator (or one whose state a restore must find): `base`,
        derived from content only; a second operator with the same one is NX414."""
        first = self.uid_spans.get(base)
        if first is not None:
            raise NexflowError([duplicate_uid(base, span, first)])
        self.uid_spans[base] = span
        return base

    def stateless_uid(self, base: str, span: Span) -> str:
        """The uid of an operator without state: numbered, since nothing is restored into it."""
        n = self.uids.get(base, 0) + 1
        self.uids[base] = n
        return self.uid(base if n == 1 else f"{base}.{n}", span)

    def read_stream(self, stream: str, span: Span) -> None:
        """The uids of a source of the job (source, parse and event time are named after it)."""
        self.uid(f"{self.proc.name}.source.{stream}", span)

    def new_var(self) -> str:
        self.vars += 1
        return f"r${self.vars}"

    def scope(self, implicit: Optional[Type] = None) -> Scope:
        return Scope(
            names=dict(self.live),
            implicit=self.record if implicit is None else implicit,
            nullable=set(self.nullable),
            lifted=self.lifted,
        )

    def expr(self, node: ast.Expr) -> model.Expr:
        self._check_dead(node)
        return self.lower.expr(node, self.scope())

    def _check_dead(self, node: ast.Node) -> None:
        """A table result or state read by an operator other than the one that has it."""
        for path in ast.nodes_of(node, ast.Path):
            root = path.parts[0]
            if self.record is not None and self.project.symbols.field_type(self.record, root):
                continue  # a field of the record, as the checker reads it
            dead = self.step.dead
            if root in dead and root not in self.live:
                raise checker_missed(
                    path.span, "NX421", f"reading '{root}' after {dead[root]} (another operator)"
                )

    def sensitive_key(self, record: Type, key: Optional[model.Expr]) -> bool:
        """Is the idempotency key `key` (a field of `record`) marked @sensitive? Then the
        Kafka record key is the field's token, never its value (docs/language/schema.md)."""
        if not isinstance(key, model.Field) or isinstance(key.obj, model.Field):
            return False
        schema = self.project.schema(record.name) if record.name else None
        if schema is None:
            return False
        return any(f.name == key.name and f.sensitive for f in schema.fields)

    def output(
        self, stream: str, record: Type, origin: model.Origin, emit: Optional[ast.EmitStmt] = None
    ) -> None:
        delivery = None
        key = None
        persist = None
        if emit is not None:
            delivery = emit.delivery
            if emit.idempotency_key is not None:
                self._check_dead(emit.idempotency_key)
                key = self.lower.expr(emit.idempotency_key, Scope(implicit=record))
            if emit.persist is not None:
                sig = self.project.store(emit.persist.store)
                persist = model.Persist(
                    uid=f"{self.proc.name}.persist.{emit.persist.store}.{stream}",
                    store=emit.persist.store,
                    key_field=None if sig is None else sig.key,
                    is_async=emit.persist.is_async,
                    origin=self.origin(emit.persist.span),
                    on_error=self.persist_error,
                    on_error_origin=self.persist_error_origin,
                )
        new = model.Output(
            stream=stream,
            record=record,
            delivery=delivery,
            idempotency_key=key,
            idempotency_sensitive=self.sensitive_key(record, key),
            persist=persist,
            origin=origin if emit is not None else None,
        )
        old = self.outputs.get(stream)
        if persist is not None and (old is None or old.persist is None):
            assert emit is not None and emit.persist is not None
            self.uid(persist.uid, emit.persist.span)
        if old is None:
            self.outputs[stream] = new
            return
        if emit is None:
            return
        if old.origin is not None and (
            old.delivery != new.delivery
            or old.idempotency_key != new.idempotency_key
            or _persisted(old.persist) != _persisted(new.persist)
        ):
            raise checker_missed(
                emit.span,
                "NX424",
                f"a second `emit to {stream}` with another delivery or persistence than "
                f"line {old.origin.line}",
            )
        if old.origin is None:
            self.outputs[stream] = new

    # segments --------------------------------------------------------------------------
    def open_segment(self, span: Span) -> _OpenSegment:
        if self.segment is None:
            assert self.record is not None
            self.segment = _OpenSegment(self.record, self.var, self.origin(span))
            if self.key_pending:
                self.segment.explicit_key = True
                self.key_pending = False
        return self.segment

    def add_step(self, step: model.Step, span: Span) -> None:
        seg = self.open_segment(span)
        seg.steps.append(step)
        seg.texts.append(self.origin(span).text)

    def close_segment(self) -> None:
        """Ends the open segment (if any) before an operator of its own."""
        # A `key by` right before another operator keys nothing of its own: that operator
        # keys its records itself (correlate, deduplicate, window, join) or hands them on
        # unkeyed (lookup).
        self.key_pending = False
        seg = self.segment
        if seg is not None and (seg.steps or seg.states or seg.explicit_key or seg.carried):
            rolling = any(isinstance(st, model.RollingStep) for st in seg.steps)
            keyed = seg.explicit_key or bool(seg.states) or rolling
            if keyed and seg.carried is not None:
                raise checker_missed(
                    _span_of(seg), "NX430", "keyed state right after a lookup (without `key by`)"
                )
            key = None
            if keyed:
                if self.key is None:
                    raise checker_missed(_span_of(seg), "NX430", "keyed state without a key")
                if not T.same(self.key.record, seg.input):
                    raise checker_missed(
                        _span_of(seg),
                        "NX430",
                        f"keyed state on {seg.input.display()} records keyed by "
                        f"'{self.key.text}' of {self.key.record.display()}",
                    )
                key = self.key
            span = _span_of(seg)
            if seg.states or rolling:
                # Named after its key and its first state (or first rolling aggregate): states
                # added after it, or other operators added or removed, leave the uid alone.
                anchor = seg.states[0].name if seg.states else _first_slot(seg.steps)
                uid = self.uid(
                    f"{self.proc.name}.state.{_uid_text(key.text if key else '')}.{anchor}",
                    seg.state_span or span,
                )
            elif key is not None:
                uid = self.stateless_uid(f"{self.proc.name}.keyed.{_uid_text(key.text)}", span)
            else:
                self.stateless += 1
                uid = self.stateless_uid(f"{self.proc.name}.steps.{self.stateless}", span)
            name = "; ".join(seg.texts) or (f"key by {key.text}" if key else "steps")
            if len(name) > 120:
                name = name[:117] + "..."
            self.operators.append(
                model.Segment(
                    uid=uid,
                    name=name,
                    index=len(self.operators) + 1,
                    input=seg.input,
                    input_var=seg.input_var,
                    output=self.record,
                    output_var=self.var,
                    steps=seg.steps,
                    origin=seg.origin,
                    key=key,
                    states=seg.states,
                    sends=_sends(seg.steps),
                    carried=seg.carried,
                    also=seg.also,
                )
            )
        self.segment = None
        self.live = {}
        self.nullable = set()
        if self.var != "r$0":
            # A new operator starts with its own input variable.
            self.var = "r$0"
            self.vars = 0

    # the proc ----------------------------------------------------------------------------
    def build(self) -> model.Job:
        self._collect_handlers()
        dead_letters = self.flow.dead_letters
        dead_letter = None
        if dead_letters is not None:
            on_error = self.proc.statements[dead_letters]
            assert isinstance(on_error, ast.OnStmt)
            dead_letter = on_error.stream
        for stmt in self.proc.statements:
            if isinstance(stmt, ast.OnLookupErrorStmt):
                self.lookup_error = stmt.action
                self.lookup_error_origin = self.origin(stmt.span)
            elif isinstance(stmt, ast.OnPersistErrorStmt):
                self.persist_error = stmt.action
                self.persist_error_origin = self.origin(stmt.span)
        for i, stmt in enumerate(self.proc.statements):
            handler = getattr(self, "on_" + type(stmt).__name__, None)
            if handler is None:
                # Every statement of the proc grammar has a handler (a test checks it).
                raise generator_bug(
                    stmt.span, f"the proc statement `{self.origin(stmt.span).text}`"
                )
            self.step = step = self.flow.steps[i]
            if step.starts_operator:
                self.close_segment()
            # What the statement may read: the flow's names (the segment's own, as the
            # checker found them), with the generator's types (never nullable: every value
            # may be null; `nullable` names get null-safe reads).
            self.live = {n: plain(self.project.resolve(v.type)) for n, v in step.names.items()}
            self.nullable = {n for n, v in step.names.items() if v.may_be_null}
            self.lifted = {}
            handler(stmt, i)
            self.key = self.keys.get(step.key.at) if step.key is not None else None
        self.close_segment()
        if self.source is None:
            raise checker_missed(self.proc.span, "NX431", "a proc without `from`")
        # The sinks' uids (the streams are distinct; the dead letters' and alerts' sinks are
        # named after their role).
        for stream in [*sorted(self.outputs), "dead_letter", "alerts"]:
            self.uid(f"{self.proc.name}.sink.{stream}", self.proc.span)
        ops = list(self.operators)
        if ops and isinstance(ops[-1], model.Segment):
            last = ops[-1]
            ops[-1] = model.Segment(
                uid=last.uid,
                name=last.name,
                index=last.index,
                input=last.input,
                input_var=last.input_var,
                output=None,
                output_var=last.output_var,
                steps=last.steps,
                origin=last.origin,
                key=last.key,
                states=last.states,
                sends=last.sends,
                carried=last.carried,
                also=last.also,
            )
        if ops and isinstance(ops[-1], (model.Lookup, model.Join)):
            # A lookup or join always opens the segment that reads what it found.
            raise generator_bug(self.proc.span, "a lookup whose answer nothing uses")
        timed = (model.Correlate, model.Dedup, model.Window, model.Join)
        needs_time = any(isinstance(op, timed) for op in ops) or any(
            isinstance(st, model.RollingStep)
            for op in ops
            if isinstance(op, model.Segment)
            for st in op.steps
        )
        return model.Job(
            name=self.proc.name,
            package=self.unit.package,
            origin=self.origin(self.proc.span),
            source=self.source,
            operators=ops,
            outputs=[self.outputs[k] for k in sorted(self.outputs)],
            dead_letter=dead_letter,
            event_time=self.event_time if needs_time else None,
            execution=self.execution,
        )

    def _collect_handlers(self) -> None:
        """Each `on` handler with the statement the checker found it belongs to."""
        stmts = self.proc.statements
        for i, s in enumerate(stmts):
            if not isinstance(s, ast.OnStmt) or s.event == "error":
                continue
            owner = self.flow.handlers.get(i)
            if owner is None:  # the checker reports a handler without its statement
                raise checker_missed(
                    s.span, "NX408", f"`on {s.event}` without the statement it belongs to"
                )
            h = self.handlers.setdefault(owner, _Handlers())
            if s.event == "route":
                h.routes[s.label or ""] = s
            else:
                setattr(h, s.event, s)

    # statements --------------------------------------------------------------------------
    def on_FromStmt(self, s: ast.FromStmt, i: int) -> None:
        record = self.step.output
        if record is None:
            raise checker_missed(s.span, "NX205", f"the stream '{s.stream}' without a schema")
        self.record = record
        self.source = model.Source(stream=s.stream, record=record, origin=self.origin(s.span))
        self.read_stream(s.stream, s.span)
        if self.flow.event_time is not None:
            # In force from the source on; an `event_time` statement adds its watermark delay.
            self.event_time = _event_time(self.flow.event_time, 0, None)

    def on_EventTimeStmt(self, s: ast.EventTimeStmt, i: int) -> None:
        et = self.flow.event_time
        if et is None or et.declared_at != i:
            raise checker_missed(s.span, "NX434", "event time the checker did not settle on")
        self.event_time = _event_time(et, et.watermark_ms, self.origin(s.span))

    def on_ParallelismStmt(self, s: ast.ParallelismStmt, i: int) -> None:
        self.execution = msgspec.structs.replace(
            self.execution, parallelism=model.Count(value=s.value, origin=self.origin(s.span))
        )

    def on_CheckpointStmt(self, s: ast.CheckpointStmt, i: int) -> None:
        origin = self.origin(s.span)
        before = self.execution.checkpointing
        # A later statement wins, part by part (one without a mode keeps the mode before it).
        checkpointing = msgspec.structs.replace(
            before,
            interval=model.Duration(millis=s.every.millis, origin=origin),
            mode=model.Choice(name=s.mode, origin=origin) if s.mode is not None else before.mode,
        )
        self.execution = msgspec.structs.replace(self.execution, checkpointing=checkpointing)

    def on_FilterStmt(self, s: ast.FilterStmt, i: int) -> None:
        self._lift(s, [s.condition])
        cond = self.expr(s.condition)
        self.add_step(
            model.FilterStep(condition=cond, var=self.var, origin=self.origin(s.span)), s.span
        )

    def on_TransformStmt(self, s: ast.TransformStmt, i: int) -> None:
        sig = self.project.transform(s.transform)
        if sig is None or self.step.output is None:
            raise checker_missed(s.span, "NX207", f"the transform '{s.transform}'")
        out = plain(self.step.output)
        assert self.record is not None
        # The first input is the record; the others are names earlier statements made (the
        # checker saw to it that each is there, with a type the input takes).
        inputs = [self.expr(ast.Path(parts=[p.name], span=s.span)) for p in sig.inputs[1:]]
        lookups: list[str] = []
        if sig.lookups:
            reads = [
                (lk, self._lookup_key(model.This(type=self.record), lk.path, s.span))
                for lk in sig.lookups
            ]
            lookups = self._read_first_all(
                [(None, [(lk, key, "") for lk, key in reads])], s.span, s.transform
            )[0]
        var = self.var
        self.open_segment(s.span)
        self.var = self.new_var()
        self.add_step(
            model.TransformStep(
                transform=s.transform,
                var=var,
                out_var=self.var,
                record=self.record,
                output=out,
                origin=self.origin(s.span),
                inputs=inputs,
                lookups=lookups,
            ),
            s.span,
        )
        self.record = out

    def on_MapStmt(self, s: ast.MapStmt, i: int) -> None:
        self._lift(s, [mp.expr for mp in s.mappings])
        out = self._output_record(s.span)
        values = self._values(s.mappings, out, self.scope())
        var = self.var
        self.open_segment(s.span)
        self.var = self.new_var()
        self.add_step(
            model.MapStep(
                output=out, values=values, var=var, out_var=self.var, origin=self.origin(s.span)
            ),
            s.span,
        )
        self.record = out

    def _output_record(self, span: Span) -> Type:
        """The record the statement makes (`map into`, `aggregate into`), as the flow has it."""
        out = self.step.output
        if out is None or out.kind != "record":
            raise checker_missed(span, "NX201", "a record type the checker did not resolve")
        return plain(out)

    def _values(
        self, mappings: list[ast.Mapping], out: Type, scope: Scope
    ) -> list[model.FieldValue]:
        values = []
        for mp in mappings:
            ft = self.project.symbols.field_type(out, mp.field)
            if ft is None:
                raise checker_missed(mp.span, "NX306", f"the field '{mp.field}'")
            self._check_dead(mp.expr)
            e = self.lower.fit(
                self.lower.expr(mp.expr, scope), self.project.resolve(ft), mp.expr.span
            )
            values.append(model.FieldValue(field=mp.field, expr=e, origin=self.origin(mp.span)))
        return values

    def on_ApplyStmt(self, s: ast.ApplyStmt, i: int) -> None:
        assert self.record is not None
        origin = self.origin(s.span)
        if self.step.applies == "ruleset":
            h = self.handlers.get(i, _Handlers())
            for on in [h.reject, h.flag, *h.routes.values()]:
                if on is not None:
                    self.output(on.stream, self.record, self.origin(on.span))
            var = self.var
            self.open_segment(s.span)
            self.var = self.new_var()
            self.add_step(
                model.RulesStep(
                    ruleset=s.target,
                    record=self.record,
                    var=var,
                    out_var=self.var,
                    on_reject=h.reject.stream if h.reject else None,
                    on_flag=h.flag.stream if h.flag else None,
                    routes={k: v.stream for k, v in sorted(h.routes.items())},
                    origin=origin,
                    alias=s.alias,
                ),
                s.span,
            )
            return
        sig = self.project.table(s.target)
        if self.step.applies != "table" or sig is None or s.alias is None:
            code = "NX208" if sig is None else "NX432"  # unknown, or a table result unnamed
            raise checker_missed(s.span, code, f"applying '{s.target}'")
        result = plain(self.project.resolve(sig.result))
        self.add_step(
            model.TableStep(
                table=s.target, alias=s.alias, result=result, var=self.var, origin=origin
            ),
            s.span,
        )

    def on_RouteStmt(self, s: ast.RouteStmt, i: int) -> None:
        assert self.record is not None
        self._lift(s, [c.condition for c in s.cases if c.condition is not None])
        cases = []
        for c in s.cases:
            cond = None if c.condition is None else self.expr(c.condition)
            cases.append(
                model.RouteCase(condition=cond, stream=c.stream, origin=self.origin(c.span))
            )
            self.output(c.stream, self.record, self.origin(c.span))
        self.add_step(
            model.RouteStep(cases=cases, var=self.var, origin=self.origin(s.span)), s.span
        )

    def on_EmitStmt(self, s: ast.EmitStmt, i: int) -> None:
        assert self.record is not None
        origin = self.origin(s.span)
        self.output(s.stream, self.record, origin, s)
        self.add_step(model.EmitStep(stream=s.stream, var=self.var, origin=origin), s.span)

    def on_OnStmt(self, s: ast.OnStmt, i: int) -> None:
        return None  # collected by _collect_handlers; written by the statement they belong to

    def on_OnLookupErrorStmt(self, s: ast.OnLookupErrorStmt, i: int) -> None:
        return None  # read before the statements (build): every lookup of the proc has it

    def on_OnPersistErrorStmt(self, s: ast.OnPersistErrorStmt, i: int) -> None:
        return None  # read before the statements (build): every persist of the proc has it

    def on_KeyByStmt(self, s: ast.KeyByStmt, i: int) -> None:
        assert self.record is not None
        for k in s.keys:
            self._check_dead(k)
        exprs = [self.lower.expr(k, Scope(implicit=self.record)) for k in s.keys]
        self.keys[i] = self._flow_key(i, exprs, s.span)
        self.key_pending = True

    def on_StateStmt(self, s: ast.StateStmt, i: int) -> None:
        if self.step.key is None or self.key is None:
            raise checker_missed(s.span, "NX430", "keyed state without `key by` before it")
        seg = self.open_segment(s.span)
        if not seg.states:
            seg.state_span = s.span
        t = self.ctx.resolve_ref(s.type)
        seg.states.append(
            model.State(name=s.name, type=t, ttl_ms=s.ttl.millis, origin=self.origin(s.span))
        )

    def on_UpdateStmt(self, s: ast.UpdateStmt, i: int) -> None:
        t = self.live.get(s.name)
        seg = self.segment
        if t is None or seg is None or s.name not in {st.name for st in seg.states}:
            reason = self.step.dead.get(s.name, "outside the operator that declares it")
            raise checker_missed(s.span, "NX421", f"updating the state '{s.name}' {reason}")
        self._check_dead(s.expr)
        value = self.lower.fit(self.lower.expr(s.expr, self.scope()), t, s.expr.span)
        self.add_step(
            model.UpdateStep(state=s.name, value=value, var=self.var, origin=self.origin(s.span)),
            s.span,
        )

    def on_RollingStmt(self, s: ast.RollingStmt, i: int) -> None:
        if self.step.key is None or self.key is None:
            raise checker_missed(s.span, "NX430", "rolling aggregates without `key by` before them")
        assert self.record is not None
        seg = self.open_segment(s.span)
        if seg.carried is not None:
            raise checker_missed(s.span, "NX430", "rolling aggregates right after a lookup")
        if seg.state_span is None:
            seg.state_span = s.span
        values = []
        for mp in s.mappings:
            self._check_dead(mp.expr)
            aggregations: list[model.Aggregation] = []
            scope = Scope(
                names=dict(self.live),
                implicit=self.record,
                nullable=set(self.nullable),
                aggregations=aggregations,
            )
            v = self.lower.expr(mp.expr, scope)
            if not isinstance(v, model.Var) or len(aggregations) != 1:
                raise checker_missed(mp.span, "NX307", f"'{mp.field}' as a rolling aggregation")
            values.append(msgspec.structs.replace(aggregations[0], slot=mp.field))
        # Consecutive rolling statements share one `on late`: the first one finds a record late.
        stmts = self.proc.statements
        on_late = None
        j = i
        while (
            on_late is None
            and j < len(stmts)
            and isinstance(stmts[j], (ast.RollingStmt, ast.OnStmt))
        ):
            if isinstance(stmts[j], ast.RollingStmt):
                on_late = self.handlers.get(j, _Handlers()).late
            j += 1
        late = on_late.stream if on_late is not None and self.event_time is not None else None
        if late is not None and on_late is not None:
            self.output(late, self.record, self.origin(on_late.span))
        watermark = self.event_time.watermark_ms if self.event_time else 0
        self.add_step(
            model.RollingStep(
                # A run of rolling statements keeps one state, named after its first statement's
                # first aggregate (see the segment template): adding or removing the others
                # keeps the state, whose values are kept per aggregate name.
                state=f"rolling.{s.mappings[0].field}" if s.mappings else "rolling",
                within_ms=s.within.millis,
                ttl_ms=s.within.millis + watermark + STATE_GRACE_MS,
                values=values,
                event_time=self.event_time is not None,
                late_stream=late,
                var=self.var,
                origin=self.origin(s.span),
            ),
            s.span,
        )

    def _flow_key(self, i: int, exprs: list[model.Expr], span: Span) -> model.Key:
        """The key statement `i` sets (`key by`, `correlate`): the flow's, lowered."""
        key = self.step.key
        if key is None or key.at != i:
            raise checker_missed(span, "NX430", "a key the checker did not record")
        return model.Key(exprs=exprs, record=plain(key.record), text=key.text)

    def _key_of(self, path: ast.Path) -> model.Key:
        assert self.record is not None
        self._check_dead(path)
        e = self.lower.expr(path, Scope(implicit=self.record))
        return model.Key(exprs=[e], record=self.record, text=path.dotted)

    def on_DedupStmt(self, s: ast.DedupStmt, i: int) -> None:
        assert self.record is not None
        key = self._key_of(s.key)
        self.operators.append(
            model.Dedup(
                uid=self.uid(f"{self.proc.name}.dedup.{_uid_text(key.text)}", s.span),
                index=len(self.operators) + 1,
                key=key,
                within_ms=s.within.millis,
                record=self.record,
                event_time=self.event_time is not None,
                origin=self.origin(s.span),
            )
        )

    def on_CorrelateStmt(self, s: ast.CorrelateStmt, i: int) -> None:
        assert self.record is not None
        self._check_dead(s.key)
        key = self._flow_key(i, [self.lower.expr(s.key, Scope(implicit=self.record))], s.span)
        partner = None
        if s.partner is not None:
            partner = self._correlate_partner(s)
        h = self.handlers.get(i, _Handlers())
        timeout = h.timeout.stream if h.timeout else None
        if h.timeout is not None:
            self.output(h.timeout.stream, self.record, self.origin(h.timeout.span))
        # `correlate with` keeps other state than `correlate by` (both sides wait), so its uid
        # names the partner stream too.
        with_ = f".with.{partner.stream}" if partner is not None else ""
        self.operators.append(
            model.Correlate(
                uid=self.uid(f"{self.proc.name}.correlate.{_uid_text(key.text)}{with_}", s.span),
                index=len(self.operators) + 1,
                key=key,
                within_ms=s.within.millis,
                record=self.record,
                event_time=self.event_time is not None,
                timeout_stream=timeout,
                origin=self.origin(s.span),
                partner=partner,
            )
        )
        self.keys[i] = key
        self.key_pending = False

    def _correlate_partner(self, s: ast.CorrelateStmt) -> model.CorrelatePartner:
        assert s.partner is not None
        record, time = self._partner(s.partner, s.span)
        self.read_stream(s.partner, s.span)
        key = self.lower.expr(s.key, Scope(implicit=record))
        return model.CorrelatePartner(
            stream=s.partner,
            record=record,
            key=model.Key(exprs=[key], record=record, text=s.key.dotted),
            time=time,
        )

    def _partner(self, stream: str, span: Span) -> tuple[Type, model.EventTime]:
        """The records of the partner stream of a `correlate with` or `join`, and their event
        time (with the watermark delay of the proc's own), as the flow has them."""
        partner = self.step.partner
        if partner is None or partner.stream != stream or self.event_time is None:
            raise checker_missed(
                span, "NX420", f"pairing with '{stream}' without event time on both streams"
            )
        time = model.EventTime(
            field=partner.event_time_field,
            kind=partner.event_time_kind,
            watermark_ms=self.event_time.watermark_ms,
        )
        return plain(partner.record), time

    def on_LookupStmt(self, s: ast.LookupStmt, i: int) -> None:
        assert self.record is not None
        self._check_dead(s.key)
        key_expr = self.lower.expr(s.key, Scope(implicit=self.record))
        text = s.key.dotted if isinstance(s.key, ast.Path) else "key"
        self._lookup_operator(
            f"{self.proc.name}.lookup.{s.store}.{s.alias}",
            s.store,
            key_expr,
            text,
            s.alias,
            s.cache.millis if s.cache is not None else 0,
            s.span,
        )

    def _lookup_operator(
        self,
        uid: str,
        store: str,
        key_expr: model.Expr,
        text: str,
        alias: str,
        cache_ms: int,
        span: Span,
        chain: bool = False,
    ) -> Type:
        """A lookup operator before the statement at `span`, which then starts a segment that
        has what it found as `alias`; the type of that record. With `chain`, right after the
        lookup before it (the open segment has nothing but what that one found): it reads its
        envelope, and the segment gets both answers."""
        seg = self.segment
        after: Optional[model.Carried] = None
        if chain and seg is not None and seg.carried is not None and seg.carried.kind == "Lookup":
            if not (seg.steps or seg.states or seg.explicit_key):
                after = seg.carried
        if after is None:
            self.close_segment()
        assert self.record is not None
        sig = self.project.store(store)
        if sig is None:
            raise checker_missed(span, "NX206", f"the store '{store}'")
        key = model.Key(exprs=[key_expr], record=self.record, text=text)
        found = T.record(sig.schema)
        index = len(self.operators) + 1
        earlier = [] if after is None or seg is None else [after, *seg.also]
        self.operators.append(
            model.Lookup(
                uid=self.uid(_uid_text(uid), span),
                index=index,
                store=store,
                key=key,
                alias=alias,
                found=found,
                cache_ms=cache_ms,
                record=self.record,
                origin=self.origin(span),
                after=None if after is None else after.index,
                depth=len(earlier),
                on_error=self.lookup_error,
                on_error_origin=self.lookup_error_origin,
            )
        )
        seg = self.open_segment(span)
        seg.carried = model.Carried(index=index, name=alias, type=found)
        seg.also = [msgspec.structs.replace(c, hops=c.hops + 1) for c in earlier]
        return found

    # lookups of transforms ---------------------------------------------------------------
    def _lift(self, stmt: ast.Node, exprs: list) -> None:
        """Before a statement that calls transforms with lookups: lookup operators reading
        each store with the transform's key, its input bound to the call's argument
        (evaluated on the record), so the statement can pass what they found to the
        transforms' functions. Lookups with the same store and key are read once."""
        calls: list[tuple[ast.Call, list]] = []
        for call in ast.nodes_of(exprs, ast.Call):
            sig = self.project.transform(call.name)
            if sig is None or not sig.lookups:
                continue
            inputs = [p.name for p in sig.inputs]
            reads = []
            for lk in sig.lookups:
                if lk.input not in inputs or inputs.index(lk.input) >= len(call.args):
                    raise checker_missed(
                        call.span, "NX307", f"the lookup '{lk.alias}' of {call.name}"
                    )
                n = inputs.index(lk.input)
                arg = call.args[n]
                param = plain(self.project.resolve(sig.inputs[n].type))
                # An argument reading more than the record's fields is the checker's NX902.
                self._check_dead(arg)
                bound = self.lower.fit(
                    self.lower.expr(arg, Scope(implicit=self.record)), param, arg.span
                )
                reads.append((lk, self._lookup_key(bound, lk.path, call.span), _text(arg)))
            calls.append((call, reads))
        self._read_first_all(calls, stmt.span)

    def _read_first_all(
        self, calls: list, span: Span, transform: Optional[str] = None
    ) -> list[list[str]]:
        """One lookup operator per distinct (store, key) the calls need, chained before the
        statement at `span`: for each (call, [(lookup, key, argument text)]), the names of
        what its lookups found (also in `self.lifted`; a call None is `transform using
        transform`)."""
        done: list[tuple[str, model.Expr, str]] = []
        out = []
        for call, reads in calls:
            name_of_call = call.name if call is not None else transform
            names = []
            for lk, key, arg_text in reads:
                name = next((n for st, k, n in done if st == lk.store and k == key), None)
                if name is None:
                    name = f"{name_of_call}${lk.alias}"
                    taken = {n for _, _, n in done}
                    if name in taken:
                        name = f"{name}${sum(1 for n in taken if n.startswith(name)) + 1}"
                    text = ".".join(p for p in [arg_text, *lk.path] if p) or "the record"
                    self._lookup_operator(
                        f"{self.proc.name}.lookup.{lk.store}.{name_of_call}.{lk.alias}."
                        f"{_key_text(arg_text, lk.path, key)}.{_statement_text(self.origin(span))}",
                        lk.store,
                        key,
                        text,
                        name,
                        0,
                        span,
                        chain=bool(done),
                    )
                    done.append((lk.store, key, name))
                names.append(name)
            if call is not None:
                self.lifted[id(call)] = names
            out.append(names)
        return out

    def _lookup_key(self, start: model.Expr, path: list[str], span: Span) -> model.Expr:
        """`start.path…`: the transform's key, its input replaced by the call's argument."""
        e = start
        for part in path:
            ft = self.project.symbols.field_type(e.type, part)
            if ft is None:
                raise checker_missed(
                    span, "NX204 or NX412", f"the field '{part}' of {e.type.display()}"
                )
            e = model.Field(obj=e, name=part, type=plain(self.project.resolve(ft)))
        return e

    def on_JoinStmt(self, s: ast.JoinStmt, i: int) -> None:
        assert self.record is not None and self.source is not None
        partner, partner_time = self._partner(s.stream, s.span)
        if s.stream != self.source.stream:
            self.read_stream(s.stream, s.span)
        pair = _key_equality(s.condition, s.alias)
        if pair is None:
            raise checker_missed(
                s.condition.span, "NX432", "a join without `<key> == <alias>.<field>`"
            )
        left_ast, right_ast = pair
        self._check_dead(left_ast)
        left = self.lower.expr(left_ast, Scope(implicit=self.record))
        right = self.lower.expr(right_ast, Scope(names={s.alias: partner}))
        index = len(self.operators) + 1
        self.operators.append(
            model.Join(
                uid=self.uid(f"{self.proc.name}.join.{s.stream}.{s.alias}", s.span),
                index=index,
                stream=s.stream,
                alias=s.alias,
                partner=partner,
                partner_time=partner_time,
                left=model.Key(exprs=[left], record=self.record, text=_text(left_ast)),
                right=model.Key(exprs=[right], record=partner, text=_text(right_ast)),
                within_ms=s.within.millis if s.within is not None else None,
                window_ms=s.window.millis if s.window is not None else None,
                record=self.record,
                origin=self.origin(s.span),
            )
        )
        seg = self.open_segment(s.span)
        seg.carried = model.Carried(index=index, name=s.alias, type=partner, kind="Join")
        self.live[s.alias] = partner  # the condition reads the partner by its alias
        # The whole condition, on each pair the key matched.
        cond = self.lower.expr(s.condition, self.scope())
        self.add_step(
            model.FilterStep(condition=cond, var=self.var, origin=self.origin(s.condition.span)),
            s.span,
        )

    def on_WindowStmt(self, s: ast.WindowStmt, i: int) -> None:
        if self.step.key is None or self.key is None:
            raise checker_missed(s.span, "NX430", "a window without `key by` before it")
        self.key_pending = False

    def on_AggregateStmt(self, s: ast.AggregateStmt, i: int) -> None:
        wi = self.step.window
        w = self.proc.statements[wi] if wi is not None else None
        if wi is None or not isinstance(w, ast.WindowStmt) or self.key is None:
            raise checker_missed(s.span, "NX408", "aggregate without a window right before it")
        assert self.record is not None
        out = self._output_record(s.span)
        aggregations: list[model.Aggregation] = []
        scope = Scope(
            names=dict(self.live),
            implicit=self.record,
            nullable=set(self.nullable),
            aggregations=aggregations,
        )
        values = self._values(s.mappings, out, scope)
        for mp, v in zip(s.mappings, values):
            if _reads_record(v.expr):
                raise checker_missed(
                    mp.expr.span,
                    "NX435",
                    f"reading a field outside an aggregation (in '{mp.field}'; "
                    "aggregate it with first(…) or last(…))",
                )
        h = self.handlers.get(wi, _Handlers())
        late = h.late.stream if h.late else None
        if h.late is not None:
            self.output(h.late.stream, self.record, self.origin(h.late.span))
        kind = w.kind
        self.operators.append(
            model.Window(
                uid=self.uid(
                    f"{self.proc.name}.window.{kind}.{_uid_text(self.key.text)}.{s.schema}", w.span
                ),
                index=len(self.operators) + 1,
                key=self.key,
                kind=kind,
                size_ms=w.size.millis,
                slide_ms=w.slide.millis if w.slide is not None else None,
                lateness_ms=w.allowed_lateness.millis if w.allowed_lateness is not None else 0,
                late_stream=late,
                record=self.record,
                output=out,
                aggregations=aggregations,
                values=values,
                event_time=self.event_time,
                origin=self.origin(w.span),
                aggregate_origin=self.origin(s.span),
            )
        )
        self.record = out


def _persisted(persist: Optional[model.Persist]) -> Optional[tuple[str, bool]]:
    """What two emits to one stream must agree on about persisting (where each was written
    does not matter: the checker's NX424 compares the same)."""
    return None if persist is None else (persist.store, persist.is_async)


def _event_time(
    et: FlowEventTime, watermark_ms: int, origin: Optional[model.Origin]
) -> model.EventTime:
    return model.EventTime(
        field=et.field, kind=et.kind, watermark_ms=watermark_ms, origin=origin
    )


def _key_equality(e: object, alias: str) -> Optional[tuple]:
    """(the record's side, the alias's side) of the first `x == alias.f` in a conjunction."""
    if isinstance(e, ast.Binary) and e.op == "and":
        return _key_equality(e.left, alias) or _key_equality(e.right, alias)
    if isinstance(e, ast.Binary) and e.op == "==":
        for mine, theirs in ((e.left, e.right), (e.right, e.left)):
            theirs_alias = isinstance(theirs, ast.Path) and theirs.parts[0] == alias
            mine_alias = any(p.parts[0] == alias for p in ast.nodes_of(mine, ast.Path))
            if theirs_alias and not mine_alias:
                return mine, theirs
    return None


def _text(e: object) -> str:
    return e.dotted if isinstance(e, ast.Path) else "key"


def _reads_record(e: object) -> bool:
    """Does a lowered expression read the current record (model.This)?"""
    if isinstance(e, model.This):
        return True
    if isinstance(e, (list, tuple)):
        return any(_reads_record(x) for x in e)
    if hasattr(e, "__struct_fields__"):
        return any(
            _reads_record(getattr(e, f))
            for f in e.__struct_fields__
            if f != "type"
        )
    return False


def _sends(steps: list[model.Step]) -> list[str]:
    """The streams a segment's steps send records to."""
    out: set = set()
    for st in steps:
        if isinstance(st, model.EmitStep):
            out.add(st.stream)
        elif isinstance(st, model.RouteStep):
            out.update(c.stream for c in st.cases)
        elif isinstance(st, model.RulesStep):
            out.update(x for x in (st.on_reject, st.on_flag) if x is not None)
            out.update(st.routes.values())
        elif isinstance(st, model.RollingStep) and st.late_stream is not None:
            out.add(st.late_stream)
    return sorted(out)


def duplicate_uid(uid: str, span: Span, first: Span) -> Diagnostic:
    """NX414: two operators of one job with one uid (Flink refuses such a job; were it
    accepted, a restore could not tell their state apart)."""
    return Diagnostic(
        code="NX414",
        severity="error",
        message=(
            f"two operators of this job would have the uid '{uid}' (the other one is at "
            f"{first.location()})"
        ),
        span=span,
        related=first,
        expected="operators that differ in kind, key, stream, store or the names they declare",
        hint=(
            "uids derive from content, not position (docs/language/proc.md, 'Operator uids and "
            "state names: upgrades'): merge the two statements, or make them differ in what "
            "names them"
        ),
    )


def _key_text(arg_text: str, path: list[str], key: model.Expr) -> str:
    """The key of a transform's lookup in a uid: the argument's path, else a digest of the
    key expression (a literal, a computation)."""
    if arg_text != "key":
        return ".".join([arg_text or "record", *path])
    digest = hashlib.sha256(msgspec.json.encode(key)).hexdigest()[:8]
    return ".".join(["key", *path, digest])


def _statement_text(origin: model.Origin) -> str:
    """The statement a transform's lookup is read for, in its uid: its keyword and a digest of
    its text (two statements may call one transform with one key)."""
    word = origin.text.split(" ", 1)[0] if origin.text else "statement"
    return f"{word}.{hashlib.sha256(origin.text.encode('utf-8')).hexdigest()[:8]}"


def _first_slot(steps: list[model.Step]) -> str:
    """The name of the first aggregate of the first rolling statement among `steps`."""
    for st in steps:
        if isinstance(st, model.RollingStep) and st.values:
            return st.values[0].slot
    return "rolling"


def _uid_text(text: str) -> str:
    return "".join(c if c.isalnum() or c in "_." else "+" for c in text)


def _span_of(seg: _OpenSegment) -> Span:
    o = seg.origin
    return Span(o.file, o.line, 1, o.line, 2)


def build_job(
    unit: Unit,
    proc: ast.ProcDecl,
    ctx: Context,
    environment: Optional[model.Environment] = None,
    resolved: Optional[ResolvedEnvironment] = None,
) -> model.Job:
    builder = JobBuilder(unit, proc, ctx)
    job = builder.build()
    if environment is None:
        return job
    if resolved is None:
        return msgspec.structs.replace(
            job, environment=environment, uses_kafka=uses_kafka(environment)
        )
    # In a unit build the .infra file is checked without the procs: the proc checks here.
    unbound = unbound_dead_letters(
        resolved, proc.name, proc.span.file, proc_streams(proc)[0], job.dead_letter
    )
    if unbound is not None:
        raise NexflowError([unbound])
    outputs = [_bind_delivery(builder, o, resolved) for o in job.outputs]
    checkpointed = (
        "interval" in resolved.checkpoint or job.execution.checkpointing.interval is not None
    )
    mode_span = _at_least_once_checkpoints(resolved, proc)
    for o in outputs:
        if o.delivery != "exactly_once":
            continue
        # Point at what chose exactly_once: the binding, the environment's default, or
        # (the proc's emit) the proc.
        source = o.delivery_source or ""
        binding = resolved.streams.get(o.stream)
        where = None
        if source.startswith("binding") and binding is not None:
            where = binding.settings.get("delivery")
        elif source.startswith("default of"):
            where = resolved.settings.get("delivery")
        span = where.span if where is not None else proc.span
        if mode_span is not None:
            if where is None and o.origin is not None:
                # The proc's `emit to … exactly_once`.
                span = Span(o.origin.file, o.origin.line, 1, o.origin.line, 1)
            raise NexflowError(
                [
                    at_least_once_checkpoints_with_exactly_once_sink(
                        resolved.name, o.stream, proc.name, mode_span, span
                    )
                ]
            )
        if not checkpointed:
            raise NexflowError(
                [
                    exactly_once_without_checkpoints(
                        resolved.name, o.stream, proc.name, proc.span.file, span
                    )
                ]
            )
    return msgspec.structs.replace(
        job,
        outputs=outputs,
        environment=environment,
        uses_kafka=uses_kafka(environment),
        dead_letter_delivery=_lines_delivery(resolved, job.dead_letter or "dead_letter"),
        alert_delivery=_lines_delivery(resolved, "alerts"),
    )


def _at_least_once_checkpoints(env: ResolvedEnvironment, proc: ast.ProcDecl) -> Optional[Span]:
    """Where the job's checkpoints are made at-least-once (the environment's `checkpoint {
    mode }`, which wins, else the proc's `checkpoint every … at_least_once`), or None."""
    mode = env.checkpoint.get("mode")
    if isinstance(mode, ast.Symbol):
        return mode.span if mode.name == "at_least_once" else None
    for s in proc.statements:
        if isinstance(s, ast.CheckpointStmt) and (s.mode or "").lower() == "at_least_once":
            return s.span
    return None


def _lines_delivery(env: ResolvedEnvironment, stream: str) -> str:
    """Dead letters and alerts are JSON envelopes keyed by their `correlation_id`: a binding
    cannot name another idempotency key for them."""
    binding = env.streams.get(stream)
    named = binding.settings.get("idempotency_key") if binding is not None else None
    if named is not None and not (isinstance(named, ast.Symbol) and named.name == "correlation_id"):
        raise checker_missed(
            named.span,
            "NX508",
            f"an idempotency key other than correlation_id for {stream} (dead letters and "
            "alerts are envelopes keyed by the correlation id of their record),",
        )
    mode, _, _ = sink_delivery(env, stream)
    return mode


def _bind_delivery(
    builder: JobBuilder, out: model.Output, env: ResolvedEnvironment
) -> model.Output:
    """The sink's delivery guarantee in `env` (its binding, else the proc's emit, else the
    environment's default, else at_least_once) and its idempotency key (the binding's, else
    the emit's), as the job's compiled default; `--stream.<name>.delivery` still overrides it."""
    mode, _, source = sink_delivery(env, out.stream, out.delivery)
    key = out.idempotency_key
    binding = env.streams.get(out.stream)
    named = binding.settings.get("idempotency_key") if binding is not None else None
    if isinstance(named, ast.Symbol):
        path = ast.Path(parts=[named.name], span=named.span)
        key = builder.lower.expr(path, Scope(implicit=out.record))
    return msgspec.structs.replace(
        out,
        delivery=mode,
        delivery_source=source,
        idempotency_key=key,
        idempotency_sensitive=builder.sensitive_key(out.record, key),
    )
