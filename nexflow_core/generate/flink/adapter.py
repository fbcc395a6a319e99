"""The Flink adapter: model values in, Java files out, through jinja2 templates only.

Records, enums, rules, decision tables, transforms and the framework-free runtime are the
Java-generic renderers of generate/java/ (render.py); this adapter makes them Flink's: its
templates (templates/) extend the generic record and transform templates with Flink's type
information and a MapFunction wrapper, its spelling adds TypeInformation (java.py), its runtime
(runtime/) adds sources, sinks, state and job arguments, and it renders procs as DataStream jobs.

`FlinkTarget` is composed of small mixins, one per concern: records, rules, transforms, the L0
runtime, and jobs, which are themselves composed of the concerns of a running job (state,
windows, enrichment, sources and sinks, errors, metrics). A job concern contributes the jinja2
macro module that writes its part of a job, under a role name the job templates import it by
(`{% import concerns.keyed as keyed %}`). A concern can be read, tested and replaced on its own
(a subclass maps its role to another module), and a second target reuses generate/java
unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexflow_core.generate import model
from nexflow_core.generate.flink import (
    java,
    joins,
    kafka,
    keyed,
    operators,
    options,
    state_classes,
    streams,
    windows,
)
from nexflow_core.generate.java import naming, render
from nexflow_core.generate.java.render import RUNTIME_PACKAGE, java_path
from nexflow_core.versions import FLINK_VERSION

__all__ = ["RUNTIME_PACKAGE", "FlinkTarget", "java_path"]


def _rolling_runs(steps: list[Any]) -> list[list[model.RollingStep]]:
    """The segment's `rolling` statements, consecutive ones together: one run shares one
    list state, so a record walks the key's list once for all the run's durations."""
    runs: list[list[model.RollingStep]] = []
    previous_rolling = False
    for step in steps:
        if isinstance(step, model.RollingStep):
            if previous_rolling:
                runs[-1].append(step)
            else:
                runs.append([step])
        previous_rolling = isinstance(step, model.RollingStep)
    return runs


class _Renderer(render.JavaRenderer):
    """The Flink flavour of the Java renderer every mixin shares."""

    platform = "Flink"
    platform_title = f"Apache Flink {FLINK_VERSION}"

    def _template_dirs(self) -> list[Path]:
        return [java.TEMPLATES]

    def _runtime_dirs(self) -> list[Path]:
        return [java.RUNTIME_SOURCES]

    def _naming(self) -> naming.Naming:
        return java.NAMING

    def _spelling(self, index: model.TypeIndex) -> java.Spelling:
        return java.Spelling(index)

    def _filters(self) -> dict[str, Any]:
        return {"needs_type_info": java.needs_type_info, "rolling_runs": _rolling_runs}

    def _globals(self) -> dict[str, Any]:
        return {
            "flink_version": FLINK_VERSION,
            "checkpoint_interval_option": options.CHECKPOINT_INTERVAL,
        }


class RecordMixin(_Renderer, render.RecordMixin):
    """Schemas → POJOs with @TypeInfo where Flink needs it, plus a contract class; enums →
    Java enums."""


class RulesMixin(_Renderer, render.RulesMixin):
    """Rulesets and decision tables → plain Java evaluators (no Flink types)."""


class TransformMixin(_Renderer, render.TransformMixin):
    """Transforms → one class each: a pure static `apply` and a MapFunction wrapper."""

    def _transform_context(self, transform: model.Transform) -> dict[str, Any]:
        # A MapFunction takes one record: a transform with one input and no lookups.
        return {"map_function": len(transform.inputs) == 1 and not transform.lookups}


class StateMixin(_Renderer):
    """Keyed state: the statements of one operator with their `state` (TTL, state_entries), and
    the keyed operators with timers, correlate (one stream or two) and deduplicate."""

    def _concerns(self) -> dict[str, str]:
        return {**super()._concerns(), "steps": "job/segment.j2", "keyed": "job/keyed.j2"}


class WindowMixin(_Renderer):
    """Windows (tumbling, sliding, session) with incremental aggregation, lateness, late-data
    output, window bounds and a counting trigger."""

    def _concerns(self) -> dict[str, str]:
        return {**super()._concerns(), "window": "job/window.j2"}


class EnrichmentMixin(_Renderer):
    """Lookups against stores (async, cached) and joins with a second stream."""

    def _concerns(self) -> dict[str, str]:
        return {**super()._concerns(), "lookup": "job/lookup.j2", "join": "job/join.j2"}


class SinkMixin(_Renderer):
    """Sources and sinks bound through L5: files or memory for local runs, Kafka with the
    official connector; side-output tags; persistence into stores."""

    def _concerns(self) -> dict[str, str]:
        return {**super()._concerns(), "io": "job/io.j2", "kafka": "job/kafka.j2"}


class ErrorMixin(_Renderer):
    """Dead letters: each operator's failures, classified, to one dead-letter sink."""

    def _concerns(self) -> dict[str, str]:
        return {**super()._concerns(), "errors": "job/errors.j2"}


class MetricsMixin(_Renderer):
    """Operator metrics: throughput, latency, errors by class, state_entries."""

    def _concerns(self) -> dict[str, str]:
        return {**super()._concerns(), "metrics": "job/metrics.j2"}


class JobMixin(StateMixin, WindowMixin, EnrichmentMixin, SinkMixin, ErrorMixin, MetricsMixin):
    """Procs → one DataStream job class each (job.java.j2), composed of the macro modules of
    the job concerns above."""

    def render_job(self, job: model.Job, index: model.TypeIndex) -> model.GeneratedFile:
        return self._file(
            job.package,
            self.type_name(job.name, job.package) + "Job",
            "job.java.j2",
            index,
            job=job,
            flink_options=options.job_options(job),
            wiring=operators.wiring,
            step_macro=operators.step_macro,
            window_java=windows.window_java,
            aggregation_java=windows.aggregation_java,
            accumulator_fields=windows.accumulator_fields,
            state_classes=state_classes.state_classes(job),
            keyed_java=keyed.keyed_java,
            join_java=joins.join_java,
            transport_java=streams.transport_java,
            kafka_key=streams.kafka_key,
            persist_key=streams.persist_key,
            on_lookup_error=streams.on_lookup_error,
            on_persist_error=streams.on_persist_error,
            kafka_settings=(
                [] if job.environment is None else kafka.client_settings(job.environment.kafka)
            ),
        )

    def job_class(self, job: model.Job) -> str:
        return f"{job.package}.{self.type_name(job.name, job.package)}Job"

    def start_settings(self, job: model.Job) -> dict[str, str]:
        return options.start_settings(job)


class RuntimeMixin(_Renderer, render.RuntimeMixin):
    """The L0 runtime: the Java-generic part and Flink's, written out with the generated-code
    header in front."""


class FlinkTarget(RecordMixin, RulesMixin, TransformMixin, JobMixin, RuntimeMixin):
    """Renders records as Flink POJOs, rules as plain evaluators and procs as DataStream jobs."""

    name = "flink"

