"""`nexflow test` (docs/language/tests.md): test files run against the generated Java.

Needs a JDK and a classpath with Flink and Jackson: under Pants the jar of
tests/generate/jvm:flink-classpath; outside, NEXFLOW_TEST_CLASSPATH (as tests/generate)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from nexflow_core.cli import main

ROOT = Path(__file__).resolve().parents[2]
PANTS_JAR = Path("tests.generate.jvm/flink-classpath.jar")

SCHEMA = """\
schema Payment {
    id: string @key
    amount: decimal(10,2)
    currency: string
}
"""

RULES = """\
ruleset Checks for payment: Payment {
    rule big {
        when payment.amount > 1000
        then flag "big"
    }
    rule odd_currency {
        when payment.currency not in ["EUR", "USD"]
        then reject with "currency"
    }
}

decision_table Size for payment: Payment hit_policy first {
    inputs { amount = payment.amount }
    outputs { size: string }
    rules {
        small: < 100   -> "S"
        large: >= 100  -> "L"
    }
}
"""

PASSING = """\
test "a big payment is flagged" for rules Checks {
    given { id = "p1", amount = 1000.01, currency = "EUR" }
    expect { fired = ["big"], flagged = true, reason = "big" }
}

test "a small payment is S" for table Size {
    given { amount = 5.00 }
    expect { size = "S" }
}
"""


@pytest.fixture(autouse=True)
def _java(monkeypatch: pytest.MonkeyPatch) -> None:
    if not os.environ.get("NEXFLOW_TEST_CLASSPATH"):
        assert (
            PANTS_JAR.is_file()
        ), f"{PANTS_JAR} missing: use ./pants or set NEXFLOW_TEST_CLASSPATH"
        # A jar path ending in the separator is a classpath, not a file listing one.
        monkeypatch.setenv("NEXFLOW_TEST_CLASSPATH", f"{PANTS_JAR.resolve()}{os.pathsep}")


def _project(tmp_path: Path, tests: str) -> Path:
    (tmp_path / "pay.schema").write_text(SCHEMA, "utf-8")
    (tmp_path / "pay.rules").write_text(RULES, "utf-8")
    (tmp_path / "pay.nxtest").write_text(tests, "utf-8")
    return tmp_path


def test_a_passing_suite_and_its_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _project(tmp_path, PASSING)
    assert main(["test", str(d), "--coverage"]) == 0
    out = capsys.readouterr().out
    assert f"PASS {d}/pay.nxtest:1 a big payment is flagged" in out
    assert "2 passed, 0 failed" in out
    assert "ruleset Checks (" in out and ": 1/2 rules" in out and "not hit: odd_currency" in out
    assert "table Size (" in out and ": 1/2 rows" in out and "not hit: large" in out
    assert "coverage: 2/4 rules and rows (50.0%)" in out
    # --fail-under: 50% passes 50, fails 60.
    assert main(["test", str(d), "--fail-under", "50"]) == 0
    capsys.readouterr()
    assert main(["test", str(d), "--fail-under", "60"]) == 1
    assert "coverage 50.0% is under --fail-under 60%" in capsys.readouterr().out


def test_a_failing_expectation_shows_a_diff_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _project(tmp_path, PASSING.replace('size = "S"', 'size = "L"').replace(
        'reason = "big"', 'reason = "large"'))  # fmt: skip
    assert main(["test", str(d)]) == 1
    out = capsys.readouterr().out
    assert f'{d}/pay.nxtest:3:56: reason: expected "large", got "big"' in out, out
    assert f'{d}/pay.nxtest:8:21: size: expected "L", got "S"' in out, out
    assert "0 passed, 2 failed" in out


def test_expect_exactly_requires_the_fields_not_named_to_be_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _project(tmp_path, """\
test "exactly" for rules Checks {
    given { id = "p1", amount = 1000.01, currency = "EUR" }
    expect exactly { fired = ["big"] }
}
""")  # fmt: skip
    assert main(["test", str(d)]) == 1
    out = capsys.readouterr().out
    assert "flagged: expected nothing (exactly), got true" in out


def test_a_wrong_field_name_is_a_diagnostic_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _project(tmp_path, PASSING.replace("amount = 5.00", "amont = 5.00"))
    assert main(["test", str(d)]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"{re.escape(str(d))}/pay.nxtest:7:13: .*\[NX703\]", out) or (
        "[NX703]" in out and "pay.nxtest:7:13" in out
    ), out
    assert "no field 'amont'" in out


def test_a_value_of_the_wrong_type_is_a_diagnostic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _project(tmp_path, PASSING.replace("amount = 5.00", "amount = 5.001"))
    assert main(["test", str(d)]) == 1
    out = capsys.readouterr().out
    assert "[NX704]" in out and "pay.nxtest:7:" in out, out


def test_a_missing_classpath_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NEXFLOW_TEST_CLASSPATH")
    d = _project(tmp_path, PASSING)
    assert main(["test", str(d)]) == 2
    assert "give --classpath or set NEXFLOW_TEST_CLASSPATH" in capsys.readouterr().err


@pytest.mark.parametrize("example", ["card-fraud", "payments"])
def test_the_examples_tests_pass_and_cover_every_rule_and_row(
    example: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / example
    shutil.copytree(ROOT / "examples" / example, d)
    assert main(["test", str(d), "--coverage", "--fail-under", "100"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert " 0 failed" in out and "(100.0%)" in out


# --- tests of procs ---------------------------------------------------------------------------

PROC_SCHEMA = """\
schema Auth {
    auth_id: string @key
    card_id: string
    amount: decimal(10,2)
    event_time: datetime @event_time
}
schema Settlement {
    auth_id: string @key
    event_time: datetime @event_time
}
schema CardTotal {
    card_id: string @key
    n: long
    total: decimal(38,2)
}
stream auths: Auth
stream settlements: Settlement
stream matched: Auth
stream unmatched: Auth
stream totals: CardTotal
"""

PROCS = """\
proc Match {
    from auths
    correlate with settlements by auth_id within 5 minutes
    on timeout emit to unmatched
    emit to matched
}

