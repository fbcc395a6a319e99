"""Issue 16, cases found by hand while porting card-issuer pipelines: what a decision table's
result may hold, and versions written as other tools write them."""

from __future__ import annotations

from nexflow_core.diagnostics import Diagnostic
from nexflow_core.project import check_project

PAYMENT = """schema PaymentEvent {
    transaction_id: string @key
    amount: decimal(10,2)
    note: string?
    timestamp: datetime @event_time
}
schema Tiered {
    transaction_id: string @key
    tier: string
}
stream payments: PaymentEvent
stream tiered: Tiered
"""

PROC = """proc Tiering {
    from payments
    apply Tier table as risk
    map into Tiered {
        transaction_id = transaction_id
        tier = TIER
    }
    emit to tiered
}
"""


def _tier(output: str, rest: str, tier: str = "risk.tier") -> dict[str, str]:
    table = f"""decision_table Tier for payment: PaymentEvent hit_policy first {{
    inputs {{ payment.amount }}
    outputs {{ {output} }}
    rules {{
        big:  > 5000 -> "HIGH"
        rest: -      -> {rest}
    }}
}}
"""
    return {"a.schema": PAYMENT, "t.rules": table, "p.proc": PROC.replace("TIER", tier)}


def diags(sources: dict[str, str]) -> list[Diagnostic]:
    return list(check_project(sources).diagnostics)


def where(found: list[Diagnostic]) -> list[tuple[str, str, int]]:
    return [(d.code, d.span.file, d.span.line) for d in found]


def test_a_first_table_ending_in_a_row_of_dashes_has_a_result_with_the_outputs_types() -> None:
    sources = _tier("tier: string", '"LOW"')
    project = check_project(sources)
    assert project.diagnostics == []
    sig = project.table("Tier")
    assert sig is not None and not sig.result.nullable
    assert [(f.name, f.type.kind, f.type.nullable) for f in sig.result.fields or ()] == [
        ("tier", "string", False)
    ]
    # reading it with a null guard or coalesce is no different
    for read in ('coalesce(risk.tier, "NONE")', 'if risk is not null then risk.tier else "NONE"'):
        assert diags(_tier("tier: string", '"LOW"', read)) == []


def test_a_null_result_for_a_required_output_is_nx309_at_the_cell() -> None:
    # It used to pass: the row of dashes made the result "never null" while its field was null.
    found = diags(_tier("tier: string", "null"))
    assert where(found) == [("NX309", "t.rules", 6)]
    assert found[0].message == "output 'tier' is required but the value is null"


def test_an_optional_output_may_be_null_and_its_field_is_nullable_where_read() -> None:
    sources = _tier("tier: string?", "null")
    sig = check_project(sources).table("Tier")
    assert sig is not None and not sig.result.nullable  # some row always matches
    assert [(f.name, f.type.nullable) for f in sig.result.fields or ()] == [("tier", True)]
    found = diags(sources)
    assert where(found) == [("NX309", "p.proc", 6)]
    assert found[0].message == "field 'tier' is required but the value may be null"
    assert diags(_tier("tier: string?", "null", 'coalesce(risk.tier, "NONE")')) == []


def test_the_literal_null_into_a_required_field_is_nx309() -> None:
    found = diags(_tier("tier: string", '"LOW"', "null"))
    assert where(found) == [("NX309", "p.proc", 6)]
    assert found[0].message == "field 'tier' is required but the value is null"
    # into an optional field it is what the field allows
    optional = _tier("tier: string", '"LOW"', "null")
    optional["a.schema"] = optional["a.schema"].replace("    tier: string\n", "    tier: string?\n")
    assert diags(optional) == []


def test_a_version_in_any_header_or_a_schema_version_not_a_number_is_nx106() -> None:
    rules = diags({"t.rules": "ruleset Checks version 1.0.0 {\n}\n"})
    assert [(d.code, d.span.line, d.span.column, d.span.end_column) for d in rules] == [
        ("NX106", 1, 16, 29)
    ]
    assert rules[0].message == "a ruleset has no version ('version 1.0.0')"
    table = "decision_table T version 2 for payment: PaymentEvent hit_policy first {\n}\n"
    assert [d.message for d in diags({"t.rules": table})] == [
        "a decision_table has no version ('version 2')"
    ]
    transform = 'transform f version "1.0" {\n    input a: int\n    output int\n    compute a\n}\n'
    found = diags({"t.transform": transform})
    assert [(d.code, d.span.column, d.span.end_column) for d in found] == [("NX106", 13, 26)]
    assert found[0].message == "a transform has no version ('version \"1.0\"')"
    assert [d.code for d in diags({"p.proc": "proc P version 3 {\n    from a\n}\n"})] == ["NX106"]
    for written in ('"1.0.0"', "v1"):
        schema = f"schema A version {written} {{\n    a: int\n}}\n"
        found = diags({"a.schema": schema})
        assert [(d.code, d.span.column, d.span.end_column) for d in found] == [
            ("NX106", 18, 18 + len(written))
        ]
        assert found[0].message == f"a schema version is one whole number, not {written}"
    # a word named version elsewhere is no version
    assert [d.code for d in diags({"a.schema": "schema A {\n    version: int\n}\n"})] == []
