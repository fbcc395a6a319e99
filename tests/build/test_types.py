"""mypy over the compiler and the Pants plugin, with the project's mypy.ini: CI runs only
`./pants test ::`, so a type error fails CI here (`./pants check ::` runs the same checks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# This file is tests/build/test_types.py: the repository (or the test sandbox) is two levels up.
REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "mypy.ini"


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(CONFIG),
            # Each run starts from nothing: a stale cache must not hide an error.
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            *args,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _assert_clean(run: subprocess.CompletedProcess[str]) -> None:
    if run.returncode != 0 or "Success: no issues found" not in run.stdout:
        pytest.fail(
            "mypy found type errors (fix them; an ignore needs a code and a reason):\n"
            f"{run.stdout}{run.stderr}",
            pytrace=False,
        )


def test_the_compiler_type_checks() -> None:
    # mypy runs in this test's own environment: the lockfile's lark, jinja2 and msgspec.
    _assert_clean(_mypy("nexflow_core"))


def test_the_pants_plugin_type_checks_against_pants_own_types() -> None:
    # The plugin imports Pants, which is not in our resolve (Pants 2.17 runs on Python 3.9
    # only); the Python that runs Pants has it, and ./pants names it.
    pants_python = os.environ.get("NEXFLOW_PANTS_PYTHON")
    if not pants_python:
        pytest.fail(
            "NEXFLOW_PANTS_PYTHON is not set: run this test with `./pants test "
            "tests/build/test_types.py` (./pants exports it), or set it to the Python of "
            "the Pants virtualenv ($NEXFLOW_BOOTSTRAP_HOME/pants-<version>-<key>/bin/python)"
        )
    _assert_clean(_mypy("--python-executable", pants_python, "-p", "nexflow"))
