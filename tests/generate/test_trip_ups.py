"""What users trip over, verified on the generated Java (each statement is in the language
reference: docs/language/expressions.md, schema.md, rules.md and proc.md say where).

Transforms and tables run as plain Java; JSON lines are decoded as a source decodes them
(Parsed.decode); sessions are merged by the assigner generated jobs use
(EventTimeSessionWindows.withGap). Expected values are worked out by hand from the rules the
pages state (half-even rounding, Java's remainder, ...), not read from the output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nexflow_core.project import check_project
from tests.generate import javatools

HARNESS = Path(__file__).parent / "java" / "TripUpsHarness.java"

SCHEMA = """
schema Trip {
    id: string @key
    amount: decimal(10,2) @range(0, 100)
    score: int? @range(1, 5)
    at: datetime
    channel: string?
}
"""

TRANSFORMS = """
transform int_div {
    input a: int
    input b: int
    output decimal(38,6)
    compute a / b
}

transform dec_div {
    input a: decimal(10,2)
    input b: decimal(10,2)
    output decimal(38,6)
    compute a / b
}

transform dec_div_8 {
    input a: decimal(10,8)
    input b: decimal(10,2)
    output decimal(38,8)
    compute a / b
}

transform int_rem {
    input a: int
    input b: int
    output int
    compute a % b
}

transform dec_rem {
    input a: decimal(10,2)
    input b: decimal(10,2)
    output decimal(11,2)
    compute a % b
}

transform round_whole {
    input x: decimal(10,2)
    output decimal(10,0)
    compute round(x)
}

transform round_one {
    input x: decimal(10,2)
    output decimal(10,2)
    compute round(x, 1)
}

transform store_two {
    input x: decimal(10,4)
    output decimal(10,2)
    compute x
}

transform in_list {
    input x: string?
    output boolean
    compute x in ["A", "B"]
}

transform not_in_list {
    input x: string?
    output boolean
    compute x not in ["A", "B"]
}

transform whole_match {
    input s: string
    output boolean
    compute matches(s, "[0-9]+")
}
"""

RULES = """
decision_table Tie for trip: Trip hit_policy priority {
    inputs { trip.amount }
    outputs {
        tier: string priority ["HIGH", "LOW"]
        row: string
    }
    rules {
        first:  > 10  -> "HIGH", "first"
        second: > 20  -> "HIGH", "second"
        low:    -     -> "LOW",  "low"
    }
}

decision_table Points for trip: Trip hit_policy collect sum {
    inputs { trip.amount }
    outputs { points: int }
    rules {
        big:    > 10  -> 25
        bigger: > 20  -> 25
    }
}

