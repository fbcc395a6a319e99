"""Differential test: the accelerated scanner (syntax/fastlex.py) must give exactly what
lark's own scanner gives: the same AST with the same spans, or the same diagnostics."""

from __future__ import annotations

from conftest import KINDS, mutated  # pants: no-infer-dep
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexflow_core.diagnostics import NexflowError
from nexflow_core.syntax.parser import get_parser, parse_source


def _result(text: str, kind: str, fast: bool) -> object:
    try:
        return parse_source(text, f"x.{kind}", fast=fast)
    except NexflowError as e:
        return e.diagnostics


def test_every_grammar_is_accelerated() -> None:
    for kind in KINDS:
        lexers = get_parser(kind).parser.lexer.lexers.values()
        assert any("next_token" in vars(lx) for lx in lexers), kind


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_fast_scanner_matches_lark(kind: str, data: st.DataObject) -> None:
    text = data.draw(mutated(kind))
    assert _result(text, kind, True) == _result(text, kind, False)


def test_comments_blanks_and_crlf_positions() -> None:
    text = "/* a\r\nb */ schema A { // x\r\n\r\n  id: string /* y */ @key\r\n}\r\n"
    assert _result(text, "schema", True) == _result(text, "schema", False)
    m = parse_source(text, "x.schema")
    field = m.decls[0].fields[0]
    assert (field.span.line, field.span.column) == (4, 3)
