"""Orchestration of the check stage over a set of parsed modules plus upstream interfaces:
declare -> symbol table -> per-layer checks in order L2, L3, L4, L1, L5 -> bindings."""

from __future__ import annotations

from typing import Optional

import msgspec

from nexflow_core import ast
from nexflow_core.check.context import Ctx
from nexflow_core.check.declare import called_transforms, declare, ruleset_sig, table_sig
from nexflow_core.check.infra_check import (
    ResolvedEnvironment,
    check_bindings,
    check_values,
    resolve_environments,
)
from nexflow_core.check.proc_check import ProcFlow, check_proc_unit
from nexflow_core.check.rules_check import check_rules_unit
from nexflow_core.check.schema_check import check_evolution, check_schema_unit
from nexflow_core.check.symbols import Entry, Symbols
from nexflow_core.check.transform_check import check_transform_unit
from nexflow_core.diagnostics import Diagnostic, Span, file_span, sort_key
from nexflow_core.interface.model import UnitInterface

ORDER = {"schema": 0, "transform": 1, "rules": 2, "proc": 3, "infra": 4}
NS_WORD = {"type": "name", "stream": "stream", "store": "store"}


class CheckResult:
    """Everything the check stage learned. `interfaces` are final (implicit bindings filled)."""

    def __init__(self) -> None:
        self.symbols = Symbols()
        self.diagnostics: list[Diagnostic] = []
        self.interfaces: dict[str, UnitInterface] = {}
        self.procs: dict[str, ProcFlow] = {}
        self.environments: dict[str, ResolvedEnvironment] = {}
        self.expr_types: dict[int, object] = {}


def _decl_spans(modules: list[ast.Module]) -> dict[tuple[str, str], Span]:
    out: dict[tuple[str, str], Span] = {}
    for m in modules:
        for d in m.decls:
            name = getattr(d, "name", None)
            if name is not None:
                out.setdefault((m.path, name), d.span)
    return out


def check_modules(
    modules: list[ast.Module], upstream: Optional[list[UnitInterface]] = None
) -> CheckResult:
    """Check local modules against each other and against upstream interfaces (whose bodies
    are not available and are not re-checked)."""
    res = CheckResult()
    upstream = list(upstream or [])
    modules = sorted(modules, key=lambda m: (ORDER.get(m.kind, 9), m.path))
    local_paths = {m.path for m in modules}
    upstream = [u for u in upstream if u.path not in local_paths]
    prelim = {m.path: declare(m) for m in modules}
    for u in sorted(upstream, key=lambda u: u.path):
        res.symbols.add_unit(u)
    for m in modules:
        res.symbols.add_unit(prelim[m.path])
    spans = _decl_spans(modules)
    for ns, name, old, new in res.symbols.duplicates:
        span = spans.get((new.path, name)) or file_span(new.path)
        rel = spans.get((old.path, name)) or file_span(old.path)
        res.diagnostics.append(
            Diagnostic(
                "NX202",
                "error",
                f"{NS_WORD[ns]} '{name}' is defined twice: here and in {old.path}",
                span,
                expected="each name defined once per project",
                related=rel,
            )
        )
    for m in modules:
        ctx = Ctx(res.symbols, m.path, m.kind, res.diagnostics)
        try:
            _check_one(ctx, m, res, prelim)
        except RecursionError:
            res.diagnostics.append(
                Diagnostic(
                    "NX104",
                    "error",
                    "this file is nested too deeply to check",
                    file_span(m.path),
                    expected="flatter expressions",
                )
            )
        res.expr_types.update(ctx.expr_types)
    # schema evolution
    vspans = {}
    for m in modules:
        for d in m.decls:
            if isinstance(d, ast.SchemaDecl) and d.version is not None:
                vspans[(d.name, d.version)] = d.span
    for name, versions in sorted(res.symbols.schema_versions.items()):
        if len(versions) > 1:
            for path in sorted({v.path for v in versions} & local_paths):
                ctx = Ctx(res.symbols, path, "schema", res.diagnostics)
                check_evolution(ctx, name, vspans)
    _check_infra(modules, upstream, res, prelim)
    for m in modules:
        res.interfaces[m.path] = prelim[m.path]
    res.diagnostics.sort(key=sort_key)
    return res


