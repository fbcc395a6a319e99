"""Kafka sources under faults, on the real broker and the real standalone cluster: event time is
assigned in the source (one watermark per partition, idleness), records that are not records
(a null value, bytes that are not UTF-8) become dead letters without a restart, the consumer
reads `read_committed`, and group, client and transactional ids carry the environment.

The jobs are tests/e2e/watermarks (environment `e2e`, `idle_timeout: 3 seconds`):
- Settle: `correlate with settlements by id within 1 minute`, timeouts to `unsettled`. A
  payment waits for its settlement; it times out when the watermark of *both* sources passes
  its time + 1 minute. Watermarks trail the largest time seen by nothing (no delay).
- Velocity: `rolling 1 hour` per id with `watermark 1 second` and `on late emit to
  late_swipes`; the swipes binding has `idle_timeout: 60 seconds`.

Each test ends with a FaultRow of what it counted (tests/e2e/infra/faults.py).
"""

from __future__ import annotations

import re
import uuid
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
    """An Event as its JSON line; `at` is a time of 2026-01-15 (HH:MM:SS)."""
    return f'{{"id":"{id}","at":"2026-01-15T{at}Z"}}'


def ids(kafka: KafkaBroker, topic: str, count: Optional[int] = None, timeout: float = 120) -> list:
    # Generous: the first output needs the job running and a checkpoint (exactly-once sinks);
    # on a loaded 2-core machine that took over 60 s once. A passing run waits no longer.
    records = kafka.consume(topic, min_records=count, timeout=timeout)
    return sorted(r.value["id"] for r in records)


def common_args(kafka: KafkaBroker, flink: FlinkCluster) -> list[str]:
    return [
        f"--kafka.bootstrap.servers={kafka.bootstrap_servers}",
        "--kafka.security.protocol=PLAINTEXT",
        f"--flink.execution.checkpointing.dir=file://{flink.checkpoint_dir}",
    ]


def settle(
    kafka: KafkaBroker, flink: FlinkCluster, topics: dict[str, str], *extra: str
) -> str:
    args = [f"--stream.{stream}=kafka:{topic}" for stream, topic in topics.items()]
    job = flink.run_job(
        SETTLE_JAR, SETTLE_CLASS, [*args, *common_args(kafka, flink), *extra], parallelism=1
    )
    flink.wait_for_running(job.job_id)
    return job.job_id


def settle_topics(kafka: KafkaBroker, partitions: int = 1) -> dict[str, str]:
    return {
        "payments": kafka.unique_topic("wm-payments", partitions),
        "settlements": kafka.unique_topic("wm-settlements", partitions),
        "settled": kafka.unique_topic("wm-settled"),
        "unsettled": kafka.unique_topic("wm-unsettled"),
        "dead_letter": kafka.unique_topic("wm-dead"),
    }


