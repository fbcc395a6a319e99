"""`pants test` for `nexflow_test` targets (nxtest.py), in-process.

The compiler, the JDK and Coursier are not run here. Dependency inference gets the symbol map
from a written `nexflow symbols` report (as dependency_inference_test.py) and each test file's
subjects from a written list (what the compiler's test-file parser prints); the test process is
built by the real rule with its engine requests answered by `run_rule_with_mocks`, and checked
for what it runs: `nexflow test FILE` behind the JDK's preparation script, with exactly the
test's DSL files, the JDK and the jars. Real runs are `./pants test examples/card-fraud:tests`
(CI's `./pants test ::`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Tuple

import pytest
from pants.backend.python.util_rules.pex import VenvPexProcess
from pants.build_graph.address import Address
from pants.core.goals.test import ShowOutput, TestSubsystem
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.core.util_rules.system_binaries import BashBinary
from pants.engine.addresses import Addresses
from pants.engine.fs import (
    EMPTY_DIGEST,
    CreateDigest,
    Digest,
    DigestContents,
    FileContent,
    MergeDigests,
    PathGlobs,
    Snapshot,
)
from pants.engine.process import Process, ProcessCacheScope
from pants.engine.rules import Get, QueryRule, rule
from pants.engine.target import (
    DependenciesRequest,
    InferDependenciesRequest,
    TransitiveTargets,
    TransitiveTargetsRequest,
)
from pants.engine.unions import UnionRule
from pants.jvm.classpath import Classpath
from pants.jvm.compile import ClasspathEntry
from pants.jvm.dependency_inference.artifact_mapper import AllJvmArtifactTargets
from pants.jvm.jdk_rules import JdkEnvironment, JdkRequest
from pants.jvm.resolve.key import CoursierResolveKey
from pants.jvm.subsystems import JvmSubsystem
from pants.jvm.target_types import JvmArtifactTarget
from pants.testutil.option_util import create_goal_subsystem, create_subsystem
from pants.testutil.rule_runner import MockGet, RuleRunner, run_rule_with_mocks
from pants.util.frozendict import FrozenDict
from pants.util.ordered_set import FrozenOrderedSet

from nexflow.codegen import NexflowGenerator
from nexflow.dependency_inference import _JOB_ARTIFACTS
from nexflow.nxtest import (
    InferNexflowTestDependencies,
    NexflowTestFieldSet,
    NexflowTestSetup,
    NexflowTestSetupRequest,
    NexflowTestSubjects,
    NexflowTestSubjectsRequest,
    dsl_directories,
    infer_nexflow_test_dependencies,
    setup_nexflow_test,
)
from nexflow.subsystem import NexflowSubsystem
from nexflow.symbol_map import (
    AllNexflowTargets,
    NexflowSymbolMap,
    NexflowSymbolMapRequest,
    find_all_nexflow_targets,
    symbol_map_from_report,
)
from nexflow.target_types import (
    ALL_TARGET_TYPES,
    TEST_TARGET_TYPES,
    NexflowRulesFileTarget,
    NexflowSourceField,
    NexflowTestDependenciesField,
    NexflowTestSourceField,
    NexflowTestTarget,
    NexflowTransformTarget,
)

REPORT = "nexflow-symbols.json"
SUBJECTS = "subjects.json"


@rule
async def symbol_map_from_written_report(
    request: NexflowSymbolMapRequest, targets: AllNexflowTargets
) -> NexflowSymbolMap:
    (content,) = await Get(DigestContents, PathGlobs([REPORT]))
    owner = {tgt[NexflowSourceField].file_path: tgt.address for tgt in targets}
    return symbol_map_from_report(json.loads(content.content), owner)


@rule
async def subjects_from_written_list(request: NexflowTestSubjectsRequest) -> NexflowTestSubjects:
    # {test file path: the names its cases test}, as the compiler's parser would print them.
    (content,) = await Get(DigestContents, PathGlobs([SUBJECTS]))
    path = request.address.filename
    return NexflowTestSubjects(tuple(json.loads(content.content).get(path, [])))


@pytest.fixture
def rule_runner() -> RuleRunner:
    return RuleRunner(
        rules=[
            infer_nexflow_test_dependencies,
            find_all_nexflow_targets,
            symbol_map_from_written_report,
            subjects_from_written_list,
            *NexflowSubsystem.rules(),
            UnionRule(InferDependenciesRequest, InferNexflowTestDependencies),
            QueryRule(Addresses, [DependenciesRequest]),
        ],
        target_types=[*ALL_TARGET_TYPES, *TEST_TARGET_TYPES, JvmArtifactTarget],
    )


def declaring(path: str, *names: str) -> Dict[str, Any]:
    """A DSL file as `nexflow symbols` reports it: tables, rulesets and transforms are types."""
    return {
        "path": path,
        "kind": path.rsplit(".", 1)[1],
        "declares": [{"namespace": "type", "name": n} for n in names],
        "references": [],
        "may_depend_on": [],
        "error": None,
    }


REPO_REPORT = [
    declaring("cards/fraud.rules", "FraudDecision", "Screening"),
    declaring("cards/mcc.transform", "merchant_category_risk"),
    declaring("cards/cards.schema", "Authorization"),
    declaring("shared/risk.transform", "shared_risk"),
    # Two files declare `Limits`: a test of it must say which it means.
    declaring("cards/limits.rules", "Limits"),
    declaring("legacy/limits.rules", "Limits"),
]

BUILDS = {
    "cards/BUILD": 'nexflow_schemas(name="schemas")\nnexflow_transforms(name="transforms")\n'
    'nexflow_rules(name="rules")\nnexflow_tests(name="tests")\n',
    "shared/BUILD": 'nexflow_transforms(name="transforms")\n',
    "legacy/BUILD": 'nexflow_rules(name="rules")\n',
}


def write_repo(
    rule_runner: RuleRunner,
    subjects: Mapping[str, List[str]],
    builds: Mapping[str, str] = BUILDS,
) -> None:
    files = {e["path"]: "" for e in REPO_REPORT}
    files.update({path: "" for path in subjects})
    files.update(builds)
    files[REPORT] = json.dumps(REPO_REPORT)
    files[SUBJECTS] = json.dumps(subjects)
    rule_runner.write_files(files)


def address_of(path: str) -> Address:
    directory, name = path.rsplit("/", 1)
    return Address(directory, target_name="tests", relative_file_path=name)


def dependencies(rule_runner: RuleRunner, path: str) -> List[str]:
    target = rule_runner.get_target(address_of(path))
    assert isinstance(target, NexflowTestTarget)
    addresses = rule_runner.request(
        Addresses, [DependenciesRequest(target[NexflowTestDependenciesField])]
    )
    return sorted(str(a) for a in addresses)


def test_one_target_per_test_file_depending_on_what_it_tests(rule_runner: RuleRunner) -> None:
    write_repo(
        rule_runner,
        {
            "cards/fraud.nxtest": ["FraudDecision", "Screening", "merchant_category_risk"],
            "cards/shared.nxtest": ["shared_risk"],
        },
    )
    # `nexflow_tests()` makes a `nexflow_test` per file; each depends on the files declaring
    # the tables, rulesets and transforms its cases name, wherever they are.
    assert dependencies(rule_runner, "cards/fraud.nxtest") == [
        "cards/fraud.rules:rules",
        "cards/mcc.transform:transforms",
    ]
    assert dependencies(rule_runner, "cards/shared.nxtest") == ["shared/risk.transform:transforms"]


def test_an_unknown_name_infers_nothing_and_an_ambiguous_one_is_settled_by_dependencies(
    rule_runner: RuleRunner, caplog: pytest.LogCaptureFixture
) -> None:
    # An unknown subject is not an inference error: the test's run reports it at its line.
    write_repo(rule_runner, {"cards/typo.nxtest": ["FraudDecisoin"]})
    assert dependencies(rule_runner, "cards/typo.nxtest") == []

    write_repo(rule_runner, {"cards/limits.nxtest": ["Limits"]})
    with caplog.at_level(logging.WARNING):
        assert dependencies(rule_runner, "cards/limits.nxtest") == []
    assert "tests `Limits`, which several targets declare" in caplog.text
    assert "legacy/limits.rules" in caplog.text

    builds = dict(BUILDS)
    builds["cards/BUILD"] = BUILDS["cards/BUILD"].replace(
        'nexflow_tests(name="tests")',
        'nexflow_tests(name="tests", dependencies=["legacy/limits.rules:rules"])',
    )
    write_repo(rule_runner, {"cards/limits.nxtest": ["Limits"]}, builds)
    assert dependencies(rule_runner, "cards/limits.nxtest") == ["legacy/limits.rules:rules"]


def test_inference_switched_off(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner, {"cards/fraud.nxtest": ["FraudDecision"]})
    rule_runner.set_options(["--nexflow-infer-dependencies=false"])
    assert dependencies(rule_runner, "cards/fraud.nxtest") == []


def test_dsl_directories_outside_the_test_files_own() -> None:
    # `nexflow test FILE` reads the DSL files of FILE's directory and below; others are named.
    paths = ["cards/fraud.rules", "cards/sub/x.schema", "shared/risk.transform", "top.schema"]
    assert dsl_directories("cards/fraud.nxtest", paths) == (".", "shared")
    assert dsl_directories("top.nxtest", paths) == ()
    assert dsl_directories("cards/a.nxtest", ["cardsx/y.schema"]) == ("cardsx",)


# --- the test process --------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeJdk:
    """What the rule reads of a JdkEnvironment (Pants' own needs Coursier to make)."""

    immutable_input_digests: Mapping[str, Digest]
    env: Mapping[str, str]
    append_only_caches: Mapping[str, str]
    jdk_preparation_script: str = JdkEnvironment.jdk_preparation_script


JDK = FakeJdk(
    immutable_input_digests={"__jdk": EMPTY_DIGEST, "__coursier": EMPTY_DIGEST},
    env={"COURSIER_CACHE": ".cache/coursier"},
    append_only_caches={"coursier": ".cache/coursier"},
)

JARS = [
    "org.apache.flink_flink-core_1.0.jar",
    "com.fasterxml.jackson.core_jackson-databind_1.0.jar",
]
# Each jar's digest: Pants links each classpath entry under a directory named by its digest.
JAR_DIGESTS = [Digest("a" * 64, 1), Digest("b" * 64, 2)]


def artifact_targets() -> AllJvmArtifactTargets:
    return AllJvmArtifactTargets(
        JvmArtifactTarget(
            {"group": c.group, "artifact": c.artifact, "version": "1.0"},
            Address("3rdparty/jvm", target_name=c.artifact),
        )
        for c in _JOB_ARTIFACTS
    )


def fake_pex_process(request: Any) -> Process:
    # As Pants' VenvPexProcess rule: the venv's entry point, then the arguments.
    return Process(
        argv=("nexflow.pex_pex_shim.sh", *request.argv),
        description=request.description,
        input_digest=request.input_digest,
        append_only_caches={"pex_root": ".cache/pex_root"},
        timeout_seconds=request.timeout_seconds,
        cache_scope=request.cache_scope,
    )


def setup(
    files: Tuple[str, ...], force: bool = False, timeout: int = 60
) -> Tuple[Process, Dict[str, Any]]:
    """The test process for flow/fraud.nxtest whose upstream DSL files are `files`."""
    target = NexflowTestTarget(
        {"source": "fraud.nxtest", "timeout": timeout},
        Address("flow", target_name="tests", relative_file_path="fraud.nxtest"),
    )
    seen: Dict[str, Any] = {}

    def sources(request: SourceFilesRequest) -> SourceFiles:
        (field, *_) = request.sources_fields
        if isinstance(field, NexflowTestSourceField):
            names: Tuple[str, ...] = ("flow/fraud.nxtest",)
        else:
            seen["dsl_fields"] = len(request.sources_fields)
            names = files
        return SourceFiles(Snapshot.create_for_testing(names, ()), ())

    def classpath(addresses: Addresses) -> Classpath:
        seen["artifacts"] = sorted(a.target_name for a in addresses)
        entries = [ClasspathEntry(d, (jar,)) for d, jar in zip(JAR_DIGESTS, JARS)]
        return Classpath(tuple(entries), CoursierResolveKey("jvm-default", "x.lock", EMPTY_DIGEST))

    def created(request: CreateDigest) -> Digest:
        seen["created"] = request
        return EMPTY_DIGEST

    # The test's transitive dependencies: DSL targets, and others (a jvm_artifact) whose files
    # are no input of the test.
    upstream = [
        NexflowRulesFileTarget(
            {"source": "fraud.rules"},
            Address("flow", target_name="rules", relative_file_path="fraud.rules"),
        ),
        NexflowTransformTarget(
            {"source": "risk.transform"},
            Address("shared", target_name="transforms", relative_file_path="risk.transform"),
        ),
        *artifact_targets()[:1],
    ]
    generator = NexflowGenerator(pex=None)  # type: ignore[arg-type]
    result: NexflowTestSetup = run_rule_with_mocks(
        setup_nexflow_test,
        rule_args=[
            NexflowTestSetupRequest(NexflowTestFieldSet.create(target)),
            generator,
            BashBinary("/usr/bin/bash"),
            create_subsystem(
                JvmSubsystem, default_resolve="jvm-default", resolves={"jvm-default": "x.lock"}
            ),
            artifact_targets(),
            create_goal_subsystem(
                TestSubsystem,
                force=force,
                timeouts=True,
                timeout_default=600,
                timeout_maximum=None,
                output=ShowOutput.FAILED,
            ),
        ],
        mock_gets=[
            MockGet(
                TransitiveTargets,
                (TransitiveTargetsRequest,),
                lambda _: TransitiveTargets((), FrozenOrderedSet(upstream)),
            ),
            MockGet(SourceFiles, (SourceFilesRequest,), sources),
            MockGet(JdkEnvironment, (JdkRequest,), lambda _: JDK),
            MockGet(Classpath, (Addresses,), classpath),
            MockGet(Digest, (MergeDigests,), lambda _: EMPTY_DIGEST),
            MockGet(Digest, (CreateDigest,), created),
            MockGet(Process, (VenvPexProcess,), fake_pex_process),
        ],
    )
    return result.process, seen


def test_the_process_runs_nexflow_test_on_the_file_behind_the_jdk_with_the_jars() -> None:
    process, seen = setup(("flow/fraud.rules", "shared/risk.transform"))
    classpath = [
        f"__nexflow_classpath/{d.fingerprint[:12]}/{jar}" for d, jar in zip(JAR_DIGESTS, JARS)
    ]
    assert process.argv == (
        # Pants' JDK script links the JDK at __java_home, then runs the compiler.
        "/usr/bin/bash",
        "__jdk/jdk.sh",
        "nexflow.pex_pex_shim.sh",
        "test",
        "flow/fraud.nxtest",
        # shared/risk.transform is not below flow/: its directory is named.
        "shared",
        "--java-home",
        "__java_home",
        "--classpath",
        "__nexflow_classpath.txt",
    )
    # The file holding the classpath, each jar once, is an input with the DSL files.
    assert seen["created"] == CreateDigest(
        [FileContent("__nexflow_classpath.txt", ":".join(classpath).encode())]
    )
    # The DSL files of the two DSL targets only; the jars of every artifact generated jobs
    # compile against, from the test's resolve.
    assert seen["dsl_fields"] == 2
    assert seen["artifacts"] == sorted(c.artifact for c in _JOB_ARTIFACTS)
    assert dict(process.immutable_input_digests) == {
        "__jdk": EMPTY_DIGEST,
        "__coursier": EMPTY_DIGEST,
        **{f"__nexflow_classpath/{d.fingerprint[:12]}": d for d in JAR_DIGESTS},
    }
    assert process.env == FrozenDict(
        {"COURSIER_CACHE": ".cache/coursier", "PANTS_INTERNAL_ABSOLUTE_PREFIX": ""}
    )
    assert dict(process.append_only_caches) == {
        "pex_root": ".cache/pex_root",
        "coursier": ".cache/coursier",
    }
    # Cached when it passes; the target's timeout.
    assert process.cache_scope == ProcessCacheScope.SUCCESSFUL
    assert process.timeout_seconds == 60


def test_force_runs_again_and_the_timeout_is_capped_by_the_test_options() -> None:
    process, _ = setup(("flow/fraud.rules",), force=True, timeout=900)
    assert process.cache_scope == ProcessCacheScope.PER_SESSION
    assert process.timeout_seconds == 900
    assert process.argv[3:6] == ("test", "flow/fraud.nxtest", "--java-home")
