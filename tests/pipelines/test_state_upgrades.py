"""Keyed state across stop-with-savepoint, restore and upgrades of the procs: generated jobs run
on a MiniCluster one phase per JVM (tests/pipelines/java/UpgradeRestore.java), each phase
restored from the savepoint the one before stopped with, and possibly a new build of the procs
(an upgrade: same package and class names, other classes).

- A correlation's waiting record ends as a timeout after a restore, even when the watermark
  only passes its deadline after a processing-time pause longer than the state's old TTL (the
  TTL was the duration, the watermark delay and an hour's grace; here the grace is patched to 0
  and the duration is 1 s, so any TTL would have expired in the 3 s pause).
- `correlate with` pairs records with partners that waited through such a restore, and times
  out the one left (each side waited in two TTL'd lists, a record's and its time's, before).
- Two streams persisting to one store: Flink accepts the job (distinct uids), both persist.
- Adding an aggregate to a `rolling` block keeps the run's state: the counts continue.
- So does inserting an operator before it (a filter, which starts a segment of its own): the
  class the run's state is serialized as is named after the state, not after the operator's
  position, so Flink restores it into the new build.
- A `rolling` run's entries survive a processing-time pause longer than the old TTL (duration,
  watermark delay and an hour's grace; here grace 0, duration 2 s): event-time timers own them,
  so a card's count after a restore still includes its authorizations of the seconds before.
- Correlate state written by a build that had a TTL on it (before its timers owned it; same
  uid, same state names) restores into this build, which has none: Flink 2 migrates TTL state
  to state without TTL. The waiting records pair or time out as before.
- Not upgrades, but the same harness: event times out of range are dead letters on a running job
  (EVENT_TIME_OUT_OF_RANGE), and a correlation's wait ends on processing time when the
  watermark stands still (the backstop). The Kafka versions are tests/e2e/test_event_time_faults.py.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from nexflow_core.generate import jobs
from tests.generate import javatools

JAVA = Path(__file__).parent / "java"
PACKAGE = "nexflow.tests.upgrades"

SCHEMA = """
schema Auth {
    auth_id: string @key
    card_id: string
    amount: decimal(12,2)
    event_time: datetime @event_time
}

schema Settlement {
    auth_id: string @key
    settled: decimal(12,2)
    event_time: datetime @event_time
}

schema Velocity {
    auth_id: string @key
    card_id: string
    n: long
    total: decimal(38,2)?
    biggest: decimal(12,2)?
}

stream auths: Auth
stream settlements: Settlement
stream paired: Auth
stream unmatched: Auth
stream approved: Auth
stream review: Auth
stream velocity: Velocity
stream dead_letter: Auth

store auth_store: Auth key auth_id
"""

CORRELATE = """
proc Match {
    from auths
    correlate by auth_id within 1 second
    on timeout emit to unmatched
    emit to paired
}
"""

CORRELATE_WITH = """
proc Settle {
    from auths
    correlate with settlements by auth_id within 1 second
    on timeout emit to unmatched
    emit to paired
}
"""

TWO_PERSISTS = """
proc Keep {
    from auths
    route {
        when amount >= 100 to review
        otherwise to approved
    }
}

