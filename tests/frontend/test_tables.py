"""Decision-table analysis under the DMN hit policies."""

from __future__ import annotations

from nexflow_core.project import check_project

SCHEMA = """enum Ch { WEB, SHOP, ATM }
enum Tier { HIGH, MEDIUM, LOW }
schema P { amount: int  price: decimal(10,2)  ch: Ch  vip: boolean
           cur: string @enum["USD", "EUR"]  country: string
           maybe_vip: boolean?  maybe_amount: int?  rate: double }"""


def table(policy: str, inputs: str, outputs: str, rows: str) -> list[tuple[str, str]]:
    return [(code, msg) for code, _, msg in diagnostics(policy, inputs, outputs, rows)]


def diagnostics(policy: str, inputs: str, outputs: str, rows: str) -> list[tuple[str, str, str]]:
    text = (
        f"decision_table T for p: P hit_policy {policy} {{\n inputs {{ {inputs} }}\n"
        f" outputs {{ {outputs} }}\n rules {{\n{rows}\n }}\n}}"
    )
    project = check_project({"a.schema": SCHEMA, "t.rules": text})
    return [(d.code, d.severity, d.message) for d in project.diagnostics]


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
    assert got == [
        ("NX402", 'no row of T matches when country = "OTHER" (uncovered: country not in ["US"])')
    ]


def test_decimal_ranges_are_exact() -> None:
    rows = "  a: < 10.00 -> 1\n  b: [10.00 .. 10.01) -> 2\n  c: >= 10.01 -> 3"
    assert table("unique", "p.price", "o: int", rows) == []
    rows = "  a: < 10.00 -> 1\n  c: > 10.00 -> 3"
    assert table("unique", "p.price", "o: int", rows) == [
        ("NX402", "no row of T matches when price = 10.00")
    ]


def test_integer_gaps_do_not_include_impossible_fractions() -> None:
    assert table("unique", "p.amount", "o: int", "  a: <= 9 -> 1\n  b: >= 10 -> 2") == []


def test_first_policy_reports_unreachable_rows() -> None:
    got = table("first", "p.amount", "o: int", "  a: > 5 -> 1\n  b: > 10 -> 2\n  c: - -> 3")
    assert got == [("NX403", "b is unreachable: a matches every input it does and comes first")]


def test_any_policy_allows_equal_results_only() -> None:
    rows = "  a: > 5 -> 1\n  b: > 10 -> 1\n  rest: <= 5 -> 0"
    assert table("any", "p.amount", "o: int", rows) == []
    got = table("any", "p.amount", "o: int", "  a: > 5 -> 1\n  b: > 10 -> 2\n  rest: <= 5 -> 0")
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


# ---- counterexamples a user can paste ------------------------------------------------------


def test_gap_counterexample_is_concrete_values() -> None:
    # An open interval is shown by a value inside it, and the whole uncovered region after.
    got = table("unique", "p.amount", "o: int", "  a: <= 100 -> 1\n  b: >= 1000 -> 2")
    assert got == [
        ("NX402", "no row of T matches when amount = 550 (uncovered: 100 < amount < 1000)")
    ]
    # A region with its boundary: the boundary value is the example.
    got = table("unique", "p.amount", "o: int", "  a: < 100 -> 1\n  b: > 1000 -> 2")
    assert got == [
        ("NX402", "no row of T matches when amount = 100 (uncovered: 100 <= amount <= 1000)")
    ]
    rows = """  small: < 1000.00, -, - -> 1
  big_known: >= 1000.00, in ["US", "DE"], - -> 2
  big_new: >= 1000.00, -, true -> 3"""
    got = table("unique", "p.price p.country p.vip", "o: int", rows)
    assert [c for c, _ in got] == ["NX402", "NX401"]
    assert got[0][1] == (
        'no row of T matches when price = 1000.00, country = "OTHER", vip = false '
        '(uncovered: price >= 1000.00, country not in ["US", "DE"], vip = false)'
    )


def test_decimal_field_holds_only_its_scale() -> None:
    # price is decimal(10,2): nothing lies between 10.00 and 10.01, so no gap there.
    assert table("unique", "p.price", "o: int", "  a: <= 10.00 -> 1\n  b: >= 10.01 -> 2") == []
    # An expression of the field may hold any number: 10.005 is uncovered.
    got = table("unique", "x = p.price / 3", "o: int", "  a: <= 10.00 -> 1\n  b: >= 10.01 -> 2")
    assert [c for c, _ in got] == ["NX402"]
    assert got[0][1] == "no row of T matches when x = 10.005 (uncovered: 10 < x < 10.01)"


