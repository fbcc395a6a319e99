"""The output port of the generator: what every target adapter (Flink first) provides.

The core hands a target only render-model values (model.py); a new target (say Kafka Streams)
implements this protocol in its own package and registers in `TARGETS`, without touching the core.
"""

from __future__ import annotations

from typing import List, Protocol

from nexflow_core.generate import model


class Target(Protocol):
    name: str

    def render_record(self, record: model.Record) -> model.GeneratedFile:
        """One schema as a value class."""

    def render_job(self, job: model.Job) -> model.GeneratedFile:
        """One proc as a runnable job."""

    def render_runtime(self) -> List[model.GeneratedFile]:
        """The L0 runtime every generated job of this target uses."""
