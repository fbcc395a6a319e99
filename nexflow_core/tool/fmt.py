"""`nexflow fmt`: canonical formatting of DSL files.

The canonical form:

- one statement per line (a field, a proc statement, a rule clause, a table row, a mapping, an
  infra setting…), indented four spaces per block depth;
- `{` ends the line that opens a block, `}` stands on its own line (`{}` when empty);
- normalized spacing: `name: type`, spaces around operators, `=` and `->`, none inside
  brackets, before `,` or after `.`; `decimal(10,2)`, `list<T>`, `@enum["A", "B"]`, `f(x)`;
- a line break the author put inside a statement is kept (the continuation is indented one
  level deeper, or one level inside an open bracket); other line breaks are not;
- at most one blank line between statements, none at the start or end of a block;
- decision-table rows are aligned in columns;
- an enum written on one line stays on one line (`enum Method { CARD, CASH }`);
- comments are kept verbatim (trailing blanks removed), on their own line or at the end of a
  line as written; CRLF becomes LF; the file ends with one newline.

The formatter reads the file with the same lark grammars as the compiler (with every token
kept, so that it knows which statement each token belongs to) and takes comments from the text
between tokens. It refuses a file that does not parse, and checks that what it writes parses
to the same AST (positions aside) as what it read.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import msgspec
from lark import Lark, Token, Tree
from lark.exceptions import LarkError

import nexflow_core.syntax as syntax_package
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span, render_one
from nexflow_core.syntax import kind_of, parse_source

INDENT = "    "

# Grammar rules (and aliases) that are statements: each starts on a line of its own.
LINE_RULES = frozenset(
    """
    schema_decl enum_decl stream_decl store_decl field validate
    transform_decl input_decl output_decl lookup_decl let_decl map_block compute
    validate_input validate_output on_error mapping
    ruleset decision_table rule when then priority table_inputs table_outputs table_rows
    table_input table_input_path table_output table_output_priority table_row
    proc_decl from_stmt event_time_stmt filter_stmt transform_stmt apply_stmt correlate_stmt
    on_stmt on_route emit_stmt route_stmt route_case route_otherwise key_stmt state_stmt
    update_stmt rolling_stmt window_tumbling window_sliding window_session aggregate_stmt map_stmt
    join_interval join_window lookup_stmt on_lookup_error on_persist_error dedup_stmt
    parallelism_stmt checkpoint_stmt
    environment prop block
    """.split()
)
# Where `(` or `[` follows a name without a space: f(x), decimal(10,2), @range(0, 1), env("X").
_TIGHT_OPEN = frozenset({"call", "param_type", "ann_args", "secret_ref"})
_GAP = re.compile(r"(?P<ws>[ \t\f\r\n]+)|(?P<line>//[^\n]*)|(?P<block>/\*[\s\S]*?\*/)")


class FormatError(Exception):
    def __init__(self, diagnostics: List[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__(diagnostics[0].message if diagnostics else "cannot format")


# --- reading: tokens with their statement structure, comments from the gaps ---------------------

_PARSERS: Dict[str, Lark] = {}


def _parser(kind: str) -> Lark:
    p = _PARSERS.get(kind)
    if p is None:
        here = Path(syntax_package.__file__).resolve().parent
        common = (here / "common.lark").read_text(encoding="utf-8")
        own = (here / f"{kind}.lark").read_text(encoding="utf-8")
        p = Lark(
            own + "\n" + common,
            parser="lalr",
            lexer="contextual",
            start="start",
            keep_all_tokens=True,
            maybe_placeholders=False,
        )
        _PARSERS[kind] = p
    return p


class Item:
    """A token or a comment, with what the layout needs to know about it."""

    __slots__ = ("text", "comment", "newlines", "parent", "line_start", "opens", "closes")

    def __init__(self, text: str, comment: str = "", newlines: int = 0, parent: str = "") -> None:
        self.text = text
        self.comment = comment  # "", "line" or "block"
        self.newlines = newlines  # line breaks in the blanks just before it, as written
        self.parent = parent  # the grammar rule whose direct child this token is
        self.line_start = False  # starts a statement
        self.opens = False  # a `{` that opens a block laid out over several lines
        self.closes = False  # the matching `}`


class _Parsed:
    """The items of a file and, for every grammar node, the range of its tokens."""

    def __init__(self, items: List[Item], tokens: List[int], tree: Tree) -> None:
        self.items = items
        self.tokens = tokens  # item index of every token, in order
        self.tree = tree
        self.ranges: Dict[int, Tuple[int, int]] = {}  # id(node) -> [first, end) token numbers
        self.token_number: Dict[int, int] = {}  # id(token) -> token number
        self._number(tree, [0])

    def _number(self, node: Tree, counter: List[int]) -> None:
        first = counter[0]
        for child in node.children:
            if isinstance(child, Tree):
                self._number(child, counter)
            elif isinstance(child, Token):
                self.token_number[id(child)] = counter[0]
                counter[0] += 1
        self.ranges[id(node)] = (first, counter[0])

    def nodes(self, data: str) -> List[Tree]:
        return [t for t in self.tree.iter_subtrees_topdown() if t.data == data]

    def item_range(self, node: Tree) -> Tuple[int, int]:
        """First and last item index of a (non-empty) node."""
        first, end = self.ranges[id(node)]
        return self.tokens[first], self.tokens[end - 1]


def _leaves(tree: Tree, out: List[Tuple[Token, str]], starts: Dict[int, str]) -> None:
    first = len(out)
    for child in tree.children:
        if isinstance(child, Tree):
            _leaves(child, out, starts)
        elif isinstance(child, Token):
            out.append((child, str(tree.data)))
    if len(out) > first and str(tree.data) in LINE_RULES:
        starts.setdefault(first, str(tree.data))


def _read(text: str, path: str, kind: str) -> _Parsed:
    try:
        tree = _parser(kind).parse(text)
    except LarkError:
        # The compiler's own parser gives the located, plain-words diagnostic.
        try:
            parse_source(text, path, kind)
        except NexflowError as e:
            raise FormatError(e.diagnostics) from None
        raise FormatError([_problem(path, "the file could not be read for formatting")]) from None
    leaves: List[Tuple[Token, str]] = []
    starts: Dict[int, str] = {}
    _leaves(tree, leaves, starts)
    items: List[Item] = []
    tokens: List[int] = []
    pos = 0
    for index, (tok, parent) in enumerate(leaves):
        start = tok.start_pos if tok.start_pos is not None else pos
        if start < pos:
            raise FormatError([_problem(path, "the tokens of this file overlap")])
        newlines = _gap(text, pos, start, items, path)
        item = Item(str(tok), newlines=newlines, parent=parent)
        item.line_start = index in starts
        tokens.append(len(items))
        items.append(item)
        pos = tok.end_pos if tok.end_pos is not None else start + len(str(tok))
    _gap(text, pos, len(text), items, path)
    return _Parsed(items, tokens, tree)


def _gap(text: str, start: int, end: int, items: List[Item], path: str) -> int:
    """Appends the comments between two tokens; returns the line breaks before the next token."""
    newlines = 0
    pos = start
    while pos < end:
        m = _GAP.match(text, pos, end)
        if m is None:
            raise FormatError([_problem(path, "unexpected text between tokens")])
        if m.group("ws") is not None:
            newlines += m.group().count("\n")
        else:
            kind = "line" if m.group("line") is not None else "block"
            body = m.group()
            if kind == "line":
                body = body.rstrip()
            else:
                body = "\n".join(line.rstrip() for line in body.split("\n"))
            items.append(Item(body, comment=kind, newlines=newlines))
            newlines = 0
        pos = m.end()
    return newlines


def _problem(path: str, message: str) -> Diagnostic:
    return Diagnostic("NX104", "error", message, Span(path, 1, 1, 1, 2))


# --- the structure the layout follows -----------------------------------------------------------


def _mark_blocks(doc: _Parsed) -> None:
    """Marks block braces. An enum written on one line (no line break or comment between its
    braces) keeps its braces inline; in an enum laid out over lines each member is a
    statement."""
    items = doc.items
    inline: Set[int] = set()
    for enum in doc.nodes("enum_decl"):
        first, last = doc.item_range(enum)
        open_i = next(i for i in range(first, last + 1) if items[i].text == "{")
        if all(
            items[i].newlines == 0 and not items[i].comment for i in range(open_i + 1, last + 1)
        ):
            inline.update((open_i, last))
        else:
            for member in enum.children:
                if isinstance(member, Tree) and member.data == "enum_member":
                    items[doc.item_range(member)[0]].line_start = True
    for i, it in enumerate(items):
        if not it.comment and it.text == "{" and i not in inline:
            it.opens = True
        elif not it.comment and it.text == "}" and i not in inline:
            it.closes = True


def _next_token(items: Sequence[Item], index: int) -> Optional[int]:
    for i in range(index + 1, len(items)):
        if not items[i].comment:
            return i
    return None


# --- inline spacing -----------------------------------------------------------------------------


def _space(prev: Item, cur: Item) -> str:
    """The blanks between two tokens on one line."""
    p, c = prev.text, cur.text
    if c in (",", ")", "]", ":") or p in ("(", "[", "@"):
        return ""
    if c == "." or p == ".":
        return ""
    if c == "?" and cur.parent == "type":
        return ""
    if c in ("(", "[") and cur.parent in _TIGHT_OPEN:
        return ""
    if cur.parent == "generic_type" and c in ("<", ">"):
        return ""
    if prev.parent == "generic_type" and p == "<":
        return ""
    if p == "," and prev.parent == "param_type":
        return ""
    if p == "-" and prev.parent in ("neg", "neg_number"):
        return ""
    return " "


def _inline(items: Sequence[Item]) -> str:
    out = []
    prev: Optional[Item] = None
    for it in items:
        if prev is not None:
            out.append(_space(prev, it))
        out.append(it.text)
        prev = it
    return "".join(out)


# --- decision-table rows in columns -------------------------------------------------------------


def _align_tables(doc: _Parsed) -> Dict[int, Tuple[int, str]]:
    """For every table row that can be aligned: item index of its first token -> (item index
    of its last token, the row's text). A table with a comment inside a row is not aligned."""
    items = doc.items
    result: Dict[int, Tuple[int, str]] = {}
    for table in doc.nodes("table_rows"):
        rows = [c for c in table.children if isinstance(c, Tree) and c.data == "table_row"]
        spans = [doc.item_range(r) for r in rows]
        if not rows or any(items[j].comment for a, b in spans for j in range(a, b + 1)):
            continue
        parsed = [_row_parts(doc, r) for r in rows]
        label_width = max(len(label) + 1 for label, _, _ in parsed)
        ncells = max(len(cells) for _, cells, _ in parsed)
        widths = [
            max((len(cells[k]) + 1 for _, cells, _ in parsed if k < len(cells)), default=0)
            for k in range(ncells)
        ]
        nres = max(len(res) for _, _, res in parsed)
        rwidths = [
            max((len(res[k]) + 1 for _, _, res in parsed if k < len(res) - 1), default=0)
            for k in range(nres)
        ]
        for (first, last), (label, cells, res) in zip(spans, parsed):
            cell_text = []
            for k, cell in enumerate(cells):
                text = cell if k == len(cells) - 1 else cell + ","
                cell_text.append(text.ljust(widths[k]))
            res_text = []
            for k, r in enumerate(res):
                res_text.append(r if k == len(res) - 1 else (r + ",").ljust(rwidths[k]))
            line = (label + ":").ljust(label_width) + " " + " ".join(cell_text)
            result[first] = (last, line + " -> " + " ".join(res_text))
    return result


def _row_parts(doc: _Parsed, row: Tree) -> Tuple[str, List[str], List[str]]:
    """A table row's label, cells and results, each as inline text."""
    items = doc.items
    label = ""
    cells: List[str] = []
    results: List[str] = []
    current: List[Item] = []
    after_arrow = False
    seen_colon = False
    for child in row.children:
        if isinstance(child, Tree):
            first, end = doc.ranges[id(child)]
            current.extend(items[doc.tokens[k]] for k in range(first, end))
            continue
        text = str(child)
        if not seen_colon:
            if text == ":":
                seen_colon = True
            else:
                label = text
        elif text in ("->", ","):
            (results if after_arrow else cells).append(_inline(current))
            current = []
            after_arrow = after_arrow or text == "->"
        else:
            current.append(items[doc.tokens[doc.token_number[id(child)]]])
    if current:
        (results if after_arrow else cells).append(_inline(current))
    return label, cells, results


# --- layout -------------------------------------------------------------------------------------


def _layout(items: List[Item], rows: Dict[int, Tuple[int, str]]) -> str:
    out: List[str] = []
    depth = 0
    brackets: List[int] = []  # indent level of the line where each open bracket is
    line_level = 0  # indent level of the current output line
    prev: Optional[Item] = None
    i = 0

    def newline(level: int, blank: bool) -> None:
        nonlocal line_level
        out.append("\n\n" if blank else "\n")
        out.append(INDENT * level)
        line_level = level

    def continuation_level() -> int:
        return (brackets[-1] + 1) if brackets else depth + 1

    while i < len(items):
        it = items[i]
        if it.comment:
            if prev is None:
                pass
            elif it.newlines == 0:
                out.append(" ")
            else:
                nxt = _next_token(items, i)
                between = (
                    nxt is None
                    or items[nxt].line_start
                    or items[nxt].closes
                    or (prev is not None and not prev.comment and prev.opens)
                )
                level = depth if between and not brackets else continuation_level()
                blank = it.newlines >= 2 and not (prev is not None and prev.opens)
                newline(level, blank)
            out.append(it.text)
            prev = it
            i += 1
            continue
        if it.closes:
            depth -= 1
            brackets.clear()
        if prev is None:
            pass
        elif it.closes:
            if prev.opens:
                pass  # an empty block: {}
            else:
                newline(depth, False)
        elif prev.comment == "line" or (prev.comment == "block" and it.newlines > 0):
            if it.line_start and not brackets:
                newline(depth, it.newlines >= 2)
            else:
                closing = _closing_level(it, brackets)
                newline(closing if closing is not None else continuation_level(), False)
        elif prev.opens:
            newline(depth, False)
        elif it.line_start and not brackets:
            newline(depth, it.newlines >= 2 and not prev.opens)
        elif it.opens:
            out.append(" ")
        elif it.newlines > 0:
            closing = _closing_level(it, brackets)
            newline(closing if closing is not None else continuation_level(), False)
        else:
            out.append(_space(prev, it) if not prev.comment else " ")
        if i in rows:
            last, text = rows[i]
            out.append(text)
            prev = items[last]
            i = last + 1
            continue
        out.append(it.text)
        if it.text in ("(", "[") and not it.comment:
            brackets.append(line_level)
        elif it.text in (")", "]") and brackets and not it.comment:
            brackets.pop()
        if it.opens:
            depth += 1
            brackets.clear()
        prev = it
        i += 1
    text = "".join(out)
    return text + "\n" if text else ""


def _closing_level(it: Item, brackets: List[int]) -> Optional[int]:
    """A closing bracket that starts a line lines up with the line that opened it."""
    if it.text in (")", "]") and brackets:
        return brackets[-1]
    return None


# --- the formatter ------------------------------------------------------------------------------


def _without_spans(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_spans(v) for k, v in value.items() if k != "span"}
    if isinstance(value, list):
        return [_without_spans(v) for v in value]
    return value


def same_ast(a: str, b: str, path: str, kind: Optional[str] = None) -> bool:
    """Whether two texts parse to the same AST, positions aside."""
    try:
        left = parse_source(a, path, kind)
        right = parse_source(b, path, kind)
    except NexflowError:
        return False
    return _without_spans(msgspec.to_builtins(left)) == _without_spans(msgspec.to_builtins(right))


def format_source(text: str, path: str, kind: Optional[str] = None) -> str:
    """The canonical form of one DSL file. Raises FormatError (with diagnostics) for a file that
    does not parse; never returns text that means something else."""
    k = kind or kind_of(path)
    if k is None:
        raise FormatError(
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
    text = text.replace("\r\n", "\n")
    try:
        parse_source(text, path, k)
    except NexflowError as e:
        raise FormatError(e.diagnostics) from None
    doc = _read(text, path, k)
    _mark_blocks(doc)
    rows = _align_tables(doc)
    result = _layout(doc.items, rows)
    if not same_ast(text, result, path, k):
        raise FormatError(
            [_problem(path, "the formatter could not keep this file's meaning; it is left as is")]
        )
    return result


# --- the command --------------------------------------------------------------------------------


def run_fmt(args: argparse.Namespace) -> int:
    from nexflow_core.project import discover

    files = []
    for p in args.paths:
        if not Path(p).exists():
            sys.stderr.write(f"nexflow fmt: error: {p}: no such file or directory\n")
            return 1
    files = discover(args.paths)
    changed: List[str] = []
    failed = 0
    for file in files:
        try:
            raw = Path(file).read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            sys.stderr.write(f"nexflow fmt: error: {file}: cannot read the file as UTF-8 ({e})\n")
            failed += 1
            continue
        try:
            formatted = format_source(text, file)
        except FormatError as e:
            for d in e.diagnostics:
                sys.stderr.write(render_one(d, {file: text}) + "\n\n")
            failed += 1
            continue
        if formatted.encode("utf-8") == raw:
            continue
        changed.append(file)
        if args.check:
            sys.stdout.write(f"would reformat {file}\n")
        else:
            try:
                Path(file).write_bytes(formatted.encode("utf-8"))
            except OSError as e:
                sys.stderr.write(f"nexflow fmt: error: {file}: cannot write ({e.strerror})\n")
                failed += 1
                changed.pop()
                continue
            sys.stdout.write(f"reformatted {file}\n")
    verb = "would be reformatted" if args.check else "reformatted"
    summary = f"{len(changed)} file(s) {verb}, {len(files) - len(changed) - failed} unchanged"
    if failed:
        summary += f", {failed} not formatted (errors above)"
    sys.stdout.write(summary + "\n")
    if failed or (args.check and changed):
        return 1
    return 0
