"""examples/card-fraud end to end: the packaged CardFraudScreen job (bound to its production
environment) on the standalone cluster, reading and writing topics of the real broker.

Program arguments move the job onto the test broker and cluster (tests/e2e/infra/cardfraud.py)
and keep its delivery guarantees: decisions and cardholder alerts at least once keyed by auth_id
(visible at once), late authorizations and dead letters exactly once (visible when a checkpoint
commits, every 2 s here). The authorizations below cover every branch of the decision table
that a handful of cards can reach, a resent authorization, a malformed line, a constraint
violation and a late event; the expected records are worked out by hand from
examples/card-fraud/fraud_decision.rules and card_fraud.proc. The first test reads the customer
profiles from the test MongoDB server (FerretDB), as production does.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from kafka.serializer import Serializer

from tests.e2e.infra import cardfraud
from tests.e2e.infra.cardfraud import authorization
from tests.e2e.infra.ferretdb import FerretDB
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker, KafkaRecord
from tests.e2e.infra.timings import record_timing

PROFILES = [
    # A US cardholder who typically spends 100 USD at once.
    {"card_id": "card_A", "customer_id": "cust_A", "home_country": "US", "typical_spend": "100.00",
     "travel_country": None, "travel_until": None},
    # Typically 50 USD; travelling in France until March 20.
    {"card_id": "card_B", "customer_id": "cust_B", "home_country": "US", "typical_spend": "50.00",
     "travel_country": "FR", "travel_until": "2026-03-20T00:00:00Z"},
    {"card_id": "card_V", "customer_id": "cust_V", "home_country": "US", "typical_spend": "1000.00",
     "travel_country": None, "travel_until": None},
    # card_X has no profile.
]  # fmt: skip

E01 = authorization("E01", "card_A", "42.50", minute=0)
EVENTS = [
    E01,
    E01,  # resent by the network right away: decided once
    authorization("E02", "card_A", "20.00", minute=1, mcc="7995", channel="ECOMMERCE",
                  merchant="Lucky Casino"),
    authorization("E03", "card_B", "80.00", minute=2, mcc="5812", merchant="Cafe de Flore",
                  merchant_country="FR", amount="74.10", currency="EUR"),
    authorization("E04", "card_B", "60.00", minute=3, mcc="5732", channel="ECOMMERCE",
                  merchant="Electro Shop UK", merchant_country="GB", amount="47.40",
                  currency="GBP"),
    authorization("E05", "card_X", "15.00", minute=4),
    authorization("E06", "card_A", "30.00", minute=5, mcc="6051", channel="ECOMMERCE",
                  merchant="Crypto Exchange"),
    authorization("E07", "card_A", "25.00", minute=6, mcc="4829", merchant="Wire Transfer Desk"),
    authorization("E08", "card_B", "300.00", minute=7, mcc="5944", merchant="Joaillerie Paris",
                  merchant_country="FR", amount="277.80", currency="EUR"),
    *(authorization(f"V{n}", "card_V", "10.00", minute=7 + n, mcc="5541", merchant="Gas Station")
      for n in range(1, 6)),
]  # fmt: skip
MALFORMED = '{"auth_id": "BAD1", "card_id": "card_A", "amount": '
INVALID = authorization("E09", "card_A", "12.00", minute=13, currency="usd")
LATE = authorization("L01", "card_A", "99.00", minute=0, hour=8)

# (auth_id, customer_id, decision, reason, auths/spend in 1 h = in 24 h) of each decision.
DECISIONS = [
    ("E01", "cust_A", "APPROVE", "NO_RISK_SIGNAL", 1, "42.50"),
    ("E02", "cust_A", "DECLINE", "BLOCKED_MCC", 2, "62.50"),
    ("E03", "cust_B", "APPROVE", "NO_RISK_SIGNAL", 1, "80.00"),  # abroad, on a travel notice
    ("E04", "cust_B", "REVIEW", "CROSS_BORDER_CNP", 2, "140.00"),
    ("E05", None, "REVIEW", "UNKNOWN_CARD", 1, "15.00"),
    ("E06", "cust_A", "DECLINE", "QUASI_CASH_CNP", 3, "92.50"),
    ("E07", "cust_A", "REVIEW", "QUASI_CASH", 4, "117.50"),
    ("E08", "cust_B", "REVIEW", "UNUSUAL_AMOUNT", 3, "440.00"),  # 300 > 5 x 50
    ("V1", "cust_V", "APPROVE", "NO_RISK_SIGNAL", 1, "10.00"),
    ("V2", "cust_V", "APPROVE", "NO_RISK_SIGNAL", 2, "20.00"),
    ("V3", "cust_V", "APPROVE", "NO_RISK_SIGNAL", 3, "30.00"),
    ("V4", "cust_V", "APPROVE", "NO_RISK_SIGNAL", 4, "40.00"),
    ("V5", "cust_V", "DECLINE", "VELOCITY_COUNT_1H", 5, "50.00"),
]
ALERTS = {
    "E02": "Your card was declined at Lucky Casino for 20.00 USD. Call us if this was you.",
    "E04": "Did you just pay 60.00 USD at Electro Shop UK? Reply YES or NO.",
    "E06": "Your card was declined at Crypto Exchange for 30.00 USD. Call us if this was you.",
    "E07": "Did you just pay 25.00 USD at Wire Transfer Desk? Reply YES or NO.",
    "E08": "Did you just pay 300.00 USD at Joaillerie Paris? Reply YES or NO.",
    "V5": "Your card was declined at Gas Station for 10.00 USD. Call us if this was you.",
}


def _value(record: KafkaRecord) -> Any:
    return json.loads(record.value, parse_float=Decimal)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _sent(auth_id: str) -> dict[str, Any]:
    (event,) = [e for e in EVENTS if e["auth_id"] == auth_id][:1]
    return event


class _Text(Serializer):
    def serialize(self, topic: str, headers: Any, value: str) -> bytes:  # type: ignore[override]
        return value.encode("utf-8")


def _produce(kafka: KafkaBroker, topic: str, lines: list[str]) -> None:
    """Lines as they are (a malformed one too), keyed by card like a card network's."""
    with kafka.producer(value_serializer=_Text()) as producer:
        for line in lines:
            key = json.loads(line)["card_id"] if line.endswith("}") else None
            producer.send(topic, value=line, key=key)
        producer.flush(timeout=30)


