"""The state of a job as a savepoint holds it, and what a new build does to it on restore.

**The description** (`describe_job`, written as `<JobName>.state.json`) is derived from the same
job model (nexflow_core.generate.model) the Flink templates render, operator by operator: its
uid, the Flink type of its key, and each state the generated Java registers — the runtime name
of its descriptor, the name the DSL gave it, its kind, the Flink type of its values (for a POJO
its class and every field, recursively; for an enum its constants), its TTL and, for windows,
their extent. tests/compat/test_state_description.py holds the description to the generated
Java: every `StateDescriptor` name there is in the description of that operator.

**The comparison** (`compare_jobs`) says per operator (by uid) whether it is kept, added or
removed, and per kept state one of:

- `same`: Flink restores it as it was;
- `evolves`: Flink restores it through schema evolution (PojoSerializer: fields added or
  removed; EnumSerializer: constants added or reordered; TTL added or removed);
- `incompatible`: Flink refuses the savepoint (a field's type changed, the POJO class changed,
  an enum constant was removed, the key's or the state's serializer changed, the max
  parallelism changed, a removed operator's state found no operator);
- `reset`: the restore succeeds but the state starts empty (a state renamed; with
  allowNonRestoredState, an operator whose uid changed);
- `added` / `removed`: a state only the new / the old build has.

docs/upgrades.md has the whole table, and which rows were checked against Flink's sources.
Every finding is a Diagnostic (NX601–NX607, NX610–NX614) at the DSL statement of the current
sources that owns the state (for a state that is gone: the proc).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from nexflow_core.diagnostics import Diagnostic, Span
from nexflow_core.generate import model
from nexflow_core.generate.core import job_models
from nexflow_core.generate.flink import java as flink_java
from nexflow_core.generate.flink.state_classes import StateClasses
from nexflow_core.generate.flink.windows import accumulator_fields, window_java
from nexflow_core.generate.java.naming import enum_constant, identifier
from nexflow_core.typemodel import Type

FORMAT = 1

# Flink's serializer of each scalar type (the TypeInformation the templates write, see
# flink/java.py): two types with the same serializer restore into each other.
_SERIALIZERS = {
    "string": "STRING",
    "uuid": "STRING",
    "int": "INT",
    "long": "LONG",
    "double": "DOUBLE",
    "decimal": "BIG_DEC",
    "boolean": "BOOLEAN",
    "date": "LOCAL_DATE",
    "datetime": "INSTANT",
    "bytes": "BYTE_PRIMITIVE_ARRAY",
}

# Names of state Flink's own operators keep (not in the generated Java): WindowOperator's
# window contents and merging-window set, IntervalJoinOperator's buffers, AsyncWaitOperator's
# records in flight, a source's splits and a transactional sink's pending transactions.
WINDOW_CONTENTS = "window-contents"
MERGING_WINDOWS = "merging-window-set"
ASYNC_IN_FLIGHT = "_async_wait_operator_state_"
# Names the L0 runtime gives the state behind the state_entries gauge (StateEntries,
# StateCounts, CountingTrigger): bookkeeping, never a state a user loses.
RUNTIME_EXPIRES = "$expires"
RUNTIME_COUNTS = "$state_entries"
RUNTIME_COUNTED = "$counted_key_group"


# --- the description ----------------------------------------------------------------------------


class Types:
    """What the description needs to know about the types a job names: a record's fields, an
    enum's constants and the Java class each is generated as."""

    def __init__(
        self,
        records: Mapping[str, Sequence[Tuple[str, Type]]],
        enums: Mapping[str, Sequence[str]],
        packages: Mapping[str, str],
    ) -> None:
        self.records = records
        self.enums = enums
        self.packages = packages

    def class_name(self, name: str) -> str:
        package = self.packages.get(name, "")
        simple = flink_java.type_name(name, package)
        return f"{package}.{simple}" if package else simple


