"""The parser: one cached LALR lark instance per DSL (built once per process) and
`parse_source`, the entry point the rest of the compiler uses."""

from __future__ import annotations

import os
import re
import sys
from typing import Optional

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, UnexpectedToken

from nexflow_core import ast
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span
from nexflow_core.syntax.errors import to_diagnostic
from nexflow_core.syntax.fastlex import accelerate
from nexflow_core.syntax.transformer import ToAst

EXTENSIONS: dict[str, str] = {
    ".schema": "schema",
    ".transform": "transform",
    ".rules": "rules",
    ".proc": "proc",
    ".infra": "infra",
}

_HERE = os.path.dirname(os.path.abspath(__file__))
_PARSERS: dict[str, Lark] = {}
_BUILDERS: dict[str, ToAst] = {}
MAX_NESTING = 128
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _keyword_as_name(e: UnexpectedInput) -> bool:
    """Lets a word that is a keyword elsewhere name a field where only a name fits
    (`map into X { event_time = … }`, `key = …` after another mapping).

    The contextual lexer decides on a keyword from the LALR state *before* the pending
    reductions, whose lookaheads are merged across contexts (after an expression, any
    statement keyword may follow), so such a word arrives as its keyword. When the parser then
    refuses it and a name would have been accepted, the same text is fed as a NAME instead.
    Anything else stays an error (lark raises the original exception)."""
    if not isinstance(e, UnexpectedToken):
        return False
    tok = e.token
    if tok.type == "NAME" or not _WORD.match(str(tok)):
        return False
    ip = e.interactive_parser
    if "NAME" not in ip.accepts():
        return False
    ip.feed_token(Token.new_borrow_pos("NAME", str(tok), tok))
    return True


def _grammar_text(kind: str) -> str:
    with open(os.path.join(_HERE, "common.lark"), encoding="utf-8") as f:
        common = f.read()
    with open(os.path.join(_HERE, f"{kind}.lark"), encoding="utf-8") as f:
        own = f.read()
    return own + "\n" + common


def get_parser(kind: str, fast: bool = True) -> Lark:
    """The LALR parser for one DSL kind; built on first use, then reused. Its inline
    transformer (ToAst) builds the AST during parsing. `fast=False` gives a separate parser
    with lark's own scanner (used by the differential test of fastlex)."""
    key = kind if fast else kind + ":plain"
    p = _PARSERS.get(key)
    if p is None:
        builder = ToAst("<unset>", kind)
        p = Lark(
            _grammar_text(kind),
            parser="lalr",
            lexer="contextual",
            propagate_positions=False,
            maybe_placeholders=True,
            start="start",
            transformer=builder,
        )
        if fast:
            accelerate(p)
        _PARSERS[key] = p
        _BUILDERS[key] = builder
    return p


def kind_of(path: str) -> Optional[str]:
    """The DSL kind for a file path from its extension, or None."""
    return EXTENSIONS.get(os.path.splitext(path)[1])


def _nesting_check(text: str, path: str) -> None:
    """Refuse absurdly deep nesting with a located diagnostic instead of exhausting the
    Python stack later."""
    depth = 0
    line = 1
    line_start = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                col = i - line_start + 1
                raise NexflowError(
                    [
                        Diagnostic(
                            "NX104",
                            "error",
                            f"brackets are nested more than {MAX_NESTING} deep",
                            Span(path, line, col, line, col + 1),
                            expected="a flatter expression; split it with let",
                        )
                    ]
                )
        elif ch in ")]}":
            depth -= 1
        elif ch == "\n":
            line += 1
            line_start = i + 1


def parse_source(text: str, path: str, kind: Optional[str] = None, fast: bool = True) -> ast.Module:
    """Parse one DSL file into an `ast.Module`.

    The DSL is chosen from the extension of `path` (.schema .transform .rules .proc .infra)
    unless `kind` is given. A leading byte-order mark is ignored; CRLF line ends are fine.
    Raises NexflowError (with located diagnostics) on any problem; nothing else escapes."""
    k = kind or kind_of(path)
    if k is None:
        raise NexflowError(
            [
                Diagnostic(
                    "NX105",
                    "error",
                    f"'{path}' is not a Nexflow file",
                    Span(path, 1, 1, 1, 1),
                    expected="a file ending in .schema, .transform, .rules, .proc or .infra",
                )
            ]
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    parser = get_parser(k, fast)
    if text.count("(") + text.count("[") + text.count("{") > MAX_NESTING:
        _nesting_check(text, path)
    _BUILDERS[k if fast else k + ":plain"].reset(path)
    try:
        module = parser.parse(text, on_error=_keyword_as_name)
    except UnexpectedInput as e:
        raise NexflowError([to_diagnostic(e, parser, k, path, text)]) from None
    except RecursionError:
        raise NexflowError(
            [
                Diagnostic(
                    "NX104",
                    "error",
                    "the text is nested too deeply to read",
                    Span(path, 1, 1, 1, 2),
                    expected="a flatter expression",
                )
            ]
        ) from None
    assert isinstance(module, ast.Module)
    return module


def _internal(path: str, exc: BaseException) -> Diagnostic:
    return Diagnostic(
        "NX104",
        "error",
        f"the text could not be read ({type(exc).__name__})",
        Span(path, 1, 1, 1, 2),
    )


def parse_file(path: str) -> ast.Module:
    """Read a file (UTF-8) and parse it."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise NexflowError(
            [
                Diagnostic(
                    "NX103",
                    "error",
                    f"the file is not UTF-8 text ({e.reason} at byte {e.start})",
                    Span(path, 1, 1, 1, 2),
                )
            ]
        ) from None
    return parse_source(text, path)


def all_kinds() -> list[str]:
    return list(EXTENSIONS.values())


sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))
