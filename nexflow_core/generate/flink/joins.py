"""The Flink API of a join (`model.Join`, job/join.j2): an interval join (`within D`, Flink's
intervalJoin) or a window join (`window tumbling D`, a tumbling event-time window join), and
where the partner's records come from (the proc's own stream as read, for a self-join, or a
second source). Any other form is an error, never a join that silently pairs other records."""

from __future__ import annotations

from typing import NamedTuple

from nexflow_core.generate import model


class JoinJava(NamedTuple):
    # The macro of job/join.j2 writing the partner's stream: "partner_self" or "partner_stream".
    partner: str
    # The macro joining the two keyed streams: "join_interval" or "join_window".
    join: str
    # The macro of the class comment's sentence on when a pair joins.
    doc: str


def join_java(job: model.Job, op: model.Join) -> JoinJava:
    partner = "partner_self" if op.stream == job.source.stream else "partner_stream"
    if op.within_ms is not None:
        return JoinJava(partner, "join_interval", "doc_interval")
    if op.window_ms is not None:
        return JoinJava(partner, "join_window", "doc_window")
    raise ValueError(f"a join of {op.stream} with neither an interval nor a window")
