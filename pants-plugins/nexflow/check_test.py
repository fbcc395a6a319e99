"""The upgrade gate in `pants check` (`[nexflow].baseline`), with the real compiler.

A RuleRunner repository holds the compiler (this repository's nexflow_core and its locked
requirements, through `//:build_inputs`) and a small pipeline: a schema, an environment and a
proc bound to it, and a `nexflow_flink_job`. The baseline is the one the job jar would carry
(package.py's jar-baseline rule, laid out by its jar paths), so these tests also hold that the
jar's baseline is one the gate reads. Starting Pants and building the compiler's PEX is slow:
the tests share one RuleRunner and change the sources between checks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Dict, Iterator, List, Sequence, Tuple

import pytest
from pants.backend.python import target_types_rules as python_target_types_rules
from pants.backend.python.dependency_inference import rules as python_dependency_inference
from pants.backend.python.goals import lockfile as python_lockfile
from pants.backend.python.macros import python_requirements
from pants.backend.python.macros.python_requirements import PythonRequirementsTargetGenerator
from pants.backend.python.target_types import (
    PexBinary,
    PythonRequirementTarget,
    PythonSourcesGeneratorTarget,
    PythonSourceTarget,
)
from pants.build_graph.address import Address
from pants.core.goals.check import CheckResults
from pants.core.target_types import (
    LockfilesGeneratorTarget,
    LockfileTarget,
    ResourcesGeneratorTarget,
    ResourceTarget,
)
from pants.engine.fs import Digest, DigestContents
from pants.engine.rules import QueryRule
from pants.jvm.target_types import JvmArtifactTarget
from pants.testutil.rule_runner import RuleRunner

from nexflow import register
from nexflow.check import NexflowCheckFieldSet, NexflowCompatCheckRequest
from nexflow.dependency_inference import _JOB_ARTIFACTS
from nexflow.package import (
    JAR_BASELINE_DIR,
    NexflowJarBaseline,
    NexflowJarBaselineRequest,
)

# This file is pants-plugins/nexflow/check_test.py: the repository (or the sandbox) is above.
REPO = Path(__file__).resolve().parents[2]

COMPILER_BUILD = """\
python_sources(name="src", sources=["**/*.py"])
resources(
    name="data",
    sources=["syntax/*.lark", "**/templates/**/*", "generate/*/runtime/*.java"],
)
pex_binary(
    name="nexflow",
    entry_point="nexflow_core.cli:main",
    dependencies=[":src", ":data"],
    execution_mode="venv",
)
"""

ARTIFACTS = "".join(
    f'jvm_artifact(name="{c.artifact}", group="{c.group}", artifact="{c.artifact}", '
    'version="1.0")\n'
    for c in _JOB_ARTIFACTS
)

SCHEMA = """schema Order {
    order_id: string @key
    customer: string
    quantity: int
}

