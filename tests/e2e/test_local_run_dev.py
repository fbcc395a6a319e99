"""`./pants run examples/card-fraud:dev`, minus Pants, against the session's broker: the LocalRun
launcher runs the packaged card-fraud job (built for `production`) on a MiniCluster with the run
plan for environment `dev` (Kafka topics, profiles in memory), moved onto the test broker and
fresh topics by program arguments. `--produce` sends the sample authorizations to the source
topic once the job runs, paced as the `local` target replays them; the launcher prints what the
job commits to each output topic and stops after 3 idle seconds.

The expected records are the ones worked out by hand in tests/pipelines/test_card_fraud_example.py
(the same 40 authorizations and profiles as the `local` run).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.timings import record_timing
from tests.pipelines.test_card_fraud_example import (
    EXPECTED_DECISIONS,
    FLINK_RUNTIME_JAR,
    JOB_JAR,
    java,
)
from tests.pipelines.test_local_run import records
from tests.pipelines.test_local_run_card_fraud import EXAMPLE, TARGET_ARGS, run_plan

STREAMS = [
    "authorizations", "auth_decisions", "cardholder_alerts", "late_authorizations",
    "auth_dead_letters",
]  # fmt: skip


def test_dev_run_prints_what_the_job_commits_to_kafka(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    plan = run_plan(tmp_path, "dev")
    topic = {s: kafka_broker.unique_topic(f"dev-{s}") for s in STREAMS}
    base = tmp_path / "card-fraud"
    shutil.copytree(EXAMPLE / "data", base / "data")
    started = time.monotonic()
    result = subprocess.run(
        [java(), "-cp", f"{JOB_JAR}:{FLINK_RUNTIME_JAR}", "nexflow.runtime.LocalRun",
         f"--plan={plan}", f"--base-dir={base}",
         f"--kafka.bootstrap.servers={kafka_broker.bootstrap_servers}",
         *(f"--stream.{s}=kafka:{t}" for s, t in topic.items()),
         *TARGET_ARGS, "--produce=authorizations=data/authorizations.jsonl",
         "--stop-after-idle=3"],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.monotonic() - started
    record_timing("local run dev (card fraud, Kafka)", seconds)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    stdout = result.stdout

    decisions = {
        r["auth_id"]: (r["card_id"], r["decision"], r["reason"])
        for r in records(stdout, "auth_decisions")
    }
    assert len(records(stdout, "auth_decisions")) == 32
    assert decisions == {k: v[:3] for k, v in EXPECTED_DECISIONS.items()}
    assert [r["auth_id"] for r in records(stdout, "late_authorizations")] == ["A021"]
    assert len(records(stdout, "auth_dead_letters")) == 6
    flagged = [k for k, v in EXPECTED_DECISIONS.items() if v[1] != "APPROVE" and k != "A029"]
    assert sorted(r["auth_id"] for r in records(stdout, "cardholder_alerts")) == sorted(flagged)

    summary = [x for x in stdout.splitlines() if x.startswith("   ")]
    assert summary == [
        f"   in   authorizations           40 records  kafka:{topic['authorizations']} "
        f"(produced from {base}/data/authorizations.jsonl)",
        f"   out  auth_decisions           32 records  kafka:{topic['auth_decisions']}",
        f"   out  cardholder_alerts        12 records  kafka:{topic['cardholder_alerts']}",
        f"   out  late_authorizations       1 record   kafka:{topic['late_authorizations']}",
        f"   dead letters                   6 records  kafka:{topic['auth_dead_letters']}",
        f"   alerts                         0 records  {base}/out/CardFraudScreen.alerts",
        "   late events                    1 record   (sent to late_authorizations)",
    ]
    stopped = r"^== CardFraudScreen: stopped after \d+\.\d s \(idle for 3\.\d s\)$"
    assert re.search(stopped, stdout, re.M)
    assert seconds < 60
