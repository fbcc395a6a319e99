"""examples/card-fraud's CardFraudScreen job on the e2e broker and cluster: the program arguments
that move its production environment onto them, and the decision-latency run of
bench/decision_latency.py.

The job jar is bound to the production environment (SASL_SSL brokers, MongoDB profiles, RocksDB,
S3 checkpoints, parallelism 6-12); the arguments keep its delivery guarantees and replace the
rest: the test broker over PLAINTEXT, unique topics, customer profiles in the test MongoDB server
(FerretDB) or from a JSON file in a memory store, the heap state backend, checkpoints in the
cluster's directory, parallelism 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple, Optional

from tests.e2e.infra.ferretdb import FerretDB
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.latency import LatencyReport, measure

JAR = Path("examples.card-fraud/card-fraud-job.jar")
MAIN = "nexflow.examples.card_fraud.CardFraudScreenJob"
STREAMS = (
    "authorizations",
    "auth_decisions",
    "cardholder_alerts",
    "late_authorizations",
    "auth_dead_letters",
)


def topics(kafka: KafkaBroker) -> dict[str, str]:
    """A new topic per stream. The sinks stamp records with their event time, and the tests'
    authorizations are from March 2026: with the broker's default retention (7 days) the log
    cleaner would delete them as they arrive, so these topics keep everything."""
    return {s: kafka.unique_topic(s.replace("_", "-"), **{"retention.ms": "-1"}) for s in STREAMS}


def job_args(
    kafka: KafkaBroker,
    cluster: FlinkCluster,
    topic_of: dict[str, str],
    profiles: Path | MongoProfiles,
    checkpoint_ms: int,
    read_timeout_ms: int = 5000,
) -> list[str]:
    """`profiles`: a JSON file for a memory store, or the MongoDB database holding them (the
    production binding kept, moved onto the test server). `read_timeout_ms` replaces the
    production read_timeout (200 ms): on a shared test machine a first read, which connects,
    can take longer, and the job would decide that card without its profile."""
    if isinstance(profiles, MongoProfiles):
        store = [
            f"--store.customer_profiles.uri={profiles.uri}",
            f"--store.customer_profiles.database={profiles.database}",
            # FerretDB 1.x has no Decimal128: typical_spend is kept as text.
            "--store.customer_profiles.decimals=string",
            f"--store.customer_profiles.read_timeout={read_timeout_ms} ms",
            # The test server speaks no TLS (production's binding uses mutual TLS).
            "--store.customer_profiles.tls=false",
        ]
    else:
        store = [
            "--store.customer_profiles=memory:customer_profiles",
            f"--store.customer_profiles.file={profiles.resolve()}",
        ]
    args = [
        f"--kafka.bootstrap.servers={kafka.bootstrap_servers}",
        "--kafka.security.protocol=PLAINTEXT",
        *store,
        "--flink.state.backend.type=hashmap",
        f"--flink.execution.checkpointing.dir={cluster.checkpoint_dir.as_uri()}",
        f"--flink.execution.checkpointing.interval={checkpoint_ms} ms",
        "--flink.parallelism.default=1",
        # Production starts a first deployment at the newest authorization (start_fallback:
        # latest); these topics are new and everything on them is the test's, written before
        # (or while) the job starts reading: read them from the beginning.
        "--stream.authorizations.start=earliest",
    ]
    for stream, topic in topic_of.items():
        args += [f"--stream.{stream}=kafka:{topic}", f"--stream.{stream}.parallelism=1"]
    return args


class MongoProfiles(NamedTuple):
    """Customer profiles in a MongoDB database (collection customer_profiles, _id = card_id)."""

    uri: str
    database: str


def store_profiles(
    ferretdb: FerretDB, database: str, profiles: list[dict[str, Any]]
) -> MongoProfiles:
    """Inserts the profiles as the job's MongoDB store keeps records: `_id` is the key."""
    collection = ferretdb.client()[database]["customer_profiles"]
    collection.insert_many([{"_id": p["card_id"], **p} for p in profiles])
    return MongoProfiles(ferretdb.uri, database)


