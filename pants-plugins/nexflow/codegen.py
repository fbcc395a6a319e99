"""Compiling Nexflow targets: interface files and generated Java, each from one sandboxed process.

For every Nexflow target two cached processes run the compiler (a venv PEX of
`[nexflow].generator`) over exactly the target's own DSL file and the interface files of the
Nexflow targets it depends on:

- the interface process checks the file and writes its interface file (what downstream units
  may use: names, types, signatures);
- the generate process checks it and writes its Java (and, for a proc bound to an
  environment, its jobs' state descriptions: the baseline a job jar carries, package.py).

With `[nexflow].baseline` set, `pants check` also runs a compat process per unit (the upgrade
gate, docs/upgrades.md): the unit against the baseline's files it concerns.

Downstream units read only interface files, so an edit that leaves a unit's interface bytes
unchanged (a rule threshold, a filter) re-runs that unit's processes and nothing downstream.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Tuple

from pants.backend.java.target_types import JavaSourceField
from pants.backend.python.target_types import EntryPoint
from pants.backend.python.util_rules.pex import PexRequest, VenvPex, VenvPexProcess
from pants.backend.python.util_rules.pex_from_targets import PexFromTargetsRequest
from pants.build_graph.address import Address, AddressInput
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    Digest,
    DigestSubset,
    MergeDigests,
    PathGlobs,
    RemovePrefix,
    Snapshot,
)
from pants.engine.process import FallibleProcessResult, Process, ProcessResult
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.target import (
    GeneratedSources,
    GenerateSourcesRequest,
    Target,
    TransitiveTargets,
    TransitiveTargetsRequest,
    WrappedTarget,
    WrappedTargetRequest,
)
from pants.engine.unions import UnionRule
from pants.source.source_root import SourceRoot, SourceRootRequest
from pants.util.logging import LogLevel

from nexflow.subsystem import NexflowSubsystem
from nexflow.target_types import (
    NexflowEnvironmentField,
    NexflowJavaPackageField,
    NexflowRuntimeSourcesField,
    NexflowSourceField,
)

_JAVA_DIR = "_nexflow_java"
_INTERFACES_DIR = "__interfaces"
_STATES_DIR = "__states"


# --- the compiler ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NexflowGenerator:
    """The Nexflow compiler, ready to run in a sandbox."""

    pex: VenvPex


@rule(desc="Build the Nexflow compiler", level=LogLevel.DEBUG)
async def build_nexflow_generator(nexflow: NexflowSubsystem) -> NexflowGenerator:
    address = await Get(
        Address,
        AddressInput,
        AddressInput.parse(
            nexflow.generator, description_of_origin="the option `[nexflow].generator`"
        ),
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


# How long a Nexflow process waits for a remote cache lookup before it also starts locally. With
# Pants' default for non-JVM processes (0), every process starts the compiler locally while the
# lookup is in flight, and a quick local run can pre-empt a remote hit; Pants' JVM processes wait
# 1000 ms ([jvm].nailgun_remote_cache_speculation_delay) and so do these. A miss answers at once,
# so builds without a remote cache, or with a fast one, lose nothing.
REMOTE_CACHE_SPECULATION_DELAY_MS = 1000


def speculate_late(process: Process) -> Process:
    return dataclasses.replace(
        process, remote_cache_speculation_delay_millis=REMOTE_CACHE_SPECULATION_DELAY_MS
    )


def java_package_argv(target: Target) -> Tuple[str, ...]:
    """How the compiler learns the unit's Java package: the target's `java_package`, or its
    directory, from which the compiler derives it (the one package rule is the compiler's)."""
    explicit = target.get(NexflowJavaPackageField).value
    if explicit:
        return ("--java-package", explicit)
    return ("--package-directory", target.address.spec_path or ".")


# --- one unit's inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class NexflowUnitRequest:
    address: Address


@dataclass(frozen=True)
class NexflowUpstreamRequest:
    address: Address


@dataclass(frozen=True)
class NexflowInterface:
    """A unit's interface file, at a path unique to the unit, and the unit's Java package."""

    path: str
    digest: Digest


@dataclass(frozen=True)
class NexflowUpstream:
    """The interface files of every Nexflow unit a target depends on, transitively."""

    digest: Digest
    argv: Tuple[str, ...]


@dataclass(frozen=True)
class NexflowUnit:
    """A Nexflow target's own DSL file and the interfaces of its upstream units."""

    target: Target
    source_path: str
    input_digest: Digest
    upstream_argv: Tuple[str, ...]


@rule
async def nexflow_upstream(request: NexflowUpstreamRequest) -> NexflowUpstream:
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.address]))
    upstream = [
        tgt
        for tgt in transitive.dependencies
        if tgt.has_field(NexflowSourceField) and tgt.address != request.address
    ]
    interfaces = await MultiGet(
        Get(NexflowInterface, NexflowUnitRequest(tgt.address)) for tgt in upstream
    )
    digest = await Get(Digest, MergeDigests(i.digest for i in interfaces))
    argv = []
    for interface in sorted(interfaces, key=lambda i: i.path):
        argv.extend(["--interface", interface.path])
    return NexflowUpstream(digest, tuple(argv))


