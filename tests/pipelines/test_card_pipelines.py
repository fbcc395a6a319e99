"""A card issuer's fraud pipelines (tests/pipelines/cards/*) generated, compiled and run on one
Flink MiniCluster: every proc of the module runs in one Flink job (PipelineHarness), each with
its own bindings, and the test reads what each wrote.

Expected outputs are worked out by hand from the DSL's meaning, record by record (the comments
say why); none is computed by the generator or by Flink.

Time: auths carry an event time (10:00 + the minutes below). Jobs with keyed time (dedup,
correlate, windows) take event time from the schema's @event_time field.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.generate import javatools

CARDS = Path(__file__).parent / "cards"
NAMES = Path(__file__).parent / "names"
HARNESS = Path(__file__).parent / "java" / "PipelineHarness.java"
REPORTER = Path(__file__).parent / "java" / "StateEntriesReporter.java"
PACKAGE = "nexflow.tests.cards"


def auth(auth_id, card, merchant, amount, currency, channel, country, minute):
    return {
        "auth_id": auth_id,
        "card_id": card,
        "merchant": merchant,
        "amount": amount,
        "currency": currency,
        "channel": channel,
        "country": country,
        "event_time": f"2024-05-01T10:{minute:02d}:00Z",
    }


A1 = auth("a1", "c1", "amzn", "100.00", "USD", "ONLINE", "US", 0)
A2 = auth("a2", "c1", "shop", "50.50", "EUR", "POS", "US", 2)
A3 = auth("a3", "c2", "atm1", "200.00", "USD", "ATM", "FR", 3)
A4 = auth("a4", "c2", "lux", "4000.00", "GBP", "POS", "GB", 4)
A5 = auth("a5", "c3", "x", "10.00", "USD", "ONLINE", "KP", 5)
A6 = auth("a6", "c1", "shop", "0.00", "USD", "POS", "US", 6)
A2_AGAIN = auth("a2", "c1", "shop", "50.50", "EUR", "POS", "US", 7)
A1_AGAIN = auth("a1", "c1", "amzn", "100.00", "USD", "ONLINE", "US", 12)
A11 = auth("a11", "c3", "y", "20.00", "USD", "POS", "US", 9)  # out of order: after 10:12
A7 = auth("a7", "c3", "atm2", "60.00", "EUR", "ATM", "US", 13)
A8 = auth("a8", "c2", "big", "90000.00", "GBP", "ONLINE", "GB", 14)
A9 = auth("a9", "c4", "cafe", "10.95", "EUR", "ONLINE", "US", 15)
A10 = auth("a10", "c5", "atm3", "3500.00", "USD", "ATM", "DE", 16)
A12 = auth("a12", "c1", "amzn", "30.00", "USD", "ONLINE", "US", 1)  # late: after 10:16

MALFORMED = ['{"auth_id": "bad1", "amount": "lots"}', "not json at all"]

# The main file: out-of-order a11 and a12, and two malformed lines.
EVENTS = [A1, A2, A3, A4, A5, A6, A2_AGAIN, A1_AGAIN, A11, A7, A8, A9, A10, A12]
# In event-time order, for windows whose result must not depend on when watermarks happen.
ORDERED = [A1, A2, A3, A4, A5, A6, A2_AGAIN, A1_AGAIN, A7, A8, A9, A10]

# The seed's PaymentProcessor (examples/payments, bound to production, Kafka), run with its
# streams bound to files and its store to memory.
SEED = [
    "examples/payments/payment_event.schema",
    "examples/payments/streams.schema",
    "examples/payments/payments.rules",
    "examples/payments/payment_processor.proc",
    "examples/payments/production.infra",
    "examples/payments/production_sinks.infra",
]


def payment(tx, amount, currency, minute):
    return {
        "transaction_id": tx,
        "amount": amount,
        "currency": currency,
        "timestamp": f"2024-05-01T09:{minute:02d}:00Z",
    }


PAYMENTS = [
    payment("p1", "100.00", "USD", 0),
    payment("p2", "20000.00", "EUR", 1),  # flagged for review: continues (no `on flag`)
    payment("p1", "100.00", "USD", 2),  # completes p1
    payment("p2", "20000.00", "EUR", 3),  # completes p2
    payment("p3", "50.00", "JPY", 4),  # not one of the schema's currencies: dead letter
    payment("p4", "-5.00", "USD", 5),  # breaks `validate amount > 0`: dead letter
    payment("p5", "10.00", "GBP", 6),  # alone: times out
    payment("p6", "10.00", "GBP", 7),  # times out: its partner is 13 minutes later
    payment("p6", "10.00", "GBP", 20),  # alone again: times out
]


def settlement(auth_id, settled, minute):
    return {"auth_id": auth_id, "settled": settled, "event_time": f"2024-05-01T10:{minute:02d}:00Z"}


# Settlements (in time order) the join procs join with the auths in time order (ORDERED).
SETTLEMENTS = [
    settlement("a3", "199.00", 4),  # a3 was 200.00: the key joins, the condition does not hold
    settlement("a1", "100.00", 5),  # a1 10:00 and 10:12 are both within 10 minutes
    settlement("a9", "10.95", 20),  # a9 10:15: 5 minutes
    settlement("zz", "1.00", 21),  # no such auth
    settlement("a2", "50.50", 30),  # a2 10:02 and 10:07: too far
]

# The merchants store MerchantCheck and RateScored look up (x, y and big are not in it).
MERCHANTS = {
    "amzn": {"merchant": "amzn", "category": "online", "blocked": False},
    "shop": {"merchant": "shop", "category": "retail", "blocked": False},
    "atm1": {"merchant": "atm1", "category": "cash", "blocked": False},
    "lux": {"merchant": "lux", "category": "luxury", "blocked": True},
    "atm2": {"merchant": "atm2", "category": "cash", "blocked": False},
    "cafe": {"merchant": "cafe", "category": "food", "blocked": False},
    "atm3": {"merchant": "atm3", "category": "cash", "blocked": False},
}

# The fx_rates store the transforms with a lookup read (RateAuths, RateScored): no USD rate, so
# a USD amount takes the `coalesce(fx.rate, 1.0)` path.
FX_RATES = {
    "EUR": {"currency": "EUR", "rate": "1.0825"},
    "GBP": {"currency": "GBP", "rate": "1.25"},
    "JPY": {"currency": "JPY", "rate": "0.0067"},
}

JOBS = [
    "ScoreAuths",
    "ScoreOrSkip",
    "StampAuths",
    "ScreenAuths",
    "BandAuths",
    "MerchantCheck",
    "ScreenNamed",
    "SettleAuths",
    "SettleWindow",
    "CardBursts",
    "RouteAuths",
    "CardSpendTotals",
    "DedupAuths",
    "MatchAuths",
    "MatchSettlements",
    "Velocity",
    "SlidingVelocity",
    "SessionVelocity",
    "TumblingBounds",
    "SlidingBounds",
    "SessionBounds",
    "RollingAuths",
    "RateAuths",
    "RateScored",
]
STREAMS = [
    "approved_auths", "declined_auths", "review_auths", "foreign_atm_auths", "late_auths",
    "unmatched_auths", "scored_auths", "high_risk_auths", "card_velocity", "card_spend",
    "card_windows", "dead_letter", "alerts", "rolling_stats",
]  # fmt: skip
# Jobs whose streams are bound to memory: (in this JVM) instead of files: a stateless one and a
# keyed one (dedup on event time).
MEMORY_JOBS = ("ScoreAuths", "DedupAuths")
SEED_STREAMS = ["payment_events", "processed_payments", "failed_payments", "dead_letter", "alerts"]

# Type names that are names the generated Java relies on (tests/pipelines/names): a schema
# Violation (the runtime's dead-letter entry), String, Errors, Collector, … Job → its streams.
NAMES_PACKAGE = "nexflow.tests.names"
NAMES_JOBS = {
    "Ship": ["strings", "rejected_strings", "dead_letter"],
    "Duration": ["collected", "dead_letter"],
}


def violation(vid, code, level, amount, java):
    return {"id": vid, "code": code, "level": level, "amount": amount, "java": java}


VIOLATIONS = [
    violation("v1", "c1", "LOW", 5, "x"),
    violation("v2", "c2", "HIGH", 50, "y"),
    violation("v3", "c3", "LOW", 500, "z"),
    violation("v4", "c4", "HIGH", 10, "w"),
    {"id": "v5", "level": "LOW", "amount": 1, "java": "q"},  # no code: a dead letter
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Generate, compile and run every job once; {job: {stream: [records]}} and timings."""
    root = tmp_path_factory.mktemp("cards")
    sources = javatools.dsl_sources(CARDS)
    started = time.monotonic()
    java_files = javatools.generate_sources(sources, PACKAGE, root)
    seed = {Path(p).name: Path(p).read_text("utf-8") for p in SEED}
    seed_files = javatools.generate_sources(
        seed, "nexflow.examples.payments", root / "seed", environment="production"
    )
    java_files += [f for f in seed_files if "runtime" not in f.parent.name]
    names = {p.name: p.read_text("utf-8") for p in sorted(NAMES.iterdir())}
    names_files = javatools.generate_sources(names, NAMES_PACKAGE, root / "names")
    java_files += [f for f in names_files if "runtime" not in f.parent.name]
    classes = root / "classes"
    javatools.javac(sorted(set(java_files)), classes, [HARNESS, REPORTER])
    services = classes / "META-INF" / "services"
    services.mkdir(parents=True)
    factory = "org.apache.flink.metrics.reporter.MetricReporterFactory"
    (services / factory).write_text("StateEntriesReporter$Factory\n", "utf-8")
    compiled = time.monotonic()

    events = root / "auths.jsonl"
    lines = [json.dumps(e) for e in EVENTS]
    lines.insert(3, MALFORMED[0])
    lines.append(MALFORMED[1])
    events.write_text("\n".join(lines) + "\n", "utf-8")
    ordered = root / "ordered.jsonl"
    ordered.write_text("".join(json.dumps(e) + "\n" for e in ORDERED), "utf-8")
    settlements = root / "settlements.jsonl"
    settlements.write_text("".join(json.dumps(x) + "\n" for x in SETTLEMENTS), "utf-8")
    merchants = root / "merchants.json"
    merchants.write_text(json.dumps(MERCHANTS), "utf-8")
    fx_rates = root / "fx_rates.json"
    fx_rates.write_text(json.dumps(FX_RATES), "utf-8")
    payments = root / "payments.jsonl"
    payments.write_text("".join(json.dumps(p) + "\n" for p in PAYMENTS), "utf-8")
    violations = root / "violations.jsonl"
    violations.write_text("".join(json.dumps(v) + "\n" for v in VIOLATIONS), "utf-8")

    args = [
        "--flink.parallelism.default=2",
        "--flink.pipeline.auto-watermark-interval=10 ms",
        "--flink.metrics.reporter.state.factory.class=StateEntriesReporter$Factory",
        "--flink.metrics.reporter.state.interval=50 ms",
        "--print-state-entries",
    ]
    for job in JOBS:
        source = {
            "SlidingVelocity": ordered,
            "SessionVelocity": ordered,
            "TumblingBounds": ordered,
            "SlidingBounds": ordered,
            "SessionBounds": ordered,
            "SettleAuths": ordered,
            "SettleWindow": ordered,
            "CardBursts": ordered,
            "MatchSettlements": ordered,
            "RollingAuths": ordered,
        }
        if job in MEMORY_JOBS:
            # Bound to memory: streams instead of files; the tests below read what it wrote
            # just the same (so they check that memory: streams behave as file: ones do).
            args += ["--job", f"{PACKAGE}.{job}Job", f"--stream.auths=memory:{job}.auths"]
            args.append(f"--feed={job}.auths={source.get(job, events)}")
            for s in STREAMS:
                args += [f"--stream.{s}=memory:{job}.{s}", f"--print-stream={job}.{s}"]
            continue
        args += ["--job", f"{PACKAGE}.{job}Job", f"--stream.auths=file:{source.get(job, events)}"]
        args += [f"--stream.{s}=file:{root / job / s}" for s in STREAMS]
        if job.startswith("Settle") or job == "MatchSettlements":
            args.append(f"--stream.settlements=file:{settlements}")
        if job == "MerchantCheck":
            args += ["--store.merchants=memory:merchants", f"--load-store=merchants={merchants}"]
        if job.startswith("Rate"):
            args.append("--store.fx_rates=memory:fx_rates")
        if job == "RateScored":
            args.append("--store.merchants=memory:merchants")
        if job == "Velocity":
            # Paced, so that watermarks advance between records as in a live stream.
            args.append("--stream.auths.pace_ms=60")
    # The seed job: every stream the production environment binds to Kafka goes to a file.
    args += ["--job", "nexflow.examples.payments.PaymentProcessorJob",
             f"--stream.payment_events=file:{payments}",
             "--store.transaction_store=memory:transactions"]  # fmt: skip
    args += [f"--stream.{s}=file:{root / 'seed' / s}" for s in SEED_STREAMS[1:]]
    # Job classes: ShipJob is proc Ship's (schema ShipJob is ShipJob$), Duration$Job proc
    # Duration's (Duration is reserved).
    for proc, streams in NAMES_JOBS.items():
        job_class = "ShipJob" if proc == "Ship" else "Duration$Job"
        args += ["--job", f"{NAMES_PACKAGE}.{job_class}", f"--stream.violations=file:{violations}"]
        args += [f"--stream.{s}=file:{root / 'names' / proc / s}" for s in streams]
    args.append("--print-store=transactions")
    args.append(f"--load-store=fx_rates={fx_rates}")
    stdout = javatools.java("PipelineHarness", classes, args)
    finished = time.monotonic()

    out: dict = {"timing": {"generate+javac": compiled - started, "run": finished - compiled}}
    printed = stdout.strip().splitlines()
    out["store"] = json.loads(printed[-1])
    written = json.loads(printed[-2])
    out["state_entries"] = json.loads(printed[-3])
    for job in [*JOBS, "seed"]:
        out[job] = {}
        for s in SEED_STREAMS if job == "seed" else STREAMS:
            if job in MEMORY_JOBS:
                out[job][s] = [json.loads(x) for x in written[f"{job}.{s}"]]
                continue
            records = []
            for part in sorted((root / job / s).glob("part-*.jsonl")):
                records += [json.loads(x) for x in part.read_text("utf-8").splitlines() if x]
            out[job][s] = records
    for proc, streams in NAMES_JOBS.items():
        out[proc] = {}
        for s in streams:
            parts = sorted((root / "names" / proc / s).glob("part-*.jsonl"))
            out[proc][s] = [
                json.loads(x) for p in parts for x in p.read_text("utf-8").splitlines() if x
            ]
    print("card pipelines:", {k: round(v, 1) for k, v in out["timing"].items()})  # with -s
    return out


