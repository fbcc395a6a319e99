"""Incremental builds, proved from Pants' own process accounting (issue 5).

A small project (a schema, a ruleset, a proc, a job jar) is built four times with real nested
`./pants package` runs, and each run's workunit log says which processes Pants ran and which it
answered from its cache:

1. a first build, which runs everything of the project;
2. a no-op rebuild: no Nexflow process and no javac runs;
3. a rule threshold edited (the ruleset's interface bytes stay the same): only the rules
   target's Nexflow processes run again, plus the compiles its changed Java affects; the proc's
   codegen does not, since its inputs (upstream interface files) are byte-for-byte unchanged;
4. a second ruleset added (the interface changes): the proc's codegen runs again;
5. a stream's topic edited in the .infra file of the proc target's `environment`: the infra
   target's processes and the proc's codegen run again (its job bakes the topic in), nothing
   else; and the Java Pants generated for the proc is byte for byte what
   `nexflow generate --environment` generates from the same files.

Every target uses a Java package unique to this test run, so no process of the first build can
be a cache hit left by an earlier run, while Pants' tools (coursier fetches, the compiler's PEX)
still come from the machine's caches.

The proc applies the ruleset (`apply Checks rules`), so the ruleset's interface file is an
input of the proc's processes, found by dependency inference.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Optional

from nexflow_core.cli import main as nexflow_main
from tests.build.nested import (
    PantsRun,
    ScratchRepo,
    is_checking,
    is_generating,
    is_javac,
    is_nexflow,
    is_symbol_map,
    javac_component,
    nexflow_address,
)

SCHEMA = "flow/payments.schema"
RULES = "flow/checks.rules"
INFRA = "flow/cluster.infra"
PROC = "flow/screen.proc"
SCHEMA_ADDRESS = "flow/payments.schema:schemas"
RULES_ADDRESS = "flow/checks.rules:rules"
INFRA_ADDRESS = "flow/cluster.infra:infra"
PROC_ADDRESS = "flow/screen.proc:procs"
ENVIRONMENT = "cluster"
RUNTIME_ADDRESS = "//:nexflow-runtime"
JOB = "flow:job"

SCHEMA_TEXT = """\
schema PaymentEvent {
    transaction_id: string @key
    amount: decimal(10,2)
    currency: string
}

stream payments: PaymentEvent
stream screened: PaymentEvent
"""

RULES_TEXT = """\
ruleset Checks for payment: PaymentEvent {{
    rule large {{
        when payment.amount > {threshold}
        then flag_for_review
    }}
}}
"""

# A second ruleset: a new name downstream units can see, so the interface file changes.
EXTRA_RULESET = """
ruleset Extra for payment: PaymentEvent {
    rule foreign {
        when payment.currency != "EUR"
        then reject with "foreign currency"
    }
}
"""

INFRA_TEXT = """\
environment cluster {{
    kafka {{
        brokers: "kafka.internal:9092"
    }}
    streams {{
        payments {{
            topic: "payments.in"
        }}
        screened {{
            topic: "{screened_topic}"
        }}
        dead_letter {{
            topic: "payments.dead_letter"
        }}
    }}
}}
"""

PROC_APPLYING = """\
proc Screen {
    from payments
    apply Checks rules
    emit to screened
}
"""

BUILD_TEXT = """\
nexflow_schemas(name="schemas", java_package="{package}")
nexflow_rules(name="rules", java_package="{package}")
nexflow_procs(name="procs", java_package="{package}", environment="cluster")
nexflow_infra(name="infra", java_package="{package}")

