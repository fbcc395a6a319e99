"""The Flink API of a window (`model.Window`): one method per window kind the model carries
(`model.Window.kind`), choosing the window assigner and trigger for the window's time (event
time or processing time) and naming the macros of job/window.j2 that write the assigner's
arguments and describe the window; any other kind is an error, never a window that silently
groups records some other way."""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from nexflow_core.generate import model
from nexflow_core.generate.java.naming import identifier


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


# --- the accumulator's fields ------------------------------------------------------------------

# Members of every accumulator class (job/window.j2): an aggregation's field named like one
# takes a `$` suffix, as a DSL name equal to a Java keyword does (java/naming.py).
ACCUMULATOR_MEMBERS = frozenset(["rejected", "rejectedMore", "failed", "TYPE"])


class AccumulatorFields(NamedTuple):
    """The accumulator fields of one aggregation of a window, by part (job/aggregations.j2):
    `n` a count, `s` a sum, `v` a value (min, max, first, last), `t` the time of a first or
    last value, `d` the distinct values; "" for a part the function has not. `i` numbers the
    aggregation (1, 2 …) for the local variables of the generated Java; `field` is the output
    field the names come from."""

    aggregation: model.Aggregation
    i: int
    field: str
    n: str = ""
    s: str = ""
    v: str = ""
    t: str = ""
    d: str = ""


def _slots(e: object, out: list[str]) -> None:
    """The aggregation slots a lowered expression reads (model Vars named `agg$…`), in order."""
    if isinstance(e, model.Var):
        if e.name.startswith("agg$") and e.name not in out:
            out.append(e.name)
        return
    if isinstance(e, (list, tuple)):
        for x in e:
            _slots(x, out)
        return
    for f in getattr(e, "__struct_fields__", ()):
        if f != "type":
            _slots(getattr(e, f), out)


def accumulator_fields(op: model.Window) -> list[AccumulatorFields]:
    """The fields of the window's accumulator, one entry per aggregation (in op.aggregations'
    order), named after the output field the user wrote the aggregation in, never after its
    position: a savepoint's open windows restore into a build with aggregations added,
    removed or reordered (Flink's PojoSerializer evolves a POJO by field name), and only the
    fields of aggregations that are new start empty.

    The name of an aggregation is the output field whose expression reads it and no other
    aggregation (`total = sum(amount)` → `total`); else the first field that reads it, with
    its function (`ratio = sum(x) / count()` → `ratio$sum`, `ratio$count`; a second one of the
    same function in that field `ratio$sum$2`). A function keeping two values names the second
    one after it (`avg`: `x$sum`, `x$count`; `first`/`last`: `x`, `x$time`). DSL names never
    contain `$`, so no two names meet."""
    reads: list[tuple[str, list[str]]] = []
    for fv in op.values:
        slots: list[str] = []
        _slots(fv.expr, slots)
        reads.append((fv.field, slots))
    home: dict[str, tuple[str, bool]] = {}  # slot -> (field, the field reads only it)
    for field, slots in reads:
        for slot in slots:
            if len(slots) == 1 and not home.get(slot, ("", False))[1]:
                home[slot] = (field, True)
            elif slot not in home:
                home[slot] = (field, False)
    numbered: dict[tuple[str, str], int] = {}
    out: list[AccumulatorFields] = []
    for i, a in enumerate(op.aggregations, start=1):
        field, alone = home.get(a.slot, (a.slot, True))
        base = identifier(field)
        if base in ACCUMULATOR_MEMBERS:
            base += "$"
        if not alone:
            k = numbered[(field, a.fn)] = numbered.get((field, a.fn), 0) + 1
            base += f"${a.fn}" + (f"${k}" if k > 1 else "")
        parts = aggregation_java(a).acc
        if parts == "acc_count":
            out.append(AccumulatorFields(a, i, field, n=base))
        elif parts == "acc_sum":
            out.append(AccumulatorFields(a, i, field, s=base))
        elif parts == "acc_avg":
            out.append(AccumulatorFields(a, i, field, s=base + "$sum", n=base + "$count"))
        elif parts == "acc_min_max":
            out.append(AccumulatorFields(a, i, field, v=base))
        elif parts == "acc_first_last":
            out.append(AccumulatorFields(a, i, field, v=base, t=base + "$time"))
        elif parts == "acc_count_distinct":
            out.append(AccumulatorFields(a, i, field, d=base))
        else:  # window_start()/window_end(): the window answers, nothing is kept
            out.append(AccumulatorFields(a, i, field))
    return out
