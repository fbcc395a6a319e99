"""A real standalone Flink cluster (one JobManager, two TaskManagers) on loopback.

The distribution comes from PyPI: `apache-flink` carries `bin/` and `conf/` (under `pyflink/`) and
`apache-flink-libraries` carries `lib/`, `opt/`, `plugins/` and `bin/bash-java-utils.jar`. Both
wheels are downloaded once, without dependencies, into
`${XDG_CACHE_HOME:-~/.cache}/nexflow-test/flink-<version>/wheels/` and unpacked next to them into
one FLINK_HOME (`.../flink-<version>/flink/`), which every later session reuses read-only.

Each cluster gets its own directory for what a cluster writes: conf (FLINK_CONF_DIR), logs
(FLINK_LOG_DIR), PID files (FLINK_PID_DIR), temporary files, checkpoints and savepoints. Daemons are
started with Flink's own scripts (`bin/jobmanager.sh start`, `bin/taskmanager.sh start`), jobs are
submitted with `bin/flink run`, and everything else goes through the REST API.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from tests.e2e.infra import procs
from tests.e2e.infra.procs import InfraError
from tests.e2e.infra.watchdog import start_watchdog

# The Flink of the job jars (3rdparty/jvm/BUILD pins FLINK_VERSION; keep the two equal).
FLINK_VERSION = "2.2.1"
# Wheels whose bin/ and conf/ we take are platform wheels; any CPython tag has the same scripts.
_WHEEL_PYTHON = "3.11"

IDENT = "nexflow-e2e"
JOB_ID = re.compile(r"JobID\s+([0-9a-f]{32})")
TERMINAL_STATES = {"FINISHED", "FAILED", "CANCELED", "SUSPENDED"}


# -- the distribution ------------------------------------------------------------------------------


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nexflow-test"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between sessions (and other engineers' test runs) sharing the cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pip_command() -> list[str]:
    """A Python that has pip: the test's own interpreter (a Pex venv has none) or its base."""
    candidates = [sys.executable, str(Path(sys.base_prefix) / "bin" / "python3")]
    for name in ("python3", "python"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    tried = []
    for python in dict.fromkeys(candidates):
        probe = subprocess.run(
            [python, "-m", "pip", "--version"],
            capture_output=True,
            text=True,
            env=procs.child_env("pip-probe"),
        )
        if probe.returncode == 0:
            return [python, "-m", "pip"]
        tried.append(python)
    raise InfraError(
        "the Flink distribution is downloaded with `pip download`, and none of these Pythons has "
        f"pip: {tried}"
    )


def _wheel(wheels: Path, project: str, version: str) -> Optional[Path]:
    found = sorted(wheels.glob(f"{project}-{version}-*.whl"))
    return found[0] if found else None


def _download_wheels(wheels: Path, version: str) -> None:
    machine = platform.machine()
    staging = wheels.with_name("wheels.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    cmd = [
        *_pip_command(),
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        _WHEEL_PYTHON,
        "--platform",
        f"manylinux2014_{machine}",
        "--dest",
        str(staging),
        f"apache-flink=={version}",
        f"apache-flink-libraries=={version}",
    ]
    result = subprocess.run(
        cmd, capture_output=True, text=True, env=procs.child_env("pip-download"), timeout=1800
    )
    if result.returncode != 0:
        raise InfraError(
            f"downloading the Flink {version} distribution from PyPI failed:\n$ {' '.join(cmd)}\n"
            + result.stdout[-3000:]
            + result.stderr[-3000:]
        )
    wheels.mkdir(parents=True, exist_ok=True)
    for whl in staging.glob("*.whl"):
        whl.replace(wheels / whl.name)
    shutil.rmtree(staging, ignore_errors=True)


def _unpack(archive: Path, dest: Path, prefixes: Sequence[str]) -> int:
    """Extract members under `pyflink/<prefix>` to `dest/<prefix>`, keeping Unix modes."""
    count = 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = info.filename
            if not name.startswith("pyflink/") or info.is_dir():
                continue
            rel = name[len("pyflink/") :]
            if not any(rel.startswith(p) for p in prefixes):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            if rel.startswith("bin/") and not rel.endswith((".jar", ".bat")):
                mode |= 0o755
            os.chmod(target, mode or 0o644)
            count += 1
    return count


REQUIRED_FILES = (
    "bin/flink",
    "bin/config.sh",
    "bin/jobmanager.sh",
    "bin/taskmanager.sh",
    "bin/flink-daemon.sh",
    "bin/bash-java-utils.jar",
    "conf/config.yaml",
    "conf/log4j.properties",
)


def flink_distribution(version: str = FLINK_VERSION) -> Path:
    """FLINK_HOME of Flink `version`, laid out from PyPI wheels on first use, cached after."""
    root = cache_root() / f"flink-{version}"
    home = root / "flink"
    marker = home / ".nexflow-complete"
    if marker.is_file():
        return home
    with _locked(root / ".lock"):
        if marker.is_file():
            return home
        wheels = root / "wheels"
        if not (
            _wheel(wheels, "apache_flink", version)
            and _wheel(wheels, "apache_flink_libraries", version)
        ):
            _download_wheels(wheels, version)
        scripts = _wheel(wheels, "apache_flink", version)
        libraries = _wheel(wheels, "apache_flink_libraries", version)
        if not (scripts and libraries):
            raise InfraError(f"pip did not leave both Flink {version} wheels in {wheels}")
        # Left by a session killed while unpacking (we hold the lock, so none is in use).
        for stale in root.glob("flink.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        staging = root / f"flink.partial-{os.getpid()}"
        _unpack(scripts, staging, ("bin/", "conf/"))
        _unpack(libraries, staging, ("bin/", "lib/", "opt/", "plugins/"))
        missing = [f for f in REQUIRED_FILES if not (staging / f).is_file()]
        if not list((staging / "lib").glob("flink-dist*.jar")):
            missing.append("lib/flink-dist-*.jar")
        if missing:
            raise InfraError(
                f"the Flink {version} wheels ({scripts.name}, {libraries.name}) do not make a "
                f"distribution: missing {missing}"
            )
        shutil.rmtree(home, ignore_errors=True)
        staging.rename(home)
        marker.write_text(f"{scripts.name}\n{libraries.name}\n", "utf-8")
        return home


def shipped_java_options(flink_home: Path) -> str:
    """`env.java.opts.all` from the distribution's config.yaml (the JDK 17 --add-opens list)."""
    text = (flink_home / "conf" / "config.yaml").read_text("utf-8")
    match = re.search(r"^env:\s*\n\s+java:\s*\n\s+opts:\s*\n\s+all:\s*(.+)$", text, re.M)
    if not match:
        raise InfraError(f"no env.java.opts.all in {flink_home / 'conf' / 'config.yaml'}")
    return match.group(1).strip()


# -- the cluster -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSubmission:
    job_id: str
    output: str
    seconds: float


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))


