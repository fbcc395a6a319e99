"""Translate lark's errors into diagnostics in plain words (never raw token names)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Optional

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from nexflow_core.diagnostics import Diagnostic, Span

# Regex terminals, in words.
WORDS: dict[str, str] = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a text in double quotes, such as "USD"',
    "UNIT": "a time unit (ms, seconds, minutes, hours, days)",
    "OPT": "?",
    "APPLY_KIND": "rules or table",
    "ON_EVENT": "timeout, reject, flag, late or error",
    "CHECKPOINT_MODE": "exactly_once or at_least_once",
    "FIRST_MATCH": "first_match",
    "ASYNC": "async",
    "EVENT_TIME": "event_time",
    "$END": "the end of the file",
}

EXPRESSION_STARTS = {
    "NAME",
    "NUMBER",
    "STRING",
    "LPAR",
    "LSQB",
    "NOT",
    "MINUS",
    "TRUE",
    "FALSE",
    "NULL",
    "IF",
}

KIND_NAME_PHRASE = {
    "schema": "a field name",
    "transform": "a name",
    "rules": "a name",
    "proc": "a name",
    "infra": "a setting name",
}


def _describe(term: str, parser: Lark) -> str:
    if term in WORDS:
        return WORDS[term]
    try:
        pattern = parser.get_terminal(term).pattern
    except KeyError:
        return term.lower()
    value = pattern.value
    if pattern.type == "str":
        return f'"{value}"'
    return term.lower()


def _phrase(items: list[str]) -> str:
    items = sorted(set(items))
    if len(items) > 10:
        items = [*items[:10], "…"]
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _prev_text(text: str, pos: int) -> str:
    """The last non-blank character before pos (cheap context for the message)."""
    i = pos - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    return text[i] if i >= 0 else ""


def expected_words(expected: Iterable[str], parser: Lark, kind: str, text: str, pos: int) -> str:
    """What the parser would have accepted, in words a business analyst can read."""
    exp = set(expected)
    prev = _prev_text(text, pos)
    if (
        kind in ("schema", "transform", "rules", "proc")
        and prev == ":"
        and "NAME" in exp
        and len(exp) <= 2
    ):
        if kind == "rules" and "NUMBER" not in exp:
            pass
        return "a field type such as string, int, decimal(10,2), list<string> or a schema name"
    if prev == "@" and exp == {"NAME"}:
        return (
            "an annotation name such as key, event_time, enum, range, length, pattern or sensitive"
        )
    if len(exp & EXPRESSION_STARTS) >= 5:
        rest = [_describe(t, parser) for t in sorted(exp - EXPRESSION_STARTS)]
        head = (
            "a value or expression (a field name, a number, a text in quotes, true, false or null)"
        )
        return head if not rest else head + "; or " + _phrase(rest)
    words = []
    for t in exp:
        if t == "NAME":
            words.append(KIND_NAME_PHRASE.get(kind, "a name"))
        else:
            words.append(_describe(t, parser))
    return _phrase(words)


def _line_end_col(text: str, line: int) -> int:
    lines = text.split("\n")
    if 1 <= line <= len(lines):
        return len(lines[line - 1].rstrip("\r")) + 1
    return 1


def to_diagnostic(
    err: UnexpectedInput, parser: Lark, kind: str, path: str, text: str
) -> Diagnostic:
    """One located diagnostic for a lark parse/lex error."""
    if isinstance(err, UnexpectedCharacters):
        line, col = err.line, err.column
        # Typed Optional on lark's base class; the lexer always records where it stopped.
        pos = err.pos_in_stream or 0
        ch = text[pos] if 0 <= pos < len(text) else ""
        exp = expected_words(err.allowed or [], parser, kind, text, pos)
        shown = repr(ch) if ch.strip() and ch.isprintable() else f"U+{ord(ch):04X}" if ch else "?"
        msg = f"unexpected character {shown}"
        if ch == '"':
            msg = "this text is not closed by a double quote on the same line"
        elif ch == "/" and text[pos : pos + 2] == "/*":
            msg = "this comment is never closed by */"
        return Diagnostic(
            "NX103", "error", msg, Span(path, line, col, line, col + 1), expected=exp or None
        )
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            return _eof(err.expected, parser, kind, path, text)
        line = tok.line or 1
        col = tok.column or 1
        pos0 = tok.start_pos if tok.start_pos is not None else 0
        if str(tok) == "/" and text[pos0 : pos0 + 2] == "/*":
            return Diagnostic(
                "NX103",
                "error",
                "this comment is never closed by */",
                Span(path, line, col, line, col + 2),
                expected="*/ at the end of the comment",
            )
        end_col = tok.end_column if tok.end_line == line and tok.end_column else col + 1
        pos = tok.start_pos if tok.start_pos is not None else 0
        version = _version_misuse(str(tok), text, pos, kind, path, line, col)
        if version is not None:
            return version
        exp = expected_words(err.expected, parser, kind, text, pos)
        value = str(tok)
        if len(value) > 40:
            value = value[:37] + "..."
        return Diagnostic(
            "NX101",
            "error",
            f"unexpected '{value}'",
            Span(path, line, col, line, end_col),
            expected=exp or None,
        )
    if isinstance(err, UnexpectedEOF):
        return _eof(err.expected, parser, kind, path, text)
    return Diagnostic(
        "NX101",
        "error",
        "the text could not be read",  # pragma: no cover
        Span(path, 1, 1, 1, 1),
    )


_VERSION_WORD = re.compile(r"version[ \t]+(\S+?)[ \t]*(?:\{|$)", re.M)
# The unexpected token is what a schema's `version` is followed by (`1.0.0`'s '.', `"1.0.0"`,
# `v1`): a schema version is one whole number.
_AFTER_VERSION = re.compile(r"\bversion[ \t]+(?:[0-9][0-9.]*[ \t]*)?$")
# A header of a declaration that has no version (`ruleset R version 1.0.0 for …`).
_UNVERSIONED_HEADER = re.compile(r"[ \t]*(ruleset|decision_table|transform|proc|environment)[ \t]")
_WRITTEN_VERSION = re.compile(r"version[ \t]+(\"[^\"\n]*\"|[^\s{]+)")


def _version_misuse(
    value: str, text: str, pos: int, kind: str, path: str, line: int, col: int
) -> Optional[Diagnostic]:
    """NX106 for a version written as users of other tools write it: a `version 1.0.0` line
    of its own (no file has one), one in the header of a declaration that has none (`ruleset
    R version 1.0.0 {`), or a schema's `version 1.0.0`, `"1.0.0"` or `v1` (a schema version
    is one whole number). Lark only sees an unexpected word or '.', which says nothing
    useful."""
    line_start = text.rfind("\n", 0, pos) + 1
    if value == "version" and not text[line_start:pos].strip():
        m = _VERSION_WORD.match(text, pos)
        written = m.group(1) if m else ""
        return Diagnostic(
            "NX106",
            "error",
            f"a {kind} file has no version line"
            + (f" ('version {written}')" if written else ""),
            Span(path, line, col, line, col + len("version")),
            expected="a declaration"
            if kind != "schema"
            else "a declaration; a schema is versioned in its header: schema Name version 2 {",
            hint="only schemas have versions, one whole number each (schema Payment version 2)",
        )
    header = _UNVERSIONED_HEADER.match(text, line_start, pos)
    if value == "version" and header is not None:
        m = _WRITTEN_VERSION.match(text, pos)
        end = m.end() if m and "\n" not in m.group(0) else pos + len("version")
        written = text[pos:end]
        return Diagnostic(
            "NX106",
            "error",
            f"a {header.group(1)} has no version ('{written}')",
            Span(path, line, col, line, col + end - pos),
            expected=f"the {header.group(1)}'s header without '{written}'",
            hint="only schemas have versions, one whole number each (schema Payment version 2)",
        )
    if kind == "schema" and _AFTER_VERSION.search(text, line_start, pos):
        after = text.rfind("version", line_start, pos) + len("version")
        rest = text[after:].split("\n", 1)[0]
        m = re.match(r"[ \t]*(\S+?)[ \t]*(?:\{|$)", rest)
        written = m.group(1) if m else value
        vcol = after + len(rest) - len(rest.lstrip(" \t")) - line_start + 1
        return Diagnostic(
            "NX106",
            "error",
            f"a schema version is one whole number, not {written}",
            Span(path, line, vcol, line, vcol + len(written)),
            expected="schema Name version 2 {",
            hint="count versions 1, 2, 3, …: each new version of a schema is the next number",
        )
    return None


def _eof(expected: Iterable[str], parser: Lark, kind: str, path: str, text: str) -> Diagnostic:
    lines = text.split("\n")
    line = len(lines)
    while line > 1 and not lines[line - 1].strip():
        line -= 1
    col = _line_end_col(text, line)
    exp = expected_words(expected, parser, kind, text, len(text))
    return Diagnostic(
        "NX102",
        "error",
        "the file ends too early (a block may not be closed)",
        Span(path, line, col, line, col + 1),
        expected=exp or None,
        hint="check that every { has a matching }",
    )


def opt(x: Optional[str]) -> str:
    return x or ""
