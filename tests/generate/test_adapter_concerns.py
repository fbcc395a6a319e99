"""The Flink adapter is composed of one mixin per concern, and a job concern can be replaced
without touching the core or the other concerns: here the metrics concern is swapped for one
that writes no metrics, and only the metrics lines of the generated job change."""

from __future__ import annotations

from pathlib import Path

import jinja2

from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.generate.flink import adapter
from nexflow_core.syntax import parse_source
from tests.generate import javatools

CARDS = Path("tests/pipelines/cards")
QUIET_METRICS = """
{% macro register() -%}metrics = null;{%- endmacro %}
{% macro start() -%}long start$ = 0L;{%- endmacro %}
{% macro emitted() -%}// no metrics{%- endmacro %}
"""


class QuietTarget(adapter.FlinkTarget):
    """A variant target: Flink jobs whose metrics concern writes nothing."""

    def __init__(self) -> None:
        super().__init__()
        self._env.loader = jinja2.ChoiceLoader(
            [jinja2.DictLoader({"quiet/metrics.j2": QUIET_METRICS}), self._env.loader]
        )

    def _concerns(self) -> dict[str, str]:
        return {**super()._concerns(), "metrics": "quiet/metrics.j2"}


def _job(target: object) -> str:
    sources = javatools.dsl_sources(CARDS)
    units = [Unit(parse_source(t, n), "p", t) for n, t in sources.items()]
    files = {f.path: f.content for f in generate(units, [], target)}
    return files["p/DedupAuthsJob.java"]


def test_every_job_concern_has_its_mixin() -> None:
    mixins = {c.__name__ for c in adapter.FlinkTarget.__mro__}
    assert {"StateMixin", "WindowMixin", "EnrichmentMixin", "SinkMixin", "ErrorMixin",
            "MetricsMixin", "RecordMixin", "RulesMixin", "TransformMixin",
            "RuntimeMixin"} <= mixins  # fmt: skip
    assert sorted(adapter.FlinkTarget()._concerns()) == [
        "errors", "io", "join", "kafka", "keyed", "lookup", "metrics", "steps", "window",
    ]  # fmt: skip


def test_a_concern_is_replaced_without_touching_the_others() -> None:
    flink = _job(TARGETS["flink"]).splitlines()
    quiet = _job(QuietTarget()).splitlines()
    assert len(flink) == len(quiet)
    changed = [(a.strip(), b.strip()) for a, b in zip(flink, quiet) if a != b]
    assert changed and all("metrics" in a or "start$" in a for a, _ in changed), changed
    assert ("long start$ = metrics.start();", "long start$ = 0L;") in changed
    assert ("metrics.emitted(start$);", "// no metrics") in changed


def test_the_operator_choice_has_one_method_per_model_operator_and_raises_on_others() -> None:
    import typing

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.flink import operators

    kinds = {c.__name__ for c in typing.get_args(model.Operator)}
    assert len(kinds) == 6
    methods = {n[len("wire_") :] for n in dir(operators.Operators) if n.startswith("wire_")}
    assert methods == kinds
    # Every concern an operator is written by is one the job template imports.
    assert {"steps", "keyed", "window", "lookup", "join"} <= set(adapter.FlinkTarget()._concerns())
    with pytest.raises(ValueError, match="no operator for Origin"):
        operators.wiring(model.Origin("a", 1, "x"))  # type: ignore[arg-type]


def test_each_model_step_has_a_macro_of_the_steps_concern() -> None:
    import re
    import typing

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.flink import java, operators

    kinds = {c.__name__ for c in typing.get_args(model.Step)}
    assert len(kinds) == 9
    methods = {n[len("step_") :] for n in dir(operators.Steps) if n.startswith("step_")}
    assert methods == kinds
    segment = (java.TEMPLATES / "job" / "segment.j2").read_text("utf-8")
    macros = set(re.findall(r"\{% macro (\w+)\(job, op, s\)", segment))
    for kind in kinds:
        name = getattr(operators.Steps(), "step_" + kind)(None)
        assert name in macros, name
    with pytest.raises(ValueError, match="no statement for Origin"):
        operators.step_macro(model.Origin("a", 1, "x"))  # type: ignore[arg-type]


