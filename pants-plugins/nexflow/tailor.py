"""`pants tailor`: a generator target per layer for every directory with unowned DSL files, and
a `nexflow_tests` target for every directory with unowned test files (`.nxtest`)."""

from __future__ import annotations

from dataclasses import dataclass

from pants.core.goals.tailor import (
    AllOwnedSources,
    PutativeTarget,
    PutativeTargets,
    PutativeTargetsRequest,
)
from pants.engine.fs import PathGlobs, Paths
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.unions import UnionRule
from pants.util.dirutil import group_by_dir
from pants.util.logging import LogLevel

from nexflow.subsystem import NexflowSubsystem
from nexflow.target_types import GENERATOR_TARGETS


@dataclass(frozen=True)
class PutativeNexflowTargetsRequest(PutativeTargetsRequest):
    pass


@rule(level=LogLevel.DEBUG, desc="Determine candidate Nexflow targets to create")
async def find_putative_nexflow_targets(
    request: PutativeNexflowTargetsRequest,
    all_owned_sources: AllOwnedSources,
    nexflow: NexflowSubsystem,
) -> PutativeTargets:
    if not nexflow.tailor:
        return PutativeTargets()
    all_paths = await MultiGet(
        Get(Paths, PathGlobs, request.path_globs(f"*{extension}"))
        for extension, _ in GENERATOR_TARGETS
    )
    owned = set(all_owned_sources)
    putative = []
    for (_, target_type), paths in zip(GENERATOR_TARGETS, all_paths):
        unowned = set(paths.files) - owned
        for directory, filenames in sorted(group_by_dir(unowned).items()):
            putative.append(
                PutativeTarget.for_target_type(
                    target_type, path=directory, name=None, triggering_sources=sorted(filenames)
                )
            )
    return PutativeTargets(putative)


def rules() -> list[Rule | UnionRule]:
    return [*collect_rules(), UnionRule(PutativeTargetsRequest, PutativeNexflowTargetsRequest)]
