"""Java-generic rendering: records and their contracts, enums, rulesets, decision tables and
transforms as plain Java, through the jinja2 templates of this package (templates/), and the
framework-free part of the L0 runtime (runtime/, package nexflow.runtime).

A target that writes Java (Flink first; Kafka Streams or Beam would be others) subclasses
`JavaRenderer` with its own templates, searched before these: a target template of the same
name extends the generic one (`{% extends "java/record.java.j2" %}`) and fills its blocks
(framework imports, field annotations, nested adapter classes), and the target's job templates
use the expression macros of `macros.j2`. The target names itself in the generated text
(`platform`, `platform_title`) and may extend the `Spelling`. Nothing here knows a framework.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from nexflow_core import __version__
from nexflow_core.generate import model
from nexflow_core.generate.java import contracts, naming, rules, tables

RUNTIME_PACKAGE = "nexflow.runtime"


def java_path(package: str, class_name: str) -> str:
    return "/".join([*package.split("."), f"{class_name}.java"])


class JavaRenderer:
    """What every renderer of a Java target shares: one jinja2 environment over the target's
    templates and the Java-generic ones, and a render call. Subclasses say which target."""

    # How the generated files name the target ("Flink": "no Flink types"; the header's
    # "Apache Flink 2.2.0").
    platform = ""
    platform_title = ""

    def __init__(self) -> None:
        self.naming = self._naming()
        self._env = self._environment()

    # The target's hooks.

    def _template_dirs(self) -> list[Path]:
        """The target's own template directories, searched before the Java-generic ones."""
        return []

    def _runtime_dirs(self) -> list[Path]:
        """The target's own runtime sources, written with the Java-generic ones."""
        return []

    def _naming(self) -> naming.Naming:
        """The naming rule with every simple name the target's files use reserved (read once,
        when the renderer is made)."""
        return naming.Naming(
            naming.reserved_types(
                (naming.TEMPLATES, *self._template_dirs()),
                (naming.RUNTIME_SOURCES, *self._runtime_dirs()),
            )
        )

    def _spelling(self, index: model.TypeIndex) -> naming.Spelling:
        return naming.Spelling(index, self.naming)

    def _filters(self) -> dict[str, Any]:
        return {}

    def _globals(self) -> dict[str, Any]:
        return {}

    def _concerns(self) -> dict[str, str]:
        """Job concern role → the macro module that writes it; each concern mixin of a target
        adds its own (cooperatively, through super())."""
        return {}

    # Shared machinery.

    def _environment(self) -> jinja2.Environment:
        generic = jinja2.FileSystemLoader(str(naming.TEMPLATES))
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    *(jinja2.FileSystemLoader(str(d)) for d in self._template_dirs()),
                    generic,
                    # The generic template a target template of the same name extends.
                    jinja2.PrefixLoader({"java": generic}),
                ]
            ),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        env.filters.update(
            identifier=naming.identifier,
            type_name=self.naming.type_name,
            string_literal=naming.string_literal,
            comment=naming.comment_text,
            node_kind=lambda node: type(node).__name__,
            **self._filters(),
        )
        env.globals.update(
            runtime_package=RUNTIME_PACKAGE,
            nexflow_version=__version__,
            platform=self.platform,
            platform_title=self.platform_title,
            constraint_java=contracts.constraint_java,
            field_java=contracts.field_java,
            record_java=contracts.record_java,
            hit_policy_java=tables.hit_policy_java,
            ruleset_mode_java=rules.ruleset_mode_java,
            **self._globals(),
        )
        return env

    def type_name(self, name: str, package: str = "") -> str:
        return self.naming.type_name(name, package)

    def _render(self, template: str, index: model.TypeIndex, **context: Any) -> str:
        return self._env.get_template(template).render(
            sp=self._spelling(index), concerns=self._concerns(), **context
        )

    def _file(
        self, package: str, class_name: str, template: str, index: model.TypeIndex, **context: Any
    ) -> model.GeneratedFile:
        return model.GeneratedFile(
            path=java_path(package, class_name),
            content=self._render(template, index, class_name=class_name, **context),
        )


class RecordMixin(JavaRenderer):
    """Schemas → value classes plus a contract class (validation, normalization, masking,
    correlation id); enums → Java enums."""

    def render_enum(self, enum: model.Enum, index: model.TypeIndex) -> model.GeneratedFile:
        return self._file(
            enum.package, self.type_name(enum.name, enum.package), "enum.java.j2", index, enum=enum
        )

    def render_record(
        self, record: model.Record, index: model.TypeIndex
    ) -> list[model.GeneratedFile]:
        name = self.type_name(record.name, record.package)
        return [
            self._file(record.package, name, "record.java.j2", index, record=record),
            model.GeneratedFile(
                path=java_path(record.package, name + "Contract"),
                content=self._render("contract.java.j2", index, class_name=name, record=record),
            ),
        ]


class RulesMixin(JavaRenderer):
    """Rulesets and decision tables → plain Java evaluators (no framework types)."""

    def render_ruleset(self, ruleset: model.Ruleset, index: model.TypeIndex) -> model.GeneratedFile:
        return self._file(
            ruleset.package,
            self.type_name(ruleset.name, ruleset.package),
            "ruleset.java.j2",
            index,
            ruleset=ruleset,
        )

    def render_table(
        self, table: model.DecisionTable, index: model.TypeIndex
    ) -> model.GeneratedFile:
        return self._file(
            table.package,
            self.type_name(table.name, table.package),
            "table.java.j2",
            index,
            table=table,
        )


class TransformMixin(JavaRenderer):
    """Transforms → one class each with a pure static `apply` (a target may add a wrapper)."""

    def render_transform(
        self, transform: model.Transform, index: model.TypeIndex
    ) -> model.GeneratedFile:
        return self._file(
            transform.package,
            self.type_name(transform.name, transform.package),
            "transform.java.j2",
            index,
            transform=transform,
            **self._transform_context(transform),
        )

    def _transform_context(self, transform: model.Transform) -> dict[str, Any]:
        """What the target's transform template needs besides the transform (its decisions)."""
        return {}


class RuntimeMixin(JavaRenderer):
    """The L0 runtime: plain Java files (package nexflow.runtime), the Java-generic ones and
    the target's, written out with the generated-code header in front."""

    def render_runtime(self) -> list[model.GeneratedFile]:
        header = self._env.from_string(
            '{% import "macros.j2" as m %}{{ m.header("the Nexflow L0 runtime") }}\n'
        ).render()
        sources = [
            source
            for directory in (naming.RUNTIME_SOURCES, *self._runtime_dirs())
            for source in directory.glob("*.java")
        ]
        return [
            model.GeneratedFile(
                path=java_path(RUNTIME_PACKAGE, source.name[: -len(".java")]),
                content=header + source.read_text("utf-8"),
            )
            for source in sorted(sources, key=lambda s: s.name)
        ]

