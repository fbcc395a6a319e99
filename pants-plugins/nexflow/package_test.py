"""`nexflow_flink_job`: the job jar carries the job, the runtime and the libraries a Flink
cluster lacks, and leaves out what it provides together with everything that depends from it.

The rule runs with its engine requests answered here (Pants' `run_rule_with_mocks`): the job's
classpath and the JVM lockfile are given, and the request to Pants' jar tool is captured and
checked. Compiling real Java and running the jar tool in-process would need a JDK and Coursier
in the test; `./pants package examples::` (tests/build, CI) covers the jars themselves.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import pytest
from pants.build_graph.address import Address
from pants.core.goals.package import BuiltPackage
from pants.engine.addresses import Addresses
from pants.engine.fs import EMPTY_DIGEST, AddPrefix, Digest, FileDigest, MergeDigests
from pants.engine.target import CoarsenedTargets
from pants.jvm.classpath import Classpath
from pants.jvm.compile import ClasspathEntry
from pants.jvm.jar_tool.jar_tool import JarToolRequest
from pants.jvm.resolve.common import Coordinate, Coordinates
from pants.jvm.resolve.coursier_fetch import (
    CoursierLockfileEntry,
    CoursierResolvedLockfile,
    classpath_dest_filename,
)
from pants.jvm.resolve.key import CoursierResolveKey
from pants.jvm.strip_jar.strip_jar import StripJarRequest
from pants.jvm.subsystems import JvmSubsystem
from pants.testutil.option_util import create_subsystem
from pants.testutil.rule_runner import MockGet, run_rule_with_mocks

from nexflow.package import (
    NexflowFlinkJobFieldSet,
    NexflowFlinkJobTarget,
    NexflowJarBaseline,
    NexflowJarBaselineRequest,
    baseline_index,
    package_nexflow_flink_job,
)
from nexflow.subsystem import NexflowSubsystem

# group:artifact -> its transitive dependencies, as in a Coursier lockfile.
LOCKED: Dict[str, List[str]] = {
    "org.apache.flink:flink-streaming-java": [
        "org.apache.flink:flink-core",
        "com.esotericsoftware:kryo",
    ],
    "org.apache.flink:flink-core": ["com.esotericsoftware:kryo"],
    "com.esotericsoftware:kryo": [],
    "org.apache.flink:flink-connector-base": [],
    "org.apache.flink:flink-connector-kafka": [
        "org.apache.flink:flink-connector-base",
        "org.apache.kafka:kafka-clients",
    ],
    "org.apache.kafka:kafka-clients": [],
    "com.fasterxml.jackson.core:jackson-databind": ["com.fasterxml.jackson.core:jackson-core"],
    "com.fasterxml.jackson.core:jackson-core": [],
}
VERSION = "1.0"


def coordinate(group_artifact: str) -> Coordinate:
    return Coordinate.from_coord_str(f"{group_artifact}:{VERSION}")


def jar_of(group_artifact: str) -> str:
    """The name Pants gives the artifact's jar on a classpath."""
    return classpath_dest_filename(coordinate(group_artifact).to_coord_str(), "x.jar")


LOCKFILE = CoursierResolvedLockfile(
    entries=tuple(
        CoursierLockfileEntry(
            coord=coordinate(ga),
            file_name=f"{ga.split(':')[1]}-{VERSION}.jar",
            direct_dependencies=Coordinates(coordinate(d) for d in deps),
            dependencies=Coordinates(coordinate(d) for d in deps),
            file_digest=FileDigest("0" * 64, 1),
        )
        for ga, deps in LOCKED.items()
    )
)
RESOLVE_KEY = CoursierResolveKey("jvm-default", "3rdparty/jvm/default.lock", EMPTY_DIGEST)

# The job's own classes and the runtime's, compiled by javac from generated Java.
OWN_JARS = ["flow.screen.proc.javac.jar", "nexflow-runtime.javac.jar"]


def job_classpath() -> Classpath:
    artifacts = [ClasspathEntry(EMPTY_DIGEST, (jar_of(ga),)) for ga in LOCKED]
    runtime = ClasspathEntry(EMPTY_DIGEST, (OWN_JARS[1],), artifacts)
    job = ClasspathEntry(EMPTY_DIGEST, (OWN_JARS[0],), [runtime])
    return Classpath((job,), RESOLVE_KEY)


# The job's baseline (its files come from the compiler: check_test.py builds a real one).
BASELINE = NexflowJarBaseline(
    EMPTY_DIGEST,
    (
        (
            "__interfaces/flow/screen.proc.nxi",
            "META-INF/nexflow/baseline/interfaces/flow/screen.proc.nxi",
        ),
        ("__nexflow_baseline.json", "META-INF/nexflow/baseline/baseline.json"),
        (
            "__states/flow/screen.proc/Screen.state.json",
            "META-INF/nexflow/baseline/Screen.state.json",
        ),
    ),
)


