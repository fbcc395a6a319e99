"""Schemas → POJOs: every type, odd names and literals compile, JSON round-trips, Flink types the
records without Kryo, and constraints / validate rules report what the DSL says.

Expected outcomes are written by hand from the schema below, not derived from the generator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.generate import javatools

SCHEMA = r"""
enum Status { ACTIVE, closed, class }

schema Address {
    street: string @length(1, 20)
    zip: string @pattern("^[0-9]{5}$")
    secret_note: string? @sensitive
}

schema Odd {
    class: string @key
    default: int = 7 @range(0, 100)
    serialVersionUID: long?
    ratio: double
    price: decimal(10,2) @range(0.01, 99999999.99)
    active: boolean = true
    day: date
    at: datetime
    id: uuid
    blob: bytes?
    tags: list<string> @length(0, 3)
    scores: map<string, int>
    nested: map<string, list<Address>>?
    amounts: list<decimal(6,1)>?
    home: Address
    homes: list<Address>?
    status: Status
    currency: string @enum["US\"D", "back\\slash", "end */ here", "tab\there"]
    note: string? @pattern("^[^*]*[*]/$") @sensitive
    validate price > 1 message "price \"must\" exceed 1 */ really \\ \u0007"
    validate if active then default >= 1 else true
}
"""

GOOD = {
    "class": "k1",
    "default": 5,
    "serialVersionUID": 9,
    "ratio": 0.5,
    "price": 12.5,
    "active": True,
    "day": "2024-02-29",
    "at": "2024-01-02T03:04:05.123Z",
    "id": "123e4567-e89b-12d3-a456-426614174000",
    "blob": "AAEC",
    "tags": ["a", None, "c"],
    "scores": {"x": 1, "y": None},
    "nested": {"n": [{"street": "Main", "zip": "12345"}]},
    "amounts": [1.5, 2],
    "home": {"street": "Elm", "zip": "54321", "secret_note": "hidden"},
    "homes": [{"street": "Oak", "zip": "11111"}],
    "status": "class",
    "currency": "end */ here",
    "note": "ends with */",
}


def variant(**changes: object) -> dict[str, object]:
    out = dict(GOOD)
    for key, value in changes.items():
        if value is _DELETE:
            del out[key]
        else:
            out[key] = value
    return out


_DELETE = object()

CASES: list[dict[str, object]] = [
    GOOD,
    variant(default=_DELETE, active=_DELETE),  # defaults fill in: default 7, active true
    variant(price=0.005),  # below @range(0.01, …), and 3 decimals: not a decimal(10,2)
    variant(price=1.0),  # fits, but validate price > 1 fails
    variant(default=101),  # @range(0, 100)
    variant(tags=["a", "b", "c", "d"]),  # @length(0, 3) on a list
    variant(home={"street": "", "zip": "1234"}),  # nested: length and pattern
    variant(currency="USD"),  # @enum
    variant(id="not-a-uuid"),
    variant(ratio=None),  # required
    variant(status="PURPLE"),  # not an enum value: malformed
    variant(homes=[None]),
    variant(amounts=[1.25]),
    variant(active=False, default=0),  # if active … else true: valid; default 0 in range
]

EXPECTED_VIOLATIONS = [
    [],
    [],
    [{"field": "price", "code": "RANGE"}, {"field": "price", "code": "DECIMAL"}],
    [{"field": "", "code": "VALIDATE"}],
    [{"field": "default", "code": "RANGE"}],
    [{"field": "tags", "code": "LENGTH"}],
    [{"field": "home.street", "code": "LENGTH"}, {"field": "home.zip", "code": "PATTERN"}],
    [{"field": "currency", "code": "ENUM"}],
    [{"field": "id", "code": "UUID"}],
    [{"field": "ratio", "code": "REQUIRED"}],
    None,  # malformed: Jackson refuses the value
    [{"field": "homes[0]", "code": "REQUIRED"}],
    [{"field": "amounts[0]", "code": "DECIMAL"}],
    [],
]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    work = tmp_path_factory.mktemp("schema")
    java_files = javatools.generate_sources({"odd.schema": SCHEMA}, "gen.odd", work)
    classes = work / "classes"
    javatools.javac(java_files, classes, [Path(__file__).parent / "java" / "SchemaHarness.java"])
    data = work / "cases.jsonl"
    data.write_text("".join(json.dumps(c) + "\n" for c in CASES), "utf-8")
    out = javatools.java("SchemaHarness", classes, ["gen.odd.OddContract", str(data)])
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_flink_types_every_field_without_kryo(outcomes: list[dict]) -> None:
    info = outcomes[0]["type_info"]
    assert info.startswith("PojoType<gen.odd.Odd")
    assert "GenericType" not in info
    assert "NullableList" in info and "Map" in info and "EnumTypeInfo" in info


def test_constraint_and_validate_outcomes(outcomes: list[dict]) -> None:
    results = outcomes[1:]
    assert len(results) == len(CASES)
    for case, expected, got in zip(CASES, EXPECTED_VIOLATIONS, results):
        if expected is None:
            assert got.get("error") == "InvalidFormatException", (case, got)
        else:
            assert got.get("violations") == expected, (case, got)


def test_valid_records_round_trip(outcomes: list[dict]) -> None:
    good = outcomes[1]
    assert good["flink_round_trip"] is True
    js = good["json"]
    # Field names as in the DSL, keywords included; decimals at their declared scale.
    assert list(js) == [
        "class", "default", "serialVersionUID", "ratio", "price", "active", "day", "at", "id",
        "blob", "tags", "scores", "nested", "amounts", "home", "homes", "status", "currency",
        "note",
    ]  # fmt: skip
    assert js["price"] == 12.50 and json.dumps(js["price"]) == "12.5"
    assert js["amounts"] == [1.5, 2.0]
    assert js["day"] == "2024-02-29" and js["at"] == "2024-01-02T03:04:05.123Z"
    assert js["status"] == "class" and js["currency"] == "end */ here"
    assert js["tags"] == ["a", None, "c"] and js["scores"] == {"x": 1, "y": None}
    assert js["blob"] == "AAEC"
    assert good["correlation_id"] == "k1"
    defaults = outcomes[2]
    assert defaults["json"]["default"] == 7 and defaults["json"]["active"] is True


def test_sensitive_fields_are_masked(outcomes: list[dict]) -> None:
    masked = outcomes[1]["masked"]
    assert masked["note"] == "***"
    assert masked["home"]["secret_note"] == "***"
    assert masked["home"]["street"] == "Elm"
    assert outcomes[1]["json"]["note"] == "ends with */"
