"""Store faults on the real cluster, broker and FerretDB, with latency injected by a TCP proxy
between the job and the store (tests/e2e/infra/store_proxy.py).

- A slow profile store: examples/card-fraud's CardFraudScreen job (production binding, moved
  onto the test servers) reads customer profiles through the proxy. Once its first decisions are
  out, the proxy holds every answer for 60 s. Each lookup then runs out of its `read_timeout`
  (counted from when the read starts) and takes the proc's `on lookup_error continue`: the card
  is decided now, without its profile, the fallback is counted in a metric and logged without
  the card. The job never restarts. (Before: a 30 s bound counted from when the read was queued,
  and a timeout was fatal, so the job restarted and decided nothing.)
- Async persist in order: tests/e2e/stores' StoreProbe upserts four versions of each of 40
  documents in quick succession (`persist to documents async`) through a proxy that delays each
  connection's traffic by a random amount; at the end every document is its newest version.
  (Before: writes of one key ran side by side on the store's threads, and an older version
  could land last.)
- A stalled store under persist: StoreProbe's writes are not acknowledged (the proxy holds
  them a minute); each is tried three times within its write_timeout and then becomes a dead
  letter (the default `on persist_error dead_letter`), and the job goes on. (Before: the first
  timed-out write failed the job, which restarted as long as the store stayed down.)
- A burst of profile reads: 80 cards at once, each read taking about half a second through the
  proxy, four at a time. Every card is decided within its read_timeout from arrival, the last
  ones without their profile. (Before: the bound counted from when a read started, so the last
  card waited ten times as long as a single read, with no fallback.)
- A profile document that breaks its schema under `on lookup_error continue`: the card's
  authorizations are decided without it, and the dead letters get one notice. (Before: every
  authorization of the card was a dead letter, and none was decided.)
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Optional

from tests.e2e.infra import cardfraud, procs
from tests.e2e.infra.cardfraud import authorization
from tests.e2e.infra.faults import FaultRow, report_fault
from tests.e2e.infra.ferretdb import FerretDB
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.store_proxy import DelayProxy
from tests.e2e.infra.timings import record_timing

PROBE_JAR = Path("tests.e2e.stores/store-probe-job.jar")
PROBE_CLASS = "nexflow.tests.e2e.stores.StoreProbeJob"

FAST_CARDS = [f"card_S{i:02d}" for i in range(1, 5)]
SLOW_CARDS = [f"card_S{i:02d}" for i in range(5, 13)]


def _profile(card: str) -> dict[str, Any]:
    return {"card_id": card, "customer_id": "cust_" + card[-3:], "home_country": "US",
            "typical_spend": "100.00", "travel_country": None, "travel_until": None}  # fmt: skip


def _metric_sums(cluster: FlinkCluster, job_id: str, suffix: str) -> dict[str, int]:
    """Per metric name (the id without its subtask index), the sum over the job's vertices and
    subtasks of the metrics whose id ends with `suffix`."""
    totals: Counter[str] = Counter()
    for vertex in cluster.job(job_id).get("vertices", []):
        base = f"/jobs/{job_id}/vertices/{vertex['id']}/metrics"
        ids = [m["id"] for m in cluster.rest(base) if m["id"].endswith(suffix)]
        if ids:
            for value in cluster.rest(base + "?get=" + ",".join(ids)):
                name = value["id"].split(".", 1)[-1]
                totals[name] += int(float(value["value"]))
    return dict(totals)


def test_a_slow_profile_store_gets_decisions_with_the_fallback_and_no_restart(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    # A TaskManager an earlier test replaced registers before it offers its slots.
    flink_cluster.wait_for_taskmanagers(flink_cluster.taskmanagers)
    topic_of = cardfraud.topics(kafka_broker)
    database = f"slow_{uuid.uuid4().hex[:8]}"
    cardfraud.store_profiles(ferretdb, database, [_profile(c) for c in FAST_CARDS + SLOW_CARDS])
    with DelayProxy(ferretdb.port) as proxy:
        args = cardfraud.job_args(
            kafka_broker, flink_cluster, topic_of,
            cardfraud.MongoProfiles(proxy.uri, database), checkpoint_ms=2000,
            read_timeout_ms=1500,
        )  # fmt: skip
        events = [
            authorization(f"S{i:02d}", card, "20.00", minute=i)
            for i, card in enumerate(FAST_CARDS + SLOW_CARDS, start=1)
        ]
        fast, slow = events[: len(FAST_CARDS)], events[len(FAST_CARDS) :]
        kafka_broker.produce_json(topic_of["authorizations"], fast, key="card_id")
        job = flink_cluster.run_job(cardfraud.JAR, cardfraud.MAIN, args)
        flink_cluster.wait_for_running(job.job_id)
        first = kafka_broker.consume_json(
            topic_of["auth_decisions"], min_records=len(fast), timeout=90
        )
        assert sorted((d["auth_id"], d["customer_id"]) for d in first) == [
            (e["auth_id"], "cust_" + e["card_id"][-3:]) for e in fast
        ]

        # The store now answers a minute late: far beyond the read timeout (and beyond the
        # 30 s that was fatal before).
        proxy.delay = 60.0
        started = time.monotonic()
        kafka_broker.produce_json(topic_of["authorizations"], slow, key="card_id")
        decisions = kafka_broker.consume_json(
            topic_of["auth_decisions"], min_records=len(events), timeout=40
        )
        took = time.monotonic() - started
        record_timing("slow store: 8 decisions with the lookup fallback", took)
        by_id = Counter(d["auth_id"] for d in decisions)
        later = {d["auth_id"]: d for d in decisions if d["auth_id"] in {e["auth_id"] for e in slow}}
        # Decided without the profile: as a card the issuer has no profile of.
        assert sorted(later) == sorted(e["auth_id"] for e in slow)
        assert {(d["customer_id"], d["decision"], d["reason"]) for d in later.values()} == {
            (None, "REVIEW", "UNKNOWN_CARD")
        }
        # Flink's REST API serves metrics it fetched from the TaskManagers at most every few
        # seconds (longer on a loaded machine): wait for all of them, whatever their reason, and
        # then say which reasons they had.
        by_reason: dict[str, int] = {}

        def all_counted() -> Optional[int]:
            by_reason.clear()
            by_reason.update(_metric_sums(flink_cluster, job.job_id, ".lookup_errors"))
            total = sum(by_reason.values())
            return total if total >= len(slow) else None

        counted = procs.wait_until(
            all_counted,
            timeout=90,
            what="the lookup_errors metric to count every fallback",
            diagnostics=lambda: f"lookup_errors so far: {by_reason}",
        )
        unavailable = sum(n for name, n in by_reason.items() if ".STORE_UNAVAILABLE." in name)
        assert unavailable == counted, by_reason
        restarts = flink_cluster.restarts(job.job_id)
        flink_cluster.cancel_job(job.job_id)

    logged = [
        line
        for path in flink_cluster.log_files()
        for line in path.read_text("utf-8", "replace").splitlines()
        if '"event":"lookup_error"' in line
    ]
    assert logged, "no lookup_error log line"
    assert all("STORE_UNAVAILABLE" in line for line in logged)
    # Neither the key (the card) nor the record is logged.
    assert not any(card in line for line in logged for card in SLOW_CARDS)
    assert restarts == 0, flink_cluster.job_exceptions(job.job_id)
    lost = len(events) - len(by_id)
    report_fault(
        FaultRow(
            fault="slow store (lookup answers 60 s late)",
            records_in=len(events),
            decisions_out=len(by_id),
            dead_letters=0,
            lost=lost,
            duplicated=sum(n - 1 for n in by_id.values()),
            restarts=restarts,
            note=f"{len(slow)} decided in {took:.1f} s with the fallback; "
            f"lookup_errors={counted}",
        )
    )
    assert lost == 0


def test_async_persist_keeps_the_newest_version_of_each_document(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    # A TaskManager an earlier test replaced registers before it offers its slots.
    flink_cluster.wait_for_taskmanagers(flink_cluster.taskmanagers)
    topics = {
        "doc_versions": kafka_broker.unique_topic("doc-versions"),
        "written": kafka_broker.unique_topic("written"),
    }
    database = f"order_{uuid.uuid4().hex[:8]}"
    docs, versions = 40, 4
    records = [
        {"doc_id": f"doc{d:02d}", "version": v, "body": f"doc{d:02d} as of version {v}"}
        for d in range(docs)
        for v in range(1, versions + 1)
    ]
    kafka_broker.produce_json(topics["doc_versions"], records, partition=0)
    # Each connection to the store is slowed by its own random amount, so writes sent side by
    # side on two connections can land in either order.
    with DelayProxy(ferretdb.port, jitter=0.05) as proxy:
        job = flink_cluster.run_job(
            PROBE_JAR,
            PROBE_CLASS,
            [
                f"--kafka.bootstrap.servers={kafka_broker.bootstrap_servers}",
                *(f"--stream.{s}=kafka:{t}" for s, t in sorted(topics.items())),
                f"--store.documents.uri={proxy.uri}",
                f"--store.documents.database={database}",
                "--store.documents.decimals=string",
                "--store.documents.threads=8",
                "--flink.parallelism.default=1",
            ],
        )
        flink_cluster.wait_for_running(job.job_id)
        started = time.monotonic()
        written = kafka_broker.consume_json(topics["written"], min_records=len(records), timeout=90)
        record_timing("async persist: 160 versions written", time.monotonic() - started)
        restarts = flink_cluster.restarts(job.job_id)
        flink_cluster.cancel_job(job.job_id)
        connections = proxy.connections

    stored = {d["_id"]: d["version"] for d in ferretdb.client()[database]["documents"].find({})}
    stale = sorted(k for k, v in stored.items() if v != versions)
    missing = docs - len(stored)
    seen = Counter(json.dumps(r, sort_keys=True) for r in written)
    report_fault(
        FaultRow(
            fault="async persist, 4 versions per key (jitter)",
            records_in=len(records),
            decisions_out=len(seen),
            dead_letters=0,
            lost=len(stale) + missing + (len(records) - len(seen)),
            duplicated=sum(n - 1 for n in seen.values()),
            restarts=restarts,
            note=f"stale documents: {len(stale)}; store connections: {connections}",
        )
    )
    assert connections > 1  # the writes really had several connections to race on
    assert stale == [] and missing == 0, {k: stored[k] for k in stale}
    assert len(seen) == len(records)
    assert restarts == 0, flink_cluster.job_exceptions(job.job_id)


def test_a_stalled_store_makes_persist_writes_dead_letters_without_a_restart(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    # A TaskManager an earlier test replaced registers before it offers its slots.
    flink_cluster.wait_for_taskmanagers(flink_cluster.taskmanagers)
    topics = {
        "doc_versions": kafka_broker.unique_topic("stall-versions"),
        "written": kafka_broker.unique_topic("stall-written"),
        "dead_letter": kafka_broker.unique_topic("stall-dlq"),
    }
    database = f"stall_{uuid.uuid4().hex[:8]}"
    before = [{"doc_id": f"ok{d}", "version": 1, "body": "written at once"} for d in range(4)]
    stalled = [{"doc_id": f"st{d}", "version": 1, "body": "never acknowledged"} for d in range(3)]
    with DelayProxy(ferretdb.port) as proxy:
        job = flink_cluster.run_job(
            PROBE_JAR,
            PROBE_CLASS,
            [
                f"--kafka.bootstrap.servers={kafka_broker.bootstrap_servers}",
                *(f"--stream.{s}=kafka:{t}" for s, t in sorted(topics.items())),
                f"--store.documents.uri={proxy.uri}",
                f"--store.documents.database={database}",
                "--store.documents.decimals=string",
                "--store.documents.write_timeout=1500 ms",
                "--flink.parallelism.default=1",
            ],
        )
        flink_cluster.wait_for_running(job.job_id)
        kafka_broker.produce_json(topics["doc_versions"], before, partition=0)
        written = kafka_broker.consume_json(topics["written"], min_records=len(before), timeout=90)
        # The store stops answering: every write runs out of its 1.5 s, three times.
        proxy.delay = 60.0
        started = time.monotonic()
        kafka_broker.produce_json(topics["doc_versions"], stalled, partition=0)
        dead = kafka_broker.consume_json(
            topics["dead_letter"], min_records=len(stalled), timeout=60
        )
        took = time.monotonic() - started
        record_timing("stalled store: 3 persist writes to dead letters", took)
        restarts = flink_cluster.restarts(job.job_id)
        state = flink_cluster.job(job.job_id).get("state")
        flink_cluster.cancel_job(job.job_id)

    report_fault(
        FaultRow(
            fault="stalled store under persist (writes never acknowledged)",
            records_in=len(before) + len(stalled),
            decisions_out=len(written),
            dead_letters=len(dead),
            lost=len(before) + len(stalled) - len(written) - len(dead),
            duplicated=0,
            restarts=restarts,
            note=f"{len(dead)} dead letters {took:.1f} s after the stall "
            "(3 tries of 1.5 s each, 0.2 + 0.4 s backoff)",
        )
    )
    assert sorted(d["doc_id"] for d in written) == sorted(d["doc_id"] for d in before)
    assert len(dead) == len(stalled), dead
    assert {d["reason"] for d in dead} == {"STORE_UNAVAILABLE"}
    assert {d["classification"] for d in dead} == {"recoverable"}
    assert all("after 3 tries" in d["message"] for d in dead), dead
    assert sorted(json.loads(d["input"])["doc_id"] for d in dead) == ["st0", "st1", "st2"]
    assert restarts == 0, flink_cluster.job_exceptions(job.job_id)
    assert state == "RUNNING"


def test_a_burst_of_profile_reads_is_decided_within_the_read_timeout(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    # A TaskManager an earlier test replaced registers before it offers its slots.
    flink_cluster.wait_for_taskmanagers(flink_cluster.taskmanagers)
    topic_of = cardfraud.topics(kafka_broker)
    database = f"burst_{uuid.uuid4().hex[:8]}"
    warm = [f"card_W{i}" for i in range(1, 5)]
    burst = [f"card_B{i:03d}" for i in range(80)]
    cardfraud.store_profiles(ferretdb, database, [_profile(c) for c in warm + burst])
    read_timeout = 2.5
    with DelayProxy(ferretdb.port) as proxy:
        args = cardfraud.job_args(
            kafka_broker, flink_cluster, topic_of,
            cardfraud.MongoProfiles(proxy.uri, database), checkpoint_ms=60000,
            read_timeout_ms=int(read_timeout * 1000),
        )  # fmt: skip
        first = [authorization(f"W{i}", c, "20.00", minute=i) for i, c in enumerate(warm)]
        later = [
            authorization(f"B{i:03d}", c, "20.00", hour=11 + i // 60, minute=i % 60)
            for i, c in enumerate(burst)
        ]
        kafka_broker.produce_json(topic_of["authorizations"], first, key="card_id")
        job = flink_cluster.run_job(cardfraud.JAR, cardfraud.MAIN, args)
        flink_cluster.wait_for_running(job.job_id)
        kafka_broker.consume_json(topic_of["auth_decisions"], min_records=len(first), timeout=90)
        # Each read now takes about 0.5 s (0.25 s each way), well inside the read timeout; but
        # 80 of them on the store's 4 threads take about 10 s in all.
        proxy.delay = 0.25
        started = time.monotonic()
        kafka_broker.produce_json(topic_of["authorizations"], later, key="card_id")
        decisions = kafka_broker.consume_json(
            topic_of["auth_decisions"], min_records=len(first) + len(later), timeout=60
        )
        took = time.monotonic() - started
        record_timing("burst of 80 profile reads: all decided", took)
        restarts = flink_cluster.restarts(job.job_id)
        flink_cluster.cancel_job(job.job_id)

    by_id = Counter(d["auth_id"] for d in decisions)
    burst_ids = {e["auth_id"] for e in later}
    without = sum(1 for d in decisions if d["auth_id"] in burst_ids and d["customer_id"] is None)
    report_fault(
        FaultRow(
            fault="burst of 80 profile reads, 0.5 s each, 4 threads",
            records_in=len(first) + len(later),
            decisions_out=len(by_id),
            dead_letters=0,
            lost=len(first) + len(later) - len(by_id),
            duplicated=sum(n - 1 for n in by_id.values()),
            restarts=restarts,
            note=f"all decided {took:.1f} s after the burst; {without} without their profile "
            f"(read_timeout {read_timeout} s)",
        )
    )
    assert set(by_id) == {e["auth_id"] for e in first + later}
    assert max(by_id.values()) == 1
    # The reads queued longest gave up waiting at read_timeout and took the fallback ...
    assert without > 0
    # ... so the burst took about the read timeout, not the 10 s its reads need in a row.
    assert took < read_timeout + 5.0, took
    assert restarts == 0, flink_cluster.job_exceptions(job.job_id)


def test_a_bad_profile_document_decides_the_card_without_it_and_notifies_once(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    # A TaskManager an earlier test replaced registers before it offers its slots.
    flink_cluster.wait_for_taskmanagers(flink_cluster.taskmanagers)
    topic_of = cardfraud.topics(kafka_broker)
    database = f"bad_{uuid.uuid4().hex[:8]}"
    bad_card, good_card = "card_X01", "card_X02"
    # customer_id is required: this document is no CustomerProfile (BAD_STORE_DOCUMENT).
    cardfraud.store_profiles(
        ferretdb, database, [{**_profile(bad_card), "customer_id": None}, _profile(good_card)]
    )
    events = [
        authorization("X1", bad_card, "20.00", minute=1),
        authorization("X2", good_card, "20.00", minute=2),
        authorization("X3", bad_card, "25.00", minute=3),
        authorization("X4", bad_card, "30.00", minute=4),
    ]
    args = cardfraud.job_args(
        kafka_broker, flink_cluster, topic_of,
        cardfraud.MongoProfiles(ferretdb.uri, database), checkpoint_ms=60000,
    )  # fmt: skip
    kafka_broker.produce_json(topic_of["authorizations"], events, key="card_id")
    job = flink_cluster.run_job(cardfraud.JAR, cardfraud.MAIN, args)
    flink_cluster.wait_for_running(job.job_id)
    decisions = kafka_broker.consume_json(
        topic_of["auth_decisions"], min_records=len(events), timeout=90
    )
    dead = kafka_broker.consume_json(topic_of["auth_dead_letters"], min_records=1, timeout=60)
    # Anything more would have arrived by now (the decisions are out): read once more.
    time.sleep(3)
    dead = kafka_broker.consume_json(topic_of["auth_dead_letters"])
    restarts = flink_cluster.restarts(job.job_id)
    flink_cluster.cancel_job(job.job_id)

    by_id = {d["auth_id"]: d for d in decisions}
    report_fault(
        FaultRow(
            fault="profile document breaks its schema (on lookup_error continue)",
            records_in=len(events),
            decisions_out=len(by_id),
            dead_letters=len(dead),
            lost=len(events) - len(by_id),
            duplicated=len(decisions) - len(by_id),
            restarts=restarts,
            note="the card decided without its profile; one BAD_STORE_DOCUMENT notice",
        )
    )
    assert sorted(by_id) == ["X1", "X2", "X3", "X4"]
    assert by_id["X2"]["customer_id"] == "cust_X02"
    assert {by_id[i]["customer_id"] for i in ("X1", "X3", "X4")} == {None}
    assert [(d["reason"], d["classification"]) for d in dead] == [
        ("BAD_STORE_DOCUMENT", "recoverable")
    ]
    assert "customer_id" in dead[0]["message"] and "decided without it" in dead[0]["message"]
    assert restarts == 0, flink_cluster.job_exceptions(job.job_id)
