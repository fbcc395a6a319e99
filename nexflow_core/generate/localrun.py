"""Run plans: what a local run of a unit's jobs needs to know, as JSON the L0 runtime's
`LocalRun` launcher reads (`nexflow compile --run-plan-out`).

A plan names each job's class and the complete settings it starts from in the chosen
environment, as the target spells them (`Target.start_settings`; for Flink the map the job's
`defaults()` returns when generated for that environment: the proc's own settings, then the
environment's). The launcher uses them instead of the class's baked-in defaults, so a job
built for production runs locally with no production setting left over. The plan also says
which streams the job reads and writes, so the launcher can count input records, follow the
outputs and report late events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import msgspec

from nexflow_core.generate import model
from nexflow_core.generate.target import Target


class PlannedJob(msgspec.Struct, frozen=True):
    """One job of a run plan. `reads`: its source stream first, then joined streams;
    `writes`: the streams it writes (each once); `late`: the streams late events are sent to;
    `late_operators`: how many operators may find an event late (windows, event-time rolling
    aggregates; without a late stream they drop late events); `settings`: keys as in program
    arguments, without the dashes."""

    proc: str
    job_class: str
    environment: str
    reads: list[str]
    writes: list[str]
    dead_letter: str
    late: list[str]
    late_operators: int
    settings: dict[str, str]


class RunPlan(msgspec.Struct, frozen=True):
    jobs: list[PlannedJob]


_ENCODER = msgspec.json.Encoder(order="sorted")


def plan_job(job: model.Job, target: Target, environment: str) -> PlannedJob:
    reads = [job.source.stream]
    late: list[str] = []
    late_operators = 0
    for op in job.operators:
        lateness: list[Optional[str]] = []
        if isinstance(op, model.Join) and op.stream not in reads:
            reads.append(op.stream)
        elif isinstance(op, model.Window):
            lateness.append(op.late_stream)
        elif isinstance(op, model.Segment):
            lateness.extend(
                s.late_stream
                for s in op.steps
                if isinstance(s, model.RollingStep) and s.event_time
            )
        late_operators += len(lateness)
        late.extend(s for s in lateness if s is not None and s not in late)
    return PlannedJob(
        proc=job.name,
        job_class=target.job_class(job),
        environment=environment,
        reads=reads,
        writes=[o.stream for o in job.outputs],
        dead_letter=job.dead_letter or "dead_letter",
        late=sorted(late),
        late_operators=late_operators,
        settings=target.start_settings(job),
    )


def run_plan(jobs: Sequence[model.Job], target: Target, environment: str) -> bytes:
    """The plan's JSON bytes: deterministic (sorted keys, jobs by proc name)."""
    planned = [plan_job(j, target, environment) for j in sorted(jobs, key=lambda j: j.name)]
    return _ENCODER.encode(RunPlan(planned)) + b"\n"