def ids(records: list) -> list:
    return sorted(r["auth_id"] for r in records)


def scored(a: dict, usd: str, risk: str) -> dict:
    return {
        "auth_id": a["auth_id"],
        "card_id": a["card_id"],
        "amount_usd": float(usd),
        "channel": a["channel"],
        "risk": risk,
        "event_time": a["event_time"],
    }


def by_id(records: list) -> list:
    return sorted(records, key=lambda r: (r["auth_id"], r["event_time"]))


def dead(records: list) -> Counter:
    return Counter((d["reason"], d["correlation_id"]) for d in records)


# --- transforms ------------------------------------------------------------------------------


def test_transform_using_converts_exactly_and_dead_letters_invalid_records(run: dict) -> None:
    out = run["ScoreAuths"]
    # to_usd: EUR x 1.10, GBP x 1.25, exact decimals, stored as decimal(14,2) half-even:
    # 50.50 EUR = 55.5500; 4000 GBP = 5000.0000 (>= 5000: HIGH); 60 EUR = 66.0000;
    # 10.95 EUR = 12.0450 -> 12.04 (a double would give 12.045000000000002 -> 12.05).
    expected = [
        scored(A1, "100.00", "LOW"),
        scored(A1_AGAIN, "100.00", "LOW"),
        scored(A10, "3500.00", "MEDIUM"),  # ATM
        scored(A11, "20.00", "LOW"),
        scored(A12, "30.00", "LOW"),
        scored(A2, "55.55", "LOW"),
        scored(A2_AGAIN, "55.55", "LOW"),
        scored(A3, "200.00", "MEDIUM"),
        scored(A4, "5000.00", "HIGH"),
        scored(A5, "10.00", "LOW"),
        scored(A7, "66.00", "MEDIUM"),
        scored(A9, "12.04", "LOW"),
    ]
    assert by_id(out["scored_auths"]) == by_id(expected)
    # a6 (amount 0) fails `validate input`, a8 (90000 GBP = 112500.00) `validate output`;
    # the malformed lines never parse.
    assert dead(out["dead_letter"]) == Counter(
        {
            ("TRANSFORM_INPUT_INVALID", "a6"): 1,
            ("TRANSFORM_OUTPUT_INVALID", "a8"): 1,
            ("MALFORMED_INPUT", None): 2,
        }
    )
    messages = {d["correlation_id"]: d["message"] for d in out["dead_letter"]}
    assert messages["a6"] == "score_auth: amount must be positive"
    assert messages["a8"] == "score_auth: implausible amount"


