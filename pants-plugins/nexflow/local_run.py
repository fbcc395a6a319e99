"""`nexflow_local_run`: `pants run` a pipeline's jobs on an embedded Flink MiniCluster, no broker.

The target names the proc targets to run and an L5 environment (one that binds streams to
files, such as `local`). `pants run` then

1. asks the compiler for a run plan of each proc in that environment (`nexflow compile
   --run-plan-out`, against the interface files of the proc's upstream units and of the .infra
   units declaring the environment): the job class and the complete settings it starts from;
2. builds the classpath of the procs' compiled Java, the L0 runtime and Flink's own runtime
   (which job jars leave out), and
3. runs the runtime's `LocalRun` launcher in the build root: it runs each job, prints every
   output record as the sinks write it and a summary at the end.

Relative `file:` paths of the environment are resolved against the target's directory, so
sample events ship with the example and outputs land next to it, never in a sandbox. A job
reading Kafka (`dev`) runs live: the launcher follows its output topics and stops it on an
idle time, a record count or Ctrl-C (see the launcher's class comment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

from pants.backend.python.util_rules.pex import VenvPexProcess
from pants.core.goals.run import RunFieldSet, RunInSandboxBehavior, RunRequest
from pants.engine.addresses import Addresses
from pants.engine.fs import Digest, MergeDigests
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    DependenciesRequest,
    FieldSet,
    InferDependenciesRequest,
    InferredDependencies,
    StringField,
    StringSequenceField,
    Target,
    Targets,
)
from pants.engine.unions import UnionRule
from pants.jvm.classpath import Classpath
from pants.jvm.compile import (
    ClasspathDependenciesRequest,
    ClasspathEntryRequest,
    FallibleClasspathEntries,
    FallibleClasspathEntry,
)
from pants.jvm.dependency_inference.artifact_mapper import (
    AllJvmArtifactTargets,
    UnversionedCoordinate,
    find_jvm_artifacts_or_raise,
)
from pants.jvm.jdk_rules import JdkEnvironment, JdkRequest, JvmProcess
from pants.jvm.run import _post_process_jvm_process
from pants.jvm.subsystems import JvmSubsystem
from pants.jvm.target_types import JvmDependenciesField, JvmResolveField
from pants.util.logging import LogLevel
from pants.util.strutil import help_text

from nexflow.codegen import (
    NexflowGenerator,
    NexflowInterface,
    NexflowUnit,
    NexflowUnitRequest,
    NexflowUpstream,
    NexflowUpstreamRequest,
    java_package_argv,
    speculate_late,
)
from nexflow.dependency_inference import environment_owners
from nexflow.package import classpath_of_dependencies
from nexflow.symbol_map import NexflowSymbolMap, NexflowSymbolMapRequest
from nexflow.target_types import NexflowProcTarget

LAUNCHER = "nexflow.runtime.LocalRun"
_PLANS_DIR = "__nexflow_run_plans"

# Flink's runtime for a MiniCluster (job classpaths have only what generated code compiles
# against), and a logging backend, whose default configuration prints errors only.
_LOCAL_RUNTIME_ARTIFACTS = (
    UnversionedCoordinate(group="org.apache.flink", artifact="flink-runtime"),
    UnversionedCoordinate(group="org.apache.flink", artifact="flink-clients"),
    UnversionedCoordinate(group="org.apache.logging.log4j", artifact="log4j-slf4j-impl"),
    UnversionedCoordinate(group="org.apache.logging.log4j", artifact="log4j-core"),
)


class NexflowLocalRunError(Exception):
    pass


class NexflowRunEnvironmentField(StringField):
    alias = "environment"
    required = True
    value: str  # required: Pants rejects a target without it
    help = help_text(
        """
        The L5 environment the jobs run in: its settings replace the ones the job classes were
        built with (their procs target's `environment`). Streams bound to `file:` paths
        (relative to this target's directory) make a run that ends with its input; a job
        reading a `kafka:` topic (an environment with a broker, such as `dev`) runs live until
        `--stop-after-idle=SECONDS`, `--stop-after-records=N` or Ctrl-C.
        """
    )


class NexflowRunArgsField(StringSequenceField):
    alias = "args"
    help = help_text(
        """
        Program arguments every run of this target gets, before those after `--` (which win):
        settings such as `--stream.<name>.pace_ms=60` (a paced replay of a file, so that
        event time advances as in a live stream; for a Kafka source, the pace of
        `--produce`) or `--flink.<option>=<value>`; for live (Kafka) runs, launcher options:
        `--produce=<stream>=<file>` (send a file's lines to the topic the stream reads, once
        the job runs), `--stop-after-idle=<seconds>`, `--stop-after-records=<n>`.
        """
    )


class NexflowLocalRunTarget(Target):
    alias = "nexflow_local_run"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        JvmDependenciesField,
        JvmResolveField,
        NexflowRunEnvironmentField,
        NexflowRunArgsField,
    )
    help = help_text(
        """
        `pants run` runs the jobs of the Nexflow procs in `dependencies` on an embedded Flink
        MiniCluster, in `environment`: it prints each output record as it is written and a
        summary per job (records in and out per stream, dead letters, alerts, late events,
        time). Outputs bound to Kafka topics are printed as they become visible to a
        `read_committed` consumer. Program arguments (`args`, then those after `--`) override
        settings (`--stream.<name>=file:<path>`).
        """
    )


@dataclass(frozen=True)
class NexflowLocalRunFieldSet(RunFieldSet):
    required_fields = (NexflowRunEnvironmentField, JvmDependenciesField)
    # It reads and writes files in the workspace: nothing to cache, nothing for a sandbox.
    run_in_sandbox_behavior = RunInSandboxBehavior.NOT_SUPPORTED

    environment: NexflowRunEnvironmentField
    dependencies: JvmDependenciesField
    args: NexflowRunArgsField


class NexflowLocalRunClasspathEntryRequest(ClasspathEntryRequest):
    field_sets = (NexflowLocalRunFieldSet,)
    # Its classpath is its dependencies'; nothing may depend on it.
    root_only = True


@rule
async def nexflow_local_run_classpath(
    request: NexflowLocalRunClasspathEntryRequest,
) -> FallibleClasspathEntry:
    entries = await Get(FallibleClasspathEntries, ClasspathDependenciesRequest(request))
    return classpath_of_dependencies(request, entries)


# --- dependencies: Flink's runtime ---------------------------------------------------------------


@dataclass(frozen=True)
class NexflowLocalRunDependenciesFieldSet(FieldSet):
    required_fields = (NexflowRunEnvironmentField, JvmDependenciesField, JvmResolveField)

    dependencies: JvmDependenciesField
    resolve: JvmResolveField


class InferNexflowLocalRunDependencies(InferDependenciesRequest):
    infer_from = NexflowLocalRunDependenciesFieldSet


@rule(desc="Inject Flink's runtime into a Nexflow local run")
async def infer_nexflow_local_run_dependencies(
    request: InferNexflowLocalRunDependencies,
    jvm: JvmSubsystem,
    jvm_artifact_targets: AllJvmArtifactTargets,
) -> InferredDependencies:
    resolve = request.field_set.resolve.normalized_value(jvm)
    addresses = find_jvm_artifacts_or_raise(
        required_coordinates=_LOCAL_RUNTIME_ARTIFACTS,
        resolve=resolve,
        jvm_artifact_targets=jvm_artifact_targets,
        jvm=jvm,
        subsystem="a Nexflow local run",
        target_type="nexflow_local_run",
    )
    return InferredDependencies(sorted(addresses))


# --- run plans and the launcher ---------------------------------------------------------------


def _interface_files(argv: Tuple[str, ...]) -> List[str]:
    """The FILE values of `--interface FILE` arguments."""
    return [argv[i + 1] for i in range(0, len(argv) - 1, 2) if argv[i] == "--interface"]


@rule(desc="Prepare a Nexflow local run", level=LogLevel.DEBUG)
async def run_nexflow_local(
    field_set: NexflowLocalRunFieldSet,
    generator: NexflowGenerator,
) -> RunRequest:
    environment = field_set.environment.value
    symbols, dependencies = await MultiGet(
        Get(NexflowSymbolMap, NexflowSymbolMapRequest()),
        Get(Targets, DependenciesRequest(field_set.dependencies)),
    )
    procs = [t for t in dependencies if isinstance(t, NexflowProcTarget)]
    if not procs:
        raise NexflowLocalRunError(
            f"{field_set.address} runs no proc: list the Nexflow proc targets to run in its "
            "`dependencies` (e.g. `dependencies=[\":procs\"]`)."
        )
    # Each proc's environment is the one of its nearest declaring directory (the rule of
    # dependency inference and of the compiler, which also applies it to these interfaces).
    owners = sorted(
        {
            owner
            for t in procs
            for owner in environment_owners(symbols, environment, symbols.path_of(t.address))
        }
    )
    if not owners:
        known = ", ".join(symbols.names_in("environment")) or "none"
        raise NexflowLocalRunError(
            f"{field_set.address} runs in the environment `{environment}`, but no .infra file "
            f"in its procs' directories or their ancestors declares it (environments: {known})."
        )
    # The environment's settings: the interfaces of the .infra units declaring it, and of the
    # units they depend on (the environments they extend, the schemas they bind).
    infra_interfaces = await MultiGet(
        Get(NexflowInterface, NexflowUnitRequest(a)) for a in owners
    )
    infra_upstreams = await MultiGet(
        Get(NexflowUpstream, NexflowUpstreamRequest(a)) for a in owners
    )
    units = await MultiGet(Get(NexflowUnit, NexflowUnitRequest(t.address)) for t in procs)
    infra_files: Dict[str, None] = {}
    for interface in infra_interfaces:
        infra_files[interface.path] = None
    for upstream in infra_upstreams:
        for path in _interface_files(upstream.argv):
            infra_files[path] = None
    infra_digest = await Get(
        Digest,
        MergeDigests(
            [*(i.digest for i in infra_interfaces), *(u.digest for u in infra_upstreams)]
        ),
    )

    plan_paths = []
    plan_processes = []
    for index, unit in enumerate(sorted(units, key=lambda u: u.source_path)):
        plan = f"{_PLANS_DIR}/{index}-{unit.source_path.replace('/', '.')}.json"
        interfaces = dict.fromkeys(_interface_files(unit.upstream_argv))
        interfaces.update(infra_files)
        argv = [
            "compile",
            unit.source_path,
            *java_package_argv(unit.target),
            "--environment",
            environment,
            "--run-plan-out",
            plan,
        ]
        for path in sorted(interfaces):
            argv.extend(["--interface", path])
        input_digest = await Get(Digest, MergeDigests([unit.input_digest, infra_digest]))
        plan_paths.append(plan)
        plan_processes.append(
            VenvPexProcess(
                generator.pex,
                argv=argv,
                input_digest=input_digest,
                output_files=(plan,),
                description=f"Planning a local run of {unit.target.address} in {environment}",
                level=LogLevel.DEBUG,
            )
        )
    processes = await MultiGet(Get(Process, VenvPexProcess, p) for p in plan_processes)
    results = await MultiGet(
        Get(ProcessResult, Process, speculate_late(p)) for p in processes
    )

    jdk, classpath = await MultiGet(
        Get(JdkEnvironment, JdkRequest, JdkRequest.SOURCE_DEFAULT),
        Get(Classpath, Addresses([field_set.address])),
    )
    input_digest = await Get(
        Digest,
        MergeDigests([*classpath.digests(), *(r.output_digest for r in results)]),
    )
    # Runs in the build root (`pants run` runs in the workspace); relative `file:` bindings are
    # relative to the target's directory.
    base_dir = field_set.address.spec_path or "."
    process = await Get(
        Process,
        JvmProcess(
            jdk=jdk,
            classpath_entries=list(classpath.args(prefix="{chroot}")),
            argv=(
                LAUNCHER,
                *(f"--plan={{chroot}}/{plan}" for plan in plan_paths),
                f"--base-dir={base_dir}",
                *(field_set.args.value or ()),
            ),
            input_digest=input_digest,
            description=f"Run {field_set.address} on a local Flink MiniCluster",
            use_nailgun=False,
        ),
    )
    # Pants' own JVM `run` support turns a JVM process into a run request the same way
    # (JDK paths under the run's chroot).
    return _post_process_jvm_process(process, jdk)


def rules() -> list[Rule | UnionRule]:
    return [
        *collect_rules(),
        *NexflowLocalRunFieldSet.rules(),
        UnionRule(ClasspathEntryRequest, NexflowLocalRunClasspathEntryRequest),
        UnionRule(InferDependenciesRequest, InferNexflowLocalRunDependencies),
    ]
