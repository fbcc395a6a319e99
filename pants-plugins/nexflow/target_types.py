"""Target types for Nexflow DSL files: one singular and one generator target per layer.

Modelled on Pants' protobuf targets: the singular target (`nexflow_schema`) owns one DSL file,
the generator target (`nexflow_schemas`) makes one singular target per file its `sources` match.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import ClassVar, Tuple, Type

from pants.core.goals.test import TestTimeoutField
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    Dependencies,
    InvalidFieldException,
    MultipleSourcesField,
    OverridesField,
    SingleSourceField,
    StringField,
    Target,
    TargetFilesGenerator,
    generate_multiple_sources_field_help_message,
)
from pants.jvm.target_types import JvmResolveField
from pants.util.strutil import help_text


class NexflowDependenciesField(Dependencies):
    pass


class NexflowOverridesField(OverridesField):
    help = help_text(
        """
        Override the field values of the targets this generator makes, per file, e.g.
        `overrides={"velocity.proc": {"environment": "production"}}` or
        `overrides={("a.schema", "b.schema"): {"java_package": "com.acme.cards"}}`.
        """
    )


class NexflowJavaPackageField(StringField):
    alias = "java_package"
    help = help_text(
        """
        The Java package of the generated code. Defaults to `nexflow.` followed by the target's
        directory, one component per directory made a Java identifier (`examples/hello` ->
        `nexflow.examples.hello`, `flows/2024` -> `nexflow.flows._2024`).
        """
    )


class NexflowEnvironmentField(StringField):
    alias = "environment"
    help = help_text(
        """
        The L5 environment (an `environment NAME { … }` in a `.infra` file) whose bindings the
        generated job uses by default: topics, brokers, parallelism, checkpoints. Without it the
        job takes every binding from its command line.
        """
    )


class NexflowSourceField(SingleSourceField):
    """A single Nexflow DSL file, of any layer; each singular target checks its layer's extension
    (`NexflowDslTarget.validate`).

    One field class for the five layers, not a subclass per layer, so that one generate-sources
    request serves them all: Pants 2.17's JVM classpath (`ClasspathEntryRequestFactory` in
    pants/jvm/compile.py) accepts a generator target only if its generated target's `core_fields`
    contain a codegen request's `input` field itself, not a subclass of it.
    """

    expected_file_extensions = (".schema", ".transform", ".rules", ".proc", ".infra")


class NexflowDslTarget(Target):
    """A singular Nexflow target: one DSL file of the layer its extension names."""

    layer_extension: ClassVar[str]

    def validate(self) -> None:
        source = self[NexflowSourceField].value
        if source is not None and PurePath(source).suffix != self.layer_extension:
            raise InvalidFieldException(
                f"The {NexflowSourceField.alias!r} field in target {self.address} must be a "
                f"`{self.layer_extension}` file (a `{self.alias}` target), but it is {source!r}."
            )


class NexflowRuntimeSourcesField(MultipleSourcesField):
    """The L0 runtime has no DSL sources: its Java comes from the generator's own templates."""

    default = ()
    expected_num_files = 0
    help = "The L0 runtime is generated from Nexflow's templates; it takes no source files."


_COMMON_FIELDS = (*COMMON_TARGET_FIELDS, NexflowDependenciesField, NexflowJavaPackageField)


# --- L2 schema -------------------------------------------------------------------------------


class NexflowSchemaTarget(NexflowDslTarget):
    alias = "nexflow_schema"
    layer_extension = ".schema"
    core_fields = (*_COMMON_FIELDS, NexflowSourceField)
    help = "A Nexflow schema file (L2): records, enums and streams, generated as Java types."


class NexflowSchemasSourcesField(MultipleSourcesField):
    default = ("*.schema",)
    expected_file_extensions = (".schema",)
    help = generate_multiple_sources_field_help_message(
        "Example: `sources=['payments.schema']`"
    )


