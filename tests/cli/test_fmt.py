"""`nexflow fmt`: canonical layout, idempotent, meaning-preserving; `--check` for CI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from cli_helpers import ROOT, nexflow  # pants: no-infer-dep
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nexflow_core.diagnostics import NexflowError
from nexflow_core.project import discover
from nexflow_core.tool.fmt import FormatError, _read, format_source, same_ast
from nexflow_core.tool.init import TEMPLATES

DSL = ("schema", "transform", "rules", "proc", "infra")
_FENCE = re.compile(r"^```([A-Za-z]+)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def repository_examples() -> List[str]:
    """Every DSL file of the repository's examples and docs/language, and the init scaffold."""
    files = discover([str(ROOT / "examples"), str(ROOT / "docs" / "language"), str(TEMPLATES)])
    assert len(files) >= 15, files
    return files


def doc_blocks() -> List[Tuple[str, str]]:
    out = []
    for page in sorted((ROOT / "docs" / "language").glob("*.md")):
        for m in _FENCE.finditer(page.read_text(encoding="utf-8")):
            if m.group(1) in DSL:
                out.append((m.group(1), m.group(2)))
    return out


def seeds() -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {k: [] for k in DSL}
    for f in repository_examples():
        out[Path(f).suffix[1:]].append(Path(f).read_text(encoding="utf-8"))
    for kind, body in doc_blocks():
        out[kind].append(body)
    return out


SEEDS = seeds()


def test_every_example_in_the_repository_is_canonical() -> None:
    r = nexflow("fmt", "--check", *repository_examples())
    assert r.code == 0, r.out + r.err
    assert "0 file(s) would be reformatted" in r.out


def test_every_example_in_the_language_reference_is_canonical() -> None:
    blocks = doc_blocks()
    assert len(blocks) >= 60
    for n, (kind, body) in enumerate(blocks):
        assert format_source(body, f"docs_example_{n}.{kind}") == body, body


def test_the_layout() -> None:
    ugly = (
        "// leading\n\n\nproc   P{from payment_events   // trailing\r\n"
        'filter amount>10 and(currency=="USD"\n   or currency  ==  "EUR")\n'
        "  /* block\n     comment */\ntransform   using enrich\n\n\n"
        "emit to out persist to store async\nroute { when amount > -5 to a otherwise to b }\n}\n"
        "proc Q { }"
    )
    assert format_source(ugly, "x.proc") == (
        "// leading\n"
        "\n"
        "proc P {\n"
        "    from payment_events // trailing\n"
        '    filter amount > 10 and (currency == "USD"\n'
        '        or currency == "EUR")\n'
        "    /* block\n"
        "     comment */\n"
        "    transform using enrich\n"
        "\n"
        "    emit to out persist to store async\n"
        "    route {\n"
        "        when amount > -5 to a\n"
        "        otherwise to b\n"
        "    }\n"
        "}\n"
        "proc Q {}\n"
    )


def test_types_annotations_and_enums() -> None:
    text = (
        "schema S {\r\n  a: decimal( 10 , 2 ) @range( 0,1 )\r\n  b : list < string > ?\r\n"
        "  c: map<string,int> = {}\r\n}\r\nenum E { A,B , C }\r\nenum F {\r\n A, B,\r\n C }\r\n"
    ).replace(" = {}", "")
    assert format_source(text, "x.schema") == (
        "schema S {\n"
        "    a: decimal(10,2) @range(0, 1)\n"
        "    b: list<string>?\n"
        "    c: map<string, int>\n"
        "}\n"
        "enum E { A, B, C }\n"
        "enum F {\n"
        "    A,\n"
        "    B,\n"
        "    C\n"
        "}\n"
    )


def test_decision_table_rows_are_aligned() -> None:
    text = (
        "decision_table T for p: PaymentEvent hit_policy first { inputs { p.amount p.channel }\n"
        'outputs { d: string r: boolean }\n rules { small: <1000, - -> "OK", false\n'
        '  large_foreign: [1000..5000), in [ONLINE,POS] -> "REVIEW",true } }\n'
    )
    assert format_source(text, "t.rules") == (
        "decision_table T for p: PaymentEvent hit_policy first {\n"
        "    inputs {\n"
        "        p.amount\n"
        "        p.channel\n"
        "    }\n"
        "    outputs {\n"
        "        d: string\n"
        "        r: boolean\n"
        "    }\n"
        "    rules {\n"
        '        small:         < 1000,         -                 -> "OK",     false\n'
        '        large_foreign: [1000 .. 5000), in [ONLINE, POS]  -> "REVIEW", true\n'
        "    }\n"
        "}\n"
    )


def test_a_table_output_named_priority_starts_its_own_line() -> None:
    text = (
        "decision_table T for p: PaymentEvent hit_policy priority { inputs { p.amount }\n"
        'outputs { d: string priority ["A", "B"] priority: int n: string }\n'
        ' rules { a: - -> "A", 1, "x" } }\n'
    )
    assert format_source(text, "t.rules") == (
        "decision_table T for p: PaymentEvent hit_policy priority {\n"
        "    inputs {\n"
        "        p.amount\n"
        "    }\n"
        "    outputs {\n"
        '        d: string priority ["A", "B"]\n'
        "        priority: int\n"
        "        n: string\n"
        "    }\n"
        "    rules {\n"
        '        a: -  -> "A", 1, "x"\n'
        "    }\n"
        "}\n"
    )


