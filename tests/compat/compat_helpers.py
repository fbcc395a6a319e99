"""Helpers of the upgrade-gate tests: describe the jobs of DSL sources held in memory, as a
build of a project of those files would (whole-project check, one Java package)."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from nexflow_core.compat import state
from nexflow_core.diagnostics import render_text
from nexflow_core.project import check_project

PACKAGE = "nexflow.tests.compat"


def describe(sources: Mapping[str, str], environment: Optional[str] = None) -> Dict[str, Any]:
    """Job name -> state description of the procs in `sources` (path -> text)."""
    project = check_project(dict(sources))
    assert project.ok, render_text(project.diagnostics, project.sources)
    packages = {path: PACKAGE for path in project.modules}
    return state.describe_checked(project, packages, environment)