proc KeepBoth {
    from auths
    emit to approved persist to auth_store
    filter amount >= 100
    emit to review persist to auth_store async
}
"""

ROLLING_V1 = """
proc Roll {
    from auths
    key by card_id
    rolling 1 hour {
        n = count()
        total = sum(amount)
    }
    map into Velocity {
        auth_id = auth_id
        card_id = card_id
        n = n
        total = total
        biggest = null
    }
    emit to velocity
}
"""

# v2 adds an aggregate (before the one that was there) and nothing else.
ROLLING_V2 = """
proc Roll {
    from auths
    key by card_id
    rolling 1 hour {
        n = count()
        biggest = max(amount)
        total = sum(amount)
    }
    map into Velocity {
        auth_id = auth_id
        card_id = card_id
        n = n
        total = total
        biggest = biggest
    }
    emit to velocity
}
"""

# v1 with a filter before `key by`: the keyed segment is the job's second operator now.
ROLLING_FILTERED = ROLLING_V1.replace(
    "    key by card_id\n", "    filter amount > 0\n    key by card_id\n"
)

STREAMS = ["auths", "settlements", "paired", "unmatched", "approved", "review", "velocity",
           "dead_letter"]  # fmt: skip


def auth(auth_id: str, card: str, amount: str, at: str) -> str:
    return json.dumps(
        {"auth_id": auth_id, "card_id": card, "amount": amount, "event_time": f"2024-05-01T{at}Z"}
    )


def settlement(auth_id: str, at: str) -> str:
    return json.dumps(
        {"auth_id": auth_id, "settled": "10.00", "event_time": f"2024-05-01T{at}Z"}
    )


ROLLING_SHORT = """
proc Roll {
    from auths
    key by card_id
    rolling 2 seconds {
        n = count()
        total = sum(amount)
    }
    map into Velocity {
        auth_id = auth_id
        card_id = card_id
        n = n
        total = total
        biggest = null
    }
    emit to velocity
}
"""


def with_old_correlate_ttl(java: Path) -> None:
    """Makes a generated job's correlate state what builds before its timers owned it wrote: a
    processing-time TTL (Keys.ttl) on every value state, under the same names."""
    text = java.read_text("utf-8")
    text, n = re.subn(
        r"getState\((new ValueStateDescriptor<>\(.*\))\);$",
        r"getState(withTtl(\1));",
        text,
        flags=re.M,
    )
    assert n >= 3, n
    helper = (
        "    static <V> ValueStateDescriptor<V> withTtl(ValueStateDescriptor<V> d) {\n"
        "        d.enableTimeToLive(Keys.ttl(3600000L));\n"
        "        return d;\n"
        "    }\n"
    )
    text = re.sub(r"(public final class \w+Job \{\n)", lambda m: m.group(1) + helper, text, count=1)
    java.write_text(text, "utf-8")


def build(tmp: Path, name: str, procs: str, patch=None) -> Path:
    """Generates and compiles the procs (with the harness) into tmp/name/classes; `patch`, if
    given, edits the generated Java files first."""
    out = tmp / name
    files = javatools.generate_sources({"s.schema": SCHEMA, "p.proc": procs}, PACKAGE, out)
    if patch is not None:
        for f in files:
            if f.name.endswith("Job.java"):
                patch(f)
    classes = out / "classes"
    harness = [JAVA / n for n in ("UpgradeRestore.java", "PipelineHarness.java",
                                  "StateEntriesReporter.java")]
    javatools.javac(sorted(files), classes, harness)
    return classes


def phase(
    classes: Path,
    tmp: Path,
    job: str,
    feeds: dict[str, list[str]],
    restore: str | None = None,
    awaited: dict[str, int] | None = None,
    extra: list[str] | None = None,
) -> dict:
    """Runs one phase of `job` (reading memory:<job>.<stream>) and returns what it printed."""
    args = ["--flink.pipeline.auto-watermark-interval=10 ms", f"--savepoints={tmp / 'savepoints'}"]
    if restore is not None:
        args.append(f"--restore={restore}")
    n = len(list(tmp.glob("feed*.jsonl")))
    for stream, lines in feeds.items():
        path = tmp / f"feed{n}_{stream}.jsonl"
        path.write_text("".join(line + "\n" for line in lines), "utf-8")
        args.append(f"--feed={job}.{stream}={path}")
    for stream, count in (awaited or {}).items():
        args.append(f"--await={job}.{stream}={count}")
    args += [f"--print={job}.{s}" for s in STREAMS]
    args += ["--job", f"{PACKAGE}.{job}Job"]
    args += [f"--stream.{s}=memory:{job}.{s}" for s in STREAMS]
    # One source subtask per stream: it hands out the phase's lines in order.
    args += [f"--stream.{s}.parallelism=1" for s in ("auths", "settlements")]
    args += extra or []
    stdout = javatools.java("UpgradeRestore", classes, args)
    marker = "UPGRADE_PHASE "
    printed = [line for line in stdout.splitlines() if line.startswith(marker)]
    assert len(printed) == 1, stdout[-3000:]
    result = json.loads(printed[0][len(marker) :])
    result["streams"] = {
        k.split(".", 1)[1]: [json.loads(x) for x in v] for k, v in result["streams"].items()
    }
    return result


def ids(records: list) -> list:
    return sorted(r["auth_id"] for r in records)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("upgrades")


@pytest.fixture(scope="module")
def procs(tmp: Path) -> Path:
    """The correlations and the persisting procs, compiled once. Whatever grace a TTL of a
    correlation's state would add: none (test-sized, with durations of 1 s)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "STATE_GRACE_MS", 0)
        return build(tmp, "procs", CORRELATE + CORRELATE_WITH + TWO_PERSISTS)