def test_each_window_kind_and_aggregation_names_macros_of_the_window_concern() -> None:
    import re

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.flink import java, windows
    from nexflow_core.typemodel import Type

    job = java.TEMPLATES / "job"
    window_macros = set(re.findall(r"\{% macro (\w+)\(", (job / "window.j2").read_text("utf-8")))
    agg_macros = set(re.findall(r"\{% macro (\w+)\(", (job / "aggregations.j2").read_text("utf-8")))

    at = model.EventTime(field="at", kind="datetime", watermark_ms=0)

    def window(kind: str, event_time: bool) -> model.Window:
        # Only the kind and whether the window is of event time matter to the choice.
        return model.Window(
            uid="w", index=1, key=model.Key(exprs=[], record=Type("record", name="R"), text="k"),
            kind=kind, size_ms=1, slide_ms=1, lateness_ms=0, late_stream=None,
            record=Type("record", name="R"), output=Type("record", name="O"), aggregations=[],
            values=[],
            event_time=at if event_time else None, origin=model.Origin("p.proc", 1, "window"),
            aggregate_origin=model.Origin("p.proc", 2, "aggregate"),
        )  # fmt: skip

    kinds = {n[len("kind_") :] for n in dir(windows.Windows) if n.startswith("kind_")}
    assert kinds == {"tumbling", "sliding", "session"}  # model.Window documents these
    for kind in kinds:
        for event_time in (False, True):
            w = windows.window_java(window(kind, event_time))
            assert {w.arguments, w.extent, w.time_of} <= window_macros
            assert ("EventTime" in w.assigner + w.trigger) == event_time
    assert windows.window_java(window("session", True)).merging
    with pytest.raises(ValueError, match="no window of kind 'hopping'"):
        windows.window_java(window("hopping", False))

    def aggregation(fn: str, t: "Type | None" = None) -> model.Aggregation:
        t = t or Type("long")
        return model.Aggregation(slot="agg$1", fn=fn, arg=None, arg_type=t, type=t)

    fns = {n[len("fn_") :] for n in dir(windows.Aggregations) if n.startswith("fn_")}
    # Every aggregation function of proc.md's `aggregate into`.
    assert fns == {"count", "sum", "avg", "min", "max", "first", "last", "count_distinct",
                   "window_start", "window_end"}  # fmt: skip
    for fn in fns:
        assert set(windows.aggregation_java(aggregation(fn))) <= agg_macros, fn
    decimal = Type("decimal", precision=10, scale=2)
    assert windows.aggregation_java(aggregation("avg", decimal)).result == "result_avg_decimal"
    with pytest.raises(ValueError, match="no window aggregation 'median'"):
        windows.aggregation_java(aggregation("median"))


def test_each_keyed_operator_names_macros_of_the_keyed_concern() -> None:
    import re

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.flink import java, keyed
    from nexflow_core.typemodel import Type

    template = (java.TEMPLATES / "job" / "keyed.j2").read_text("utf-8")
    macros = set(re.findall(r"\{% macro (\w+)\(", template))
    r = Type("record", name="R")
    key = model.Key(exprs=[], record=r, text="k")
    origin = model.Origin("p.proc", 1, "x")
    at = model.EventTime(field="at", kind="datetime", watermark_ms=0)
    partner = model.CorrelatePartner(stream="s", record=r, key=key, time=at)
    ops: list[keyed.KeyedOperator] = []
    for event_time in (False, True):
        ops.append(model.Correlate("u", 1, key, 1, r, event_time, None, origin))
        ops.append(model.Correlate("u", 1, key, 1, r, event_time, "late", origin, partner))
        ops.append(model.Dedup("u", 1, key, 1, r, event_time, origin))
    # One method per model class the keyed concern writes (operators.py wires them to it).
    methods = {n[len("op_") :] for n in dir(keyed.Keyed) if n.startswith("op_")}
    assert methods == {"Correlate", "Dedup"}
    for op in ops:
        k = keyed.keyed_java(op)
        assert {k.wire, k.classes, k.now} <= macros
        assert k.on_timeout in macros if isinstance(op, model.Correlate) else not k.on_timeout
        assert k.timer == ("EventTime" if op.event_time else "ProcessingTime")
    assert keyed.keyed_java(ops[1]).classes == "correlate_with"
    with pytest.raises(ValueError, match="no operator for Origin"):
        keyed.keyed_java(origin)  # type: ignore[arg-type]


