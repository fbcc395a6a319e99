"""The Flink adapter: model values in, Java files out, through jinja2 templates only.

`FlinkTarget` is composed of small mixins, one per concern: records, rules, transforms, the L0
runtime, and jobs, which are themselves composed of the concerns of a running job (state,
windows, enrichment, sources and sinks, errors, metrics). Each mixin owns its templates and the
render methods the `Target` port needs; a job concern contributes the jinja2 macro module that
writes its part of a job, under a role name the job templates import it by
(`{% import concerns.keyed as keyed %}`). A concern can be read, tested and replaced on its own
(a subclass maps its role to another module), and a second target reuses the core unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from nexflow_core import __version__
from nexflow_core.generate import model
from nexflow_core.generate.flink import java, options
from nexflow_core.versions import FLINK_VERSION

RUNTIME_PACKAGE = "nexflow.runtime"
_TEMPLATES = Path(__file__).parent / "templates"
# The L0 runtime: plain Java, compiled into every job.
RUNTIME_SOURCES = Path(__file__).parent / "runtime"


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


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(
        identifier=java.identifier,
        type_name=java.type_name,
        string_literal=java.string_literal,
        comment=java.comment_text,
        node_kind=lambda node: type(node).__name__,
        needs_type_info=java.needs_type_info,
        rolling_runs=_rolling_runs,
    )
    env.globals.update(
        runtime_package=RUNTIME_PACKAGE,
        flink_version=FLINK_VERSION,
        nexflow_version=__version__,
        checkpoint_interval_option=options.CHECKPOINT_INTERVAL,
    )
    return env


def java_path(package: str, class_name: str) -> str:
    return "/".join([*package.split("."), f"{class_name}.java"])


class _Renderer:
    """What every mixin shares: one jinja2 environment and a render call."""

    def __init__(self) -> None:
        self._env = _environment()

    def _concerns(self) -> dict[str, str]:
        """Job concern role → the macro module that writes it; each concern mixin adds its
        own (cooperatively, through super())."""
        return {}

    def _render(self, template: str, index: model.TypeIndex, **context: Any) -> str:
        return self._env.get_template(template).render(
            sp=java.Spelling(index), concerns=self._concerns(), **context
        )

    def _file(
        self, package: str, class_name: str, template: str, index: model.TypeIndex, **context: Any
    ) -> model.GeneratedFile:
        return model.GeneratedFile(
            path=java_path(package, class_name),
            content=self._render(template, index, class_name=class_name, **context),
        )


class RecordMixin(_Renderer):
    """Schemas → POJOs with @TypeInfo where Flink needs it, plus a contract class (validation,
    normalization, masking, correlation id); enums → Java enums."""

    def render_enum(self, enum: model.Enum, index: model.TypeIndex) -> model.GeneratedFile:
        return self._file(
            enum.package, java.type_name(enum.name, enum.package), "enum.java.j2", index, enum=enum
        )

    def render_record(
        self, record: model.Record, index: model.TypeIndex
    ) -> list[model.GeneratedFile]:
        name = java.type_name(record.name, record.package)
        return [
            self._file(record.package, name, "record.java.j2", index, record=record),
            model.GeneratedFile(
                path=java_path(record.package, name + "Contract"),
                content=self._render("contract.java.j2", index, class_name=name, record=record),
            ),
        ]


class RulesMixin(_Renderer):
    """Rulesets and decision tables → plain Java evaluators (no Flink types)."""

    def render_ruleset(self, ruleset: model.Ruleset, index: model.TypeIndex) -> model.GeneratedFile:
        return self._file(
            ruleset.package,
            java.type_name(ruleset.name, ruleset.package),
            "ruleset.java.j2",
            index,
            ruleset=ruleset,
        )

    def render_table(
        self, table: model.DecisionTable, index: model.TypeIndex
    ) -> model.GeneratedFile:
        return self._file(
            table.package,
            java.type_name(table.name, table.package),
            "table.java.j2",
            index,
            table=table,
        )


class TransformMixin(_Renderer):
    """Transforms → one class each: a pure static `apply` and a MapFunction wrapper."""

    def render_transform(
        self, transform: model.Transform, index: model.TypeIndex
    ) -> model.GeneratedFile:
        return self._file(
            transform.package,
            java.type_name(transform.name, transform.package),
            "transform.java.j2",
            index,
            transform=transform,
        )


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
            java.type_name(job.name, job.package) + "Job",
            "job.java.j2",
            index,
            job=job,
            flink_options=options.job_options(job),
        )

    def job_class(self, job: model.Job) -> str:
        return f"{job.package}.{java.type_name(job.name, job.package)}Job"

    def start_settings(self, job: model.Job) -> dict[str, str]:
        return options.start_settings(job)

    def execution_arguments(self, execution: model.Execution) -> list[str]:
        return options.arguments(execution)


class RuntimeMixin(_Renderer):
    """The L0 runtime: plain Java files under runtime/ (package nexflow.runtime), written out
    with the generated-code header in front."""

    def render_runtime(self) -> list[model.GeneratedFile]:
        header = self._env.from_string(
            '{% import "macros.j2" as m %}{{ m.header("the Nexflow L0 runtime") }}\n'
        ).render()
        return [
            model.GeneratedFile(
                path=java_path(RUNTIME_PACKAGE, source.name[: -len(".java")]),
                content=header + source.read_text("utf-8"),
            )
            for source in sorted(RUNTIME_SOURCES.glob("*.java"))
        ]


class FlinkTarget(RecordMixin, RulesMixin, TransformMixin, JobMixin, RuntimeMixin):
    """Renders records as Flink POJOs, rules as plain evaluators and procs as DataStream jobs."""

    name = "flink"


def template_names() -> dict[str, str]:
    """Every template, for tests that check all of them render deterministically."""
    return {p.name: str(p) for p in sorted(_TEMPLATES.rglob("*.j2"))}
