"""The one generate-sources request for the five layers, as Pants' JVM backend sees it.

Pants 2.17 compiles a target's generated Java only if its JVM classpath finds exactly one
provider for the target (`ClasspathEntryRequestFactory.for_targets` in pants/jvm/compile.py);
for a generator target such as `nexflow_procs` it looks for a codegen request's `input` field
among the generated target's fields. These tests build that factory from the plugin's real rules
and ask it about every Nexflow target of a small repository (no compiler, no javac).
"""

from __future__ import annotations

from typing import Dict, List

import pytest
from pants.backend.java.compile.javac import CompileJavaSourceRequest
from pants.backend.java.target_types import JavaSourceField
from pants.build_graph.address import Address
from pants.engine.addresses import Addresses
from pants.engine.fs import EMPTY_DIGEST
from pants.engine.internals.scheduler import ExecutionError
from pants.engine.rules import QueryRule
from pants.engine.target import CoarsenedTargets, GenerateSourcesRequest
from pants.jvm.compile import ClasspathEntryRequestFactory
from pants.jvm.resolve.key import CoursierResolveKey
from pants.jvm.target_types import JvmArtifactTarget
from pants.testutil.rule_runner import RuleRunner

from nexflow import register
from nexflow.codegen import GenerateJavaFromNexflowRequest, GenerateNexflowRuntimeRequest
from nexflow.dependency_inference import _JOB_ARTIFACTS
from nexflow.package import NexflowFlinkJobClasspathEntryRequest


@pytest.fixture
def rule_runner() -> RuleRunner:
    rule_runner = RuleRunner(
        rules=[
            *register.rules(),
            QueryRule(ClasspathEntryRequestFactory, []),
            QueryRule(CoarsenedTargets, [Addresses]),
        ],
        target_types=[*register.target_types(), JvmArtifactTarget],
    )
    # Dependencies from DSL names need the compiler (not run here); the runtime and the Flink
    # artifacts are still injected.
    rule_runner.set_options(["--nexflow-infer-dependencies=false"])
    return rule_runner


ARTIFACTS = "".join(
    f'jvm_artifact(name="{c.artifact}", group="{c.group}", artifact="{c.artifact}", '
    'version="1.0")\n'
    for c in _JOB_ARTIFACTS
)

FILES = {
    "BUILD": f'nexflow_runtime(name="nexflow-runtime")\n{ARTIFACTS}',
    "flow/payment.schema": "",
    "flow/enrich.transform": "",
    "flow/decide.rules": "",
    "flow/screen.proc": "",
    "flow/dev.infra": "",
    "flow/BUILD": (
        'nexflow_schemas(name="schemas")\nnexflow_transforms(name="transforms")\n'
        'nexflow_rules(name="rules")\nnexflow_procs(name="procs")\nnexflow_infra(name="infra")\n'
        'nexflow_flink_job(name="job", main="nexflow.flow.ScreenJob", dependencies=[":procs"])\n'
    ),
}


def test_one_request_serves_the_five_layers(rule_runner: RuleRunner) -> None:
    members = rule_runner.union_membership.get(GenerateSourcesRequest)
    to_java = [
        m for m in members if m.output is JavaSourceField and m.__module__ == "nexflow.codegen"
    ]
    assert sorted(m.__name__ for m in to_java) == sorted(
        [GenerateJavaFromNexflowRequest.__name__, GenerateNexflowRuntimeRequest.__name__]
    )


def _providers(rule_runner: RuleRunner, roots: List[Address]) -> Dict[str, type]:
    """The classpath provider Pants picks for each target in the closure of `roots` (which
    must be what `pants package` starts from: the job targets)."""
    factory = rule_runner.request(ClasspathEntryRequestFactory, [])
    coarsened = rule_runner.request(CoarsenedTargets, [Addresses(roots)])
    key = CoursierResolveKey("jvm-default", "3rdparty/jvm/default.lock", EMPTY_DIGEST)
    providers = {}
    for component in coarsened.coarsened_closure():
        root = any(member.address in roots for member in component.members)
        request = factory.for_targets(component, key, root=root)
        for member in component.members:
            providers[member.address.spec] = type(request)
    return providers


def test_jvm_classpath_compiles_every_nexflow_target(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(FILES)
    names = ("schemas", "transforms", "rules", "procs", "infra")
    generators = [Address("flow", target_name=n) for n in names]
    files = [
        Address("flow", relative_file_path=f, target_name=n)
        for f, n in [
            ("payment.schema", "schemas"),
            ("enrich.transform", "transforms"),
            ("decide.rules", "rules"),
            ("screen.proc", "procs"),
            ("dev.infra", "infra"),
        ]
    ]
    job = Address("flow", target_name="job")
    # The job depends on `:procs`; the other generators are roots of their own, as in
    # `pants check ::` (javac over every target).
    providers = _providers(rule_runner, [job])
    providers.update(_providers(rule_runner, generators))
    # Generator targets, the targets they generate and the runtime: javac over generated Java.
    for address in [*generators, *files, Address("", target_name="nexflow-runtime")]:
        assert providers[address.spec] is CompileJavaSourceRequest, address
    assert providers[job.spec] is NexflowFlinkJobClasspathEntryRequest


def test_a_file_of_another_layer_is_refused(rule_runner: RuleRunner) -> None:
    # One source field for all layers: each singular target still checks its extension.
    rule_runner.write_files(
        {"x/a.proc": "", "x/BUILD": 'nexflow_schema(name="s", source="a.proc")\n'}
    )
    with pytest.raises(ExecutionError) as raised:
        rule_runner.get_target(Address("x", target_name="s"))
    assert "must be a `.schema` file (a `nexflow_schema` target)" in str(raised.value)
