"""`pants check`: Nexflow diagnostics (with their NX codes) for every target, without generating.

Each target is checked by its interface process (codegen.py) against its dependencies' interface
files; a failing target's diagnostics are reported, and the others are still checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.core.goals.check import CheckRequest, CheckResult, CheckResults
from pants.engine.rules import Get, MultiGet, Rule, collect_rules, rule
from pants.engine.target import FieldSet
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from nexflow.codegen import NexflowCheckOutcome, NexflowUnitRequest
from nexflow.target_types import NexflowSourceField


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


def rules() -> list[Rule | UnionRule]:
    return [*collect_rules(), UnionRule(CheckRequest, NexflowCheckRequest)]
