"""`./pants run examples/card-fraud:local`, minus Pants: the LocalRun launcher runs the packaged
card-fraud job over the example's sample data with the run plan for environment `local` and
the target's `args`. The job class was built for `production` (Kafka); the plan's settings
replace that environment's, so the run needs no broker.

The expected decisions, late authorization and dead letters are the ones worked out by hand in
test_card_fraud_example.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from nexflow_core import cli
from tests.pipelines.test_card_fraud_example import (
    EXPECTED_DECISIONS,
    FLINK_RUNTIME_JAR,
    JOB_JAR,
    java,
)
from tests.pipelines.test_local_run import records

EXAMPLE = Path("examples/card-fraud")
PACKAGE = "nexflow.examples.card_fraud"
# In an order where every unit comes after the units it uses (then an environment's .infra,
# then the proc).
UNITS = [
    "alert.schema", "authorization.schema", "customer_profile.schema", "dead_letter.schema",
    "decision.schema", "screening.schema", "merchant_categories.transform",
    "risk_signals.transform", "fraud_decision.rules",
]  # fmt: skip
# The `args` of examples/card-fraud:local.
TARGET_ARGS = [
    "--stream.authorizations.pace_ms=60",
    "--flink.pipeline.auto-watermark-interval=10 ms",
]


def run_plan(tmp_path: Path, environment: str) -> Path:
    """card_fraud.proc's run plan for `environment` (its `<environment>.infra`), compiled unit by
    unit against the interface files, as Pants does."""
    interfaces: list[str] = []
    for unit in [*UNITS, f"{environment}.infra"]:
        out = tmp_path / f"{unit}.nxi"
        argv = ["compile", str(EXAMPLE / unit), "--java-package", PACKAGE,
                "--interface-out", str(out), *interfaces]  # fmt: skip
        assert cli.main(argv) == 0, unit
        interfaces += ["--interface", f"{out}={PACKAGE}"]
    plan = tmp_path / "plan.json"
    argv = ["compile", str(EXAMPLE / "card_fraud.proc"), "--java-package", PACKAGE,
            "--environment", environment, "--run-plan-out", str(plan), *interfaces]  # fmt: skip
    assert cli.main(argv) == 0
    return plan


def test_card_fraud_local_run(tmp_path: Path) -> None:
    plan = run_plan(tmp_path, "local")

    base = tmp_path / "card-fraud"
    shutil.copytree(EXAMPLE / "data", base / "data")
    result = subprocess.run(
        [java(), "-cp", f"{JOB_JAR}:{FLINK_RUNTIME_JAR}", "nexflow.runtime.LocalRun",
         f"--plan={plan}", f"--base-dir={base}", *TARGET_ARGS],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    stdout = result.stdout

    decisions = {
        r["auth_id"]: (r["card_id"], r["decision"], r["reason"])
        for r in records(stdout, "auth_decisions")
    }
    assert decisions == {k: v[:3] for k, v in EXPECTED_DECISIONS.items()}
    assert [r["auth_id"] for r in records(stdout, "late_authorizations")] == ["A021"]
    assert len(records(stdout, "auth_dead_letters")) == 6
    # An alert per DECLINE or REVIEW of a card with a profile (A029's card has none): 12.
    flagged = [k for k, v in EXPECTED_DECISIONS.items() if v[1] != "APPROVE" and k != "A029"]
    assert len(flagged) == 12
    assert sorted(r["auth_id"] for r in records(stdout, "cardholder_alerts")) == sorted(flagged)

    out = base / "out"
    summary = [x for x in stdout.splitlines() if x.startswith("   ")]
    # 40 lines of input: 32 decided, A021 late, A017's resend dropped, 6 dead letters.
    assert summary == [
        f"   in   authorizations           40 records  {base}/data/authorizations.jsonl",
        f"   out  auth_decisions           32 records  {out}/auth_decisions",
        f"   out  cardholder_alerts        12 records  {out}/cardholder_alerts",
        f"   out  late_authorizations       1 record   {out}/late_authorizations",
        f"   dead letters                   6 records  {out}/auth_dead_letters",
        f"   alerts                         0 records  {out}/CardFraudScreen.alerts",
        "   late events                    1 record   (sent to late_authorizations)",
    ]
    assert re.search(r"^== 1 job, wall time \d+\.\d s$", stdout, re.M)
