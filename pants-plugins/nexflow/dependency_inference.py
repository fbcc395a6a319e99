"""Dependencies of Nexflow targets, inferred so BUILD files rarely list any.

- From the names a DSL file refers to: the target declaring each name (symbol_map.py). A name no
  target declares is an error listing candidates; a name several declare is settled by the one
  listed in the target's `dependencies`, else a warning listing them (nothing inferred, as Pants'
  own backends do); a reference that breaks layering (say a schema needing rules) is an error
  naming both files. `[nexflow].infer_dependencies = false` turns this off.
- From a proc's `environment` field: the infra targets declaring that environment in the
  nearest directory (the proc's own, else its closest ancestor declaring it; `extends` by the
  same rule from the extending file). Sibling directories never mix, so two projects may each
  declare `production`.
- Always: the L0 runtime target and the Flink artifacts generated code imports, as Pants'
  protobuf backend injects protobuf-java.
"""

from __future__ import annotations

import difflib
import logging
import posixpath
from dataclasses import dataclass
from typing import AbstractSet, List, Set

from pants.build_graph.address import Address, AddressInput
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.target import (
    DependenciesRequest,
    ExplicitlyProvidedDependencies,
    FieldSet,
    InferDependenciesRequest,
    InferredDependencies,
)
from pants.engine.unions import UnionRule
from pants.jvm.dependency_inference.artifact_mapper import (
    AllJvmArtifactTargets,
    UnversionedCoordinate,
    find_jvm_artifacts_or_raise,
)
from pants.jvm.subsystems import JvmSubsystem
from pants.jvm.target_types import JvmResolveField

from nexflow.scope import nearest_scope
from nexflow.subsystem import NexflowSubsystem
from nexflow.symbol_map import NexflowSymbolMap, NexflowSymbolMapRequest
from nexflow.target_types import (
    NexflowDependenciesField,
    NexflowEnvironmentField,
    NexflowSourceField,
)

logger = logging.getLogger(__name__)

# What generated code imports directly. Everything else arrives transitively.
_JOB_ARTIFACTS = (
    UnversionedCoordinate(group="org.apache.flink", artifact="flink-streaming-java"),
    UnversionedCoordinate(group="org.apache.flink", artifact="flink-clients"),
    UnversionedCoordinate(group="org.apache.flink", artifact="flink-connector-files"),
    UnversionedCoordinate(group="org.apache.flink", artifact="flink-connector-kafka"),
    UnversionedCoordinate(group="com.fasterxml.jackson.core", artifact="jackson-databind"),
    UnversionedCoordinate(
        group="com.fasterxml.jackson.datatype", artifact="jackson-datatype-jsr310"
    ),
    # The L0 runtime's MongoStore (stores bound `type: mongodb`).
    UnversionedCoordinate(group="org.mongodb", artifact="mongodb-driver-sync"),
)

_WHAT = {"type": "name", "stream": "stream", "store": "store", "environment": "environment"}


class NexflowDependencyError(Exception):
    pass


# --- from DSL references ---------------------------------------------------------------------


@dataclass(frozen=True)
class NexflowReferencesFieldSet(FieldSet):
    required_fields = (NexflowSourceField, NexflowDependenciesField)

    source: NexflowSourceField
    dependencies: NexflowDependenciesField


class InferNexflowReferences(InferDependenciesRequest):
    infer_from = NexflowReferencesFieldSet


def environment_owners(
    symbols: NexflowSymbolMap, name: str, consumer_path: str
) -> List[Address]:
    """The targets whose blocks environment `name` means for the file `consumer_path`: those
    in the nearest declaring directory (the rule the compiler applies, nearest_scope)."""
    owners = symbols.declared_by.get(("environment", name), ())
    where = {a: posixpath.dirname(symbols.path_of(a)) for a in owners}
    scope = nearest_scope(posixpath.dirname(consumer_path), where.values())
    return sorted(a for a in owners if where[a] == scope)


