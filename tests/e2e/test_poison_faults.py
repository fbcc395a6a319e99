"""Poison pills on the real broker and standalone cluster: bad data never restarts a job.

tests/e2e/poison holds two small procs bound to an environment that writes their dead letters
to Kafka. CheckTransfers enriches each transfer with its account's MongoDB document (the
session's FerretDB); SumTransfers sums amounts per account and minute. Each test stages one
fault, counts what came out itself and reports a row of the fault matrix, with the job's
restarts read from the cluster's REST API (which must be 0):

- a store document that is not an Account (a field of the wrong type, a required field
  missing): decided without it (on lookup_error continue) and one BAD_STORE_DOCUMENT notice
  to the dead letters; the others go on;
- a window sum that would overflow a long: the record that overflows is a dead letter, the
  window's result leaves it out;
- a dead letter larger than the producer's max.request.size (a malformed 1.5 MB line): the
  envelope is cut to fit, marked, with the original size.

The unbound dead-letter stream is refused by the compiler (NX516): its row comes from
checking examples/payments' production without its dead_letter binding.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from kafka.serializer import Serializer

from nexflow_core.diagnostics import render_text
from nexflow_core.project import check_project
from tests.e2e.infra.faults import FaultRow, report_fault
from tests.e2e.infra.ferretdb import FerretDB
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker

JAR = Path("tests.e2e.poison/poison-job.jar")
CHECK = "nexflow.tests.e2e.poison.CheckTransfersJob"
SUM = "nexflow.tests.e2e.poison.SumTransfersJob"
# Kafka's default max.request.size: the limit of the job's dead-letter producer.
MAX_REQUEST = 1_048_576


class _Text(Serializer):
    def serialize(self, topic: str, headers: Any, value: str) -> bytes:  # type: ignore[override]
        return value.encode("utf-8")


def _topics(kafka: KafkaBroker, *streams: str, **config: str) -> dict[str, str]:
    return {s: kafka.unique_topic(s.replace("_", "-"), **config) for s in streams}


def _args(
    kafka: KafkaBroker, cluster: FlinkCluster, topics: dict[str, str], *extra: str
) -> list[str]:
    return [
        f"--kafka.bootstrap.servers={kafka.bootstrap_servers}",
        *(f"--stream.{s}=kafka:{t}" for s, t in sorted(topics.items())),
        "--flink.state.backend.type=hashmap",
        f"--flink.execution.checkpointing.dir={cluster.checkpoint_dir.as_uri()}",
        "--flink.parallelism.default=1",
        *extra,
    ]


def _transfer(transfer_id: str, account: str, amount: int, second: int = 0) -> dict[str, Any]:
    return {
        "transfer_id": transfer_id,
        "account": account,
        "amount": amount,
        "at": f"2026-03-01T00:{second // 60:02d}:{second % 60:02d}Z",
    }


def _settle(cluster: FlinkCluster, job_id: str) -> int:
    """The job's restarts after it had time to fail on anything it read (a restart shows in the
    exception history at once), checking that it still runs."""
    time.sleep(3.0)
    assert cluster.job_state(job_id) == "RUNNING", cluster.job_exceptions(job_id)
    return cluster.restarts(job_id)


def test_a_store_document_that_is_not_the_schema_is_a_dead_letter(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    database = f"poison_{uuid.uuid4().hex[:8]}"
    ferretdb.client()[database]["accounts"].insert_many(
        [
            {"_id": "A1", "account": "A1", "owner": "Ann", "credit_limit": 100},
            # Wrong type: the document does not read as an Account.
            {"_id": "A2", "account": "A2", "owner": "Bob", "credit_limit": "lots"},
            # A required field missing: it reads, but breaks the schema.
            {"_id": "A3", "account": "A3", "credit_limit": 50},
        ]
    )
    topics = _topics(kafka_broker, "transfers", "checked_transfers", "dead_letter")
    sent = [
        _transfer("T1", "A1", 10),
        _transfer("T2", "A2", 20),
        _transfer("T3", "A3", 30),
        _transfer("T4", "A9", 40),  # no document: enriched with none
        _transfer("T5", "A1", 50),
    ]
    kafka_broker.produce_json(topics["transfers"], sent, key="account")
    job = flink_cluster.run_job(
        JAR, CHECK, _args(kafka_broker, flink_cluster, topics,
                          f"--store.accounts.database={database}"),
    )  # fmt: skip
    flink_cluster.wait_for_running(job.job_id)

    # Under `on lookup_error continue` (the proc's default) a bad document decides the record
    # without it (owner None) and sends one notice to the dead letters per read.
    out = kafka_broker.consume(topics["checked_transfers"], min_records=5, timeout=90)
    dead = kafka_broker.consume(topics["dead_letter"], min_records=2, timeout=60)
    restarts = _settle(flink_cluster, job.job_id)
    out = kafka_broker.consume(topics["checked_transfers"])
    dead = kafka_broker.consume(topics["dead_letter"])

    assert sorted((r.value["transfer_id"], r.value["owner"]) for r in out) == [
        ("T1", "Ann"), ("T2", None), ("T3", None), ("T4", None), ("T5", "Ann")
    ]  # fmt: skip
    letters = sorted((r.value for r in dead), key=lambda v: v["correlation_id"])
    assert [(v["correlation_id"], v["reason"], v["classification"]) for v in letters] == [
        ("T2", "BAD_STORE_DOCUMENT", "recoverable"),
        ("T3", "BAD_STORE_DOCUMENT", "recoverable"),
    ]
    assert all(v["operator"] == "lookup.accounts" for v in letters)
    assert json.loads(letters[0]["input"])["transfer_id"] == "T2"
    assert "owner" in letters[1]["message"]
    assert restarts == 0
    report_fault(FaultRow(
        "malformed store document (lookup)", records_in=len(sent), decisions_out=len(out),
        dead_letters=len(dead), lost=len(sent) - len(out), duplicated=0,
        restarts=restarts,
    ))  # fmt: skip
    flink_cluster.cancel_job(job.job_id)


def test_a_window_sum_that_overflows_makes_the_record_a_dead_letter(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    topics = _topics(kafka_broker, "transfers", "account_totals", "dead_letter")
    big = 9_000_000_000_000_000_000  # two of them overflow a long
    sent = [
        _transfer("W1", "A", big, second=10),
        _transfer("W2", "B", 7, second=15),
        _transfer("W3", "A", big, second=20),  # overflows A's sum: a dead letter
        _transfer("W4", "A", 5, second=30),
        # Moves the watermark past the first minute: its windows fire.
        _transfer("W5", "C", 1, second=300),
    ]
    kafka_broker.produce_json(topics["transfers"], sent, key="account")
    job = flink_cluster.run_job(JAR, SUM, _args(kafka_broker, flink_cluster, topics))
    flink_cluster.wait_for_running(job.job_id)

    totals = kafka_broker.consume(topics["account_totals"], min_records=2, timeout=90)
    dead = kafka_broker.consume(topics["dead_letter"], min_records=1, timeout=60)
    restarts = _settle(flink_cluster, job.job_id)
    totals = kafka_broker.consume(topics["account_totals"])
    dead = kafka_broker.consume(topics["dead_letter"])

    assert sorted((t.value["account"], t.value["total"], t.value["transfers"]) for t in totals) == [
        ("A", big + 5, 2), ("B", 7, 1)
    ]  # fmt: skip
    (letter,) = [d.value for d in dead]
    assert letter["correlation_id"] == "W3" and letter["reason"] == "ARITHMETIC"
    assert letter["classification"] == "recoverable"
    assert json.loads(letter["input"])["amount"] == big
    assert restarts == 0
    # W5's window has not closed: only the records of closed windows are counted.
    counted = len(sent) - 1
    summed = sum(t.value["transfers"] for t in totals)
    report_fault(FaultRow(
        "overflow in a window sum", records_in=counted, decisions_out=len(totals),
        dead_letters=len(dead), lost=counted - summed - len(dead), duplicated=0,
        restarts=restarts, note="3 records summed into 2 results, the overflowing one dead",
    ))  # fmt: skip
    flink_cluster.cancel_job(job.job_id)


def test_a_dead_letter_larger_than_a_request_is_cut_to_fit(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    # The input topic takes the 1.5 MB line (a batch must fit in a segment too: the broker's are
    # 1 MiB); the dead-letter topic keeps the broker's limits.
    big = {"max.message.bytes": "4000000", "segment.bytes": "8388608"}
    topics = _topics(kafka_broker, "transfers", **big)
    topics.update(_topics(kafka_broker, "checked_transfers", "dead_letter"))
    huge = '{"transfer_id": "HUGE", "account": "' + "x" * 1_500_000  # malformed: unterminated
    good = json.dumps(_transfer("G1", "A9", 1))
    with kafka_broker.producer(value_serializer=_Text(), max_request_size=4_000_000) as producer:
        for line in (huge, good):
            producer.send(topics["transfers"], value=line).get(timeout=30)
    job = flink_cluster.run_job(
        JAR, CHECK, _args(kafka_broker, flink_cluster, topics,
                          f"--store.accounts.database=poison_{uuid.uuid4().hex[:8]}"),
    )  # fmt: skip
    flink_cluster.wait_for_running(job.job_id)

    out = kafka_broker.consume(topics["checked_transfers"], min_records=1, timeout=90)
    dead = kafka_broker.consume(topics["dead_letter"], min_records=1, timeout=60, raw=True)
    restarts = _settle(flink_cluster, job.job_id)
    out = kafka_broker.consume(topics["checked_transfers"])
    dead = kafka_broker.consume(topics["dead_letter"], raw=True)

    assert [r.value["transfer_id"] for r in out] == ["G1"]
    (record,) = dead
    assert len(record.value) <= MAX_REQUEST
    letter = json.loads(record.value)
    assert letter["reason"] == "MALFORMED_INPUT"
    assert letter["truncated"] is True and letter["original_bytes"] > 1_500_000
    assert letter["input_truncated"] is True and letter["input_bytes"] == len(huge)
    assert huge.startswith(letter["input"]) and len(letter["input"]) > 900_000
    assert restarts == 0
    report_fault(FaultRow(
        "dead letter larger than max.request.size", records_in=2, decisions_out=len(out),
        dead_letters=len(dead), lost=2 - len(out) - len(dead), duplicated=0, restarts=restarts,
        note="envelope cut to the producer's limit, marked, original size kept",
    ))  # fmt: skip
    flink_cluster.cancel_job(job.job_id)


def test_unbound_dead_letters_are_a_compile_error() -> None:
    """examples/payments' production without its dead_letter binding is refused (NX516), at the
    environment, naming the proc; with it, it checks clean."""
    root = Path("examples/payments")
    sources = {str(p): p.read_text("utf-8") for p in sorted(root.iterdir()) if p.suffix in (
        ".schema", ".rules", ".proc", ".infra")}  # fmt: skip
    assert check_project(sources).diagnostics == []
    sinks = str(root / "production_sinks.infra")
    text = sources[sinks]
    start = text.index("        dead_letter {")
    end = text.index("}", start) + 2
    sources[sinks] = text[:start] + text[end:]
    project = check_project(sources)
    (d,) = project.diagnostics
    assert d.code == "NX516", render_text(project.diagnostics, project.sources)
    assert "PaymentProcessor" in d.message and d.span.file.endswith("production.infra")
    report_fault(FaultRow(
        "unbound dead letters (payments production)", records_in=0, decisions_out=0,
        dead_letters=0, lost=0, duplicated=0, restarts=0, compile_error=True,
        note="NX516 at environment production, naming PaymentProcessor",
    ))  # fmt: skip
