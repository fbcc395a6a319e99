"""From a Module to its (preliminary) UnitInterface: the names and declared types it offers.
Purely syntactic: types naming schemas/enums stay kind "ref" until the symbol table resolves
them. The rules checker later fills in implicitly bound ruleset/table inputs."""

from __future__ import annotations

from nexflow_core import ast
from nexflow_core.interface.model import (
    FORMAT_VERSION,
    EnumSig,
    EnvironmentSig,
    FieldSig,
    ParamSig,
    ProcSig,
    RulesetSig,
    SchemaSig,
    StoreSig,
    StreamSig,
    TableSig,
    TransformLookupSig,
    TransformSig,
    UnitInterface,
)
from nexflow_core.typemodel import SCALARS, Type, decimal, scalar


def type_of_ref(t: ast.TypeRef) -> Type:
    """The Type a TypeRef denotes, without resolving names (errors are reported by the
    checker; here a malformed type degrades to `any`)."""
    name = t.name
    nullable = t.optional
    if name == "decimal":
        if len(t.params) == 2:
            out = decimal(t.params[0], t.params[1])
        elif len(t.params) == 1:
            out = decimal(t.params[0], 0)
        else:
            out = Type("any")
    elif name in SCALARS:
        out = scalar(name)
    elif name == "list" and len(t.args) == 1:
        out = Type("list", args=(type_of_ref(t.args[0]),))
    elif name == "map" and len(t.args) == 2:
        out = Type("map", args=(type_of_ref(t.args[0]), type_of_ref(t.args[1])))
    elif name in ("list", "map"):
        out = Type("any")
    else:
        out = Type("ref", name=name)
    if nullable:
        out = Type(out.kind, out.name, out.precision, out.scale, out.args, out.fields, True)
    return out


def _literal_strings(a: ast.Annotation) -> list[str]:
    out = []
    for x in a.args:
        if isinstance(x, ast.StringLit):
            out.append(x.value)
        elif isinstance(x, ast.ListLit):
            out.extend(i.value for i in x.items if isinstance(i, ast.StringLit))
    return out


def field_sig(f: ast.Field) -> FieldSig:
    enum = f.annotation("enum")
    return FieldSig(
        name=f.name,
        type=type_of_ref(f.type),
        key=f.annotation("key") is not None,
        event_time=f.annotation("event_time") is not None,
        sensitive=f.annotation("sensitive") is not None or f.annotation("pii") is not None,
        has_default=f.default is not None,
        allowed=_literal_strings(enum) if enum is not None else [],
    )


def table_result(d: ast.DecisionTableDecl) -> Type:
    outs = [ParamSig(o.name, type_of_ref(o.type)) for o in d.outputs]
    from nexflow_core.typemodel import FieldType

    struct = Type("struct", name=d.name, fields=tuple(FieldType(o.name, o.type) for o in outs))
    if d.hit_policy == "collect":
        if d.aggregation == "count":
            return Type("long")
        if d.aggregation is not None:
            t = outs[0].type if outs else Type("any")
            return Type(t.kind, t.name, t.precision, t.scale, t.args, t.fields, True)
        return Type("list", args=(struct,))
    # A row of `-` only matches every input, null ones too: with it some row always matches,
    # so the result is never null (the other rows may still decide it first).
    always = any(r.cells and all(c.kind == "any" for c in r.cells) for r in d.rows)
    return Type(struct.kind, struct.name, None, None, (), struct.fields, not always)


def lookup_key_path(d: ast.TransformDecl, key: object) -> list[str] | None:
    """`input[.field…]` of a transform lookup's key, or None when the key is anything else
    (NX412: the proc evaluates the key before the transform runs, from the call's argument)."""
    if not isinstance(key, ast.Path) or key.parts[0] not in {p.name for p in d.inputs}:
        return None
    return list(key.parts)


def transform_lookups(d: ast.TransformDecl) -> list[TransformLookupSig]:
    out = []
    for lk in d.lookups:
        parts = lookup_key_path(d, lk.key)
        if parts is not None:
            out.append(TransformLookupSig(lk.alias, lk.store, parts[0], parts[1:]))
    return out


def called_transforms(p: ast.ProcDecl) -> list[str]:
    """Names a proc calls like functions or applies with `transform using`, sorted and unique
    (which of them are transforms is for the symbol table to say)."""
    return sorted({r.name for r in ast.references(p) if r.kind in ("function", "transform")})


def proc_streams(p: ast.ProcDecl) -> tuple[list[str], list[str], list[str]]:
    """(sources, sinks, stores) a proc uses, sorted and unique: the streams it reads and writes
    and the stores it looks up or persists to, as the statements' `refs` declare them."""
    sources: set[str] = set()
    sinks: set[str] = set()
    stores: set[str] = set()
    for r in ast.references(p.statements):
        if r.kind == "stream":
            (sources if r.role == "read" else sinks).add(r.name)
        elif r.kind == "store":
            stores.add(r.name)
    return sorted(sources), sorted(sinks), sorted(stores)