nexflow_flink_job(name="job", main="{package}.ScreenJob", dependencies=[":procs"])
"""


# --- the compiler, run directly: what each unit's interface and Java are ----------------------


class Unit(NamedTuple):
    ok: bool
    interface: bytes
    java: dict[str, bytes]
    diagnostics: str


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def compile_project(root: Path, package: str, work: Path) -> dict[str, Unit]:
    """Compile schema, rules and proc as the plugin does (one unit at a time, against upstream
    interface files), so the test knows which interface bytes and Java an edit changes."""
    work.mkdir(parents=True, exist_ok=True)
    units: dict[str, Unit] = {}
    interfaces: list[str] = []
    for index, path in enumerate((SCHEMA, RULES, INFRA, PROC)):
        interface = work / f"{index}.nxi"
        java_dir = work / f"java-{index}"
        argv = ["compile", path, "--java-package", package]
        argv += ["--interface-out", str(interface), "--output-dir", str(java_dir)]
        if path == PROC:
            argv += ["--environment", ENVIRONMENT]
        for upstream in interfaces:
            argv += ["--interface", f"{upstream}={package}"]
        # Diagnostics are kept for the failure message, not printed.
        diagnostics = io.StringIO()
        with _cwd(root), contextlib.redirect_stderr(diagnostics):
            ok = nexflow_main(argv) == 0
        java = {}
        if java_dir.is_dir():
            java = {
                str(f.relative_to(java_dir)): f.read_bytes()
                for f in sorted(java_dir.rglob("*"))
                if f.is_file()
            }
        interface_bytes = interface.read_bytes() if interface.exists() else b""
        units[path] = Unit(ok, interface_bytes, java, diagnostics.getvalue())
        interfaces.append(str(interface))
    return units


# --- helpers on runs ----------------------------------------------------------------------------


def _ran_nexflow_codegen(run: PantsRun) -> list[tuple[str, str]]:
    """(kind, address) of every Nexflow checking/generating process that ran (not a cache hit)."""
    ran = []
    for p in run.ran(lambda p: is_checking(p) or is_generating(p)):
        ran.append(("Checking" if is_checking(p) else "Generating", nexflow_address(p) or ""))
    return sorted(ran)


def _source_of(run: PantsRun, description: str) -> Optional[str]:
    sources = {p.source for p in run.processes if p.description == description}
    assert len(sources) <= 1, f"{description!r} appears with several sources: {sources}"
    return sources.pop() if sources else None


def _summary(name: str, run: PantsRun) -> str:
    return (
        f"--- {name}: {run.seconds:.1f} s, processes {run.counts()}\n"
        f"  Nexflow and javac processes:\n"
        f"{run.report(lambda p: is_nexflow(p) or is_javac(p))}"
    )


def test_incremental_builds_rerun_only_what_an_edit_affects(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo")
    package = f"nexflow.incremental.t{uuid.uuid4().hex[:12]}"

    repo.write(SCHEMA, SCHEMA_TEXT)
    repo.write(RULES, RULES_TEXT.format(threshold=10000))
    repo.write(INFRA, INFRA_TEXT.format(screened_topic="payments.screened"))
    repo.write(PROC, PROC_APPLYING)
    repo.write("flow/BUILD", BUILD_TEXT.format(package=package))
    before = compile_project(repo.root, package, tmp_path / "before")
    assert all(unit.ok for unit in before.values()), "the synthetic project must compile:\n" + (
        "".join(unit.diagnostics for unit in before.values())
    )

    summaries = []

    # 1. The first build runs every Nexflow process of the project.
    first = repo.pants("package", JOB)
    summaries.append(_summary("first build", first))
    ran = _ran_nexflow_codegen(first)
    for expected in [
        ("Checking", SCHEMA_ADDRESS),
        ("Checking", RULES_ADDRESS),
        ("Generating", SCHEMA_ADDRESS),
        ("Generating", RULES_ADDRESS),
        ("Generating", PROC_ADDRESS),
        ("Checking", INFRA_ADDRESS),
    ]:
        assert expected in ran, f"first build did not run {expected}:\n" + "\n".join(summaries)
    assert any(javac_component(p) == PROC_ADDRESS for p in first.ran(is_javac)), summaries[-1]

    # 2. A no-op rebuild runs no Nexflow process and no javac: Pants answers each from its cache.
    noop = repo.pants("package", JOB)
    summaries.append(_summary("no-op rebuild", noop))
    assert not noop.ran(is_nexflow), "no-op ran Nexflow processes:\n" + summaries[-1]
    assert not noop.ran(is_javac), "no-op ran javac:\n" + summaries[-1]
    for address in (SCHEMA_ADDRESS, RULES_ADDRESS, PROC_ADDRESS):
        assert _source_of(noop, f"Generating Java from {address}") == "HitLocally", summaries[-1]

    # 3. A rule's threshold changes: the ruleset's interface bytes do not.
    repo.write(RULES, RULES_TEXT.format(threshold=25000))
    body = compile_project(repo.root, package, tmp_path / "body")
    assert body[RULES].interface == before[RULES].interface, "a threshold is not interface"
    rules_java_changed = body[RULES].java != before[RULES].java

    edited = repo.pants("package", JOB)
    summaries.append(_summary("rule threshold edited", edited))
    report = "\n".join(summaries)
    # Only the rules target's own Nexflow processes ran; the symbol map re-reads every DSL file
    # whenever one changes (one cheap process that feeds dependency inference, not codegen).
    assert _ran_nexflow_codegen(edited) == [
        ("Checking", RULES_ADDRESS),
        ("Generating", RULES_ADDRESS),
    ], report
    assert all(
        is_symbol_map(p) or nexflow_address(p) == RULES_ADDRESS for p in edited.ran(is_nexflow)
    )
    # Dependents' codegen was asked for and answered from the cache: their inputs are unchanged.
    assert _source_of(edited, f"Generating Java from {PROC_ADDRESS}") == "HitLocally", report
    assert _source_of(edited, f"Generating Java from {SCHEMA_ADDRESS}") == "HitLocally", report
    # javac runs for the rules' Java if it changed, and for what compiles against it; never for
    # the schema or the runtime, which do not depend on the rules.
    compiled = {javac_component(p) for p in edited.ran(is_javac)}
    if rules_java_changed:
        assert RULES_ADDRESS in compiled, report
        assert compiled <= {RULES_ADDRESS, PROC_ADDRESS}, report
    else:
        assert compiled == set(), "the rules' Java did not change, yet javac ran:\n" + report

    # 4. A second ruleset: the interface changes, so the proc's codegen must run again.
    repo.write(RULES, RULES_TEXT.format(threshold=25000) + EXTRA_RULESET)
    grown = compile_project(repo.root, package, tmp_path / "grown")
    assert grown[RULES].interface != body[RULES].interface, "a new ruleset is interface"

    changed = repo.pants("package", JOB)
    summaries.append(_summary("ruleset added (interface changed)", changed))
    report = "\n".join(summaries)
    ran = _ran_nexflow_codegen(changed)
    assert ("Checking", RULES_ADDRESS) in ran, report
    assert ("Generating", RULES_ADDRESS) in ran, report
    assert ("Generating", PROC_ADDRESS) in ran, "dependents' codegen did not re-run:\n" + report
    assert ("Generating", SCHEMA_ADDRESS) not in ran, report
    assert ("Checking", SCHEMA_ADDRESS) not in ran, report
    # What the proc generates from the new interface decides whether javac runs again.
    compiled = {javac_component(p) for p in changed.ran(is_javac)}
    assert SCHEMA_ADDRESS not in compiled and RUNTIME_ADDRESS not in compiled, report
    if grown[PROC].java == body[PROC].java and grown[RULES].java == body[RULES].java:
        assert compiled == set(), "identical Java was compiled again:\n" + report

    # 5. A topic of the proc's environment: the job bakes it in, so the proc regenerates. The
    # job jar carries its baseline (every unit's interface, the proc's too: docs/upgrades.md),
    # and the proc's interface is checked against its environment's, so that check runs again.
    repo.write(INFRA, INFRA_TEXT.format(screened_topic="payments.screened.v2"))
    moved = compile_project(repo.root, package, tmp_path / "moved")
    assert moved[INFRA].interface != grown[INFRA].interface, "a topic is in the interface"
    job_path = f"{package.replace('.', '/')}/ScreenJob.java"
    assert b'"kafka:payments.screened.v2"' in moved[PROC].java[job_path]

    retopic = repo.pants("package", JOB)
    summaries.append(_summary("topic edited in the environment", retopic))
    report = "\n".join(summaries)
    assert _ran_nexflow_codegen(retopic) == [
        ("Checking", INFRA_ADDRESS),
        ("Checking", PROC_ADDRESS),
        ("Generating", INFRA_ADDRESS),
        ("Generating", PROC_ADDRESS),
    ], report
    assert {javac_component(p) for p in retopic.ran(is_javac)} == {PROC_ADDRESS}, report

    # The proc's Java as Pants generated it equals whole-project generation's, byte for byte.
    repo.pants("export-codegen", PROC_ADDRESS)
    exported = repo.root / "dist" / "codegen" / job_path
    whole = tmp_path / "whole"
    argv = ["generate", SCHEMA, RULES, INFRA, PROC, "--java-package", package,
            "--output-dir", str(whole), "--environment", ENVIRONMENT]  # fmt: skip
    with _cwd(repo.root):
        assert nexflow_main(argv) == 0
    assert exported.read_bytes() == (whole / job_path).read_bytes()
    assert exported.read_bytes() == moved[PROC].java[job_path]

    print("\n".join(summaries))