decision_table Labels for trip: Trip hit_policy collect {
    inputs { trip.amount }
    outputs { label: string }
    rules {
        big:    > 10  -> "BIG"
        bigger: > 20  -> "BIG"
    }
}
"""

SOURCES = {"trip.schema": SCHEMA, "trip.transform": TRANSFORMS, "trip.rules": RULES}

LINES = [
    # 1-2: @range(0, 100) includes both ends
    '{"id": "a", "amount": 100, "at": "2024-05-01T10:00:00Z"}',
    '{"id": "a", "amount": 0, "at": "2024-05-01T10:00:00Z"}',
    # 3: just above the range
    '{"id": "a", "amount": 100.01, "at": "2024-05-01T10:00:00Z"}',
    # 4: more decimals than decimal(10,2) holds: not rounded, a dead letter
    '{"id": "a", "amount": 12.345, "at": "2024-05-01T10:00:00Z"}',
    # 5-7: a datetime as a JSON number is epoch seconds (a fraction: below the second)
    '{"id": "a", "amount": 1, "at": 1714557600}',
    '{"id": "a", "amount": 1, "at": 1714557600.25}',
    '{"id": "a", "amount": 1, "at": 1714557600000}',
    # 8-9: an optional field's constraint holds only for a value
    '{"id": "a", "amount": 1, "at": "2024-05-01T10:00:00Z", "score": 0}',
    '{"id": "a", "amount": 1, "at": "2024-05-01T10:00:00Z", "score": null}',
    # 10-14: malformed input of every kind, a missing required field
    "not json",
    "null",
    '{"id": "a", "amount": "lots", "at": "2024-05-01T10:00:00Z"}',
    '{"id": "a", "amount": 1, "at": "2024-05-01 10:00"}',
    '{"id": "a", "at": "2024-05-01T10:00:00Z"}',
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("tripups")
    files = javatools.generate_sources(SOURCES, "gen.trip", root)
    javatools.javac(files, root / "classes", [HARNESS])
    data = root / "lines.jsonl"
    data.write_text("".join(line + "\n" for line in LINES), "utf-8")
    out = javatools.java("TripUpsHarness", root / "classes", [str(data)])
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {r.get("call", r.get("line")): r for r in rows}


def result(results: dict, call: str) -> object:
    return results[call].get("result", results[call].get("reason"))


def test_the_sources_check_as_the_pages_say() -> None:
    found = [(d.code, d.span.file, d.span.line) for d in check_project(SOURCES).diagnostics]
    # the tie: `second` matches only where `first` does and gives the same priority (line 10:
    # RULES starts with a blank line)
    assert found == [("NX444", "trip.rules", 10)]


def test_division_scale(results: dict) -> None:
    # whole numbers divided give a decimal with 6 places, rounded half-even
    assert result(results, "int_div(7, 2)") == "3.500000"
    assert result(results, "int_div(2, 3)") == "0.666667"
    # decimals: the larger of the two scales, at least 6
    assert result(results, "dec_div(10.00, 3.00)") == "3.333333"
    assert result(results, "dec_div_8(1.00000000, 3.00)") == "0.33333333"
    assert result(results, "dec_div(1.00, 0.00)") == "ARITHMETIC"


def test_remainder_takes_the_sign_of_the_dividend(results: dict) -> None:
    assert result(results, "int_rem(-7, 3)") == "-1"
    assert result(results, "int_rem(7, -3)") == "1"
    assert result(results, "dec_rem(-7.50, 2.00)") == "-1.50"


def test_round(results: dict) -> None:
    # round(x) of a decimal is a whole decimal, half-even: ties go to the even neighbour
    assert result(results, "round_whole(2.50)") == "2"
    assert result(results, "round_whole(3.50)") == "4"
    assert result(results, "round_whole(-2.51)") == "-3"
    # round(x, 1) keeps x's type: the value has 1 decimal, stored at the field's 2
    assert result(results, "round_one(1.25)") == "1.20"
    assert result(results, "round_one(1.35)") == "1.40"


def test_a_computed_decimal_is_rounded_to_its_fields_scale(results: dict) -> None:
    assert result(results, "store_two(1.0050)") == "1.00"
    assert result(results, "store_two(1.0150)") == "1.02"
    assert result(results, "store_two(1.0051)") == "1.01"


def test_null_in_a_list_and_not_in_it(results: dict) -> None:
    assert result(results, "in_list(null)") == "false"
    assert result(results, "not_in_list(null)") == "false"
    assert result(results, "not_in_list(C)") == "true"


def test_matches_tests_the_whole_text(results: dict) -> None:
    assert result(results, "whole_match(123)") == "true"
    assert result(results, "whole_match(123a)") == "false"
    assert result(results, "whole_match(a123)") == "false"


def test_tables_ties_and_duplicates(results: dict) -> None:
    # two rows of the same priority: the one written first
    assert result(results, "Tie(30)") == "{tier=HIGH, row=first}"
    # collect keeps duplicates: both rows' 25 are summed, both "BIG" listed
    assert result(results, "Points(30)") == "50"
    assert result(results, "Labels(30)") == "[{label=BIG}, {label=BIG}]"


def test_a_record_exactly_the_gap_after_the_last_joins_its_session(results: dict) -> None:
    # a session of a record at t is [t, t + gap); sessions that touch merge
    assert result(results, "sessions(gap 900000: 0, 900000)") == "[[0,1800000)]"
    assert result(results, "sessions(gap 900000: 0, 899999)") == "[[0,1799999)]"
    assert result(results, "sessions(gap 900000: 0, 900001)") == "[[0,900000), [900001,1800001)]"


def codes(row: dict) -> list[tuple[str, str]]:
    return [(v["field"], v["code"]) for v in row["violations"]]


def test_what_a_source_makes_of_each_line(results: dict) -> None:
    rows = [results[line] for line in LINES]
    assert [r["record"]["amount"] for r in rows[:2]] == [100.00, 0.00]
    assert (rows[2]["reason"], codes(rows[2])) == ("VALIDATION_FAILED", [("amount", "RANGE")])
    assert (rows[3]["reason"], codes(rows[3])) == ("VALIDATION_FAILED", [("amount", "DECIMAL")])
    assert rows[4]["record"]["at"] == "2024-05-01T10:00:00Z"
    assert rows[5]["record"]["at"] == "2024-05-01T10:00:00.250Z"
    # a millisecond number read as seconds: 1000 times as far from 1970
    assert rows[6]["record"]["at"].startswith("+56302-")
    assert codes(rows[7]) == [("score", "RANGE")]
    assert rows[8]["record"]["score"] is None
    assert [r["reason"] for r in rows[9:13]] == ["MALFORMED_INPUT"] * 4
    assert (rows[13]["reason"], codes(rows[13])) == (
        "VALIDATION_FAILED", [("amount", "REQUIRED")]
    )  # fmt: skip


def test_a_session_window_is_flinks_event_time_session_with_the_gap(tmp_path: Path) -> None:
    # The merge rule above is the assigner's: the job uses it with the gap in milliseconds.
    schema = SCHEMA + """
schema TripCount {
    id: string @key
    trips: long
}
stream trips: Trip
stream trip_counts: TripCount
"""
    proc = """proc Sessions {
    from trips
    event_time at watermark 5 seconds
    key by id
    window session gap 15 minutes
    aggregate into TripCount {
        id = first(id)
        trips = count()
    }
    emit to trip_counts
}
"""
    sources = {"trip.schema": schema, "s.proc": proc}
    assert check_project(sources).diagnostics == []
    files = javatools.generate_sources(sources, "gen.sessions", tmp_path)
    job = "".join(p.read_text("utf-8") for p in files if p.name.startswith("Sessions"))
    assert "EventTimeSessionWindows.withGap(Duration.ofMillis(900000L))" in job
