"""Generated jobs let Flink unload their classes when they end (tests/e2e/
test_class_loader_release.py checks that on the real cluster). Two libraries start threads that
would keep a job's classes loaded: the Kafka connector's exactly-once writer opens an admin
client it never closes (the job's sink closes its `adminClient` field), and the MongoDB driver
starts a buffer-pool pruner it never stops (MongoStore.stopBufferPruner, when Flink releases the
job's class loader). Both reach into the libraries' private members: this fails, with the
member named, when a library upgrade moves them, and checks that stopping the pruner ends its
thread. The runtime's memory store writes on a thread of its own, which must end when the store
is closed (one kept for the JVM held every such job's classes)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.generate import javatools

HARNESS = Path(__file__).parent / "java" / "ReleaseHarness.java"


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("release")
    files = javatools.generate_sources({}, "gen.release", root / "gen")
    classes = root / "classes"
    javatools.javac(files, classes, [HARNESS])
    result = subprocess.run(
        [str(javatools.java_home() / "bin" / "java"), "-cp",
         f"{classes}{os.pathsep}{javatools.classpath()}", "nexflow.runtime.ReleaseHarness"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout.splitlines()


def test_the_kafka_writer_still_keeps_its_admin_client_in_the_field_the_sink_closes(
    lines: list[str],
) -> None:
    assert "kafka writer adminClient is an Admin: true" in lines


def test_stopping_the_mongodb_pruner_ends_its_thread(lines: list[str]) -> None:
    assert "pruner threads before: 1" in lines
    assert "pruner threads after: 0" in lines


def test_a_closed_memory_store_leaves_no_writer_thread(lines: list[str]) -> None:
    # A writer kept for the JVM held the class loader of every job that had used a memory store.
    assert "memory store writers open: 1" in lines
    assert "memory store writers closed: 0" in lines
