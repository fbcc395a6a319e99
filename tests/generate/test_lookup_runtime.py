"""What the L0 runtime does around a store for `lookup` and `persist`, without Flink: the lookup
cache keeps at most `cache_entries` answers and evicts the least recently used one (it used to
clear itself entirely at 100k); misses for one key while its call runs share that call; writes
of one key start only when the write before it completed (async persist used to run them side
by side, so a stale version could win); store settings are checked; and MongoDB reads to a
server that never answers fail after `read_timeout` counted from when each read starts, not
from when it was queued (tests/e2e/test_store_faults.py stages the same on the real cluster).
Expected values are written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.generate import javatools

HARNESS = Path(__file__).parent / "java" / "LookupHarness.java"
SCHEMA = """schema Profile {
    card_id: string @key
}
"""


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("lookup")
    files = javatools.generate_sources({"p.schema": SCHEMA}, "gen.lookup", root / "gen")
    classes = root / "classes"
    javatools.javac(files, classes, [HARNESS])
    printed = javatools.java("nexflow.runtime.LookupHarness", classes, timeout=300)
    return json.loads([line for line in printed.splitlines() if line.startswith("{")][-1])


def test_the_cache_evicts_the_least_recently_used_answer(out: dict) -> None:
    cache = out["cache"]
    assert {k: cache[k] for k in "abcd"} == {"a": "A", "b": None, "c": "C", "d": "D"}
    assert cache["size"] == 3 and cache["evicted"] == 1
    assert cache["expired"] is True
    assert cache["size_after_1000"] == 3
    # A bad document's verdict is cached as such, and expires like an answer.
    assert cache["bad_is_bad"] is True and cache["bad_expires"] is True


def test_a_records_result_is_completed_exactly_once(out: dict) -> None:
    # The first completion wins; a deadline or a failure after it is dropped.
    assert out["once"] == ["complete [answer]"]


def test_misses_for_one_key_share_one_call(out: dict) -> None:
    assert out["coalesce"] == {
        "same_future": True,
        "other_key_own_call": True,
        "calls_while_running": 2,
        "running": 2,
        "second_answer": "profile",
        "running_after": 1,
        "calls_after_completion": 3,
        "coalesced": 1,
        "shared_failure": True,
        "calls_after_failure": 4,
    }


def test_writes_of_one_key_run_one_after_the_other(out: dict) -> None:
    assert out["order"] == [
        "start v1",
        "start other",
        "keys 1",
        "start v2",
        "v1 failed",
        "v2 done true true true",
        "keys 0",
    ]


def test_store_settings(out: dict) -> None:
    s = out["settings"]
    assert (s["millis.500 ms"], s["millis.250"], s["millis.bad"]) == (500, 250, -1)
    assert (s["read.default"], s["write.default"], s["cache.default"]) == (1000, 30000, 100000)
    assert "read_timeout is '0 ms'" in s["problems"] and "cache_entries is '-1'" in s["problems"]
    assert s["fine"] is None


def test_each_read_is_bounded_from_when_it_starts(out: dict) -> None:
    reads = out["slow_reads"]
    assert [r["reason"] for r in reads] == ["STORE_UNAVAILABLE"] * 3
    # One store thread: the reads run one after the other, each for its own 400 ms. Bounded
    # from when they were asked for, all three would end at about 400 ms.
    ends = [r["ms"] for r in reads]
    assert 350 <= ends[0] < 1500, ends
    assert ends[1] >= ends[0] + 300 and ends[2] >= ends[1] + 300, ends
    assert ends[2] < 4000, ends