def test_the_transports_keys_and_failure_policies_name_macros_of_the_io_concern() -> None:
    import re

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.flink import java, streams
    from nexflow_core.typemodel import Type

    template = (java.TEMPLATES / "job" / "io.j2").read_text("utf-8")
    macros = set(re.findall(r"\{% macro (\w+)\(", template))
    kinds = {n for n in dir(streams.Transports) if n.startswith("transport_")}
    assert kinds == {"transport_kafka_or_files", "transport_files"}
    for kind in kinds:
        t = getattr(streams.Transports(), kind)()
        assert {t.source, t.partner, t.sink, t.lines} <= macros
        assert t.kafka == (kind == "transport_kafka_or_files")
    key = model.Field(obj=model.This(type=Type("record", name="R")), name="id", type=Type("string"))
    for o in (
        model.Output(stream="s", record=Type("record", name="R")),
        model.Output(stream="s", record=Type("record", name="R"), idempotency_key=key),
        model.Output(
            stream="s", record=Type("record", name="R"), idempotency_key=key,
            idempotency_sensitive=True,
        ),
    ):  # fmt: skip
        assert streams.kafka_key(o) in macros
    assert streams.kafka_key(o) == "key_token"
    for key_field in (None, "id"):
        origin = model.Origin("p.proc", 1, "x")
        p = model.Persist(uid="u", store="st", key_field=key_field, is_async=False, origin=origin)
        assert streams.persist_key(p) in macros
    # Every policy `on lookup_error` / `on persist_error` documents, as the runtime's constant.
    for policy in ("continue", "dead_letter", "fail"):
        assert streams.on_lookup_error(policy).startswith("Lookups.OnLookupError.")
    for policy in ("dead_letter", "fail"):
        assert streams.on_persist_error(policy) == "Stores.OnPersistError." + policy.upper()
    with pytest.raises(ValueError, match="no lookup_error policy 'retry'"):
        streams.on_lookup_error("retry")
    with pytest.raises(ValueError, match="no persist_error policy 'continue'"):
        streams.on_persist_error("continue")


def test_each_join_form_names_macros_of_the_join_concern() -> None:
    import re
    from types import SimpleNamespace

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.flink import java, joins
    from nexflow_core.typemodel import Type

    template = (java.TEMPLATES / "job" / "join.j2").read_text("utf-8")
    macros = set(re.findall(r"\{% macro (\w+)\(", template))
    r = Type("record", name="R")
    key = model.Key(exprs=[], record=r, text="k")
    at = model.EventTime(field="at", kind="datetime", watermark_ms=0)

    def join(stream: str, within: "int | None", window: "int | None") -> model.Join:
        return model.Join(
            uid="u", index=1, stream=stream, alias="a", partner=r, partner_time=at, left=key,
            right=key, within_ms=within, window_ms=window, record=r,
            origin=model.Origin("p.proc", 1, "join"),
        )  # fmt: skip

    # Only the job's source stream matters to the choice.
    job = SimpleNamespace(source=SimpleNamespace(stream="own"))
    seen = set()
    for stream in ("own", "other"):
        for within, window in ((5, None), (None, 5)):
            j = joins.join_java(job, join(stream, within, window))  # type: ignore[arg-type]
            assert set(j) <= macros
            seen.add(j)
    assert len(seen) == 4
    with pytest.raises(ValueError, match="neither an interval nor a window"):
        joins.join_java(job, join("other", None, None))  # type: ignore[arg-type]
