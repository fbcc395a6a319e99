"""`pants test` for `nexflow_test` targets: each `.nxtest` file runs through `nexflow test`.

One cached process per test file runs the compiler's own `nexflow test FILE` (the command
docs/language/tests.md describes) in a sandbox holding exactly

- the test file and the DSL files of the Nexflow targets it depends on, transitively (inferred
  from the names after `for table` / `for rules` / `for transform` / `for proc`: the tested
  subjects and what they use);
- the compiler (`[nexflow].generator`);
- a JDK (Pants' `[jvm]` JDK, linked into the sandbox as Pants' JVM processes do), and
- the jars of Flink and Jackson the generated code compiles against, from the test's JVM
  resolve (the artifacts generated jobs get, dependency_inference.py).

The command generates the subjects' Java, compiles it with one javac and runs every case in one
JVM; a failing case prints `file:line:col: field: expected X, got Y` at its expectation, which is
what `pants test` shows. A passing result is cached: an unchanged test file with unchanged DSL
files, compiler and jars does not run again (a failing one runs again, as in every Pants test
backend).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import posixpath
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Tuple

from pants.backend.python.util_rules.pex import VenvPexProcess
from pants.build_graph.address import Address
from pants.core.goals.test import TestFieldSet, TestRequest, TestResult, TestSubsystem
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.core.util_rules.system_binaries import BashBinary
from pants.engine.addresses import Addresses
from pants.engine.fs import CreateDigest, Digest, FileContent, MergeDigests
from pants.engine.process import FallibleProcessResult, Process, ProcessCacheScope
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.target import (
    DependenciesRequest,
    ExplicitlyProvidedDependencies,
    FieldSet,
    InferDependenciesRequest,
    InferredDependencies,
    TransitiveTargets,
    TransitiveTargetsRequest,
    WrappedTarget,
    WrappedTargetRequest,
)
from pants.engine.unions import UnionRule
from pants.jvm.classpath import Classpath
from pants.jvm.dependency_inference.artifact_mapper import (
    AllJvmArtifactTargets,
    find_jvm_artifacts_or_raise,
)
from pants.jvm.jdk_rules import JdkEnvironment, JdkRequest
from pants.jvm.subsystems import JvmSubsystem
from pants.jvm.target_types import JvmResolveField
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

from nexflow.codegen import NexflowGenerator, speculate_late
from nexflow.dependency_inference import _JOB_ARTIFACTS
from nexflow.subsystem import NexflowSubsystem, NexflowTestSubsystem
from nexflow.symbol_map import NexflowSymbolMap, NexflowSymbolMapRequest
from nexflow.target_types import (
    NexflowSourceField,
    NexflowTestDependenciesField,
    NexflowTestSourceField,
    NexflowTestTimeoutField,
)

logger = logging.getLogger(__name__)

# Where the Flink and Jackson jars are linked into the test's sandbox, and the file listing them.
_CLASSPATH_DIR = "__nexflow_classpath"
_CLASSPATH_FILE = "__nexflow_classpath.txt"

# The names a test file tests, read by the compiler's own test-file parser (the grammar is the
# compiler's: the plugin does not re-read DSL text). Printed as a JSON list; a file with syntax
# errors gives the names it got to, and its test reports the errors.
_SUBJECTS_SCRIPT = """\
import json, sys
from nexflow_core.dsltest.cases import parse_tests
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    cases, _ = parse_tests(f.read(), path)
print(json.dumps(sorted({case.subject for case in cases})))
"""


# --- the names a test file tests -------------------------------------------------------------


@dataclass(frozen=True)
class NexflowTestSubjectsRequest:
    address: Address


@dataclass(frozen=True)
class NexflowTestSubjects:
    names: Tuple[str, ...]


@rule(desc="Read the subjects of a Nexflow test file", level=LogLevel.DEBUG)
async def nexflow_test_subjects(
    request: NexflowTestSubjectsRequest, generator: NexflowGenerator
) -> NexflowTestSubjects:
    wrapped = await Get(
        WrappedTarget,
        WrappedTargetRequest(request.address, description_of_origin="the Nexflow test backend"),
    )
    sources = await Get(SourceFiles, SourceFilesRequest([wrapped.target[NexflowTestSourceField]]))
    (path,) = sources.snapshot.files
    process = await Get(
        Process,
        VenvPexProcess(
            generator.pex,
            argv=(),
            input_digest=sources.snapshot.digest,
            description=f"Reading the subjects of {path}",
            level=LogLevel.DEBUG,
        ),
    )
    # The same sandbox, the venv's Python instead of the `nexflow` entry point.
    process = dataclasses.replace(
        process, argv=(generator.pex.python.argv0, "-c", _SUBJECTS_SCRIPT, path)
    )
    result = await Get(FallibleProcessResult, Process, speculate_late(process))
    if result.exit_code != 0:
        # Whatever went wrong, the test's own run says it with the file's line: infer nothing.
        logger.debug(f"Reading the subjects of {path} failed: {result.stderr.decode()}")
        return NexflowTestSubjects(())
    return NexflowTestSubjects(tuple(json.loads(result.stdout.decode())))


def subject_owners(
    symbols: NexflowSymbolMap,
    names: Iterable[str],
    path: str,
    address: Address,
    explicit: Iterable[Address] = (),
) -> List[Address]:
    """The targets declaring the tested tables, rulesets and transforms (the `type` namespace
    of the symbol map). A name no target declares infers nothing: the test's run reports it at
    its line. A name several declare is settled by the one listed in `dependencies`; otherwise
    a warning, as for DSL files."""
    chosen = set(explicit)
    found = set()
    for name in names:
        owners = sorted(symbols.declared_by.get(("type", name), ()))
        if len(owners) > 1:
            listed = [a for a in owners if a in chosen]
            if len(listed) != 1:
                listing = "\n".join(f"  * {symbols.path_of(a)} ({a})" for a in owners)
                logger.warning(
                    f"{path} ({address}) tests `{name}`, which several targets declare:\n"
                    f"{listing}\nNo dependency is inferred for it: list the one you mean in "
                    "this target's `dependencies` (or rename one of them)."
                )
                continue
            owners = listed
        found.update(owners)
    return sorted(found)


@dataclass(frozen=True)
class NexflowTestDependenciesFieldSet(FieldSet):
    required_fields = (NexflowTestSourceField, NexflowTestDependenciesField)

    source: NexflowTestSourceField
    dependencies: NexflowTestDependenciesField


class InferNexflowTestDependencies(InferDependenciesRequest):
    infer_from = NexflowTestDependenciesFieldSet


@rule(desc="Infer the Nexflow targets a test file tests")
async def infer_nexflow_test_dependencies(
    request: InferNexflowTestDependencies, nexflow: NexflowSubsystem
) -> InferredDependencies:
    if not nexflow.infer_dependencies:
        return InferredDependencies([])
    address = request.field_set.address
    symbols, subjects, explicit = await MultiGet(
        Get(NexflowSymbolMap, NexflowSymbolMapRequest()),
        Get(NexflowTestSubjects, NexflowTestSubjectsRequest(address)),
        Get(ExplicitlyProvidedDependencies, DependenciesRequest(request.field_set.dependencies)),
    )
    path = request.field_set.source.file_path
    return InferredDependencies(
        subject_owners(symbols, subjects.names, path, address, explicit.includes)
    )


# --- running a test file ---------------------------------------------------------------------


@dataclass(frozen=True)
class NexflowTestFieldSet(TestFieldSet):
    required_fields = (NexflowTestSourceField,)

    source: NexflowTestSourceField
    timeout: NexflowTestTimeoutField
    resolve: JvmResolveField


class NexflowTestRequest(TestRequest):
    # Pants' protocol types `skip` as the option; mypy sees the bool an instance reads.
    tool_subsystem = NexflowTestSubsystem  # type: ignore[assignment]
    field_set_type = NexflowTestFieldSet


def dsl_directories(test_path: str, dsl_paths: Iterable[str]) -> Tuple[str, ...]:
    """The directories `nexflow test` must be given besides the test file: it reads the DSL files
    of the test file's directory (and below), so those of upstream targets elsewhere are named."""
    own = posixpath.dirname(test_path)
    outside = set()
    for path in dsl_paths:
        directory = posixpath.dirname(path)
        if own and directory != own and not directory.startswith(own + "/"):
            outside.add(directory or ".")
    return tuple(sorted(outside))


