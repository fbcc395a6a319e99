"""Transforms → pure static Java functions: exact decimals, null handling, composition, and the
declared error behaviour (on error skip | fail | dead_letter), called directly (no Flink run).
Expected values are worked out by hand from the DSL below.

Transforms inside procs (`transform using`, validation, dead letters, skip) run on a MiniCluster
in tests/pipelines/test_card_pipelines.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.generate import javatools

HARNESS = Path(__file__).parent / "java" / "TransformHarness.java"

SCHEMA = """
schema Customer {
    customer_id: string @key
    name: string?
}
"""

TRANSFORMS = """
transform fee {
    input amount: decimal(10,2)
    output decimal(21,4)
    compute amount * 0.0125 + 0.30
}

transform split_evenly {
    input total: decimal(12,2)
    input parts: int
    output decimal(38,6)
    compute total / parts
}

transform display_name {
    input customer: Customer?
    output string
    compute if customer is null then "unknown" else coalesce(customer.name, "unknown")
}

transform parse_amount {
    input text: string
    output decimal(38,10)
    on error fail
    compute to_decimal(text)
}

transform parse_or_skip {
    input text: string
    output decimal(38,10)
    on error skip
    compute to_decimal(text)
}

transform outer_fails {
    input text: string
    output decimal(38,10)
    on error fail
    compute parse_or_skip(text) + 1
}

transform parse_or_dead_letter {
    input text: string
    output decimal(38,10)
    on error dead_letter
    compute to_decimal(text)
}

transform outer_skips {
    input text: string
    output decimal(38,10)
    on error skip
    compute parse_or_dead_letter(text) + 1
}

transform parse_undeclared {
    input text: string
    output decimal(38,10)
    compute to_decimal(text)
}

transform outer_skips_undeclared {
    input text: string
    output decimal(38,10)
    on error skip
    compute parse_undeclared(text) + 1
}
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("tx")
    files = javatools.generate_sources(
        {"c.schema": SCHEMA, "t.transform": TRANSFORMS}, "gen.tx", root
    )
    javatools.javac(files, root / "classes", [HARNESS])
    out = javatools.java("TransformHarness", root / "classes")
    return {r["call"]: r for r in map(json.loads, out.splitlines())}


def test_exact_decimal_results(results: dict) -> None:
    # 100.00 * 0.0125 + 0.30 = 1.55, stored with 4 decimals
    assert results["fee(100.00)"]["result"] == "1.5500"
    # 0.01 * 0.0125 + 0.30 = 0.300125 -> 0.3001 (half-even at 4 decimals)
    assert results["fee(0.01)"]["result"] == "0.3001"
    # a division keeps at least 6 decimals
    assert results["split_evenly(10.00, 3)"]["result"] == "3.333333"


def test_null_inputs(results: dict) -> None:
    assert results["fee(null)"]["result"] is None  # a required input missing: null result
    assert results["display_name(null)"]["result"] == "unknown"  # optional input
    assert results["display_name(nameless)"]["result"] == "unknown"
    assert results["display_name(ann)"]["result"] == "Ann"


def test_declared_error_behaviour(results: dict) -> None:
    # default (dead_letter): the data error stays what it is, recoverable
    assert results["split_evenly(10.00, 0)"] == {
        "call": "split_evenly(10.00, 0)",
        "error": "ArithmeticException",
        "classification": "recoverable",
        "reason": "ARITHMETIC",
    }
    # on error fail: fatal, the job restarts
    fail = results["parse_amount(abc)"]
    assert (fail["error"], fail["classification"], fail["reason"]) == (
        "Failed",
        "fatal",
        "TRANSFORM_FAILED",
    )
    # on error skip: the record is dropped (and counted), not a dead letter
    skip = results["parse_or_skip(abc)"]
    assert (skip["error"], skip["classification"], skip["reason"]) == (
        "Skip",
        "skipped",
        "NOT_A_NUMBER",
    )
    assert results["parse_or_skip(null)"]["result"] is None
    # composition: the innermost declared behaviour wins
    assert results["outer_fails(abc)"]["error"] == "Skip"
    assert results["outer_fails(2)"]["result"] == "3.0000000000"
    # ... also when the inner one declares dead_letter and the outer one skip: a dead letter
    # with the inner failure's reason (docs/language/transform.md), not a skipped record
    dead = results["outer_skips(abc)"]
    assert (dead["error"], dead["classification"], dead["reason"]) == (
        "DeadLetter",
        "recoverable",
        "NOT_A_NUMBER",
    )
    assert results["parse_or_dead_letter(abc)"]["reason"] == "NOT_A_NUMBER"
    assert results["outer_skips(2)"]["result"] == "3.0000000000"
    # an inner transform that declares nothing leaves its failures to the caller's skip
    assert results["outer_skips_undeclared(abc)"]["error"] == "Skip"
    assert results["parse_amount(12.5)"]["result"] == "12.5000000000"
    assert results["map(1)"]["result"] == "1.0000000000"
