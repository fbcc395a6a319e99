"""The generator core: walks checked ASTs and builds the target-independent render model.

It knows the DSLs' meaning (which stream carries which schema, what a filter keeps) but nothing
about Java or Flink; a Target (target.py) turns the model into files.
"""

from __future__ import annotations

from typing import Dict, List, Mapping

from nexflow_core import ast
from nexflow_core.check.types import Type
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span
from nexflow_core.generate import model
from nexflow_core.generate.target import Target
from nexflow_core.project import CheckedProject

SCALAR_TYPES = (
    "string",
    "int",
    "long",
    "double",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "uuid",
    "bytes",
)

_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class Unit:
    """A parsed DSL file and the Java package its generated code lives in."""

    def __init__(self, module: ast.Module, package: str, source_text: str) -> None:
        self.module = module
        self.package = package
        self.lines = source_text.splitlines()

    def origin(self, span: Span) -> model.Origin:
        text = self.lines[span.line - 1].strip().rstrip("{").rstrip() if 0 < span.line <= len(self.lines) else ""
        return model.Origin(file=self.module.path, line=span.line, text=text)


def unsupported(span: Span, what: str) -> NexflowError:
    return NexflowError(
        [
            Diagnostic(
                code="NX901",
                severity="error",
                message=f"{what} is not supported by the Flink generator yet",
                span=span,
                hint="remove it or use a supported construct (see docs/language/)",
            )
        ]
    )


class Symbols:
    """What the units being generated can see, local or upstream alike: the checked project's
    symbol table (built from the units' own declarations and upstream interface files), and the
    package each declaring unit's code lives in."""

    def __init__(self, project: CheckedProject, packages: Mapping[str, str]) -> None:
        self.project = project
        self.packages = packages

    def record_type(self, schema: str, span: Span) -> model.RecordType:
        entry = self.project.symbols.types.get(schema)
        if entry is None or entry.what != "schema" or entry.path not in self.packages:
            raise NexflowError(
                [
                    Diagnostic(
                        code="NX902",
                        severity="error",
                        message=f"the schema '{schema}' is not visible to the generator",
                        span=span,
                        expected="a schema declared in this file or in a dependency",
                    )
                ]
            )
        return model.RecordType(name=schema, package=self.packages[entry.path])

    def stream_record(self, stream: str, span: Span) -> model.RecordType:
        sig = self.project.stream(stream)
        if sig is None:
            raise NexflowError(
                [
                    Diagnostic(
                        code="NX902",
                        severity="error",
                        message=f"the stream '{stream}' has no schema the generator can see",
                        span=span,
                        expected="a `stream <name>: <Schema>` declaration in a .schema file "
                        "this target depends on",
                    )
                ]
            )
        return self.record_type(sig.schema, span)

    def field_type(self, type_ref: ast.TypeRef) -> model.FieldType:
        if type_ref.name in SCALAR_TYPES:
            precision = type_ref.params[0] if type_ref.params else None
            scale = type_ref.params[1] if len(type_ref.params) > 1 else None
            return model.ScalarType(name=type_ref.name, precision=precision, scale=scale)
        if not type_ref.args:
            entry = self.project.symbols.types.get(type_ref.name)
            if entry is not None and entry.what == "schema":
                return self.record_type(type_ref.name, type_ref.span)
        raise unsupported(type_ref.span, f"the type '{type_ref.name}'")

    def checked_type(self, t: Type, span: Span) -> model.FieldType:
        if t.kind in SCALAR_TYPES and not t.args:
            return model.ScalarType(name=t.kind, precision=t.precision, scale=t.scale)
        if t.kind in ("record", "ref") and t.name:
            return self.record_type(t.name, span)
        raise unsupported(span, f"a field of type {t.display()}")

    def schema_fields(self, record: model.RecordType) -> Dict[str, Type]:
        sig = self.project.schema(record.name)
        return {f.name: f.type for f in sig.fields} if sig is not None else {}


def build_records(unit: Unit, symbols: Symbols) -> List[model.Record]:
    records = []
    for decl in unit.module.decls:
        if isinstance(decl, ast.SchemaDecl):
            fields = [
                model.RecordField(
                    name=field.name,
                    type=symbols.field_type(field.type),
                    optional=field.type.optional,
                    is_key=field.annotation("key") is not None,
                    origin=unit.origin(field.span),
                )
                for field in decl.fields
            ]
            records.append(
                model.Record(
                    name=decl.name,
                    package=unit.package,
                    fields=fields,
                    origin=unit.origin(decl.span),
                )
            )
    return records


