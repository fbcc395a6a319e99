"""`pants check`: Nexflow diagnostics (with their NX codes) for every target, without generating,
and, with `[nexflow].baseline` set, the upgrade gate (docs/upgrades.md).

Each target is checked by its interface process (codegen.py) against its dependencies' interface
files; a failing target's diagnostics are reported, and the others are still checked.

The gate is a checker of its own (`nexflow-compat`, so `pants check --only=nexflow-compat` runs it
alone). Per target one cached process runs `nexflow compile FILE --compat-baseline DIR`: a proc
bound to an environment against the baseline's `<Job>.state.json` files (its jobs' state
verdicts), a schema file against the baseline's interfaces (its streams' and stores'
contracts). Its inputs are the unit's (its file and upstream interfaces) and only the baseline
files that kind of unit reads, so an unchanged unit with an unchanged baseline does not run
again. Other targets contribute nothing to the gate and run nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from pants.backend.python.util_rules.pex import VenvPexProcess
from pants.base.glob_match_error_behavior import GlobMatchErrorBehavior
from pants.build_graph.address import Address
from pants.core.goals.check import CheckRequest, CheckResult, CheckResults
from pants.engine.fs import Digest, GlobExpansionConjunction, MergeDigests, PathGlobs
from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.target import FieldSet
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from nexflow.codegen import (
    NexflowCheckOutcome,
    NexflowGenerator,
    NexflowUnit,
    NexflowUnitRequest,
    java_package_argv,
    speculate_late,
)
from nexflow.subsystem import NexflowSubsystem
from nexflow.target_types import NexflowEnvironmentField, NexflowSourceField


@dataclass(frozen=True)
class NexflowCheckFieldSet(FieldSet):
    required_fields = (NexflowSourceField,)

    source: NexflowSourceField


class NexflowCheckRequest(CheckRequest):
    field_set_type = NexflowCheckFieldSet
    tool_name = "nexflow"


@rule(desc="Check Nexflow DSL files", level=LogLevel.DEBUG)
async def check_nexflow(request: NexflowCheckRequest) -> CheckResults:
    outcomes = await MultiGet(
        Get(NexflowCheckOutcome, NexflowUnitRequest(field_set.address))
        for field_set in request.field_sets
    )
    results = [
        CheckResult.from_fallible_process_result(
            outcome.result, partition_description=str(outcome.address)
        )
        for outcome in sorted(outcomes, key=lambda o: o.address)
    ]
    return CheckResults(results, checker_name=request.tool_name)


# --- the upgrade gate --------------------------------------------------------------------------


class NexflowCompatCheckRequest(CheckRequest):
    field_set_type = NexflowCheckFieldSet
    tool_name = "nexflow-compat"


@dataclass(frozen=True)
class NexflowCompatRequest:
    address: Address


@dataclass(frozen=True)
class NexflowCompatOutcome:
    """The gate's answer for one unit; `result` is None for a unit it has nothing to compare
    (not a schema file, nor a proc bound to an environment)."""

    address: Address
    result: Optional[FallibleProcessResult]


def baseline_globs(directory: str, source_path: str, environment: Optional[str]) -> Tuple[str, ...]:
    """The baseline files a unit's gate reads: the index, and the state descriptions (a proc
    bound to an environment) or the interfaces (a schema file); () for any other unit."""
    if source_path.endswith(".proc") and environment:
        return (f"{directory}/baseline.json", f"{directory}/*.state.json")
    if source_path.endswith(".schema"):
        return (f"{directory}/baseline.json", f"{directory}/interfaces/**/*.nxi")
    return ()


def compat_argv(
    unit: NexflowUnit, directory: str, environment: Optional[str], nexflow: NexflowSubsystem
) -> Tuple[str, ...]:
    argv = [
        "compile",
        unit.source_path,
        *java_package_argv(unit.target),
        "--compat-baseline",
        directory,
    ]
    if environment:
        argv += ["--environment", environment]
        for allowed in nexflow.allow_state_loss:
            argv += ["--allow-loss", allowed]
        if nexflow.allow_non_restored_state:
            argv.append("--allow-non-restored-state")
    return (*argv, *unit.upstream_argv)


@rule(desc="Run the upgrade gate on a Nexflow unit", level=LogLevel.DEBUG)
async def nexflow_compat_unit(
    request: NexflowCompatRequest, generator: NexflowGenerator, nexflow: NexflowSubsystem
) -> NexflowCompatOutcome:
    directory = nexflow.baseline_dir()
    unit = await Get(NexflowUnit, NexflowUnitRequest(request.address))
    environment = unit.target.get(NexflowEnvironmentField).value
    globs = baseline_globs(directory, unit.source_path, environment) if directory else ()
    if not directory or not globs:
        return NexflowCompatOutcome(request.address, None)
    baseline = await Get(
        Digest,
        PathGlobs(
            globs,
            # A baseline directory without its index is said by the gate itself (exit 2); a
            # directory that is not there at all is the option's error.
            glob_match_error_behavior=GlobMatchErrorBehavior.error,
            conjunction=GlobExpansionConjunction.any_match,
            description_of_origin="the option `[nexflow].baseline`",
        ),
    )
    input_digest = await Get(Digest, MergeDigests([unit.input_digest, baseline]))
    process = await Get(
        Process,
        VenvPexProcess(
            generator.pex,
            argv=compat_argv(unit, directory, environment, nexflow),
            input_digest=input_digest,
            description=f"Upgrade gate for {unit.target.address} (Nexflow)",
            level=LogLevel.DEBUG,
        ),
    )
    result = await Get(FallibleProcessResult, Process, speculate_late(process))
    return NexflowCompatOutcome(request.address, result)


@rule(desc="Run the Nexflow upgrade gate", level=LogLevel.DEBUG)
async def check_nexflow_compat(
    request: NexflowCompatCheckRequest, nexflow: NexflowSubsystem
) -> CheckResults:
    if nexflow.baseline_dir() is None:
        return CheckResults([], checker_name=request.tool_name)
    outcomes = await MultiGet(
        Get(NexflowCompatOutcome, NexflowCompatRequest(field_set.address))
        for field_set in request.field_sets
    )
    results = [
        CheckResult.from_fallible_process_result(
            outcome.result, partition_description=str(outcome.address)
        )
        for outcome in sorted(outcomes, key=lambda o: o.address)
        if outcome.result is not None
    ]
    return CheckResults(results, checker_name=request.tool_name)


def rules() -> list[Rule | UnionRule]:
    return [
        *collect_rules(),
        UnionRule(CheckRequest, NexflowCheckRequest),
        UnionRule(CheckRequest, NexflowCompatCheckRequest),
    ]
