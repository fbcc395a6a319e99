"""`on lookup_error` on a Flink MiniCluster: procs of tests/pipelines/lookups generated, compiled
and run by PipelineHarness against FlakyStore, a `class:` store that answers 300 ms after each
call on another thread (so lookups go through async I/O, as for MongoDB) and fails for cards
whose id starts with "down".

Before `on lookup_error`, every lookup failure was fatal (the job failed); now a failed lookup
goes on with a null profile (`continue`, the default) or becomes a dead letter (`dead_letter`).
The four authorizations of card c1 arrive while the first call for c1 is still running: they
share it (one call to the store per job). Expected values are written by hand.

Also (issue 12): a profile document that breaks its schema decides the card without it and
sends one notice to the dead letters (before: every authorization of the card was a dead
letter); a read queued behind others is bounded by read_timeout from the record's arrival
(before: only from when the read started, so the last of eight queued reads waited 3.2 s with a
1 s read_timeout); a write the store never takes is tried three times and then becomes a dead
letter (before: it failed the job). tests/e2e/test_store_faults.py stages the same on the real
cluster and FerretDB.
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

NOTIFY_AUTHS = [
    {"auth_id": "n1", "card_id": "bad1"},
    {"auth_id": "n2", "card_id": "c1"},
    {"auth_id": "n3", "card_id": "bad1"},
]
# Eight cards whose reads the store answers one after the other, 400 ms each (3.2 s in all).
SLOW_AUTHS = [{"auth_id": f"s{i}", "card_id": f"slow{i}"} for i in range(8)]
# Twenty cards whose reads queue behind one thread, 400 ms each, with a 300 ms read_timeout.
BEHIND_AUTHS = [{"auth_id": f"b{i}", "card_id": f"behind{i}"} for i in range(20)]


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
    # A card whose profile breaks its schema (Notify), cards whose reads queue (Bounded), writes
    # the store never takes (Keep).
    notify = root / "notify.jsonl"
    notify.write_text("".join(json.dumps(a) + "\n" for a in NOTIFY_AUTHS), "utf-8")
    slow = root / "slow.jsonl"
    slow.write_text("".join(json.dumps(a) + "\n" for a in SLOW_AUTHS), "utf-8")
    behind = root / "behind.jsonl"
    behind.write_text("".join(json.dumps(a) + "\n" for a in BEHIND_AUTHS), "utf-8")
    for job, feed, extra in [
        ("Notify", notify, []),
        ("Bounded", slow, ["--store.profiles.read_timeout=1000 ms"]),
        ("Behind", behind, ["--store.profiles.read_timeout=300 ms"]),
        ("Keep", auths, []),
    ]:
        args += ["--job", f"{PACKAGE}.{job}Job", f"--stream.auths=memory:{job}.auths",
                 f"--feed={job}.auths={feed}", "--store.profiles=class:FlakyStore",
                 f"--store.profiles.label={job}", "--store.kept_auths=class:FlakyStore",
                 *extra]  # fmt: skip
        for stream in ("enriched", "dead", "kept"):
            args += [f"--stream.{stream}=memory:{job}.{stream}", f"--print-stream={job}.{stream}"]
    args.append("--print-store=flaky_calls")
    printed = javatools.java("PipelineHarness", classes, args, timeout=300).strip().splitlines()
    calls = json.loads(printed[-1])
    written = json.loads(printed[-2])
    return {"calls": calls, "written": written}


def _enriched(run: dict, job: str) -> dict:
    return {
        e["auth_id"]: e["customer_id"] for e in map(json.loads, run["written"][f"{job}.enriched"])
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


def test_a_bad_profile_decides_the_card_without_it_and_sends_one_notice(run: dict) -> None:
    # Before: every authorization of the card was a dead letter, none decided.
    assert _enriched(run, "Notify") == {"n1": None, "n2": "cust_c1", "n3": None}
    dead = [json.loads(d) for d in run["written"]["Notify.dead"]]
    assert [(d["reason"], d["classification"]) for d in dead] == [
        ("BAD_STORE_DOCUMENT", "recoverable")
    ]
    assert "customer_id" in dead[0]["message"] and "decided without it" in dead[0]["message"]
    assert json.loads(dead[0]["input"])["card_id"] == "bad1"


def test_a_record_waits_at_most_read_timeout_from_its_arrival(run: dict) -> None:
    # The store answers the eight reads one after the other, 400 ms each; each read alone is
    # far inside the 1 s read_timeout, but the last ones would wait up to 3.2 s. Before, every
    # card waited for its profile; now those still queued after 1 s go on without it.
    enriched = _enriched(run, "Bounded")
    assert sorted(enriched) == sorted(a["auth_id"] for a in SLOW_AUTHS)
    assert enriched["s7"] is None
    assert any(v is not None for v in enriched.values()), enriched


def test_a_store_that_is_behind_is_not_sent_reads_nobody_waits_for(run: dict) -> None:
    # Twenty cards arrive at once; the store takes one read at a time, 400 ms each, and every
    # record gives up after 300 ms. Before, each read stayed queued after its record had gone on
    # and was still sent (20 reads, 8 s of a store that is already behind, and every later card
    # would wait behind them); now only a read somebody still waits for when its turn comes.
    enriched = _enriched(run, "Behind")
    assert enriched == {a["auth_id"]: None for a in BEHIND_AUTHS}
    sent = int(run["calls"].get("Behind:sent", "0"))
    skipped = int(run["calls"].get("Behind:skipped", "0"))
    assert 1 <= sent <= 2, run["calls"]
    assert sent + skipped == len(BEHIND_AUTHS), run["calls"]


def test_a_write_the_store_never_takes_is_a_dead_letter_after_its_retries(run: dict) -> None:
    # Before: the first failed write failed the job (and with it this whole run).
    kept = sorted(json.loads(r)["auth_id"] for r in run["written"]["Keep.kept"])
    assert kept == ["a1", "a2", "a4", "a5", "a7"]
    dead = sorted(map(json.loads, run["written"]["Keep.dead"]), key=lambda d: d["input"])
    assert [json.loads(d["input"]) for d in dead] == [AUTHS[2], AUTHS[5]]
    for d in dead:
        assert (d["operator"], d["reason"], d["classification"]) == (
            "persist.kept_auths",
            "STORE_UNAVAILABLE",
            "recoverable",
        )
        assert "after 3 tries" in d["message"]
    # Three tries per write the store refused to take.
    assert run["calls"]["upsert:down1"] == "3" and run["calls"]["upsert:down2"] == "3"
