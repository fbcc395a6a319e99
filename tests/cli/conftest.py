"""Fixtures of the `nexflow` tool tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import make_project  # pants: no-infer-dep


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh `nexflow init` project."""
    return make_project(tmp_path)
