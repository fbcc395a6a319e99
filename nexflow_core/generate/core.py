"""The generator core: walks checked ASTs and builds the target-independent render model.

It knows the DSLs' meaning (which stream carries which schema, what a filter keeps, in which
order rules fire) but nothing about Java or Flink; a Target (target.py) turns the model into
files. The front end's checker runs first: any error stops generation with its diagnostics, and
the checker's inferred types drive the lowering of expressions (lower.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

from nexflow_core import ast
from nexflow_core import typemodel as T
from nexflow_core.check.checker import check_modules
from nexflow_core.check.declare import type_of_ref
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span, file_span
from nexflow_core.generate import model
from nexflow_core.generate.environments import UpstreamEnvironments, build_environment
from nexflow_core.generate.jobs import build_job
from nexflow_core.generate.lower import (
    Lowerer,
    Scope,
    checker_missed,
    generator_bug,
    plain,
    unsupported,
)
from nexflow_core.generate.target import Target
from nexflow_core.interface.model import UnitInterface
from nexflow_core.project import CheckedProject
from nexflow_core.typemodel import Type


class Unit:
    """A parsed DSL file and the Java package its generated code lives in."""

    def __init__(self, module: ast.Module, package: str, source_text: str) -> None:
        self.module = module
        self.package = package
        self.source_text = source_text
        self.lines = source_text.splitlines()

    def origin(self, span: Span) -> model.Origin:
        text = ""
        if 0 < span.line <= len(self.lines):
            text = self.lines[span.line - 1].strip().rstrip("{").rstrip()
        return model.Origin(file=self.module.path, line=span.line, text=text)


class Context:
    """What generation of one build unit can see: the checked project (local and upstream
    files), the package of every declared name, and the expression lowerer."""

    def __init__(
        self,
        project: CheckedProject,
        packages: Mapping[str, str],
        environment: Optional[str] = None,
        upstream_environments: Optional[UpstreamEnvironments] = None,
    ) -> None:
        """`packages` maps every declared name the units can see to its generated package;
        `environment` names the L5 environment procs are bound to (None: bindings only from
        program arguments), found among the checked files or else `upstream_environments`."""
        project.raise_on_error()
        self.project = project
        self.environment = environment
        self.upstream_environments = upstream_environments
        self.packages: dict[str, str] = dict(packages)
        symbols = self.project.symbols
        self.lower = Lowerer(
            type_of=self.project.type_of,
            resolve=self.project.resolve,
            field_type=symbols.field_type,
            is_enum=lambda name: symbols.enum(name) is not None,
            transform_package=lambda name: (
                self.packages.get(name) if symbols.transform(name) is not None else None
            ),
            transform_params=self._transform_params,
            transform_lookups=self.transform_lookups,
        )

    def _transform_params(self, name: str) -> list[Type]:
        sig = self.project.symbols.transform(name)
        return [] if sig is None else [plain(self.project.resolve(p.type)) for p in sig.inputs]

    def transform_lookups(self, name: str) -> list[Type]:
        """The record types a transform's lookups find, in order."""
        sig = self.project.symbols.transform(name)
        out = []
        for lk in sig.lookups if sig is not None else []:
            store = self.project.store(lk.store)
            out.append(T.record(store.schema) if store is not None else T.ANY)
        return out

    @classmethod
    def from_units(
        cls, units: Sequence[Unit], upstream: Sequence[Unit], environment: Optional[str] = None
    ) -> Context:
        """Check local and upstream sources together (whole-project mode)."""
        all_units = [*upstream, *units]
        modules = {u.module.path: u.module for u in all_units}
        sources = {u.module.path: u.source_text for u in all_units}
        result = check_modules(list(modules.values()), [])
        project = CheckedProject(modules, sources, result, [])
        packages: dict[str, str] = {}
        for unit in all_units:
            for decl in unit.module.decls:
                name = getattr(decl, "name", None)
                if name is not None and not isinstance(decl, ast.EnvironmentDecl):
                    packages.setdefault(name, unit.package)
        return cls(project, packages, environment)

    @classmethod
    def from_checked(
        cls,
        project: CheckedProject,
        unit_packages: Mapping[str, str],
        environment: Optional[str] = None,
        upstream: Sequence[UnitInterface] = (),
    ) -> Context:
        """A project checked against upstream interface files (build-system mode);
        `unit_packages` maps each unit path, local or upstream, to its package; `upstream`
        interfaces of .infra units carry the settings of their environments."""
        symbols = project.symbols
        packages: dict[str, str] = {}
        for space in (symbols.types, symbols.streams, symbols.stores):
            for name, entry in space.items():
                if entry.path in unit_packages:
                    packages.setdefault(name, unit_packages[entry.path])
        return cls(project, packages, environment, UpstreamEnvironments(upstream))

    def resolve_ref(self, type_ref: ast.TypeRef) -> Type:
        t = plain(self.project.resolve(type_of_ref(type_ref)))
        if t.kind == "any":
            raise checker_missed(type_ref.span, "NX201", f"the type '{type_ref.name}'")
        return t

    def index(self) -> model.TypeIndex:
        return model.TypeIndex(packages=dict(sorted(self.packages.items())))


