"""Every example in docs/language/*.md parses and checks clean (with the shared prelude in
docs/language/prelude/ for the names it does not declare itself)."""

from __future__ import annotations

import os

import pytest
from conftest import DSL_TAGS, ROOT, check_with_prelude, fenced_blocks, read  # pants: no-infer-dep

from nexflow_core.diagnostics import render_text

PAGES = ["schema.md", "transform.md", "rules.md", "proc.md", "infra.md", "expressions.md"]


def _examples() -> list[tuple[str, int, str, str]]:
    out = []
    for page in PAGES:
        text = read(f"docs/language/{page}")
        for tag, body, line in fenced_blocks(text):
            if tag in DSL_TAGS:
                out.append((page, line, tag, body))
    return out


EXAMPLES = _examples()


def test_every_page_exists_and_has_examples() -> None:
    for page in PAGES:
        assert os.path.exists(os.path.join(ROOT, "docs", "language", page)), page
    pages_with_examples = {p for p, _, _, _ in EXAMPLES}
    assert pages_with_examples == set(PAGES)
    assert len(EXAMPLES) >= 40


@pytest.mark.parametrize(
    ("page", "line", "tag", "body"), EXAMPLES, ids=[f"{p}:{ln}" for p, ln, _, _ in EXAMPLES]
)
def test_doc_example_checks_clean(page: str, line: int, tag: str, body: str) -> None:
    path = f"docs/language/{page}:{line}.{tag}"
    project = check_with_prelude({path: body})
    assert project.diagnostics == [], render_text(project.diagnostics, project.sources)


def test_prelude_checks_clean() -> None:
    project = check_with_prelude({})
    assert project.diagnostics == [], render_text(project.diagnostics, project.sources)
