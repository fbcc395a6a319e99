"""Rules → plain Java evaluators: the seed's PaymentValidation behaves as written, rulesets fire
in priority order with every action, and decision tables follow each DMN hit policy.

Expected outcomes are worked out by hand from the DSL below.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.generate import javatools

EXAMPLES = Path("examples/payments")

RULES = """
ruleset Routing for p: PaymentEvent first_match {
    rule big {
        when p.amount > 1000
        then route to review
        priority high
    }
    rule eur {
        when p.currency == "EUR"
        then route to europe, emit alert "euro payment" severity low
        priority medium
    }
    rule rest {
        then route to standard
    }
}

ruleset Adjust for p: PaymentEvent {
    rule cap {
        when p.amount > 5000
        then set p.amount = 5000, flag "capped"
        priority high
    }
    rule at_cap {
        when p.amount == 5000
        then emit alert "at cap" severity high
    }
}

decision_table Level for p: PaymentEvent hit_policy unique {
    inputs { amount = p.amount }
    outputs { level: string }
    rules {
        small: < 100 -> "low"
        middle: [100 .. 1000) -> "mid"
        large: >= 1000 -> "high"
    }
}

decision_table FirstLabel for p: PaymentEvent hit_policy first {
    inputs { amount = p.amount  cur = p.currency }
    outputs { label: string  code: int }
    rules {
        r1: > 500, - -> "big", 1
        r2: -, "EUR" -> "euro", 2
        r3: -, - -> "other", 3
    }
}

decision_table PriorityAction for p: PaymentEvent hit_policy priority {
    inputs { amount = p.amount }
    outputs { action: string priority ["block", "review", "allow"] }
    rules {
        allow_all: - -> "allow"
        review_big: > 1000 -> "review"
        block_huge: > 5000 -> "block"
    }
}

decision_table AnyBig for p: PaymentEvent hit_policy any {
    inputs { amount = p.amount }
    outputs { big: boolean }
    rules {
        over100: > 100 -> true
        over200: > 200 -> true
        small: <= 100 -> false
    }
}

decision_table CollectLabels for p: PaymentEvent hit_policy collect {
    inputs { amount = p.amount  cur = p.currency }
    outputs { label: string }
    rules {
        a: > 10, - -> "over10"
        b: > 100, - -> "over100"
        c: -, in ["USD", "GBP"] -> "usd_or_gbp"
        d: (0 .. 50], not in ["USD"] -> "small_foreign"
    }
}

decision_table SumScore for p: PaymentEvent hit_policy collect sum {
    inputs { amount = p.amount }
    outputs { score: int }
    rules {
        s1: > 10 -> 1
        s2: > 100 -> 10
        s3: > 1000 -> 100
    }
}

decision_table MinScore for p: PaymentEvent hit_policy collect min {
    inputs { amount = p.amount }
    outputs { score: decimal(5,1) }
    rules {
        s1: > 10 -> 7.5
        s2: > 100 -> 2.5
        s3: - -> 9.0
    }
}

decision_table MaxScore for p: PaymentEvent hit_policy collect max {
    inputs { amount = p.amount }
    outputs { score: int }
    rules {
        s1: > 10 -> 7
        s2: > 100 -> 20
        s3: - -> 1
    }
}

