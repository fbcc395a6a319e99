"""Parser unit tests: every construct's AST, spans, and syntax errors in plain words."""

from __future__ import annotations

import re

import pytest

from nexflow_core import ast
from nexflow_core.diagnostics import NexflowError, render_text
from nexflow_core.syntax import parse_source


def one(text: str, kind: str) -> object:
    return parse_source(text, f"t.{kind}").decls[0]


def error(text: str, kind: str) -> tuple[str, str]:
    with pytest.raises(NexflowError) as e:
        parse_source(text, f"t.{kind}")
    (d,) = e.value.diagnostics
    return d.code, render_text([d], {f"t.{kind}": text})


def test_schema_constructs() -> None:
    s = one(
        "schema A version 2 {\n  id: uuid @key\n  tags: list<string>?\n"
        "  m: map<string, list<decimal(10,2)>>\n  n: int = -5 @range(-10, 10)\n"
        '  c: string @enum["X", "Y"] @pattern("^[A-Z]$")\n'
        '  validate n < 3 message "small"\n}',
        "schema",
    )
    assert isinstance(s, ast.SchemaDecl) and s.version == 2
    assert [f.name for f in s.fields] == ["id", "tags", "m", "n", "c"]
    tags = s.fields[1].type
    assert tags.name == "list" and tags.optional and tags.args[0].name == "string"
    m = s.fields[2].type
    assert m.args[1].args[0].params == [10, 2]
    assert isinstance(s.fields[3].default, ast.IntLit) and s.fields[3].default.value == -5
    assert [a.name for a in s.fields[4].annotations] == ["enum", "pattern"]
    assert s.validations[0].message == "small"
    assert s.span.line == 1 and s.span.column == 1


def test_java_keywords_and_dsl_words_are_fine_as_names() -> None:
    s = one(
        "schema class { default: int  key: string  from: int  state: string "
        "priority: int  version: int  message: string }",
        "schema",
    )
    assert s.name == "class"
    assert [f.name for f in s.fields] == [
        "default",
        "key",
        "from",
        "state",
        "priority",
        "version",
        "message",
    ]


def test_words_that_are_keywords_elsewhere_name_fields_in_mappings() -> None:
    # After an expression the lexer sees a statement keyword (`event_time`, `key`, `window`,
    # `emit`); where only a field name fits, it is a field name.
    p = one(
        "proc P {\n  from s\n  map into X { a = 1 event_time = b.event_time key = 2 }\n"
        "  key by key\n  window tumbling 1 minute\n"
        "  aggregate into Y { n = count() window = max(window) emit = 1 }\n  emit to o\n}",
        "proc",
    )
    kinds = [type(s).__name__ for s in p.statements]
    assert kinds == ["FromStmt", "MapStmt", "KeyByStmt", "WindowStmt", "AggregateStmt", "EmitStmt"]
    m = p.statements[1]
    assert [x.field for x in m.mappings] == ["a", "event_time", "key"]
    assert (m.mappings[1].span.line, m.mappings[1].span.column) == (3, 22)
    assert m.mappings[1].expr.dotted == "b.event_time"
    assert [x.field for x in p.statements[4].mappings] == ["n", "window", "emit"]
    t = one("transform T { input a: A output B map { x = 1 input = 2 output = 3 } }", "transform")
    assert [x.field for x in t.mappings] == ["x", "input", "output"]


def test_a_keyword_where_no_name_fits_is_still_an_error() -> None:
    code, rendered = error("proc P {\n  from s\n  emit to out by\n}", "proc")
    assert code == "NX101" and "t.proc:3:15" in rendered, rendered


def test_enum_stream_store() -> None:
    m = parse_source("enum E { A, B, }\nstream s: S\nstore t: S key id", "t.schema")
    e, st, so = m.decls
    assert [x.name for x in e.members] == ["A", "B"]
    assert (st.name, st.schema) == ("s", "S")
    assert (so.name, so.schema, so.key) == ("t", "S", "id")


def test_expression_precedence_and_literals() -> None:
    s = one(
        "schema A { a: int validate not a + 2 * 3 > 4 and a in [1, 2] or a is not null }", "schema"
    )
    e = s.validations[0].expr
    assert isinstance(e, ast.Binary) and e.op == "or"
    left = e.left
    assert isinstance(left, ast.Binary) and left.op == "and"
    assert isinstance(left.left, ast.Unary) and left.left.op == "not"
    cmp_ = left.left.operand
    assert isinstance(cmp_, ast.Binary) and cmp_.op == ">"
    assert isinstance(cmp_.left, ast.Binary) and cmp_.left.op == "+"
    assert isinstance(cmp_.left.right, ast.Binary) and cmp_.left.right.op == "*"
    assert isinstance(left.right, ast.InList) and not left.right.negated
    assert isinstance(e.right, ast.IsNull) and e.right.negated