def _resolve(
    symbols: NexflowSymbolMap, address: Address, explicit: AbstractSet[Address] = frozenset()
) -> Set[Address]:
    """The targets declaring the names the file of `address` uses. A name several targets
    declare is settled by the one of them listed in `explicit` (the target's own
    `dependencies`); without one Pants warns and infers none (the compiler then reports the
    name as unknown)."""
    me = symbols.files.get(address)
    if me is None:
        return set()
    found: Set[Address] = set()
    for namespace, name in me.references:
        owners = sorted(symbols.declared_by.get((namespace, name), ()))
        what = _WHAT.get(namespace, namespace)
        if not owners and namespace == "record":
            # A root name in a ruleset that names no schema: a field or a typo the check reports.
            continue
        if not owners:
            close = difflib.get_close_matches(name, symbols.names_in(namespace), n=5)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise NexflowDependencyError(
                f"{me.path} refers to the {what} `{name}`, which no Nexflow target declares."
                f"{hint} Declare it in a DSL file that a Nexflow target owns, or fix the name."
            )
        if namespace == "environment":
            # A parent environment may be spread over several .infra files of its directory.
            found.update(a for a in environment_owners(symbols, name, me.path) if a != address)
            continue
        if len(owners) > 1:
            chosen = [a for a in owners if a in explicit]
            if len(chosen) != 1:
                listing = "\n".join(f"  * {symbols.path_of(a)} ({a})" for a in owners)
                logger.warning(
                    f"{me.path} ({address}) refers to the {what} `{name}`, which several "
                    f"targets declare:\n{listing}\nNo dependency is inferred for it: list the "
                    "one you mean in this target's `dependencies` (or rename one of them)."
                )
                continue
            owners = chosen
        (owner,) = owners
        owner_kind = symbols.kind_of(owner)
        allowed = symbols.files[address].may_depend_on
        if owner_kind not in allowed:
            raise NexflowDependencyError(
                f"Layering violation: {me.path} ({me.kind}) refers to `{name}` declared in "
                f"{symbols.path_of(owner)} ({owner_kind}), but a {me.kind} file may only use "
                f"names from {', '.join(allowed)} files."
            )
        found.add(owner)
    return found


@rule(desc="Infer Nexflow dependencies from DSL names")
async def infer_nexflow_references(
    request: InferNexflowReferences, nexflow: NexflowSubsystem
) -> InferredDependencies:
    if not nexflow.infer_dependencies:
        # Before the symbol map is asked for: switched off, no compiler is built or run.
        return InferredDependencies([])
    symbols, explicit = await MultiGet(
        Get(NexflowSymbolMap, NexflowSymbolMapRequest()),
        Get(ExplicitlyProvidedDependencies, DependenciesRequest(request.field_set.dependencies)),
    )
    address = request.field_set.address
    return InferredDependencies(sorted(_resolve(symbols, address, explicit.includes)))


# --- from a proc's environment ---------------------------------------------------------------


@dataclass(frozen=True)
class NexflowEnvironmentFieldSet(FieldSet):
    required_fields = (NexflowEnvironmentField, NexflowDependenciesField)

    environment: NexflowEnvironmentField
    dependencies: NexflowDependenciesField


class InferNexflowEnvironment(InferDependenciesRequest):
    infer_from = NexflowEnvironmentFieldSet


@rule(desc="Infer the infra target of a proc's environment")
async def infer_nexflow_environment(request: InferNexflowEnvironment) -> InferredDependencies:
    environment = request.field_set.environment.value
    if not environment:
        return InferredDependencies([])
    symbols = await Get(NexflowSymbolMap, NexflowSymbolMapRequest())
    address = request.field_set.address
    # The proc's file decides, as in the compiler; a target without one, its BUILD directory.
    me = symbols.files.get(address)
    consumer = me.path if me is not None else posixpath.join(address.spec_path, "BUILD")
    # An environment may be spread over several .infra files: the proc needs all of them.
    owners = environment_owners(symbols, environment, consumer)
    if not owners:
        elsewhere = sorted(
            symbols.path_of(a) for a in symbols.declared_by.get(("environment", environment), ())
        )
        if elsewhere:
            raise NexflowDependencyError(
                f"{address} uses the environment `{environment}`, but no .infra file in "
                f"{posixpath.dirname(consumer) or '.'}/ or an ancestor directory declares it "
                f"(it is declared in: {', '.join(elsewhere)}; a proc uses the environment of "
                "its nearest directory that declares one, never a sibling's)."
            )
        known = ", ".join(symbols.names_in("environment")) or "none"
        raise NexflowDependencyError(
            f"{address} uses the environment `{environment}`, but no .infra "
            f"file declares it (environments: {known})."
        )
    return InferredDependencies(owners)


# --- the runtime and Flink -------------------------------------------------------------------


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
    addresses: List[Address] = list(
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
        AddressInput.parse(
            nexflow.runtime, description_of_origin="the option `[nexflow].runtime`"
        ),
    )
    if runtime != request.field_set.address:
        addresses.append(runtime)
    return InferredDependencies(sorted(addresses))


def rules() -> list[Rule | UnionRule]:
    return [
        *collect_rules(),
        UnionRule(InferDependenciesRequest, InferNexflowReferences),
        UnionRule(InferDependenciesRequest, InferNexflowEnvironment),
        UnionRule(InferDependenciesRequest, InferNexflowRuntimeDependencies),
    ]