def test_infra_blocks_and_lists() -> None:
    text = (
        'environment e extends base { kafka { brokers: ["a:1","b:2"] password: env("P") }\n'
        'checkpoint { interval: 1 minute } streams { s { topic: "t" parallelism: 2 } } }'
    )
    assert format_source(text, "e.infra") == (
        "environment e extends base {\n"
        "    kafka {\n"
        '        brokers: ["a:1", "b:2"]\n'
        '        password: env("P")\n'
        "    }\n"
        "    checkpoint {\n"
        "        interval: 1 minute\n"
        "    }\n"
        "    streams {\n"
        "        s {\n"
        '            topic: "t"\n'
        "            parallelism: 2\n"
        "        }\n"
        "    }\n"
        "}\n"
    )


def test_a_broken_bracket_lines_up_with_its_opening_line() -> None:
    text = (
        'ruleset R {\n rule r {\n  when p.currency not in [\n"USD",\n"EUR"\n]\n  then flag\n }\n}\n'
    )
    assert format_source(text, "r.rules") == (
        "ruleset R {\n"
        "    rule r {\n"
        "        when p.currency not in [\n"
        '            "USD",\n'
        '            "EUR"\n'
        "        ]\n"
        "        then flag\n"
        "    }\n"
        "}\n"
    )


def test_syntax_errors_are_reported_not_formatted(tmp_path: Path) -> None:
    bad = tmp_path / "bad.proc"
    bad.write_text("proc P {\n  from\n}\n")
    r = nexflow("fmt", str(bad))
    assert r.code == 1
    assert f"{bad}:3:1: error[NX101]" in r.err
    assert bad.read_text() == "proc P {\n  from\n}\n"
    other = tmp_path / "notes.txt"
    other.write_text("x")
    r = nexflow("fmt", str(other))
    assert r.code == 1 and "NX105" in r.err


def test_check_lists_files_and_fmt_rewrites_them(tmp_path: Path) -> None:
    good = tmp_path / "good.schema"
    good.write_text("schema A {\n    x: int\n}\n")
    ugly = tmp_path / "sub" / "ugly.schema"
    ugly.parent.mkdir()
    ugly.write_bytes(b"schema B {  y:int }")
    r = nexflow("fmt", "--check", str(tmp_path))
    assert r.code == 1
    assert r.out.splitlines() == [
        f"would reformat {ugly}",
        "1 file(s) would be reformatted, 1 unchanged",
    ]
    assert ugly.read_bytes() == b"schema B {  y:int }"
    r = nexflow("fmt", str(tmp_path))
    assert r.code == 0 and f"reformatted {ugly}" in r.out
    assert ugly.read_bytes() == b"schema B {\n    y: int\n}\n"
    assert nexflow("fmt", "--check", str(tmp_path)).code == 0
    assert nexflow("fmt", str(tmp_path / "missing")).code == 1


@pytest.mark.parametrize("kind_body", doc_blocks(), ids=lambda kb: kb[0])
def test_docs_examples_format_idempotently(kind_body: Tuple[str, str]) -> None:
    kind, body = kind_body
    once = format_source(body, f"x.{kind}")
    assert format_source(once, f"x.{kind}") == once
    assert same_ast(body, once, f"x.{kind}")


# --- properties ---------------------------------------------------------------------------------

SEPARATORS = [
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n\n",
    " \n    ",
    "\r\n",
    " // note\n",
    " /* c */ ",
    "\n// c\n",
]


def relayout(text: str, kind: str, data: st.DataObject) -> str:
    """The same tokens (and comments) as `text`, with other blanks and extra comments."""
    doc = _read(text, f"x.{kind}", kind)
    out = []
    for i, item in enumerate(doc.items):
        if i:
            sep = data.draw(st.sampled_from(SEPARATORS))
            if doc.items[i - 1].comment == "line" and "\n" not in sep:
                sep += "\n"
            out.append(sep)
        out.append(item.text)
    return "".join(out)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(kind=st.sampled_from(DSL), data=st.data())
def test_fmt_is_idempotent_and_keeps_the_ast(kind: str, data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(SEEDS[kind]))
    text = relayout(seed, kind, data)
    path = f"x.{kind}"
    assume(same_ast(seed, text, path))  # blanks between tokens never matter, but be sure
    once = format_source(text, path)
    assert format_source(once, path) == once
    assert same_ast(text, once, path)
    assert once.endswith("\n") and "\r" not in once
    assert all(line == line.rstrip() for line in once.split("\n"))
    for item in _read(text.replace("\r\n", "\n"), path, kind).items:
        if item.comment:
            assert item.text in once


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(DSL), data=st.data())
def test_fmt_of_mutated_text_never_crashes(kind: str, data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(SEEDS[kind]))
    pos = data.draw(st.integers(0, len(seed)))
    cut = data.draw(st.integers(0, 6))
    insert = data.draw(
        st.sampled_from(["", "{", "}", "//", "/*", '"', ",", " x ", "\n", "-", "->"])
    )
    text = seed[:pos] + insert + seed[pos + cut :]
    path = f"x.{kind}"
    try:
        once = format_source(text, path)
    except FormatError as e:
        assert e.diagnostics and all(d.span.file == path for d in e.diagnostics)
        return
    assert format_source(once, path) == once
    try:
        assert same_ast(text, once, path)
    except NexflowError:  # pragma: no cover
        raise
