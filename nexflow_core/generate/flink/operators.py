"""The operator choice of a Flink job: for each model operator, which job concern writes it
(the role its macro module is imported under), and how it is wired into the job (does it
collect dead letters, does it emit alerts, which side outputs go to streams); for each
statement of a segment, which macro of the steps concern writes it.

One method per model class; any other class is an error, never a job that silently leaves an
operator or a statement out. The templates only lay the results out.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from nexflow_core.generate import model


class Wiring(NamedTuple):
    # The job concern whose `wire(job, op, prev, current)` and `classes(job, op)` write it.
    concern: str
    # Its failures go to the dead-letter output through the errors concern.
    collects_errors: bool
    # Its rules' alerts go to the alert stream.
    alerts: bool
    # The streams its side outputs feed, in order.
    side_outputs: list[str]


def _optional(stream: Optional[str]) -> list[str]:
    return [stream] if stream else []


class Operators:
    def wiring(self, op: model.Operator) -> Wiring:
        method: Optional[Callable[[model.Operator], Wiring]] = getattr(
            self, "wire_" + type(op).__name__, None
        )
        if method is None:
            raise ValueError(f"the Flink target has no operator for {type(op).__name__}")
        return method(op)

    def wire_Segment(self, op: model.Segment) -> Wiring:
        return Wiring("steps", True, True, list(op.sends))

    def wire_Correlate(self, op: model.Correlate) -> Wiring:
        return Wiring("keyed", True, False, _optional(op.timeout_stream))

    def wire_Dedup(self, op: model.Dedup) -> Wiring:
        return Wiring("keyed", True, False, [])

    def wire_Window(self, op: model.Window) -> Wiring:
        return Wiring("window", True, False, _optional(op.late_stream))

    def wire_Lookup(self, op: model.Lookup) -> Wiring:
        # Its wire macro collects its dead letters itself (as a join does its partner's).
        return Wiring("lookup", False, False, [])

    def wire_Join(self, op: model.Join) -> Wiring:
        return Wiring("join", False, False, [])


wiring = Operators().wiring


class Steps:
    """The macro of the steps concern (job/segment.j2) that writes each model step."""

    def macro(self, step: model.Step) -> str:
        method: Optional[Callable[[model.Step], str]] = getattr(
            self, "step_" + type(step).__name__, None
        )
        if method is None:
            raise ValueError(f"the Flink target has no statement for {type(step).__name__}")
        return method(step)

    def step_FilterStep(self, step: model.FilterStep) -> str:
        return "filter_step"

    def step_TransformStep(self, step: model.TransformStep) -> str:
        return "transform_step"

    def step_MapStep(self, step: model.MapStep) -> str:
        return "map_step"

    def step_RulesStep(self, step: model.RulesStep) -> str:
        return "rules_step"

    def step_TableStep(self, step: model.TableStep) -> str:
        return "table_step"

    def step_RouteStep(self, step: model.RouteStep) -> str:
        return "route_step"

    def step_EmitStep(self, step: model.EmitStep) -> str:
        return "emit_step"

    def step_UpdateStep(self, step: model.UpdateStep) -> str:
        return "update_step"

    def step_RollingStep(self, step: model.RollingStep) -> str:
        return "rolling_step"


step_macro = Steps().macro