def test_correlate_state_has_no_ttl_its_timers_own_it(tmp: Path) -> None:
    files = javatools.generate_sources(
        {"s.schema": SCHEMA, "p.proc": CORRELATE + CORRELATE_WITH}, PACKAGE, tmp / "static"
    )
    for job in ("MatchJob.java", "SettleJob.java"):
        text = next(p for p in files if p.name == job).read_text("utf-8")
        assert "enableTimeToLive" not in text, job
        assert "State bound: the timer" in text, job
    settle = next(p for p in files if p.name == "SettleJob.java").read_text("utf-8")
    # One list per side, each entry a record with its time (they cannot fall out of step).
    assert re.findall(r'ListStateDescriptor<>\("(\w+)"', settle) == [
        "waiting_records", "waiting_partners"
    ]


def test_a_waiting_record_times_out_after_a_restore_past_the_old_ttl(
    tmp: Path, procs: Path
) -> None:
    classes = procs
    # a1 waits 1 s of event time for its partner; the job stops (savepoint) before the
    # watermark reaches its deadline.
    first = phase(classes, tmp, "Match", {"auths": [auth("a1", "c1", "10.00", "10:00:00")]})
    assert first["streams"]["unmatched"] == [] and first["streams"]["paired"] == []
    # Longer than any TTL of 1 s + 0 ms watermark + 0 grace, in processing time.
    time.sleep(3)
    # Restored: a record of another key moves the watermark past a1's deadline.
    second = phase(
        classes,
        tmp,
        "Match",
        {"auths": [auth("b1", "c2", "10.00", "10:00:05")]},
        restore=first["savepoint"],
        awaited={"unmatched": 1},
    )
    assert ids(second["streams"]["unmatched"]) == ["a1"]
    assert second["streams"]["paired"] == []


def test_correlate_with_pairs_and_times_out_records_that_waited_through_a_restore(
    tmp: Path, procs: Path
) -> None:
    classes = procs
    # a1 and a2 wait for their settlements, the settlement of b for its authorization.
    first = phase(
        classes,
        tmp,
        "Settle",
        {
            "auths": [auth("a1", "c1", "10.00", "10:00:00"), auth("a2", "c1", "10.00", "10:00:00")],
            "settlements": [settlement("b", "10:00:00")],
        },
    )
    assert first["streams"]["paired"] == [] and first["streams"]["unmatched"] == []
    # Longer than any TTL of 1 s + 0 ms watermark + 0 grace, in processing time.
    time.sleep(3)
    second = phase(
        classes,
        tmp,
        "Settle",
        {
            # b pairs with the settlement that waited; x moves the watermark on.
            "auths": [
                auth("b", "c2", "20.00", "10:00:00.200"),
                auth("x", "c3", "1.00", "10:00:10"),
            ],
            # a1's settlement pairs with a1; y moves the watermark on.
            "settlements": [settlement("a1", "10:00:00.500"), settlement("y", "10:00:10")],
        },
        restore=first["savepoint"],
        awaited={"paired": 2, "unmatched": 1},
    )
    # a1 pairs with a settlement after the restore, b with one before it; a2's time is up once
    # both streams' watermarks pass 10:00:01: it times out (nothing ends silently).
    assert ids(second["streams"]["paired"]) == ["a1", "b"]
    assert ids(second["streams"]["unmatched"]) == ["a2"]


