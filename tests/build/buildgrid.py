"""A real Remote Execution API cache server on loopback for tests/build: BuildGrid from PyPI.

BuildGrid (`buildgrid==0.4.4`) is installed once into a Python 3.11 virtualenv cached under
`${XDG_CACHE_HOME:-~/.cache}/nexflow-test/buildgrid-0.4.4`. A test starts `bgd server start`
with a configuration serving only what a cache needs — ContentAddressableStorage, ByteStream,
ActionCache (Capabilities comes with them) — for one instance, on 127.0.0.1 and a free port,
with its blobs on disk in the test's own directory; and stops it afterwards, also on failure.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

BUILDGRID_VERSION = "0.4.4"
INSTANCE = "nexflow-test"
START_TIMEOUT_S = 180

_CONFIG = """\
server:
  - !channel
    address: "127.0.0.1:{port}"
    insecure-mode: true
# gRPC's concurrency limit is this many threads: Pants uploads many blobs at once.
thread-pool-size: 200
authorization:
  method: none
storages:
  - !disk-storage &cas
    path: {cas}
caches:
  - !lru-action-cache &action-cache
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
    cache-failed-actions: false
instances:
  - name: {instance}
    services:
      - !action-cache
        cache: *action-cache
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
"""


def _cache_home() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) if xdg else Path.home() / ".cache"


def _find_python() -> str:
    """A Python 3.11 (BuildGrid 0.4.4 supports it), from pyenv or PATH."""
    candidates: list[str] = []
    if os.environ.get("NEXFLOW_PYTHON311"):
        candidates.append(os.environ["NEXFLOW_PYTHON311"])
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += [str(p) for p in sorted(pyenv.glob("versions/3.11*/bin/python3.11"))]
    for name in ("python3.11",):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    for candidate in candidates:
        probe = subprocess.run(
            [candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 11))"],
            capture_output=True,
        )
        if probe.returncode == 0:
            return candidate
    raise AssertionError(
        "BuildGrid needs Python 3.11 (pyenv's versions/3.11*, python3.11 on PATH, or "
        "NEXFLOW_PYTHON311); none found"
    )


def _ca_bundle() -> Optional[str]:
    for candidate in (
        os.environ.get("NEXFLOW_CA_BUNDLE"),
        os.environ.get("SSL_CERT_FILE"),
        os.environ.get("REQUESTS_CA_BUNDLE"),
        os.environ.get("PIP_CERT"),
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _clean_env() -> dict:
    """The environment without the test runner's own PEX and Python settings."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PEX_", "__PEX_"))
        and name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }


def _pip_env(python: str) -> dict:
    """Like ./pants: a global pip configuration that adds a constraints file is kept out."""
    env = _clean_env()
    config = subprocess.run(
        [python, "-m", "pip", "config", "list"], capture_output=True, text=True, env=env
    ).stdout
    if env.get("PIP_CONSTRAINT") or "constraint" in config.lower():
        env.pop("PIP_CONSTRAINT", None)
        env["PIP_CONFIG_FILE"] = os.devnull
    return env


def buildgrid_venv() -> Path:
    """The virtualenv with BuildGrid, created once per machine (under a lock)."""
    venv = _cache_home() / "nexflow-test" / f"buildgrid-{BUILDGRID_VERSION}"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".buildgrid-{BUILDGRID_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / ".complete").exists() and (venv / "bin" / "bgd").exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        python = _find_python()
        subprocess.run([python, "-m", "venv", str(venv)], check=True, env=_clean_env())
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-input"]
        cert = _ca_bundle()
        if cert:
            pip += ["--cert", cert]
        installed = subprocess.run(
            [*pip, f"buildgrid=={BUILDGRID_VERSION}"],
            env=_pip_env(str(venv / "bin" / "python")),
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise AssertionError(f"installing BuildGrid failed:\n{installed.stderr[-4000:]}")
        (venv / ".complete").touch()
        return venv


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class BuildGrid:
    address: str  # grpc://127.0.0.1:PORT
    instance: str
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def buildgrid_server(workdir: Path) -> Iterator[BuildGrid]:
    """Start BuildGrid on loopback for the duration of the `with` block."""
    venv = buildgrid_venv()
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    cas = workdir / "cas"
    cas.mkdir()
    config = workdir / "buildgrid.yml"
    config.write_text(_CONFIG.format(port=port, cas=cas, instance=INSTANCE))
    log = workdir / "buildgrid.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [str(venv / "bin" / "bgd"), "server", "start", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_clean_env(),
            start_new_session=True,  # its own process group, stopped as one below
        )
    grid = BuildGrid(f"grpc://127.0.0.1:{port}", INSTANCE, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _accepts(port):
            if server.poll() is not None:
                raise AssertionError(f"BuildGrid exited ({server.returncode}):\n{grid.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"BuildGrid did not listen on {port}:\n{grid.log_tail()}")
            time.sleep(0.5)
        yield grid
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=30)
