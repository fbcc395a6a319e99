"""Shared helpers for the front-end tests. The fuzz corpus (seeds, fragments, mutations) lives
in tests/fuzz_corpus.py, which tests/generate draws from too; its names are re-exported here
for the tests that import them from conftest."""

from __future__ import annotations

import pytest

from nexflow_core.diagnostics import NexflowError
from nexflow_core.project import CheckedProject, check_project
from tests.fuzz_corpus import (
    FRAGMENTS,
    KINDS,
    ROOT,
    SEEDS,
    example_sources,
    fenced_blocks,
    mutated,
    prelude_sources,
    read,
)

__all__ = [
    "DSL_TAGS",
    "FRAGMENTS",
    "KINDS",
    "ROOT",
    "SEEDS",
    "check_with_prelude",
    "example_sources",
    "fenced_blocks",
    "mutated",
    "prelude_sources",
    "read",
]


@pytest.fixture
def root() -> str:
    return ROOT


# --- documentation examples ---------------------------------------------------------------
DSL_TAGS = ("schema", "transform", "rules", "proc", "infra")


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