def test_on_error_skip_drops_the_record_without_a_dead_letter(run: dict) -> None:
    out = run["ScoreOrSkip"]
    everyone_but_a6 = [e for e in EVENTS if e is not A6]
    assert ids(out["scored_auths"]) == ids(everyone_but_a6)
    assert {r["risk"] for r in out["scored_auths"]} == {"UNSCORED"}
    a8 = [r for r in out["scored_auths"] if r["auth_id"] == "a8"]
    assert a8[0]["amount_usd"] == 112500.00
    assert dead(out["dead_letter"]) == Counter({("MALFORMED_INPUT", None): 2})


def test_map_into_a_field_named_like_a_keyword(run: dict) -> None:
    out = run["StampAuths"]
    # Every well-formed auth, its amount unconverted and its event time (assigned by
    # `event_time = event_time`, a keyword elsewhere) kept.
    expected = [scored(e, e["amount"], "UNSCORED") for e in EVENTS]
    assert by_id(out["scored_auths"]) == by_id(expected)
    assert dead(out["dead_letter"]) == Counter({("MALFORMED_INPUT", None): 2})


# --- rules and tables ------------------------------------------------------------------------


def test_apply_rules_routes_each_outcome(run: dict) -> None:
    out = run["ScreenAuths"]
    # reject beats route beats flag; set field changes the record that continues.
    assert ids(out["declined_auths"]) == ["a5"]  # KP: blocked country
    assert ids(out["foreign_atm_auths"]) == ["a10", "a3"]  # ATM abroad (a10 also large)
    assert ids(out["review_auths"]) == ["a4", "a8"]  # >= 3000, flagged
    approved = out["approved_auths"]
    assert ids(approved) == ["a1", "a1", "a11", "a12", "a2", "a2", "a6", "a7", "a9"]
    merchants = {(r["auth_id"], r["merchant"]) for r in approved}
    assert ("a1", "AMAZON") in merchants and ("a12", "AMAZON") in merchants
    assert ("a1", "amzn") not in merchants
    alerts = sorted((a["correlation_id"], a["rule"], a["message"], a["severity"])
                    for a in out["alerts"])  # fmt: skip
    assert alerts == [
        ("a10", "foreign_atm", "foreign ATM withdrawal", "medium"),
        ("a3", "foreign_atm", "foreign ATM withdrawal", "medium"),
    ]
    assert dead(out["dead_letter"]) == Counter({("MALFORMED_INPUT", None): 2})


