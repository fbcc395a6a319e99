"""The Python distribution, as `./pants package nexflow_core:dist` builds it: installed with pip
into a fresh virtualenv, its `nexflow` command creates a project and builds it with
`--verify` (the one test that runs Maven; it reuses ~/.m2)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest


def artifact(pattern: str) -> Path:
    found = sorted(Path.cwd().rglob(pattern))
    if not found:
        pytest.skip(
            f"no {pattern} here: run through `./pants test tests/cli:dist`, which builds it"
        )
    return found[0]


def clean_env() -> Dict[str, str]:
    """The caller's environment without anything that points Python at the test's own code."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PEX_", "PYTHON")) and k not in ("VIRTUAL_ENV", "__PEX_EXE__")
    }


def run(argv: List[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    r = subprocess.run(
        argv, cwd=str(cwd), env=clean_env(), capture_output=True, text=True, timeout=timeout
    )
    assert r.returncode == 0, f"{argv}\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"
    return r


def test_wheel_contents() -> None:
    wheel = artifact("nexflow-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    for data in (
        "nexflow_core/syntax/common.lark",
        "nexflow_core/syntax/proc.lark",
        "nexflow_core/generate/flink/templates/job.java.j2",
        "nexflow_core/generate/flink/runtime/Stores.java",
        "nexflow_core/generate/java/templates/record.java.j2",
        "nexflow_core/generate/java/runtime/Ops.java",
        "nexflow_core/tool/templates/init/nexflow.toml.j2",
        "nexflow_core/tool/templates/init/src/orders.schema",
        "nexflow_core/tool/templates/init/gitignore",
        "nexflow_core/tool/fmt.py",
        "nexflow_core/cli.py",
    ):
        assert data in names, data
    assert "nexflow = nexflow_core.cli:main" in entry
    for requirement in ("Requires-Dist: lark", "Requires-Dist: jinja2", "Requires-Dist: msgspec"):
        assert requirement in meta
    assert "Requires-Python: >=3.9" in meta
    assert not any(n.startswith(("tests/", "pants-plugins/", "examples/")) for n in names)


def test_pip_install_init_build_verify(tmp_path: Path) -> None:
    wheel = artifact("nexflow-*.whl")
    venv = tmp_path / "venv"
    python = getattr(sys, "_base_executable", None) or sys.executable
    run([python, "-m", "venv", str(venv)], tmp_path)
    bin_dir = venv / "bin"
    run([str(bin_dir / "pip"), "install", "--quiet", str(wheel.resolve())], tmp_path)
    version = run([str(bin_dir / "nexflow"), "--version"], tmp_path)
    assert version.stdout.strip() == "nexflow 0.1.0"
    where = run(
        [str(bin_dir / "python"), "-c", "import nexflow_core; print(nexflow_core.__file__)"],
        tmp_path,
    )
    assert str(venv) in where.stdout  # the installed package, not this checkout

    run([str(bin_dir / "nexflow"), "init", "demo"], tmp_path)
    project = tmp_path / "demo"
    build = run([str(bin_dir / "nexflow"), "build", "--verify"], project, timeout=900)
    assert "built 6 units (6 compiled, 0 up to date)" in build.stdout, build.stdout
    assert "verified   the generated Java compiles" in build.stdout, build.stdout
    classes = project / "build/nexflow/target/classes/com/example/demo"
    assert (classes / "LargeOrdersJob.class").is_file()
    assert (classes / "Order.class").is_file()
    again = run([str(bin_dir / "nexflow"), "build"], project)
    assert "(0 compiled, 6 up to date)" in again.stdout
    fmt = run([str(bin_dir / "nexflow"), "fmt", "--check", "src"], project)
    assert "0 file(s) would be reformatted" in fmt.stdout
