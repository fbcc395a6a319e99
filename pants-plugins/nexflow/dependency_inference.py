"""Dependencies every Nexflow target gets without listing them: the L0 runtime and Flink.

Like Pants' protobuf backend injecting protobuf-java, the generated Java needs its runtime
libraries on the classpath; users should not have to spell them out in every BUILD file.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.build_graph.address import Address, AddressInput
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import FieldSet, InferDependenciesRequest, InferredDependencies
from pants.engine.unions import UnionRule
from pants.jvm.dependency_inference.artifact_mapper import (
    AllJvmArtifactTargets,
    UnversionedCoordinate,
    find_jvm_artifacts_or_raise,
)
from pants.jvm.subsystems import JvmSubsystem
from pants.jvm.target_types import JvmResolveField

from nexflow.subsystem import NexflowSubsystem
from nexflow.target_types import NexflowDependenciesField, NexflowRuntimeSourcesField

# What generated code imports directly. Everything else arrives transitively.
_JOB_ARTIFACTS = (
    UnversionedCoordinate(group="org.apache.flink", artifact="flink-streaming-java"),
    UnversionedCoordinate(group="org.apache.flink", artifact="flink-clients"),
    UnversionedCoordinate(group="org.apache.flink", artifact="flink-connector-files"),
    UnversionedCoordinate(group="com.fasterxml.jackson.core", artifact="jackson-databind"),
    UnversionedCoordinate(group="com.fasterxml.jackson.datatype", artifact="jackson-datatype-jsr310"),
)


@dataclass(frozen=True)
class NexflowRuntimeDependenciesFieldSet(FieldSet):
    required_fields = (NexflowDependenciesField, JvmResolveField)

    dependencies: NexflowDependenciesField
    resolve: JvmResolveField


class InferNexflowRuntimeDependencies(InferDependenciesRequest):
    infer_from = NexflowRuntimeDependenciesFieldSet


@rule(desc="Inject the Nexflow runtime and Flink dependencies")
async def infer_nexflow_runtime_dependencies(
    request: InferNexflowRuntimeDependencies,
    nexflow: NexflowSubsystem,
    jvm: JvmSubsystem,
    jvm_artifact_targets: AllJvmArtifactTargets,
) -> InferredDependencies:
    resolve = request.field_set.resolve.normalized_value(jvm)
    addresses = set(
        find_jvm_artifacts_or_raise(
            required_coordinates=_JOB_ARTIFACTS,
            resolve=resolve,
            jvm_artifact_targets=jvm_artifact_targets,
            jvm=jvm,
            subsystem="the Nexflow runtime",
            target_type="nexflow_*",
        )
    )
    runtime = await Get(
        Address,
        AddressInput,
        AddressInput.parse(nexflow.runtime, description_of_origin="the option `[nexflow].runtime`"),
    )
    if runtime != request.field_set.address:
        addresses.add(runtime)
    return InferredDependencies(sorted(addresses))


def rules():
    return [
        *collect_rules(),
        UnionRule(InferDependenciesRequest, InferNexflowRuntimeDependencies),
    ]