def test_many_gaps_are_bounded() -> None:
    # 20 uncovered numbers in one region: four are named, then how many more.
    rows = "\n".join(f"  r{i}: {2 * i} -> {i}" for i in range(20)) + "\n  top: >= 40 -> 0"
    rows += "\n  low: < 0 -> 0"
    got = table("unique", "p.amount", "o: int", rows)
    assert got == [
        (
            "NX402",
            "no row of T matches when amount = 1 (uncovered: amount = 1 or amount = 3 or "
            "amount = 5 or amount = 7 or 16 more)",
        )
    ]
    # 10 separate uncovered regions: three are shown, and the last says there are more.
    rows = "\n".join(f"  r{i}: {i}, WEB -> {i}" for i in range(10))
    rows += "\n  rest: not in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], - -> 0"
    got = table("unique", "p.amount p.ch", "o: int", rows)
    assert [c for c, _ in got] == ["NX402"] * 3
    assert got[0][1] == (
        "no row of T matches when amount = 0, ch = SHOP "
        "(uncovered: amount = 0, ch = SHOP or ch = ATM)"
    )
    assert got[-1][1].endswith("; other inputs are uncovered too")


# ---- gaps under every hit policy -----------------------------------------------------------


def test_gap_under_first_priority_and_any_is_a_warning_that_the_result_is_null() -> None:
    for policy, out in (
        ("first", "o: int"),
        ("any", "o: int"),
        ("priority", "o: int priority [1, 2]"),
    ):
        got = diagnostics(policy, "p.amount p.ch", out, "  a: < 10, - -> 1\n  b: >= 10, WEB -> 2")
        assert got == [
            (
                "NX445",
                "warning",
                "no row of T matches when amount = 10, ch = SHOP (uncovered: amount >= 10, "
                "ch = SHOP or ch = ATM), so T gives null there",
            )
        ], policy
    # A last row of `-` is the default: no gap, no warning.
    rows = "  a: < 10, - -> 1\n  b: >= 10, WEB -> 2\n  rest: -, - -> 3"
    assert table("first", "p.amount p.ch", "o: int", rows) == []
    # collect: matching no row is an empty list (or count 0), not a gap.
    assert table("collect", "p.amount", "o: int", "  a: < 10 -> 1") == []
    assert table("collect count", "p.amount", "o: int", "  a: < 10 -> 1") == []


def test_null_input_matches_only_any() -> None:
    got = diagnostics("unique", "p.maybe_amount", "o: int", "  a: < 10 -> 1\n  b: >= 10 -> 2")
    assert got == [
        (
            "NX445",
            "warning",
            "no row of T matches when maybe_amount = null (only a - cell matches a null input), "
            "so T gives null there",
        )
    ]
    # Under first, a `-` row after true and false still takes null: it is reachable.
    rows = "  yes: true -> 1\n  no: false -> 2\n  unknown: - -> 3"
    assert table("first", "p.maybe_vip", "o: int", rows) == []
    # One earlier row covering every non-null value does not make it unreachable (this was a
    # false NX403 error).
    rows_in = "  both: in [true, false] -> 1\n  unknown: - -> 3"
    assert table("first", "p.maybe_vip", "o: int", rows_in) == []
    # For a boolean that is never null the same `-` row can never be first.
    got = diagnostics("first", "p.vip", "o: int", rows)
    assert got == [
        (
            "NX444",
            "warning",
            "unknown can never be the first match: yes, no together match every input it "
            "does and come first",
        )
    ]


def test_null_cell_is_an_error() -> None:
    got = table("first", "p.country", "o: int", '  a: null -> 1\n  b: not in ["X", null] -> 2')
    assert [c for c, _ in got] == ["NX411", "NX411"]
    assert got[0][1].startswith("a cell cannot test for null")


# ---- rows that can never decide ------------------------------------------------------------


def test_first_row_shadowed_by_a_union_of_earlier_rows_is_a_warning() -> None:
    rows = "  a: < 50 -> 1\n  b: >= 50 -> 2\n  c: < 100 -> 3"
    got = diagnostics("first", "p.amount", "o: int", rows)
    assert got == [
        (
            "NX444",
            "warning",
            "c can never be the first match: a, b together match every input it does and "
            "come first",
        )
    ]
    # Across columns and kinds: texts, enums, booleans.
    rows = """  us: "US", -, - -> 1
  web: -, WEB, - -> 2
  vip: -, -, true -> 3
  other: not in ["US"], in [SHOP, ATM], false -> 4
  late: != "FR", -, - -> 5"""
    got = table("first", "p.country p.ch p.vip", "o: int", rows)
    assert got == [
        (
            "NX444",
            "late can never be the first match: us, web, vip, other together match "
            "every input it does and come first",
        ),
    ]


