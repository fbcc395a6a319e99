"""Dependency inference from DSL names and from a proc's environment, in-process.

The compiler is not run here: `nexflow symbols` (what each file declares and refers to) is
replaced by its report, written by each test as the compiler writes it (the shape of
`nexflow symbols --output`). Everything after it is the plugin's: which target owns a name,
ambiguity settled by explicit `dependencies`, layering, the nearest directory's environment and
the `[nexflow].infer_dependencies` switch.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Sequence, Tuple

import pytest
from pants.build_graph.address import Address
from pants.engine.addresses import Addresses
from pants.engine.fs import DigestContents, PathGlobs
from pants.engine.internals.scheduler import ExecutionError
from pants.engine.rules import Get, QueryRule, rule
from pants.engine.target import DependenciesRequest, InferDependenciesRequest, InferredDependencies
from pants.engine.unions import UnionRule
from pants.testutil.rule_runner import RuleRunner

from nexflow.dependency_inference import (
    InferNexflowEnvironment,
    InferNexflowReferences,
    NexflowEnvironmentFieldSet,
    NexflowReferencesFieldSet,
    infer_nexflow_environment,
    infer_nexflow_references,
)
from nexflow.subsystem import NexflowSubsystem
from nexflow.symbol_map import (
    AllNexflowTargets,
    NexflowSymbolMap,
    NexflowSymbolMapRequest,
    find_all_nexflow_targets,
    symbol_map_from_report,
)
from nexflow.target_types import ALL_TARGET_TYPES, NexflowDependenciesField, NexflowSourceField

REPORT = "nexflow-symbols.json"


@rule
async def symbol_map_from_written_report(
    request: NexflowSymbolMapRequest, targets: AllNexflowTargets
) -> NexflowSymbolMap:
    # Fails (no such file) if a test that writes no report asks for the map.
    (content,) = await Get(DigestContents, PathGlobs([REPORT]))
    owner = {tgt[NexflowSourceField].file_path: tgt.address for tgt in targets}
    return symbol_map_from_report(json.loads(content.content), owner)


@pytest.fixture
def rule_runner() -> RuleRunner:
    return RuleRunner(
        rules=[
            infer_nexflow_references,
            infer_nexflow_environment,
            find_all_nexflow_targets,
            symbol_map_from_written_report,
            *NexflowSubsystem.rules(),
            UnionRule(InferDependenciesRequest, InferNexflowReferences),
            UnionRule(InferDependenciesRequest, InferNexflowEnvironment),
            QueryRule(InferredDependencies, [InferNexflowReferences]),
            QueryRule(InferredDependencies, [InferNexflowEnvironment]),
            QueryRule(Addresses, [DependenciesRequest]),
        ],
        target_types=ALL_TARGET_TYPES,
    )


Names = Sequence[Tuple[str, str]]

MAY_DEPEND_ON = {
    "schema": ["schema"],
    "transform": ["schema", "transform"],
    "rules": ["schema", "transform", "rules"],
    "proc": ["schema", "transform", "rules", "proc"],
    "infra": ["schema"],
}


def entry(path: str, declares: Names = (), references: Names = ()) -> Dict[str, Any]:
    """One file as `nexflow symbols` reports it."""
    kind = path.rsplit(".", 1)[1]
    return {
        "path": path,
        "kind": kind,
        "declares": [{"namespace": ns, "name": n} for ns, n in declares],
        "references": [{"namespace": ns, "name": n} for ns, n in references],
        "may_depend_on": MAY_DEPEND_ON[kind],
        "error": None,
    }


def write_repo(
    rule_runner: RuleRunner, builds: Dict[str, str], report: List[Dict[str, Any]]
) -> None:
    files = {path: "" for path in (e["path"] for e in report)}
    files.update({f"{d}/BUILD": text for d, text in builds.items()})
    files[REPORT] = json.dumps(report)
    rule_runner.write_files(files)


# Generator targets are named after their layer: several share a directory.
GENERATOR_NAME = {
    "schema": "schemas",
    "transform": "transforms",
    "rules": "rules",
    "proc": "procs",
    "infra": "infra",
}


def file_address(path: str) -> Address:
    directory, name = path.rsplit("/", 1)
    generator = GENERATOR_NAME[name.rsplit(".", 1)[1]]
    return Address(directory, relative_file_path=name, target_name=generator)


def inferred(rule_runner: RuleRunner, path: str) -> List[str]:
    target = rule_runner.get_target(file_address(path))
    result = rule_runner.request(
        InferredDependencies, [InferNexflowReferences(NexflowReferencesFieldSet.create(target))]
    )
    return sorted(a.filename for a in result.include)


def dependencies(rule_runner: RuleRunner, path: str) -> List[str]:
    target = rule_runner.get_target(file_address(path))
    result = rule_runner.request(
        Addresses, [DependenciesRequest(target[NexflowDependenciesField])]
    )
    return sorted(a.filename for a in result)


CARDS = [
    entry("cards/payment.schema", [("type", "Payment"), ("stream", "payments")]),
    entry("cards/risk.transform", [("type", "risk_of")], [("type", "Payment")]),
    entry("cards/decide.rules", [("type", "Decide")], [("type", "Payment"), ("type", "risk_of")]),
    entry("cards/screen.proc", [("type", "Screen")], [("stream", "payments"), ("type", "Decide")]),
    entry("cards/production.infra", [("environment", "production")], [("stream", "payments")]),
]
CARDS_BUILD = (
    'nexflow_schemas(name="schemas")\nnexflow_transforms(name="transforms")\n'
    'nexflow_rules(name="rules")\nnexflow_infra(name="infra")\n'
    'nexflow_procs(name="procs", environment="production")\n'
)


def test_owner_of_each_referenced_name(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner, {"cards": CARDS_BUILD}, CARDS)
    assert inferred(rule_runner, "cards/payment.schema") == []
    assert inferred(rule_runner, "cards/risk.transform") == ["cards/payment.schema"]
    assert inferred(rule_runner, "cards/decide.rules") == [
        "cards/payment.schema",
        "cards/risk.transform",
    ]
    assert inferred(rule_runner, "cards/screen.proc") == [
        "cards/decide.rules",
        "cards/payment.schema",
    ]
    assert inferred(rule_runner, "cards/production.infra") == ["cards/payment.schema"]
    # Through the build graph: the proc also gets its environment's infra file.
    assert dependencies(rule_runner, "cards/screen.proc") == [
        "cards/decide.rules",
        "cards/payment.schema",
        "cards/production.infra",
    ]


def test_environment_of_the_nearest_declaring_directory(rule_runner: RuleRunner) -> None:
    # eu/ declares its own production; us/ has none and takes its parent's, never eu/'s.
    report = [
        entry("flows/production.infra", [("environment", "production")]),
        entry("flows/eu/production.infra", [("environment", "production")]),
        entry("flows/eu/screen.proc"),
        entry("flows/us/screen.proc"),
    ]
    procs = 'nexflow_procs(name="procs", environment="production")\n'
    infra = 'nexflow_infra(name="infra")\n'
    builds = {"flows": infra, "flows/eu": infra + procs}
    write_repo(rule_runner, {**builds, "flows/us": procs}, report)

    def environment_of(path: str) -> List[str]:
        field_set = NexflowEnvironmentFieldSet.create(rule_runner.get_target(file_address(path)))
        result = rule_runner.request(InferredDependencies, [InferNexflowEnvironment(field_set)])
        return sorted(a.filename for a in result.include)

    assert environment_of("flows/eu/screen.proc") == ["flows/eu/production.infra"]
    assert environment_of("flows/us/screen.proc") == ["flows/production.infra"]


SCHEMAS = 'nexflow_schemas(name="schemas")\n'
AMBIGUOUS = [
    entry("a/greeting.schema", [("type", "Greeting")]),
    entry("b/greeting.schema", [("type", "Greeting")]),
    entry("app/streams.schema", [("stream", "greetings")], [("type", "Greeting")]),
]


def _ambiguity_warnings(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "several targets declare" in r.getMessage()
    ]


def test_ambiguous_owner_warns_and_infers_none(
    rule_runner: RuleRunner, caplog: pytest.LogCaptureFixture
) -> None:
    builds = {d: SCHEMAS for d in ("a", "b", "app")}
    write_repo(rule_runner, builds, AMBIGUOUS)
    with caplog.at_level(logging.WARNING):
        assert inferred(rule_runner, "app/streams.schema") == []
        # A warning, not a failure: the build graph still resolves.
        assert dependencies(rule_runner, "app/streams.schema") == []
    (warning,) = set(_ambiguity_warnings(caplog))
    assert "`Greeting`" in warning
    assert "a/greeting.schema" in warning and "b/greeting.schema" in warning


def test_explicit_dependency_settles_ambiguity(
    rule_runner: RuleRunner, caplog: pytest.LogCaptureFixture
) -> None:
    builds = {
        "a": SCHEMAS,
        "b": SCHEMAS,
        "app": 'nexflow_schemas(name="schemas", dependencies=["b/greeting.schema:schemas"])\n',
    }
    write_repo(rule_runner, builds, AMBIGUOUS)
    with caplog.at_level(logging.WARNING):
        assert inferred(rule_runner, "app/streams.schema") == ["b/greeting.schema"]
        assert dependencies(rule_runner, "app/streams.schema") == ["b/greeting.schema"]
    assert _ambiguity_warnings(caplog) == []


def _error_of(rule_runner: RuleRunner, path: str) -> str:
    with pytest.raises(ExecutionError) as raised:
        inferred(rule_runner, path)
    return str(raised.value)


def test_unknown_name_and_layering_violation_fail(rule_runner: RuleRunner) -> None:
    report = [
        *CARDS,
        entry("bad/typo.transform", [("type", "t")], [("type", "Paymnet")]),
        entry("bad/upside_down.schema", [("type", "U")], [("type", "Decide")]),
    ]
    bad = 'nexflow_schemas(name="schemas")\nnexflow_transforms(name="transforms")\n'
    builds = {"cards": CARDS_BUILD, "bad": bad}
    write_repo(rule_runner, builds, report)
    typo = _error_of(rule_runner, "bad/typo.transform")
    assert "`Paymnet`, which no Nexflow target declares" in typo
    assert "Did you mean: Payment" in typo
    layering = _error_of(rule_runner, "bad/upside_down.schema")
    assert "Layering violation" in layering and "cards/decide.rules (rules)" in layering


def test_switched_off(rule_runner: RuleRunner) -> None:
    builds = {"a": SCHEMAS, "app": SCHEMAS}
    report = [AMBIGUOUS[0], AMBIGUOUS[2]]
    write_repo(rule_runner, builds, report)
    assert inferred(rule_runner, "app/streams.schema") == ["a/greeting.schema"]
    rule_runner.set_options(["--nexflow-infer-dependencies=false"])
    # Without a report: switched off, inference must not even ask for the symbol map.
    rule_runner.write_files({REPORT: "not json"})
    assert inferred(rule_runner, "app/streams.schema") == []


