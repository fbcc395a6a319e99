"""A proc bound to an environment, compiled unit by unit as the Pants backend compiles it (each
DSL file against the interface files of the units it depends on, the proc with
`--environment`), generates the same Java, byte for byte, as whole-project generation with
`nexflow generate --environment`: the environment's blocks travel in the .infra units'
interface files and are merged and resolved (`extends`) the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nexflow_core import cli

PAYMENTS = "examples/payments"
PACKAGE = "nexflow.examples.payments"
# The examples/payments units in dependency order, with what each one's target depends on
# (transitively), as the backend infers it: names used, and the proc's `environment`.
UNITS = {
    "payment_event.schema": [],
    "streams.schema": ["payment_event.schema"],
    "payments.rules": ["payment_event.schema"],
    "production.infra": ["payment_event.schema", "streams.schema"],
    "production_sinks.infra": ["payment_event.schema", "streams.schema"],
    "payment_processor.proc": [
        "payment_event.schema",
        "streams.schema",
        "payments.rules",
        "production.infra",
        "production_sinks.infra",
    ],
}


GOLDEN = Path(__file__).parent / "golden" / "payments"
JOB = "nexflow/examples/payments/PaymentProcessorJob.java"


def _java(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.java"))}


def compile_units(
    work: Path, environment: str = "production", extra_proc_interfaces: Sequence[str] = ()
) -> dict[str, bytes]:
    """Compiles every unit as the backend does (from the repository root, so the generated
    comments cite the same paths as whole-project generation), returns the proc's Java.
    `extra_proc_interfaces` (`<file.nxi>=<package>`) are handed to the proc's compile too."""
    java = work / "java"
    for name, upstream in UNITS.items():
        argv = ["compile", f"{PAYMENTS}/{name}", "--java-package", PACKAGE,
                "--interface-out", f"{work}/{name}.nxi"]  # fmt: skip
        for dep in upstream:
            argv += ["--interface", f"{work}/{dep}.nxi={PACKAGE}"]
        if name.endswith(".proc"):
            for extra in extra_proc_interfaces:
                argv += ["--interface", extra]
            argv += ["--environment", environment, "--output-dir", str(java)]
        assert cli.main(argv) == 0, name
    return _java(java)


def test_payments_unit_by_unit_equals_whole_project_generation(tmp_path: Path) -> None:
    jobs = compile_units(tmp_path / "units")
    assert list(jobs) == [JOB]
    job = jobs[JOB]
    # What production.infra and production_sinks.infra set, merged (checked by hand).
    for setting in (
        b'settings.put("stream.payment_events", "kafka:prod.payments.inbound");',
        b'settings.put("stream.payment_events.parallelism", "8");',
        b'settings.put("stream.failed_payments", "kafka:prod.payments.failed");',
        b'settings.put("kafka.bootstrap.servers", "kafka-prod.internal:9092");',
        b'settings.put("kafka.sasl.mechanism", "SCRAM-SHA-512");',
        b'settings.put("flink.execution.checkpointing.mode", "EXACTLY_ONCE");',
        b'settings.put("store.transaction_store", "mongodb:transaction_store");',
    ):
        assert setting in job, setting
    # `nexflow generate --environment production` over the same files: the same job.
    whole = tmp_path / "whole"
    files = [f"{PAYMENTS}/{name}" for name in UNITS]
    argv = ["generate", *files, "--java-package", PACKAGE, "--output-dir", str(whole),
            "--environment", "production"]  # fmt: skip
    assert cli.main(argv) == 0
    assert _java(whole)[JOB] == job
    # And the golden file, which whole-project generation is checked against.
    assert (GOLDEN / JOB).read_bytes() == job


STAGING = """\
// A staging environment: production's settings, with its own brokers and inbound topic.
environment staging extends production {
    kafka {
        brokers: "kafka-staging.internal:9092"
    }

    streams {
        payment_events {
            topic: "staging.payments.inbound"
        }
    }
}
"""


def test_an_environment_extending_one_in_other_units(tmp_path: Path) -> None:
    # staging.infra next to a copy of the payments files: environment names are scoped by
    # directory, so a proc only sees the environments of its own directory (or ancestors').
    project = tmp_path / "payments"
    project.mkdir()
    for name in UNITS:
        (project / name).write_bytes((Path(PAYMENTS) / name).read_bytes())
    (project / "staging.infra").write_text(STAGING, "utf-8")
    units = dict(UNITS)
    work = tmp_path / "units"
    java = work / "java"
    paths = {name: str(project / name) for name in [*UNITS, "staging.infra"]}
    order = [*list(UNITS)[:-1], "staging.infra", "payment_processor.proc"]
    # staging.infra names production in `extends`: its target depends on production's files.
    units["staging.infra"] = [*UNITS["production.infra"], "production.infra",
                                      "production_sinks.infra"]  # fmt: skip
    units["payment_processor.proc"] = [*UNITS["payment_processor.proc"], "staging.infra"]
    for name in order:
        argv = ["compile", paths[name], "--java-package", PACKAGE,
                "--interface-out", f"{work}/{name}.nxi"]  # fmt: skip
        for dep in units[name]:
            argv += ["--interface", f"{work}/{dep}.nxi={PACKAGE}"]
        if name.endswith(".proc"):
            argv += ["--environment", "staging", "--output-dir", str(java)]
        assert cli.main(argv) == 0, name
    job = _java(java)[JOB]
    # staging's own settings win; the rest comes from production's two files (by hand).
    for setting in (
        b'settings.put("kafka.bootstrap.servers", "kafka-staging.internal:9092");',
        b'settings.put("stream.payment_events", "kafka:staging.payments.inbound");',
        b'settings.put("stream.failed_payments", "kafka:prod.payments.failed");',
        b'settings.put("kafka.sasl.mechanism", "SCRAM-SHA-512");',
        b'settings.put("flink.execution.checkpointing.mode", "EXACTLY_ONCE");',
    ):
        assert setting in job, setting
    # staging binds payment_events anew, without production's parallelism.
    assert b'"stream.payment_events.parallelism"' not in job
    whole = tmp_path / "whole"
    argv = ["generate", *(paths[n] for n in order), "--java-package", PACKAGE,
            "--output-dir", str(whole), "--environment", "staging"]  # fmt: skip
    assert cli.main(argv) == 0
    assert _java(whole)[JOB] == job