def nexflow_test_argv(test_path: str, dsl_paths: Iterable[str], java_home: str) -> Tuple[str, ...]:
    return (
        "test",
        test_path,
        *dsl_directories(test_path, dsl_paths),
        "--java-home",
        java_home,
        # A file holding the classpath, which `nexflow test` reads (a --classpath that is a file
        # and no jar): it first asks whether the value names a file, and that fails outright for
        # a value longer than a path may be (ENAMETOOLONG), as the ~100 jars here are.
        "--classpath",
        _CLASSPATH_FILE,
    )


def classpath_file(jars: Iterable[str]) -> FileContent:
    """The classpath, each jar once (entries of several artifacts share dependencies)."""
    return FileContent(_CLASSPATH_FILE, ":".join(dict.fromkeys(jars)).encode("utf-8"))


@dataclass(frozen=True)
class NexflowTestSetupRequest:
    field_set: NexflowTestFieldSet


@dataclass(frozen=True)
class NexflowTestSetup:
    process: Process


@rule(desc="Prepare a Nexflow test", level=LogLevel.DEBUG)
async def setup_nexflow_test(
    request: NexflowTestSetupRequest,
    generator: NexflowGenerator,
    bash: BashBinary,
    jvm: JvmSubsystem,
    jvm_artifact_targets: AllJvmArtifactTargets,
    test_subsystem: TestSubsystem,
) -> NexflowTestSetup:
    field_set = request.field_set
    artifacts = find_jvm_artifacts_or_raise(
        required_coordinates=_JOB_ARTIFACTS,
        resolve=field_set.resolve.normalized_value(jvm),
        jvm_artifact_targets=jvm_artifact_targets,
        jvm=jvm,
        subsystem="Nexflow tests",
        target_type="nexflow_test",
    )
    transitive, test_sources, jdk, classpath = await MultiGet(
        Get(TransitiveTargets, TransitiveTargetsRequest([field_set.address])),
        Get(SourceFiles, SourceFilesRequest([field_set.source])),
        Get(JdkEnvironment, JdkRequest, JdkRequest.SOURCE_DEFAULT),
        Get(Classpath, Addresses(sorted(artifacts))),
    )
    dsl_sources = await Get(
        SourceFiles,
        SourceFilesRequest(
            tgt[NexflowSourceField]
            for tgt in transitive.dependencies
            if tgt.has_field(NexflowSourceField)
        ),
    )
    classpath_digest = await Get(
        Digest,
        CreateDigest([classpath_file(classpath.immutable_inputs_args(prefix=_CLASSPATH_DIR))]),
    )
    input_digest = await Get(
        Digest,
        MergeDigests([test_sources.snapshot.digest, dsl_sources.snapshot.digest, classpath_digest]),
    )
    (test_path,) = test_sources.snapshot.files
    argv = nexflow_test_argv(test_path, dsl_sources.snapshot.files, JdkEnvironment.java_home)
    pex_process = await Get(
        Process,
        VenvPexProcess(
            generator.pex,
            argv=argv,
            input_digest=input_digest,
            description=f"Run Nexflow tests in {test_path}",
            level=LogLevel.DEBUG,
            timeout_seconds=field_set.timeout.calculate_from_global_options(test_subsystem),
            # A passing result is kept; a failure runs again (Pants' other test backends).
            cache_scope=(
                ProcessCacheScope.PER_SESSION
                if test_subsystem.force
                else ProcessCacheScope.SUCCESSFUL
            ),
        ),
    )
    return NexflowTestSetup(with_jdk(pex_process, bash, jdk, classpath))


