"""Jobs that have ended do not pile up on the TaskManagers they ran on.

Every run of a job on a TaskManager loads the job's classes (its jar's Kafka client, MongoDB
driver, connector and generated code: 20-30 MB of metaspace for card-fraud) in a class loader
of its own. Flink drops that loader when the job has gone; anything still running that came
from the jar keeps it, and its metaspace, for the life of the TaskManager. card-fraud kept two
such threads, the Kafka admin client the exactly-once sink opens (and the connector never
closes) and the MongoDB driver's buffer-pool pruner, and jobs with memory stores kept the
runtime's store writer thread: each run leaked its loader, and a TaskManager that had run about
ten jobs died of "OutOfMemoryError: Metaspace", taking the jobs of other tests (and, in
production, of other teams on a session cluster, or the same job after enough restarts) with it.
The session cluster keeps Flink's default 256 MB of metaspace per TaskManager, so a leak also
fails later tests of this batch.

A TaskManager may keep the loader of the last job it ran until the next job runs there (seen
with jcmd: after each of four runs one loader, a new one each time, the one before freed; no
thread of the job left). That costs one job's metaspace and does not grow. So: card-fraud
(MongoDB profiles, exactly-once sinks) runs three times, one after the other, on the two
TaskManagers, and then no TaskManager may hold more than one job class loader (JDK's `jcmd`: a
full GC, then the class loader statistics). A leak of one loader per run leaves at least two on
one of them.
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


RUNS = 3


def _run_card_fraud(
    run: int, kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    """One run: three decisions (so the store and the Kafka sinks have been used), cancelled."""
    topic_of = cardfraud.topics(kafka_broker)
    database = f"loaders_{uuid.uuid4().hex[:8]}"
    card = f"card_L{run}"
    cardfraud.store_profiles(ferretdb, database, [
        {"card_id": card, "customer_id": f"cust_L{run}", "home_country": "US",
         "typical_spend": "100.00", "travel_country": None, "travel_until": None},
    ])  # fmt: skip
    args = cardfraud.job_args(
        kafka_broker, flink_cluster, topic_of, cardfraud.MongoProfiles(ferretdb.uri, database),
        checkpoint_ms=2000,
    )  # fmt: skip
    ids = [f"L{run}-{i}" for i in range(1, 4)]
    events = [
        authorization(auth_id, card, "20.00", minute=i) for i, auth_id in enumerate(ids, start=1)
    ]
    kafka_broker.produce_json(topic_of["authorizations"], events, key="card_id")
    job = flink_cluster.run_job(cardfraud.JAR, cardfraud.MAIN, args)
    flink_cluster.wait_for_running(job.job_id)
    decisions = kafka_broker.consume_json(
        topic_of["auth_decisions"], min_records=len(events), timeout=90
    )
    assert sorted(d["auth_id"] for d in decisions) == ids
    flink_cluster.cancel_job(job.job_id)


def test_runs_of_card_fraud_do_not_pile_up_class_loaders(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, ferretdb: FerretDB
) -> None:
    flink_cluster.wait_for_taskmanagers(flink_cluster.taskmanagers)
    for run in range(1, RUNS + 1):
        _run_card_fraud(run, kafka_broker, flink_cluster, ferretdb)

    started = time.monotonic()
    last: dict[int, int] = {}

    def bounded() -> Optional[bool]:
        last.clear()
        last.update(_job_loaders(flink_cluster))
        return all(count <= 1 for count in last.values()) or None

    procs.wait_until(
        bounded,
        timeout=90,
        interval=5,
        what="every TaskManager to hold at most one job class loader",
        diagnostics=lambda: f"job class loaders per TaskManager: {last}; threads a job started "
        f"that may still run: {_threads_from_jobs(flink_cluster, SUSPECT_THREAD_NAMES)}",
    )
    record_timing(
        f"card-fraud cancelled {RUNS} times: at most one job class loader per TaskManager",
        time.monotonic() - started,
    )
    assert _threads_from_jobs(flink_cluster, LEAKED_THREAD_NAMES) == []
