"""The generator core: walks checked ASTs and builds the target-independent render model.

It knows the DSLs' meaning (which stream carries which schema, what a filter keeps) but nothing
about Java or Flink; a Target (target.py) turns the model into files.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

from nexflow_core import ast
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span
from nexflow_core.generate import model
from nexflow_core.generate.target import Target

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
    """What the units being generated can see: schemas and streams by name."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.schemas: Dict[str, model.RecordType] = {}
        self.schema_decls: Dict[str, ast.SchemaDecl] = {}
        self.streams: Dict[str, str] = {}
        for unit in units:
            for decl in unit.module.decls:
                if isinstance(decl, ast.SchemaDecl):
                    self.schemas[decl.name] = model.RecordType(name=decl.name, package=unit.package)
                    self.schema_decls[decl.name] = decl
                elif isinstance(decl, ast.StreamDecl):
                    self.streams[decl.name] = decl.schema

    def stream_record(self, stream: str, span: Span) -> model.RecordType:
        schema = self.streams.get(stream)
        if schema is None or schema not in self.schemas:
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
        return self.schemas[schema]

    def field_type(self, type_ref: ast.TypeRef) -> model.FieldType:
        if type_ref.name in SCALAR_TYPES:
            precision = type_ref.params[0] if type_ref.params else None
            scale = type_ref.params[1] if len(type_ref.params) > 1 else None
            return model.ScalarType(name=type_ref.name, precision=precision, scale=scale)
        if type_ref.name in self.schemas and not type_ref.args:
            return self.schemas[type_ref.name]
        raise unsupported(type_ref.span, f"the type '{type_ref.name}'")


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
            condition = _expr(stmt.condition, symbols.schema_decls[record.name], symbols)
            operators.append(model.Filter(condition=condition, record=record, origin=origin))
        elif isinstance(stmt, ast.EmitStmt) and stmt.persist is None and stmt.delivery is None:
            operators.append(model.Sink(stream=stmt.stream, record=record, origin=origin))
        else:
            raise unsupported(stmt.span, f"the proc statement `{origin.text}`")
    return model.Job(
        name=proc.name, package=unit.package, operators=operators, origin=unit.origin(proc.span)
    )


def _expr(node: ast.Expr, schema: ast.SchemaDecl, symbols: Symbols) -> model.Expr:
    if isinstance(node, ast.Path) and len(node.parts) == 1:
        for field in schema.fields:
            if field.name == node.parts[0]:
                return model.FieldRef(name=field.name, type=symbols.field_type(field.type))
        raise unsupported(node.span, f"the name '{node.dotted}'")
    if isinstance(node, ast.IntLit):
        kind = "int" if -(2**31) <= node.value < 2**31 else "long"
        return model.Literal(type=model.ScalarType(name=kind), value=node.value)
    if isinstance(node, ast.StringLit):
        return model.Literal(type=model.ScalarType(name="string"), value=node.value)
    if isinstance(node, ast.BoolLit):
        return model.Literal(type=model.ScalarType(name="boolean"), value=node.value)
    if isinstance(node, ast.Binary) and node.op in _COMPARISONS:
        return model.Compare(
            op=node.op,
            left=_expr(node.left, schema, symbols),
            right=_expr(node.right, schema, symbols),
        )
    if isinstance(node, ast.Binary) and node.op in ("and", "or"):
        return model.Logical(
            op=node.op,
            operands=[_expr(node.left, schema, symbols), _expr(node.right, schema, symbols)],
        )
    if isinstance(node, ast.Unary) and node.op == "not":
        return model.Not(operand=_expr(node.operand, schema, symbols))
    raise unsupported(node.span, "this expression")


def generate(
    units: Sequence[Unit], upstream: Sequence[Unit], target: Target
) -> List[model.GeneratedFile]:
    """Generate the files for `units`; `upstream` units are only read for their declarations."""
    symbols = Symbols([*upstream, *units])
    files: List[model.GeneratedFile] = []
    for unit in units:
        for record in build_records(unit, symbols):
            files.append(target.render_record(record))
        for job in build_jobs(unit, symbols):
            files.append(target.render_job(job))
    return sorted(files, key=lambda f: f.path)
