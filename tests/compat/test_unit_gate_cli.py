"""The gate as build systems run it: `nexflow compile FILE --compat-baseline DIR` per build unit
(what `pants check` runs for each Nexflow target) and `nexflow baseline --from-jar`, which takes
the baseline a job jar carries (META-INF/nexflow/baseline/, written by the Pants backend).

The units are compiled from the project's directory with the same relative paths and Java
package `nexflow baseline` used, as Pants compiles them from the build root."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest

from nexflow_core.compat.baseline import JAR_DIR, read_baseline
from tests.compat.test_gate_cli import PROC, SCHEMA, _project, _run

PACKAGE = ["--java-package", "com.example.gate"]


def _interfaces(capsys: pytest.CaptureFixture) -> List[str]:
    """Compiles the schema and infra units (cwd: the project); the --interface arguments."""
    argv: List[str] = []
    for unit in ("src/orders.schema", "src/local.infra"):
        out = f"ifaces/{unit}.nxi"
        code, _, err = _run(capsys, "compile", unit, *PACKAGE, "--interface-out", out, *argv)
        assert code == 0, err
        argv += ["--interface", out]
    return argv


def _gate_proc(capsys: pytest.CaptureFixture, *extra: str) -> tuple:
    upstream = _interfaces(capsys)
    return _run(capsys, "compile", "src/large.proc", *PACKAGE, *upstream, "--environment",
                "local", "--compat-baseline", "base", *extra)  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> Path:
    root = _project(tmp_path / "p")
    monkeypatch.chdir(root)
    code, _, err = _run(capsys, "baseline", "--output-dir", "base")
    assert code == 0, err
    return root


def test_an_unchanged_proc_passes_and_says_its_verdict(
    project: Path, capsys: pytest.CaptureFixture
) -> None:
    code, stdout, err = _gate_proc(capsys)
    assert code == 0, stdout + err
    assert stdout == "Large: compatible\n"


def test_a_renamed_state_stops_the_unit_unless_its_loss_is_allowed(
    project: Path, capsys: pytest.CaptureFixture
) -> None:
    (project / "src" / "large.proc").write_text(PROC.replace("last_quantity", "previous_quantity"))
    code, stdout, err = _gate_proc(capsys)
    assert code == 1
    assert "Large: compatible, loses previous_quantity" in stdout
    assert "not allowed (accept it with --allow-loss Large.previous_quantity)" in stdout
    assert "src/large.proc:5:1: warning[NX603]" in err

    # Allowances of another unit's jobs are not this unit's to warn about.
    code, stdout, err = _gate_proc(capsys, "--allow-loss", "Large.previous_quantity",
                                   "--allow-loss", "Other.count")  # fmt: skip
    assert code == 0, stdout + err
    assert "loses previous_quantity: allowed" in stdout
    assert "Other.count" not in stdout


def test_a_removed_operator_is_incompatible_unless_non_restored_state_is_allowed(
    project: Path, capsys: pytest.CaptureFixture
) -> None:
    # The first state names the keyed operator's uid: renaming it removes the operator.
    (project / "src" / "large.proc").write_text(PROC.replace("seen", "count"))
    code, stdout, err = _gate_proc(capsys)
    assert code == 1
    assert "Large: incompatible" in stdout and "[NX601]" in err
    code, stdout, err = _gate_proc(capsys, "--allow-non-restored-state", "--allow-loss",
                                   "Large.seen", "--allow-loss", "Large.last_quantity")  # fmt: skip
    assert code == 0, stdout + err


def test_a_schema_unit_reports_its_broken_contracts_only(
    project: Path, capsys: pytest.CaptureFixture
) -> None:
    code, stdout, err = _run(capsys, "compile", "src/orders.schema", *PACKAGE,
                             "--compat-baseline", "base")  # fmt: skip
    assert (code, stdout) == (0, ""), err
    # A schema unit reads no job's state description (Pants gives it none).
    shutil.copytree(project / "base", project / "interfaces-only")
    (project / "interfaces-only" / "Large.state.json").unlink()
    code, stdout, err = _run(capsys, "compile", "src/orders.schema", *PACKAGE,
                             "--compat-baseline", "interfaces-only")  # fmt: skip
    assert (code, stdout) == (0, ""), err
    (project / "src" / "orders.schema").write_text(
        SCHEMA.replace("quantity: int\n", "quantity: int\n    channel: string\n")
    )
    code, stdout, err = _run(capsys, "compile", "src/orders.schema", *PACKAGE,
                             "--compat-baseline", "base")  # fmt: skip
    assert code == 1
    found = [line for line in stdout.splitlines() if "[NX622]" in line]
    assert len(found) == 2  # orders and large_orders carry Order
    assert all(line.startswith("src/orders.schema:5:") for line in found)
    # The proc reads the stream but does not declare it: its unit has nothing to say about it.
    (project / "src" / "large.proc").write_text(PROC)
    code, stdout, err = _gate_proc(capsys)
    assert code == 0 and "NX622" not in stdout + err


def test_an_unreadable_baseline_is_exit_2(project: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = _run(capsys, "compile", "src/orders.schema", *PACKAGE, "--compat-baseline",
                        "no-such-dir")  # fmt: skip
    assert code == 2 and "no-such-dir" in err and "is not a baseline" in err


def _jar(path: Path, files: Dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        jar.writestr("com/example/gate/LargeJob.class", b"\xca\xfe")
        for name, data in sorted(files.items()):
            jar.writestr(JAR_DIR + name, data)
    return path


def _baseline_files(directory: Path) -> Dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_baseline_from_jars_merges_what_they_carry(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    files = _baseline_files(project / "base")
    index = json.loads(files["baseline.json"])
    # Two jars of one release: one with the job, one with the schema's interface only.
    job_jar = _jar(tmp_path / "large.jar", files)
    schema_only = {
        "baseline.json": json.dumps({"format": 1, "environment": None, "jobs": []}).encode(),
        "interfaces/src/orders.schema.nxi": files["interfaces/src/orders.schema.nxi"],
    }
    other_jar = _jar(tmp_path / "other.jar", schema_only)
    code, stdout, err = _run(capsys, "baseline", "--from-jar", str(job_jar), "--from-jar",
                             str(other_jar), "--output-dir", str(tmp_path / "merged"))  # fmt: skip
    assert code == 0, err
    assert "1 job(s)" in stdout and "environment local" in stdout
    # The same directory `nexflow baseline` wrote, byte for byte.
    assert _baseline_files(tmp_path / "merged") == files
    assert read_baseline(tmp_path / "merged").environment == index["environment"]

    # ...and the gate reads it.
    code, stdout, err = _run(capsys, "compile", "src/orders.schema", *PACKAGE,
                             "--compat-baseline", str(tmp_path / "merged"))  # fmt: skip
    assert code == 0, err


def test_baseline_from_jars_refuses_jars_of_different_releases(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    files = _baseline_files(project / "base")
    changed = dict(files)
    changed["Large.state.json"] = files["Large.state.json"].replace(b"seen", b"count")
    first, second = _jar(tmp_path / "a.jar", files), _jar(tmp_path / "b.jar", changed)
    code, _, err = _run(capsys, "baseline", "--from-jar", str(first), "--from-jar", str(second),
                        "--output-dir", str(tmp_path / "out"))  # fmt: skip
    assert code == 1
    assert "job Large differs in" in err and "a.jar" in err and "b.jar" in err
    assert not (tmp_path / "out").exists()

    bare = _jar(tmp_path / "bare.jar", {})
    code, _, err = _run(capsys, "baseline", "--from-jar", str(bare), "--output-dir", "x")
    assert code == 1 and "carries no baseline" in err
    code, _, err = _run(capsys, "baseline", "--from-jar", str(tmp_path / "missing.jar"),
                        "--output-dir", "x")  # fmt: skip
    assert code == 1 and "missing.jar" in err
    code, _, err = _run(capsys, "baseline", "--from-jar", str(first), "--environment", "local",
                        "--output-dir", "x")  # fmt: skip
    assert code == 1 and "do not apply" in err