def test_durations_strings_decimals_if() -> None:
    t = one(
        'transform t { input a: int output string compute if a > 1 then "x\\"\\u00e9" '
        "else to_string(5 minutes + 100 ms) }",
        "transform",
    )
    c = t.compute
    assert isinstance(c, ast.IfExpr)
    assert isinstance(c.then, ast.StringLit) and c.then.value == 'x"é'
    call = c.otherwise
    assert isinstance(call, ast.Call) and call.name == "to_string"
    add = call.args[0]
    assert add.left.millis == 300_000 and add.right.millis == 100
    d = parse_source("schema A { x: decimal(5,3) = 12.250 }", "t.schema").decls[0]
    assert d.fields[0].default.text == "12.250"


def test_transform_constructs() -> None:
    t = one(
        "transform t {\n input p: P\n output Q\n lookup fx from rates by p.c\n"
        " let k = 1\n validate input p.a > 0\n map { a = p.a  b = k }\n"
        ' validate output a > 0 message "m"\n on error skip\n}',
        "transform",
    )
    assert [p.name for p in t.inputs] == ["p"] and t.output.name == "Q"
    assert t.lookups[0].alias == "fx" and t.lookups[0].store == "rates"
    assert [m.field for m in t.mappings] == ["a", "b"]
    assert [v.phase for v in t.validations] == ["input", "output"]
    assert t.on_error == "skip"


def test_rules_constructs_and_seed_priority() -> None:
    r = one(
        "ruleset R for p: P first_match {\n rule a {\n  priority 7\n  when p.x > 1\n"
        '  then flag "f", reject with "r" route to out set p.y = 2 emit alert "x" '
        "severity critical\n }\n}",
        "rules",
    )
    assert r.mode == "first" and r.binding.name == "p" and r.binding.schema == "P"
    rule = r.rules[0]
    assert rule.priority.rank == 7 and rule.priority.word is None
    kinds = [type(a).__name__ for a in rule.actions]
    assert kinds == ["FlagAction", "RejectAction", "RouteAction", "SetAction", "AlertAction"]


def test_decision_table_cells() -> None:
    d = one(
        "decision_table T hit_policy collect sum {\n inputs { a = p.a  p.b }\n"
        ' outputs { o: int }\n rules {\n  r1: -, "x" -> 1\n'
        "  r2: [1 .. 2), not in [A] -> 2\n  r3: (1 .. 2], != -3 -> 3\n"
        "  r4: >= 5, in [B, C] -> 4\n }\n}",
        "rules",
    )
    assert d.hit_policy == "collect" and d.aggregation == "sum"
    assert [i.name for i in d.inputs] == ["a", "b"]
    kinds = [[c.kind for c in r.cells] for r in d.rows]
    assert kinds == [["any", "eq"], ["range", "not_in"], ["range", "ne"], ["ge", "in"]]
    r2 = d.rows[1].cells[0]
    assert r2.low_closed and not r2.high_closed
    assert d.rows[2].cells[1].values[0].value == -3
    assert [r.label for r in d.rows] == ["r1", "r2", "r3", "r4"]


def test_every_proc_statement() -> None:
    p = one(
        """proc P {
        parallelism 2
        checkpoint every 1 minute exactly_once
        from s
        event_time at watermark 5 seconds
        filter a > 1
        transform using t
        apply R rules
        apply T table as r
        correlate with s2 by id within 5 minutes
        on timeout emit to x
        on route lbl emit to y
        key by a, b.c
        state n: int ttl 1 day
        update n = 1
        window sliding 10 minutes every 1 minute allowed_lateness 1 minute
        aggregate into A { n = count() }
        map into B { x = 1 }
        join s3 as j on a == j.a within 1 hour
        lookup st by a as l cache 10 minutes
        deduplicate by id within 1 hour
        route { when a > 1 to x otherwise to y }
        emit to z persist to st async at_least_once idempotency_key id
    }""",
        "proc",
    )
    names = [type(s).__name__ for s in p.statements]
    assert names == [
        "ParallelismStmt",
        "CheckpointStmt",
        "FromStmt",
        "EventTimeStmt",
        "FilterStmt",
        "TransformStmt",
        "ApplyStmt",
        "ApplyStmt",
        "CorrelateStmt",
        "OnStmt",
        "OnStmt",
        "KeyByStmt",
        "StateStmt",
        "UpdateStmt",
        "WindowStmt",
        "AggregateStmt",
        "MapStmt",
        "JoinStmt",
        "LookupStmt",
        "DedupStmt",
        "RouteStmt",
        "EmitStmt",
    ]
    emit = p.statements[-1]
    assert emit.persist.is_async and emit.delivery == "at_least_once"
    assert emit.idempotency_key.parts == ["id"]
    win = p.statements[14]
    assert win.kind == "sliding" and win.slide.millis == 60_000
    assert p.statements[8].partner == "s2"
    assert p.statements[10].label == "lbl"
    # statement spans start at their keyword
    assert p.statements[4].span.column == 9 and p.statements[4].span.line == 6


