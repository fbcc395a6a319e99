"""The seed's payment pipeline end to end: examples/payments packaged as a job jar, on the real
standalone Flink cluster, reading and writing the real Kafka broker, persisting into a real
MongoDB-wire-compatible database (FerretDB).

The job runs with its `production` environment; program arguments override only what points at
production machines: the topics, the broker and its security protocol, the consumer group, the
parallelism (8 in production, 1 slot here), the database name (one per test) and how decimals are
stored (FerretDB 1.x has no Decimal128). The store's `uri: env("MONGO_URI")` is resolved on the
TaskManagers, whose environment has MONGO_URI (see conftest.py).

What the proc does (examples/payments/payment_processor.proc, docs/language/proc.md
"Correlation, exactly"): events are parsed and validated (bad ones are dead letters), the rules
run, then `correlate by transaction_id within 5 minutes`: the first event of an id waits; a
second one at most 5 minutes away completes the pair and the *waiting* event goes on to
processed_payments (upserted into transaction_store first); a waiting event whose timer
(its time + 5 minutes) the watermark passes goes to failed_payments. Watermarks trail the largest
event time seen by 1 ms (no `event_time` delay).

Every expected record below is written by hand from those rules.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.infra.ferretdb import FerretDB
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.timings import record_timing

PAYMENTS_JAR = Path("examples.payments/payment-processor.jar")
PAYMENTS_CLASS = "nexflow.examples.payments.PaymentProcessorJob"


def event(tx: str, amount: str, currency: str, minute: str) -> str:
    """A payment event as its JSON line (amount as written, a JSON number)."""
    return (
        f'{{"transaction_id":"{tx}","amount":{amount},"currency":"{currency}",'
        f'"timestamp":"2026-01-15T10:{minute}Z"}}'
    )


# Phase 1: on time. The last event (10:21:01) takes the watermark to 10:21:00.999.
PHASE_1 = [
    event("tx-001", "150.00", "USD", "00:00"),  # waits
    event("tx-001", "150.00", "USD", "01:00"),  # completes: tx-001 @10:00 is processed
    "not json {",  # dead letter: MALFORMED_INPUT
    event("tx-002", "25000.00", "EUR", "02:00"),  # waits (flagged for review: > 10000)
    '{"transaction_id":"tx-004","amount":10.00,"timestamp":"2026-01-15T10:02:30Z"}',  # no currency
    event("tx-002", "25000.00", "EUR", "03:00"),  # completes: tx-002 @10:02 is processed
    event("tx-005", "-5.00", "USD", "03:30"),  # breaks `validate amount > 0`
    event("tx-008", "12.00", "JPY", "03:45"),  # breaks @enum["USD", "EUR", "GBP"]
    event("tx-003", "75.50", "GBP", "16:00"),  # waits; its timer is 10:21:00
    event("tx-006", "42", "USD", "21:00"),  # waits (42 is stored at scale 2: 42.00)
    event("tx-006", "42.00", "USD", "21:01"),  # completes: tx-006 @10:21:00 is processed
]
# After phase 1 the watermark is 10:21:00.999: tx-003's timer (10:21:00) fires and it times out.
# Only the last event takes the watermark that far, so seeing tx-003 time out proves it.

# Phase 2: late, every time behind the watermark (10:21:00.999).
PHASE_2 = [
    # The partner tx-003 waited for, too late: it waits itself; its timer (10:17) is already
    # behind the watermark and fires at the watermark's next advance.
    event("tx-003", "75.50", "GBP", "12:00"),
    # Two late events 1 minute apart: correlation compares their own times, so they pair; no
    # watermark advance comes between them (neither raises the largest time seen).
    event("tx-007", "99.99", "USD", "06:00"),
    event("tx-007", "99.99", "USD", "07:00"),  # completes: tx-007 @10:06 is processed
    # tx-001 once more, the same two events: processed again, stored again under the same key.
    event("tx-001", "150.00", "USD", "00:00"),
    event("tx-001", "150.00", "USD", "01:00"),
    # On time again: the watermark goes to 10:39:59.999, the late tx-003 times out. tx-009 waits
    # (for ever: nothing comes after it).
    event("tx-009", "10.00", "USD", "40:00"),
]


def processed(tx: str, amount: str, currency: str, minute: str) -> tuple[str, str]:
    """(Kafka key, value) of a PaymentEvent the job writes: its JSON, decimals at scale 2."""
    return tx, event(tx, amount, currency, minute)


EXPECTED_PROCESSED_1 = sorted([
    processed("tx-001", "150.00", "USD", "00:00"),
    processed("tx-002", "25000.00", "EUR", "02:00"),
    processed("tx-006", "42.00", "USD", "21:00"),
])
EXPECTED_FAILED_1 = [processed("tx-003", "75.50", "GBP", "16:00")]
EXPECTED_PROCESSED_2 = sorted(EXPECTED_PROCESSED_1 + [
    processed("tx-007", "99.99", "USD", "06:00"),
    processed("tx-001", "150.00", "USD", "00:00"),
])
EXPECTED_FAILED_2 = EXPECTED_FAILED_1 + [processed("tx-003", "75.50", "GBP", "12:00")]


def dead_letter(
    reason: str, message: str, violations: list, correlation_id: Any, line: str
) -> dict:
    return {
        "stream": "payment_events",
        "operator": "parse.payment_events",
        "reason": reason,
        "classification": "recoverable",
        "message": message,
        "violations": violations,
        "correlation_id": correlation_id,
        "input": line,
    }


# Jackson's own text quotes the input ("Unrecognized token 'not'"); a dead letter's message
# never quotes a value (docs/language/schema.md, "Sensitive data"): the kind and where.
JACKSON_NOT_JSON = "JsonParseException (line 1, column 4)"
EXPECTED_DEAD_LETTERS = [
    dead_letter("MALFORMED_INPUT", JACKSON_NOT_JSON, [], None, PHASE_1[2]),
    dead_letter(
        "VALIDATION_FAILED",
        "currency: REQUIRED is required",
        [{"field": "currency", "code": "REQUIRED", "message": "is required"}],
        "tx-004",
        PHASE_1[4],
    ),
    dead_letter(
        "VALIDATION_FAILED",
        "VALIDATE validate amount > 0",
        [{"field": "", "code": "VALIDATE", "message": "validate amount > 0"}],
        "tx-005",
        PHASE_1[6],
    ),
    dead_letter(
        "VALIDATION_FAILED",
        "currency: ENUM must be one of USD, EUR, GBP",
        [{"field": "currency", "code": "ENUM", "message": "must be one of USD, EUR, GBP"}],
        "tx-008",
        PHASE_1[7],
    ),
]


def stored(tx: str, amount: str, currency: str, minute: str) -> dict:
    """A document of transaction_store: _id is the store key, decimals as text (`decimals:
    string`)."""
    return {
        "_id": tx,
        "transaction_id": tx,
        "amount": amount,
        "currency": currency,
        "timestamp": f"2026-01-15T10:{minute}Z",
    }


EXPECTED_STORED = [
    stored("tx-001", "150.00", "USD", "00:00"),
    stored("tx-002", "25000.00", "EUR", "02:00"),
    stored("tx-006", "42.00", "USD", "21:00"),
    stored("tx-007", "99.99", "USD", "06:00"),
]


def keyed_values(kafka: KafkaBroker, topic: str, count: int) -> list[tuple[str, str]]:
    records = kafka.consume(topic, min_records=count, timeout=120, raw=True)
    return [(r.key, r.value.decode("utf-8")) for r in records]


def test_seed_payment_processor_on_kafka_flink_and_mongodb(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    run = uuid.uuid4().hex[:8]
    inbound = kafka_broker.unique_topic("payments-inbound")
    processed_topic = kafka_broker.unique_topic("payments-processed")
    failed_topic = kafka_broker.unique_topic("payments-failed")
    dead_topic = kafka_broker.unique_topic("payments-dead-letter")
    database = f"payments_{run}"

    kafka_broker.produce_lines(inbound, PHASE_1, partition=0)
    started = time.monotonic()
    job = flink_cluster.run_job(
        PAYMENTS_JAR,
        PAYMENTS_CLASS,
        [
            f"--stream.payment_events=kafka:{inbound}",
            f"--stream.processed_payments=kafka:{processed_topic}",
            f"--stream.failed_payments=kafka:{failed_topic}",
            f"--stream.dead_letter=kafka:{dead_topic}",
            # One slot for the whole job (production runs 8 wide), checkpoints where the test
            # cluster keeps them.
            "--flink.parallelism.default=1",
            f"--flink.execution.checkpointing.dir=file://{flink_cluster.checkpoint_dir}",
            "--stream.payment_events.parallelism=1",
            "--stream.processed_payments.parallelism=1",
            "--stream.failed_payments.parallelism=1",
            "--stream.dead_letter.parallelism=1",
            f"--kafka.bootstrap.servers={kafka_broker.bootstrap_servers}",
            "--kafka.security.protocol=PLAINTEXT",
            f"--kafka.group.id=payments-e2e-{run}",
            f"--store.transaction_store.database={database}",
            "--store.transaction_store.decimals=string",
            # The test server speaks no TLS (production's binding has tls: true).
            "--store.transaction_store.tls=false",
        ],
        parallelism=1,
    )
    flink_cluster.wait_for_running(job.job_id)

    processed_1 = keyed_values(kafka_broker, processed_topic, len(EXPECTED_PROCESSED_1))
    failed_1 = keyed_values(kafka_broker, failed_topic, len(EXPECTED_FAILED_1))
    record_timing("payments: phase 1 through the job (submit to last output)",
                  time.monotonic() - started)
    # Persisting is asynchronous and unordered: the processed records' order is not defined.
    assert sorted(processed_1) == EXPECTED_PROCESSED_1
    assert failed_1 == EXPECTED_FAILED_1

    dead = [json.loads(v) for _, v in keyed_values(kafka_broker, dead_topic, 4)]
    assert dead == EXPECTED_DEAD_LETTERS

    kafka_broker.produce_lines(inbound, PHASE_2, partition=0)
    processed_2 = keyed_values(kafka_broker, processed_topic, len(EXPECTED_PROCESSED_2))
    failed_2 = keyed_values(kafka_broker, failed_topic, len(EXPECTED_FAILED_2))
    assert sorted(processed_2) == EXPECTED_PROCESSED_2
    assert failed_2 == EXPECTED_FAILED_2
    # No more dead letters came (phase 2 is all valid).
    assert len(kafka_broker.consume(dead_topic, raw=True)) == 4
    record_timing("payments: both phases (submit to last output)", time.monotonic() - started)

    # Every processed record was in the store before it was on its topic; tx-001, processed
    # twice, is one document.
    documents = list(ferretdb.client()[database]["transactions"].find().sort("_id", 1))
    assert documents == EXPECTED_STORED
    assert flink_cluster.job_state(job.job_id) == "RUNNING"
    assert flink_cluster.restarts(job.job_id) == 0