class FlinkCluster:
    """A standalone session cluster: `start()` waits for all TaskManagers; `stop()` always."""

    def __init__(
        self,
        flink_home: Path,
        workdir: Path,
        *,
        taskmanagers: int = 2,
        slots_per_taskmanager: int = 2,
        java_home: Optional[Path] = None,
        extra_config: Optional[Mapping[str, Any]] = None,
        extra_env: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.flink_home = flink_home
        self.workdir = workdir
        self.taskmanagers = taskmanagers
        self.slots_per_taskmanager = slots_per_taskmanager
        self.java_home = java_home or procs.java_home()
        self.owner = procs.new_owner_mark("flink")
        self.rpc_port, self.rest_port = procs.free_ports(2)
        self.rest_url = f"http://{procs.LOOPBACK}:{self.rest_port}"
        self.conf_dir = workdir / "conf"
        self.log_dir = workdir / "log"
        self.pid_dir = workdir / "pids"
        self.checkpoint_dir = workdir / "checkpoints"
        self.savepoint_dir = workdir / "savepoints"
        self.extra_config = dict(extra_config or {})
        # Environment variables of every daemon: how secrets (`env("MONGO_URI")`) reach jobs.
        self.extra_env = dict(extra_env or {})
        self.start_seconds: Optional[float] = None
        self.distribution_seconds: Optional[float] = None
        self.killed_taskmanagers: list[int] = []
        self._watchdog = None
        self._env: dict[str, str] = {}

    # -- configuration -------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        tmp = self.workdir / "tmp"
        conf: dict[str, Any] = {
            "env.java.opts.all": shipped_java_options(self.flink_home),
            "env.java.opts.client": "-Xmx512m",
            "env.pid.dir": str(self.pid_dir),
            "env.log.dir": str(self.log_dir),
            "jobmanager.rpc.address": procs.LOOPBACK,
            "jobmanager.rpc.port": self.rpc_port,
            "jobmanager.bind-host": procs.LOOPBACK,
            "jobmanager.memory.process.size": "1024m",
            "jobmanager.execution.failover-strategy": "region",
            "taskmanager.host": procs.LOOPBACK,
            "taskmanager.bind-host": procs.LOOPBACK,
            "taskmanager.numberOfTaskSlots": self.slots_per_taskmanager,
            "taskmanager.memory.process.size": "1280m",
            # Managed memory only serves RocksDB and batch operators; give tests heap instead.
            "taskmanager.memory.managed.fraction": 0.1,
            # Spread a job's slots over the TaskManagers, so killing one always hits the job.
            "taskmanager.load-balance.mode": "SLOTS",
            "rest.address": procs.LOOPBACK,
            "rest.bind-address": procs.LOOPBACK,
            "rest.port": self.rest_port,
            "parallelism.default": 1,
            # Kryo fallback fails loudly (DESIGN §7).
            "pipeline.generic-types": False,
            "state.backend.type": "hashmap",
            "execution.checkpointing.dir": self.checkpoint_dir.as_uri(),
            "execution.checkpointing.savepoint-dir": self.savepoint_dir.as_uri(),
            "io.tmp.dirs": str(tmp / "io"),
            "web.tmpdir": str(tmp / "web"),
            "blob.storage.directory": str(tmp / "blobs"),
            # Recovery tests kill a TaskManager: notice it in seconds and restart promptly.
            "heartbeat.interval": 2000,
            "heartbeat.timeout": 10000,
            "restart-strategy.type": "fixed-delay",
            "restart-strategy.fixed-delay.attempts": 20,
            "restart-strategy.fixed-delay.delay": "1 s",
            "slot.request.timeout": 120000,
            # Job metrics over REST (numRestarts) are refreshed every second, not every 10 s.
            "metrics.fetcher.update-interval": 1000,
            # TaskManagers start before the JobManager listens; retry registering every 0.5 s
            # rather than after the default 10 s (saves ~10 s per cluster start).
            "cluster.registration.error-delay": 500,
            "cluster.registration.refused-registration-delay": 1000,
        }
        conf.update(self.extra_config)
        return conf

    def _write_conf(self) -> None:
        shipped = self.flink_home / "conf"
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for item in shipped.iterdir():
            if item.is_file() and item.name != "config.yaml":
                shutil.copy2(item, self.conf_dir / item.name)
        (self.conf_dir / "workers").write_text(f"{procs.LOOPBACK}\n" * self.taskmanagers)
        (self.conf_dir / "masters").write_text(f"{procs.LOOPBACK}:{self.rest_port}\n")
        lines = [f"{k}: {_yaml_scalar(v)}" for k, v in self.config().items()]
        (self.conf_dir / "config.yaml").write_text(
            "# Written by tests/e2e/infra/flink.py for one test session.\n"
            + "\n".join(lines)
            + "\n",
            "utf-8",
        )
        tmp = self.workdir / "tmp"
        for d in (
            self.log_dir,
            self.pid_dir,
            self.checkpoint_dir,
            self.savepoint_dir,
            tmp / "io",
            tmp / "web",
            tmp / "blobs",
        ):
            d.mkdir(parents=True, exist_ok=True)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 180.0) -> None:
        started = time.monotonic()
        self._write_conf()
        self._env = procs.child_env(
            self.owner,
            {
                "JAVA_HOME": str(self.java_home),
                "FLINK_HOME": str(self.flink_home),
                "FLINK_CONF_DIR": str(self.conf_dir),
                "FLINK_LOG_DIR": str(self.log_dir),
                "FLINK_PID_DIR": str(self.pid_dir),
                "FLINK_IDENT_STRING": IDENT,
                "HOSTNAME": "localhost",
                **self.extra_env,
            },
        )
        self._env.pop("FLINK_ENV_JAVA_OPTS", None)
        self._watchdog = start_watchdog(
            os.getpid(), self.owner, self._env, self.workdir / "watchdog.log"
        )
        # The scripts spend seconds in short JVMs (config parsing, memory sizing) before they start
        # a daemon; run them side by side. flink-daemon.sh serialises the PID file itself.
        self._scripts(
            [("jobmanager.sh", "start")] + [("taskmanager.sh", "start")] * self.taskmanagers
        )
        remaining = max(30.0, timeout - (time.monotonic() - started))
        self.wait_for_taskmanagers(self.taskmanagers, timeout=remaining)
        self.start_seconds = time.monotonic() - started

    def _script(self, name: str, *args: str, timeout: float = 120.0) -> None:
        self._scripts([(name, *args)], timeout=timeout)

    def _scripts(self, commands: Sequence[Sequence[str]], timeout: float = 120.0) -> None:
        """Run `bin/<script> <args>` commands concurrently; fail if any of them fails."""
        running = []
        for name, *args in commands:
            cmd = [str(self.flink_home / "bin" / name), *args]
            out = open(self.log_dir / "scripts.out", "a", encoding="utf-8")
            running.append(
                (
                    cmd,
                    out,
                    subprocess.Popen(
                        cmd,
                        env=self._env,
                        cwd=str(self.workdir),
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                )
            )
        failures = []
        deadline = time.monotonic() + timeout
        for cmd, out, process in running:
            try:
                code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                procs.terminate([process.pid], grace=2, groups=True)
                code = "timeout"
            out.close()
            if code != 0:
                failures.append(f"`{' '.join(cmd)}` exited with {code}")
        if failures:
            raise InfraError(
                "\n".join(failures)
                + "\n"
                + procs.tail(self.log_dir / "scripts.out")
                + "\n"
                + self.log_tails()
            )

    def _pids(self, daemon: str) -> list[int]:
        path = self.pid_dir / f"flink-{IDENT}-{daemon}.pid"
        try:
            return [int(line) for line in path.read_text().split() if line.strip()]
        except OSError:
            return []

    @property
    def jobmanager_pid(self) -> Optional[int]:
        pids = self._pids("standalonesession")
        return pids[0] if pids else None

    def taskmanager_pids(self) -> list[int]:
        """PIDs of the running TaskManagers, in start order (killed ones are left out)."""
        return [p for p in self._pids("taskexecutor") if procs.pid_alive(p)]

    def _give_up(self) -> Optional[str]:
        pid = self.jobmanager_pid
        if pid is not None and not procs.pid_alive(pid):
            return f"the JobManager (pid {pid}) exited"
        return None

    def stop(self, grace: float = 15.0) -> None:
        """Stop the JobManager and every TaskManager (SIGTERM, then SIGKILL), then leftovers."""
        try:
            pids = [
                p
                for p in self._pids("taskexecutor") + self._pids("standalonesession")
                if procs.pid_alive(p)
            ]
            procs.terminate(pids, grace=grace)
        finally:
            procs.kill_marked(self.owner)
            if self._watchdog is not None:
                procs.terminate([self._watchdog.pid], grace=2)
                self._watchdog.wait(timeout=5)

    # -- TaskManagers ----------------------------------------------------------------------------

    def kill_taskmanager(self, index: int) -> int:
        """`kill -9` the `index`-th running TaskManager (0-based, start order); returns its PID."""
        pids = self.taskmanager_pids()
        if not 0 <= index < len(pids):
            raise InfraError(f"no running TaskManager #{index}; running PIDs: {pids}")
        pid = pids[index]
        os.kill(pid, signal.SIGKILL)
        procs.wait_until(
            lambda: not procs.pid_alive(pid), timeout=10, what=f"TaskManager pid {pid} to die"
        )
        self.killed_taskmanagers.append(pid)
        return pid

    def start_taskmanager(self) -> int:
        """Start one more TaskManager (e.g. to replace a killed one); returns its PID.

        It is the last of `taskmanager_pids()`. Wait for it with `wait_for_taskmanagers(n)`.
        """
        self._script("taskmanager.sh", "start")
        return self._pids("taskexecutor")[-1]

    def registered_taskmanagers(self) -> list[dict[str, Any]]:
        return self.rest("/taskmanagers").get("taskmanagers", [])

    def wait_for_taskmanagers(self, count: int, timeout: float = 90.0) -> list[dict[str, Any]]:
        """Wait until exactly `count` TaskManagers are registered and all their slots offered.

        Also for fewer after a kill. A TaskManager registers first and reports its slots a moment
        later; a job submitted in between may find too few slots, so both are awaited.
        """

        def probe() -> Optional[list[dict[str, Any]]]:
            tms = self.registered_taskmanagers()
            if len(tms) != count:
                return None
            slots = sum(int(tm.get("slotsNumber", 0)) for tm in tms)
            if self.rest("/overview").get("slots-total") != slots:
                return None
            return tms

        return procs.wait_until(
            probe,
            timeout=timeout,
            what=f"{count} TaskManager(s) registered at {self.rest_url} with their slots",
            diagnostics=self.log_tails,
            give_up=self._give_up,
            interval=0.5,
        )

    # -- REST ------------------------------------------------------------------------------------

    def rest(self, path: str, method: str = "GET", body: Any = None, timeout: float = 10.0) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.rest_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            raise InfraError(
                f"{method} {path} -> HTTP {e.code}: {e.read().decode('utf-8', 'replace')[:2000]}"
            ) from None
        return json.loads(text) if text else None

    def jobs(self) -> list[dict[str, Any]]:
        """`/jobs/overview`: one dict per job (jid, name, state, start-time, duration, ...)."""
        return self.rest("/jobs/overview").get("jobs", [])

    def job(self, job_id: str) -> dict[str, Any]:
        return self.rest(f"/jobs/{job_id}")

    def job_state(self, job_id: str) -> str:
        return self.job(job_id)["state"]

    def job_exceptions(self, job_id: str) -> str:
        try:
            info = self.rest(f"/jobs/{job_id}/exceptions")
        except InfraError as e:
            return str(e)
        root = info.get("root-exception") or ""
        history = info.get("exceptionHistory", {}).get("entries", [])
        parts = [root] + [e.get("stacktrace", "") for e in history[:3]]
        return "\n".join(p for p in parts if p)[:6000]

    def wait_for_job(
        self, job_id: str, states: Iterable[str] = ("FINISHED",), timeout: float = 120.0
    ) -> str:
        """Wait until the job is in one of `states`; a different terminal state fails at once."""
        wanted = set(states)

        def probe() -> Optional[str]:
            state = self.job_state(job_id)
            return state if state in wanted else None

        def give_up() -> Optional[str]:
            try:
                state = self.job_state(job_id)
            except InfraError:
                return None
            if state in TERMINAL_STATES and state not in wanted:
                return f"the job ended {state}:\n{self.job_exceptions(job_id)}"
            return self._give_up()

        return procs.wait_until(
            probe,
            timeout=timeout,
            what=f"job {job_id} to reach {sorted(wanted)}",
            diagnostics=lambda: f"state: {self._safe_state(job_id)}\n"
            f"{self.job_exceptions(job_id)}\n{self.log_tails()}",
            give_up=give_up,
            interval=0.25,
        )

    def wait_for_running(self, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the job is RUNNING with every task running (deployed), not just scheduled."""

        def probe() -> Optional[dict[str, Any]]:
            job = self.job(job_id)
            if job["state"] != "RUNNING":
                return None
            vertices = job.get("vertices", [])
            if vertices and all(v.get("status") == "RUNNING" for v in vertices):
                return job
            return None

        return procs.wait_until(
            probe,
            timeout=timeout,
            what=f"job {job_id} to run all its tasks",
            diagnostics=lambda: f"{self.job_exceptions(job_id)}\n{self.log_tails()}",
            give_up=lambda: self._terminal(job_id),
            interval=0.25,
        )

    def _terminal(self, job_id: str) -> Optional[str]:
        try:
            state = self.job_state(job_id)
        except InfraError:
            return None
        if state in TERMINAL_STATES:
            return f"the job ended {state}:\n{self.job_exceptions(job_id)}"
        return self._give_up()

    def _safe_state(self, job_id: str) -> str:
        try:
            return self.job_state(job_id)
        except Exception as e:
            return f"<unknown: {e}>"

    def completed_checkpoints(self, job_id: str) -> int:
        counts = self.rest(f"/jobs/{job_id}/checkpoints").get("counts", {})
        return int(counts.get("completed", 0))

    def wait_for_checkpoints(self, job_id: str, count: int, timeout: float = 120.0) -> int:
        """Wait until at least `count` checkpoints of the job have completed (since it started)."""
        return procs.wait_until(
            lambda: (lambda n: n if n >= count else None)(self.completed_checkpoints(job_id)),
            timeout=timeout,
            what=f"{count} completed checkpoint(s) of job {job_id}",
            diagnostics=lambda: f"{self.job_exceptions(job_id)}\n{self.log_tails()}",
            give_up=lambda: self._terminal(job_id),
            interval=0.5,
        )

    def restarts(self, job_id: str) -> int:
        """How often the job has restarted, e.g. after a killed TaskManager.

        The larger of its numRestarts metric (which the REST API refreshes only every
        `metrics.fetcher.update-interval`, and drops once the job has ended) and the number of
        failures in its exception history that the job recovered from.
        """
        try:
            metrics = self.rest(f"/jobs/{job_id}/metrics?get=numRestarts")
        except InfraError:
            metrics = []
        metric = int(float(metrics[0]["value"])) if metrics else 0
        history = self.rest(f"/jobs/{job_id}/exceptions").get("exceptionHistory", {})
        failures = len(history.get("entries", []))
        # The last failure of a FAILED job was not recovered from.
        if self._safe_state(job_id) == "FAILED":
            failures = max(0, failures - 1)
        return max(metric, failures)

    def wait_for_restarts(self, job_id: str, count: int = 1, timeout: float = 120.0) -> int:
        """Wait until the job has restarted `count` times (also if it has finished since)."""

        def give_up() -> Optional[str]:
            reason = self._terminal(job_id)
            if reason and self.restarts(job_id) >= count:
                return None  # ended, but restarted first: the next probe returns
            return reason

        return procs.wait_until(
            lambda: (lambda n: n if n >= count else None)(self.restarts(job_id)),
            timeout=timeout,
            what=f"job {job_id} to restart {count} time(s)",
            diagnostics=lambda: f"{self.job_exceptions(job_id)}\n{self.log_tails()}",
            give_up=give_up,
            interval=0.5,
        )

    def subtask_taskmanagers(self, job_id: str) -> dict[str, list[str]]:
        """For each vertex (by name): the TaskManager ids its subtasks run or ran on."""
        placement: dict[str, list[str]] = {}
        for vertex in self.job(job_id).get("vertices", []):
            info = self.rest(f"/jobs/{job_id}/vertices/{vertex['id']}/taskmanagers")
            placement[vertex["name"]] = sorted(
                tm.get("taskmanager-id", tm.get("host", "?")) for tm in info.get("taskmanagers", [])
            )
        return placement

    def cancel_job(self, job_id: str, timeout: float = 60.0) -> None:
        """Cancel the job and wait until it is CANCELED (or already ended otherwise)."""
        if self._safe_state(job_id) in TERMINAL_STATES:
            return
        self.rest(f"/jobs/{job_id}?mode=cancel", method="PATCH")
        self.wait_for_job(job_id, states=TERMINAL_STATES, timeout=timeout)

    def stop_with_savepoint(self, job_id: str, timeout: float = 120.0) -> str:
        """Stop the job with a savepoint (REST `/jobs/:id/stop`, no drain: no timer fires for
        the stop) into the cluster's savepoint directory; returns the savepoint's path once the
        job has ended."""
        trigger = self.rest(
            f"/jobs/{job_id}/stop",
            method="POST",
            body={"targetDirectory": self.savepoint_dir.as_uri(), "drain": False},
        )["request-id"]

        def probe() -> Optional[str]:
            answer = self.rest(f"/jobs/{job_id}/savepoints/{trigger}")
            if answer.get("status", {}).get("id") != "COMPLETED":
                return None
            operation = answer.get("operation", {})
            if "failure-cause" in operation:
                raise InfraError(f"stop with savepoint failed: {operation['failure-cause']}")
            return str(operation["location"])

        location = procs.wait_until(
            probe,
            timeout=timeout,
            what=f"a savepoint of job {job_id}",
            diagnostics=lambda: f"{self.job_exceptions(job_id)}\n{self.log_tails()}",
            interval=0.5,
        )
        self.wait_for_job(job_id, states=TERMINAL_STATES, timeout=timeout)
        return location

    def cancel_all_jobs(self) -> None:
        for job in self.jobs():
            if job.get("state") not in TERMINAL_STATES:
                self.cancel_job(job["jid"])

    # -- job submission --------------------------------------------------------------------------

    def run_job(
        self,
        jar: Path,
        main_class: str,
        args: Sequence[str] = (),
        *,
        detached: bool = True,
        parallelism: Optional[int] = None,
        timeout: float = 300.0,
        savepoint: Optional[str] = None,
    ) -> JobSubmission:
        """Submit `jar` with `bin/flink run`; returns the job id once submitted (detached) or done.

        Detached, the job runs on while the test goes on (use `wait_for_job`/`wait_for_running`);
        attached, this returns when the job has finished and fails if the job failed. With
        `savepoint`, the job starts from that savepoint.
        """
        jar = Path(jar).resolve()
        if not jar.is_file():
            raise InfraError(f"job jar {jar} does not exist")
        cmd = [str(self.flink_home / "bin" / "flink"), "run"]
        if detached:
            cmd.append("--detached")
        if parallelism is not None:
            cmd += ["--parallelism", str(parallelism)]
        if savepoint is not None:
            # Restored from a savepoint (every operator's state must find its uid).
            cmd += ["--fromSavepoint", savepoint]
        cmd += ["--class", main_class, str(jar), *args]
        started = time.monotonic()
        result = subprocess.run(
            cmd,
            env=self._env,
            cwd=str(self.workdir),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
        seconds = time.monotonic() - started
        output = result.stdout + result.stderr
        with open(self.log_dir / "flink-run.out", "a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(cmd)}\n{output}\n")
        match = JOB_ID.search(output)
        if result.returncode != 0 or not match:
            raise InfraError(
                f"`flink run` exited with {result.returncode}:\n$ {' '.join(cmd)}\n"
                f"{output[-6000:]}\n{self.log_tails()}"
            )
        return JobSubmission(job_id=match.group(1), output=output, seconds=seconds)

    # -- diagnostics -----------------------------------------------------------------------------

    def log_files(self) -> list[Path]:
        return sorted(self.log_dir.glob("*.log")) + sorted(self.log_dir.glob("*.out"))

    def log_tails(self, lines: int = 40) -> str:
        return "\n".join(procs.tail(p, lines) for p in self.log_files())


# The key of the tokens of @sensitive values on the test cluster's TaskManagers (not a secret):
# a job bound to a cluster environment refuses to run without one.
E2E_TOKEN_KEY = "e2e-token-key-not-a-secret"


@contextmanager
def running_cluster(workdir: Path, **kwargs: Any) -> Iterator[FlinkCluster]:
    """A started cluster for the duration of a `with` block (the session fixture uses this)."""
    started = time.monotonic()
    home = flink_distribution()
    cluster = FlinkCluster(home, workdir, **kwargs)
    cluster.distribution_seconds = time.monotonic() - started
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
