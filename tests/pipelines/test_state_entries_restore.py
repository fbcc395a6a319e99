"""The gauge state_entries survives a restore: generated keyed jobs of the card issuer
(tests/pipelines/cards) run on a MiniCluster in four phases, each stopped with a savepoint and
the next restored from it (parallelism 2, then 3, then 1, then 1 again), and the gauges each
phase ended with are compared with the live entries worked out by hand.

Before the count was kept per key group in operator state, a restored operator counted from 0:
keys restored with the keyed state were missing and removing them made the count negative.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.generate import javatools

CARDS = Path(__file__).parent / "cards"
JAVA = Path(__file__).parent / "java"
PACKAGE = "nexflow.tests.cards"
JOBS = ("CardSpendTotals", "DedupAuths", "MatchAuths", "Velocity")
STREAMS = [
    "approved_auths", "declined_auths", "review_auths", "foreign_atm_auths", "late_auths",
    "unmatched_auths", "scored_auths", "high_risk_auths", "card_velocity", "card_spend",
    "card_windows", "dead_letter", "alerts", "rolling_stats",
]  # fmt: skip


def auth(auth_id: str, card: str, minute: int) -> str:
    return json.dumps(
        {
            "auth_id": auth_id,
            "card_id": card,
            "merchant": "shop",
            "amount": "10.00",
            "currency": "USD",
            "channel": "POS",
            "country": "US",
            "event_time": f"2024-05-01T10:{minute:02d}:00Z",
        }
    )


# Event time stays within 10:00-10:03, so no timer fires in any phase: a correlation waits 5
# minutes, Velocity's window [10:00, 10:10) closes 2 minutes after its end, and TTL'd state
# (state, deduplication) lives for hours of processing time.
PHASES = [
    # parallelism 2
    (2, [auth("a1", "c1", 0), auth("a2", "c1", 1), auth("a3", "c2", 1), auth("a4", "c3", 2)]),
    # restored at parallelism 3: a1 again pairs with the waiting a1 (and is a duplicate); a5 on
    # a new card c4.
    (3, [auth("a1", "c1", 2), auth("a5", "c4", 3)]),
    # restored at parallelism 1: a2 again pairs with the waiting a2 (and is a duplicate).
    (1, [auth("a2", "c2", 3)]),
    # restored at the same parallelism 1: a3 again pairs with the waiting a3.
    (1, [auth("a3", "c2", 3)]),
]

EXPECTED = [
    {
        # cards c1, c2, c3 hold `state`
        "CardSpendTotals.state.card_id.spent": 3,
        # a1..a4 kept
        "DedupAuths.dedup.auth_id": 4,
        # a1..a4 wait for their partner
        "MatchAuths.correlate.auth_id": 4,
        # one open window [10:00, 10:10) per card c1, c2, c3
        "Velocity.window.tumbling.card_id.CardVelocity": 3,
    },
    {
        # c1..c3 restored, c4 new
        "CardSpendTotals.state.card_id.spent": 4,
        # a1..a4 restored (a1 again a duplicate), a5 new
        "DedupAuths.dedup.auth_id": 5,
        # a1 paired and gone; a2, a3, a4 restored, a5 waits
        "MatchAuths.correlate.auth_id": 4,
        # c1..c3 restored (c1's window took a1 again), c4's window new
        "Velocity.window.tumbling.card_id.CardVelocity": 4,
    },
    {
        "CardSpendTotals.state.card_id.spent": 4,
        "DedupAuths.dedup.auth_id": 5,
        # a2 paired and gone: a3, a4, a5 wait
        "MatchAuths.correlate.auth_id": 3,
        # c2's window takes a2 again
        "Velocity.window.tumbling.card_id.CardVelocity": 4,
    },
    {
        "CardSpendTotals.state.card_id.spent": 4,
        "DedupAuths.dedup.auth_id": 5,
        # a3 paired and gone: a4, a5 wait
        "MatchAuths.correlate.auth_id": 2,
        "Velocity.window.tumbling.card_id.CardVelocity": 4,
    },
]


def test_state_entries_survive_savepoint_restores_and_rescaling(tmp_path: Path) -> None:
    sources = javatools.dsl_sources(CARDS)
    java_files = javatools.generate_sources(sources, PACKAGE, tmp_path)
    classes = tmp_path / "classes"
    reporter = JAVA / "StateEntriesReporter.java"
    harnesses = [JAVA / "StateEntriesRestore.java", JAVA / "PipelineHarness.java", reporter]
    javatools.javac(sorted(java_files), classes, harnesses)
    services = classes / "META-INF" / "services"
    services.mkdir(parents=True)
    factory = "org.apache.flink.metrics.reporter.MetricReporterFactory"
    (services / factory).write_text("StateEntriesReporter$Factory\n", "utf-8")

    args = [
        "--flink.pipeline.auto-watermark-interval=10 ms",
        "--flink.metrics.reporter.state.factory.class=StateEntriesReporter$Factory",
        "--flink.metrics.reporter.state.interval=50 ms",
        f"--savepoints={tmp_path / 'savepoints'}",
    ]
    for i, (parallelism, lines) in enumerate(PHASES):
        phase = tmp_path / f"phase{i}.jsonl"
        phase.write_text("".join(line + "\n" for line in lines), "utf-8")
        args.append(f"--phase={parallelism}={phase}")
    for job in JOBS:
        args.append(f"--feed-key={job}.auths")
    for job in JOBS:
        # One source subtask: it hands out the phase's lines in order.
        args += ["--job", f"{PACKAGE}.{job}Job", f"--stream.auths=memory:{job}.auths"]
        args.append("--stream.auths.parallelism=1")
        args += [f"--stream.{s}=memory:{job}.{s}" for s in STREAMS]
    stdout = javatools.java("StateEntriesRestore", classes, args)
    marker = "STATE_ENTRIES_PHASES "
    printed = [line for line in stdout.splitlines() if line.startswith(marker)]
    assert len(printed) == 1, stdout[-3000:]
    phases = json.loads(printed[0][len(marker) :])

    assert [p["parallelism"] for p in phases] == [2, 3, 1, 1]
    totals = []
    for phase in phases:
        total: Counter = Counter()
        for key, value in phase["gauges"].items():
            total[key.split("#")[0]] += value
        totals.append(dict(total))
    assert totals == EXPECTED
    for phase in phases:
        assert phase["all_ended"]
        gauges = phase["gauges"]
        # One gauge per subtask of each operator (from its start), none negative.
        subtasks = Counter(key.split("#")[0] for key in gauges)
        assert dict(subtasks) == {op: phase["parallelism"] for op in EXPECTED[0]}, gauges
        assert all(v >= 0 for v in gauges.values()), gauges
