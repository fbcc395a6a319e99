"""The Flink API of the keyed operators with timers (job/keyed.j2): one method per model class
the keyed concern writes, choosing the variant (two keyed streams connected for `correlate
with`, one keyed stream otherwise), the function class's name and the timers' time domain,
and naming the macros that write them; any other class is an error."""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Union

from nexflow_core.generate import model

KeyedOperator = Union[model.Correlate, model.Dedup]


class KeyedJava(NamedTuple):
    # The function class's name (before the operator's index).
    name: str
    # The macro wiring it into the job: "wire_two_inputs" (a partner stream connected) or
    # "wire_one_input".
    wire: str
    # The macro writing its classes.
    classes: str
    # Its function is built with the source's idle timeout (the watermark-stall backstop).
    watches_idleness: bool
    # The timer service's time domain: "EventTime" or "ProcessingTime".
    timer: str
    # The macro reading the record's time, `now`, in processElement.
    now: str
    # The macro ending a correlation's wait: "timeout_to_stream" (`on timeout emit to`) or
    # "timeout_dropped" (none: counted and logged); "" for a deduplication (it never waits).
    on_timeout: str = ""


def _time(event_time: bool) -> tuple[str, str]:
    return ("EventTime", "now_event") if event_time else ("ProcessingTime", "now_processing")


class Keyed:
    def java(self, op: KeyedOperator) -> KeyedJava:
        method: Optional[Callable[[KeyedOperator], KeyedJava]] = getattr(
            self, "op_" + type(op).__name__, None
        )
        if method is None:
            raise ValueError(f"the keyed concern has no operator for {type(op).__name__}")
        return method(op)

    def op_Correlate(self, op: model.Correlate) -> KeyedJava:
        on_timeout = "timeout_to_stream" if op.timeout_stream else "timeout_dropped"
        if op.partner is not None:
            # `correlate with <stream>`: both sides' idle timeouts are the function's arguments.
            return KeyedJava(
                "Correlate", "wire_two_inputs", "correlate_with", False, *_time(op.event_time),
                on_timeout,
            )  # fmt: skip
        return KeyedJava(
            "Correlate", "wire_one_input", "correlate", op.event_time, *_time(op.event_time),
            on_timeout,
        )  # fmt: skip

    def op_Dedup(self, op: model.Dedup) -> KeyedJava:
        return KeyedJava(
            "Deduplicate", "wire_one_input", "deduplicate", False, *_time(op.event_time)
        )


keyed_java = Keyed().java
