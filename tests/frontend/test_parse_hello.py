"""The hello subset: schema fields, stream declarations, proc from/filter/emit, infra."""

from __future__ import annotations

from conftest import example_sources  # pants: no-infer-dep

from nexflow_core import ast
from nexflow_core.syntax import parse_source


def test_hello_schema_fields_and_streams() -> None:
    src = example_sources("hello")["examples/hello/greetings.schema"]
    m = parse_source(src, "examples/hello/greetings.schema")
    assert m.kind == "schema"
    schema, s1, s2 = m.decls
    assert isinstance(schema, ast.SchemaDecl) and schema.name == "Greeting"
    assert [(f.name, f.type.name) for f in schema.fields] == [
        ("id", "string"),
        ("name", "string"),
        ("count", "int"),
    ]
    assert schema.fields[0].annotation("key") is not None
    assert isinstance(s1, ast.StreamDecl) and (s1.name, s1.schema) == ("greetings", "Greeting")
    assert (s2.name, s2.schema) == ("loud_greetings", "Greeting")
    assert schema.fields[2].span.line == 5 and schema.fields[2].span.column == 5


def test_hello_proc_pipeline() -> None:
    src = example_sources("hello")["examples/hello/hello.proc"]
    m = parse_source(src, "examples/hello/hello.proc")
    (proc,) = m.decls
    assert isinstance(proc, ast.ProcDecl) and proc.name == "HelloFilter"
    f, flt, emit = proc.statements
    assert isinstance(f, ast.FromStmt) and f.stream == "greetings"
    assert isinstance(flt, ast.FilterStmt)
    cond = flt.condition
    assert isinstance(cond, ast.Binary) and cond.op == ">"
    assert isinstance(cond.left, ast.Path) and cond.left.parts == ["count"]
    assert isinstance(cond.right, ast.IntLit) and cond.right.value == 2
    assert isinstance(emit, ast.EmitStmt) and emit.stream == "loud_greetings"
    assert flt.span.line == 3 and flt.span.file == "examples/hello/hello.proc"


def test_hello_infra_binds_both_streams() -> None:
    src = example_sources("hello")["examples/hello/local.infra"]
    m = parse_source(src, "examples/hello/local.infra")
    (env,) = m.decls
    assert isinstance(env, ast.EnvironmentDecl) and env.name == "local"
    streams = next(e for e in env.entries if e.name == "streams")
    assert isinstance(streams, ast.Block)
    assert [b.name for b in streams.entries] == ["greetings", "loud_greetings"]