def test_two_streams_persisting_to_one_store_run(tmp: Path, procs: Path) -> None:
    classes = procs
    result = phase(
        classes,
        tmp,
        "KeepBoth",
        {"auths": [auth("a1", "c1", "10.00", "10:00:00"), auth("a2", "c1", "500.00", "10:00:01")]},
        awaited={"approved": 2, "review": 1},
        extra=["--store.auth_store=memory:auth_store"],
    )
    # Flink accepted the job (two persist operators, two uids) and both wrote through.
    assert ids(result["streams"]["approved"]) == ["a1", "a2"]
    assert ids(result["streams"]["review"]) == ["a2"]
    java = tmp / "procs" / "java" / "nexflow" / "tests" / "upgrades" / "KeepBothJob.java"
    text = java.read_text("utf-8")
    assert '"KeepBoth.persist.auth_store.approved"' in text
    assert '"KeepBoth.persist.auth_store.review"' in text


@pytest.fixture(scope="module")
def rolling_v1(tmp: Path) -> Path:
    return build(tmp, "rolling_v1", ROLLING_V1)


def test_adding_an_aggregate_keeps_the_rolling_state(tmp: Path, rolling_v1: Path) -> None:
    v1 = rolling_v1
    v2 = build(tmp, "rolling_v2", ROLLING_V2)
    first = phase(
        v1,
        tmp,
        "Roll",
        {"auths": [auth("a1", "c1", "10.00", "10:00:00"), auth("a2", "c1", "20.00", "10:01:00")]},
        awaited={"velocity": 2},
    )
    assert [(r["n"], r["total"]) for r in first["streams"]["velocity"]] == [(1, 10.0), (2, 30.0)]
    second = phase(
        v2,
        tmp,
        "Roll",
        {"auths": [auth("a3", "c1", "5.00", "10:02:00")]},
        restore=first["savepoint"],
        awaited={"velocity": 1},
    )
    (row,) = second["streams"]["velocity"]
    # The count and the sum go on from the restored entries; the new aggregate has no values
    # for them (they were kept before it existed) and starts with this record.
    assert (row["auth_id"], row["n"], row["total"], row["biggest"]) == ("a3", 3, 35.0, 5.0)


def test_an_operator_inserted_before_a_rolling_block_keeps_its_state(
    tmp: Path, rolling_v1: Path
) -> None:
    filtered = build(tmp, "rolling_filtered", ROLLING_FILTERED)
    generated = Path("java") / "nexflow" / "tests" / "upgrades" / "RollJob.java"
    before, after = tmp / "rolling_v1" / generated, tmp / "rolling_filtered" / generated
    # The segment moved (Steps1 → Steps2); the class of its state did not.
    for java, segment in ((before, "Steps1"), (after, "Steps2")):
        text = java.read_text("utf-8")
        assert "public static final class RollingCardIdN {" in text
        assert f"private static final class {segment} extends KeyedProcessFunction" in text
    first = phase(
        rolling_v1,
        tmp,
        "Roll",
        {"auths": [auth("a1", "c1", "10.00", "10:00:00"), auth("a2", "c1", "20.00", "10:01:00")]},
        awaited={"velocity": 2},
    )
    assert [(r["n"], r["total"]) for r in first["streams"]["velocity"]] == [(1, 10.0), (2, 30.0)]
    second = phase(
        filtered,
        tmp,
        "Roll",
        # f1 is filtered out before the key's run: not counted.
        {"auths": [auth("f1", "c1", "0.00", "10:01:30"), auth("a3", "c1", "5.00", "10:02:00")]},
        restore=first["savepoint"],
        awaited={"velocity": 1},
    )
    (row,) = second["streams"]["velocity"]
    # Restored into the new build: the count and the sum go on from a1 and a2.
    assert (row["auth_id"], row["n"], row["total"]) == ("a3", 3, 35.0)


def test_rolling_entries_outlive_a_pause_longer_than_the_old_ttl(tmp: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "STATE_GRACE_MS", 0)
        classes = build(tmp, "rolling_short", ROLLING_SHORT)
    java = tmp / "rolling_short" / "java" / "nexflow" / "tests" / "upgrades" / "RollJob.java"
    assert "enableTimeToLive" not in java.read_text("utf-8")
    first = phase(classes, tmp, "Roll", {"auths": [auth("a1", "c1", "10.00", "10:00:00")]},
                  awaited={"velocity": 1})  # fmt: skip
    assert [r["n"] for r in first["streams"]["velocity"]] == [1]
    # Longer than a TTL of 2 s + 0 ms watermark + 0 grace, in processing time.
    time.sleep(4)
    second = phase(
        classes,
        tmp,
        "Roll",
        {"auths": [auth("a2", "c1", "5.00", "10:00:01")]},
        restore=first["savepoint"],
        awaited={"velocity": 1},
    )
    (row,) = second["streams"]["velocity"]
    # a1 (one second of event time before a2) is within a2's 2 seconds: counted.
    assert (row["auth_id"], row["n"], row["total"]) == ("a2", 2, 15.0)