# --- schemas ----------------------------------------------------------------------------------


def _number_text(e: object) -> Optional[str]:
    if isinstance(e, ast.IntLit):
        return str(e.value)
    if isinstance(e, ast.DecimalLit):
        return e.text
    if isinstance(e, ast.Unary) and e.op == "-":
        inner = _number_text(e.operand)
        return None if inner is None else ("-" + inner).replace("--", "")
    return None


def _constraints(f: ast.Field, t: Type) -> list[model.Constraint]:
    out: list[model.Constraint] = []
    if not f.type.optional:
        out.append(model.Constraint(kind="required"))
    if t.kind == "uuid":
        out.append(model.Constraint(kind="uuid"))
    for a in f.annotations:
        if a.name in ("range", "length") and len(a.args) == 2:
            low, high = _number_text(a.args[0]), _number_text(a.args[1])
            if low is None or high is None:
                raise checker_missed(a.span, "NX406", f"@{a.name} with bounds that are not numbers")
            out.append(model.Constraint(kind=a.name, low=low, high=high))
        elif a.name == "pattern" and a.args and isinstance(a.args[0], ast.StringLit):
            out.append(model.Constraint(kind="pattern", pattern=a.args[0].value))
        elif a.name == "enum":
            # `@enum(["A", "B"])` or `@enum("A", "B")`.
            first = a.args[0] if len(a.args) == 1 else None
            items = first.items if isinstance(first, ast.ListLit) else a.args
            allowed = [i.value for i in items if isinstance(i, ast.StringLit)]
            out.append(model.Constraint(kind="allowed", allowed=allowed))
    return out


def build_records(unit: Unit, ctx: Context) -> list[model.Record]:
    records = []
    # Of several versions of one schema, the class is the current (highest) one: the older
    # versions are the contract it must still read (the checker's NX407), not types of their
    # own.
    current: dict[str, ast.SchemaDecl] = {}
    for decl in unit.module.decls:
        if isinstance(decl, ast.SchemaDecl):
            kept = current.get(decl.name)
            if kept is None or (decl.version or 0) > (kept.version or 0):
                current[decl.name] = decl
    for decl in unit.module.decls:
        if not isinstance(decl, ast.SchemaDecl) or current[decl.name] is not decl:
            continue
        own = T.record(decl.name)
        fields = []
        for f in decl.fields:
            t = ctx.resolve_ref(f.type)
            default = None
            if f.default is not None:
                default = ctx.lower.fit(ctx.lower.expr(f.default, Scope()), t, f.default.span)
            fields.append(
                model.RecordField(
                    name=f.name,
                    type=t,
                    optional=f.type.optional,
                    is_key=f.annotation("key") is not None,
                    is_event_time=f.annotation("event_time") is not None,
                    sensitive=f.annotation("sensitive") is not None
                    or f.annotation("pii") is not None,
                    origin=unit.origin(f.span),
                    default=default,
                    constraints=_constraints(f, t),
                )
            )
        validations = [
            model.Validation(
                condition=ctx.lower.expr(v.expr, Scope(implicit=own)),
                message=v.message if v.message is not None else unit.origin(v.span).text,
                origin=unit.origin(v.span),
            )
            for v in decl.validations
        ]
        records.append(
            model.Record(
                name=decl.name,
                package=unit.package,
                fields=fields,
                validations=validations,
                origin=unit.origin(decl.span),
                version=decl.version,
            )
        )
    return records


