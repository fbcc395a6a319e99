"""The two fixtures together: a job on the cluster writes to the broker through an exactly-once
Kafka sink, survives a killed TaskManager, and a read_committed consumer sees each record once.

The job is tests/e2e/jobs/SequenceToKafkaJob.java (numbers 0..count-1 as {"n": i}), a stand-in
until generated pipelines have Kafka sources and sinks; the expected output is plain arithmetic.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.timings import record_timing

SEQUENCE_JAR = Path("tests.e2e.jobs/sequence-to-kafka-job.jar")
SEQUENCE_CLASS = "nexflow.e2e.SequenceToKafkaJob"


def sequence_job(kafka: KafkaBroker, topic: str, count: int, sleep_ms: int) -> list[str]:
    return [
        f"--bootstrap-servers={kafka.bootstrap_servers}",
        f"--topic={topic}",
        f"--count={count}",
        f"--sleep-ms={sleep_ms}",
        "--checkpoint-ms=1000",
    ]


def test_exactly_once_sink_survives_a_killed_taskmanager(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    count = 5000
    topic = kafka_broker.unique_topic("sequence", partitions=2)
    job = flink_cluster.run_job(
        SEQUENCE_JAR,
        SEQUENCE_CLASS,
        # Two subtasks at up to 200 records/s each: 12 s or more, long enough to kill a TM.
        sequence_job(kafka_broker, topic, count, sleep_ms=5),
        parallelism=2,
    )
    flink_cluster.wait_for_running(job.job_id)
    # A checkpoint has completed and its transaction is committed: the kill comes mid-run.
    flink_cluster.wait_for_checkpoints(job.job_id, 1)
    committed_before_kill = len(kafka_broker.consume(topic, min_records=1, timeout=60))

    # Both TaskManagers run a subtask (slots are spread), so this kill hits the job.
    flink_cluster.kill_taskmanager(0)
    started = time.monotonic()
    flink_cluster.wait_for_restarts(job.job_id, 1, timeout=60)
    record_timing("sequence job restarted after TaskManager kill", time.monotonic() - started)
    flink_cluster.wait_for_job(job.job_id, states=["FINISHED"], timeout=240)

    values = [r["n"] for r in kafka_broker.consume_json(topic)]
    duplicates = {n: c for n, c in Counter(values).items() if c > 1}
    assert not duplicates, f"read_committed saw duplicates: {dict(list(duplicates.items())[:10])}"
    assert sorted(values) == list(range(count))
    # The kill happened mid-run: some records were committed before it, not all.
    assert 0 < committed_before_kill < count
    # Records of transactions aborted by the failure are in the log, but never committed.
    written = kafka_broker.consume_json(topic, isolation_level="read_uncommitted")
    assert len(written) >= count


def test_a_running_job_can_be_cancelled(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    topic = kafka_broker.unique_topic("unbounded")
    job = flink_cluster.run_job(
        SEQUENCE_JAR, SEQUENCE_CLASS, sequence_job(kafka_broker, topic, -1, sleep_ms=10)
    )
    flink_cluster.wait_for_running(job.job_id)
    flink_cluster.wait_for_checkpoints(job.job_id, 1)
    assert len(kafka_broker.consume(topic, min_records=1)) >= 1

    flink_cluster.cancel_job(job.job_id)
    assert flink_cluster.job_state(job.job_id) == "CANCELED"
    assert flink_cluster.rest("/overview")["jobs-running"] == 0
