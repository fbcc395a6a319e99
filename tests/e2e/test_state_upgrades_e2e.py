"""Keyed state and operator uids on the real standalone cluster, real broker and FerretDB.

- Stop with savepoint, restore: the seed's PaymentProcessor (examples/payments, production
  environment) holds a payment waiting for its partner; the job is stopped with a savepoint
  through the REST API, the cluster stays without it for a while, and the job is started again
  from the savepoint. The waiting payment then ends as a timeout once the watermark passes its
  deadline. (The correlation's state has no TTL: the timer owns it. The TTL it had, 5 minutes +
  1 ms + 1 hour, is too long to wait out here; tests/pipelines/test_state_upgrades.py shows on a
  MiniCluster, with that TTL made test-sized, that such a TTL lost the record.)
- Two streams persisting to one store (tests/e2e/persists): Flink accepts the job (before, both
  persist operators had the uid `<proc>.persist.<store>` and Flink refused it) and every record
  reaches both its stream and the store.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from tests.e2e.infra.faults import FaultRow, report_fault
from tests.e2e.infra.ferretdb import FerretDB
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker

PAYMENTS_JAR = Path("examples.payments/payment-processor.jar")
PAYMENTS_CLASS = "nexflow.examples.payments.PaymentProcessorJob"
KEEP_BOTH_JAR = Path("tests.e2e.persists/keep-both-job.jar")
KEEP_BOTH_CLASS = "nexflow.tests.e2e.persists.KeepBothJob"


def event(tx: str, amount: str, at: str) -> str:
    return (
        f'{{"transaction_id":"{tx}","amount":{amount},"currency":"USD",'
        f'"timestamp":"2026-01-15T10:{at}Z"}}'
    )


def payments_args(kafka: KafkaBroker, flink: FlinkCluster, topics: dict, run: str) -> list:
    return [
        f"--stream.payment_events=kafka:{topics['in']}",
        f"--stream.processed_payments=kafka:{topics['processed']}",
        f"--stream.failed_payments=kafka:{topics['failed']}",
        f"--stream.dead_letter=kafka:{topics['dead']}",
        "--flink.parallelism.default=1",
        f"--flink.execution.checkpointing.dir=file://{flink.checkpoint_dir}",
        "--stream.payment_events.parallelism=1",
        "--stream.processed_payments.parallelism=1",
        "--stream.failed_payments.parallelism=1",
        f"--kafka.bootstrap.servers={kafka.bootstrap_servers}",
        "--kafka.security.protocol=PLAINTEXT",
        f"--kafka.group.id=payments-upgrade-{run}",
        f"--store.transaction_store.database=payments_upgrade_{run}",
        "--store.transaction_store.decimals=string",
        # The test server speaks no TLS (production's binding uses TLS).
        "--store.transaction_store.tls=false",
    ]


def ids(kafka: KafkaBroker, topic: str, count: int, timeout: float = 60) -> list[str]:
    records = kafka.consume(topic, min_records=count, timeout=timeout, raw=True)
    return sorted(r.key for r in records)


def test_a_waiting_payment_times_out_after_stop_with_savepoint_and_restore(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    run = uuid.uuid4().hex[:8]
    # The sinks stamp records with their event time (January 2026): the broker's time-based
    # retention would delete them while the test runs (its check comes every 5 minutes).
    keep = {"retention.ms": "-1"}
    topics = {
        "in": kafka_broker.unique_topic("upgrade-in", **keep),
        "processed": kafka_broker.unique_topic("upgrade-processed", **keep),
        "failed": kafka_broker.unique_topic("upgrade-failed", **keep),
        "dead": kafka_broker.unique_topic("upgrade-dead", **keep),
    }
    args = payments_args(kafka_broker, flink_cluster, topics, run)
    # tx-a waits (its deadline 10:05:00); tx-b pairs (tx-b @10:00:30 is processed).
    before = [event("tx-a", "10.00", "00:00"), event("tx-b", "20.00", "00:30"),
              event("tx-b", "20.00", "01:00")]  # fmt: skip
    kafka_broker.produce_lines(topics["in"], before, partition=0)
    first = flink_cluster.run_job(PAYMENTS_JAR, PAYMENTS_CLASS, args, parallelism=1)
    flink_cluster.wait_for_running(first.job_id)
    assert ids(kafka_broker, topics["processed"], 1) == ["tx-b"]
    first_restarts = flink_cluster.restarts(first.job_id)
    savepoint = flink_cluster.stop_with_savepoint(first.job_id)
    # The job is away; the watermark does not move while it is.
    stopped = time.monotonic()
    time.sleep(3)
    second = flink_cluster.run_job(
        PAYMENTS_JAR, PAYMENTS_CLASS, args, parallelism=1, savepoint=savepoint
    )
    flink_cluster.wait_for_running(second.job_id)
    away = time.monotonic() - stopped
    # After the restore, a payment at 10:10 moves the watermark past tx-a's deadline.
    kafka_broker.produce_lines(topics["in"], [event("tx-c", "30.00", "10:00")], partition=0)
    failed = ids(kafka_broker, topics["failed"], 1)
    # Read to the end: a duplicate of tx-b would show here.
    processed = ids(kafka_broker, topics["processed"], 1)
    restarts = first_restarts + flink_cluster.restarts(second.job_id)
    flink_cluster.cancel_job(second.job_id)
    lost = 0 if failed == ["tx-a"] else 1
    report_fault(
        FaultRow(
            fault="stop with savepoint, restore after TTL",
            records_in=len(before) + 1,
            decisions_out=len(processed) + len(failed),
            dead_letters=0,
            lost=lost,
            duplicated=len(processed) - len(set(processed)),
            restarts=restarts,
            note=f"away {away:.0f} s; waiting state has no TTL (timer-owned)",
        )
    )
    # tx-a ended as a timeout (nothing ends silently); tx-c waits on.
    assert failed == ["tx-a"]
    assert processed == ["tx-b"]
    assert restarts == 0


def test_two_streams_persisting_to_one_store_on_the_cluster(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    run = uuid.uuid4().hex[:8]
    inbound = kafka_broker.unique_topic("keep-in")
    all_topic = kafka_broker.unique_topic("keep-all")
    large_topic = kafka_broker.unique_topic("keep-large")
    dead_topic = kafka_broker.unique_topic("keep-dead")
    database = f"keep_{run}"
    lines = [
        '{"transaction_id":"p1","amount":10.00,"timestamp":"2026-01-15T10:00:00Z"}',
        '{"transaction_id":"p2","amount":5000.00,"timestamp":"2026-01-15T10:00:01Z"}',
        '{"transaction_id":"p3","amount":1000.00,"timestamp":"2026-01-15T10:00:02Z"}',
    ]
    kafka_broker.produce_lines(inbound, lines, partition=0)
    job = flink_cluster.run_job(
        KEEP_BOTH_JAR,
        KEEP_BOTH_CLASS,
        [
            f"--stream.kept_in=kafka:{inbound}",
            f"--stream.kept_all=kafka:{all_topic}",
            f"--stream.kept_large=kafka:{large_topic}",
            f"--stream.dead_letter=kafka:{dead_topic}",
            "--flink.parallelism.default=1",
            f"--kafka.bootstrap.servers={kafka_broker.bootstrap_servers}",
            "--kafka.security.protocol=PLAINTEXT",
            f"--kafka.group.id=keep-both-{run}",
            f"--store.kept_store.database={database}",
            "--store.kept_store.decimals=string",
        ],
        parallelism=1,
    )
    flink_cluster.wait_for_running(job.job_id)
    every = ids(kafka_broker, all_topic, 3)
    large = ids(kafka_broker, large_topic, 2)
    documents = sorted(d["_id"] for d in ferretdb.client()[database]["kept"].find())
    restarts = flink_cluster.restarts(job.job_id)
    flink_cluster.cancel_job(job.job_id)
    report_fault(
        FaultRow(
            fault="two persists to one store",
            records_in=len(lines),
            decisions_out=len(every) + len(large),
            dead_letters=0,
            lost=(3 - len(set(every))) + (2 - len(set(large))),
            duplicated=(len(every) - len(set(every))) + (len(large) - len(set(large))),
            restarts=restarts,
            note="accepted by Flink: one uid per persist (<proc>.persist.<store>.<stream>)",
        )
    )
    assert every == ["p1", "p2", "p3"]
    assert large == ["p2", "p3"]
    assert documents == ["p1", "p2", "p3"]
    assert restarts == 0