def build_enums(unit: Unit) -> list[model.Enum]:
    return [
        model.Enum(
            name=d.name,
            package=unit.package,
            members=[m.name for m in d.members],
            origin=unit.origin(d.span),
        )
        for d in unit.module.decls
        if isinstance(d, ast.EnumDecl)
    ]


# --- rules ------------------------------------------------------------------------------------


def _binding(ctx: Context, name: str, span: Span) -> tuple:
    e = ctx.project.symbols.types.get(name)
    sig = e.sig if e is not None else None
    if sig is None or sig.input is None:
        raise checker_missed(span, "NX210", f"{name} without a record to inspect")
    return sig.input.name, plain(ctx.project.resolve(sig.input.type))


def build_rulesets(unit: Unit, ctx: Context) -> list[model.Ruleset]:
    out = []
    # What the target cannot render, all of it (NX901), reported together after the unit.
    limits: list[Diagnostic] = []
    for d in unit.module.decls:
        if not isinstance(d, ast.RulesetDecl):
            continue
        input_name, input_type = _binding(ctx, d.name, d.span)
        scope = Scope(names={input_name: input_type})
        order = sorted(
            range(len(d.rules)),
            key=lambda i: (-d.rules[i].rank, i),
        )
        rules = []
        for i in order:
            r = d.rules[i]
            actions = []
            for a in r.actions:
                origin = unit.origin(a.span)
                if isinstance(a, ast.FlagAction):
                    actions.append(model.Action(kind="flag", origin=origin, text=a.reason))
                elif isinstance(a, ast.RejectAction):
                    actions.append(model.Action(kind="reject", origin=origin, text=a.reason))
                elif isinstance(a, ast.RouteAction):
                    actions.append(model.Action(kind="route", origin=origin, text=a.target))
                elif isinstance(a, ast.AlertAction):
                    actions.append(
                        model.Action(
                            kind="alert", origin=origin, text=a.message, severity=a.severity
                        )
                    )
                elif isinstance(a, ast.SetAction):
                    parts = list(a.target.parts)
                    if len(parts) < 2 or parts[0] != input_name:
                        raise checker_missed(
                            a.target.span, "NX204", f"set on '{a.target.dotted}'"
                        )
                    if len(parts) > 2:
                        # Limit of the Flink target: rules change the inspected record in place
                        # and records nested in it are shared, immutable values.
                        limit = unsupported(a.target.span, "set on a nested field")
                        limits.extend(limit.diagnostics)
                        continue
                    target_type = ctx.project.symbols.field_type(input_type, parts[1])
                    if target_type is None:
                        raise checker_missed(a.target.span, "NX204", f"set on '{a.target.dotted}'")
                    value = ctx.lower.fit(
                        ctx.lower.expr(a.expr, scope),
                        ctx.project.resolve(target_type),
                        a.expr.span,
                    )
                    actions.append(
                        model.Action(kind="set", origin=origin, target=parts[1:], value=value)
                    )
            rules.append(
                model.RuleModel(
                    name=r.name,
                    condition=None if r.when is None else ctx.lower.expr(r.when, scope),
                    actions=actions,
                    priority=r.priority.rank if r.priority else 0,
                    origin=unit.origin(r.span),
                )
            )
        out.append(
            model.Ruleset(
                name=d.name,
                package=unit.package,
                input_name=input_name,
                input_type=input_type,
                mode=d.mode,
                rules=rules,
                origin=unit.origin(d.span),
            )
        )
    if limits:
        raise NexflowError(limits)
    return out