def test_priority_row_that_never_wins() -> None:
    out = 'o: string priority ["HIGH", "LOW"]'
    rows = '  big: >= 100 -> "HIGH"\n  huge: >= 200 -> "LOW"\n  rest: - -> "LOW"'
    got = diagnostics("priority", "p.amount", out, rows)
    assert got == [
        (
            "NX444",
            "warning",
            "huge can never win: big match every input it does and win over it in the "
            "priority order (or tie and come first)",
        )
    ]
    # A lower row wins where it is more severe; a later row of the same priority loses ties.
    rows = '  small: < 100 -> "LOW"\n  big: >= 100 -> "HIGH"\n  tiny: < 10 -> "LOW"'
    got = table("priority", "p.amount", out, rows)
    assert got == [
        (
            "NX444",
            "tiny can never win: small match every input it does and win over it in the "
            "priority order (or tie and come first)",
        )
    ]
    # An enum output's order is its declaration; the default covered by the union of two
    # more severe rows never wins.
    rows = '  a: < 50 -> "HIGH"\n  b: >= 50 -> "MEDIUM"\n  rest: - -> "LOW"'
    got = table("priority", "p.amount", "o: Tier", rows)
    assert [c for c, _ in got] == ["NX444"]
    assert got[0][1].startswith("rest can never win: a, b match")
    # The reachable default of the fraud example shape: no warning.
    rows = '  a: >= 50, - -> "HIGH"\n  b: -, true -> "MEDIUM"\n  rest: -, - -> "LOW"'
    assert table("priority", "p.amount p.vip", "o: Tier", rows) == []


def test_row_that_matches_nothing() -> None:
    got = diagnostics("collect", "p.amount", "o: int", "  a: (5 .. 6) -> 1\n  b: - -> 2")
    assert got == [
        (
            "NX444",
            "warning",
            "a can never match: its cell for amount accepts no value amount can hold",
        )
    ]


def test_single_earlier_row_covering_stays_an_error() -> None:
    # A table rejected before stays rejected; NX403 is unchanged for one covering row.
    got = diagnostics("first", "p.amount", "o: int", "  a: - -> 1\n  b: > 10 -> 2")
    assert got == [
        ("NX403", "error", "b is unreachable: a matches every input it does and comes first")
    ]


# ---- limits ---------------------------------------------------------------------------------


def test_search_out_of_budget_says_the_table_was_not_verified(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from nexflow_core.check import tables

    monkeypatch.setattr(tables, "BUDGET", 2)
    rows = "  a: < 10, WEB, true -> 1\n  b: >= 10, -, - -> 2\n  c: < 10, in [SHOP, ATM], - -> 3"
    rows += "\n  d: < 10, WEB, false -> 4"
    got = table("unique", "p.amount p.ch p.vip", "o: int", rows)
    assert [c for c, _ in got] == ["NX446"]
    assert "could not fully verify T" in got[0][1]


def _big_table(policy: str, n_rows: int) -> str:
    """8 columns of every kind, rows with varied thresholds, as a generated fraud table."""
    rows = []
    for i in range(n_rows):
        cells = [
            f">= {i * 7}",
            f"[{i} .. {i + 50})",
            f"< {1000 - i}.50",
            ["WEB", "SHOP", "ATM", "-"][i % 4],
            ["true", "false", "-"][i % 3],
            f'in ["C{i % 17}", "C{i % 5}"]' if i % 2 else "-",
            f'"{["USD", "EUR"][i % 2]}"' if i % 3 == 0 else "-",
            f"> {i % 40}" if i % 5 else "-",
        ]
        rows.append(f"  r{i}: {', '.join(cells)} -> {i}")
    rows.append("  rest: -, -, -, -, -, -, -, - -> 0")
    return "\n".join(rows)


def test_large_table_checks_fast(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """8 columns x 200 rows: the table's analysis (overlaps, gaps, rows that never decide)
    takes well under a second, with a default row or without (then the gap search runs to
    an uncovered input)."""
    import time

    from nexflow_core.check import rules_check

    spent: list[float] = []
    analyse = rules_check.analyse

    def timed(*args):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        analyse(*args)
        spent.append(time.perf_counter() - start)

    monkeypatch.setattr(rules_check, "analyse", timed)
    inputs = "p.amount b = p.amount * 2 p.price p.ch p.vip p.country p.cur m = p.amount % 97"
    for policy in ("first", "priority", "unique", "any"):
        out = "o: int priority [0, 1, 2]" if policy == "priority" else "o: int"
        for default in (True, False):
            rows = _big_table(policy, 200)
            if not default:
                rows = rows.rsplit("\n", 1)[0]
            got = table(policy, inputs, out, rows)
            assert spent[-1] < 1.0, (policy, default, spent[-1])
            codes = [c for c, _ in got]
            assert "NX446" not in codes, (policy, default)
            if not default:
                assert ("NX402" if policy == "unique" else "NX445") in codes
