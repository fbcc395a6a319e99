"""Shared helpers for the front-end tests."""

from __future__ import annotations

import os

import pytest

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