def test_a_named_rules_outcome_is_readable_after_apply(run: dict) -> None:
    out = run["ScreenNamed"]
    # Without `on flag` flagged auths continue; the filter keeps them by the outcome's fields.
    assert ids(out["review_auths"]) == ["a4", "a8"]
    assert ids(out["declined_auths"]) == ["a5"]


def test_decision_table_result_feeds_a_filter(run: dict) -> None:
    out = run["BandAuths"]
    # RiskBand (first hit): >= 5000 HIGH, ATM MEDIUM, else LOW; LOW is filtered out.
    assert ids(out["high_risk_auths"]) == ["a10", "a3", "a4", "a7"]


def test_lookup_enriches_each_record_from_the_store(run: dict) -> None:
    out = run["MerchantCheck"]
    # lux is blocked: a4 is filtered out; unknown merchants (x, y, big) go to review; cash
    # merchants (atm1, atm2, atm3) to foreign_atm_auths; the rest are approved.
    assert ids(out["review_auths"]) == ["a11", "a5", "a8"]
    assert ids(out["foreign_atm_auths"]) == ["a10", "a3", "a7"]
    assert ids(out["approved_auths"]) == ["a1", "a1", "a12", "a2", "a2", "a6", "a9"]


def test_transform_lookup_in_a_filter_and_map_into(run: dict) -> None:
    out = run["RateAuths"]
    # usd_by_rate = amount * coalesce(fx.rate, 1.0) as decimal(14,2), half-even, fx the
    # fx_rates record of the currency: EUR x 1.0825, GBP x 1.25, USD has no record (x 1.0).
    # 50.50 EUR = 54.666250 -> 54.67; 60 EUR = 64.95; 10.95 EUR = 11.853375 -> 11.85 (< 50);
    # 4000 GBP = 5000.00; 90000 GBP = 112500.00; USD 10, 0, 20, 30 are < 50.
    expected = [
        scored(A1, "100.00", "RATED"),
        scored(A1_AGAIN, "100.00", "RATED"),
        scored(A10, "3500.00", "RATED"),
        scored(A2, "54.67", "RATED"),
        scored(A2_AGAIN, "54.67", "RATED"),
        scored(A3, "200.00", "RATED"),
        scored(A4, "5000.00", "RATED"),
        scored(A7, "64.95", "RATED"),
        scored(A8, "112500.00", "RATED"),
    ]
    assert by_id(out["scored_auths"]) == by_id(expected)
    assert dead(out["dead_letter"]) == Counter({("MALFORMED_INPUT", None): 2})


