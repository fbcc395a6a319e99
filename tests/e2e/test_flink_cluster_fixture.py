"""The Flink cluster fixture is a real standalone cluster: a packaged job jar runs on it.

The hello job (examples/hello) keeps greetings with `count > 2`; a missing or null count is not
greater than 2. The expected records below are written out by hand from that meaning.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.procs import listening_addresses, marked_pids, pid_alive
from tests.e2e.infra.timings import record_timing

HELLO_JAR = Path("examples.hello/hello-job.jar")
HELLO_CLASS = "nexflow.examples.hello.HelloFilterJob"

GREETINGS = [
    {"id": "e1", "name": "whisper", "count": 0},
    {"id": "e2", "name": "two is not loud", "count": 2},
    {"id": "e3", "name": "three is", "count": 3},
    {"id": "e4", "name": "count missing"},
    {"id": "e5", "name": "count null", "count": None},
    {"id": "e6", "name": "big", "count": 2147483647},
    {"id": "e7", "name": "below zero", "count": -3},
    {"id": "e8", "name": "日本語 \"quoted\" \\ backslash", "count": 7, "unknown": [1, 2]},
    {"id": "e9", "name": "just above", "count": 4},
]

LOUD = [
    {"id": "e3", "name": "three is", "count": 3},
    {"id": "e6", "name": "big", "count": 2147483647},
    {"id": "e8", "name": "日本語 \"quoted\" \\ backslash", "count": 7},
    {"id": "e9", "name": "just above", "count": 4},
]


def write_json_lines(path: Path, records) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        for r in records:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def read_json_lines(directory: Path) -> list[dict]:
    records = []
    for part in sorted(directory.glob("part-*.jsonl")):
        records.extend(json.loads(line) for line in part.read_text("utf-8").splitlines() if line)
    return records


def test_cluster_runs_two_taskmanagers_on_loopback(flink_cluster: FlinkCluster) -> None:
    # An earlier test may have replaced a TaskManager: it registers before it offers its slots.
    flink_cluster.wait_for_taskmanagers(2)
    overview = flink_cluster.rest("/overview")
    assert overview["taskmanagers"] == 2
    assert overview["slots-total"] == 4
    assert flink_cluster.rest_url.startswith("http://127.0.0.1:")

    pids = marked_pids(flink_cluster.owner)
    daemons = [flink_cluster.jobmanager_pid, *flink_cluster.taskmanager_pids()]
    assert all(pid in pids for pid in daemons), (daemons, pids)
    listening = listening_addresses(daemons)
    assert f"127.0.0.1:{flink_cluster.rest_port}" in listening[flink_cluster.jobmanager_pid]
    assert f"127.0.0.1:{flink_cluster.rpc_port}" in listening[flink_cluster.jobmanager_pid]
    everything = [a for addrs in listening.values() for a in addrs]
    assert all(a.startswith("127.0.0.1:") for a in everything), listening


def test_packaged_hello_job_runs_on_the_cluster(
    flink_cluster: FlinkCluster, tmp_path: Path
) -> None:
    assert HELLO_JAR.is_file(), f"{HELLO_JAR} was not packaged (runtime_package_dependencies)"
    greetings = write_json_lines(tmp_path / "greetings.jsonl", GREETINGS)
    loud = tmp_path / "loud_greetings"

    started = time.monotonic()
    submitted = flink_cluster.run_job(
        HELLO_JAR,
        HELLO_CLASS,
        [f"--stream.greetings=file:{greetings}", f"--stream.loud_greetings=file:{loud}"],
        parallelism=2,
    )
    assert any(j["jid"] == submitted.job_id for j in flink_cluster.jobs())
    flink_cluster.wait_for_job(submitted.job_id, states=["FINISHED"], timeout=180)
    total = time.monotonic() - started
    record_timing("hello job: `flink run --detached` returned", submitted.seconds)
    record_timing("hello job: submission to FINISHED", total)

    assert sorted(read_json_lines(loud), key=lambda r: r["id"]) == LOUD
    job = flink_cluster.job(submitted.job_id)
    assert job["state"] == "FINISHED"
    assert flink_cluster.restarts(submitted.job_id) == 0
    assert max(v["parallelism"] for v in job["vertices"]) == 2
    # Slots are spread over both TaskManagers (taskmanager.load-balance.mode: SLOTS), so killing
    # either TaskManager in a recovery test always hits a running subtask.
    placement = flink_cluster.subtask_taskmanagers(submitted.job_id)
    assert any(len(set(tms)) == 2 for tms in placement.values()), placement


def test_attached_submission_returns_when_the_job_is_done(
    flink_cluster: FlinkCluster, tmp_path: Path
) -> None:
    greetings = write_json_lines(tmp_path / "greetings.jsonl", GREETINGS[:3])
    loud = tmp_path / "loud"
    submitted = flink_cluster.run_job(
        HELLO_JAR,
        HELLO_CLASS,
        [f"--stream.greetings=file:{greetings}", f"--stream.loud_greetings=file:{loud}"],
        detached=False,
    )
    assert flink_cluster.job_state(submitted.job_id) == "FINISHED"
    assert read_json_lines(loud) == [{"id": "e3", "name": "three is", "count": 3}]


def test_a_submitted_job_can_be_cancelled(flink_cluster: FlinkCluster, tmp_path: Path) -> None:
    # 56 MB of input: seconds of work, while the cancel follows the submission at once.
    # (test_flink_writes_to_kafka cancels a job that has been running for a while.)
    greetings = tmp_path / "many.jsonl"
    with open(greetings, "w", encoding="utf-8") as out:
        out.write((json.dumps({"id": "x", "name": "n" * 20, "count": 5}) + "\n") * 1_000_000)
    submitted = flink_cluster.run_job(
        HELLO_JAR,
        HELLO_CLASS,
        [
            f"--stream.greetings=file:{greetings}",
            f"--stream.loud_greetings=file:{tmp_path / 'out'}",
        ],
        parallelism=2,
    )
    flink_cluster.cancel_job(submitted.job_id)
    assert flink_cluster.job_state(submitted.job_id) == "CANCELED"
    assert flink_cluster.rest("/overview")["jobs-running"] == 0
    greetings.unlink()


def test_a_taskmanager_can_be_killed_and_replaced(flink_cluster: FlinkCluster) -> None:
    first, second = flink_cluster.taskmanager_pids()[:2]
    killed = flink_cluster.kill_taskmanager(1)
    assert killed == second and not pid_alive(second) and pid_alive(first)

    started = time.monotonic()
    flink_cluster.wait_for_taskmanagers(1, timeout=60)
    record_timing("killed TaskManager unregistered after", time.monotonic() - started)

    replacement = flink_cluster.start_taskmanager()
    assert flink_cluster.taskmanager_pids() == [first, replacement]
    flink_cluster.wait_for_taskmanagers(2, timeout=90)
    assert flink_cluster.rest("/overview")["slots-total"] == 4
