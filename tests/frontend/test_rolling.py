"""`rolling <duration> { name = agg … }` in procs: what it parses to, how it is checked, and the
names and types it binds; and a mapping that sets a field named event_time."""

from __future__ import annotations

from nexflow_core import ast
from nexflow_core import typemodel as T
from nexflow_core.project import check_project
from nexflow_core.syntax import parse_source

SCHEMA = """schema Auth {
    auth_id: string @key
    card_id: string
    amount: decimal(10,2)
    fee: int?
    event_time: datetime @event_time
}
schema AuthStats {
    auth_id: string @key
    n: long
    total: decimal(38,2)
    event_time: datetime
}
stream auths: Auth
stream stats: AuthStats
stream late: Auth
"""


def check(proc: str) -> list:
    """The errors of a proc (rolling without a watermark delay also warns, NX413: see
    test_rolling_with_no_watermark_delay_warns)."""
    diags = check_project({"a.schema": SCHEMA, "p.proc": proc}).diagnostics
    return [d for d in diags if d.severity == "error"]


def test_rolling_parses_to_its_duration_and_mappings() -> None:
    m = parse_source(
        "proc P { from auths key by card_id rolling 24 hours { n = count() s = sum(amount) } }",
        "p.proc",
    )
    stmt = m.decls[0].statements[2]
    assert isinstance(stmt, ast.RollingStmt)
    assert stmt.within.millis == 24 * 3600 * 1000
    assert [mp.field for mp in stmt.mappings] == ["n", "s"]


def test_rolling_binds_typed_names_for_the_statements_after_it() -> None:
    proc = """proc P {
        from auths
        event_time event_time watermark 1 minute
        key by card_id
        rolling 1 hour {
            n = count()
            total = sum(amount)
            biggest = max(amount)
            fees = sum(fee)
        }
        on late emit to late
        map into AuthStats {
            auth_id = auth_id
            n = n
            total = coalesce(total, 0)
            event_time = event_time
        }
        emit to stats
    }"""
    project = check_project({"a.schema": SCHEMA, "p.proc": proc})
    assert project.diagnostics == []
    names = project.proc_flow("P").aliases
    assert names["n"] == T.LONG  # counts the record itself: never null
    assert names["total"].kind == "decimal" and names["total"].nullable
    assert names["biggest"].kind == "decimal" and names["biggest"].nullable
    assert names["fees"].kind == "long" and names["fees"].nullable  # sum of ints


def test_rolling_needs_a_key_and_one_supported_aggregation_per_name() -> None:
    no_key = "proc P { from auths rolling 1 hour { n = count() } emit to late }"
    assert [d.code for d in check(no_key)] == ["NX430"]
    avg = "proc P { from auths key by card_id rolling 1 hour { a = avg(amount) } emit to late }"
    assert [d.code for d in check(avg)] == ["NX307"]
    expr = "proc P { from auths key by card_id rolling 1 hour { a = count() + 1 } emit to late }"
    assert [d.code for d in check(expr)] == ["NX307"]
    twice = (
        "proc P { from auths key by card_id rolling 1 hour { a = count() } "
        "rolling 2 hours { a = count() } emit to late }"
    )
    assert [d.code for d in check(twice)] == ["NX202"]


def test_a_mapping_may_set_event_time_after_another_mapping() -> None:
    # `event_time` is also a proc statement; LALR expected both there.
    proc = """proc P {
        from auths
        event_time event_time watermark 1 minute
        map into AuthStats {
            auth_id = auth_id
            n = 1
            total = amount
            event_time = event_time
        }
        emit to stats
    }"""
    m = parse_source(proc, "p.proc")
    stmts = m.decls[0].statements
    assert isinstance(stmts[1], ast.EventTimeStmt) and stmts[1].field.dotted == "event_time"
    assert [mp.field for mp in stmts[2].mappings] == ["auth_id", "n", "total", "event_time"]
    assert check(proc) == []


def test_rolling_with_no_watermark_delay_warns() -> None:
    zero = "proc P { from auths key by card_id rolling 1 hour { n = count() } emit to late }"
    diags = check_project({"a.schema": SCHEMA, "p.proc": zero}).diagnostics
    assert [(d.code, d.severity, d.span.line) for d in diags] == [("NX413", "warning", 1)]
    assert "watermark delay at 0" in diags[0].message
    explicit_zero = zero.replace(
        "from auths", "from auths event_time event_time watermark 0 seconds"
    )
    diags = check_project({"a.schema": SCHEMA, "p.proc": explicit_zero}).diagnostics
    assert [d.code for d in diags] == ["NX413"]
    delayed = zero.replace("from auths", "from auths event_time event_time watermark 5 seconds")
    assert check_project({"a.schema": SCHEMA, "p.proc": delayed}).diagnostics == []