def test_transform_lookups_in_transform_using_pass_null_when_no_record(run: dict) -> None:
    out = run["RateScored"]
    # score_by_rate: every auth, amount * coalesce(fx.rate, 1.0); risk is NO_RATE when
    # fx_rates has no record for the currency (USD), else RATED, then "/" and the category of
    # the merchant from the merchants store (a second lookup), "unknown" for x, y and big.
    expected = [
        scored(A1, "100.00", "NO_RATE/online"),
        scored(A1_AGAIN, "100.00", "NO_RATE/online"),
        scored(A10, "3500.00", "NO_RATE/cash"),
        scored(A11, "20.00", "NO_RATE/unknown"),
        scored(A12, "30.00", "NO_RATE/online"),
        scored(A2, "54.67", "RATED/retail"),
        scored(A2_AGAIN, "54.67", "RATED/retail"),
        scored(A3, "200.00", "NO_RATE/cash"),
        scored(A4, "5000.00", "RATED/luxury"),
        scored(A5, "10.00", "NO_RATE/unknown"),
        scored(A6, "0.00", "NO_RATE/retail"),
        scored(A7, "64.95", "RATED/cash"),
        scored(A8, "112500.00", "RATED/unknown"),
        scored(A9, "11.85", "RATED/food"),
    ]
    assert by_id(out["scored_auths"]) == by_id(expected)
    assert dead(out["dead_letter"]) == Counter({("MALFORMED_INPUT", None): 2})


def test_interval_join_pairs_records_of_one_key_within_the_duration(run: dict) -> None:
    out = run["SettleAuths"]
    joined = sorted((r["auth_id"], r["event_time"][11:16]) for r in out["approved_auths"])
    assert joined == [("a1", "10:00"), ("a1", "10:12"), ("a9", "10:15")]


def test_window_join_pairs_records_of_one_key_in_the_same_window(run: dict) -> None:
    out = run["SettleWindow"]
    # 10-minute windows: a1 10:00 with its 10:05 settlement, a3 10:03 with 10:04 (this join
    # has no amount condition); a1 10:12 and a9 10:15 are not in their settlement's window.
    joined = sorted((r["auth_id"], r["event_time"][11:16]) for r in out["approved_auths"])
    assert joined == [("a1", "10:00"), ("a3", "10:03")]


def test_self_join_pairs_records_of_one_stream(run: dict) -> None:
    out = run["CardBursts"]
    # Per card (in time order): c1 10:00 a1, 10:02 a2, 10:06 a6, 10:07 a2, 10:12 a1;
    # c2 10:03 a3, 10:04 a4, 10:14 a8; c3 10:05 a5, 10:13 a7; c4, c5 one auth each.
    # Pairs at most 3 minutes apart with another auth_id (the condition excludes a record with
    # itself and a2 with a2 again): a1-a2 (2 min), a6-a2 again (1 min), a3-a4 (1 min); a2-a6
    # (4 min), a2 again-a1 again (5 min), a5-a7 (8 min) are too far. Both orders of each pair
    # join; the left record goes on.
    emitted = sorted((r["auth_id"], r["event_time"][11:16]) for r in out["approved_auths"])
    assert emitted == [
        ("a1", "10:00"),  # with a2 10:02
        ("a2", "10:02"),  # with a1 10:00
        ("a2", "10:07"),  # with a6 10:06
        ("a3", "10:03"),  # with a4 10:04
        ("a4", "10:04"),  # with a3 10:03
        ("a6", "10:06"),  # with a2 10:07
    ]


# --- route, keyed state, deduplication ---------------------------------------------------


def test_route_sends_each_record_to_the_first_matching_case(run: dict) -> None:
    out = run["RouteAuths"]
    assert ids(out["review_auths"]) == ["a10", "a4", "a8"]  # amount >= 3000 first
    assert ids(out["foreign_atm_auths"]) == ["a3"]
    assert ids(out["approved_auths"]) == ["a1", "a1", "a11", "a12", "a2", "a2", "a5", "a6",
                                          "a7", "a9"]  # fmt: skip


def test_keyed_state_accumulates_per_card(run: dict) -> None:
    out = run["CardSpendTotals"]
    got = sorted(
        (r["card_id"], r["auths"], r["spent_usd"], r["auth_id"]) for r in out["card_spend"]
    )
    # Running USD totals per card, in file order (one reader, so per-key order is file order).
    expected = sorted([
        ("c1", 1, 100.00, "a1"), ("c1", 2, 155.55, "a2"), ("c1", 3, 155.55, "a6"),
        ("c1", 4, 211.10, "a2"), ("c1", 5, 311.10, "a1"), ("c1", 6, 341.10, "a12"),
        ("c2", 1, 200.00, "a3"), ("c2", 2, 5200.00, "a4"), ("c2", 3, 117700.00, "a8"),
        ("c3", 1, 10.00, "a5"), ("c3", 2, 30.00, "a11"), ("c3", 3, 96.00, "a7"),
        ("c4", 1, 12.04, "a9"), ("c5", 1, 3500.00, "a10"),
    ])  # fmt: skip
    assert got == expected


