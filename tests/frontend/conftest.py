"""Shared helpers for the front-end tests. The fuzz corpus (seeds, fragments, mutations) lives
in tests/fuzz_corpus.py, which tests/generate draws from too; its names are re-exported here
for the tests that import them from conftest."""

from __future__ import annotations

import pytest

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
    with_prelude,
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


def check_with_prelude(blocks: dict[str, str]) -> CheckedProject:
    """Check doc blocks (path -> text) together with the prelude files whose names they do
    not redefine (a block may declare its own PaymentEvent, say)."""
    return check_project(with_prelude(blocks))
