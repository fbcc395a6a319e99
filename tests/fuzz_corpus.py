"""The fuzz corpus: DSL text the property-based tests draw from, shared by tests/frontend
(parser and checker never crash) and tests/generate (what `check` accepts builds).

- `SEEDS`: every DSL block of docs/language/*.md, the hello and payments examples and the
  prelude, by kind.
- `mutated(kind)`: a seed with character-level damage (cuts, `FRAGMENTS`, random text, splices
  of other seeds, CRLF, a BOM); almost never passes `check`.
- `token_mutated(text)`: a seed changed at the token level in ways a user might (a number
  changed, a line dropped, duplicated or moved, a name swapped for another of the same file, an
  operator or unit swapped for another of its class); a good share still passes `check`.
- `seed_projects()`: whole programs to mutate (example projects, doc examples with the prelude
  files they do not redefine, the card pipelines).
"""

from __future__ import annotations

import os
import re

from hypothesis import strategies as st

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINDS = ("schema", "transform", "rules", "proc", "infra")


def read(rel: str) -> str:
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def example_sources(name: str) -> dict[str, str]:
    """path -> text for every DSL file of examples/<name> (paths relative to the repo)."""
    base = os.path.join(ROOT, "examples", name)
    out = {}
    for fn in sorted(os.listdir(base)):
        if os.path.splitext(fn)[1][1:] in KINDS:
            out[f"examples/{name}/{fn}"] = read(f"examples/{name}/{fn}")
    return out


_FENCE = re.compile(r"^```([A-Za-z0-9_-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def fenced_blocks(markdown: str) -> list[tuple[str, str, int]]:
    """(tag, body, line of the opening fence) for every fenced block."""
    out = []
    for m in _FENCE.finditer(markdown):
        line = markdown.count("\n", 0, m.start()) + 1
        out.append((m.group(1), m.group(2), line))
    return out


def prelude_sources() -> dict[str, str]:
    base = os.path.join(ROOT, "docs", "language", "prelude")
    return {
        f"docs/language/prelude/{fn}": read(f"docs/language/prelude/{fn}")
        for fn in sorted(os.listdir(base))
        if os.path.splitext(fn)[1] in (".schema", ".transform", ".rules")
    }


def _seeds() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for page in sorted(os.listdir(os.path.join(ROOT, "docs", "language"))):
        if page.endswith(".md"):
            for tag, body, _ in fenced_blocks(read(f"docs/language/{page}")):
                if tag in out:
                    out[tag].append(body)
    for name in ("hello", "payments"):
        for path, text in example_sources(name).items():
            out[path.rsplit(".", 1)[1]].append(text)
    for path, text in prelude_sources().items():
        out[path.rsplit(".", 1)[1]].append(text)
    return out


SEEDS = _seeds()
FRAGMENTS = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    ":",
    ",",
    ".",
    "..",
    "->",
    "@",
    "?",
    "=",
    "==",
    "!=",
    "-",
    "+",
    "*",
    "/",
    "%",
    '"',
    '"x"',
    "\\",
    "//",
    "/*",
    "*/",
    "\n",
    "\r\n",
    "\t",
    " ",
    "\ufeff",
    "\u00a0",
    "\u200b",
    "é",
    "日本",
    "🙂",
    "\x00",
    "0",
    "10.25",
    "5 minutes",
    "99999999999999999999999999999999999999999",
    "1" * 400,
    "not",
    "in",
    "is",
    "null",
    "if",
    "then",
    "else",
    "and",
    "or",
    "true",
    "false",
    "schema",
    "stream",
    "store",
    "enum",
    "transform",
    "input",
    "output",
    "map",
    "compute",
    "let",
    "lookup",
    "ruleset",
    "rule",
    "when",
    "priority",
    "high",
    "decision_table",
    "hit_policy",
    "unique",
    "inputs",
    "outputs",
    "rules",
    "proc",
    "from",
    "filter",
    "emit",
    "to",
    "apply",
    "correlate",
    "within",
    "on",
    "timeout",
    "window",
    "tumbling",
    "key",
    "by",
    "aggregate",
    "into",
    "join",
    "as",
    "environment",
    "extends",
    "streams",
    "kafka",
    'env("X")',
    "class",
    "default",
    "decimal(10,2)",
    "list<string>",
    "payment.amount",
    "count()",
]


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> str:
    text = draw(st.sampled_from(SEEDS[kind]))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.integers(0, 3))
        if op == 0:
            text = text[:pos] + text[pos + draw(st.integers(1, 20)) :]
        elif op == 1:
            text = text[:pos] + draw(st.sampled_from(FRAGMENTS)) + text[pos:]
        elif op == 2:
            text = text[:pos] + draw(st.text(max_size=6)) + text[pos:]
        else:
            other = draw(st.sampled_from(SEEDS[draw(st.sampled_from(KINDS))]))
            a = draw(st.integers(0, len(other)))
            text = text[:pos] + other[a : a + draw(st.integers(1, 60))] + text[pos:]
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return text


