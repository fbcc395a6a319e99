"""Target types for Nexflow DSL files, one singular + one generator target per layer.

Modelled on Pants' protobuf targets: the singular target owns one DSL file, the generator target
(`nexflow_schemas`, `nexflow_procs`) makes one singular target per file matched by `sources`.
"""

from __future__ import annotations

from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    Dependencies,
    MultipleSourcesField,
    SingleSourceField,
    StringField,
    Target,
    TargetFilesGenerator,
    generate_multiple_sources_field_help_message,
)
from pants.util.strutil import help_text


class NexflowDependenciesField(Dependencies):
    pass


class NexflowJavaPackageField(StringField):
    alias = "java_package"
    help = help_text(
        """
        The Java package of the generated code. Defaults to `nexflow.` followed by the target's
        directory, with `/` turned into `.` (e.g. `nexflow.examples.hello`).
        """
    )


class NexflowSourceField(SingleSourceField):
    """A single Nexflow DSL file; each layer narrows the accepted extension."""


class NexflowSchemaSourceField(NexflowSourceField):
    expected_file_extensions = (".schema",)


class NexflowProcSourceField(NexflowSourceField):
    expected_file_extensions = (".proc",)


class NexflowRuntimeSourcesField(MultipleSourcesField):
    """The L0 runtime has no DSL sources: its Java comes from the generator's own templates."""

    default = ()
    expected_num_files = 0
    help = "The L0 runtime is generated from Nexflow's templates; it takes no source files."


_COMMON_FIELDS = (*COMMON_TARGET_FIELDS, NexflowDependenciesField, NexflowJavaPackageField)


class NexflowSchemaTarget(Target):
    alias = "nexflow_schema"
    core_fields = (*_COMMON_FIELDS, NexflowSchemaSourceField)
    help = "A Nexflow schema file (L2): records, enums and streams, generated as Java types."


class NexflowSchemasSourcesField(MultipleSourcesField):
    default = ("*.schema",)
    expected_file_extensions = (".schema",)
    help = generate_multiple_sources_field_help_message(
        "Example: `sources=['payments.schema', '!legacy_*.schema']`"
    )


class NexflowSchemasGeneratorTarget(TargetFilesGenerator):
    alias = "nexflow_schemas"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowSchemasSourcesField)
    generated_target_cls = NexflowSchemaTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (NexflowDependenciesField, NexflowJavaPackageField)
    help = "Generate a `nexflow_schema` target for each file in the `sources` field."


class NexflowProcTarget(Target):
    alias = "nexflow_proc"
    core_fields = (*_COMMON_FIELDS, NexflowProcSourceField)
    help = "A Nexflow process file (L1): one Flink job per proc, with its operators and sinks."


class NexflowProcsSourcesField(MultipleSourcesField):
    default = ("*.proc",)
    expected_file_extensions = (".proc",)
    help = generate_multiple_sources_field_help_message(
        "Example: `sources=['payment_processor.proc']`"
    )


class NexflowProcsGeneratorTarget(TargetFilesGenerator):
    alias = "nexflow_procs"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowProcsSourcesField)
    generated_target_cls = NexflowProcTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (NexflowDependenciesField, NexflowJavaPackageField)
    help = "Generate a `nexflow_proc` target for each file in the `sources` field."


class NexflowRuntimeTarget(Target):
    alias = "nexflow_runtime"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowDependenciesField, NexflowRuntimeSourcesField)
    help = help_text(
        """
        The L0 runtime: Java base classes and utilities (serde, sinks, error handling) that every
        generated job uses. Declare it once per repository; `[nexflow].runtime` names it.
        """
    )
