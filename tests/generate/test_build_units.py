"""Build-system mode: each DSL file is its own unit, compiled with `nexflow compile` against the
interface files of the units it depends on (never their sources), into its own Java package, as
the Pants backend does. The generated transforms, rules and jobs (state, windows, correlation)
must refer to each other's classes across packages and compile together.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nexflow_core import cli
from tests.generate import javatools

CARDS = Path("tests/pipelines/cards")
# In dependency order: schemas, transforms, rules, then procs (which nothing depends on).
UNITS = [
    "cards.schema",
    "scoring.transform",
    "screening.rules",
    "transform_job.proc",
    "screen_job.proc",
    "stateful_job.proc",
    "window_job.proc",
    "join_job.proc",
]


def test_units_compiled_from_interface_files_compile_together(tmp_path: Path) -> None:
    java = tmp_path / "java"
    interfaces: list[str] = []
    for unit in UNITS:
        package = "units." + unit.split(".")[0].replace("_", "")
        interface = tmp_path / (unit + ".nxi")
        argv = ["compile", str(CARDS / unit), "--java-package", package,
                "--interface-out", str(interface), "--output-dir", str(java)]  # fmt: skip
        for dep in interfaces:
            argv += ["--interface", dep]
        assert cli.main(argv) == 0, unit
        if not unit.endswith(".proc"):
            interfaces.append(f"{interface}={package}")
    assert cli.main(["generate-runtime", "--output-dir", str(java)]) == 0
    files = sorted(java.rglob("*.java"))
    jobs = sorted(p.name for p in files if p.name.endswith("Job.java"))
    assert len(jobs) == 24
    assert (java / "units/scoring/score_auth.java").is_file()
    # A transform's lookup reaches the proc through the interface file: the job reads the store
    # before the call and passes what it found.
    rate_job = (java / "units/transformjob/RateAuthsJob.java").read_text("utf-8")
    assert 'Lookups.lookup(op0, streams, SOURCE_STREAM, "fx_rates",' in rate_job
    assert "units.scoring.usd_by_rate.apply(" in rate_job and "usd_by_rate_fx$)" in rate_job
    javatools.javac(files, tmp_path / "classes")


def test_a_unit_directory_gives_one_java_package_and_the_interface_carries_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the Pants plugin passes for a target without `java_package`: its directory. The
    # compiler derives the package (the same rule as `nexflow build`), writes it into the
    # interface file, and a downstream unit takes it from there (`--interface FILE`).
    for unit, directory in (
        ("cards.schema", "flows/2024"),
        ("scoring.transform", "flows/score-v2"),
    ):
        (tmp_path / directory).mkdir(parents=True)
        (tmp_path / directory / unit).write_text((CARDS / unit).read_text("utf-8"), "utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "flows/2024/cards.schema", "--package-directory", "flows/2024",
                     "--interface-out", "cards.nxi", "--output-dir", "java"]) == 0  # fmt: skip
    scoring_argv = ["compile", "flows/score-v2/scoring.transform",
                    "--package-directory", "flows/score-v2",
                    "--interface", "cards.nxi", "--output-dir", "java"]  # fmt: skip
    assert cli.main(scoring_argv) == 0
    schema_files = sorted((tmp_path / "java/nexflow/flows/_2024").glob("*.java"))
    assert schema_files
    assert all("package nexflow.flows._2024;" in p.read_text("utf-8") for p in schema_files)
    scoring = tmp_path / "java/nexflow/flows/score_v2/score_auth.java"
    assert "nexflow.flows._2024." in scoring.read_text("utf-8")
    assert cli.main(["generate-runtime", "--output-dir", "java"]) == 0
    monkeypatch.undo()  # javac's classpath is relative to the test's own directory
    javatools.javac(sorted((tmp_path / "java").rglob("*.java")), tmp_path / "classes")
