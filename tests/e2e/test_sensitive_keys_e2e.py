"""A card number as a sensitive key, on a real broker and a real standalone cluster.

tests/e2e/sensitive is a one-proc pipeline keyed by the card number itself (`pan: string @key
@sensitive`). The test feeds it good and bad authorizations, then reads every Kafka key and
value the job wrote (approved records, dead letters, alerts) and the cluster's log files, and
finds the card numbers only where the policy puts them: in the values of the approved records
(the data the proc writes). Everything else names a card by its token (docs/language/schema.md,
"Sensitive data"). The cluster's TaskManagers have a token key (E2E_TOKEN_KEY, as every
TaskManager a cluster environment's job runs on must: it refuses unkeyed tokens), so tokens are
the keyed `tok:` form, computed here with Python's hmac.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

from tests.e2e.infra.faults import FaultRow, report_fault
from tests.e2e.infra.flink import E2E_TOKEN_KEY, FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.timings import record_timing

PROBE_JAR = Path("tests.e2e.sensitive/pan-probe-job.jar")
PROBE_CLASS = "nexflow.tests.e2e.sensitive.PanProbeJob"

PAN_OK = "4111111111111111"
PAN_BLOCKED = "5500005555555559"
PAN_LARGE = "340000000000009"
PAN_BAD_AMOUNT = "6011000990139424"
PAN_BAD_PATTERN = "4012888888881881X"
PAN_NOT_JSON = "4222222222222"
PAN_DECIMAL = "3530111333300000"
PANS = [PAN_OK, PAN_BLOCKED, PAN_LARGE, PAN_BAD_AMOUNT, PAN_BAD_PATTERN, PAN_NOT_JSON, PAN_DECIMAL]


def auth(pan: str, auth_id: str, amount: str, country: str) -> str:
    return json.dumps({"pan": pan, "auth_id": auth_id, "amount": amount, "country": country})


LINES = [
    auth(PAN_OK, "a1", "10.00", "US"),  # approved
    auth(PAN_BLOCKED, "a2", "20.00", "KP"),  # rejected by a rule: a dead letter
    auth(PAN_LARGE, "a3", "6000.00", "US"),  # an alert, and approved
    auth(PAN_BAD_AMOUNT, "a4", "98765x", "US"),  # a bad amount: kept (not sensitive), unquoted
    auth(PAN_BAD_PATTERN, "a5", "5.00", "US"),  # the key breaks its @pattern
    f"{PAN_NOT_JSON};12.00;US",  # not JSON
    auth(PAN_DECIMAL, "a7", "123456789012345.123", "US"),  # out of range
]
APPROVED = 2
DEAD = 5


def token(text: str) -> str:
    digest = hmac.new(E2E_TOKEN_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()
    return "tok:" + digest[:32]


def test_no_card_number_in_kafka_keys_dead_letters_alerts_or_logs(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    topics = {
        "pan_auths": kafka_broker.unique_topic("pan-auths"),
        "pan_approved": kafka_broker.unique_topic("pan-approved"),
        "pan_dead_letters": kafka_broker.unique_topic("pan-dlq"),
        "alerts": kafka_broker.unique_topic("pan-alerts"),
    }
    kafka_broker.produce_lines(topics["pan_auths"], LINES)
    args = [
        f"--kafka.bootstrap.servers={kafka_broker.bootstrap_servers}",
        *(f"--stream.{stream}=kafka:{topic}" for stream, topic in sorted(topics.items())),
    ]
    job = flink_cluster.run_job(PROBE_JAR, PROBE_CLASS, args)
    flink_cluster.wait_for_running(job.job_id)
    started = time.monotonic()
    approved = kafka_broker.consume(topics["pan_approved"], min_records=APPROVED, timeout=90)
    dead = kafka_broker.consume(topics["pan_dead_letters"], min_records=DEAD, timeout=60, raw=True)
    alerts = kafka_broker.consume(topics["alerts"], min_records=1, timeout=60, raw=True)
    record_timing("sensitive keys: 7 authorizations through", time.monotonic() - started)
    restarts = flink_cluster.restarts(job.job_id)
    flink_cluster.cancel_job(job.job_id)

    # The approved records are the data: their values carry the card number; their keys (the
    # binding's idempotency_key: pan) the token, so the topic still partitions by card.
    assert sorted(r.value["pan"] for r in approved) == sorted([PAN_OK, PAN_LARGE])
    assert sorted(r.key for r in approved) == sorted(token(p) for p in (PAN_OK, PAN_LARGE))

    def text(r) -> str:
        value = r.value.decode("utf-8") if isinstance(r.value, bytes) else str(r.value)
        return f"{r.key or ''} {value}"

    envelopes = " ".join(text(r) for r in dead + alerts)
    keys = " ".join(r.key or "" for r in approved + dead + alerts)
    logs = "\n".join(p.read_text("utf-8", errors="replace") for p in flink_cluster.log_files())
    # The job logged its dead letters: the logs are where we look.
    assert '"event":"dead_letter"' in logs
    leaks = {
        "keys": [p for p in PANS if p in keys],
        "envelopes": [p for p in PANS if p in envelopes],
        "logs": [p for p in PANS if p in logs],
    }
    dead_values = [json.loads(r.value) for r in dead]
    rejected = next(d for d in dead_values if d["reason"] == "REJECTED")
    report_fault(
        FaultRow(
            fault="sensitive key in envelopes/keys",
            records_in=len(LINES),
            decisions_out=len(approved),
            dead_letters=len(dead),
            lost=len(LINES) - len(approved) - len(dead),
            duplicated=0,
            restarts=restarts,
            note=f"card numbers found: {sum(len(v) for v in leaks.values())}",
        )
    )
    assert leaks == {"keys": [], "envelopes": [], "logs": []}
    assert len(dead) == DEAD
    # Dead letters and alerts are keyed by the card's token, as their correlation id says.
    assert rejected["correlation_id"] == token(PAN_BLOCKED)
    assert json.loads(rejected["input"])["pan"] == "***"
    (alert,) = [json.loads(r.value) for r in alerts]
    assert alert["correlation_id"] == token(PAN_LARGE)
    assert {r.key for r in alerts} == {token(PAN_LARGE)}
    assert restarts == 0