def test_deduplicate_drops_a_key_seen_within_the_duration(run: dict) -> None:
    out = run["DedupAuths"]
    # a2 again 5 minutes later: dropped; a1 again 12 minutes later: kept.
    kept = sorted((r["auth_id"], r["event_time"][11:16]) for r in out["approved_auths"])
    expected = sorted((e["auth_id"], e["event_time"][11:16]) for e in EVENTS if e is not A2_AGAIN)
    assert kept == expected


# --- correlation -------------------------------------------------------------------------


def test_correlate_completes_pairs_and_times_out_the_rest(run: dict) -> None:
    out = run["MatchAuths"]
    # a2 at 10:02 and 10:07 (exactly 5 minutes apart): the waiting 10:02 record continues.
    assert [(r["auth_id"], r["event_time"]) for r in out["approved_auths"]] == [
        ("a2", A2["event_time"])
    ]
    # a1 at 10:00 and 10:12 are too far apart: both time out (the second at the end of input).
    # Every other auth is alone and times out when the final watermark passes its deadline.
    unmatched = sorted((r["auth_id"], r["event_time"][11:16]) for r in out["unmatched_auths"])
    expected = sorted(
        (e["auth_id"], e["event_time"][11:16]) for e in EVENTS if e["auth_id"] != "a2"
    )
    assert unmatched == expected


def test_correlate_with_another_stream(run: dict) -> None:
    out = run["MatchSettlements"]
    # Settlements: a3 10:04, a1 10:05, a9 10:20, zz 10:21, a2 10:30. Within 5 minutes either
    # way: a1 10:00 (10:05), a3 10:03 (10:04), a9 10:15 (10:20, the bound included) continue.
    continued = sorted((r["auth_id"], r["event_time"][11:16]) for r in out["approved_auths"])
    assert continued == [("a1", "10:00"), ("a3", "10:03"), ("a9", "10:15")]
    # The rest time out: a1 again 10:12 is 7 minutes from a1's settlement (already taken), a2
    # 10:02 and 10:07 are far from 10:30; the others have no settlement. zz and a2's settlement
    # wait alone and are dropped.
    timed_out = sorted((r["auth_id"], r["event_time"][11:16]) for r in out["unmatched_auths"])
    assert timed_out == [
        ("a1", "10:12"), ("a10", "10:16"), ("a2", "10:02"), ("a2", "10:07"), ("a4", "10:04"),
        ("a5", "10:05"), ("a6", "10:06"), ("a7", "10:13"), ("a8", "10:14"),
    ]  # fmt: skip


# --- windows -------------------------------------------------------------------------------


def velocity(card, n, total, high, avg, first, last, merchants) -> tuple:
    return (card, n, total, high, avg, first, last, merchants)


def rows(records: list) -> list:
    return sorted(
        (r["card_id"], r["txn_count"], r["total_usd"], r["max_usd"], r["avg_usd"],
         r["first_auth"], r["last_auth"], r["merchants"])
        for r in records
    )  # fmt: skip


def test_tumbling_window_with_lateness_and_late_records(run: dict) -> None:
    out = run["Velocity"]
    expected = [
        # 10:00-10:10, fired when the watermark (max time - 1 minute) passes 10:10
        velocity("c1", 4, 211.10, 100.00, 50.25, "a1", "a2", 2),
        velocity("c2", 2, 5200.00, 5000.00, 2100.0, "a3", "a4", 2),
        velocity("c3", 1, 10.00, 10.00, 10.0, "a5", "a5", 1),
        # a11 (10:09) arrives after that but within the 2 minutes allowed lateness: the
        # window fires again with it.
        velocity("c3", 2, 30.00, 20.00, 15.0, "a5", "a11", 2),
        # 10:10-10:20, fired by the final watermark
        velocity("c1", 1, 100.00, 100.00, 100.0, "a1", "a1", 1),
        velocity("c2", 1, 112500.00, 112500.00, 90000.0, "a8", "a8", 1),
        velocity("c3", 1, 66.00, 66.00, 60.0, "a7", "a7", 1),
        velocity("c4", 1, 12.04, 12.04, 10.95, "a9", "a9", 1),
        velocity("c5", 1, 3500.00, 3500.00, 3500.0, "a10", "a10", 1),
    ]
    assert rows(out["card_velocity"]) == sorted(expected)
    # a12 (10:01) arrives when the watermark is 10:14:59.999: past 10:10 + 2 minutes.
    assert ids(out["late_auths"]) == ["a12"]


def test_sliding_window(run: dict) -> None:
    out = run["SlidingVelocity"]
    # 10-minute windows every 5 minutes over amounts (not converted); avg has 6 decimals.
    expected = [
        velocity("c1", 2, 150.50, 100.00, 75.25, "a1", "a2", 2),  # 09:55-10:05
        velocity("c1", 4, 201.00, 100.00, 50.25, "a1", "a2", 2),  # 10:00-10:10
        velocity("c1", 3, 150.50, 100.00, 50.166667, "a6", "a1", 2),  # 10:05-10:15
        velocity("c1", 1, 100.00, 100.00, 100.0, "a1", "a1", 1),  # 10:10-10:20
        velocity("c2", 2, 4200.00, 4000.00, 2100.0, "a3", "a4", 2),
        velocity("c2", 2, 4200.00, 4000.00, 2100.0, "a3", "a4", 2),
        velocity("c2", 1, 90000.00, 90000.00, 90000.0, "a8", "a8", 1),
        velocity("c2", 1, 90000.00, 90000.00, 90000.0, "a8", "a8", 1),
        velocity("c3", 1, 10.00, 10.00, 10.0, "a5", "a5", 1),  # 10:00-10:10
        velocity("c3", 2, 70.00, 60.00, 35.0, "a5", "a7", 2),  # 10:05-10:15
        velocity("c3", 1, 60.00, 60.00, 60.0, "a7", "a7", 1),  # 10:10-10:20
        velocity("c4", 1, 10.95, 10.95, 10.95, "a9", "a9", 1),
        velocity("c4", 1, 10.95, 10.95, 10.95, "a9", "a9", 1),
        velocity("c5", 1, 3500.00, 3500.00, 3500.0, "a10", "a10", 1),
        velocity("c5", 1, 3500.00, 3500.00, 3500.0, "a10", "a10", 1),
    ]
    assert rows(out["card_velocity"]) == sorted(expected)


