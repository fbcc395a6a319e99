"""Runs the packaged examples/hello job jar on a local Flink MiniCluster and checks its output.

The expected records are written out by hand from the DSL's meaning (`filter count > 2`, and a
comparison with a missing value is false), not derived from the generator.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import List

JOB_JAR = Path("examples.hello/hello-job.jar")
# Job jars leave Flink out (a cluster has it); a local MiniCluster run adds it back.
FLINK_RUNTIME_JAR = Path("3rdparty.jvm/flink-local-runtime.jar")
JOB_CLASS = "nexflow.examples.hello.HelloFilterJob"

EVENTS = [
    {"id": "g1", "name": "quiet", "count": 1},
    {"id": "g2", "name": "exactly two", "count": 2},
    {"id": "g3", "name": "loud", "count": 3},
    {"id": "g4", "name": "no count"},
    {"id": "g5", "name": "null count", "count": None},
    {"id": "g6", "name": "very loud", "count": 1000000},
    {"id": "g7", "name": "negative", "count": -5},
    {"id": "g8", "name": "ünïcödé \"quoted\"", "count": 42, "extra": "ignored"},
]

EXPECTED = [
    {"id": "g3", "name": "loud", "count": 3},
    {"id": "g6", "name": "very loud", "count": 1000000},
    {"id": "g8", "name": "ünïcödé \"quoted\"", "count": 42},
]


def java() -> str:
    java_home = os.environ.get("NEXFLOW_JAVA_HOME") or os.environ.get("JAVA_HOME")
    assert java_home, "run through ./pants, which sets NEXFLOW_JAVA_HOME"
    return str(Path(java_home) / "bin" / "java")


def read_json_lines(directory: Path) -> List[dict]:
    records = []
    for part in sorted(directory.glob("part-*.jsonl")):
        records.extend(json.loads(line) for line in part.read_text("utf-8").splitlines() if line)
    return records


def test_hello_job_keeps_only_loud_greetings(tmp_path: Path) -> None:
    assert JOB_JAR.is_file(), f"{JOB_JAR} was not packaged"
    events = tmp_path / "greetings.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), "utf-8")
    output = tmp_path / "loud_greetings"

    result = subprocess.run(
        [
            java(),
            "-cp",
            f"{JOB_JAR}:{FLINK_RUNTIME_JAR}",
            JOB_CLASS,
            f"--stream.greetings=file:{events}",
            f"--stream.loud_greetings=file:{output}",
            "--flink.parallelism.default=2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    records = read_json_lines(output)
    assert sorted(records, key=lambda r: r["id"]) == EXPECTED
