"""Helpers for the `nexflow` tool tests: run the command line in-process, make projects.

A module of its own (not conftest.py): tests/frontend has a conftest module too, and test
files import helpers by module name."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Iterator, List, NamedTuple, Optional

from nexflow_core.cli import main
from nexflow_core.tool.init import init_project

# The repository root: the Pants sandbox root, or the checkout when pytest runs directly.
ROOT = Path(__file__).resolve().parent.parent.parent
if not (ROOT / "examples").is_dir():
    ROOT = Path.cwd()


class Run(NamedTuple):
    code: int
    out: str
    err: str


@contextlib.contextmanager
def _cwd(path: Optional[Path]) -> Iterator[None]:
    old = Path.cwd()
    if path is not None:
        os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def nexflow(*argv: str, cwd: Optional[Path] = None) -> Run:
    """Runs `nexflow ARGV…` in this process (fast: no interpreter start) and captures output."""
    out, err = io.StringIO(), io.StringIO()
    with _cwd(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse errors and --version
            code = int(e.code or 0)
    return Run(code, out.getvalue(), err.getvalue())


def make_project(tmp_path: Path) -> Path:
    """A fresh `nexflow init` project."""
    root = tmp_path / "demo"
    init_project(root)
    return root


def java_files(output: Path) -> List[str]:
    return sorted(p.relative_to(output).as_posix() for p in output.rglob("*.java"))


def snapshot(output: Path) -> dict:
    """Every file under `output` (but the build state) with its bytes and mtime."""
    out = {}
    for p in sorted(output.rglob("*")):
        if p.is_file() and ".nexflow" not in p.relative_to(output).parts:
            out[p.relative_to(output).as_posix()] = (p.read_bytes(), p.stat().st_mtime_ns)
    return out
