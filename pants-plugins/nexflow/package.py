"""`nexflow_flink_job`: a job jar a Flink cluster can run, without the Flink it already has.

Pants 2.17's `deploy_jar` bundles the whole classpath and has no "provided" scope. A Flink
cluster ships Flink itself (flink-dist in lib/), so a job jar must carry only the job's classes,
the L0 runtime and the libraries the cluster lacks (connectors, Jackson, ...). This target builds
the same classpath as a `deploy_jar`, then leaves out every artifact in the dependency closure of
`[nexflow].provided_artifacts`, as read from the JVM lockfile.

The jar also carries its **baseline** under `META-INF/nexflow/baseline/`, laid out as the
directory `nexflow baseline` writes (nexflow_core/compat/baseline.py): `baseline.json`, the
`<Job>.state.json` of each job of the procs it is built from, and `interfaces/<file>.nxi` of every
Nexflow unit it is built from. A release's jar is thereby its own baseline:
`nexflow baseline --from-jar JAR --output-dir DIR` takes it out for `[nexflow].baseline`
(docs/upgrades.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import Set, Tuple

from pants.core.goals.package import (
    BuiltPackage,
    BuiltPackageArtifact,
    OutputPathField,
    PackageFieldSet,
)
from pants.engine.addresses import Address, Addresses
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    FileContent,
    MergeDigests,
)
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    CoarsenedTargets,
    StringSequenceField,
    Target,
    TransitiveTargets,
    TransitiveTargetsRequest,
)
from pants.engine.unions import UnionRule
from pants.jvm.classpath import Classpath
from pants.jvm.compile import (
    ClasspathDependenciesRequest,
    ClasspathEntry,
    ClasspathEntryRequest,
    CompileResult,
    FallibleClasspathEntries,
    FallibleClasspathEntry,
)
from pants.jvm.jar_tool.jar_tool import JarToolRequest
from pants.jvm.resolve.coursier_fetch import (
    CoursierResolvedLockfile,
    CoursierResolveKey,
    classpath_dest_filename,
)
from pants.jvm.strip_jar.strip_jar import StripJarRequest
from pants.jvm.subsystems import JvmSubsystem
from pants.jvm.target_types import (
    JvmDependenciesField,
    JvmRequiredMainClassNameField,
    JvmResolveField,
)
from pants.util.logging import LogLevel
from pants.util.strutil import help_text

from nexflow.codegen import (
    NexflowInterface,
    NexflowJavaRequest,
    NexflowStateDescriptions,
    NexflowUnitRequest,
)
from nexflow.subsystem import NexflowSubsystem
from nexflow.target_types import NexflowEnvironmentField, NexflowSourceField

# Where a job jar keeps its baseline (nexflow_core/compat/baseline.py's JAR_DIR), and the index
# format it writes there (baseline.py's FORMAT and INDEX).
JAR_BASELINE_DIR = "META-INF/nexflow/baseline"
BASELINE_FORMAT = 1
_INDEX_FILE = "__nexflow_baseline.json"


class NexflowProvidedArtifactsField(StringSequenceField):
    alias = "provided"
    help = help_text(
        """
        `group:artifact` of the JVM artifacts the target cluster provides, left out of the jar
        together with everything they depend on. Defaults to `[nexflow].provided_artifacts`.
        """
    )


class NexflowFlinkJobTarget(Target):
    alias = "nexflow_flink_job"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        OutputPathField,
        JvmDependenciesField,
        JvmRequiredMainClassNameField,
        JvmResolveField,
        NexflowProvidedArtifactsField,
    )
    # No `jdk` field: jobs build with `[jvm].jdk`. (With it, Pants' deploy_jar rules would also
    # claim this target.)
    help = help_text(
        """
        A Flink job jar for `flink run` on a cluster: the job's classes, the Nexflow runtime and
        the libraries Flink does not ship (connectors, Jackson). Flink itself, and everything it
        depends on, is left out (see `[nexflow].provided_artifacts`).
        """
    )


@dataclass(frozen=True)
class NexflowFlinkJobFieldSet(PackageFieldSet):
    required_fields = (
        JvmRequiredMainClassNameField,
        JvmDependenciesField,
        OutputPathField,
        NexflowProvidedArtifactsField,
    )

    main_class: JvmRequiredMainClassNameField
    provided: NexflowProvidedArtifactsField
    output_path: OutputPathField
    dependencies: JvmDependenciesField


class NexflowFlinkJobClasspathEntryRequest(ClasspathEntryRequest):
    field_sets = (NexflowFlinkJobFieldSet,)
    # A job jar has a classpath of its own, but nothing may depend on it.
    root_only = True


@rule
async def nexflow_flink_job_classpath(
    request: NexflowFlinkJobClasspathEntryRequest,
) -> FallibleClasspathEntry:
    entries = await Get(FallibleClasspathEntries, ClasspathDependenciesRequest(request))
    return classpath_of_dependencies(request, entries)


def classpath_of_dependencies(
    request: ClasspathEntryRequest, entries: FallibleClasspathEntries
) -> FallibleClasspathEntry:
    """The classpath entry of a root-only target that compiles nothing: its dependencies'."""
    succeeded = entries.if_all_succeeded()
    if succeeded is None:
        return FallibleClasspathEntry(
            description=str(request.component),
            result=CompileResult.DEPENDENCY_FAILED,
            output=None,
            exit_code=1,
        )
    return FallibleClasspathEntry(
        description=str(request.component),
        result=CompileResult.SUCCEEDED,
        output=ClasspathEntry(EMPTY_DIGEST, dependencies=succeeded),
        exit_code=0,
    )


