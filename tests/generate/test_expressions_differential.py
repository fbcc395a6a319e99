"""Differential test of expression code generation: hypothesis builds typed expressions, an
independent Python evaluator (evaluator.py) computes their values on a few records, and the
Java the generator writes for the same DSL text must agree, including nulls and errors
(overflow, division by zero). All expressions of a batch run in one javac and one JVM.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jinja2
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from nexflow_core import ast
from nexflow_core.generate import core
from nexflow_core.generate.flink import adapter, java
from nexflow_core.generate.lower import Scope
from nexflow_core.syntax import parse_source
from tests.generate import javatools
from tests.generate.evaluator import Node, T, numeric_result, run, same_result

SCHEMA = """
schema Vals {
    i1: int?
    i2: int?
    l1: long?
    d1: decimal(10,2)?
    d2: decimal(12,4)?
    s1: string?
    s2: string?
    b1: boolean?
}
"""
FIELDS = {
    "int": ["i1", "i2"],
    "long": ["l1"],
    "decimal": ["d1", "d2"],
    "string": ["s1", "s2"],
    "boolean": ["b1"],
}
FIELD_TYPES = {"i1": T("int"), "i2": T("int"), "l1": T("long"), "d1": T("decimal", 10, 2),
               "d2": T("decimal", 12, 4), "s1": T("string"), "s2": T("string"),
               "b1": T("boolean")}  # fmt: skip

RECORDS = [
    {"i1": 3, "i2": -7, "l1": 10_000_000_000, "d1": "12.50", "d2": "-0.3333", "s1": "abc",
     "s2": "Zed", "b1": True},
    {"i1": 2147483647, "i2": 0, "l1": -1, "d1": "0.00", "d2": "7.0001", "s1": "", "s2": "abc",
     "b1": False},
    {"i1": None, "i2": 5, "l1": None, "d1": None, "d2": "2.5000", "s1": None, "s2": "x",
     "b1": None},
    {"i1": -2147483648, "i2": -1, "l1": 9223372036854775807, "d1": "-99999999.99",
     "d2": "0.0005", "s1": "MiXeD", "s2": None, "b1": True},
]  # fmt: skip

WORDS = st.sampled_from(["abc", "Zed", "", "x", "MiXeD", 'a"q', "b\\s"])


def lit(kind: str) -> st.SearchStrategy[Node]:
    if kind == "int":
        return st.sampled_from([0, 1, 2, 3, 7, 100, 65536, 2147483647]).map(
            lambda v: Node("lit", T("int"), value=v)
        )
    if kind == "long":
        return st.sampled_from([2147483648, 10_000_000_000, 9223372036854775807]).map(
            lambda v: Node("lit", T("long"), value=v)
        )
    if kind == "decimal":
        return st.sampled_from(["0.5", "1.25", "2.0", "0.001", "100.10", "3.14159"]).map(
            lambda v: Node("lit", _dec_type(v), value=v)
        )
    if kind == "string":
        return WORDS.map(lambda v: Node("lit", T("string"), value=v))
    return st.booleans().map(lambda v: Node("lit", T("boolean"), value=v))


def _dec_type(text: str) -> T:
    whole, _, frac = text.partition(".")
    whole = whole.lstrip("0") or "0"
    return T("decimal", max(len(whole) + len(frac), 1), len(frac))


def field(kind: str) -> st.SearchStrategy[Node]:
    return st.sampled_from(FIELDS[kind]).map(lambda f: Node("field", FIELD_TYPES[f], value=f))


def unify(a: T, b: T) -> T:
    if a.kind == b.kind and a.kind != "decimal":
        return a
    return numeric_result(a, b, "+")


def exprs(kind: str, depth: int) -> st.SearchStrategy[Node]:
    leaves = st.one_of(lit(kind), field(kind))
    if depth <= 0:
        return leaves
    sub = lambda k: exprs(k, depth - 1)  # noqa: E731
    options = [leaves]
    if kind in ("int", "long", "decimal"):
        nums = ["int", "long", "decimal"]
        operand_kinds = {"int": ["int"], "long": ["int", "long"], "decimal": nums}[kind]

        @st.composite
        def arith(draw: st.DrawFn) -> Node:
            ka = draw(st.sampled_from(operand_kinds))
            kb = kind if ka != kind else draw(st.sampled_from(operand_kinds))
            a, b = draw(sub(ka)), draw(sub(kb))
            ops = ["+", "-", "*", "%"] + (["/"] if kind == "decimal" else [])
            op = draw(st.sampled_from(ops))
            if op == "/" and a.t.kind != "decimal" and b.t.kind != "decimal":
                pass
            return Node(op, numeric_result(a.t, b.t, op), (a, b))

        @st.composite
        def func(draw: st.DrawFn) -> Node:
            name = draw(st.sampled_from(["abs", "min", "max", "coalesce", "neg", "if"]))
            if name in ("abs", "neg"):
                a = draw(sub(kind))
                return Node("call:abs" if name == "abs" else "neg", a.t, (a,))
            if name == "if":
                c, a, b = draw(sub("boolean")), draw(sub(kind)), draw(sub(kind))
                return Node("if", unify(a.t, b.t), (c, a, b))
            a, b = draw(sub(kind)), draw(sub(kind))
            return Node("call:" + name, unify(a.t, b.t), (a, b))

        options += [arith(), func()]
        if kind == "decimal":

            @st.composite
            def div_whole(draw: st.DrawFn) -> Node:
                a, b = draw(sub("int")), draw(sub("int"))
                return Node("/", numeric_result(a.t, b.t, "/"), (a, b))

            @st.composite
            def rounding(draw: st.DrawFn) -> Node:
                a = draw(sub("decimal"))
                n = draw(st.integers(0, 4))
                return Node("call:round", a.t, (a, Node("lit", T("int"), value=n)))

            options += [div_whole(), rounding()]
        if kind == "int":
            options.append(sub("string").map(lambda s: Node("call:length", T("int"), (s,))))
    elif kind == "string":

        @st.composite
        def text(draw: st.DrawFn) -> Node:
            name = draw(st.sampled_from(["+", "upper", "lower", "concat", "substring", "if"]))
            if name == "+":
                return Node("+", T("string"), (draw(sub("string")), draw(sub("string"))))
            if name == "concat":
                return Node("call:concat", T("string"), (draw(sub("string")), draw(sub("string"))))
            if name == "substring":
                s = draw(sub("string"))
                a = Node("lit", T("int"), value=draw(st.integers(0, 6)))
                b = Node("lit", T("int"), value=draw(st.integers(0, 6)))
                return Node("call:substring", T("string"), (s, a, b))
            if name == "if":
                return Node("if", T("string"), (draw(sub("boolean")), draw(sub("string")),
                                                 draw(sub("string"))))  # fmt: skip
            return Node("call:" + name, T("string"), (draw(sub("string")),))

        options.append(text())
    else:

        @st.composite
        def cond(draw: st.DrawFn) -> Node:
            form = draw(st.sampled_from(["cmp", "scmp", "logic", "not", "in", "sin", "null"]))
            if form == "cmp":
                a = draw(sub(draw(st.sampled_from(["int", "long", "decimal"]))))
                b = draw(sub(draw(st.sampled_from(["int", "long", "decimal"]))))
                op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
                return Node(op, T("boolean"), (a, b))
            if form == "scmp":
                op = draw(st.sampled_from(["==", "!=", "<", ">="]))
                return Node(op, T("boolean"), (draw(sub("string")), draw(sub("string"))))
            if form == "logic":
                op = draw(st.sampled_from(["and", "or"]))
                return Node(op, T("boolean"), (draw(sub("boolean")), draw(sub("boolean"))))
            if form == "not":
                return Node("not", T("boolean"), (draw(sub("boolean")),))
            if form == "in":
                x = draw(sub(draw(st.sampled_from(["int", "decimal"]))))
                items = draw(st.lists(lit(draw(st.sampled_from(["int", "decimal"]))), min_size=1,
                                      max_size=3))  # fmt: skip
                return Node(draw(st.sampled_from(["in", "notin"])), T("boolean"), (x, *items))
            if form == "sin":
                x = draw(sub("string"))
                items = draw(st.lists(lit("string"), min_size=1, max_size=3))
                return Node(draw(st.sampled_from(["in", "notin"])), T("boolean"), (x, *items))
            kind_ = draw(st.sampled_from(["int", "decimal", "string", "boolean"]))
            op = draw(st.sampled_from(["isnull", "isnotnull"]))
            return Node(op, T("boolean"), (draw(sub(kind_)),))

        options.append(cond())
    return st.one_of(*options)


ANY_EXPR = st.sampled_from(["int", "long", "decimal", "string", "boolean"]).flatmap(
    lambda k: exprs(k, 3)
)


def render_java(nodes: list, work: Path) -> list:
    """Generate Vals + runtime, and an ExprHarness whose lambdas are the generator's Java for
    each expression (lowered from the checked DSL text)."""
    lets = "\n".join(f"    let e{i} = {n.text()}" for i, n in enumerate(nodes))
    transform = (
        f"transform Exprs {{\n    input v: Vals\n    output boolean\n{lets}\n    compute true\n}}\n"
    )
    sources = {"vals.schema": SCHEMA, "exprs.transform": transform}
    units = [core.Unit(parse_source(t, p), "gen.expr", t) for p, t in sorted(sources.items())]
    ctx = core.Context.from_units(units, [])
    decl = next(d for u in units for d in u.module.decls if isinstance(d, ast.TransformDecl))
    scope = Scope(names={"v": ctx.project.resolve(ast_type("Vals"))})
    lowered = [ctx.lower.expr(let.expr, scope) for let in decl.lets]
    java_files = javatools.generate_sources({"vals.schema": SCHEMA}, "gen.expr", work)
    env = adapter.FlinkTarget()._env
    env.loader = jinja2.ChoiceLoader(
        [env.loader, jinja2.FileSystemLoader(str(Path(__file__).parent / "java"))]
    )
    text = env.get_template("ExprHarness.java.j2").render(
        sp=java.Spelling(ctx.index()), exprs=lowered
    )
    harness = work / "java" / "gen" / "expr" / "ExprHarness.java"
    harness.write_text(text, "utf-8")
    return [*java_files, harness]


def ast_type(name: str):
    from nexflow_core.typemodel import Type

    return Type("record", name=name)


@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(ANY_EXPR, min_size=150, max_size=150))
def test_generated_java_agrees_with_the_python_evaluator(nodes: list) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = render_java(nodes, work)
        classes = work / "classes"
        javatools.javac(files, classes)
        data = work / "records.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), "utf-8")
        out = javatools.java("gen.expr.ExprHarness", classes, [str(data)])
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("[")]
    assert len(rows) == len(RECORDS)
    mismatches = []
    for record, row in zip(RECORDS, rows):
        for node, got in zip(nodes, row):
            want = run(node, record)
            if not same_result(want, got):
                mismatches.append(f"{node.text()}  on {record}: python {want}, java {got}")
    assert not mismatches, "\n".join(mismatches[:10])


def test_decimal_division_rounds_half_even_at_the_quotient_scale() -> None:
    # 1/8 = 0.125 → scale 6 exactly; 2/3 at scale 6 → 0.666667; 0.0000005 → 0.000000 (even)
    node = Node("/", T("decimal", 38, 6), (Node("lit", T("int"), value=2),
                                            Node("lit", T("int"), value=3)))  # fmt: skip
    assert run(node, {}) == "d:0.666667"
    assert Decimal("0.0000005").quantize(Decimal("0.000001"), rounding="ROUND_HALF_EVEN") == 0