def test_a_source_subtask_without_partitions_does_not_hold_timeouts_back(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    """Both topics have 1 partition, both sources run 2 wide: one subtask of each reads
    nothing. It goes idle after 3 s, so the watermark follows the subtasks that read."""
    topics = settle_topics(kafka_broker)
    wide = ["--stream.payments.parallelism=2", "--stream.settlements.parallelism=2"]
    job = settle(kafka_broker, flink_cluster, topics, *wide)
    payments = [event("p1", "10:00:00"), event("p2", "10:00:30"), event("p3", "10:05:00")]
    settlements = [event("p2", "10:00:40"), event("s9", "10:05:00")]
    kafka_broker.produce_lines(topics["payments"], payments)
    kafka_broker.produce_lines(topics["settlements"], settlements)
    # p1's timer is 10:01:00; both watermarks pass it (10:05:00) once the empty subtasks are
    # idle. p2 is settled at once; p3 waits (10:06:00 is ahead of both watermarks).
    assert ids(kafka_broker, topics["settled"], 1) == ["p2"]
    unsettled = ids(kafka_broker, topics["unsettled"], 1, timeout=60)
    assert unsettled == ["p1"]
    restarts = flink_cluster.restarts(job)
    assert restarts == 0
    report_fault(FaultRow(
        fault="topic with fewer partitions than sources", records_in=len(payments),
        decisions_out=2, dead_letters=0, lost=0 if unsettled == ["p1"] else 1, duplicated=0,
        restarts=restarts, note="1 partition, source parallelism 2; p1 timed out",
    ))  # fmt: skip


def test_an_idle_partner_topic_does_not_hold_timeouts_back(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    """Nothing is ever written to settlements: 3 minutes of event time (longer than the
    correlate's minute) and the whole test in wall time. Payments still time out."""
    topics = settle_topics(kafka_broker)
    job = settle(kafka_broker, flink_cluster, topics)
    payments = [event("q1", "11:00:00"), event("q2", "11:01:30"), event("q3", "11:03:00")]
    kafka_broker.produce_lines(topics["payments"], payments)
    # Timers 11:01:00 and 11:02:30 are behind the payments' watermark (11:03:00).
    unsettled = ids(kafka_broker, topics["unsettled"], 2, timeout=60)
    assert unsettled == ["q1", "q2"]
    assert ids(kafka_broker, topics["settled"]) == []
    restarts = flink_cluster.restarts(job)
    assert restarts == 0
    report_fault(FaultRow(
        fault="idle partner topic for longer than D", records_in=len(payments),
        decisions_out=len(unsettled), dead_letters=0, lost=2 - len(unsettled), duplicated=0,
        restarts=restarts, note="settlements never written; q1, q2 timed out",
    ))  # fmt: skip


def test_a_lagging_partition_is_not_late(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    """One source subtask reads both partitions of swipes. Partition 0 runs 20 minutes ahead;
    partition 1 sends its swipes (of 10:01 and 10:02) only after partition 0's were counted.
    Watermarks per partition: the source's is the smaller one, so they are not late."""
    swipes = kafka_broker.unique_topic("wm-swipes", 2)
    counted = kafka_broker.unique_topic("wm-counted")
    late = kafka_broker.unique_topic("wm-late")
    dead = kafka_broker.unique_topic("wm-dead")
    args = [f"--stream.swipes=kafka:{swipes}", f"--stream.counted_swipes=kafka:{counted}",
            f"--stream.late_swipes=kafka:{late}", f"--stream.dead_letter=kafka:{dead}",
            *common_args(kafka_broker, flink_cluster)]  # fmt: skip
    job = flink_cluster.run_job(VELOCITY_JAR, VELOCITY_CLASS, args, parallelism=1).job_id
    flink_cluster.wait_for_running(job)
    ahead = [event("c1", "10:00:00"), event("c2", "10:10:00"), event("c3", "10:20:00")]
    kafka_broker.produce_lines(swipes, ahead, partition=0)
    assert ids(kafka_broker, counted, 3) == ["c1", "c2", "c3"]
    lagging = [event("c4", "10:01:00"), event("c5", "10:02:00")]
    kafka_broker.produce_lines(swipes, lagging, partition=1)
    out = ids(kafka_broker, counted, 5)
    assert out == ["c1", "c2", "c3", "c4", "c5"]
    assert ids(kafka_broker, late) == []
    restarts = flink_cluster.restarts(job)
    assert restarts == 0
    report_fault(FaultRow(
        fault="one partition lagging", records_in=5, decisions_out=len(out), dead_letters=0,
        lost=5 - len(out), duplicated=0, restarts=restarts,
        note="partition 1 twenty minutes behind partition 0; none late",
    ))  # fmt: skip


def test_null_and_undecodable_values_are_dead_letters_and_ids_carry_the_environment(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster
) -> None:
    """A tombstone (null value) and bytes that are not UTF-8 become dead letters, the source
    reader goes on (0 restarts). Records of an aborted transaction are never read
    (read_committed). The consumer's group id is `<environment>.<proc>`, its client ids
    `<environment>.<proc>.<stream>-<subtask>`; transactional ids start with the binding's
    `transactional_id_prefix`, else `<environment>.<proc>.<stream>`: read from the clients'
    own configuration as the TaskManagers log it, and from the broker's consumer groups."""
    topics = settle_topics(kafka_broker)
    run = uuid.uuid4().hex[:6]
    job = settle(kafka_broker, flink_cluster, topics,
                 "--stream.dead_letter.delivery=exactly_once")  # fmt: skip
    # An aborted transaction: x1 (time 12:00) would time out at 12:01 if it were read.
    with kafka_broker.producer(f"wm-aborted-{run}") as producer:
        producer.begin_transaction()
        producer.send(topics["payments"], value={"id": "x1", "at": "2026-01-15T12:00:00Z"})
        producer.flush()
        producer.abort_transaction()
    with kafka_broker.producer(value_serializer=None, key_serializer=None) as producer:
        producer.send(topics["payments"], key=b"tombstone", value=None)
        producer.send(topics["payments"], key=b"latin-1", value="caf\xe9".encode("latin-1"))
        producer.flush()
    payments = [event("r1", "12:00:00"), event("r2", "12:03:00")]
    kafka_broker.produce_lines(topics["payments"], payments)

    dead = [r.value for r in kafka_broker.consume(topics["dead_letter"], min_records=2,
                                                  timeout=60)]  # fmt: skip
    assert [d["reason"] for d in dead] == ["NULL_VALUE", "UNDECODABLE"]
    assert all(d["operator"] == "parse.payments" for d in dead)
    assert dead[0]["input"] is None and "a null value (a tombstone)" in dead[0]["message"]
    assert f"{topics['payments']}/0@" in dead[0]["message"]
    assert dead[1]["input"] == "Y2Fm6Q=="  # the bytes, base64
    # r1 times out (the watermark reached 12:03:00); x1 was never read.
    unsettled = ids(kafka_broker, topics["unsettled"], 1)
    assert unsettled == ["r1"]
    restarts = flink_cluster.restarts(job)
    assert restarts == 0

    # The clients' configuration, as the Kafka clients log it on the TaskManagers.
    def configs() -> Optional[list[dict[str, str]]]:
        found = _client_configs(flink_cluster)
        wanted = {"e2e.Settle.payments-0", "e2e.Settle.settlements-0"}
        ok = wanted <= {c.get("client.id") for c in found}
        return found if ok and any(c.get("transactional.id") for c in found) else None

    logged = procs.wait_until(configs, timeout=30, what="Kafka client configs in the logs")
    consumers = {c["client.id"]: c for c in logged if c.get("group.id") == "e2e.Settle"}
    for stream in ("payments", "settlements"):
        consumer = consumers[f"e2e.Settle.{stream}-0"]
        assert consumer["isolation.level"] == "read_committed"
    transactional = {c["transactional.id"] for c in logged if c.get("transactional.id")}
    assert any(t.startswith("e2e.watermarks.unsettled-") for t in transactional), transactional
    assert any(t.startswith("e2e.Settle.dead_letter-") for t in transactional), transactional
    # The broker holds the offsets of this test's topics under that group once a checkpoint
    # has committed them.
    flink_cluster.wait_for_checkpoints(job, 1)

    def committed() -> Optional[dict]:
        offsets = kafka_broker.admin().list_group_offsets({"e2e.Settle": None})
        mine = {tp.topic: o.offset for tp, o in offsets.get("e2e.Settle", {}).items()
                if tp.topic in (topics["payments"], topics["settlements"])}  # fmt: skip
        return mine if mine.get(topics["payments"], 0) > 0 else None

    offsets = procs.wait_until(committed, timeout=30, what="offsets of group e2e.Settle")
    assert offsets[topics["payments"]] >= 5  # 4 records read + the aborted transaction
    report_fault(FaultRow(
        fault="null value and undecodable bytes", records_in=len(payments) + 2,
        decisions_out=len(unsettled), dead_letters=len(dead), lost=0, duplicated=0,
        restarts=restarts, note="tombstone + latin-1 bytes: dead letters; aborted txn unread",
    ))  # fmt: skip


_CONFIG = re.compile(r"(ConsumerConfig|ProducerConfig) values:\s*\n((?:\t.*\n)+)")


def _client_configs(flink: FlinkCluster) -> list[dict[str, str]]:
    """Every `ConsumerConfig values:` / `ProducerConfig values:` block of the logs."""
    out = []
    for path in flink.log_files():
        text = path.read_text("utf-8", errors="replace")
        for m in _CONFIG.finditer(text):
            settings = {}
            for line in m.group(2).splitlines():
                key, _, value = line.strip().partition(" = ")
                settings[key] = value
            out.append(settings)
    return out
