"""Event time under faults on the real broker and the real standalone cluster.

The jobs are tests/e2e/watermarks (environment `e2e`, `idle_timeout: 3 seconds`, see
test_kafka_sources.py): Velocity (`rolling 1 hour` per id, `watermark 1 second`, late swipes to
`late_swipes`) and Settle (`correlate with settlements by id within 1 minute`, timeouts to
`unsettled`).

- An event time that epoch milliseconds cannot hold (year 999999999) used to fail the source's
  timestamp assigner on every restart (a crash loop); one far in the future (2099) moved the
  watermark there, so every later record was late. Both are dead letters now
  (EVENT_TIME_OUT_OF_RANGE): the job neither restarts nor drops the records after them.
- Sinks used to stamp each Kafka record with its event time: a topic with
  `message.timestamp.before.max.ms` refused the January records (the sink, and the job, failed
  on every restart) and time-based retention deleted them at once. Records now carry the
  producer's time, and their event time in the header `nexflow.event_time`.
- A payment waiting for its settlement while both topics are idle: no partition moves, so
  idleness cannot move the watermark and the event-time timeout never fired. The processing-time
  backstop ends the wait once the watermark has stood still for the duration plus the idle
  timeout (60 s + 3 s here), counts it (timeout_backstop) and logs it.

Each test ends with a FaultRow of what it counted (tests/e2e/infra/faults.py).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Optional

from tests.e2e.infra import procs
from tests.e2e.infra.faults import FaultRow, report_fault
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker

SETTLE_JAR = Path("tests.e2e.watermarks/settle-job.jar")
SETTLE_CLASS = "nexflow.tests.e2e.watermarks.SettleJob"
VELOCITY_JAR = Path("tests.e2e.watermarks/velocity-job.jar")
VELOCITY_CLASS = "nexflow.tests.e2e.watermarks.VelocityJob"


def event(id: str, at: str) -> str:
    """An Event as its JSON line; `at` is an ISO-8601 instant, or a time of 2026-01-15."""
    when = at if "T" in at else f"2026-01-15T{at}Z"
    return json.dumps({"id": id, "at": when})


def millis(at: str) -> int:
    return int(datetime.fromisoformat(f"2026-01-15T{at}+00:00").timestamp() * 1000)


def ids(kafka: KafkaBroker, topic: str, count: Optional[int] = None, timeout: float = 60) -> list:
    records = kafka.consume(topic, min_records=count, timeout=timeout)
    return sorted(r.value["id"] for r in records)


def common_args(kafka: KafkaBroker, flink: FlinkCluster) -> list[str]:
    return [
        f"--kafka.bootstrap.servers={kafka.bootstrap_servers}",
        "--kafka.security.protocol=PLAINTEXT",
        f"--flink.execution.checkpointing.dir=file://{flink.checkpoint_dir}",
    ]


def run(kafka: KafkaBroker, flink: FlinkCluster, jar: Path, main: str, topics: dict) -> str:
    args = [f"--stream.{stream}=kafka:{topic}" for stream, topic in topics.items()]
    job = flink.run_job(jar, main, [*args, *common_args(kafka, flink)], parallelism=1)
    flink.wait_for_running(job.job_id)
    return job.job_id


def velocity_topics(kafka: KafkaBroker, **counted_config: str) -> dict[str, str]:
    return {
        "swipes": kafka.unique_topic("et-swipes"),
        "counted_swipes": kafka.unique_topic("et-counted", **counted_config),
        "late_swipes": kafka.unique_topic("et-late"),
        "dead_letter": kafka.unique_topic("et-dead"),
    }


def dead_reasons(kafka: KafkaBroker, topic: str, count: int) -> list[str]:
    return [r.value["reason"] for r in kafka.consume(topic, min_records=count, timeout=60)]


def test_an_event_time_epoch_milliseconds_cannot_hold_is_a_dead_letter(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    topics = velocity_topics(kafka_broker)
    job = run(kafka_broker, flink_cluster, VELOCITY_JAR, VELOCITY_CLASS, topics)
    swipes = [event("c1", "10:00:00"), event("x1", "+999999999-01-01T00:00:00Z"),
              event("c2", "10:00:05")]  # fmt: skip
    kafka_broker.produce_lines(topics["swipes"], swipes)
    counted = ids(kafka_broker, topics["counted_swipes"], 2)
    reasons = dead_reasons(kafka_broker, topics["dead_letter"], 1)
    restarts = flink_cluster.restarts(job)
    flink_cluster.cancel_job(job)
    report_fault(FaultRow(
        fault="event time beyond epoch milliseconds", records_in=len(swipes),
        decisions_out=len(counted), dead_letters=len(reasons), lost=2 - len(set(counted)),
        duplicated=len(counted) - len(set(counted)), restarts=restarts,
        note="year 999999999: EVENT_TIME_OUT_OF_RANGE, no crash loop",
    ))  # fmt: skip
    assert counted == ["c1", "c2"]
    assert reasons == ["EVENT_TIME_OUT_OF_RANGE"]
    assert restarts == 0


def test_a_far_future_event_time_is_a_dead_letter_and_leaves_the_watermark_alone(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    topics = velocity_topics(kafka_broker)
    job = run(kafka_broker, flink_cluster, VELOCITY_JAR, VELOCITY_CLASS, topics)
    # f1 is decades ahead of the processing time (the default bound: 1 hour ahead).
    swipes = [event("c1", "10:00:00"), event("f1", "2099-01-01T00:00:00Z"),
              event("c2", "10:00:05"), event("c3", "10:00:10")]  # fmt: skip
    kafka_broker.produce_lines(topics["swipes"], swipes)
    counted = ids(kafka_broker, topics["counted_swipes"], 3)
    reasons = dead_reasons(kafka_broker, topics["dead_letter"], 1)
    # Read to the end: a swipe made late by a watermark in 2099 would show here.
    late = ids(kafka_broker, topics["late_swipes"])
    restarts = flink_cluster.restarts(job)
    flink_cluster.cancel_job(job)
    report_fault(FaultRow(
        fault="event time far in the future", records_in=len(swipes),
        decisions_out=len(counted), dead_letters=len(reasons),
        lost=len({"c1", "c2", "c3"} - set(counted)), duplicated=0, restarts=restarts,
        note=f"2099: EVENT_TIME_OUT_OF_RANGE; {len(late)} later swipes late",
    ))  # fmt: skip
    assert counted == ["c1", "c2", "c3"]
    assert late == []
    assert reasons == ["EVENT_TIME_OUT_OF_RANGE"]
    assert restarts == 0


def test_sink_records_carry_the_producer_time_and_their_event_time_in_a_header(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    # The broker refuses records stamped more than an hour before its clock (January 2026
    # event times are months old).
    topics = velocity_topics(kafka_broker, **{"message.timestamp.before.max.ms": "3600000"})
    job = run(kafka_broker, flink_cluster, VELOCITY_JAR, VELOCITY_CLASS, topics)
    started = time.time() * 1000
    swipes = [event("c1", "10:00:00"), event("c2", "10:00:05")]
    kafka_broker.produce_lines(topics["swipes"], swipes)
    records = kafka_broker.consume(topics["counted_swipes"], min_records=2, timeout=60)
    ended = time.time() * 1000
    restarts = flink_cluster.restarts(job)
    flink_cluster.cancel_job(job)
    out = sorted(r.value["id"] for r in records)
    report_fault(FaultRow(
        fault="sink topic refuses old record timestamps", records_in=len(swipes),
        decisions_out=len(out), dead_letters=0, lost=len({"c1", "c2"} - set(out)),
        duplicated=len(out) - len(set(out)), restarts=restarts,
        note="message.timestamp.before.max.ms=1h; records carry producer time",
    ))  # fmt: skip
    assert out == ["c1", "c2"]
    for r in records:
        # Stamped by the producer while the test ran (a second of slack for clock rounding).
        assert started - 1000 <= r.timestamp <= ended + 1000, r
        expected = millis("10:00:00" if r.value["id"] == "c1" else "10:00:05")
        assert r.headers.get("nexflow.event_time") == str(expected).encode("ascii"), r
    assert restarts == 0


def _metric_sums(cluster: FlinkCluster, job_id: str, suffix: str) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for vertex in cluster.job(job_id).get("vertices", []):
        base = f"/jobs/{job_id}/vertices/{vertex['id']}/metrics"
        names = [m["id"] for m in cluster.rest(base) if m["id"].endswith(suffix)]
        if names:
            for value in cluster.rest(base + "?get=" + ",".join(names)):
                totals[value["id"].split(".", 1)[-1]] += int(float(value["value"]))
    return dict(totals)


def test_a_waiting_payment_times_out_when_both_topics_are_idle(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    """Nothing follows p1 on either topic: the watermark stops at p1's time, short of its
    deadline (a minute later). The backstop ends the wait after 60 s + 3 s of standstill."""
    topics = {
        "payments": kafka_broker.unique_topic("et-payments"),
        "settlements": kafka_broker.unique_topic("et-settlements"),
        "settled": kafka_broker.unique_topic("et-settled"),
        "unsettled": kafka_broker.unique_topic("et-unsettled"),
        "dead_letter": kafka_broker.unique_topic("et-dead"),
    }
    job = run(kafka_broker, flink_cluster, SETTLE_JAR, SETTLE_CLASS, topics)
    started = time.monotonic()
    kafka_broker.produce_lines(topics["payments"], [event("p1", "10:00:00")])
    unsettled = ids(kafka_broker, topics["unsettled"], 1, timeout=150)
    waited = time.monotonic() - started
    counted = procs.wait_until(
        lambda: _metric_sums(flink_cluster, job, ".timeout_backstop") or None,
        timeout=90,
        what="the timeout_backstop metric",
    )
    logged = any(
        "correlation_timeout_backstop" in p.read_text("utf-8", errors="replace")
        for p in flink_cluster.log_files()
    )
    settled = ids(kafka_broker, topics["settled"])
    restarts = flink_cluster.restarts(job)
    flink_cluster.cancel_job(job)
    report_fault(FaultRow(
        fault="both correlate topics idle", records_in=1, decisions_out=len(unsettled),
        dead_letters=0, lost=1 - len(unsettled), duplicated=0, restarts=restarts,
        note=f"timed out by the processing-time backstop after {waited:.0f} s",
    ))  # fmt: skip
    assert unsettled == ["p1"]
    assert settled == []
    # Not before the duration plus the idle timeout (63 s) of standstill.
    assert waited >= 60, waited
    assert sum(counted.values()) == 1, counted
    assert logged
    assert restarts == 0
