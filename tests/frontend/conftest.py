"""Shared helpers for the front-end tests."""

from __future__ import annotations

import os
import re

import pytest

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