def provided_jar_names(
    lockfile: CoursierResolvedLockfile, key: CoursierResolveKey, roots: Set[str]
) -> Set[str]:
    """Classpath file names of the provided roots (`group:artifact`) and all they depend on."""
    names = set()
    for entry in lockfile.entries:
        if f"{entry.coord.group}:{entry.coord.artifact}" not in roots:
            continue
        root, dependencies = lockfile.dependencies(key, entry.coord)
        for dep in (root, *dependencies):
            names.add(classpath_dest_filename(dep.coord.to_coord_str(), dep.file_name))
    return names


@dataclass(frozen=True)
class NexflowJarBaselineRequest:
    address: Address


@dataclass(frozen=True)
class NexflowJarBaseline:
    """A job jar's baseline: its files in `digest`, and where each goes in the jar."""

    digest: Digest
    file_mappings: Tuple[Tuple[str, str], ...]


def baseline_index(environments: Set[str], jobs: Set[str]) -> bytes:
    """`baseline.json` as nexflow_core/compat/baseline.py writes it. The environment of its
    jobs' procs; none when they are bound to several (a baseline binds one)."""
    environment = next(iter(environments)) if len(environments) == 1 else None
    index = {"format": BASELINE_FORMAT, "environment": environment, "jobs": sorted(jobs)}
    return (json.dumps(index, indent=2, sort_keys=True) + "\n").encode("utf-8")


@rule(desc="Collect a Flink job jar's baseline", level=LogLevel.DEBUG)
async def nexflow_jar_baseline(request: NexflowJarBaselineRequest) -> NexflowJarBaseline:
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.address]))
    units = [tgt for tgt in transitive.closure if tgt.has_field(NexflowSourceField)]
    bound = [tgt for tgt in units if tgt.get(NexflowEnvironmentField).value]
    interfaces = await MultiGet(
        Get(NexflowInterface, NexflowUnitRequest(tgt.address)) for tgt in units
    )
    states = await MultiGet(
        Get(NexflowStateDescriptions, NexflowJavaRequest(tgt.address)) for tgt in bound
    )
    mappings = {}
    for interface in interfaces:
        # `__interfaces/<file>.nxi` (codegen.py) -> `interfaces/<file>.nxi`
        relative = interface.path.split("/", 1)[1]
        mappings[interface.path] = f"{JAR_BASELINE_DIR}/interfaces/{relative}"
    jobs = set()
    for described in states:
        for path in described.snapshot.files:
            name = PurePath(path).name
            mappings[path] = f"{JAR_BASELINE_DIR}/{name}"
            jobs.add(name[: -len(".state.json")])
    environments = {str(tgt[NexflowEnvironmentField].value) for tgt in bound}
    index = await Get(
        Digest, CreateDigest([FileContent(_INDEX_FILE, baseline_index(environments, jobs))])
    )
    mappings[_INDEX_FILE] = f"{JAR_BASELINE_DIR}/baseline.json"
    digest = await Get(
        Digest,
        MergeDigests(
            [index, *(i.digest for i in interfaces), *(s.snapshot.digest for s in states)]
        ),
    )
    return NexflowJarBaseline(digest, tuple(sorted(mappings.items())))


@rule(desc="Package a Flink job jar")
async def package_nexflow_flink_job(
    field_set: NexflowFlinkJobFieldSet, nexflow: NexflowSubsystem, jvm: JvmSubsystem
) -> BuiltPackage:
    baseline = await Get(NexflowJarBaseline, NexflowJarBaselineRequest(field_set.address))
    classpath = await Get(Classpath, Addresses([field_set.address]))
    coarsened = await Get(CoarsenedTargets, Addresses([field_set.address]))
    resolve_key = await Get(CoursierResolveKey, CoarsenedTargets, coarsened)
    lockfile = await Get(CoursierResolvedLockfile, CoursierResolveKey, resolve_key)
    roots = field_set.provided.value
    provided = provided_jar_names(
        lockfile, resolve_key, set(nexflow.provided_artifacts if roots is None else roots)
    )
    bundled = [name for name in classpath.args() if PurePath(name).name not in provided]

    output_filename = PurePath(field_set.output_path.value_or_default(file_ending="jar"))
    classpath_digest = await Get(Digest, MergeDigests([*classpath.digests(), baseline.digest]))
    jar_digest = await Get(
        Digest,
        JarToolRequest(
            jar_name=output_filename.name,
            digest=classpath_digest,
            main_class=field_set.main_class.value,
            jars=bundled,
            file_mappings=dict(baseline.file_mappings),
            compress=True,
        ),
    )
    if jvm.reproducible_jars:
        jar_digest = await Get(
            Digest, StripJarRequest(digest=jar_digest, filenames=(output_filename.name,))
        )
    output = await Get(Digest, AddPrefix(jar_digest, str(output_filename.parent)))
    return BuiltPackage(output, (BuiltPackageArtifact(relpath=str(output_filename)),))


def rules() -> list[Rule | UnionRule]:
    return [
        *collect_rules(),
        UnionRule(PackageFieldSet, NexflowFlinkJobFieldSet),
        UnionRule(ClasspathEntryRequest, NexflowFlinkJobClasspathEntryRequest),
    ]