decision_table CountHits for p: PaymentEvent hit_policy collect count {
    inputs { amount = p.amount }
    outputs { hit: boolean }
    rules {
        s1: > 10 -> true
        s2: > 100 -> true
        s3: > 1000 -> true
    }
}
"""


def payment(tid: str, amount: str, currency: str) -> dict:
    return {"transaction_id": tid, "amount": amount, "currency": currency,
            "timestamp": "2024-05-01T10:00:00Z"}  # fmt: skip


INPUTS = [
    payment("t1", "50.00", "USD"),
    payment("t2", "10000.01", "JPY"),
    payment("t3", "10000.00", "EUR"),
    payment("t4", "150.00", "EUR"),
    payment("t5", "5000.00", "GBP"),
    payment("t6", "30.00", "CHF"),
    payment("t7", "5.00", "USD"),  # matches no row of SumScore or CountHits
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list:
    work = tmp_path_factory.mktemp("rules")
    sources = {
        "payment_event.schema": (EXAMPLES / "payment_event.schema").read_text("utf-8"),
        "payments.rules": (EXAMPLES / "payments.rules").read_text("utf-8"),
        "more.rules": RULES,
    }
    java_files = javatools.generate_sources(sources, "gen.rules", work)
    # The evaluators are plain Java: nothing but the runtime's Ops/Fn/RuleOutcome is imported.
    for f in java_files:
        if f.parent.name == "rules" and f.name != "PaymentEvent.java":
            text = f.read_text("utf-8")
            if "Contract" not in f.name:
                assert "org.apache.flink" not in text, f
    classes = work / "classes"
    javatools.javac(java_files, classes, [Path(__file__).parent / "java" / "RulesHarness.java"])
    data = work / "payments.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in INPUTS), "utf-8")
    out = javatools.java("RulesHarness", classes, [str(data)])
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_seed_payment_validation_behaves_as_written(results: list) -> None:
    v = [r["validation"] for r in results]
    # high_value_check: amount > 10000 flags for review; currency_validation rejects others.
    assert v[0]["fired"] == [] and v[0]["flags"] == [] and v[0]["reject"] is None
    assert v[1]["fired"] == ["high_value_check", "currency_validation"]
    assert v[1]["flags"] == ["high_value_check"]
    assert v[1]["reject"] == "Unsupported currency"
    assert v[2]["fired"] == [] and v[2]["flags"] == []  # 10000.00 is not > 10000
    assert v[5]["reject"] == "Unsupported currency" and v[5]["flags"] == []


def test_first_match_ruleset_routes_by_priority(results: list) -> None:
    r = [x["routing"] for x in results]
    assert [x["route"] for x in r] == ["standard", "review", "review", "europe", "review",
                                       "standard", "standard"]  # fmt: skip
    assert r[3]["alerts"] == ["eur: euro payment (low)"]
    assert r[2]["fired"] == ["big"]  # first match: eur does not fire as well


def test_set_actions_work_on_a_copy_and_later_rules_see_them(results: list) -> None:
    a = [x["adjust"] for x in results]
    assert a[1]["record"]["amount"] == 5000.00 and a[1]["flags"] == ["capped"]
    assert a[1]["alerts"] == ["at_cap: at cap (high)"]
    assert a[4]["fired"] == ["at_cap"] and a[4]["flags"] == []
    assert all(x["input_unchanged"] for x in results)
    assert results[1]["validation"]["record"]["amount"] == 10000.01


def test_decision_tables_follow_their_hit_policies(results: list) -> None:
    assert [r["level"] for r in results] == [
        {"level": "low"}, {"level": "high"}, {"level": "high"}, {"level": "mid"},
        {"level": "high"}, {"level": "low"}, {"level": "low"},
    ]  # fmt: skip
    assert [r["first"]["label"] for r in results] == ["other", "big", "big", "euro", "big",
                                                      "other", "other"]  # fmt: skip
    assert [r["priority"]["action"] for r in results] == ["allow", "block", "block", "allow",
                                                          "review", "allow", "allow"]  # fmt: skip
    assert [r["any"]["big"] for r in results] == [False, True, True, True, True, False, False]
    assert [[x["label"] for x in r["collect"]] for r in results] == [
        ["over10", "usd_or_gbp"],
        ["over10", "over100"],
        ["over10", "over100"],
        ["over10", "over100"],
        ["over10", "over100", "usd_or_gbp"],
        ["over10", "small_foreign"],
        ["usd_or_gbp"],
    ]
    # An aggregated collect is the number itself: sum/min/max of no matching row is null,
    # count of no matching row is 0 (docs/language/rules.md, as DMN's sum([]) and count([])).
    assert [r["sum"] for r in results] == [1, 111, 111, 11, 111, 1, None]
    assert [r["min"] for r in results] == [7.5, 2.5, 2.5, 2.5, 2.5, 7.5, 9.0]
    assert [r["max"] for r in results] == [7, 20, 20, 20, 20, 7, 1]
    assert [r["count"] for r in results] == [1, 3, 3, 2, 3, 1, 0]