def _cell(ctx: Context, cell: ast.Cell, column: Type) -> model.CellTest:
    values: list[model.Expr] = []
    for v in cell.values:
        if column.kind == "enum" and isinstance(v, (ast.Path, ast.StringLit)):
            member = v.parts[-1] if isinstance(v, ast.Path) else v.value
            values.append(model.EnumValue(member=member, type=column))
            continue
        e = ctx.lower.expr(v, Scope())
        if column.kind in ("int", "long", "double", "decimal") and e.type.kind in (
            "int",
            "long",
            "double",
            "decimal",
        ):
            from nexflow_core.generate.lower import common_numeric

            c = common_numeric(column, e.type)
            if c.kind != column.kind:
                raise checker_missed(
                    v.span, "NX411", f"a {e.type.display()} cell in a {column.display()} column"
                )
            e = ctx.lower.coerce(e, column, v.span)
        else:
            e = ctx.lower.coerce(e, column, v.span)
        values.append(e)
    return model.CellTest(
        kind=cell.kind, values=values, low_closed=cell.low_closed, high_closed=cell.high_closed
    )


def build_tables(unit: Unit, ctx: Context) -> list[model.DecisionTable]:
    out = []
    for d in unit.module.decls:
        if not isinstance(d, ast.DecisionTableDecl):
            continue
        input_name, input_type = _binding(ctx, d.name, d.span)
        scope = Scope(names={input_name: input_type})
        inputs = []
        for inp in d.inputs:
            e = ctx.lower.expr(inp.expr, scope)
            inputs.append(model.TableColumn(name=inp.name, type=e.type, expr=e))
        outputs = []
        for o in d.outputs:
            t = ctx.resolve_ref(o.type)
            order = [ctx.lower.fit(ctx.lower.expr(v, Scope()), t, v.span) for v in o.order]
            outputs.append(model.TableColumn(name=o.name, type=t, order=order))
        if d.hit_policy == "priority" and outputs and not outputs[0].order:
            first = outputs[0]
            if first.type.kind == "enum":
                members = ctx.project.enum(first.type.name or "")
                # The checker resolved the column's type: an enum type of the project.
                assert members is not None, first.type.name
                order = [model.EnumValue(member=m, type=first.type) for m in members.members]
                outputs[0] = model.TableColumn(name=first.name, type=first.type, order=order)
        rows = []
        for row in d.rows:
            cells = [_cell(ctx, c, col.type) for c, col in zip(row.cells, inputs)]
            results: list[model.Expr] = []
            for res, col in zip(row.results, outputs):
                if col.type.kind == "enum" and isinstance(res, (ast.StringLit, ast.Path)):
                    member = res.parts[-1] if isinstance(res, ast.Path) else res.value
                    results.append(model.EnumValue(member=member, type=col.type))
                else:
                    results.append(ctx.lower.fit(ctx.lower.expr(res, Scope()), col.type, res.span))
            rows.append(
                model.TableRowModel(
                    label=row.label, cells=cells, results=results, origin=unit.origin(row.span)
                )
            )
        entry = ctx.project.symbols.types.get(d.name)
        result_type = plain(ctx.project.resolve(entry.sig.result)) if entry is not None else T.ANY
        out.append(
            model.DecisionTable(
                name=d.name,
                package=unit.package,
                input_name=input_name,
                input_type=input_type,
                hit_policy=d.hit_policy,
                aggregation=d.aggregation,
                inputs=inputs,
                outputs=outputs,
                rows=rows,
                result_type=result_type,
                origin=unit.origin(d.span),
            )
        )
    return out


# --- transforms -------------------------------------------------------------------------------


def build_transforms(unit: Unit, ctx: Context) -> list[model.Transform]:
    return [
        _build_transform(unit, d, ctx)
        for d in unit.module.decls
        if isinstance(d, ast.TransformDecl)
    ]