def test_session_window_merges_records_closer_than_the_gap(run: dict) -> None:
    out = run["SessionVelocity"]
    expected = [
        velocity("c1", 5, 301.00, 100.00, 60.2, "a1", "a1", 2),
        velocity("c2", 3, 94200.00, 90000.00, 31400.0, "a3", "a8", 3),
        velocity("c3", 2, 70.00, 60.00, 35.0, "a5", "a7", 2),
        velocity("c4", 1, 10.95, 10.95, 10.95, "a9", "a9", 1),
        velocity("c5", 1, 3500.00, 3500.00, 3500.0, "a10", "a10", 1),
    ]
    assert rows(out["card_velocity"]) == sorted(expected)


def bounds(records: list) -> list:
    return sorted(
        (r["card_id"], r["window_start"][11:16], r["window_end"][11:16], r["txn_count"])
        for r in records
    )


def test_window_start_and_end_of_tumbling_windows(run: dict) -> None:
    # 10-minute windows aligned to the hour; the end is excluded (the next window's start).
    assert bounds(run["TumblingBounds"]["card_windows"]) == [
        ("c1", "10:00", "10:10", 4),  # 10:00 10:02 10:06 10:07
        ("c1", "10:10", "10:20", 1),  # 10:12
        ("c2", "10:00", "10:10", 2),
        ("c2", "10:10", "10:20", 1),
        ("c3", "10:00", "10:10", 1),
        ("c3", "10:10", "10:20", 1),
        ("c4", "10:10", "10:20", 1),
        ("c5", "10:10", "10:20", 1),
    ]
    assert {r["window_start"][:11] for r in run["TumblingBounds"]["card_windows"]} == {
        "2024-05-01T"
    }


def test_window_start_and_end_of_sliding_windows(run: dict) -> None:
    # Windows [k*5, k*5 + 10) minutes: each record is in two of them.
    assert bounds(run["SlidingBounds"]["card_windows"]) == [
        ("c1", "09:55", "10:05", 2),  # 10:00 10:02
        ("c1", "10:00", "10:10", 4),  # 10:00 10:02 10:06 10:07
        ("c1", "10:05", "10:15", 3),  # 10:06 10:07 10:12
        ("c1", "10:10", "10:20", 1),  # 10:12
        ("c2", "09:55", "10:05", 2),  # 10:03 10:04
        ("c2", "10:00", "10:10", 2),
        ("c2", "10:05", "10:15", 1),  # 10:14
        ("c2", "10:10", "10:20", 1),
        ("c3", "10:00", "10:10", 1),  # 10:05
        ("c3", "10:05", "10:15", 2),  # 10:05 10:13
        ("c3", "10:10", "10:20", 1),  # 10:13
        ("c4", "10:10", "10:20", 1),  # 10:15
        ("c4", "10:15", "10:25", 1),
        ("c5", "10:10", "10:20", 1),  # 10:16
        ("c5", "10:15", "10:25", 1),
    ]


def test_window_start_and_end_of_session_windows(run: dict) -> None:
    # A session runs from its first record to its last record plus the gap (15 minutes).
    assert bounds(run["SessionBounds"]["card_windows"]) == [
        ("c1", "10:00", "10:27", 5),  # 10:00 … 10:12
        ("c2", "10:03", "10:29", 3),  # 10:03 10:04 10:14
        ("c3", "10:05", "10:28", 2),  # 10:05 10:13
        ("c4", "10:15", "10:30", 1),
        ("c5", "10:16", "10:31", 1),
    ]


def test_rolling_aggregates_each_record_over_its_key_in_the_duration_up_to_it(run: dict) -> None:
    out = run["RollingAuths"]
    got = sorted(
        (r["card_id"], r["auth_id"], r["n"], r["biggest"], r["smallest"])
        for r in out["rolling_stats"]
    )
    # In event-time order; for a record at t, the card's records in (t - 10 minutes, t].
    expected = sorted([
        ("c1", "a1", 1, 100.00, 100.00),  # 10:00
        ("c1", "a2", 2, 100.00, 50.50),  # 10:02: a1, a2
        ("c1", "a6", 3, 100.00, 0.00),  # 10:06: a1, a2, a6 (0.00)
        ("c1", "a2", 4, 100.00, 0.00),  # 10:07: a1, a2, a6, a2 again
        ("c1", "a1", 3, 100.00, 0.00),  # 10:12: a2 (10:02) is exactly 10 minutes back: out
        ("c2", "a3", 1, 200.00, 200.00),
        ("c2", "a4", 2, 4000.00, 200.00),
        ("c2", "a8", 1, 90000.00, 90000.00),  # 10:14: a4 (10:04) out
        ("c3", "a5", 1, 10.00, 10.00),
        ("c3", "a7", 2, 60.00, 10.00),  # 10:13: a5 (10:05) in
        ("c4", "a9", 1, 10.95, 10.95),
        ("c5", "a10", 1, 3500.00, 3500.00),
    ])  # fmt: skip
    assert got == expected
    assert out["dead_letter"] == []