def _mode(d: ast.StreamDecl | ast.StoreDecl) -> str:
    """The declared compatibility mode, as written (the checker refuses an unknown one)."""
    return d.compatibility.mode if d.compatibility is not None else "backward"


def _env_names(e: ast.EnvironmentDecl, section: str) -> list[str]:
    out: list[str] = []
    for entry in e.entries:
        if isinstance(entry, ast.Block) and entry.name == section:
            out.extend(x.name for x in entry.entries if isinstance(x, ast.Block))
    return sorted(set(out))


def ruleset_sig(r: ast.RulesetDecl, input_sig: ParamSig | None = None) -> RulesetSig:
    routes, actions, sets = set(), set(), set()
    for rule in r.rules:
        for a in rule.actions:
            if isinstance(a, ast.RouteAction):
                routes.add(a.target)
                actions.add("route")
            elif isinstance(a, ast.FlagAction):
                actions.add("flag")
            elif isinstance(a, ast.RejectAction):
                actions.add("reject")
            elif isinstance(a, ast.SetAction):
                actions.add("set")
                sets.add(a.target.dotted)
            elif isinstance(a, ast.AlertAction):
                actions.add("alert")
    if input_sig is None and r.binding is not None:
        input_sig = ParamSig(r.binding.name, Type("ref", name=r.binding.schema))
    return RulesetSig(
        name=r.name,
        mode=r.mode,
        input=input_sig,
        routes=sorted(routes),
        actions=sorted(actions),
        sets=sorted(sets),
    )


def table_sig(d: ast.DecisionTableDecl, input_sig: ParamSig | None = None) -> TableSig:
    if input_sig is None and d.binding is not None:
        input_sig = ParamSig(d.binding.name, Type("ref", name=d.binding.schema))
    return TableSig(
        name=d.name,
        hit_policy=d.hit_policy,
        outputs=[ParamSig(o.name, type_of_ref(o.type)) for o in d.outputs],
        result=table_result(d),
        input=input_sig,
        aggregation=d.aggregation,
    )


def declare(m: ast.Module) -> UnitInterface:
    """The preliminary interface of a module (deterministic: lists sorted by name)."""
    schemas, enums, streams, stores, transforms = [], [], [], [], []
    rulesets, tables, procs, envs = [], [], [], []
    for d in m.decls:
        if isinstance(d, ast.SchemaDecl):
            schemas.append(SchemaSig(d.name, [field_sig(f) for f in d.fields], d.version))
        elif isinstance(d, ast.EnumDecl):
            enums.append(EnumSig(d.name, [x.name for x in d.members]))
        elif isinstance(d, ast.StreamDecl):
            streams.append(StreamSig(d.name, d.schema, _mode(d)))
        elif isinstance(d, ast.StoreDecl):
            stores.append(StoreSig(d.name, d.schema, d.key, _mode(d)))
        elif isinstance(d, ast.TransformDecl):
            out = type_of_ref(d.output) if d.output is not None else Type("any")
            transforms.append(
                TransformSig(
                    d.name,
                    [ParamSig(p.name, type_of_ref(p.type)) for p in d.inputs],
                    out,
                    transform_lookups(d),
                )
            )
        elif isinstance(d, ast.RulesetDecl):
            rulesets.append(ruleset_sig(d))
        elif isinstance(d, ast.DecisionTableDecl):
            tables.append(table_sig(d))
        elif isinstance(d, ast.ProcDecl):
            src, sink, sto = proc_streams(d)
            checkpointed = any(isinstance(s, ast.CheckpointStmt) for s in d.statements)
            deliveries = {
                s.stream: s.delivery
                for s in d.statements
                if isinstance(s, ast.EmitStmt) and s.delivery is not None
            }
            dead_letter = next(
                (
                    s.stream
                    for s in d.statements
                    if isinstance(s, ast.OnStmt) and s.event == "error"
                ),
                None,
            )
            procs.append(ProcSig(d.name, src, sink, sto, checkpointed, deliveries, dead_letter))
        elif isinstance(d, ast.EnvironmentDecl):
            envs.append(
                EnvironmentSig(d.name, _env_names(d, "streams"), _env_names(d, "stores"), d.extends)
            )

    def key(x: object) -> tuple:
        return (getattr(x, "name", ""), getattr(x, "version", None) or 0)

    return UnitInterface(
        format=FORMAT_VERSION,
        path=m.path,
        kind=m.kind,
        schemas=sorted(schemas, key=key),
        enums=sorted(enums, key=key),
        streams=sorted(streams, key=key),
        stores=sorted(stores, key=key),
        transforms=sorted(transforms, key=key),
        rulesets=sorted(rulesets, key=key),
        tables=sorted(tables, key=key),
        procs=sorted(procs, key=key),
        environments=sorted(envs, key=key),
    )
