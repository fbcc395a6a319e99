"""Fault: a TaskManager killed with SIGKILL while a generated job writes to both kinds of sink.

tests/e2e/delivery's DeliveryProbe writes every request to `fast_decisions` (at least once,
keyed by `auth_id`) and to `committed_decisions` (exactly once). The job runs at parallelism 2
over a two-partition topic with a checkpoint every second; half of the requests are produced
before one TaskManager is killed, the other half while the job recovers. Afterwards a
read_committed consumer must find every request on both sinks: exactly once on the
exactly-once sink, and on the at-least-once sink at least once, every copy (replays after the
recovery included) under its idempotency key. The restart is the one this fault is expected to
cause.
"""

from __future__ import annotations

import time
from collections import Counter

from tests.e2e.infra.faults import FaultRow, report_fault
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.timings import record_timing
from tests.e2e.test_delivery_guarantees import PROBE_CLASS, PROBE_JAR, probe_args

PER_PHASE = 300


def test_both_sinks_keep_every_record_through_a_killed_taskmanager(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    topics = {
        "auth_requests": kafka_broker.unique_topic("kill-requests", partitions=2),
        "fast_decisions": kafka_broker.unique_topic("kill-fast"),
        "committed_decisions": kafka_broker.unique_topic("kill-committed"),
    }
    requests = [
        {"auth_id": f"K{i:04d}", "card_id": f"C{i % 13}", "amount": i} for i in range(2 * PER_PHASE)
    ]
    kafka_broker.produce_json(topics["auth_requests"], requests[:PER_PHASE], key="card_id")
    job = flink_cluster.run_job(
        PROBE_JAR,
        PROBE_CLASS,
        probe_args(kafka_broker, topics, "--flink.execution.checkpointing.interval=1 s"),
        parallelism=2,
    )
    flink_cluster.wait_for_running(job.job_id)
    flink_cluster.wait_for_checkpoints(job.job_id, 1)
    kafka_broker.consume(topics["fast_decisions"], min_records=1, timeout=60)

    # Both TaskManagers run a subtask (slots are spread), so the kill hits the job.
    flink_cluster.kill_taskmanager(0)
    killed = time.monotonic()
    kafka_broker.produce_json(topics["auth_requests"], requests[PER_PHASE:], key="card_id")
    restarts = flink_cluster.wait_for_restarts(job.job_id, 1, timeout=90)
    wanted = sorted(r["auth_id"] for r in requests)

    committed = kafka_broker.consume(
        topics["committed_decisions"], min_records=len(requests), timeout=150
    )
    fast = kafka_broker.consume(topics["fast_decisions"], min_records=len(requests), timeout=60)
    record_timing("TaskManager kill: all records on both sinks", time.monotonic() - killed)
    restarts = flink_cluster.restarts(job.job_id)
    flink_cluster.cancel_job(job.job_id)

    committed_ids = Counter(r.value["auth_id"] for r in committed)
    fast_ids = Counter(r.value["auth_id"] for r in fast)
    exactly_once_duplicates = sum(c - 1 for c in committed_ids.values())
    at_least_once_duplicates = sum(c - 1 for c in fast_ids.values())
    report_fault(
        FaultRow(
            fault="TaskManager kill -9, exactly-once sink",
            records_in=len(requests),
            decisions_out=len(committed),
            dead_letters=0,
            lost=len(set(wanted) - set(committed_ids)),
            duplicated=exactly_once_duplicates,
            duplicated_exactly_once=exactly_once_duplicates,
            restarts=restarts,
            restart_expected=True,
        )
    )
    report_fault(
        FaultRow(
            fault="TaskManager kill -9, at-least-once sink",
            records_in=len(requests),
            decisions_out=len(fast),
            dead_letters=0,
            lost=len(set(wanted) - set(fast_ids)),
            duplicated=at_least_once_duplicates,
            restarts=restarts,
            restart_expected=True,
            note="duplicates carry their idempotency key",
        )
    )
    assert restarts >= 1
    assert sorted(committed_ids) == wanted and exactly_once_duplicates == 0
    assert sorted(fast_ids) == wanted
    # Replays after the recovery carry the same Kafka key as the first write.
    assert all(r.key == r.value["auth_id"] for r in fast)
