"""The Flink adapter: model values in, Java files out, through jinja2 templates only."""

from __future__ import annotations

from pathlib import Path
from typing import List

import jinja2

from nexflow_core import __version__
from nexflow_core.generate import model
from nexflow_core.generate.flink import java

FLINK_VERSION = "2.2.1"
RUNTIME_PACKAGE = "nexflow.runtime"
_TEMPLATES = Path(__file__).parent / "templates"


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
        string_literal=java.string_literal,
        comment=java.comment_text,
        java_type=java.java_type,
        literal=java.literal,
    )
    env.tests.update(
        field_ref=lambda e: isinstance(e, model.FieldRef),
        literal=lambda e: isinstance(e, model.Literal),
        compare=lambda e: isinstance(e, model.Compare),
        logical=lambda e: isinstance(e, model.Logical),
        negation=lambda e: isinstance(e, model.Not),
        source=lambda o: isinstance(o, model.Source),
        filter=lambda o: isinstance(o, model.Filter),
        sink=lambda o: isinstance(o, model.Sink),
    )
    env.globals.update(
        runtime_package=RUNTIME_PACKAGE, flink_version=FLINK_VERSION, nexflow_version=__version__
    )
    return env


def _java_path(package: str, class_name: str) -> str:
    return "/".join([*package.split("."), f"{class_name}.java"])


class FlinkTarget:
    """Renders records as Flink POJOs and procs as DataStream jobs."""

    name = "flink"

    def __init__(self) -> None:
        self._env = _environment()

    def _render(self, template: str, **context: object) -> str:
        return self._env.get_template(template).render(**context)

    def render_record(self, record: model.Record) -> model.GeneratedFile:
        class_name = java.identifier(record.name)
        return model.GeneratedFile(
            path=_java_path(record.package, class_name),
            content=self._render("record.java.j2", record=record, class_name=class_name),
        )

    def render_job(self, job: model.Job) -> model.GeneratedFile:
        class_name = java.identifier(job.name) + "Job"
        return model.GeneratedFile(
            path=_java_path(job.package, class_name),
            content=self._render("job.java.j2", job=job, class_name=class_name),
        )

    def render_runtime(self) -> List[model.GeneratedFile]:
        files = []
        for template in sorted((_TEMPLATES / "runtime").glob("*.java.j2")):
            class_name = template.name[: -len(".java.j2")]
            files.append(
                model.GeneratedFile(
                    path=_java_path(RUNTIME_PACKAGE, class_name),
                    content=self._render(f"runtime/{template.name}"),
                )
            )
        return files