class NexflowSchemasGeneratorTarget(TargetFilesGenerator):
    alias = "nexflow_schemas"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowSchemasSourcesField, NexflowOverridesField)
    generated_target_cls = NexflowSchemaTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (NexflowDependenciesField, NexflowJavaPackageField)
    help = "Generate a `nexflow_schema` target for each file in the `sources` field."


# --- L3 transform ----------------------------------------------------------------------------


class NexflowTransformTarget(NexflowDslTarget):
    alias = "nexflow_transform"
    layer_extension = ".transform"
    core_fields = (*_COMMON_FIELDS, NexflowSourceField)
    help = "A Nexflow transform file (L3): typed, pure field mappings generated as Java functions."


class NexflowTransformsSourcesField(MultipleSourcesField):
    default = ("*.transform",)
    expected_file_extensions = (".transform",)
    help = generate_multiple_sources_field_help_message(
        "Example: `sources=['enrich_payment.transform']`"
    )


class NexflowTransformsGeneratorTarget(TargetFilesGenerator):
    alias = "nexflow_transforms"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowTransformsSourcesField, NexflowOverridesField)
    generated_target_cls = NexflowTransformTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (NexflowDependenciesField, NexflowJavaPackageField)
    help = "Generate a `nexflow_transform` target for each file in the `sources` field."


# --- L4 rules --------------------------------------------------------------------------------


class NexflowRulesFileTarget(NexflowDslTarget):
    alias = "nexflow_rules_file"
    layer_extension = ".rules"
    core_fields = (*_COMMON_FIELDS, NexflowSourceField)
    help = "A Nexflow rules file (L4): rule sets and decision tables as plain, testable Java."


class NexflowRulesSourcesField(MultipleSourcesField):
    default = ("*.rules",)
    expected_file_extensions = (".rules",)
    help = generate_multiple_sources_field_help_message(
        "Example: `sources=['payment_validation.rules']`"
    )


class NexflowRulesGeneratorTarget(TargetFilesGenerator):
    alias = "nexflow_rules"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowRulesSourcesField, NexflowOverridesField)
    generated_target_cls = NexflowRulesFileTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (NexflowDependenciesField, NexflowJavaPackageField)
    help = "Generate a `nexflow_rules_file` target for each file in the `sources` field."


# --- L1 proc ---------------------------------------------------------------------------------


class NexflowProcTarget(NexflowDslTarget):
    alias = "nexflow_proc"
    layer_extension = ".proc"
    core_fields = (*_COMMON_FIELDS, NexflowSourceField, NexflowEnvironmentField)
    help = "A Nexflow process file (L1): one Flink job per proc, with its operators and sinks."


class NexflowProcsSourcesField(MultipleSourcesField):
    default = ("*.proc",)
    expected_file_extensions = (".proc",)
    help = generate_multiple_sources_field_help_message(
        "Example: `sources=['payment_processor.proc']`"
    )


class NexflowProcsGeneratorTarget(TargetFilesGenerator):
    alias = "nexflow_procs"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowProcsSourcesField, NexflowOverridesField)
    generated_target_cls = NexflowProcTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (NexflowDependenciesField, NexflowJavaPackageField, NexflowEnvironmentField)
    help = "Generate a `nexflow_proc` target for each file in the `sources` field."


# --- L5 infra --------------------------------------------------------------------------------


class NexflowInfraFileTarget(NexflowDslTarget):
    alias = "nexflow_infra_file"
    layer_extension = ".infra"
    core_fields = (*_COMMON_FIELDS, NexflowSourceField)
    help = "A Nexflow infra file (L5): per-environment bindings of streams, stores and secrets."


class NexflowInfraSourcesField(MultipleSourcesField):
    default = ("*.infra",)
    expected_file_extensions = (".infra",)
    help = generate_multiple_sources_field_help_message(
        "Example: `sources=['production.infra']`"
    )


