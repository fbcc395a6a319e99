"""The output port of the generator: what every target adapter (Flink first) provides.

The core hands a target only render-model values (model.py); a new target (say Kafka Streams)
implements this protocol in its own package and registers in `TARGETS`, without touching the core.
A target that writes Java builds on generate/java/ (records, enums, rules, tables, transforms,
the expression writer and the framework-free runtime) and adds its own job adapter.
"""

from __future__ import annotations

from typing import Protocol

from nexflow_core.generate import model


class Target(Protocol):
    name: str

    def render_enum(self, enum: model.Enum, index: model.TypeIndex) -> model.GeneratedFile:
        """One enum as an enumerated type."""

    def render_record(
        self, record: model.Record, index: model.TypeIndex
    ) -> list[model.GeneratedFile]:
        """One schema as a value class (plus whatever validates it)."""

    def render_ruleset(self, ruleset: model.Ruleset, index: model.TypeIndex) -> model.GeneratedFile:
        """One ruleset as a plain evaluator."""

    def render_table(
        self, table: model.DecisionTable, index: model.TypeIndex
    ) -> model.GeneratedFile:
        """One decision table as a plain evaluator."""

    def render_transform(
        self, transform: model.Transform, index: model.TypeIndex
    ) -> model.GeneratedFile:
        """One transform as a pure function."""

    def render_job(self, job: model.Job, index: model.TypeIndex) -> model.GeneratedFile:
        """One proc as a runnable job."""

    def job_class(self, job: model.Job) -> str:
        """The fully qualified name of the class `render_job` writes (what runs the job)."""

    def start_settings(self, job: model.Job) -> dict[str, str]:
        """The settings the job starts from (the proc's, then its environment's), keyed as its
        program arguments take them: what a local run's plan hands the job, and the program
        arguments `nexflow build` writes for its environment."""

    def render_runtime(self) -> list[model.GeneratedFile]:
        """The L0 runtime every generated file of this target uses."""