def _type(t: Type, types: Types, seen: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """The Flink type of values of DSL type `t` (what Types.POJO / Types.ENUM / the scalar
    TypeInformation of flink/java.py make of it). `dsl` is for messages only."""
    out: Dict[str, Any] = {"dsl": t.display()}
    if t.kind in _SERIALIZERS:
        out["serializer"] = _SERIALIZERS[t.kind]
    elif t.kind == "record":
        name = t.name or ""
        out["pojo"] = types.class_name(name)
        if name in seen:  # a recursive schema: its fields are described where it starts
            out["recursive"] = True
            return out
        fields = types.records.get(name, ())
        out["fields"] = sorted(
            ({"name": identifier(n), "type": _type(ft, types, (*seen, name))} for n, ft in fields),
            key=lambda f: f["name"],
        )
    elif t.kind == "enum":
        out["enum"] = types.class_name(t.name or "")
        out["constants"] = [enum_constant(m) for m in types.enums.get(t.name or "", ())]
    elif t.kind == "list" and t.args:
        out["list"] = _type(t.args[0], types, seen)
    elif t.kind == "map" and len(t.args) == 2:
        out["map"] = [_type(t.args[0], types, seen), _type(t.args[1], types, seen)]
    else:
        out["serializer"] = t.kind
    return out


def _scalar(serializer: str, dsl: str) -> Dict[str, Any]:
    return {"serializer": serializer, "dsl": dsl}


def _pojo(cls: str, fields: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    return {
        "pojo": cls,
        "dsl": cls.rsplit("$", 1)[-1],
        "fields": sorted(fields, key=lambda f: f["name"]),
    }


def _field(name: str, t: Dict[str, Any], meaning: Optional[str] = None) -> Dict[str, Any]:
    out: Dict[str, Any] = {"name": name, "type": t}
    if meaning is not None:
        out["meaning"] = meaning
    return out


_STRING_KEY = _scalar("STRING", "string")


def _origin(o: Optional[model.Origin]) -> Dict[str, Any]:
    if o is None:
        return {"file": "", "line": 0, "text": ""}
    return {"file": o.file, "line": o.line, "text": o.text}


def _state(
    name: str,
    dsl: str,
    kind: str,
    scope: str,
    value: Dict[str, Any],
    origin: Optional[model.Origin],
    ttl_ms: Optional[int] = None,
    internal: bool = False,
    **extra: Any,
) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "name": name,
        "dsl": dsl,
        "kind": kind,
        "scope": scope,
        "type": value,
        "ttl_ms": ttl_ms,
        "internal": internal,
        "origin": _origin(origin),
    }
    out.update(extra)
    return out


def _operator(
    uid: str, what: str, origin: Optional[model.Origin], key: Optional[model.Key],
    states: List[Dict[str, Any]],
) -> Dict[str, Any]:  # fmt: skip
    return {
        "uid": uid,
        "operator": what,
        "origin": _origin(origin),
        "key": None if key is None else {"text": key.text, "type": _STRING_KEY},
        "states": states,
    }


def _dsl_of_uid(job: model.Job, uid: str) -> str:
    """The DSL name of an operator's own state: its uid without the proc's name
    (`dedup.card_id`, `window.tumbling.card_id.Summary`)."""
    prefix = job.name + "."
    return uid[len(prefix) :] if uid.startswith(prefix) else uid


def _rolling_runs(steps: Sequence[Any]) -> List[List[model.RollingStep]]:
    # The grouping segment.j2 uses (flink/adapter.py): consecutive rolling statements share
    # one state.
    runs: List[List[model.RollingStep]] = []
    previous = False
    for step in steps:
        if isinstance(step, model.RollingStep):
            if previous:
                runs[-1].append(step)
            else:
                runs.append([step])
        previous = isinstance(step, model.RollingStep)
    return runs


def _meaning(a: model.Aggregation) -> str:
    arg = "" if a.arg_type is None else a.arg_type.display()
    return f"{a.fn}({arg})"


def _segment(
    job: model.Job, cls: str, classes: StateClasses, op: model.Segment, types: Types
) -> Dict[str, Any]:
    states: List[Dict[str, Any]] = []
    for st in op.states:
        states.append(
            _state(st.name, st.name, "value", "key", _type(st.type, types), st.origin, st.ttl_ms)
        )
    runs = _rolling_runs(op.steps)
    for run in runs:
        fields = [_field("time", _scalar("LONG_PRIMITIVE_ARRAY", "long[]")),
                  _field("size", _scalar("INT", "int"))]  # fmt: skip
        for step in run:
            for a in step.values:
                if a.arg is None or a.arg_type is None:
                    continue  # count() keeps no values: the times are its entries
                value = {"array": _type(a.arg_type, types), "dsl": f"{a.arg_type.display()}[]"}
                fields.append(_field(f"v_{a.slot}", value, _meaning(a)))
        states.append(
            _state(
                run[0].state,
                run[0].state,
                "value",
                "key",
                _pojo(f"{cls}${classes.rolling(op, run[0].state)}", fields),
                run[0].origin,
                within_ms=[s.within_ms for s in run],
            )
        )
    if op.states or runs:
        origin = op.states[0].origin if op.states else runs[0][0].origin
        states.append(
            _state(
                RUNTIME_EXPIRES,
                RUNTIME_EXPIRES,
                "value",
                "key",
                _scalar("LONG", "long"),
                origin,
                internal=True,
            )  # fmt: skip
        )
        states.append(_counts(origin))
    return _operator(op.uid, "keyed state" if op.key else "steps", op.origin, op.key, states)


def _counts(origin: Optional[model.Origin]) -> Dict[str, Any]:
    value = {"tuple": [_scalar("INT", "int"), _scalar("LONG", "long")], "dsl": "(int, long)"}
    return _state(RUNTIME_COUNTS, RUNTIME_COUNTS, "union list", "operator", value, origin,
                  internal=True)  # fmt: skip


def _dedup(job: model.Job, op: model.Dedup) -> Dict[str, Any]:
    dsl = _dsl_of_uid(job, op.uid)
    states = [
        _state("kept", dsl, "value", "key", _scalar("LONG", "long"), op.origin),
        _counts(op.origin),
    ]
    return _operator(op.uid, "deduplicate", op.origin, op.key, states)


def _correlate(
    job: model.Job, cls: str, classes: StateClasses, op: model.Correlate, types: Types
) -> Dict[str, Any]:
    dsl = _dsl_of_uid(job, op.uid)
    long_ = _scalar("LONG", "long")
    states: List[Dict[str, Any]]
    if op.partner is None:
        states = [
            _state("waiting", dsl, "value", "key", _type(op.record, types), op.origin),
            _state("waiting_since", dsl, "value", "key", long_, op.origin),
            _state("deadline", dsl, "value", "key", long_, op.origin),
            _state("waiting_arrived", dsl, "value", "key", long_, op.origin),
        ]
    else:

        def entry(simple: str, record: Type) -> Dict[str, Any]:
            fields = [_field("record", _type(record, types)),
                      _field("time", _scalar("LONG", "long")),
                      _field("arrived", _scalar("LONG", "long"))]  # fmt: skip
            return _pojo(f"{cls}${simple}", fields)

        waiting = entry(classes.waiting(op), op.record)
        partners = entry(classes.partner_waiting(op), op.partner.record)
        states = [
            _state("waiting_records", dsl, "list", "key", waiting, op.origin),
            _state("waiting_partners", dsl, "list", "key", partners, op.origin),
        ]
    states.append(_counts(op.origin))
    return _operator(op.uid, "correlate", op.origin, op.key, states)


def _accumulator(cls: str, classes: StateClasses, op: model.Window, types: Types) -> Dict[str, Any]:
    """The window's accumulator and its fields, as window.j2 / aggregations.j2 declare them
    (flink/windows.py's accumulator_fields: named after the output field an aggregation
    computes; `meaning` says which aggregation a field holds)."""
    string, long_ = _scalar("STRING", "string"), _scalar("LONG", "long")
    fields = [
        _field("rejected", {"list": string, "dsl": "list<string>"}),
        _field("rejectedMore", long_),
        _field("failed", string),
    ]
    for f in accumulator_fields(op):
        a = f.aggregation
        meaning = _meaning(a)
        arg = _type(a.arg_type, types) if a.arg_type is not None else None
        if f.n:
            fields.append(_field(f.n, long_, meaning))
        if f.s and arg is not None:
            fields.append(_field(f.s, arg, meaning))
        if f.v and arg is not None:
            fields.append(_field(f.v, arg, meaning))
        if f.t:
            fields.append(_field(f.t, long_, meaning))
        if f.d:
            value = {"map": [string, _scalar("BOOLEAN", "boolean")], "dsl": "map<string, boolean>"}
            fields.append(_field(f.d, value, meaning))
    return _pojo(f"{cls}${classes.accumulator(op)}", fields)


def _window(
    job: model.Job, cls: str, classes: StateClasses, op: model.Window, types: Types
) -> Dict[str, Any]:
    dsl = _dsl_of_uid(job, op.uid)
    extent = {
        "kind": op.kind,
        "size_ms": op.size_ms,
        "slide_ms": op.slide_ms,
        "lateness_ms": op.lateness_ms,
        "event_time": op.event_time is not None,
    }
    merging = window_java(op).merging
    states = [
        _state(
            WINDOW_CONTENTS,
            dsl,
            "aggregating",
            "window",
            _accumulator(cls, classes, op, types),
            op.origin,
            window=extent,
        ),  # fmt: skip
        _state(
            RUNTIME_COUNTED,
            RUNTIME_COUNTED,
            "value",
            "window",
            _scalar("INT", "int"),
            op.origin,
            internal=True,
        ),  # fmt: skip
        _counts(op.origin),
    ]
    if merging:
        pair = {"tuple": [_scalar("TIME_WINDOW", "window")] * 2, "dsl": "(window, window)"}
        states.append(_state(MERGING_WINDOWS, dsl, "list", "key", pair, op.origin, window=extent))
    else:
        states.append(
            _state(
                "dead_letters_sent",
                dsl,
                "value",
                "window",
                _scalar("INT", "int"),
                op.origin,
                internal=True,
            )  # fmt: skip
        )
    return _operator(op.uid, "window", op.origin, op.key, states)


def _join(job: model.Job, op: model.Join, types: Types) -> Dict[str, Any]:
    dsl = _dsl_of_uid(job, op.uid)
    record, partner = _type(op.record, types), _type(op.partner, types)
    if op.within_ms is not None:
        # IntervalJoinOperator: per side, the records by timestamp.
        def buffer(value: Dict[str, Any]) -> Dict[str, Any]:
            return {"map": [_scalar("LONG", "long"), {"list": value, "dsl": "list"}], "dsl": "map"}

        states = [
            _state(
                "LEFT_BUFFER", dsl, "map", "key", buffer(record), op.origin, within_ms=op.within_ms
            ),  # fmt: skip
            _state(
                "RIGHT_BUFFER",
                dsl,
                "map",
                "key",
                buffer(partner),
                op.origin,
                within_ms=op.within_ms,
            ),  # fmt: skip
        ]
    else:
        union = {"union": [record, partner], "dsl": "record | partner"}
        extent = {"kind": "tumbling", "size_ms": op.window_ms, "slide_ms": None,
                  "lateness_ms": 0, "event_time": True}  # fmt: skip
        states = [_state(WINDOW_CONTENTS, dsl, "list", "window", union, op.origin, window=extent)]
    return _operator(op.uid, "join", op.origin, op.left, states)


def _in_flight(job: model.Job, uid: str, what: str, origin: Optional[model.Origin],
               record: Dict[str, Any]) -> Dict[str, Any]:  # fmt: skip
    state = _state(ASYNC_IN_FLIGHT, _dsl_of_uid(job, uid), "operator list", "operator",
                   record, origin)  # fmt: skip
    return _operator(uid, what, origin, None, [state])


def describe_job(job: model.Job, types: Types) -> Dict[str, Any]:
    """The state of `job` a savepoint holds, operator by operator (see the module doc)."""
    cls = f"{job.package}.{flink_java.type_name(job.name, job.package)}Job"
    classes = StateClasses(job)
    operators: List[Dict[str, Any]] = []
    splits = {"serializer": "SOURCE_SPLITS", "dsl": "reader positions"}

    def source(stream: str, origin: Optional[model.Origin]) -> None:
        uid = f"{job.name}.source.{stream}"
        if any(o["uid"] == uid for o in operators):
            return
        state = _state("splits", f"source.{stream}", "source", "operator", splits, origin)
        operators.append(_operator(uid, "source", origin, None, [state]))

    source(job.source.stream, job.source.origin)
    for op in job.operators:
        if isinstance(op, model.Segment):
            operators.append(_segment(job, cls, classes, op, types))
        elif isinstance(op, model.Dedup):
            operators.append(_dedup(job, op))
        elif isinstance(op, model.Correlate):
            if op.partner is not None:
                source(op.partner.stream, op.origin)
            operators.append(_correlate(job, cls, classes, op, types))
        elif isinstance(op, model.Window):
            operators.append(_window(job, cls, classes, op, types))
        elif isinstance(op, model.Join):
            if op.stream != job.source.stream:
                source(op.stream, op.origin)
            operators.append(_join(job, op, types))
        elif isinstance(op, model.Lookup):
            operators.append(_in_flight(job, op.uid, "lookup", op.origin, _type(op.record, types)))
    for out in job.outputs:
        if out.persist is not None:
            value = _type(out.record, types)
            operators.append(_in_flight(job, out.persist.uid, "persist", out.persist.origin, value))
        states = []
        if out.delivery == "exactly_once":
            pending = {"serializer": "KAFKA_TRANSACTIONS", "dsl": "pending transactions"}
            states.append(
                _state(
                    "transactions", f"sink.{out.stream}", "sink", "operator", pending, out.origin
                )  # fmt: skip
            )
        operators.append(_operator(f"{job.name}.sink.{out.stream}", "sink", out.origin, None,
                                   states))  # fmt: skip
    max_parallelism = None
    if job.environment is not None and job.environment.execution.max_parallelism is not None:
        max_parallelism = job.environment.execution.max_parallelism.value
    elif job.execution.max_parallelism is not None:
        max_parallelism = job.execution.max_parallelism.value
    return {
        "format": FORMAT,
        "job": job.name,
        "class": cls,
        "origin": _origin(job.origin),
        "environment": job.environment.name if job.environment is not None else None,
        "max_parallelism": max_parallelism,
        "operators": sorted(operators, key=lambda o: o["uid"]),
    }


def encode(description: Mapping[str, Any]) -> bytes:
    """`<JobName>.state.json`: sorted keys, two-space indent, a final newline (byte-identical
    for the same sources)."""
    return (json.dumps(description, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode(
        "utf-8"
    )


def decode(data: bytes) -> Dict[str, Any]:
    value = json.loads(data.decode("utf-8"))
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise ValueError("not a Nexflow state description of this format")
    return value


def types_of(project: Any, packages: Mapping[str, str]) -> Types:
    """The Types of a checked project (its local and upstream schemas and enums); `packages`
    maps each declared name to its generated package."""
    symbols = project.symbols
    records: Dict[str, List[Tuple[str, Type]]] = {}
    enums: Dict[str, List[str]] = {}
    for name, entry in symbols.types.items():
        if entry.what == "schema":
            records[name] = [(f.name, symbols.resolve(f.type)) for f in entry.sig.fields]
        elif entry.what == "enum":
            enums[name] = list(entry.sig.members)
    return Types(records, enums, packages)


def describe_checked(
    project: Any,
    unit_packages: Mapping[str, str],
    environment: Optional[str] = None,
    upstream: Sequence[Any] = (),
) -> Dict[str, Dict[str, Any]]:
    """Job name -> description, for the local procs of a checked project (`unit_packages`:
    each unit path -> its Java package), bound to `environment` as the build binds them."""
    jobs = job_models(project, unit_packages, environment, upstream)
    return {job.name: describe_job(job, project_types(project, unit_packages)) for job in jobs}


def project_types(project: Any, unit_packages: Mapping[str, str]) -> Types:
    packages = {
        name: unit_packages[entry.path]
        for name, entry in project.symbols.types.items()
        if entry.path in unit_packages
    }
    return types_of(project, packages)


def describe_jobs(jobs: Sequence[model.Job], types: Types) -> Dict[str, bytes]:
    """`<JobName>.state.json` of each job: file name -> bytes."""
    return {f"{job.name}.state.json": encode(describe_job(job, types)) for job in jobs}


# --- the comparison -----------------------------------------------------------------------------

SAME, EVOLVES, INCOMPATIBLE, RESET, ADDED, REMOVED = (
    "same", "evolves", "incompatible", "reset", "added", "removed",
)  # fmt: skip
_RANK = {SAME: 0, EVOLVES: 1, INCOMPATIBLE: 2}


@dataclass
class TypeVerdict:
    change: str = SAME
    details: List[str] = field(default_factory=list)
    code: Optional[str] = None

    def worse(self, change: str, detail: str, code: Optional[str] = None) -> None:
        self.details.append(detail)
        if _RANK[change] > _RANK[self.change]:
            self.change = change
            self.code = code
        elif _RANK[change] == _RANK[self.change] and self.code is None:
            self.code = code


def _short(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


def compare_types(
    old: Mapping[str, Any], new: Mapping[str, Any], where: str, out: TypeVerdict
) -> None:
    """Can values of Flink type `old`, read from a savepoint, restore as `new`? (Flink 2's
    serializer snapshots: PojoSerializerSnapshot, EnumSerializer's, the composite ones.)"""
    shape_old = _shape(old)
    shape_new = _shape(new)
    label = f"{where}: " if where else ""
    if shape_old != shape_new:
        out.worse(INCOMPATIBLE, f"{label}{old.get('dsl')} became {new.get('dsl')}", "NX605")
        return
    if shape_old == "serializer":
        if old["serializer"] != new["serializer"]:
            out.worse(INCOMPATIBLE, f"{label}{old.get('dsl')} became {new.get('dsl')}", "NX605")
        return
    if shape_old == "pojo":
        if old["pojo"] != new["pojo"]:
            out.worse(
                INCOMPATIBLE,
                f"{label}class {_short(old['pojo'])} became {_short(new['pojo'])} "
                "(Flink's PojoSerializer restores only into the same class)",
                "NX606",
            )
            return
        if old.get("recursive") or new.get("recursive"):
            return
        before = {f["name"]: f for f in old.get("fields", [])}
        after = {f["name"]: f for f in new.get("fields", [])}
        name = _short(new["pojo"])
        for gone in sorted(set(before) - set(after)):
            out.worse(EVOLVES, f"{label}field {name}.{gone} removed (its values are dropped)",
                      "NX610")  # fmt: skip
        for added in sorted(set(after) - set(before)):
            out.worse(EVOLVES, f"{label}field {name}.{added} added (null in restored values)",
                      "NX610")  # fmt: skip
        for kept in sorted(set(before) & set(after)):
            fo, fn = before[kept], after[kept]
            path = f"{where}.{kept}" if where else f"{name}.{kept}"
            compare_types(fo["type"], fn["type"], path, out)
            if fo.get("meaning") != fn.get("meaning"):
                # Same field, same serializer, another aggregation (a window's output field
                # computed by another function): Flink restores it, and the windows open at
                # the savepoint combine the old values with the new aggregation.
                out.worse(
                    EVOLVES,
                    f"{label}{name}.{kept} held {fo.get('meaning')} and now holds "
                    f"{fn.get('meaning')}: the windows open at the savepoint report a mix of both",
                    "NX614",
                )
        return
    if shape_old == "enum":
        if old["enum"] != new["enum"]:
            out.worse(INCOMPATIBLE, f"{label}enum {_short(old['enum'])} became "
                      f"{_short(new['enum'])}", "NX606")  # fmt: skip
            return
        gone = [c for c in old["constants"] if c not in new["constants"]]
        added = [c for c in new["constants"] if c not in old["constants"]]
        if gone:
            out.worse(INCOMPATIBLE, f"{label}constant(s) {', '.join(gone)} of "
                      f"{_short(new['enum'])} removed (Flink's EnumSerializer cannot read them)",
                      "NX607")  # fmt: skip
        if added:
            out.worse(EVOLVES, f"{label}constant(s) {', '.join(added)} added to "
                      f"{_short(new['enum'])}", "NX610")  # fmt: skip
        return
    for part in ("list", "array"):
        if shape_old == part:
            compare_types(old[part], new[part], where, out)
            return
    for part in ("map", "tuple", "union"):
        if shape_old == part:
            if len(old[part]) != len(new[part]):
                out.worse(INCOMPATIBLE, f"{label}{old.get('dsl')} became {new.get('dsl')}",
                          "NX605")  # fmt: skip
                return
            for a, b in zip(old[part], new[part]):
                compare_types(a, b, where, out)
            return


def _shape(t: Mapping[str, Any]) -> str:
    for shape in ("pojo", "enum", "list", "array", "map", "tuple", "union", "serializer"):
        if shape in t:
            return shape
    return "unknown"


def _duration(ms: Optional[int]) -> str:
    if ms is None:
        return "none"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms % size == 0 and ms >= size:
            return f"{ms // size} {unit}"
    return f"{ms} ms"


@dataclass
class StateResult:
    name: str
    dsl: str
    change: str
    detail: str
    internal: bool = False
    code: Optional[str] = None
    origin: Optional[Mapping[str, Any]] = None

    @property
    def lost(self) -> bool:
        """Its values do not reach the new job (and the user wrote it: not bookkeeping)."""
        return self.change in (RESET, REMOVED) and not self.internal


@dataclass
class OperatorResult:
    uid: str
    change: str
    states: List[StateResult]
    origin: Optional[Mapping[str, Any]] = None


@dataclass
class JobResult:
    job: str
    operators: List[OperatorResult]
    origin: Mapping[str, Any]
    gone: bool = False  # the job is not built any more

    @property
    def incompatible(self) -> bool:
        return any(s.change == INCOMPATIBLE for o in self.operators for s in o.states)

    @property
    def losses(self) -> List[str]:
        names: List[str] = []
        for o in self.operators:
            for s in o.states:
                if s.lost and s.dsl not in names:
                    names.append(s.dsl)
        return names

    @property
    def verdict(self) -> str:
        if self.incompatible:
            return "incompatible"
        if self.losses:
            return "compatible, loses " + ", ".join(self.losses)
        return "compatible"


def _compare_state(old: Mapping[str, Any], new: Mapping[str, Any]) -> StateResult:
    v = TypeVerdict()
    if old["kind"] != new["kind"] or old["scope"] != new["scope"]:
        v.worse(INCOMPATIBLE, f"a {old['kind']} state became a {new['kind']} state", "NX605")
    else:
        compare_types(old["type"], new["type"], "", v)
    ttl_old, ttl_new = old.get("ttl_ms"), new.get("ttl_ms")
    if ttl_old != ttl_new:
        if ttl_old is None or ttl_new is None:
            # Flink 2 migrates TTL state to state without TTL and back when it reads it
            # (tests/pipelines/test_state_upgrades.py restores the former).
            v.worse(EVOLVES, f"TTL {_duration(ttl_old)} → {_duration(ttl_new)} (Flink "
                    "migrates the values on restore)", "NX613")  # fmt: skip
        else:
            # The TTL is configuration, not part of the stored values: the new one applies to
            # the restored values too.
            v.details.append(
                f"TTL {_duration(ttl_old)} → {_duration(ttl_new)} (applies to restored values "
                "too)"
            )
            v.code = v.code or "NX613"
    w_old, w_new = old.get("window"), new.get("window")
    if w_old and w_new and w_old != w_new:
        # Window state lives under each window (its start and end): windows open at the
        # savepoint keep their old extent and fire at their old end; records after the restore
        # go to windows of the new extent. The window around the upgrade is reported in two
        # parts (old extent: records before; new extent: records after).
        parts = [
            f"{k} {_duration(w_old.get(k)) if k.endswith('_ms') else w_old.get(k)} → "
            f"{_duration(w_new.get(k)) if k.endswith('_ms') else w_new.get(k)}"
            for k in ("kind", "size_ms", "slide_ms", "lateness_ms")
            if w_old.get(k) != w_new.get(k)
        ]
        v.worse(EVOLVES, "window " + ", ".join(parts) + ": windows open at the savepoint "
                "finish with their old extent; the window around the upgrade is reported in "
                "two parts", "NX611")  # fmt: skip
    within_old, within_new = old.get("within_ms"), new.get("within_ms")
    if within_old != within_new and within_old is not None and within_new is not None:
        v.details.append(
            f"duration {within_old} ms → {within_new} ms (applies from the restore on)"
        )
    detail = "; ".join(v.details) if v.details else "restored as it is"
    return StateResult(
        new["name"], new["dsl"], v.change, detail, bool(new.get("internal")), v.code,
        new.get("origin"),
    )  # fmt: skip


def _same_type(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if a["kind"] != b["kind"]:
        return False
    v = TypeVerdict()
    compare_types(a["type"], b["type"], "", v)
    return v.change != INCOMPATIBLE


def _compare_operator(old: Mapping[str, Any], new: Mapping[str, Any]) -> OperatorResult:
    results: List[StateResult] = []
    key_old, key_new = old.get("key"), new.get("key")
    if key_old and key_new:
        kv = TypeVerdict()
        compare_types(key_old["type"], key_new["type"], "key", kv)
        if kv.change == INCOMPATIBLE:
            detail = "; ".join(kv.details)
            key = StateResult("(key)", _first_dsl(new), INCOMPATIBLE, detail, False, "NX605")
            key.origin = new["origin"]
            results.append(key)
    before = {s["name"]: s for s in old["states"]}
    after = {s["name"]: s for s in new["states"]}
    gone = [before[n] for n in sorted(set(before) - set(after))]
    added = [after[n] for n in sorted(set(after) - set(before))]
    # A state renamed: one gone and one added of the same kind and a type it could have had.
    renamed: Dict[str, Mapping[str, Any]] = {}
    for g in gone:
        if g.get("internal"):
            continue
        fits = [a for a in added if not a.get("internal") and a["name"] not in renamed
                and _same_type(g, a)]  # fmt: skip
        if len(fits) == 1 and sum(1 for x in gone if _same_type(x, fits[0])) == 1:
            renamed[fits[0]["name"]] = g
    for name in sorted(after):
        s = after[name]
        if name in before:
            results.append(_compare_state(before[name], s))
        elif name in renamed:
            was = renamed[name]
            detail = (
                f"renamed from '{was['dsl']}': starts empty; the values of '{was['dsl']}' "
                "are not read any more"
            )
            internal = bool(s.get("internal"))
            results.append(
                StateResult(name, s["dsl"], RESET, detail, internal, "NX603", s.get("origin"))
            )
        else:
            results.append(StateResult(name, s["dsl"], ADDED, "new: starts empty",
                                       bool(s.get("internal")), None, s.get("origin")))  # fmt: skip
    renamed_from = {g["name"] for g in renamed.values()}
    for g in gone:
        if g["name"] in renamed_from:
            continue
        results.append(StateResult(g["name"], g["dsl"], REMOVED,
            "no longer read: its values stay in the savepoint unused", bool(g.get("internal")),
            None if g.get("internal") else "NX604", new["origin"]))  # fmt: skip
    return OperatorResult(new["uid"], "kept", results, new["origin"])


def _first_dsl(op: Mapping[str, Any]) -> str:
    for s in op["states"]:
        if not s.get("internal"):
            return str(s["dsl"])
    return str(op["uid"])


def _has_state(op: Mapping[str, Any]) -> bool:
    return bool(op["states"])


def compare_job(
    old: Optional[Mapping[str, Any]],
    new: Optional[Mapping[str, Any]],
    allow_non_restored_state: bool = False,
) -> JobResult:
    """What restoring a savepoint of `old` into `new` does (either may be None: a job that is
    new, or one that is not built any more)."""
    if new is None:
        assert old is not None
        return JobResult(old["job"], [], old["origin"], gone=True)
    ops_old = {o["uid"]: o for o in (old or {"operators": []})["operators"]}
    ops_new = {o["uid"]: o for o in new["operators"]}
    results: List[OperatorResult] = []
    removed = [ops_old[u] for u in sorted(set(ops_old) - set(ops_new))]
    added = [ops_new[u] for u in sorted(set(ops_new) - set(ops_old))]
    # An operator whose uid changed: one removed and one added of the same kind (its key or
    # first state's name changed); said in the details.
    successor: Dict[str, Mapping[str, Any]] = {}
    for r in removed:
        same_kind = [a for a in added if a["operator"] == r["operator"]]
        if len(same_kind) == 1 and sum(1 for x in removed if x["operator"] == r["operator"]) == 1:
            successor[r["uid"]] = same_kind[0]
    for uid in sorted(ops_new):
        if uid in ops_old:
            results.append(_compare_operator(ops_old[uid], ops_new[uid]))
        else:
            op = ops_new[uid]
            states = [StateResult(s["name"], s["dsl"], ADDED, "new operator: starts empty",
                                  bool(s.get("internal")), None, s.get("origin"))
                      for s in op["states"]]  # fmt: skip
            results.append(OperatorResult(uid, "added", states, op["origin"]))
    for op in removed:
        after = successor.get(op["uid"])
        moved = f" (its uid is now {after['uid']})" if after is not None else ""
        states = []
        for s in op["states"]:
            if allow_non_restored_state:
                change = RESET if after is not None else REMOVED
                detail = (f"the job starts with --allowNonRestoredState: this operator's state "
                          f"is dropped{moved}")  # fmt: skip
                code = None if s.get("internal") else ("NX603" if after is not None else "NX602")
            else:
                change = INCOMPATIBLE
                detail = (f"Flink refuses the savepoint: it holds state of operator {op['uid']}, "
                          f"which the new job does not have{moved}; restore with "
                          "--allowNonRestoredState to drop it")  # fmt: skip
                code = "NX601"
            origin = after["origin"] if after is not None else new["origin"]
            states.append(StateResult(s["name"], s["dsl"], change, detail,
                                      bool(s.get("internal")), code, origin))  # fmt: skip
        results.append(OperatorResult(op["uid"], "removed", states, new["origin"]))
    mp_old = old.get("max_parallelism") if old else None
    mp_new = new.get("max_parallelism")
    if old is not None and mp_old is not None and mp_new is not None and mp_old != mp_new:
        kept = [r for r in results if r.change == "kept" and any(ops_new[r.uid]["states"]
                for _ in [0])]  # fmt: skip
        if kept:
            kept[0].states.append(StateResult(
                "max_parallelism", "max_parallelism", INCOMPATIBLE,
                f"max parallelism {mp_old} → {mp_new}: keyed state is split into that many key "
                "groups, fixed for the life of the state; Flink refuses the savepoint",
                False, "NX612", new["origin"]))  # fmt: skip
    results.sort(key=lambda r: r.uid)
    return JobResult(new["job"], results, new["origin"])


def compare_jobs(
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    allow_non_restored_state: bool = False,
) -> List[JobResult]:
    """Job name -> description of the baseline and of the current build."""
    return [
        compare_job(old.get(name), new.get(name), allow_non_restored_state)
        for name in sorted(set(old) | set(new))
    ]


# --- diagnostics --------------------------------------------------------------------------------

_SEVERITY = {
    "NX601": "error", "NX602": "warning", "NX603": "warning", "NX604": "warning",
    "NX605": "error", "NX606": "error", "NX607": "error",
    "NX610": "warning", "NX611": "warning", "NX612": "error", "NX613": "warning",
    "NX614": "warning",
}  # fmt: skip


def _span(origin: Optional[Mapping[str, Any]]) -> Span:
    file = str((origin or {}).get("file") or "")
    line = int((origin or {}).get("line") or 1)
    return Span(file, max(line, 1), 1, max(line, 1), 1)


def diagnostics(results: Sequence[JobResult]) -> List[Diagnostic]:
    """One diagnostic per finding, at the DSL statement that owns the state now."""
    out: List[Diagnostic] = []
    said: set = set()
    for job in results:
        for op in job.operators:
            for s in op.states:
                if s.code is None or s.internal:
                    continue
                # One finding per state the user named (a correlation keeps four).
                if (job.job, op.uid, s.dsl, s.code) in said:
                    continue
                said.add((job.job, op.uid, s.dsl, s.code))
                severity = _SEVERITY[s.code]
                if s.change == SAME and s.code == "NX613":
                    severity = "warning"
                message = f"{job.job}: state '{s.dsl}'"
                message += f" of operator {op.uid}: {s.change}: {s.detail}"
                out.append(Diagnostic(s.code, severity, message, _span(s.origin or op.origin)))
    return out