def write_profiles(path: Path, profiles: list[dict[str, Any]]) -> Path:
    """A memory store's file: one JSON object, card_id → profile."""
    path.write_text(json.dumps({p["card_id"]: p for p in profiles}, indent=1), "utf-8")
    return path


def authorization(
    auth_id: str,
    card_id: str,
    billing: str,
    *,
    minute: int,
    mcc: str = "5411",
    channel: str = "CHIP",
    merchant: str = "Corner Grocery",
    merchant_country: str = "US",
    card_country: str = "US",
    amount: Optional[str] = None,
    currency: str = "USD",
    hour: int = 10,
) -> dict[str, Any]:
    """An authorization event of 2026-03-14 at hour:minute UTC (amounts as JSON texts)."""
    return {
        "auth_id": auth_id,
        "card_id": card_id,
        "amount": amount or billing,
        "currency": currency,
        "billing_amount": billing,
        "merchant_id": "M-" + merchant.upper().replace(" ", "-"),
        "merchant_name": merchant,
        "mcc": mcc,
        "merchant_country": merchant_country,
        "card_country": card_country,
        "channel": channel,
        "event_time": f"2026-03-14T{hour:02d}:{minute:02d}:00Z",
    }


LATENCY_START = datetime(2026, 3, 1, tzinfo=timezone.utc)
LATENCY_PROFILES = [
    {
        "card_id": f"card_{n:03d}",
        "customer_id": f"cust_{n:03d}",
        "home_country": "US",
        "typical_spend": "5000.00",
        "travel_country": None,
        "travel_until": None,
    }
    for n in range(200)
]


def latency_event(i: int) -> tuple[str, Optional[str], dict]:
    """Event i of the latency run: 200 cards in turn, each card's authorizations 4 hours of
    event time apart (so no velocity rule fires), small grocery purchases: every event is
    approved, as most are, and decided."""
    card = f"card_{i % 200:03d}"
    at = LATENCY_START + timedelta(hours=4 * (i // 200), seconds=i % 200)
    event = authorization(f"LAT{i:08d}", card, "12.34", minute=0)
    event["event_time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event["auth_id"], card, event


def run_latency(
    kafka: KafkaBroker,
    cluster: FlinkCluster,
    workdir: Path,
    *,
    rate: int,
    seconds: float,
    warmup: float,
    checkpoint_ms: int = 30000,
    jar: Optional[Path] = None,
    extra_args: Sequence[str] = (),
) -> LatencyReport:
    """Event produced → decision consumed (read_committed) on auth_decisions, in the delivery
    guarantee the production environment declares for it."""
    topic_of = topics(kafka)
    profiles = write_profiles(workdir / "latency_profiles.json", LATENCY_PROFILES)
    args = job_args(kafka, cluster, topic_of, profiles, checkpoint_ms) + list(extra_args)
    job = cluster.run_job(jar or JAR, MAIN, args)
    cluster.wait_for_running(job.job_id)
    try:
        # RUNNING is not reading yet: one decision first, so the warm-up starts on a live
        # pipeline (partitions assigned, profiles loaded).
        _, card, primer = latency_event(-1)  # before every measured event in event time
        kafka.produce_json(topic_of["authorizations"], [primer], key=lambda _: card)
        kafka.consume(topic_of["auth_decisions"], min_records=1, timeout=120)
        report = measure(
            kafka.bootstrap_servers,
            topic_of["authorizations"],
            topic_of["auth_decisions"],
            latency_event,
            rate=rate,
            seconds=seconds,
            warmup=warmup,
            id_field="auth_id",
        )
        report.checkpoints = cluster.completed_checkpoints(job.job_id)
        return report
    finally:
        cluster.cancel_job(job.job_id)
