"""A syntax error in one file is reported once, not again as dozens of unknown names in the
files that use what it declares (NX107 says how many were held back, per file)."""

from __future__ import annotations

from conftest import example_sources  # pants: no-infer-dep

from nexflow_core.diagnostics import render_text
from nexflow_core.project import check_project

BROKEN = "examples/card-fraud/authorization.schema"


def test_a_syntax_error_upstream_is_one_error() -> None:
    sources = example_sources("card-fraud")
    assert check_project(sources).diagnostics == []
    # `auth_id: string` without its colon.
    sources[BROKEN] = sources[BROKEN].replace(": string", " string", 1)
    project = check_project(sources)
    errors = [d for d in project.diagnostics if d.is_error]
    assert [(d.code, d.span.file) for d in errors] == [("NX101", BROKEN)], render_text(
        project.diagnostics, project.sources
    )
    held = [d for d in project.diagnostics if not d.is_error]
    assert held and all(d.code == "NX107" and BROKEN in d.message for d in held)
    assert "examples/card-fraud/card_fraud.proc" in {d.span.file for d in held}


def test_errors_that_are_not_about_the_broken_files_names_are_still_reported() -> None:
    sources = example_sources("card-fraud")
    sources[BROKEN] = sources[BROKEN].replace(": string", " string", 1)
    proc = "examples/card-fraud/card_fraud.proc"
    sources[proc] = sources[proc].replace("emit to", "emit to no_such_stream_x\n    emit to", 1)
    project = check_project(sources)
    assert any(
        d.code == "NX205" and "no_such_stream_x" in d.message for d in project.diagnostics
    ), render_text(project.diagnostics, project.sources)