def _check_one(ctx: Ctx, m: ast.Module, res: CheckResult, prelim: dict) -> None:
    k = m.kind
    if k == "schema":
        check_schema_unit(ctx, m)
    elif k == "transform":
        check_transform_unit(ctx, m)
    elif k == "rules":
        bindings = check_rules_unit(ctx, m)
        rulesets, tables = [], []
        for d in m.decls:
            if isinstance(d, ast.RulesetDecl):
                rulesets.append(ruleset_sig(d, bindings.get(d.name)))
            elif isinstance(d, ast.DecisionTableDecl):
                tables.append(table_sig(d, bindings.get(d.name)))
        u = prelim[m.path]
        u = msgspec.structs.replace(
            u,
            rulesets=sorted(rulesets, key=lambda s: s.name),
            tables=sorted(tables, key=lambda s: s.name),
        )
        prelim[m.path] = u
        for s in rulesets:
            e = ctx.symbols.types.get(s.name)
            if e is not None and e.path == m.path and e.what == "ruleset":
                ctx.symbols.types[s.name] = Entry("ruleset", s, m.path, "rules")
        for t in tables:
            e = ctx.symbols.types.get(t.name)
            if e is not None and e.path == m.path and e.what == "table":
                ctx.symbols.types[t.name] = Entry("table", t, m.path, "rules")
    elif k == "proc":
        res.procs.update(check_proc_unit(ctx, m))
        prelim[m.path] = _with_transform_stores(ctx, m, prelim[m.path])
    elif k == "infra":
        for d in m.decls:
            if isinstance(d, ast.EnvironmentDecl):
                check_values(d, ctx.diags)


def _with_transform_stores(ctx: Ctx, m: ast.Module, unit: UnitInterface) -> UnitInterface:
    """A proc that calls a transform with lookups reads their stores (its job looks them up
    before the call), so an environment must bind them like the proc's own lookups."""
    decls = {d.name: d for d in m.decls if isinstance(d, ast.ProcDecl)}
    procs = []
    for sig in unit.procs:
        stores = set(sig.stores)
        d = decls.get(sig.name)
        for name in called_transforms(d) if d is not None else []:
            t = ctx.symbols.transform(name)
            if t is not None:
                stores.update(lk.store for lk in t.lookups)
        procs.append(msgspec.structs.replace(sig, stores=sorted(stores)))
    return msgspec.structs.replace(unit, procs=procs)


def _check_infra(
    modules: list[ast.Module],
    upstream: list[UnitInterface],
    res: CheckResult,
    prelim: dict[str, UnitInterface],
) -> None:
    env_decls = [
        d
        for m in modules
        if m.kind == "infra"
        for d in m.decls
        if isinstance(d, ast.EnvironmentDecl)
    ]
    up_envs = [e for u in upstream for e in u.environments]
    envs = resolve_environments(env_decls, up_envs, res.diagnostics)
    res.environments = envs
    if not envs:
        return
    env_spans: dict[str, Span] = {}
    for d in env_decls:
        env_spans.setdefault(d.name, d.span)
    procs = []
    for m in modules:
        if m.kind == "proc":
            for p in prelim[m.path].procs:
                procs.append((p, m.path))
    for u in upstream:
        for p in u.procs:
            procs.append((p, u.path))
    stream_fields: dict[str, Optional[list[str]]] = {}
    for name, entry in res.symbols.streams.items():
        schema = res.symbols.schema(entry.sig.schema)
        stream_fields[name] = None if schema is None else [f.name for f in schema.fields]
    check_bindings(
        envs,
        env_spans,
        procs,
        set(res.symbols.streams),
        set(res.symbols.stores),
        res.diagnostics,
        stream_fields,
        # Without upstream interfaces every proc is in this check: a stream no proc reads
        # (writes) is only written (read). A build unit sees only some of the procs.
        whole_project=not upstream,
    )