class NexflowInfraGeneratorTarget(TargetFilesGenerator):
    alias = "nexflow_infra"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowInfraSourcesField, NexflowOverridesField)
    generated_target_cls = NexflowInfraFileTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (NexflowDependenciesField, NexflowJavaPackageField)
    help = "Generate a `nexflow_infra_file` target for each file in the `sources` field."


# --- L0 runtime ------------------------------------------------------------------------------


class NexflowRuntimeTarget(Target):
    alias = "nexflow_runtime"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowDependenciesField, NexflowRuntimeSourcesField)
    help = help_text(
        """
        The L0 runtime: Java base classes and utilities (serde, sinks, error handling) that every
        generated job uses. Declare it once per repository; `[nexflow].runtime` names it.
        """
    )


# --- tests (.nxtest) ----------------------------------------------------------------------------


class NexflowTestDependenciesField(Dependencies):
    """A test's own dependencies field: the runtime and Flink artifacts that every DSL target gets
    injected (dependency_inference.py) are no inputs of a test, which generates its own Java."""

    help = help_text(
        """
        Addresses of the Nexflow targets whose tables, rulesets, transforms and procs the test
        file tests. Inferred from the names after `for table`, `for rules`, `for transform` and
        `for proc` (and their own dependencies follow); list a target here to settle a name
        several declare.
        """
    )


class NexflowTestSourceField(SingleSourceField):
    expected_file_extensions = (".nxtest",)


class NexflowTestTimeoutField(TestTimeoutField):
    pass


class NexflowTestTarget(Target):
    alias = "nexflow_test"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        NexflowTestSourceField,
        NexflowTestDependenciesField,
        NexflowTestTimeoutField,
        JvmResolveField,
    )
    help = help_text(
        """
        A Nexflow test file (`.nxtest`): cases for decision tables, rulesets and transforms,
        run by `pants test` against the generated Java (`nexflow test`), in one javac and one
        JVM per file. The JVM resolve (`resolve`) supplies Flink and Jackson.
        """
    )


class NexflowTestsSourcesField(MultipleSourcesField):
    default = ("*.nxtest",)
    expected_file_extensions = (".nxtest",)
    help = generate_multiple_sources_field_help_message(
        "Example: `sources=['fraud_decision.nxtest']`"
    )


class NexflowTestsGeneratorTarget(TargetFilesGenerator):
    alias = "nexflow_tests"
    core_fields = (*COMMON_TARGET_FIELDS, NexflowTestsSourcesField, NexflowOverridesField)
    generated_target_cls = NexflowTestTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (NexflowTestDependenciesField, NexflowTestTimeoutField, JvmResolveField)
    help = "Generate a `nexflow_test` target for each file in the `sources` field."


# Every generator target, with the file extension `tailor` creates it for.
GENERATOR_TARGETS: Tuple[Tuple[str, Type[TargetFilesGenerator]], ...] = (
    (".schema", NexflowSchemasGeneratorTarget),
    (".transform", NexflowTransformsGeneratorTarget),
    (".rules", NexflowRulesGeneratorTarget),
    (".proc", NexflowProcsGeneratorTarget),
    (".infra", NexflowInfraGeneratorTarget),
    (".nxtest", NexflowTestsGeneratorTarget),
)

ALL_TARGET_TYPES: Tuple[Type[Target], ...] = (
    NexflowSchemaTarget,
    NexflowSchemasGeneratorTarget,
    NexflowTransformTarget,
    NexflowTransformsGeneratorTarget,
    NexflowRulesFileTarget,
    NexflowRulesGeneratorTarget,
    NexflowProcTarget,
    NexflowProcsGeneratorTarget,
    NexflowInfraFileTarget,
    NexflowInfraGeneratorTarget,
    NexflowRuntimeTarget,
)

# Not DSL targets: no codegen, no JVM fields of their own to register.
TEST_TARGET_TYPES: Tuple[Type[Target], ...] = (NexflowTestTarget, NexflowTestsGeneratorTarget)