def with_jdk(
    process: Process, bash: BashBinary, jdk: JdkEnvironment, classpath: Classpath
) -> Process:
    """The process, started through the JDK's preparation script (which links the JDK at
    `JdkEnvironment.java_home` in the sandbox, as for Pants' own JVM processes), with the
    classpath's jars linked under _CLASSPATH_DIR."""
    immutable: Dict[str, Digest] = {
        **process.immutable_input_digests,
        **jdk.immutable_input_digests,
        **dict(classpath.immutable_inputs(prefix=_CLASSPATH_DIR)),
    }
    env: Dict[str, Any] = {**process.env, **jdk.env, "PANTS_INTERNAL_ABSOLUTE_PREFIX": ""}
    return dataclasses.replace(
        process,
        argv=(bash.path, jdk.jdk_preparation_script, *process.argv),
        env=FrozenDict(env),
        immutable_input_digests=FrozenDict(immutable),
        append_only_caches=FrozenDict({**process.append_only_caches, **jdk.append_only_caches}),
    )


@rule(desc="Run Nexflow tests", level=LogLevel.DEBUG)
async def run_nexflow_test(
    batch: NexflowTestRequest.Batch[NexflowTestFieldSet, Any], test_subsystem: TestSubsystem
) -> TestResult:
    field_set = batch.single_element
    setup = await Get(NexflowTestSetup, NexflowTestSetupRequest(field_set))
    result = await Get(FallibleProcessResult, Process, speculate_late(setup.process))
    return TestResult.from_fallible_process_result(
        result, address=field_set.address, output_setting=test_subsystem.output
    )


def rules() -> list[Rule | UnionRule]:
    return [
        *collect_rules(),
        *NexflowTestRequest.rules(),
        UnionRule(InferDependenciesRequest, InferNexflowTestDependencies),
    ]