def test_card_fraud_job_decides_alerts_and_routes_on_kafka(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    topic_of = cardfraud.topics(kafka_broker)
    # The production binding of customer_profiles (MongoDB, read through async I/O), on the
    # test server.
    profiles = cardfraud.store_profiles(ferretdb, f"cards_{uuid.uuid4().hex[:8]}", PROFILES)
    lines = [json.dumps(e) for e in EVENTS] + [MALFORMED, json.dumps(INVALID)]
    _produce(kafka_broker, topic_of["authorizations"], lines)
    job = flink_cluster.run_job(
        cardfraud.JAR,
        cardfraud.MAIN,
        cardfraud.job_args(kafka_broker, flink_cluster, topic_of, profiles, checkpoint_ms=2000),
    )
    flink_cluster.wait_for_running(job.job_id)
    started = time.monotonic()

    raw = kafka_broker.consume(
        topic_of["auth_decisions"], min_records=len(DECISIONS), timeout=120, raw=True
    )
    record_timing("card-fraud: 13 decisions visible", time.monotonic() - started)
    # The watermark has passed the events decided so far: an authorization from two hours
    # before them is late.
    time.sleep(1.0)
    _produce(kafka_broker, topic_of["authorizations"], [json.dumps(LATE)])
    late = kafka_broker.consume(
        topic_of["late_authorizations"], min_records=1, timeout=60, raw=True
    )
    dead = kafka_broker.consume(topic_of["auth_dead_letters"], min_records=2, timeout=60, raw=True)
    time.sleep(3.0)  # a checkpoint later: nothing more arrives anywhere

    decisions = kafka_broker.consume(topic_of["auth_decisions"], raw=True)
    assert len(decisions) == len(raw) == len(DECISIONS)
    got = sorted((_value(r) for r in decisions), key=lambda d: d["auth_id"])
    for d, (auth_id, customer, decision, reason, count, spend) in zip(
        got, sorted(DECISIONS)
    ):
        sent = _sent(auth_id)
        assert d == {
            "auth_id": auth_id,
            "card_id": sent["card_id"],
            "customer_id": customer,
            "decision": decision,
            "reason": reason,
            "billing_amount": Decimal(sent["billing_amount"]),
            "merchant_name": sent["merchant_name"],
            "mcc": sent["mcc"],
            "merchant_country": sent["merchant_country"],
            "channel": sent["channel"],
            "auths_1h": count,
            "spend_1h": Decimal(spend),
            "auths_24h": count,
            "spend_24h": Decimal(spend),
            "event_time": d["event_time"],
        }, auth_id
        assert _instant(d["event_time"]) == _instant(sent["event_time"])
    # Keyed by the idempotency key: a replayed decision would carry the same key.
    assert all(r.key == _value(r)["auth_id"] for r in decisions)

    alerts = kafka_broker.consume(topic_of["cardholder_alerts"], raw=True)
    by_id = {_value(r)["auth_id"]: (r.key, _value(r)) for r in alerts}
    assert len(alerts) == len(ALERTS) and sorted(by_id) == sorted(ALERTS)
    for auth_id, message in ALERTS.items():
        key, alert = by_id[auth_id]
        (_, customer, decision, reason, _, _) = [d for d in DECISIONS if d[0] == auth_id][0]
        assert key == auth_id
        assert {k: v for k, v in alert.items() if k != "event_time"} == {
            "auth_id": auth_id,
            "customer_id": customer,
            "card_id": _sent(auth_id)["card_id"],
            "decision": decision,
            "reason": reason,
            "message": message,
        }

    (late_record,) = kafka_broker.consume(topic_of["late_authorizations"], raw=True)
    assert late == [late_record]
    value = _value(late_record)
    assert value["auth_id"] == "L01" and value["card_id"] == "card_A"
    assert value["billing_amount"] == Decimal("99.00")
    assert _instant(value["event_time"]) == _instant(LATE["event_time"])

    envelopes = sorted(
        ((r.key, _value(r)) for r in kafka_broker.consume(topic_of["auth_dead_letters"], raw=True)),
        key=lambda kv: kv[1]["input"],
    )
    assert len(envelopes) == len(dead) == 2
    (bad_key, bad), (invalid_key, invalid) = sorted(
        envelopes, key=lambda kv: kv[1]["input"] != MALFORMED
    )
    assert bad_key is None and bad["input"] == MALFORMED
    assert bad["reason"] == "MALFORMED_INPUT" and bad["correlation_id"] is None
    assert invalid["input"] == json.dumps(INVALID)
    assert invalid["reason"] == "VALIDATION_FAILED" and invalid["correlation_id"] == "E09"
    assert invalid_key == "E09"
    assert [(v["field"], v["code"]) for v in invalid["violations"]] == [("currency", "PATTERN")]
    flink_cluster.cancel_job(job.job_id)


def test_card_fraud_decisions_do_not_wait_for_checkpoints(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, tmp_path: Path
) -> None:
    """Decisions at a steady 200 authorizations/s for 10 s after a 5 s warm-up, with
    checkpoints only every 10 minutes: decisions are at least once, so every one arrives
    although no checkpoint completes during the run (an exactly-once sink would deliver none).
    The latency figures are printed, not bounded: on a 2-core machine shared with other builds
    they swing from tens of milliseconds to seconds (bench/decision_latency.py measures them at
    higher rates and for longer)."""
    report = cardfraud.run_latency(
        kafka_broker, flink_cluster, tmp_path, rate=200, seconds=10, warmup=5,
        checkpoint_ms=600000,
    )  # fmt: skip
    print(f"card-fraud decision latency: {report.line()}")
    record_timing(f"card-fraud decision latency p50 at {report.rate}/s", report.p50_ms / 1000)
    record_timing(f"card-fraud decision latency p99 at {report.rate}/s", report.p99_ms / 1000)
    assert report.measured == report.sent
    # Every decision came long before the 10-minute checkpoint an exactly-once sink would wait
    # for. (Once in a full e2e run, one checkpoint completed within the first seconds although
    # none was due; not understood yet, so the proof does not rest on the checkpoint count.)
    assert report.max_ms < 60_000, f"{report.line()}; checkpoints: {report.checkpoints}"