stream orders: Order
stream large_orders: Order
"""

INFRA = """environment local {
    streams {
        orders {
            file: "data/orders.jsonl"
        }
        large_orders {
            file: "out/large_orders.jsonl"
        }
    }
}
"""

PROC = """proc Large {
    from orders
    key by customer
    state seen: long ttl 1 hour
    state last_quantity: int ttl 1 hour
    update seen = coalesce(seen, 0) + 1
    update last_quantity = quantity
    filter quantity >= 10
    emit to large_orders
}
"""

FLOW_BUILD = """\
nexflow_schema(name="orders", source="orders.schema")
nexflow_infra_file(name="local", source="local.infra", dependencies=[":orders"])
nexflow_proc(
    name="large", source="large.proc", environment="local", dependencies=[":orders", ":local"]
)
nexflow_flink_job(name="job", main="nexflow.flow.LargeJob", dependencies=[":large"])
"""

# Python, pex and the JDK are found as ./pants finds them.
ENV = {"PATH", "PYENV_ROOT", "HOME", "JAVA_HOME"}
# ./pants's machine settings (its pex, the CA bundle), passed on by the BUILD's extra_env_vars.
MACHINE = {k: v for k, v in os.environ.items() if k.startswith("PANTS_")}
OPTIONS = [
    "--nexflow-infer-dependencies=false",
    "--python-enable-resolves",
    "--python-interpreter-constraints=['CPython>=3.9,<3.12']",
    "--python-resolves={'python-default': '3rdparty/python/default.lock'}",
    "--source-root-patterns=['/']",
]


@pytest.fixture(scope="module")
def rule_runner() -> Iterator[RuleRunner]:
    runner = RuleRunner(
        rules=[
            *register.rules(),
            # What building the compiler's PEX from python_sources and requirements needs.
            *python_target_types_rules.rules(),
            *python_dependency_inference.rules(),
            *python_requirements.rules(),
            # python_requirements depend on their resolve's lockfile (a synthetic target).
            *python_lockfile.rules(),
            QueryRule(CheckResults, [NexflowCompatCheckRequest]),
            QueryRule(NexflowJarBaseline, [NexflowJarBaselineRequest]),
            QueryRule(DigestContents, [Digest]),
        ],
        target_types=[
            *register.target_types(),
            PexBinary,
            PythonSourcesGeneratorTarget,
            PythonSourceTarget,
            PythonRequirementsTargetGenerator,
            PythonRequirementTarget,
            ResourcesGeneratorTarget,
            ResourceTarget,
            LockfilesGeneratorTarget,
            LockfileTarget,
            JvmArtifactTarget,
        ],
    )
    root = Path(runner.build_root)
    shutil.copytree(
        REPO / "nexflow_core", root / "nexflow_core", ignore=shutil.ignore_patterns("__pycache__")
    )
    for build in (root / "nexflow_core").rglob("BUILD"):
        build.unlink()
    runner.write_files(
        {
            "nexflow_core/BUILD": COMPILER_BUILD,
            "3rdparty/python/BUILD": 'python_requirements(name="reqs", source="requirements.txt")',
            "3rdparty/python/requirements.txt": (
                REPO / "3rdparty/python/requirements.txt"
            ).read_text(),
            "3rdparty/python/default.lock": (REPO / "3rdparty/python/default.lock").read_text(),
            "BUILD": f'nexflow_runtime(name="nexflow-runtime")\n{ARTIFACTS}',
            "flow/BUILD": FLOW_BUILD,
        }
    )
    # The release: these sources, and the baseline their job jar carries.
    _sources(runner)
    runner.set_options(OPTIONS, env=MACHINE, env_inherit=ENV)
    RELEASE.update(_keep_release_baseline(runner))
    yield runner


# The release's baseline files (path in the baseline directory -> bytes), kept by the fixture.
RELEASE: Dict[str, bytes] = {}


def _sources(runner: RuleRunner, schema: str = SCHEMA, proc: str = PROC) -> None:
    runner.write_files(
        {"flow/orders.schema": schema, "flow/local.infra": INFRA, "flow/large.proc": proc}
    )


def _keep_release_baseline(runner: RuleRunner) -> Dict[str, bytes]:
    """The baseline the job jar carries, written under `baseline/` as `nexflow baseline
    --from-jar` would extract it (jar path below JAR_BASELINE_DIR)."""
    jar = runner.request(
        NexflowJarBaseline, [NexflowJarBaselineRequest(Address("flow", target_name="job"))]
    )
    contents = {c.path: c.content for c in runner.request(DigestContents, [jar.digest])}
    files = {}
    for path, in_jar in jar.file_mappings:
        assert in_jar.startswith(JAR_BASELINE_DIR + "/")
        files[in_jar[len(JAR_BASELINE_DIR) + 1 :]] = contents[path]
    runner.write_files({f"baseline/{name}": data.decode() for name, data in files.items()})
    return files


def _check(runner: RuleRunner, *options: str) -> Tuple[int, List[Tuple[str, int, str]]]:
    runner.set_options(
        [*OPTIONS, "--nexflow-baseline=baseline", *options], env=MACHINE, env_inherit=ENV
    )
    targets = [
        runner.get_target(Address("flow", target_name=name))
        for name in ("orders", "local", "large")
    ]
    results = runner.request(
        CheckResults,
        [NexflowCompatCheckRequest([NexflowCheckFieldSet.create(t) for t in targets])],
    )
    partitions = [
        (str(r.partition_description), r.exit_code, r.stdout + r.stderr) for r in results.results
    ]
    return results.exit_code, partitions


def _output(partitions: Sequence[Tuple[str, int, str]], address: str) -> str:
    return next(out for name, _, out in partitions if name == address)


def test_the_jar_carries_a_baseline_the_gate_reads(rule_runner: RuleRunner) -> None:
    files = RELEASE
    assert sorted(files) == [
        "Large.state.json",
        "baseline.json",
        "interfaces/flow/large.proc.nxi",
        "interfaces/flow/local.infra.nxi",
        "interfaces/flow/orders.schema.nxi",
    ]
    assert b'"environment": "local"' in files["baseline.json"]

    # The same sources: nothing to say but the job's verdict. The infra unit runs no gate.
    _sources(rule_runner)
    code, partitions = _check(rule_runner)
    assert code == 0, partitions
    assert [name for name, _, _ in partitions] == ["flow:large", "flow:orders"]
    assert "Large: compatible" in _output(partitions, "flow:large")

    # A change that keeps every state (a filter's threshold): still compatible.
    _sources(rule_runner, proc=PROC.replace(">= 10", ">= 20"))
    code, partitions = _check(rule_runner)
    assert code == 0, partitions


def test_a_renamed_state_fails_unless_its_loss_is_allowed(rule_runner: RuleRunner) -> None:
    _sources(rule_runner, proc=PROC.replace("last_quantity", "previous_quantity"))
    code, partitions = _check(rule_runner)
    assert code == 1
    out = _output(partitions, "flow:large")
    assert "Large: compatible, loses previous_quantity" in out
    assert "flow/large.proc:5:1: warning[NX603]" in out
    assert _output(partitions, "flow:orders") == ""

    code, partitions = _check(rule_runner, "--nexflow-allow-state-loss=['Large.previous_quantity']")
    assert code == 0, partitions
    assert "loses previous_quantity: allowed" in _output(partitions, "flow:large")


def test_a_breaking_contract_change_fails_at_its_line(rule_runner: RuleRunner) -> None:
    _sources(
        rule_runner,
        schema=SCHEMA.replace("quantity: int\n", "quantity: int\n    channel: string\n"),
    )
    code, partitions = _check(rule_runner)
    assert code == 1
    out = _output(partitions, "flow:orders")
    assert "flow/orders.schema:5:" in out and "error[NX622]" in out
    assert "stream orders (compatibility backward)" in out