def test_correlate_state_of_a_build_with_a_ttl_restores_into_this_one(tmp: Path) -> None:
    old = build(tmp, "correlate_ttl", CORRELATE, patch=with_old_correlate_ttl)
    new = build(tmp, "correlate_now", CORRELATE)
    first = phase(
        old,
        tmp,
        "Match",
        {"auths": [auth("a1", "c1", "10.00", "10:00:00"), auth("a2", "c2", "10.00", "10:00:00")]},
    )
    assert first["streams"]["unmatched"] == [] and first["streams"]["paired"] == []
    # a2's partner arrives after the upgrade; b1 moves the watermark past a1's deadline.
    second = phase(
        new,
        tmp,
        "Match",
        {"auths": [auth("a2", "c2", "10.00", "10:00:00.500"),
                   auth("b1", "c3", "1.00", "10:00:05")]},  # fmt: skip
        restore=first["savepoint"],
        awaited={"unmatched": 1, "paired": 1},
    )
    assert ids(second["streams"]["paired"]) == ["a2"]
    assert ids(second["streams"]["unmatched"]) == ["a1"]


LATE_VELOCITY = """
proc Late {
    from auths
    key by card_id
    rolling 1 hour {
        n = count()
        total = sum(amount)
    }
    on late emit to review
    map into Velocity {
        auth_id = auth_id
        card_id = card_id
        n = n
        total = total
        biggest = null
    }
    emit to velocity
}
"""


def test_out_of_range_event_times_are_dead_letters_on_a_running_job(tmp: Path) -> None:
    """On Flink (a MiniCluster), not only in the decoder: a time epoch milliseconds cannot hold
    no longer fails the source, one decades ahead no longer makes every later record late."""
    classes = build(tmp, "late", LATE_VELOCITY)
    at = {"x1": "+999999999-01-01T00:00:00Z", "f1": "2099-01-01T00:00:00Z"}
    bad = [json.dumps({"auth_id": k, "card_id": "c1", "amount": "1.00", "event_time": v})
           for k, v in at.items()]  # fmt: skip
    lines = [auth("a1", "c1", "10.00", "10:00:00"), *bad, auth("a2", "c1", "5.00", "10:00:05")]
    result = phase(classes, tmp, "Late", {"auths": lines}, awaited={"velocity": 2})
    counted = [(r["auth_id"], r["n"]) for r in result["streams"]["velocity"]]
    assert counted == [("a1", 1), ("a2", 2)]
    assert result["streams"]["review"] == []
    dead = [d for d in result["streams"]["dead_letter"] if d.get("reason") != "MALFORMED_INPUT"]
    assert sorted((d["correlation_id"], d["reason"]) for d in dead) == [
        ("f1", "EVENT_TIME_OUT_OF_RANGE"), ("x1", "EVENT_TIME_OUT_OF_RANGE")
    ]


def test_a_wait_times_out_on_processing_time_when_the_watermark_stands_still(tmp: Path) -> None:
    """After a1 the source sends only lines that are no records: the watermark stands still
    short of a1's deadline. The backstop ends the wait after 1 s (D) + 2 s (idle timeout)."""
    classes = build(tmp, "backstop", CORRELATE)
    started = time.monotonic()
    result = phase(
        classes,
        tmp,
        "Match",
        {"auths": [auth("a1", "c1", "10.00", "10:00:00")]},
        awaited={"unmatched": 1},
        extra=["--stream.auths.idle_timeout=2000"],
    )
    assert ids(result["streams"]["unmatched"]) == ["a1"]
    assert result["streams"]["paired"] == []
    assert time.monotonic() - started >= 3