def _build_transform(unit: Unit, d: ast.TransformDecl, ctx: Context) -> model.Transform:
    if d.output is None:
        raise checker_missed(d.span, "NX306", "a transform without an output")
    params = []
    names: dict[str, Type] = {}
    nullable: set = set()
    for p in d.inputs:
        t = ctx.resolve_ref(p.type)
        params.append(model.Param(name=p.name, type=t, optional=p.type.optional))
        names[p.name] = t
        if p.type.optional:
            nullable.add(p.name)
    # A transform stays a pure function: what its lookups find is passed in by the proc that
    # calls it (which reads the store first, see jobs.py), after the inputs.
    lookups = []
    for lk, found in zip(d.lookups, ctx.transform_lookups(d.name)):
        if found.kind != "record":
            raise checker_missed(lk.span, "NX206", f"the store '{lk.store}'")
        key = lk.key.dotted if isinstance(lk.key, ast.Path) else "key"
        lookups.append(
            model.LookupParam(
                name=lk.alias, store=lk.store, type=found, key_text=key, origin=unit.origin(lk.span)
            )
        )
    scope = Scope(names=names, nullable=nullable)
    validate_in = [
        model.Validation(
            condition=ctx.lower.expr(v.expr, scope),
            message=v.message if v.message is not None else unit.origin(v.span).text,
            origin=unit.origin(v.span),
        )
        for v in d.validations
        if v.phase == "input"
    ]
    for lp in lookups:
        scope.names[lp.name] = lp.type
        scope.nullable.add(lp.name)
    lets = []
    for let in d.lets:
        e = ctx.lower.expr(let.expr, scope)
        lets.append(model.Let(name=let.name, expr=e, origin=unit.origin(let.span)))
        scope.names[let.name] = e.type
        scope.nullable.add(let.name)
    output = ctx.resolve_ref(d.output)
    mappings = []
    compute = None
    if d.mappings:
        for mp in d.mappings:
            ft = ctx.project.symbols.field_type(output, mp.field)
            if ft is None:
                raise checker_missed(mp.span, "NX306", f"the field '{mp.field}'")
            mappings.append(
                model.FieldValue(
                    field=mp.field,
                    expr=ctx.lower.fit(
                        ctx.lower.expr(mp.expr, scope), ctx.project.resolve(ft), mp.expr.span
                    ),
                    origin=unit.origin(mp.span),
                )
            )
    elif d.compute is not None:
        compute = ctx.lower.fit(ctx.lower.expr(d.compute, scope), output, d.compute.span)
    out_scope = Scope(
        names=dict(scope.names),
        implicit=output if output.kind == "record" else None,
        nullable=set(scope.nullable),
    )
    validate_out = [
        model.Validation(
            condition=ctx.lower.expr(v.expr, out_scope),
            message=v.message if v.message is not None else unit.origin(v.span).text,
            origin=unit.origin(v.span),
        )
        for v in d.validations
        if v.phase == "output"
    ]
    on_error = d.on_error or "dead_letter"
    if on_error not in ("skip", "fail", "dead_letter"):
        raise checker_missed(d.span, "NX106", f"on error {on_error}")
    return model.Transform(
        name=d.name,
        package=unit.package,
        inputs=params,
        output=output,
        validate_input=validate_in,
        lets=lets,
        mappings=mappings,
        compute=compute,
        validate_output=validate_out,
        on_error=on_error,
        origin=unit.origin(d.span),
        lookups=lookups,
        on_error_declared=d.on_error is not None,
    )


# --- procs ------------------------------------------------------------------------------------


