"""Environment names are scoped by directory: a proc's environment means the blocks declaring
it in the proc's own directory, else in its nearest ancestor directory declaring it; never a
sibling's. examples/payments and examples/card-fraud both declare `production`: the payments
job must bake in only its own production settings, however many .infra interfaces it is given.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from nexflow_core import ast, cli
from nexflow_core.check.infra_check import nearest_scope, scoped_environment_decls
from nexflow_core.diagnostics import Span
from tests.generate.test_environment_units import GOLDEN, JOB, compile_units

ROOT = Path(__file__).resolve().parents[2]



def _plugin_nearest_scope():
    # The Pants plugin's copy (it cannot import the compiler): loaded from its file.
    spec = importlib.util.spec_from_file_location(
        "nexflow_plugin_scope", ROOT / "pants-plugins" / "nexflow" / "scope.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.nearest_scope


# (consumer directory, declaring directories, expected scope), worked out by hand.
CASES = [
    ("examples/payments", ["examples/payments", "examples/card-fraud"], "examples/payments"),
    ("examples/card-fraud", ["examples/payments", "examples/card-fraud"], "examples/card-fraud"),
    ("examples/hello", ["examples/payments", "examples/card-fraud"], None),
    ("examples/payments", ["", "examples/card-fraud"], ""),
    ("examples/payments", ["examples", "examples/payments/sub"], "examples"),
    ("examples/payments/jobs", ["examples", "examples/payments"], "examples/payments"),
    # A prefix of the name is not an ancestor directory.
    ("examples/payments-v2", ["examples/payments"], None),
]


@pytest.mark.parametrize("consumer, declaring, expected", CASES)
def test_nearest_scope(consumer: str, declaring: list, expected: object) -> None:
    assert nearest_scope(consumer, declaring) == expected
    assert _plugin_nearest_scope()(consumer, declaring) == expected


def _decl(path: str, name: str, extends: object = None) -> ast.EnvironmentDecl:
    return ast.EnvironmentDecl(span=Span(path, 1, 1, 1, 2), name=name, extends=extends, entries=[])


def test_scoped_decls_follow_extends_from_the_extending_directory() -> None:
    decls = [
        _decl("infra/base.infra", "base"),
        _decl("infra/production.infra", "production"),
        _decl("a/production.infra", "production", "base"),
        _decl("a/more.infra", "production"),
        _decl("a/base.infra", "base"),
        _decl("b/production.infra", "production"),
        _decl("b/sub/x.proc.infra", "staging", "production"),
    ]

    def files(name: str, consumer: str) -> list[str]:
        return [d.span.file for d in scoped_environment_decls(decls, name, consumer)]

    # a/'s own production (both files) and a/'s own base; nothing from b/ or infra/.
    assert files("production", "a/job.proc") == [
        "a/base.infra",
        "a/more.infra",
        "a/production.infra",
    ]
    assert files("production", "b/job.proc") == ["b/production.infra"]
    # b/sub/: its staging extends production, found from b/sub/ in b/.
    assert files("staging", "b/sub/job.proc") == ["b/production.infra", "b/sub/x.proc.infra"]
    # No ancestor of c/ declares production (infra/ is a sibling, not an ancestor).
    assert files("production", "c/job.proc") == []


# What examples/card-fraud/production.infra sets (read off that file by hand): none may reach
# the payments job.
CARD_FRAUD_ONLY = (
    b"cards",
    b"s3://cards-flink",
    # (payments' production has a trust store of its own, truststore.p12)
    b"truststore.jks",
    b"keystore",
    # (payments' production runs 8 wide, card-fraud's 6)
    b'settings.put("flink.parallelism.default", "6");',
    b"flink.execution.checkpointing.timeout",
    b"customer_profiles",
    b"authorizations",
)


def test_payments_job_bakes_in_only_its_own_production(tmp_path: Path) -> None:
    """The proc compiled as the backend compiles it, but also handed the interface of
    card-fraud's production.infra (as when a build system passes every upstream .infra
    interface): the job's defaults are payments' production alone, equal to the golden."""
    work = tmp_path / "units"
    other = "examples/card-fraud/production.infra"
    assert cli.main(["compile", other, "--java-package", "nexflow.examples.card_fraud",
                     "--interface-out", f"{work}/card-fraud.nxi"]) == 0  # fmt: skip
    card_fraud = f"{work}/card-fraud.nxi=nexflow.examples.card_fraud"
    java = compile_units(work, extra_proc_interfaces=[card_fraud])
    job = java[JOB]
    for text in CARD_FRAUD_ONLY:
        assert text not in job, text
    # Payments' own settings are all there (production.infra + production_sinks.infra).
    assert b'settings.put("kafka.bootstrap.servers", "kafka-prod.internal:9092");' in job
    assert b'settings.put("flink.execution.checkpointing.interval", "60000 ms");' in job
    assert (GOLDEN / JOB).read_bytes() == job


def test_whole_project_over_both_examples_reports_nx510(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Whole-project checking keys environments by name: over a directory holding both
    examples it refuses with NX510 rather than merge two unrelated `production` blocks."""
    code = cli.main(["check", "examples/payments", "examples/card-fraud"])
    err = capsys.readouterr()
    out = err.out + err.err
    assert code != 0
    assert "NX510" in out
    assert "examples/card-fraud/, examples/payments/" in out