// A self-join: the stream is read twice, each source with its own place in the script.
proc Bursts {
    from auths
    join auths as other on card_id == other.card_id and other.auth_id != auth_id within 3 minutes
    emit to matched
}

proc Totals {
    from auths
    key by card_id
    window tumbling 10 minutes
    aggregate into CardTotal {
        card_id = first(card_id)
        n = count()
        total = sum(amount)
    }
    emit to totals
}
"""


def _auth(auth_id: str, card: str, amount: str, at: str) -> str:
    return (
        f'{{ auth_id = "{auth_id}", card_id = "{card}", amount = {amount}, '
        f'event_time = "2026-01-31T{at}Z" }}'
    )


# Worked out by hand: the window [10:00, 10:10) of c1 holds a1 and a2 (12.00); it closes when
# the watermark reaches its end, not before; a3 (10:12) is in the next window, never closed.
WINDOW_TEST = f"""\
test "a window closes when the watermark passes its end" for proc Totals {{
    given auths [ {_auth("a1", "c1", "5.00", "10:01:00")}, {_auth("a2", "c1", "7.00", "10:04:00")} ]
    given auths {_auth("a3", "c1", "1.00", "10:12:00")}
    watermark "2026-01-31T10:09:00Z"
    expect totals []
    watermark "2026-01-31T10:10:00Z"
    expect totals [ {{ card_id = "c1", n = 2, total = 12.00 }} ]
}}
"""

# a1's settlement comes 2 minutes later: a pair. a2's never comes: a2 times out once the
# watermark of both streams passes 10:01 + 5 minutes, and not before.
CORRELATE_TEST = f"""\
test "an authorization without a settlement times out on the watermark" for proc Match {{
    given auths {_auth("a1", "c1", "5.00", "10:00:00")}
    given settlements {{ auth_id = "a1", event_time = "2026-01-31T10:02:00Z" }}
    expect matched [ {{ auth_id = "a1", amount = 5.00 }} ]
    given auths {_auth("a2", "c1", "7.00", "10:01:00")}
    watermark "2026-01-31T10:05:00Z"
    expect unmatched []
    watermark "2026-01-31T10:06:30Z"
    expect unmatched [ {{ auth_id = "a2" }} ]
    expect matched []
}}
"""


# a1 and a2 (card c1, 2 minutes apart) pair both ways: each is written once, as the left
# record of its pair, in whichever order the join's two inputs deliver a2. a3 (c2) and a4
# (c1, 10 minutes later) pair with nothing.
SELF_JOIN_TEST = f"""\
test "a self-join pairs records of one card 3 minutes apart" for proc Bursts {{
    given auths [ {_auth("a1", "c1", "1.00", "10:00:00")}, {_auth("a2", "c1", "2.00", "10:02:00")} ]
    given auths [ {_auth("a3", "c2", "3.00", "10:02:00")}, {_auth("a4", "c1", "4.00", "10:12:00")} ]
    watermark "2026-01-31T10:30:00Z"
    expect matched [ {{ auth_id = "a2" }}, {{ auth_id = "a1" }} ]
}}
"""


def _proc_project(tmp_path: Path, tests: str) -> Path:
    (tmp_path / "cards.schema").write_text(PROC_SCHEMA, "utf-8")
    (tmp_path / "cards.proc").write_text(PROCS, "utf-8")
    (tmp_path / "cards.nxtest").write_text(tests, "utf-8")
    return tmp_path


def test_proc_tests_control_event_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _proc_project(tmp_path, WINDOW_TEST + "\n" + CORRELATE_TEST + "\n" + SELF_JOIN_TEST)
    assert main(["test", str(d)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert f"PASS {d}/cards.nxtest:1 a window closes" in out, out
    assert "PASS" in out and "an authorization without a settlement times out" in out
    assert "PASS" in out and "a self-join pairs records" in out
    assert "3 passed, 0 failed" in out


def test_a_proc_test_failure_points_at_the_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = WINDOW_TEST.replace("n = 2, total = 12.00", "n = 3, total = 12.00").replace(
        'watermark "2026-01-31T10:09:00Z"\n    expect totals []',
        'watermark "2026-01-31T10:09:00Z"\n    expect totals [ { card_id = "c1" } ]',
    )
    d = _proc_project(tmp_path, wrong)
    assert main(["test", str(d)]) == 1
    out = capsys.readouterr().out
    # Line 5: the window is not closed yet; line 7: the count is 2.
    assert f"{d}/cards.nxtest:5:5: totals: expected 1 record(s), got 0: nothing" in out, out
    assert f"{d}/cards.nxtest:7:" in out and "totals[0].n: expected 3, got 2" in out, out


def test_records_after_the_last_expect_fail_the_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late_pair = (
        '    given settlements { auth_id = "a2", event_time = "2026-01-31T10:02:00Z" }\n'
        f'    given auths {_auth("a3", "c1", "1.00", "10:20:00")}\n'
        '    given settlements { auth_id = "a3", event_time = "2026-01-31T10:20:00Z" }\n'
        "    expect matched []\n"
    )
    d = _proc_project(tmp_path, CORRELATE_TEST.replace("    expect matched []\n", late_pair))
    assert main(["test", str(d)]) == 1
    out = capsys.readouterr().out
    # a2 timed out before its settlement came: the settlement waits itself, no pair; a3 pairs.
    assert "matched: expected 0 record(s), got 1" in out and '"a3"' in out, out


def test_a_proc_on_the_machines_clock_is_tested_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pay.schema").write_text(
        "schema Payment {\n    id: string @key\n    amount: decimal(10,2)\n}\n"
        "stream payments: Payment\nstream paired: Payment\n",
        "utf-8",
    )
    (tmp_path / "pay.proc").write_text(
        "proc Pair {\n    from payments\n    correlate by id within 5 minutes\n"
        "    emit to paired\n}\n",
        "utf-8",
    )
    (tmp_path / "pay.nxtest").write_text(
        'test "two events of a payment pair" for proc Pair {\n'
        '    given payments [ { id = "p1", amount = 1.00 }, { id = "p1", amount = 2.00 } ]\n'
        '    expect paired [ { id = "p1", amount = 1.00 } ]\n'
        "}\n",
        "utf-8",
    )
    assert main(["test", str(tmp_path)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "[NX709]" in out and "runs on the machine's clock" in out, out
    assert "1 passed, 0 failed" in out


def test_a_new_project_s_tests_pass_and_fail_when_the_rules_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `nexflow init` scaffolds src/orders.nxtest; `nexflow test` (the project's sources, from
    # nexflow.toml) runs it against the generated Java.
    root = tmp_path / "shop"
    assert main(["init", str(root)]) == 0
    capsys.readouterr()
    assert main(["test", "--project", str(root)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "5 passed, 0 failed" in out, out
    for name in (
        "a large order is flagged",
        "an order without a customer is rejected",
        "a small order passes",
        "an order's value is its amount times its quantity",
        "orders of ten items or more are large; a broken order is a dead letter",
    ):
        assert re.search(rf"^PASS \S*src/orders\.nxtest:\d+ {re.escape(name)} ", out, re.M), out

    # The tests check the rules: with a threshold of 2000 the order of 1500.00 is not flagged,
    # and that test fails with a diff per field at its expectation (line 5).
    rules = root / "src" / "order_checks.rules"
    rules.write_text(rules.read_text("utf-8").replace(">= 1000", ">= 2000"), "utf-8")
    assert main(["test", "--project", str(root)]) == 1
    out = capsys.readouterr().out
    assert "4 passed, 1 failed" in out, out
    assert re.search(r"^FAIL \S*src/orders\.nxtest:3 a large order is flagged", out, re.M), out
    assert 'src/orders.nxtest:5:22: fired: expected ["big_spender"], got []' in out, out
    assert "src/orders.nxtest:5:49: flagged: expected true, got false" in out, out
    assert 'src/orders.nxtest:5:82: reason: expected "large order", got null' in out, out


def test_a_classpath_longer_than_a_file_name_is_a_classpath(tmp_path: Path) -> None:
    from nexflow_core.dsltest.run import classpath

    jars = os.pathsep.join(
        f"/m2/repository/org/example/lib{n}/1.0/lib{n}-1.0.jar" for n in range(200)
    )
    assert len(jars) > 4096
    assert classpath(jars) == jars
    listing = tmp_path / "cp.txt"
    listing.write_text(jars + "\n", "utf-8")
    assert classpath(str(listing)) == jars
