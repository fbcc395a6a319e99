"""Codegen: each Nexflow target becomes Java through one sandboxed run of the Nexflow compiler.

The process's inputs are exactly the target's own DSL file, the DSL files of the Nexflow targets
it depends on, and the compiler (a venv PEX built from `[nexflow].generator`). Pants caches the
process on disk and remotely, so an unchanged target never runs the compiler again.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.backend.java.target_types import JavaSourceField
from pants.backend.python.target_types import EntryPoint
from pants.backend.python.util_rules.pex import PexRequest, VenvPex, VenvPexProcess
from pants.backend.python.util_rules.pex_from_targets import PexFromTargetsRequest
from pants.build_graph.address import Address, AddressInput
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.engine.fs import AddPrefix, Digest, MergeDigests, RemovePrefix, Snapshot
from pants.engine.process import ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    GeneratedSources,
    GenerateSourcesRequest,
    Target,
    TransitiveTargets,
    TransitiveTargetsRequest,
)
from pants.engine.unions import UnionRule
from pants.source.source_root import SourceRoot, SourceRootRequest
from pants.util.logging import LogLevel

from nexflow.subsystem import NexflowSubsystem
from nexflow.target_types import (
    NexflowJavaPackageField,
    NexflowProcSourceField,
    NexflowRuntimeSourcesField,
    NexflowSchemaSourceField,
    NexflowSourceField,
)

_OUTPUT_DIR = "_nexflow_java"


class GenerateJavaFromNexflowSchemaRequest(GenerateSourcesRequest):
    input = NexflowSchemaSourceField
    output = JavaSourceField


class GenerateJavaFromNexflowProcRequest(GenerateSourcesRequest):
    input = NexflowProcSourceField
    output = JavaSourceField


class GenerateNexflowRuntimeRequest(GenerateSourcesRequest):
    input = NexflowRuntimeSourcesField
    output = JavaSourceField


@dataclass(frozen=True)
class NexflowGenerator:
    """The Nexflow compiler, ready to run in a sandbox."""

    pex: VenvPex


@rule(desc="Build the Nexflow compiler", level=LogLevel.DEBUG)
async def build_nexflow_generator(nexflow: NexflowSubsystem) -> NexflowGenerator:
    address = await Get(
        Address,
        AddressInput,
        AddressInput.parse(nexflow.generator, description_of_origin="the option `[nexflow].generator`"),
    )
    pex_request = await Get(
        PexRequest,
        PexFromTargetsRequest(
            [address],
            output_filename="nexflow-generator.pex",
            internal_only=True,
            main=EntryPoint("nexflow_core.cli", "main"),
        ),
    )
    return NexflowGenerator(await Get(VenvPex, PexRequest, pex_request))


def java_package_for(target: Target) -> str:
    explicit = target.get(NexflowJavaPackageField).value
    if explicit:
        return explicit
    parts = [p.replace("-", "_").replace(".", "_") for p in target.address.spec_path.split("/") if p]
    return ".".join(["nexflow", *parts])


async def _restore_source_root(output_digest: Digest, target: Target) -> GeneratedSources:
    stripped, source_root = await MultiGet(
        Get(Digest, RemovePrefix(output_digest, _OUTPUT_DIR)),
        Get(SourceRoot, SourceRootRequest, SourceRootRequest.for_target(target)),
    )
    if source_root.path == ".":
        return GeneratedSources(await Get(Snapshot, Digest, stripped))
    return GeneratedSources(await Get(Snapshot, AddPrefix(stripped, source_root.path)))


@dataclass(frozen=True)
class NexflowCodegenRequest:
    target: Target
    source_field: NexflowSourceField


@rule(desc="Generate Java from Nexflow DSL", level=LogLevel.DEBUG)
async def generate_java_from_nexflow(
    request: NexflowCodegenRequest, generator: NexflowGenerator
) -> GeneratedSources:
    target = request.target
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([target.address]))
    upstream_targets = [
        tgt
        for tgt in transitive.dependencies
        if tgt.has_field(NexflowSourceField) and tgt.address != target.address
    ]
    own_sources, *upstream_sources = await MultiGet(
        Get(SourceFiles, SourceFilesRequest([request.source_field])),
        *(Get(SourceFiles, SourceFilesRequest([tgt[NexflowSourceField]])) for tgt in upstream_targets),
    )
    input_digest = await Get(
        Digest,
        MergeDigests([own_sources.snapshot.digest, *(s.snapshot.digest for s in upstream_sources)]),
    )
    argv = [
        "generate",
        "--java-package",
        java_package_for(target),
        "--output-dir",
        _OUTPUT_DIR,
    ]
    for tgt, sources in sorted(zip(upstream_targets, upstream_sources), key=lambda p: p[0].address):
        for path in sources.snapshot.files:
            argv.extend(["--upstream", f"{path}={java_package_for(tgt)}"])
    argv.extend(own_sources.snapshot.files)

    result = await Get(
        ProcessResult,
        VenvPexProcess(
            generator.pex,
            argv=argv,
            input_digest=input_digest,
            output_directories=(_OUTPUT_DIR,),
            description=f"Generating Java from {target.address}",
            level=LogLevel.DEBUG,
        ),
    )
    return await _restore_source_root(result.output_digest, target)


@rule(desc="Generate the Nexflow L0 runtime", level=LogLevel.DEBUG)
async def generate_nexflow_runtime(
    request: GenerateNexflowRuntimeRequest, generator: NexflowGenerator
) -> GeneratedSources:
    result = await Get(
        ProcessResult,
        VenvPexProcess(
            generator.pex,
            argv=["generate-runtime", "--output-dir", _OUTPUT_DIR],
            output_directories=(_OUTPUT_DIR,),
            description=f"Generating the Nexflow L0 runtime for {request.protocol_target.address}",
            level=LogLevel.DEBUG,
        ),
    )
    return await _restore_source_root(result.output_digest, request.protocol_target)


@rule
async def generate_java_from_nexflow_schema(
    request: GenerateJavaFromNexflowSchemaRequest,
) -> GeneratedSources:
    target = request.protocol_target
    return await Get(
        GeneratedSources, NexflowCodegenRequest(target, target[NexflowSchemaSourceField])
    )


@rule
async def generate_java_from_nexflow_proc(
    request: GenerateJavaFromNexflowProcRequest,
) -> GeneratedSources:
    target = request.protocol_target
    return await Get(GeneratedSources, NexflowCodegenRequest(target, target[NexflowProcSourceField]))


def rules():
    return [
        *collect_rules(),
        UnionRule(GenerateSourcesRequest, GenerateJavaFromNexflowSchemaRequest),
        UnionRule(GenerateSourcesRequest, GenerateJavaFromNexflowProcRequest),
        UnionRule(GenerateSourcesRequest, GenerateNexflowRuntimeRequest),
    ]
