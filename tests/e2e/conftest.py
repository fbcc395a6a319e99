"""Fixtures for the end-to-end tests: a real Kafka broker, a real standalone Flink cluster and a
real MongoDB-wire-compatible database (FerretDB).

Both are session-scoped (all files under tests/e2e run in one pytest process, see BUILD), start on
loopback with ports chosen at run time, and stop in their finalizers whatever happens. See
docs/testing.md for how pipeline tests use them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.infra.faults import FAULTS, HEADER, format_row, summary_line
from tests.e2e.infra.ferretdb import FerretDB, running_ferretdb
from tests.e2e.infra.flink import E2E_TOKEN_KEY, FlinkCluster, running_cluster
from tests.e2e.infra.kafka import KafkaBroker, find_broker_jar, running_broker
from tests.e2e.infra.timings import REPORTS, TIMINGS, record_timing


def pytest_terminal_summary(terminalreporter) -> None:
    """Measured durations (see `./pants test tests/e2e:: --test-output=all`)."""
    if TIMINGS:
        terminalreporter.section("e2e timings")
        for what, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{what}: {seconds:.1f} s")
    for title, text in REPORTS.items():
        terminalreporter.section(title)
        for line in text.splitlines():
            terminalreporter.write_line(line)
    if FAULTS:
        terminalreporter.section("fault matrix")
        terminalreporter.write_line(HEADER)
        for row in FAULTS:
            terminalreporter.write_line(format_row(row))
        terminalreporter.write_line(summary_line(FAULTS))


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A single-node KRaft broker; `.bootstrap_servers` is `127.0.0.1:<port>`.

    Shared by the whole session: create topics with `unique_topic(prefix)` so tests never collide.
    """
    with running_broker(find_broker_jar(), tmp_path_factory.mktemp("kafka")) as broker:
        record_timing("kafka broker start (format + start + answering)", broker.start_seconds)
        yield broker


@pytest.fixture(scope="session")
def ferretdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerretDB]:
    """FerretDB (SQLite backend) on loopback; `.uri` is `mongodb://127.0.0.1:<port>/`.

    Shared by the whole session: use a database name of your own per test.
    """
    with running_ferretdb(tmp_path_factory.mktemp("ferretdb")) as server:
        record_timing("ferretdb build (cold; absent when cached)", server.build_seconds)
        record_timing("ferretdb start (answering ping)", server.start_seconds)
        yield server


@pytest.fixture(scope="session")
def flink_session_cluster(
    tmp_path_factory: pytest.TempPathFactory, ferretdb: FerretDB
) -> Iterator[FlinkCluster]:
    """The session's Flink cluster (1 JobManager, 2 TaskManagers with 2 slots each).

    Its daemons have MONGO_URI set to the session's FerretDB, as a production TaskManager has
    the secrets its jobs' environments reference (`uri: env("MONGO_URI")`), and the token key
    (NEXFLOW_TOKEN_KEY) a cluster job needs for @sensitive values.
    """
    daemon_env = {"MONGO_URI": ferretdb.uri, "NEXFLOW_TOKEN_KEY": E2E_TOKEN_KEY}
    with running_cluster(tmp_path_factory.mktemp("flink"), extra_env=daemon_env) as cluster:
        record_timing("flink distribution from cache or PyPI", cluster.distribution_seconds)
        record_timing(
            "flink cluster start (JobManager + 2 TaskManagers registered)", cluster.start_seconds
        )
        yield cluster


@pytest.fixture
def flink_cluster(flink_session_cluster: FlinkCluster) -> Iterator[FlinkCluster]:
    """The session's Flink cluster, handed over clean and taken back clean for each test.

    After the test, jobs it left running are cancelled and killed TaskManagers are replaced, so
    a failing test cannot take slots away from the next one.
    """
    cluster = flink_session_cluster
    yield cluster
    cluster.cancel_all_jobs()
    running = len(cluster.taskmanager_pids())
    if running < cluster.taskmanagers:
        for _ in range(cluster.taskmanagers - running):
            cluster.start_taskmanager()
        cluster.wait_for_taskmanagers(cluster.taskmanagers)
