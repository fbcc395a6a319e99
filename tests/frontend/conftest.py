"""Shared helpers for the front-end tests."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import strategies as st

from nexflow_core.diagnostics import NexflowError
from nexflow_core.project import CheckedProject, check_project

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(rel: str) -> str:
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def example_sources(name: str) -> dict[str, str]:
    """path -> text for every DSL file of examples/<name> (paths relative to the repo)."""
    base = os.path.join(ROOT, "examples", name)
    out = {}
    for fn in sorted(os.listdir(base)):
        if os.path.splitext(fn)[1] in (".schema", ".transform", ".rules", ".proc", ".infra"):
            out[f"examples/{name}/{fn}"] = read(f"examples/{name}/{fn}")
    return out


@pytest.fixture
def root() -> str:
    return ROOT


# --- documentation examples ---------------------------------------------------------------
DSL_TAGS = ("schema", "transform", "rules", "proc", "infra")
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


def _declared(text: str, path: str) -> set[str]:
    from nexflow_core.syntax import parse_source

    try:
        return {getattr(d, "name", "") for d in parse_source(text, path).decls}
    except NexflowError:
        return set()


def check_with_prelude(blocks: dict[str, str]) -> CheckedProject:
    """Check doc blocks (path -> text) together with the prelude files whose names they do
    not redefine (a block may declare its own PaymentEvent, say)."""
    names: set[str] = set()
    for path, text in blocks.items():
        names |= _declared(text, path)
    sources = dict(blocks)
    for path, text in prelude_sources().items():
        if not (_declared(text, path) & names):
            sources[path] = text
    return check_project(sources)


# --- generated input for the property-based tests ----------------------------------------
KINDS = ("schema", "transform", "rules", "proc", "infra")


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
