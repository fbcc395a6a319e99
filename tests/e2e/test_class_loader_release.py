"""A job that has ended leaves nothing of itself loaded on the TaskManagers it ran on.

Every run of a job on a TaskManager loads the job's classes (its jar's Kafka client, MongoDB
driver, connector and generated code: 20-30 MB of metaspace for card-fraud) in a class loader
of its own. Flink drops that loader when the job has gone; anything still running that came
from the jar keeps it, and its metaspace, for the life of the TaskManager. card-fraud kept two
such threads, the Kafka admin client the exactly-once sink opens (and the connector never
closes) and the MongoDB driver's buffer-pool pruner, and earlier runs with memory stores kept
the runtime's store writer thread: each run leaked its loader, and a
TaskManager that had run about ten jobs died of "OutOfMemoryError: Metaspace", taking the jobs
of other tests (and, in production, of other teams on a session cluster, or the same job after
enough restarts) with it. The session cluster keeps Flink's default 256 MB of metaspace per
TaskManager, so a leak also fails later tests of this batch.

Here card-fraud (MongoDB profiles, exactly-once sinks) runs and is cancelled, and then every
TaskManager must get down to no job class loader at all (JDK's `jcmd`: a full GC, then the class
loader statistics).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from typing import Optional

from tests.e2e.infra import cardfraud, procs
from tests.e2e.infra.cardfraud import authorization
from tests.e2e.infra.ferretdb import FerretDB
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.timings import record_timing

# The class loader Flink gives a job's jar (classloader.resolve-order: child-first).
JOB_LOADER = "ChildFirstClassLoader"


def _jcmd(cluster: FlinkCluster, pid: int, *command: str) -> str:
    done = subprocess.run(
        [str(cluster.java_home / "bin" / "jcmd"), str(pid), *command],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if done.returncode != 0:
        raise procs.InfraError(f"jcmd {pid} {' '.join(command)}: {done.stderr or done.stdout}")
    return done.stdout


def _job_loaders(cluster: FlinkCluster) -> dict[int, int]:
    """Per TaskManager PID, the job class loaders still alive after a full GC."""
    counts = {}
    for pid in cluster.taskmanager_pids():
        _jcmd(cluster, pid, "GC.run")
        stats = _jcmd(cluster, pid, "VM.classloader_stats")
        counts[pid] = sum(1 for line in stats.splitlines() if JOB_LOADER in line)
    return counts


# How the threads that held a job's loader were named: the Kafka admin client, the MongoDB
# driver's pruner and the L0 runtime's own ("nexflow-...").
LEAKED_THREAD_NAMES = ("kafka-admin-client", "BufferPoolPruner", "nexflow-")
# Further names a job's libraries give threads (Kafka clients, MongoDB cluster monitors, bare
# executors), listed when a loader stays: Flink may name some of its own threads alike.
SUSPECT_THREAD_NAMES = (*LEAKED_THREAD_NAMES, "kafka-", "cluster-", "pool-")


def _threads_from_jobs(cluster: FlinkCluster, prefixes: tuple[str, ...]) -> list[str]:
    """Threads running on the TaskManagers whose names start with one of `prefixes`."""
    names = []
    for pid in cluster.taskmanager_pids():
        for line in _jcmd(cluster, pid, "Thread.print").splitlines():
            if line.startswith('"') and any(line.startswith(f'"{p}') for p in prefixes):
                names.append(f"{pid}: {line.split('#')[0].strip()}")
    return names


def test_card_fraud_leaves_no_class_loader_behind(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    flink_cluster.wait_for_taskmanagers(flink_cluster.taskmanagers)
    topic_of = cardfraud.topics(kafka_broker)
    database = f"loaders_{uuid.uuid4().hex[:8]}"
    card = "card_L01"
    cardfraud.store_profiles(ferretdb, database, [
        {"card_id": card, "customer_id": "cust_L01", "home_country": "US",
         "typical_spend": "100.00", "travel_country": None, "travel_until": None},
    ])  # fmt: skip
    args = cardfraud.job_args(
        kafka_broker, flink_cluster, topic_of, cardfraud.MongoProfiles(ferretdb.uri, database),
        checkpoint_ms=2000,
    )  # fmt: skip
    events = [authorization(f"L{i}", card, "20.00", minute=i) for i in range(1, 4)]
    kafka_broker.produce_json(topic_of["authorizations"], events, key="card_id")
    job = flink_cluster.run_job(cardfraud.JAR, cardfraud.MAIN, args)
    flink_cluster.wait_for_running(job.job_id)
    decisions = kafka_broker.consume_json(
        topic_of["auth_decisions"], min_records=len(events), timeout=90
    )
    assert sorted(d["auth_id"] for d in decisions) == ["L1", "L2", "L3"]
    # The job has used its store and its Kafka sinks: their threads run now.
    flink_cluster.cancel_job(job.job_id)

    started = time.monotonic()
    last: dict[int, int] = {}

    def released() -> Optional[bool]:
        last.clear()
        last.update(_job_loaders(flink_cluster))
        return all(count == 0 for count in last.values()) or None

    procs.wait_until(
        released,
        timeout=90,
        interval=5,
        what="every TaskManager to release the class loaders of ended jobs",
        diagnostics=lambda: f"job class loaders per TaskManager: {last}; threads a job started "
        f"that may still run: {_threads_from_jobs(flink_cluster, SUSPECT_THREAD_NAMES)}",
    )
    record_timing("card-fraud cancelled: no job class loader left", time.monotonic() - started)
    assert _threads_from_jobs(flink_cluster, LEAKED_THREAD_NAMES) == []