def test_infra_values() -> None:
    e = one(
        'environment prod extends base {\n k { a: "s" b: 3 c: 1.5 d: 5 minutes e: true '
        'f: SYM g: env("X") h: file("/p") i: ["a", 1] j: -2 }\n}',
        "infra",
    )
    assert e.extends == "base"
    vals = {p.name: type(p.value).__name__ for p in e.entries[0].entries}
    assert vals == {
        "a": "StringLit",
        "b": "IntLit",
        "c": "DecimalLit",
        "d": "DurationLit",
        "e": "BoolLit",
        "f": "Symbol",
        "g": "SecretRef",
        "h": "SecretRef",
        "i": "ListValue",
        "j": "IntLit",
    }


def test_bom_and_crlf() -> None:
    m = parse_source("\ufeffschema A {\r\n  id: string\r\n}\r\n", "t.schema")
    f = m.decls[0].fields[0]
    assert (f.span.line, f.span.column) == (2, 3)


RAW = re.compile(r"\b(RBRACE|LBRACE|__ANON|COLON|LPAR|RPAR|LSQB|RSQB|\$END)\b")


@pytest.mark.parametrize(
    ("text", "kind", "code", "words"),
    [
        ("schema A {\n  id: \n}", "schema", "NX101", "field type such as string"),
        ("schema A {\n  id: string\n", "schema", "NX102", "}"),
        ('schema A { id: string = "abc\n}', "schema", "NX103", "double quote"),
        ("schema A { id: string } /* never closed", "schema", "NX103", "comment is never closed"),
        ("proc P { from s filter }", "proc", "NX101", "value or expression"),
        ("rules are fun", "rules", "NX101", "decision_table"),
        ("proc P { from s emit x }", "proc", "NX101", '"to"'),
        ("environment e { a: b: }", "infra", "NX101", "a setting name"),
        ("schema A { a: int @ }", "schema", "NX101", "annotation name"),
        (
            "ruleset R { rule r { then flag_for_review priority urgent } }",
            "rules",
            "NX106",
            "high, medium, low",
        ),
        (
            "decision_table T hit_policy maybe { inputs {} outputs {} rules {} }",
            "rules",
            "NX106",
            "unique, first",
        ),
        ("proc P { window tumbling 1.5 minutes }", "proc", "NX106", "whole number"),
        ("x", "txt", "NX105", ".schema"),
    ],
)
def test_syntax_errors_in_plain_words(text: str, kind: str, code: str, words: str) -> None:
    got, rendered = error(text, kind)
    assert got == code, rendered
    assert words in rendered, rendered
    assert not RAW.search(rendered), rendered
    assert re.search(rf"t\.{kind}:\d+:\d+: error\[{code}\]", rendered)
    if code not in ("NX105",):
        assert "^" in rendered


def test_caret_under_the_offending_token() -> None:
    _, rendered = error("schema A {\n    id string\n}", "schema")
    lines = rendered.splitlines()
    assert lines[0].startswith("t.schema:2:8: error[NX101]")
    assert lines[1] == " 2 |     id string"
    assert lines[2] == "   |        ^^^^^^"


def test_deep_nesting_is_a_diagnostic() -> None:
    code, _rendered = error(
        "schema A { a: int validate " + "(" * 500 + "1" + ")" * 500 + " }", "schema"
    )
    assert code == "NX104"


def test_the_bang_rule_list_is_what_the_grammars_mark_with_bang() -> None:
    # ToAst wraps its callbacks before lark builds the parser, so the list of `!` rules is
    # written out in transformer.py; the grammars are the truth it must follow.
    from nexflow_core.syntax.parser import EXTENSIONS, get_parser
    from nexflow_core.syntax.transformer import BANG_RULES

    in_grammars = {
        str(rule.alias or rule.origin.name)
        for kind in sorted(set(EXTENSIONS.values()))
        for rule in get_parser(kind).rules
        # lark's own helper rules (`__x_star_0`, from a repetition inside a `!` rule) inherit it.
        if rule.options.keep_all_tokens and not str(rule.origin.name).startswith("__")
    }
    assert in_grammars == set(BANG_RULES)