@rule
async def nexflow_unit(request: NexflowUnitRequest) -> NexflowUnit:
    wrapped = await Get(
        WrappedTarget,
        WrappedTargetRequest(request.address, description_of_origin="the Nexflow backend"),
    )
    target = wrapped.target
    sources, upstream = await MultiGet(
        Get(SourceFiles, SourceFilesRequest([target[NexflowSourceField]])),
        Get(NexflowUpstream, NexflowUpstreamRequest(request.address)),
    )
    input_digest = await Get(Digest, MergeDigests([sources.snapshot.digest, upstream.digest]))
    (source_path,) = sources.snapshot.files
    return NexflowUnit(target, source_path, input_digest, upstream.argv)


def interface_path(source_path: str) -> str:
    return f"{_INTERFACES_DIR}/{source_path}.nxi"


def interface_process(unit: NexflowUnit, generator: NexflowGenerator) -> VenvPexProcess:
    return VenvPexProcess(
        generator.pex,
        argv=[
            "compile",
            unit.source_path,
            *java_package_argv(unit.target),
            "--interface-out",
            interface_path(unit.source_path),
            *unit.upstream_argv,
        ],
        input_digest=unit.input_digest,
        output_files=(interface_path(unit.source_path),),
        description=f"Checking {unit.target.address} (Nexflow)",
        level=LogLevel.DEBUG,
    )


@rule(desc="Check a Nexflow unit and write its interface file", level=LogLevel.DEBUG)
async def nexflow_interface(
    request: NexflowUnitRequest, generator: NexflowGenerator
) -> NexflowInterface:
    unit = await Get(NexflowUnit, NexflowUnitRequest, request)
    process = await Get(Process, VenvPexProcess, interface_process(unit, generator))
    result = await Get(ProcessResult, Process, speculate_late(process))
    return NexflowInterface(interface_path(unit.source_path), result.output_digest)


@dataclass(frozen=True)
class NexflowCheckOutcome:
    """How checking one unit went: for `pants check`, which reports rather than fails."""

    address: Address
    result: FallibleProcessResult


@rule(desc="Check a Nexflow unit", level=LogLevel.DEBUG)
async def check_nexflow_unit(
    request: NexflowUnitRequest, generator: NexflowGenerator
) -> NexflowCheckOutcome:
    unit = await Get(NexflowUnit, NexflowUnitRequest, request)
    process = await Get(Process, VenvPexProcess, interface_process(unit, generator))
    result = await Get(FallibleProcessResult, Process, speculate_late(process))
    return NexflowCheckOutcome(request.address, result)


# --- Java --------------------------------------------------------------------------------------


async def _restore_source_root(output_digest: Digest, target: Target) -> GeneratedSources:
    stripped, source_root = await MultiGet(
        Get(Digest, RemovePrefix(output_digest, _JAVA_DIR)),
        Get(SourceRoot, SourceRootRequest, SourceRootRequest.for_target(target)),
    )
    if source_root.path == ".":
        return GeneratedSources(await Get(Snapshot, Digest, stripped))
    return GeneratedSources(await Get(Snapshot, AddPrefix(stripped, source_root.path)))


@dataclass(frozen=True)
class NexflowJavaRequest:
    address: Address


@dataclass(frozen=True)
class NexflowGenerated:
    """The generate process's output: the Java under _JAVA_DIR and, for a proc bound to an
    environment, its jobs' `<Job>.state.json` under `states_dir`."""

    target: Target
    digest: Digest
    states_dir: str


