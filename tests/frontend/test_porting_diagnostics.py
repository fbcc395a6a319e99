"""What porting real card pipelines tripped over (issue 16): semantic cases decided against the
reference, and diagnostics for things that used to pass silently or with an unclear message."""

from __future__ import annotations

from nexflow_core.diagnostics import Diagnostic
from nexflow_core.project import check_project

PAYMENT = """schema PaymentEvent {
    transaction_id: string @key
    amount: decimal(10,2)
    channel: string @enum["ONLINE", "POS", "ATM"]
    note: string?
    timestamp: datetime @event_time
}
stream payments: PaymentEvent
stream out: PaymentEvent
"""

POINTS = """decision_table RiskPoints for payment: PaymentEvent hit_policy collect sum {
    inputs { payment.amount  payment.channel }
    outputs { points: int }
    rules {
        large:  > 5000, -       -> 40
        cash:   -,      "ATM"   -> 25
    }
}
decision_table Hits for payment: PaymentEvent hit_policy collect count {
    inputs { payment.amount }
    outputs { hit: boolean }
    rules {
        large: > 5000 -> true
    }
}
"""


def diags(sources: dict[str, str]) -> list[Diagnostic]:
    return list(check_project(sources).diagnostics)


def codes(sources: dict[str, str]) -> list[str]:
    return [d.code for d in diags(sources)]


def test_an_aggregated_collect_table_binds_the_number_itself() -> None:
    ok = """proc P {
    from payments
    apply RiskPoints table as risk
    apply Hits table as hits
    filter risk is not null and risk > 30 and hits > 0
    emit to out
}"""
    assert codes({"a.schema": PAYMENT, "t.rules": POINTS, "p.proc": ok}) == []
    bad = ok.replace("risk > 30", "risk.points > 30")
    found = diags({"a.schema": PAYMENT, "t.rules": POINTS, "p.proc": bad})
    assert [d.code for d in found] == ["NX204"]
    assert found[0].hint is not None and "write risk" in found[0].hint
