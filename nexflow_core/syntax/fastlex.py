"""A faster token scanner for lark's contextual lexer.

lark matches every ignored run (blanks, comments) with its own regex call and then the next
token with another. Here each per-parser-state lexer gets one compiled regex that skips the
ignored text and matches the token in a single call, with the same terminals in the same
order, so the tokens (types, values, positions) are exactly lark's. Anything unusual (no
match, a lark version without the expected internals) falls back to lark's own code; a
differential test (tests/frontend/test_fastlex.py) compares both on generated input."""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from lark import Lark, Token

IGNORED = frozenset({"WS", "COMMENT", "BLOCK_COMMENT"})
SKIP = r"(?:[ \t\f\r\n]+|//[^\n]*|/\*[\s\S]*?\*/)*"
_SKIP_RE = re.compile(SKIP)
MAX_GROUPS = 90


def _make_fast(lx: Any) -> Optional[Callable[..., Token]]:
    scanner = lx.scanner  # builds lark's terminal list and keyword ("unless") callbacks
    if frozenset(lx.ignore_types) != IGNORED:
        return None
    terms = [t for t in scanner.terminals if t.name not in IGNORED]
    if not terms or len(terms) > MAX_GROUPS:
        return None
    alts = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terms)
    # (?=(SKIP))\1 consumes the blanks/comments atomically: without it, a failed token match
    # would backtrack into a comment and find a "token" inside it.
    rx = re.compile(f"(?=({SKIP}))\\1(?:{alts})", lx.g_regex_flags)
    match = rx.match
    skip = _SKIP_RE.match
    callback = lx.callback
    newline_types = lx.newline_types
    original = type(lx).next_token

    def next_token(lex_state: Any, parser_state: Any = None) -> Token:
        line_ctr = lex_state.line_ctr
        text = lex_state.text
        s = text.text
        end = text.end
        pos = line_ctr.char_pos
        m = match(s, pos, end)
        if m is None:
            sk = skip(s, pos, end)
            if sk is not None and sk.end() > pos:
                line_ctr.feed(s[pos : sk.end()])
            if line_ctr.char_pos >= end:
                raise EOFError(lx)
            return original(lx, lex_state, parser_state)  # lark reports the error
        type_ = m.lastgroup
        # Every alternative of the scanner's pattern is a named group.
        assert type_ is not None
        start = m.start(type_)
        if start > pos:
            line_ctr.feed(s[pos:start])
        value = m.group(type_)
        t = Token(type_, value, start, line_ctr.line, line_ctr.column)
        line_ctr.feed(value, type_ in newline_types)
        t.end_line = line_ctr.line
        t.end_column = line_ctr.column
        t.end_pos = line_ctr.char_pos
        if type_ in callback:
            t = callback[type_](t)
        lex_state.last_token = t
        return t

    return next_token


def accelerate(parser: Lark) -> bool:
    """Install the single-regex scanner on every per-state lexer of a contextual LALR parser.
    Returns False (and changes nothing) if lark's internals are not what this expects."""
    try:
        lexers = parser.parser.lexer.lexers
        from lark.lexer import LexerState, TextSlice  # noqa: F401  (lark >= 1.2 internals)
    except (AttributeError, ImportError):
        return False
    fast: dict[int, Optional[Callable[..., Token]]] = {}
    try:
        for lx in lexers.values():
            if id(lx) not in fast:
                fast[id(lx)] = _make_fast(lx)
    except (AttributeError, re.error, TypeError):
        return False
    for lx in lexers.values():
        f = fast[id(lx)]
        if f is not None:
            lx.next_token = f
    return True
