"""`nexflow check` / `python -m nexflow_core check`: output formats and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT  # pants: no-infer-dep

from nexflow_core.cli import main


def test_clean_examples_exit_zero(capsys: object) -> None:
    assert main(["check", os.path.join(ROOT, "examples", "payments")]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "no problems" in out


def test_errors_exit_one_with_location_and_caret(tmp_path: object, capsys: object) -> None:
    bad = os.path.join(str(tmp_path), "bad.proc")
    with open(bad, "w") as f:
        f.write("proc P {\n  from nowhere\n}\n")
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert f"{bad}:2:3: error[NX205]" in out
    assert "^" in out


def test_json_format(tmp_path: object, capsys: object) -> None:
    bad = os.path.join(str(tmp_path), "bad.schema")
    with open(bad, "w") as f:
        f.write("schema A { x: Nope }\n")
    assert main(["check", "--format", "json", bad]) == 1
    doc = json.loads(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert doc["errors"] == 1
    (d,) = doc["diagnostics"]
    assert d["code"] == "NX201" and d["span"]["line"] == 1 and d["span"]["column"] == 15
    assert d["title"] == "unknown type or schema"


def test_warnings_alone_exit_zero(tmp_path: object) -> None:
    with open(os.path.join(str(tmp_path), "a.schema"), "w") as f:
        f.write("schema A { x: string? y: string }\nstream s: A\n")
    with open(os.path.join(str(tmp_path), "t.transform"), "w") as f:
        f.write("transform t { input a: A output string compute a.x }\n")
    assert main(["check", str(tmp_path)]) == 0


def test_module_entry_point() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "nexflow_core", "check", os.path.join(ROOT, "examples", "hello")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "nexflow_core", "check", "missing.proc"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1 and "NX105" in r.stdout