def build_jobs(unit: Unit, ctx: Context) -> list[model.Job]:
    procs = [d for d in unit.module.decls if isinstance(d, ast.ProcDecl)]
    env = None
    resolved = None
    if procs and ctx.environment is not None:
        resolved = ctx.project.environment(ctx.environment)
        sources = ctx.project.sources
        if resolved is None and ctx.upstream_environments is not None:
            # The proc's own file decides which directory's environment blocks it binds to.
            resolved = ctx.upstream_environments.get(ctx.environment, unit.module.path)
            sources = ctx.upstream_environments.sources
        if resolved is None:
            # The command's --environment names nothing the build can see: the user's error,
            # not a limit of the target.
            raise NexflowError(
                [
                    Diagnostic(
                        code="NX212",
                        severity="error",
                        message=f"unknown environment '{ctx.environment}': no .infra file "
                        "checked with this proc declares it",
                        span=procs[0].span,
                        expected="an environment declared in an .infra file given with the "
                        "proc (or in an --interface file of its .infra unit)",
                    )
                ]
            )
        env = build_environment(resolved, sources)
    return [build_job(unit, d, ctx, env, resolved) for d in procs]


def generate(
    units: Sequence[Unit],
    upstream: Sequence[Unit],
    target: Target,
    environment: Optional[str] = None,
) -> list[model.GeneratedFile]:
    """Generate the files for `units`; `upstream` units are only read for their declarations.
    Procs are bound to `environment` when one is named (its .infra files among the units)."""
    return _generate(units, Context.from_units(units, upstream, environment), target)


def generate_checked(
    project: CheckedProject,
    unit_packages: Mapping[str, str],
    target: Target,
    environment: Optional[str] = None,
    upstream: Sequence[UnitInterface] = (),
) -> list[model.GeneratedFile]:
    """Generate the files for the local units of a project checked against upstream interface
    files; `unit_packages` maps every unit path (local and upstream) to its package. Procs are
    bound to `environment`, resolved from the `upstream` interfaces of its .infra units."""
    ctx = Context.from_checked(project, unit_packages, environment, upstream)
    units = [
        Unit(project.modules[path], unit_packages[path], project.sources[path])
        for path in sorted(project.modules)
    ]
    return _generate(units, ctx, target)


def job_models(
    project: CheckedProject,
    unit_packages: Mapping[str, str],
    environment: Optional[str] = None,
    upstream: Sequence[UnitInterface] = (),
) -> list[model.Job]:
    """The jobs of the local procs of a project checked against upstream interface files,
    bound to `environment` as `generate_checked` binds them (for run plans)."""
    ctx = Context.from_checked(project, unit_packages, environment, upstream)
    jobs: list[model.Job] = []
    for path in sorted(project.modules):
        unit = Unit(project.modules[path], unit_packages[path], project.sources[path])
        jobs.extend(build_jobs(unit, ctx))
    return jobs


def _generate(units: Sequence[Unit], ctx: Context, target: Target) -> list[model.GeneratedFile]:
    index = ctx.index()
    files: list[model.GeneratedFile] = []
    # NX901 (what the target cannot render) of every unit, reported together.
    limits: list[Diagnostic] = []
    for unit in units:
        try:
            files.extend(_generate_unit(unit, ctx, target, index))
        except NexflowError as e:
            if not all(d.code == "NX901" for d in e.diagnostics):
                raise
            limits.extend(e.diagnostics)
    if limits:
        raise NexflowError(limits)
    paths = [f.path for f in files]
    duplicates = sorted({p for p in paths if paths.count(p) > 1})
    if duplicates:
        # Generated names are made distinct (java_spelling's safe names): a clash is a bug.
        raise generator_bug(
            file_span(units[0].module.path),
            f"two declarations that generate the same file {duplicates[0]}",
        )
    return sorted(files, key=lambda f: f.path)


def _generate_unit(
    unit: Unit, ctx: Context, target: Target, index: model.TypeIndex
) -> list[model.GeneratedFile]:
    files: list[model.GeneratedFile] = []
    for enum in build_enums(unit):
        files.append(target.render_enum(enum, index))
    for record in build_records(unit, ctx):
        files.extend(target.render_record(record, index))
    for ruleset in build_rulesets(unit, ctx):
        files.append(target.render_ruleset(ruleset, index))
    for table in build_tables(unit, ctx):
        files.append(target.render_table(table, index))
    for transform in build_transforms(unit, ctx):
        files.append(target.render_transform(transform, index))
    for job in build_jobs(unit, ctx):
        files.append(target.render_job(job, index))
    return files