def states_dir(source_path: str) -> str:
    # One directory per unit, so that the states of several units merge into one digest.
    return f"{_STATES_DIR}/{source_path}"


@rule(desc="Generate Java from Nexflow DSL", level=LogLevel.DEBUG)
async def generate_nexflow_unit(
    request: NexflowJavaRequest, generator: NexflowGenerator
) -> NexflowGenerated:
    unit = await Get(NexflowUnit, NexflowUnitRequest(request.address))
    # A proc's environment: its .infra units are upstream (dependency inference), and their
    # interface files carry the settings the job bakes in.
    environment = unit.target.get(NexflowEnvironmentField).value
    states = states_dir(unit.source_path)
    # The state descriptions come from the job models the Java was rendered from, in the same
    # process: no second compile for the baseline a job jar carries.
    environment_argv = ("--environment", environment, "--state-out", states) if environment else ()
    process = await Get(
        Process,
        VenvPexProcess(
            generator.pex,
            argv=[
                "compile",
                unit.source_path,
                *java_package_argv(unit.target),
                "--output-dir",
                _JAVA_DIR,
                *environment_argv,
                *unit.upstream_argv,
            ],
            input_digest=unit.input_digest,
            output_directories=(_JAVA_DIR, *((states,) if environment else ())),
            description=f"Generating Java from {unit.target.address}",
            level=LogLevel.DEBUG,
        ),
    )
    result = await Get(ProcessResult, Process, speculate_late(process))
    return NexflowGenerated(unit.target, result.output_digest, states)


@rule
async def generate_java_from_nexflow(request: NexflowJavaRequest) -> GeneratedSources:
    generated = await Get(NexflowGenerated, NexflowJavaRequest, request)
    java = await Get(Digest, DigestSubset(generated.digest, PathGlobs([f"{_JAVA_DIR}/**"])))
    return await _restore_source_root(java, generated.target)


@dataclass(frozen=True)
class NexflowStateDescriptions:
    """A unit's jobs' `<Job>.state.json`, under `directory` (none but for a proc bound to an
    environment)."""

    directory: str
    snapshot: Snapshot


@rule
async def nexflow_state_descriptions(request: NexflowJavaRequest) -> NexflowStateDescriptions:
    generated = await Get(NexflowGenerated, NexflowJavaRequest, request)
    states = await Get(
        Snapshot, DigestSubset(generated.digest, PathGlobs([f"{generated.states_dir}/*"]))
    )
    return NexflowStateDescriptions(generated.states_dir, states)


class GenerateJavaFromNexflowRequest(GenerateSourcesRequest):
    """One request for the five layers: every singular Nexflow target has the one
    NexflowSourceField (target_types.py), and `nexflow compile` tells the layers apart by the
    file's extension."""

    input = NexflowSourceField
    output = JavaSourceField


@rule
async def generate_java_for_nexflow_target(
    request: GenerateJavaFromNexflowRequest,
) -> GeneratedSources:
    return await Get(GeneratedSources, NexflowJavaRequest(request.protocol_target.address))


# --- the L0 runtime ----------------------------------------------------------------------------


class GenerateNexflowRuntimeRequest(GenerateSourcesRequest):
    input = NexflowRuntimeSourcesField
    output = JavaSourceField


@rule(desc="Generate the Nexflow L0 runtime", level=LogLevel.DEBUG)
async def generate_nexflow_runtime(
    request: GenerateNexflowRuntimeRequest, generator: NexflowGenerator
) -> GeneratedSources:
    process = await Get(
        Process,
        VenvPexProcess(
            generator.pex,
            argv=["generate-runtime", "--output-dir", _JAVA_DIR],
            input_digest=EMPTY_DIGEST,
            output_directories=(_JAVA_DIR,),
            description=f"Generating the Nexflow L0 runtime for {request.protocol_target.address}",
            level=LogLevel.DEBUG,
        ),
    )
    result = await Get(ProcessResult, Process, speculate_late(process))
    return await _restore_source_root(result.output_digest, request.protocol_target)


def rules() -> list[Rule | UnionRule]:
    return [
        *collect_rules(),
        UnionRule(GenerateSourcesRequest, GenerateJavaFromNexflowRequest),
        UnionRule(GenerateSourcesRequest, GenerateNexflowRuntimeRequest),
    ]
