"""Decision-table analysis under the DMN hit policies."""

from __future__ import annotations

from nexflow_core.project import check_project

SCHEMA = """enum Ch { WEB, SHOP, ATM }
schema P { amount: int  price: decimal(10,2)  ch: Ch  vip: boolean
           cur: string @enum["USD", "EUR"]  country: string }"""


def table(policy: str, inputs: str, outputs: str, rows: str) -> list[tuple[str, str]]:
    text = (
        f"decision_table T for p: P hit_policy {policy} {{\n inputs {{ {inputs} }}\n"
        f" outputs {{ {outputs} }}\n rules {{\n{rows}\n }}\n}}"
    )
    project = check_project({"a.schema": SCHEMA, "t.rules": text})
    return [(d.code, d.message) for d in project.diagnostics]


def test_complete_disjoint_table_is_clean() -> None:
    rows = """  low: < 100, -, - -> "L"
  mid_vip: [100 .. 1000), -, true -> "M"
  mid: [100 .. 1000), -, false -> "M"
  high_web: >= 1000, WEB, - -> "H"
  high_other: >= 1000, in [SHOP, ATM], - -> "H" """
    assert table("unique", "p.amount p.ch p.vip", "t: string", rows) == []


def test_overlap_names_both_rows_and_an_input() -> None:
    got = table("unique", "p.amount", "t: string", '  a: <= 10 -> "A"\n  b: >= 10 -> "B"')
    assert got == [("NX401", "a and b both match when amount = 10")]


def test_gap_on_numbers_enums_booleans_and_enum_texts() -> None:
    got = table("unique", "p.amount", "t: string", '  a: < 10 -> "A"\n  b: > 10 -> "B"')
    assert got == [("NX402", "no row of T matches when amount = 10")]
    got = table("unique", "p.ch p.vip", "t: string", '  a: WEB, - -> "A"\n  b: SHOP, true -> "B"')
    msgs = sorted(m for _, m in got)
    assert msgs == [
        "no row of T matches when ch = ATM",
        "no row of T matches when ch = SHOP, vip = false",
    ]
    got = table("unique", "p.cur", "t: string", '  a: "USD" -> "A"')
    assert got == [("NX402", 'no row of T matches when cur = "EUR"')]
    got = table("unique", "p.country", "t: string", '  a: "US" -> "A"')
    assert got == [("NX402", "no row of T matches when country is any other value")]


def test_decimal_ranges_are_exact() -> None:
    rows = "  a: < 10.00 -> 1\n  b: [10.00 .. 10.01) -> 2\n  c: >= 10.01 -> 3"
    assert table("unique", "p.price", "o: int", rows) == []
    rows = "  a: < 10.00 -> 1\n  c: > 10.00 -> 3"
    assert table("unique", "p.price", "o: int", rows) == [
        ("NX402", "no row of T matches when price = 10")
    ]


def test_integer_gaps_do_not_include_impossible_fractions() -> None:
    assert table("unique", "p.amount", "o: int", "  a: <= 9 -> 1\n  b: >= 10 -> 2") == []


def test_first_policy_reports_unreachable_rows() -> None:
    got = table("first", "p.amount", "o: int", "  a: > 5 -> 1\n  b: > 10 -> 2\n  c: - -> 3")
    assert got == [("NX403", "b is unreachable: a matches every input it does and comes first")]


def test_any_policy_allows_equal_results_only() -> None:
    assert table("any", "p.amount", "o: int", "  a: > 5 -> 1\n  b: > 10 -> 1") == []
    got = table("any", "p.amount", "o: int", "  a: > 5 -> 1\n  b: > 10 -> 2")
    assert [c for c, _ in got] == ["NX410"]


def test_priority_and_collect_requirements() -> None:
    assert [c for c, _ in table("priority", "p.amount", "o: string", '  a: - -> "x"')] == ["NX405"]
    assert table("priority", "p.amount", 'o: string priority ["x", "y"]', '  a: - -> "x"') == []
    assert [c for c, _ in table("collect sum", "p.amount", "o: string", '  a: - -> "x"')] == [
        "NX405"
    ]


def test_cell_problems() -> None:
    got = table("first", "p.cur p.ch", "o: int", '  a: < "M", WEB -> 1\n  b: -, MOON -> 2')
    assert [c for c, _ in got] == ["NX411", "NX411"]
    got = table("first", "p.amount", "o: int", "  a: [5 .. 1] -> 1")
    assert [c for c, _ in got] == ["NX411"]
    got = table("first", "p.amount p.vip", "o: int", "  a: 5 -> 1")
    assert [c for c, _ in got] == ["NX404"]