def package(
    provided: Optional[Sequence[str]] = None, reproducible: bool = True
) -> Tuple[BuiltPackage, Dict[str, Any]]:
    """Runs the package rule; returns its BuiltPackage and the requests it made."""
    values: Dict[str, Any] = {"main": "nexflow.flow.ScreenJob"}
    if provided is not None:
        values["provided"] = provided
    target = NexflowFlinkJobTarget(values, Address("flow", target_name="job"))
    seen: Dict[str, Any] = {}

    def record(key: str) -> Callable[[Any], Digest]:
        def mock(request: Any) -> Digest:
            seen[key] = request
            return EMPTY_DIGEST

        return mock

    built = run_rule_with_mocks(
        package_nexflow_flink_job,
        rule_args=[
            NexflowFlinkJobFieldSet.create(target),
            create_subsystem(
                NexflowSubsystem,
                provided_artifacts=[
                    "org.apache.flink:flink-streaming-java",
                    "org.apache.flink:flink-connector-base",
                ],
            ),
            create_subsystem(JvmSubsystem, reproducible_jars=reproducible),
        ],
        mock_gets=[
            MockGet(NexflowJarBaseline, (NexflowJarBaselineRequest,), lambda _: BASELINE),
            MockGet(Classpath, (Addresses,), lambda _: job_classpath()),
            MockGet(CoarsenedTargets, (Addresses,), lambda _: CoarsenedTargets()),
            MockGet(CoursierResolveKey, (CoarsenedTargets,), lambda _: RESOLVE_KEY),
            MockGet(CoursierResolvedLockfile, (CoursierResolveKey,), lambda _: LOCKFILE),
            MockGet(Digest, (MergeDigests,), record("merge")),
            MockGet(Digest, (JarToolRequest,), record("jar")),
            MockGet(Digest, (StripJarRequest,), record("strip")),
            MockGet(Digest, (AddPrefix,), record("prefix")),
        ],
    )
    assert isinstance(built, BuiltPackage)
    return built, seen


def test_job_jar_leaves_out_what_flink_provides() -> None:
    built, seen = package()
    jar: JarToolRequest = seen["jar"]
    assert jar.main_class == "nexflow.flow.ScreenJob"
    assert jar.jar_name == "job.jar"
    assert jar.compress
    # Flink's streaming API, all it depends on (flink-core, kryo) and the connector base are
    # left out; the Kafka connector, the Kafka client and Jackson are bundled.
    assert list(jar.jars) == [
        *OWN_JARS,
        jar_of("org.apache.flink:flink-connector-kafka"),
        jar_of("org.apache.kafka:kafka-clients"),
        jar_of("com.fasterxml.jackson.core:jackson-databind"),
        jar_of("com.fasterxml.jackson.core:jackson-core"),
    ]
    # The jar carries its baseline, laid out as a baseline directory under META-INF.
    assert dict(jar.file_mappings) == dict(BASELINE.file_mappings)
    # Reproducible: timestamps stripped from the jar, which lands at the target's output path.
    assert seen["strip"].filenames == ("job.jar",)
    assert [a.relpath for a in built.artifacts] == ["flow/job.jar"]


def test_provided_field_overrides_the_option() -> None:
    _, seen = package(provided=["org.apache.kafka:kafka-clients"], reproducible=False)
    jars = seen["jar"].jars
    assert jar_of("org.apache.kafka:kafka-clients") not in jars
    assert jar_of("org.apache.flink:flink-streaming-java") in jars
    assert jar_of("com.esotericsoftware:kryo") in jars
    assert "strip" not in seen


@pytest.mark.parametrize("provided", [[], ["no.such:artifact"]])
def test_nothing_provided_bundles_the_whole_classpath(provided: List[str]) -> None:
    _, seen = package(provided=provided)
    assert list(seen["jar"].jars) == [*OWN_JARS, *(jar_of(ga) for ga in LOCKED)]


def test_baseline_index_is_the_one_nexflow_baseline_writes() -> None:
    # nexflow_core/compat/baseline.py: json.dumps(indent=2, sort_keys=True) and a newline.
    index = baseline_index({"production"}, {"B", "A"})
    assert index.decode().splitlines() == [
        "{",
        '  "environment": "production",',
        '  "format": 1,',
        '  "jobs": [',
        '    "A",',
        '    "B"',
        "  ]",
        "}",
    ]
    assert index.endswith(b"}\n")
    # Jobs bound to several environments: a baseline binds one, so it names none.
    assert b'"environment": null' in baseline_index({"dev", "production"}, set())
