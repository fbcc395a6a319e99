"""The Flink API of a window (`model.Window`): one method per window kind the model carries
(`model.Window.kind`), choosing the window assigner and trigger for the window's time (event
time or processing time) and naming the macros of job/window.j2 that write the assigner's
arguments and describe the window; any other kind is an error, never a window that silently
groups records some other way."""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from nexflow_core.generate import model


class WindowJava(NamedTuple):
    # The Flink window assigner (org.apache.flink.streaming.api.windowing.assigners).
    assigner: str
    # The macro writing the assigner's factory call (its size, slide or gap).
    arguments: str
    # The macro of the class comment's words on the window's extent.
    extent: str
    # The Flink trigger the window's CountingTrigger wraps (…windowing.triggers).
    trigger: str
    # The macro of a record's time for first()/last(): its event time, or arrival order.
    time_of: str
    # Windows merge (sessions): Flink keeps no per-window state for them.
    merging: bool


class Windows:
    def java(self, op: model.Window) -> WindowJava:
        method: Optional[Callable[[model.Window, bool], WindowJava]] = getattr(
            self, "kind_" + op.kind, None
        )
        if method is None:
            raise ValueError(f"the Flink target has no window of kind {op.kind!r}")
        return method(op, op.event_time is not None)

    def kind_tumbling(self, op: model.Window, event_time: bool) -> WindowJava:
        assigner = "TumblingEventTimeWindows" if event_time else "TumblingProcessingTimeWindows"
        return WindowJava(assigner, "of_size", "extent_size", *_time(event_time), merging=False)

    def kind_sliding(self, op: model.Window, event_time: bool) -> WindowJava:
        assigner = "SlidingEventTimeWindows" if event_time else "SlidingProcessingTimeWindows"
        return WindowJava(
            assigner, "of_size_and_slide", "extent_slide", *_time(event_time), merging=False
        )

    def kind_session(self, op: model.Window, event_time: bool) -> WindowJava:
        assigner = "EventTimeSessionWindows" if event_time else "ProcessingTimeSessionWindows"
        return WindowJava(assigner, "with_gap", "extent_gap", *_time(event_time), merging=True)


def _time(event_time: bool) -> tuple[str, str]:
    """The trigger and the time_of macro of a window of event time or of processing time."""
    if event_time:
        return "EventTimeTrigger", "time_event"
    return "ProcessingTimeTrigger", "time_arrival"


window_java = Windows().java


class AggregationJava(NamedTuple):
    """The macros of job/aggregations.j2 writing each part of one aggregation of a window."""

    # The accumulator's fields ("nothing": it keeps no state, the window itself answers).
    acc: str
    # Their TypeInformation.
    type: str
    # The result when the window fires.
    result: str
    # Adding a record: the values read from the accumulator first.
    read: str
    # Adding a record: the new values.
    add: str
    # Adding a record: the new values stored.
    store: str
    # Merging two sessions' accumulators.
    merge: str


_STATELESS = ("nothing",) * 7


class Aggregations:
    """One method per aggregation function the model carries (`model.Aggregation.fn`); any
    other is an error, never an aggregation that is silently not computed."""

    def java(self, a: model.Aggregation) -> AggregationJava:
        method: Optional[Callable[[model.Aggregation], AggregationJava]] = getattr(
            self, "fn_" + a.fn, None
        )
        if method is None:
            raise ValueError(f"the Flink target has no window aggregation {a.fn!r}")
        return method(a)

    def fn_count(self, a: model.Aggregation) -> AggregationJava:
        return AggregationJava(*_parts("count"))

    def fn_sum(self, a: model.Aggregation) -> AggregationJava:
        return AggregationJava(*_parts("sum"))

    def fn_avg(self, a: model.Aggregation) -> AggregationJava:
        # A decimal average keeps the result's scale; any other is a double.
        result = "result_avg_decimal" if a.type.kind == "decimal" else "result_avg_double"
        return AggregationJava(*_parts("avg"))._replace(result=result)

    def fn_min(self, a: model.Aggregation) -> AggregationJava:
        return AggregationJava(*_parts("min_max"))._replace(result="result_value")

    def fn_max(self, a: model.Aggregation) -> AggregationJava:
        return self.fn_min(a)

    def fn_first(self, a: model.Aggregation) -> AggregationJava:
        return AggregationJava(*_parts("first_last"))._replace(
            result="result_value", add="add_first", merge="merge_first"
        )

    def fn_last(self, a: model.Aggregation) -> AggregationJava:
        return AggregationJava(*_parts("first_last"))._replace(
            result="result_value", add="add_last", merge="merge_last"
        )

    def fn_count_distinct(self, a: model.Aggregation) -> AggregationJava:
        return AggregationJava(*_parts("count_distinct"))

    def fn_window_start(self, a: model.Aggregation) -> AggregationJava:
        return AggregationJava(*_STATELESS)._replace(result="result_window_start")

    def fn_window_end(self, a: model.Aggregation) -> AggregationJava:
        return AggregationJava(*_STATELESS)._replace(result="result_window_end")


def _parts(variant: str) -> tuple[str, ...]:
    return tuple(f"{part}_{variant}" for part in AggregationJava._fields)


aggregation_java = Aggregations().java
