"""Per-sink delivery guarantees on a real broker and a real standalone cluster.

tests/e2e/delivery is a one-proc pipeline whose environment writes every request to two sinks:
`fast_decisions` at least once keyed by `auth_id`, `committed_decisions` exactly once, with a
checkpoint only every 10 minutes. Before any checkpoint has completed, a read_committed
consumer already sees every record of the at-least-once sink (with its idempotency key as the
Kafka key) and none of the exactly-once sink, whose records are in the log inside an open
transaction (a read_uncommitted consumer sees them). A checkpoint then commits them.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.timings import record_timing

PROBE_JAR = Path("tests.e2e.delivery/delivery-probe-job.jar")
PROBE_CLASS = "nexflow.tests.e2e.delivery.DeliveryProbeJob"


def probe_args(kafka: KafkaBroker, topics: dict[str, str], *extra: str) -> list[str]:
    return [
        f"--kafka.bootstrap.servers={kafka.bootstrap_servers}",
        *(f"--stream.{stream}=kafka:{topic}" for stream, topic in sorted(topics.items())),
        *extra,
    ]


def probe_topics(kafka: KafkaBroker) -> dict[str, str]:
    """New topics for the probe's streams."""
    return {
        "auth_requests": kafka.unique_topic("requests"),
        "fast_decisions": kafka.unique_topic("fast"),
        "committed_decisions": kafka.unique_topic("committed"),
    }


def test_at_least_once_is_visible_at_once_exactly_once_at_the_checkpoint(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    topics = probe_topics(kafka_broker)
    requests = [
        {"auth_id": f"A{i:03d}", "card_id": f"C{i % 7}", "amount": 10 * i} for i in range(40)
    ]
    kafka_broker.produce_json(topics["auth_requests"], requests, key="card_id")
    job = flink_cluster.run_job(PROBE_JAR, PROBE_CLASS, probe_args(kafka_broker, topics))
    flink_cluster.wait_for_running(job.job_id)
    started = time.monotonic()

    fast = kafka_broker.consume(topics["fast_decisions"], min_records=len(requests), timeout=90)
    record_timing("at-least-once sink: 40 records read_committed", time.monotonic() - started)
    # Every record once (no failure happened), keyed by its idempotency key.
    assert sorted(r.value["auth_id"] for r in fast) == [r["auth_id"] for r in requests]
    assert all(r.key == r.value["auth_id"] for r in fast)
    assert sorted((r.value["card_id"], r.value["amount"]) for r in fast) == sorted(
        (r["card_id"], r["amount"]) for r in requests
    )

    # The exactly-once sink has written the same records, inside a transaction that only the
    # first checkpoint (10 minutes away) commits.
    uncommitted = kafka_broker.consume(
        topics["committed_decisions"],
        min_records=len(requests),
        timeout=60,
        isolation_level="read_uncommitted",
    )
    assert sorted(r.value["auth_id"] for r in uncommitted) == [r["auth_id"] for r in requests]
    assert flink_cluster.completed_checkpoints(job.job_id) == 0
    assert kafka_broker.consume(topics["committed_decisions"]) == []

    # A checkpoint commits the transaction: now read_committed sees each record once.
    flink_cluster.rest(f"/jobs/{job.job_id}/checkpoints", method="POST", body={})
    flink_cluster.wait_for_checkpoints(job.job_id, 1, timeout=60)
    committed = kafka_broker.consume(
        topics["committed_decisions"], min_records=len(requests), timeout=30
    )
    assert sorted(r.value["auth_id"] for r in committed) == [r["auth_id"] for r in requests]
    record_timing("exactly-once sink: 40 records after a checkpoint", time.monotonic() - started)
    flink_cluster.cancel_job(job.job_id)


def test_a_program_argument_overrides_the_declared_delivery(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    topics = probe_topics(kafka_broker)
    requests = [{"auth_id": f"B{i:03d}", "card_id": "C1", "amount": i} for i in range(10)]
    kafka_broker.produce_json(topics["auth_requests"], requests)
    job = flink_cluster.run_job(
        PROBE_JAR,
        PROBE_CLASS,
        probe_args(kafka_broker, topics, "--stream.committed_decisions.delivery=at_least_once"),
    )
    flink_cluster.wait_for_running(job.job_id)
    # Both sinks are now at least once: visible without any checkpoint.
    for stream in ("fast_decisions", "committed_decisions"):
        seen = kafka_broker.consume(topics[stream], min_records=len(requests), timeout=90)
        assert sorted(r.value["auth_id"] for r in seen) == [r["auth_id"] for r in requests]
    assert flink_cluster.completed_checkpoints(job.job_id) == 0
    flink_cluster.cancel_job(job.job_id)
