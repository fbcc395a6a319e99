"""`on lookup_error` on a Flink MiniCluster: procs of tests/pipelines/lookups generated, compiled
and run by PipelineHarness against FlakyStore, a `class:` store that answers 300 ms after each
call on another thread (so lookups go through async I/O, as for MongoDB) and fails for cards
whose id starts with "down".

Before `on lookup_error`, every lookup failure was fatal (the job failed); now a failed lookup
goes on with a null profile (`continue`, the default) or becomes a dead letter (`dead_letter`).
The four authorizations of card c1 arrive while the first call for c1 is still running: they
share it (one call to the store per job). Expected values are written by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.generate import javatools

HERE = Path(__file__).parent
JAVA = [HERE / "java" / "PipelineHarness.java", HERE / "java" / "StateEntriesReporter.java",
        HERE / "java" / "FlakyStore.java"]  # fmt: skip
PACKAGE = "nexflow.tests.lookups"
JOBS = ("GoOn", "DeadLetter", "Undeclared")
AUTHS = [
    {"auth_id": "a1", "card_id": "c1"},
    {"auth_id": "a2", "card_id": "c1"},
    {"auth_id": "a3", "card_id": "down1"},
    {"auth_id": "a4", "card_id": "c1"},
    {"auth_id": "a5", "card_id": "c2"},
    {"auth_id": "a6", "card_id": "down2"},
    {"auth_id": "a7", "card_id": "c1"},
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("lookups")
    sources = {p.name: p.read_text("utf-8") for p in sorted((HERE / "lookups").iterdir())}
    files = javatools.generate_sources(sources, PACKAGE, root)
    classes = root / "classes"
    javatools.javac(sorted(set(files)), classes, JAVA)
    auths = root / "auths.jsonl"
    auths.write_text("".join(json.dumps(a) + "\n" for a in AUTHS), "utf-8")
    args = ["--flink.parallelism.default=1"]
    for job in JOBS:
        args += ["--job", f"{PACKAGE}.{job}Job", f"--stream.auths=memory:{job}.auths",
                 f"--feed={job}.auths={auths}", "--store.profiles=class:FlakyStore",
                 f"--store.profiles.label={job}"]  # fmt: skip
        for stream in ("enriched", "dead"):
            args += [f"--stream.{stream}=memory:{job}.{stream}", f"--print-stream={job}.{stream}"]
    args.append("--print-store=flaky_calls")
    printed = javatools.java("PipelineHarness", classes, args, timeout=300).strip().splitlines()
    calls = json.loads(printed[-1])
    written = json.loads(printed[-2])
    return {"calls": calls, "written": written}


def _enriched(run: dict, job: str) -> dict:
    return {
        e["auth_id"]: e["customer_id"]
        for e in map(json.loads, run["written"][f"{job}.enriched"])
    }


@pytest.mark.parametrize("job", ["GoOn", "Undeclared"])
def test_continue_decides_every_record_with_a_null_profile_when_the_store_fails(
    run: dict, job: str
) -> None:
    assert _enriched(run, job) == {
        "a1": "cust_c1", "a2": "cust_c1", "a3": None, "a4": "cust_c1",
        "a5": "cust_c2", "a6": None, "a7": "cust_c1",
    }  # fmt: skip
    assert run["written"][f"{job}.dead"] == []


def test_dead_letter_sends_the_record_whose_lookup_failed_to_the_dead_letters(run: dict) -> None:
    assert _enriched(run, "DeadLetter") == {
        "a1": "cust_c1", "a2": "cust_c1", "a4": "cust_c1", "a5": "cust_c2", "a7": "cust_c1",
    }  # fmt: skip
    dead = sorted(map(json.loads, run["written"]["DeadLetter.dead"]), key=lambda d: d["input"])
    assert [json.loads(d["input"]) for d in dead] == [AUTHS[2], AUTHS[5]]
    for d in dead:
        assert d["stream"] == "auths"
        assert d["operator"] == "lookup.profiles"
        assert d["reason"] == "STORE_UNAVAILABLE"
        assert d["classification"] == "recoverable"


def test_misses_for_one_card_share_one_call(run: dict) -> None:
    # c1's four authorizations come while its first call runs (300 ms): one call per job.
    for job in JOBS:
        calls = {k.split(":", 1)[1]: int(v) for k, v in run["calls"].items()
                 if k.startswith(job + ":")}  # fmt: skip
        assert calls == {"c1": 1, "c2": 1, "down1": 1, "down2": 1}, job
