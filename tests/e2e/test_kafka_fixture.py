"""The Kafka broker fixture is a real broker: records go through it, transactions are honoured."""

from __future__ import annotations

import time

import pytest

from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.procs import InfraError, listening_addresses, marked_pids
from tests.e2e.infra.timings import record_timing


def test_broker_answers_on_loopback_only(kafka_broker: KafkaBroker) -> None:
    host, port = kafka_broker.bootstrap_servers.split(":")
    assert host == "127.0.0.1"
    cluster = kafka_broker.admin().describe_cluster()
    assert [b["port"] for b in cluster["brokers"]] == [int(port)]

    pids = marked_pids(kafka_broker.owner)
    assert kafka_broker.pid in pids
    listening = [a for addrs in listening_addresses(pids).values() for a in addrs]
    assert f"127.0.0.1:{kafka_broker.broker_port}" in listening
    assert f"127.0.0.1:{kafka_broker.controller_port}" in listening
    assert all(a.startswith("127.0.0.1:") for a in listening), listening


def test_json_records_round_trip_by_key(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("roundtrip", partitions=3)
    records = [
        {"id": f"card-{i % 4}", "seq": i, "amount": i * 10.5, "note": "ünïcödé \"q\""}
        for i in range(40)
    ]
    started = time.monotonic()
    assert kafka_broker.produce_json(topic, records, key="id") == 40
    consumed = kafka_broker.consume(topic, min_records=40, timeout=30)
    record_timing("kafka: produce + consume 40 records", time.monotonic() - started)

    assert sorted((r.value for r in consumed), key=lambda v: v["seq"]) == records
    # A key always lands in one partition, in the order it was produced.
    by_key = {}
    for r in consumed:
        assert r.key == r.value["id"]
        by_key.setdefault(r.key, set()).add(r.partition)
        assert r.topic == topic
    assert all(len(parts) == 1 for parts in by_key.values()), by_key
    for key in by_key:
        seqs = [r.value["seq"] for r in consumed if r.key == key]
        assert seqs == sorted(seqs)


def test_read_committed_sees_a_transaction_only_after_commit(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("txn", partitions=2)
    kafka_broker.produce_json(topic, [{"id": "before", "n": 0}], key="id")

    with kafka_broker.producer(transactional_id=f"{topic}-tx") as producer:
        producer.begin_transaction()
        for n in range(1, 6):
            producer.send(topic, {"id": f"t{n}", "n": n}, key=f"t{n}")
        producer.flush()

        # Written to the log, but not visible to read_committed while the transaction is open.
        uncommitted = kafka_broker.consume_json(topic, isolation_level="read_uncommitted")
        assert sorted(v["n"] for v in uncommitted) == [0, 1, 2, 3, 4, 5]
        assert kafka_broker.consume_json(topic) == [{"id": "before", "n": 0}]

        producer.commit_transaction()
        committed = kafka_broker.consume_json(topic)
        assert sorted(v["n"] for v in committed) == [0, 1, 2, 3, 4, 5]

        # An aborted transaction is never visible to read_committed.
        producer.begin_transaction()
        producer.send(topic, {"id": "aborted", "n": 99}, key="aborted")
        producer.flush()
        producer.abort_transaction()

    assert sorted(v["n"] for v in kafka_broker.consume_json(topic)) == [0, 1, 2, 3, 4, 5]
    everything = kafka_broker.consume_json(topic, isolation_level="read_uncommitted")
    assert 99 in [v["n"] for v in everything]


def test_produce_json_can_commit_all_records_in_one_transaction(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("txn-batch")
    records = [{"id": str(i)} for i in range(10)]
    kafka_broker.produce_json(topic, records, key="id", transactional_id=f"{topic}-tx")
    assert kafka_broker.consume_json(topic) == records


def test_records_carry_the_timestamps_given(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("timestamps")
    records = [{"id": "a", "at": 1_700_000_000_000}, {"id": "b", "at": 1_700_000_060_000}]
    kafka_broker.produce_json(topic, records, key="id", timestamp_ms="at")
    consumed = kafka_broker.consume(topic)
    assert [(r.key, r.timestamp) for r in consumed] == [
        ("a", 1_700_000_000_000),
        ("b", 1_700_000_060_000),
    ]


def test_waiting_for_records_that_never_come_fails_clearly(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("empty")
    kafka_broker.produce_json(topic, [{"id": "only"}])
    with pytest.raises(InfraError, match=r"expected at least 2 .* found 1"):
        kafka_broker.consume(topic, min_records=2, timeout=1)


def test_topics_are_not_created_by_accident(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.unique_topic("exists")
    assert topic in kafka_broker.topics()
    assert "no-such-topic" not in kafka_broker.topics()
