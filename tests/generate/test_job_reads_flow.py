"""The job builder reads the checker's flow (check/flow.py) instead of working the facts out
again: change a fact in the flow and the job changes with it, though the AST is the same."""

from __future__ import annotations

import msgspec
import pytest

from nexflow_core.check.flow import ProcFlow
from nexflow_core.diagnostics import render_text
from nexflow_core.generate import model
from nexflow_core.generate.core import job_models
from nexflow_core.generate.lower import CheckerMissed
from nexflow_core.project import CheckedProject, check_project

SCHEMA = """schema Auth {
    auth_id: string @key
    card_id: string
    amount: decimal(10,2)
    at: datetime @event_time
}
schema Clearing {
    auth_id: string @key
    cleared_at: long @event_time
}
stream auths: Auth
stream clearings: Clearing
stream matched: Auth
stream timed_out: Auth
"""

PROC = """proc Flow {
    from auths
    event_time at watermark 5 seconds
    key by card_id
    state seen: long ttl 1 hour
    update seen = coalesce(seen, 0) + 1
    correlate with clearings by auth_id within 10 minutes
    on timeout emit to timed_out
    emit to matched
}
"""


def _project() -> CheckedProject:
    project = check_project({"a.schema": SCHEMA, "a.proc": PROC})
    assert project.ok, render_text(project.diagnostics, project.sources)
    return project


def _job(project: CheckedProject) -> model.Job:
    jobs = job_models(project, {path: "nexflow.test" for path in project.modules})
    assert [j.name for j in jobs] == ["Flow"]
    return jobs[0]


def _tamper(project: CheckedProject, flow: ProcFlow) -> None:
    project.procs["Flow"] = flow


def test_event_time_and_partner_time_come_from_the_flow() -> None:
    project = _project()
    job = _job(project)
    assert job.event_time is not None and job.event_time.watermark_ms == 5000
    flow = project.procs["Flow"]
    assert flow.event_time is not None
    correlate = next(s for s in flow.steps if s.statement == "CorrelateStmt")
    assert correlate.partner is not None
    steps = list(flow.steps)
    steps[correlate.index] = msgspec.structs.replace(
        correlate,
        partner=msgspec.structs.replace(correlate.partner, event_time_kind="datetime"),
    )
    _tamper(
        project,
        msgspec.structs.replace(
            flow,
            steps=steps,
            event_time=msgspec.structs.replace(flow.event_time, watermark_ms=7),
        ),
    )
    job = _job(project)
    assert job.event_time is not None and job.event_time.watermark_ms == 7
    op = next(o for o in job.operators if isinstance(o, model.Correlate))
    assert op.partner is not None and op.partner.time.kind == "datetime"  # the AST says long


def test_the_key_in_force_comes_from_the_flow() -> None:
    project = _project()
    flow = project.procs["Flow"]
    steps = list(flow.steps)
    key_by = next(s for s in steps if s.statement == "KeyByStmt")
    assert key_by.key is not None
    for s in steps:
        if s.key is not None and s.key.at == key_by.index:
            steps[s.index] = msgspec.structs.replace(
                s, key=msgspec.structs.replace(s.key, text="per_card")
            )
    _tamper(project, msgspec.structs.replace(flow, steps=steps))
    segment = next(o for o in _job(project).operators if isinstance(o, model.Segment) and o.key)
    assert segment.key is not None and segment.key.text == "per_card"
    assert ".state.per_card.seen" in segment.uid


def test_operator_boundaries_and_names_come_from_the_flow() -> None:
    project = _project()
    flow = project.procs["Flow"]
    update = next(s for s in flow.steps if s.statement == "UpdateStmt")
    steps = list(flow.steps)
    # The flow says the state is not readable at the update: the builder refuses, as a bug of
    # the checker (which reports such a program with NX421), rather than guessing.
    steps[update.index] = msgspec.structs.replace(update, names={}, dead={"seen": "`x`"})
    _tamper(project, msgspec.structs.replace(flow, steps=steps))
    with pytest.raises(CheckerMissed, match="NX421"):
        _job(project)