# MatchAuthsPaced (a correlation whose waits time out as the watermark passes): a DSL test,
# tests/pipelines/cards/correlate.nxtest, run by test_dsl_tests.py with the time in its script.


# --- the seed ----------------------------------------------------------------------------


def test_the_seed_payment_processor(run: dict) -> None:
    out = run["seed"]
    # p1 and p2 complete within 5 minutes: the first of each pair continues, is upserted into
    # transaction_store (async I/O) and then written to processed_payments.
    processed = sorted(
        (p["transaction_id"], p["timestamp"][11:16]) for p in out["processed_payments"]
    )
    assert processed == [("p1", "09:00"), ("p2", "09:01")]
    assert sorted(run["store"]) == ["p1", "p2"]
    assert json.loads(run["store"]["p1"]) == {
        "transaction_id": "p1", "amount": 100.00, "currency": "USD",
        "timestamp": "2024-05-01T09:00:00Z",
    }  # fmt: skip
    failed = sorted((p["transaction_id"], p["timestamp"][11:16]) for p in out["failed_payments"])
    assert failed == [("p5", "09:06"), ("p6", "09:07"), ("p6", "09:20")]
    reasons = sorted((d["reason"], d["correlation_id"]) for d in out["dead_letter"])
    assert reasons == [("VALIDATION_FAILED", "p3"), ("VALIDATION_FAILED", "p4")]


def test_keyed_operators_report_their_state_entries(run: dict) -> None:
    # The gauge state_entries of each keyed operator, read by a Flink metric reporter
    # (tests/pipelines/java/StateEntriesReporter.java) until its task ended; summed over the
    # two subtasks.
    got = run["state_entries"]
    assert got["all_ended"]
    total = Counter()
    for key, value in got["gauges"].items():
        total[key.split("#")[0]] += value
    assert dict(total) == {
        # cards c1..c5 have live `state` (24 hours TTL)
        "CardSpendTotals.state.card_id.spent": 5,
        # a1..a12 were kept (a2 again was a duplicate); each kept time's timer (its time plus
        # 10 minutes: no TTL) cleared it when the final watermark passed
        "DedupAuths.dedup.auth_id": 0,
        # cards c1..c5 hold rolling entries (kept for 10 minutes past the watermark, by TTL)
        "RollingAuths.state.card_id.n": 5,
        # every waiting record was paired or timed out by the end of input
        "MatchAuths.correlate.auth_id": 0,
        "MatchSettlements.correlate.auth_id.with.settlements": 0,
        "PaymentProcessor.correlate.transaction_id": 0,
        # every window was purged when the final watermark passed its end (plus lateness)
        "Velocity.window.tumbling.card_id.CardVelocity": 0,
        "SlidingVelocity.window.sliding.card_id.CardVelocity": 0,
        "SessionVelocity.window.session.card_id.CardVelocity": 0,
        "TumblingBounds.window.tumbling.card_id.CardWindow": 0,
        "SlidingBounds.window.sliding.card_id.CardWindow": 0,
        "SessionBounds.window.session.card_id.CardWindow": 0,
    }
    # In the paced replay c1's first window is open for at least ten records: the gauges
    # showed it.
    peaks = got["peaks"]
    assert max(v for k, v in peaks.items() if k.startswith("Velocity.")) >= 1


# --- type names the generated Java itself uses (tests/pipelines/names) -----------------------


def names_dead_letters(records: list) -> list:
    return sorted(
        (d["reason"], d["correlation_id"], d["stream"], d["operator"],
         tuple((v["field"], v["code"]) for v in d["violations"]))
        for d in records
    )  # fmt: skip


def test_a_schema_named_violation_flows_through_map_rules_and_sinks(run: dict) -> None:
    out = run["Ship"]

    def text(v: dict, text: str) -> dict:
        return {"id": v["id"], "text": text, "level": v["level"], "amount": v["amount"]}

    v1, v2, v3, v4, _ = VIOLATIONS
    # map into String: text = code; Validation: amount > 100 rejects (v3), level HIGH sets the
    # text to ALERT (v2, v4).
    assert sorted(out["strings"], key=lambda r: r["id"]) == [
        text(v1, "c1"),
        text(v2, "ALERT"),
        text(v4, "ALERT"),
    ]
    assert out["rejected_strings"] == [text(v3, "c3")]
    # v5 has no code: the runtime's own Violation lists it, next to the DSL's Violation.
    assert names_dead_letters(out["dead_letter"]) == [
        ("VALIDATION_FAILED", "v5", "violations", "parse.violations", (("code", "REQUIRED"),))
    ]


def test_transform_and_table_named_like_flink_classes(run: dict) -> None:
    out = run["Duration"]
    # Types: doubled = amount * 2, java (a field named like a Java package) copied; List:
    # doubled >= 20 is HIGH, else LOW; the map keeps the table's band.
    assert sorted(out["collected"], key=lambda r: r["id"]) == [
        {"id": "v1", "doubled": 10, "band": "LOW", "java": "x"},
        {"id": "v2", "doubled": 100, "band": "HIGH", "java": "y"},
        {"id": "v3", "doubled": 1000, "band": "HIGH", "java": "z"},
        {"id": "v4", "doubled": 20, "band": "HIGH", "java": "w"},
    ]
    assert names_dead_letters(out["dead_letter"]) == [
        ("VALIDATION_FAILED", "v5", "violations", "parse.violations", (("code", "REQUIRED"),))
    ]