def build_jobs(unit: Unit, symbols: Symbols) -> List[model.Job]:
    return [
        _build_job(unit, decl, symbols)
        for decl in unit.module.decls
        if isinstance(decl, ast.ProcDecl)
    ]


def _build_job(unit: Unit, proc: ast.ProcDecl, symbols: Symbols) -> model.Job:
    operators: List[model.Operator] = []
    record = None
    for stmt in proc.statements:
        origin = unit.origin(stmt.span)
        if isinstance(stmt, ast.FromStmt):
            if record is not None:
                raise unsupported(stmt.span, "a second `from` in one proc")
            record = symbols.stream_record(stmt.stream, stmt.span)
            operators.append(model.Source(stream=stmt.stream, record=record, origin=origin))
        elif record is None:
            raise unsupported(stmt.span, "a statement before `from`")
        elif isinstance(stmt, ast.FilterStmt):
            condition = _expr(stmt.condition, record, symbols)
            operators.append(model.Filter(condition=condition, record=record, origin=origin))
        elif isinstance(stmt, ast.EmitStmt) and stmt.persist is None and stmt.delivery is None:
            operators.append(model.Sink(stream=stmt.stream, record=record, origin=origin))
        else:
            raise unsupported(stmt.span, f"the proc statement `{origin.text}`")
    return model.Job(
        name=proc.name, package=unit.package, operators=operators, origin=unit.origin(proc.span)
    )


_WIDER_NUMBERS = ("long", "double", "decimal")


def _widen(expr: model.Expr, other: model.Expr) -> model.Expr:
    """A whole-number literal compared with a long, double or decimal field takes the field's
    type, so both sides of the comparison are of one Java type (`amount > 100` on a decimal)."""
    if (
        isinstance(expr, model.Literal)
        and expr.type.name in ("int", "long")
        and isinstance(other, model.FieldRef)
        and isinstance(other.type, model.ScalarType)
        and other.type.name in _WIDER_NUMBERS
    ):
        return model.Literal(type=model.ScalarType(name=other.type.name), value=expr.value)
    return expr


def _expr(node: ast.Expr, record: model.RecordType, symbols: Symbols) -> model.Expr:
    if isinstance(node, ast.Path) and len(node.parts) == 1:
        fields = symbols.schema_fields(record)
        if node.parts[0] in fields:
            field_type = symbols.checked_type(fields[node.parts[0]], node.span)
            return model.FieldRef(name=node.parts[0], type=field_type)
        raise unsupported(node.span, f"the name '{node.dotted}'")
    if isinstance(node, ast.IntLit):
        kind = "int" if -(2**31) <= node.value < 2**31 else "long"
        return model.Literal(type=model.ScalarType(name=kind), value=node.value)
    if isinstance(node, ast.StringLit):
        return model.Literal(type=model.ScalarType(name="string"), value=node.value)
    if isinstance(node, ast.BoolLit):
        return model.Literal(type=model.ScalarType(name="boolean"), value=node.value)
    if isinstance(node, ast.Binary) and node.op in _COMPARISONS:
        left = _expr(node.left, record, symbols)
        right = _expr(node.right, record, symbols)
        return model.Compare(op=node.op, left=_widen(left, right), right=_widen(right, left))
    if isinstance(node, ast.Binary) and node.op in ("and", "or"):
        return model.Logical(
            op=node.op,
            operands=[_expr(node.left, record, symbols), _expr(node.right, record, symbols)],
        )
    if isinstance(node, ast.Unary) and node.op == "not":
        return model.Not(operand=_expr(node.operand, record, symbols))
    raise unsupported(node.span, "this expression")


def generate(
    project: CheckedProject, packages: Mapping[str, str], target: Target
) -> List[model.GeneratedFile]:
    """Generate the files for the local units of a checked project.

    `packages` maps every unit path (local, and upstream as named in interface files) to the
    package its generated code lives in. The project must be free of errors."""
    project.raise_on_error()
    symbols = Symbols(project, packages)
    files: List[model.GeneratedFile] = []
    for path in sorted(project.modules):
        unit = Unit(project.modules[path], packages[path], project.sources[path])
        for record in build_records(unit, symbols):
            files.append(target.render_record(record))
        for job in build_jobs(unit, symbols):
            files.append(target.render_job(job))
    return sorted(files, key=lambda f: f.path)
