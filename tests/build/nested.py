"""Real, nested Pants builds for tests/build, and the processes Pants says each one ran.

A test copies this repository's build inputs (`//:build_inputs`: ./pants, pants.toml, the
plugin, the compiler, 3rdparty) into a scratch directory, adds what it builds, and runs
`./pants --no-pantsd …` there. Every run writes Pants' own process accounting with the
workunit logger backend: one JSON list of workunits, in which each workunit named `process`
has a description and `metadata.source`, one of `Ran`, `HitLocally` or `HitRemotely`. Tests
assert on that, never on log lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

# This file is tests/build/nested.py: the repository (or the test sandbox) is two levels up.
REPO = Path(__file__).resolve().parents[2]

# Everything a nested build of Nexflow targets needs (the `files` target //:build_inputs).
BUILD_INPUTS = (
    "pants", "pants.toml", "mypy.ini", "BUILD", "3rdparty", "pants-plugins", "nexflow_core"
)  # fmt: skip

# What nested Pants needs from the environment: Pants, pex and coursier are bootstrapped under
# HOME (or XDG_CACHE_HOME / NEXFLOW_BOOTSTRAP_HOME), Python 3.9 is found through PYENV_ROOT or
# PATH, the JDK through JAVA_HOME or PATH. pants.toml's `[test] extra_env_vars` passes them.
REQUIRED_ENV = ("HOME", "PATH")

# Variables of the test process that must not leak into a nested Pants: the test runner's own
# PEX and Python settings, and any Pants option of the outer run.
_DROPPED_ENV_PREFIXES = ("PEX_", "__PEX_", "PANTS_", "_PANTS_")
_DROPPED_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSAFEPATH")

WORKUNIT_LOGGER = "pants.backend.experimental.tools.workunit_logger"

# A nested run without pantsd takes 10-25 s on a quiet 2-core machine; a cold one (every
# process executed, coursier included) several minutes.
RUN_TIMEOUT_S = 1200


def nested_env() -> dict[str, str]:
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        raise AssertionError(
            f"nested Pants needs {', '.join(missing)} in the environment; run these tests with "
            "`./pants test tests/build::` (pants.toml's [test] extra_env_vars passes them)"
        )
    return {
        name: value
        for name, value in os.environ.items()
        if name not in _DROPPED_ENV and not name.startswith(_DROPPED_ENV_PREFIXES)
    }


# --- process accounting ------------------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    """One process workunit: what Pants did for one `Process` request in one run."""

    description: str
    source: str  # "Ran", "HitLocally" or "HitRemotely"
    seconds: float

    @property
    def ran(self) -> bool:
        return self.source == "Ran"

    def __str__(self) -> str:
        return f"{self.source:<11} {self.seconds:7.2f}s  {self.description}"


_SCHEDULING = "Scheduling: "


def read_processes(workunits: Sequence[dict]) -> list[Process]:
    processes = []
    for unit in workunits:
        if unit.get("name") != "process":
            continue
        description = unit.get("description", "")
        if description.startswith(_SCHEDULING):
            description = description[len(_SCHEDULING) :]
        seconds = unit.get("duration_secs", 0) + unit.get("duration_nanos", 0) / 1e9
        source = unit.get("metadata", {}).get("source", "")
        processes.append(Process(description, source, seconds))
    return processes


# The plugin's processes (pants-plugins/nexflow): descriptions as codegen.py and symbol_map.py
# write them.
_CHECKING = re.compile(r"^Checking (?P<address>\S+) \(Nexflow\)$")
_GENERATING = re.compile(r"^Generating Java from (?P<address>\S+)$")
_RUNTIME = re.compile(r"^Generating the Nexflow L0 runtime for (?P<address>\S+)$")
_SYMBOLS = re.compile(r"^Reading the names of \d+ Nexflow files?$")
# Pants' javac: `Compile <component> with javac` (and its own jar tool's `... using javac.`).
_JAVAC = re.compile(r"^Compile (?P<address>.+?) (with|using) javac\.?$")


def is_checking(p: Process) -> bool:
    return bool(_CHECKING.match(p.description))


def is_generating(p: Process) -> bool:
    return bool(_GENERATING.match(p.description) or _RUNTIME.match(p.description))


def is_symbol_map(p: Process) -> bool:
    return bool(_SYMBOLS.match(p.description))


def is_nexflow(p: Process) -> bool:
    """Any process of the Nexflow plugin: interface, Java, L0 runtime, symbol map."""
    return is_checking(p) or is_generating(p) or is_symbol_map(p)


def is_javac(p: Process) -> bool:
    return bool(_JAVAC.match(p.description))


def nexflow_address(p: Process) -> Optional[str]:
    for pattern in (_CHECKING, _GENERATING, _RUNTIME):
        match = pattern.match(p.description)
        if match:
            return match.group("address")
    return None


def javac_component(p: Process) -> Optional[str]:
    match = _JAVAC.match(p.description)
    return match.group("address") if match else None


@dataclass(frozen=True)
class PantsRun:
    args: tuple[str, ...]
    returncode: int
    seconds: float
    stdout: str
    stderr: str
    processes: tuple[Process, ...]

    def select(self, predicate: Callable[[Process], bool]) -> list[Process]:
        return [p for p in self.processes if predicate(p)]

    def ran(self, predicate: Callable[[Process], bool] = lambda p: True) -> list[Process]:
        return [p for p in self.select(predicate) if p.ran]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for p in self.processes:
            counts[p.source] = counts.get(p.source, 0) + 1
        return counts

    def report(self, predicate: Callable[[Process], bool] = lambda p: True) -> str:
        """The selected processes, one per line, for assertion messages."""
        lines = sorted(str(p) for p in self.select(predicate))
        return "\n".join(f"    {line}" for line in lines) or "    (none)"


# --- a scratch repository ---------------------------------------------------------------------


class ScratchRepo:
    """A copy of the build inputs in a directory of its own, where tests run nested Pants."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logs = root.parent / f"{root.name}-workunits"
        self.sandboxes = root.parent / f"{root.name}-sandboxes"
        self._runs = 0

    @classmethod
    def create(cls, root: Path, extra: Iterable[str] = ()) -> ScratchRepo:
        root.mkdir(parents=True, exist_ok=False)
        for relpath in (*BUILD_INPUTS, *extra):
            source = REPO / relpath
            if not source.exists():
                raise AssertionError(
                    f"{relpath} is missing from the test sandbox; is it in //:build_inputs?"
                )
            target = root / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(
                    source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            else:
                shutil.copy2(source, target)
        (root / "pants").chmod(0o755)
        return cls(root)

    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def read(self, relpath: str) -> str:
        return (self.root / relpath).read_text()

    def pants(
        self,
        *args: str,
        options: Sequence[str] = (),
        check: bool = True,
        env: Optional[dict[str, str]] = None,
    ) -> PantsRun:
        """Run `./pants --no-pantsd [options] args…` here and read its process accounting."""
        self._runs += 1
        logdir = self.logs / f"run-{self._runs}-{uuid.uuid4().hex[:8]}"
        logdir.mkdir(parents=True)
        self.sandboxes.mkdir(parents=True, exist_ok=True)
        argv = [
            "./pants",
            "--no-pantsd",
            # Without pantsd, Pants 2.17 leaves the nailgun JVMs it starts for javac running
            # after it exits; a run without pantsd gains nothing from them.
            "--no-process-execution-local-enable-nailgun",
            # Sandboxes in a directory of this test's own, so that whatever a nested build
            # leaves running is found (and stopped) below.
            f"--local-execution-root-dir={self.sandboxes}",
            f"--backend-packages=+['{WORKUNIT_LOGGER}']",
            "--workunit-logger-enabled",
            f"--workunit-logger-logdir={logdir}",
            *options,
            *args,
        ]
        started = time.monotonic()
        try:
            completed = subprocess.run(
                argv,
                cwd=self.root,
                env=env if env is not None else nested_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_S,
            )
        finally:
            stop_processes_under(self.sandboxes)
        seconds = time.monotonic() - started
        logs = sorted(logdir.glob("*.json"))
        processes: tuple[Process, ...] = ()
        if logs:
            processes = tuple(read_processes(json.loads(logs[-1].read_text())))
        run = PantsRun(
            tuple(args),
            completed.returncode,
            seconds,
            completed.stdout,
            completed.stderr,
            processes,
        )
        if check:
            assert completed.returncode == 0, (
                f"`./pants {' '.join(args)}` failed ({completed.returncode}) in {self.root}:\n"
                f"{_tail(completed.stderr)}"
            )
            assert logs, (
                f"the workunit logger wrote nothing to {logdir}:\n{_tail(completed.stderr)}"
            )
        return run


def stop_processes_under(directory: Path) -> list[int]:
    """Stop every process whose working directory is inside `directory` (a nested build's own
    sandbox root, so only processes that build started); returns their ids."""
    root = str(directory.resolve())
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + os.sep):
            found.append(int(proc.name))
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for pid in found:
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
    return found


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])