# --- token-level mutations ---------------------------------------------------------------
# Tokens of the DSLs closely enough for mutation: comments and strings first (so nothing
# inside them is taken for a name), then numbers, names and operators.
_TOKEN = re.compile(
    r"//[^\n]*|/\*.*?\*/|\"(?:[^\"\\\n]|\\.)*\"|\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*"
    r"|==|!=|<=|>=|->|\.\.|[<>+\-*/%]"
)
# Tokens that may stand in for each other: a user's typical slip or change of mind.
_CLASSES = [
    ("==", "!=", "<", "<=", ">", ">="),
    ("+", "-", "*"),
    ("and", "or"),
    ("true", "false"),
    ("second", "seconds", "minute", "minutes", "hour", "hours", "day", "days"),
    ("int", "long", "double", "string", "boolean", "datetime", "date"),
    ("count", "sum", "min", "max", "avg", "first", "last"),
    ("low", "medium", "high", "critical"),
    ("tumbling", "sliding", "session"),
    ("emit", "dead_letter"),
    ("async", "sync"),
]
_CLASS_OF = {tok: cls for cls in _CLASSES for tok in cls}
_NUMBERS = ("0", "1", "2", "3", "7", "10", "60", "100", "1000", "0.5", "2.50")


def tokens(text: str) -> list[tuple[int, int, str]]:
    return [
        (m.start(), m.end(), m.group())
        for m in _TOKEN.finditer(text)
        if not m.group().startswith(("//", "/*"))
    ]


def _block_end(lines: list[str], i: int) -> int:
    """The index after the line that closes the brace opened on line i (i + 1 if none)."""
    depth = 0
    for j in range(i, len(lines)):
        depth += lines[j].count("{") - lines[j].count("}")
        if depth <= 0:
            return j + 1
    return i + 1


@st.composite
def token_mutated(draw: st.DrawFn, text: str) -> str:
    """`text` with one to three changes at the token or line level (see the module doc)."""
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.integers(0, 7))
        toks = tokens(text)
        lines = text.split("\n")
        body = [i for i, line in enumerate(lines) if line.strip() not in ("", "{", "}")]
        if op == 0:  # a number changed
            nums = [t for t in toks if t[2][0].isdigit()]
            if nums:
                a, b, _ = draw(st.sampled_from(nums))
                text = text[:a] + draw(st.sampled_from(_NUMBERS)) + text[b:]
        elif op == 1:  # a name swapped for another name of the same file
            names = [t for t in toks if t[2][0].isalpha() or t[2][0] == "_"]
            if names:
                a, b, _ = draw(st.sampled_from(names))
                other = draw(st.sampled_from(sorted({t[2] for t in names})))
                text = text[:a] + other + text[b:]
        elif op == 2:  # an operator, keyword or unit swapped within its class
            swappable = [t for t in toks if t[2] in _CLASS_OF]
            if swappable:
                a, b, tok = draw(st.sampled_from(swappable))
                text = text[:a] + draw(st.sampled_from(_CLASS_OF[tok])) + text[b:]
        elif op == 3:  # a string literal swapped for another of the file
            strings = [t for t in toks if t[2].startswith('"')]
            if strings:
                a, b, _ = draw(st.sampled_from(strings))
                text = text[:a] + draw(st.sampled_from(sorted({t[2] for t in strings}))) + text[b:]
        elif body and op == 4:  # a line (a field, a clause, a statement) or a block dropped
            i = draw(st.sampled_from(body))
            j = _block_end(lines, i) if draw(st.booleans()) else i + 1
            text = "\n".join(lines[:i] + lines[j:])
        elif body and op == 5:  # a line duplicated
            i = draw(st.sampled_from(body))
            text = "\n".join(lines[: i + 1] + lines[i:])
        elif body and op == 6:  # two lines (statements, fields, rules) swapped
            i, j = draw(st.sampled_from(body)), draw(st.sampled_from(body))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif body:  # a line moved, with any block it opens
            i = draw(st.sampled_from(body))
            j = _block_end(lines, i)
            moved, rest = lines[i:j], lines[:i] + lines[j:]
            k = draw(st.integers(0, len(rest)))
            text = "\n".join(rest[:k] + moved + rest[k:])
    return text


# --- whole programs to mutate ----------------------------------------------------------------
def _declared(text: str, path: str) -> set[str]:
    from nexflow_core.diagnostics import NexflowError
    from nexflow_core.syntax import parse_source

    try:
        return {getattr(d, "name", "") for d in parse_source(text, path).decls}
    except NexflowError:
        return set()


def with_prelude(blocks: dict[str, str]) -> dict[str, str]:
    """Doc blocks (path -> text) with the prelude files whose names they do not declare."""
    names: set[str] = set()
    for path, text in blocks.items():
        names |= _declared(text, path)
    sources = dict(blocks)
    for path, text in prelude_sources().items():
        if not (_declared(text, path) & names):
            sources[path] = text
    return sources


def seed_projects() -> dict[str, dict[str, str]]:
    """name -> sources (path -> text): the example projects, every DSL block of the language
    reference with the prelude, and the card pipelines of tests/pipelines/cards. Some do not
    check (doc examples of errors); the caller keeps those that do."""
    out: dict[str, dict[str, str]] = {}
    for name in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        if os.path.isdir(os.path.join(ROOT, "examples", name)):
            out[name.replace("-", "_")] = example_sources(name)
    for page in sorted(os.listdir(os.path.join(ROOT, "docs", "language"))):
        if page.endswith(".md"):
            for tag, body, line in fenced_blocks(read(f"docs/language/{page}")):
                if tag in KINDS:
                    path = f"docs/language/{page}:{line}.{tag}"
                    out[f"{page[:-3]}_{line}"] = with_prelude({path: body})
    cards = os.path.join("tests", "pipelines", "cards")
    out["cards"] = {
        f"{cards}/{fn}": read(f"{cards}/{fn}")
        for fn in sorted(os.listdir(os.path.join(ROOT, cards)))
        if os.path.splitext(fn)[1][1:] in KINDS
    }
    return out
