"""Build-system mode: each DSL file is its own unit, compiled with `nexflow compile` against the
interface files of the units it depends on (never their sources), into its own Java package, as
the Pants backend does. The generated transforms, rules and jobs (state, windows, correlation)
must refer to each other's classes across packages and compile together.
"""

from __future__ import annotations

from pathlib import Path

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
