"""`pants tailor`: the generator target of each layer for every directory with DSL files no
target owns, `nexflow_tests` for test files, and nothing where targets exist or tailoring is
switched off."""

from __future__ import annotations

import pytest
from pants.core.goals.tailor import AllOwnedSources, PutativeTarget, PutativeTargets
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner

from nexflow.tailor import PutativeNexflowTargetsRequest
from nexflow.tailor import rules as tailor_rules
from nexflow.target_types import (
    NexflowInfraGeneratorTarget,
    NexflowProcsGeneratorTarget,
    NexflowRulesGeneratorTarget,
    NexflowSchemasGeneratorTarget,
    NexflowTestsGeneratorTarget,
    NexflowTransformsGeneratorTarget,
)


@pytest.fixture
def rule_runner() -> RuleRunner:
    return RuleRunner(
        rules=[
            *tailor_rules(),
            QueryRule(PutativeTargets, (PutativeNexflowTargetsRequest, AllOwnedSources)),
        ],
    )


FILES = {
    "flows/cards/payments.schema": "",
    "flows/cards/enrich.transform": "",
    "flows/cards/fraud.rules": "",
    "flows/cards/score.proc": "",
    "flows/cards/alerts.proc": "",
    "flows/cards/dev.infra": "",
    "flows/cards/fraud.nxtest": "",
    "flows/cards/notes.txt": "",
    "flows/other/other.schema": "",
}


def _tailor(rule_runner: RuleRunner, dirs: tuple[str, ...], owned: list[str]) -> PutativeTargets:
    return rule_runner.request(
        PutativeTargets, [PutativeNexflowTargetsRequest(dirs), AllOwnedSources(owned)]
    )


def test_one_generator_per_layer_for_unowned_files(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(FILES)
    proposed = _tailor(rule_runner, ("flows/cards", "flows/other"), [])
    expected = [
        (NexflowSchemasGeneratorTarget, "flows/cards", ["payments.schema"]),
        (NexflowSchemasGeneratorTarget, "flows/other", ["other.schema"]),
        (NexflowTransformsGeneratorTarget, "flows/cards", ["enrich.transform"]),
        (NexflowRulesGeneratorTarget, "flows/cards", ["fraud.rules"]),
        (NexflowProcsGeneratorTarget, "flows/cards", ["alerts.proc", "score.proc"]),
        (NexflowInfraGeneratorTarget, "flows/cards", ["dev.infra"]),
        (NexflowTestsGeneratorTarget, "flows/cards", ["fraud.nxtest"]),
    ]
    assert proposed == PutativeTargets(
        PutativeTarget.for_target_type(tt, path=path, name=None, triggering_sources=files)
        for tt, path, files in expected
    )
    # The aliases a BUILD file gets, without a name: `nexflow_procs()` and so on.
    assert {pt.type_alias for pt in proposed} == {
        "nexflow_schemas",
        "nexflow_transforms",
        "nexflow_rules",
        "nexflow_procs",
        "nexflow_infra",
        "nexflow_tests",
    }


def test_nothing_for_owned_files_or_other_directories(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(FILES)
    owned = [p for p in FILES if p.startswith("flows/cards/") and p != "flows/cards/alerts.proc"]
    proposed = _tailor(rule_runner, ("flows/cards",), owned)
    # One proc is still unowned: a target for it alone; flows/other was not asked about.
    assert proposed == PutativeTargets(
        [
            PutativeTarget.for_target_type(
                NexflowProcsGeneratorTarget,
                path="flows/cards",
                name=None,
                triggering_sources=["alerts.proc"],
            )
        ]
    )
    assert _tailor(rule_runner, ("flows/cards",), [*owned, "flows/cards/alerts.proc"]) == (
        PutativeTargets()
    )


def test_switched_off(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(FILES)
    rule_runner.set_options(["--nexflow-tailor=false"])
    assert _tailor(rule_runner, ("flows/cards", "flows/other"), []) == PutativeTargets()
