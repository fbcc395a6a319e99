"""The proc flow the checker computes once (check/flow.py) and the generator and the graph
read: per statement the record type, the operator and the names it may read, the key in
force, the window an aggregate closes, the partner stream, what `apply` applies; proc-wide
the event time, the handlers' owners and the dead letters."""

from __future__ import annotations

from nexflow_core.check.flow import ProcFlow
from nexflow_core.diagnostics import render_text
from nexflow_core.project import check_project

SCHEMAS = """schema Auth {
    auth_id: string @key
    card_id: string
    amount: decimal(10,2)
    at: datetime @event_time
}
schema Clearing {
    auth_id: string @key
    card_id: string
    cleared_at: long @event_time
}
schema Profile {
    card_id: string @key
    limit: decimal(10,2)
}
schema Spend {
    card_id: string @key
    total: decimal(18,2)
}
stream auths: Auth
stream clearings: Clearing
stream matched: Auth
stream timed_out: Auth
stream spends: Spend
stream late: Auth
stream flagged: Auth
stream dead: Auth
store profiles: Profile key card_id
"""

RULES = """ruleset Screen for auth: Auth {
    rule big {
        when auth.amount > 1000
        then flag "big"
    }
}
decision_table Band for auth: Auth hit_policy first {
    inputs {
        amount = auth.amount
    }
    outputs {
        band: string
    }
    rules {
        low: < 100 -> "low"
        high: - -> "high"
    }
}
"""

PROC = """proc Flow {
    from auths
    event_time at watermark 5 seconds
    on error emit to dead
    apply Screen rules as screen
    on flag emit to flagged
    apply Band table as band
    key by card_id
    state seen: long ttl 1 hour
    update seen = coalesce(seen, 0) + 1
    correlate with clearings by auth_id within 10 minutes
    on timeout emit to timed_out
    emit to matched
    lookup profiles by card_id as profile
    filter profile.limit > amount
    key by card_id
    window tumbling 1 minute
    on late emit to late
    aggregate into Spend {
        card_id = first(card_id)
        total = sum(amount)
    }
    emit to spends
}
"""


def _flow(proc: str = PROC) -> ProcFlow:
    project = check_project({"a.schema": SCHEMAS, "a.rules": RULES, "a.proc": proc})
    assert project.ok, render_text(project.diagnostics, project.sources)
    flow = project.proc_flow("Flow")
    assert flow is not None
    return flow


def _codes(proc: str) -> list[str]:
    project = check_project({"a.schema": SCHEMAS, "a.rules": RULES, "a.proc": proc})
    return [d.code for d in project.diagnostics if d.severity == "error"]


def test_every_statement_has_its_step_with_record_types() -> None:
    flow = _flow()
    assert [s.statement for s in flow.steps][:3] == ["FromStmt", "EventTimeStmt", "OnStmt"]
    assert len(flow.steps) == 19  # one per statement of PROC
    agg = next(s for s in flow.steps if s.statement == "AggregateStmt")
    assert agg.input is not None and agg.input.name == "Auth"
    assert agg.output is not None and agg.output.name == "Spend"


def test_operators_start_at_key_correlate_lookup_and_window() -> None:
    flow = _flow()
    starts = [s.statement for s in flow.steps if s.starts_operator]
    assert starts == ["KeyByStmt", "CorrelateStmt", "LookupStmt", "KeyByStmt", "WindowStmt"]
    operators = [s.operator for s in flow.steps]
    assert operators == sorted(operators)  # one chain, in the order written
    assert operators[-1] == 5


def test_names_each_statement_may_read_and_the_dead_ones() -> None:
    flow = _flow()
    update = next(s for s in flow.steps if s.statement == "UpdateStmt")
    assert sorted(update.names) == ["seen"]  # screen and band died at `key by`
    assert update.names["seen"].bound_by == "state" and update.names["seen"].may_be_null
    assert {"screen", "band"} <= set(update.dead)
    filter_ = next(s for s in flow.steps if s.statement == "FilterStmt")
    assert sorted(filter_.names) == ["profile"]
    assert filter_.names["profile"].bound_by == "lookup"
    assert "seen" in filter_.dead
    band = next(s for s in flow.steps if s.statement == "ApplyStmt" and s.applies == "table")
    assert "screen" in band.names and not band.names["screen"].may_be_null


def test_key_in_force_window_and_partner() -> None:
    flow = _flow()
    steps = flow.steps
    first_key = next(s for s in steps if s.statement == "KeyByStmt")
    state = next(s for s in steps if s.statement == "StateStmt")
    assert state.key is not None and state.key.at == first_key.index
    assert state.key.text == "card_id"
    correlate = next(s for s in steps if s.statement == "CorrelateStmt")
    assert correlate.key is not None and correlate.key.at == correlate.index
    assert correlate.partner is not None
    assert (correlate.partner.stream, correlate.partner.event_time_field) == (
        "clearings",
        "cleared_at",
    )
    assert correlate.partner.event_time_kind == "long"
    lookup = next(s for s in steps if s.statement == "LookupStmt")
    assert lookup.key is None  # a store read hands its records on unkeyed
    window = next(s for s in steps if s.statement == "WindowStmt")
    agg = next(s for s in steps if s.statement == "AggregateStmt")
    assert agg.window == window.index
    assert agg.key is None  # the window's results are new records


def test_applies_handlers_event_time_and_dead_letters() -> None:
    flow = _flow()
    steps = flow.steps
    rules = next(s for s in steps if s.statement == "ApplyStmt" and s.applies == "ruleset")
    on_flag = next(
        s.index
        for s in steps
        if s.statement == "OnStmt" and PROC.split("\n")[s.index + 1].strip().startswith("on flag")
    )
    assert flow.handlers[on_flag] == rules.index
    assert flow.event_time is not None
    assert (flow.event_time.field, flow.event_time.kind) == ("at", "datetime")
    assert flow.event_time.watermark_ms == 5000 and flow.event_time.declared_at == 1
    assert flow.dead_letters == 2


def test_event_time_declared_twice_is_an_error() -> None:
    proc = PROC.replace(
        "    emit to matched\n",
        "    emit to matched\n    event_time at watermark 1 minute\n",
    )
    assert "NX440" in _codes(proc)


def test_transform_input_from_an_operator_before_is_an_error() -> None:
    schemas = SCHEMAS
    transform = """transform enrich {
    input auth: Auth
    input profile: Profile
    output Auth
    map {
        auth_id = auth.auth_id
        card_id = auth.card_id
        amount = auth.amount
        at = auth.at
    }
}
"""
    proc = """proc Flow {
    from auths
    lookup profiles by card_id as profile
    key by card_id
    transform using enrich
    emit to matched
}
"""
    project = check_project({"a.schema": schemas, "a.transform": transform, "a.proc": proc})
    errors = [d for d in project.diagnostics if d.severity == "error"]
    assert [d.code for d in errors] == ["NX421"], render_text(errors, project.sources)
    assert "profile" in errors[0].message and "key by" in errors[0].message


def test_an_apply_alias_bound_twice_is_an_error() -> None:
    # Found by the fuzz corpus: the job's Java declared the name twice (javac refused it).
    proc = PROC.replace(
        "    apply Band table as band\n",
        "    apply Band table as band\n    apply Band table as band\n",
    )
    assert _codes(proc) == ["NX202"]
