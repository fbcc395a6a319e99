"""A real MongoDB-wire-compatible server on loopback: FerretDB with its SQLite backend.

The server is built from the Go module proxy by the project's own files: `tests/e2e/ferretdb`
holds a Go module (go.mod, go.sum pinning FerretDB v1.24.2 and everything below it, and a 40-line
main.go around FerretDB's embeddable `ferretdb` package). It is built once with the machine's Go
(`NEXFLOW_GO`, else `go` on PATH, else /usr/local/go/bin/go) into
`${XDG_CACHE_HOME:-~/.cache}/nexflow-test/ferretdb/<hash of the module files>/ferretdb-sqlite`,
with its own module and build caches next to it, so a second run (or another session) reuses the
binary. The build is pure Go (CGO_ENABLED=0, -trimpath): the same files give the same program.

FerretDB 1.x speaks the MongoDB wire protocol (it answers as MongoDB 7.0) but has no Decimal128:
a store that writes to it sets `decimals: string` (see docs/language/infra.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from tests.e2e.infra import procs
from tests.e2e.infra.flink import _locked, cache_root
from tests.e2e.infra.procs import InfraError
from tests.e2e.infra.watchdog import start_watchdog

FERRETDB_VERSION = "v1.24.2"
MODULE_DIR = Path("tests/e2e/ferretdb")
MODULE_FILES = ("go.mod", "go.sum", "main.go")
BINARY = "ferretdb-sqlite"


def _module_dir() -> Path:
    """The Go module's files: in the test sandbox (a `files` target) or the repository."""
    for candidate in (MODULE_DIR, Path(__file__).resolve().parents[1] / "ferretdb"):
        if all((candidate / f).is_file() for f in MODULE_FILES):
            return candidate
    raise InfraError(
        f"{MODULE_DIR}/{{{','.join(MODULE_FILES)}}} are not in the test sandbox: give the test "
        'target dependencies=["tests/e2e/ferretdb:module"]'
    )


def go_command() -> str:
    for candidate in (os.environ.get("NEXFLOW_GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and Path(candidate).is_file():
            return candidate
    raise InfraError("no Go toolchain: set NEXFLOW_GO to a `go` binary (Go 1.24 or newer)")


def _go_env(cache: Path) -> dict[str, str]:
    return procs.child_env(
        "ferretdb-build",
        {
            "GOMODCACHE": str(cache / "go" / "mod"),
            "GOCACHE": str(cache / "go" / "build"),
            "GOPATH": str(cache / "go" / "path"),
            # What go.sum pins is what is built; never a toolchain download.
            "GOFLAGS": "-mod=mod -buildvcs=false -trimpath",
            "GOTOOLCHAIN": "local",
            "CGO_ENABLED": "0",
        },
    )


@contextmanager
def _timed() -> Iterator[list[float]]:
    started = time.monotonic()
    box: list[float] = []
    yield box
    box.append(time.monotonic() - started)


def ferretdb_binary() -> tuple[Path, Optional[float]]:
    """The built server, and how long building it took (None when it came from the cache)."""
    module = _module_dir()
    go = go_command()
    digest = hashlib.sha256()
    for name in MODULE_FILES:
        digest.update(name.encode() + b"\0" + (module / name).read_bytes() + b"\0")
    root = cache_root() / "ferretdb"
    target = root / digest.hexdigest()[:16] / BINARY
    if target.is_file():
        return target, None
    with _locked(root / ".lock"):
        if target.is_file():
            return target, None
        work = target.parent / "src"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        for name in MODULE_FILES:
            shutil.copyfile(module / name, work / name)
        log = target.parent / "build.log"
        with _timed() as took:
            build = procs.spawn(
                [go, "build", "-o", str(target) + ".tmp", "."], env=_go_env(root), log=log, cwd=work
            )
            try:
                code = build.wait(timeout=1200)
            except Exception:
                procs.terminate([build.pid], grace=2, groups=True)
                raise
        if code != 0:
            raise InfraError(
                f"building FerretDB {FERRETDB_VERSION} failed ({code})\n" + procs.tail(log)
            )
        os.replace(str(target) + ".tmp", target)
        return target, took[0]


class FerretDB:
    """One FerretDB process on 127.0.0.1; `.uri` is its MongoDB connection string."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.owner = procs.new_owner_mark("ferretdb")
        (self.port,) = procs.free_ports(1)
        self.uri = f"mongodb://{procs.LOOPBACK}:{self.port}/"
        self.data_dir = workdir / "data"
        self.log_path = workdir / "ferretdb.log"
        self.start_seconds: Optional[float] = None
        self.build_seconds: Optional[float] = None
        self._process = None
        self._watchdog = None
        self._client = None

    def start(self, timeout: float = 60.0) -> None:
        started = time.monotonic()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = procs.child_env(self.owner)
        self._watchdog = start_watchdog(os.getpid(), self.owner, env, self.workdir / "watchdog.log")
        self._process = procs.spawn(
            [str(self.binary), "-listen", f"{procs.LOOPBACK}:{self.port}",
             "-sqlite-dir", str(self.data_dir)],
            env=env,
            log=self.log_path,
        )
        procs.wait_until(
            lambda: self.client().admin.command("ping").get("ok") == 1.0,
            timeout=timeout,
            what=f"FerretDB answering ping at {self.uri}",
            diagnostics=lambda: procs.tail(self.log_path),
            give_up=self._exited,
            interval=0.3,
        )
        self.start_seconds = time.monotonic() - started

    def _exited(self) -> Optional[str]:
        if self._process is not None and self._process.poll() is not None:
            return f"the FerretDB process exited with {self._process.returncode}"
        return None

    def client(self) -> Any:
        """A pymongo client of this server (one per fixture)."""
        from pymongo import MongoClient

        if self._client is None:
            self._client = MongoClient(
                self.uri,
                serverSelectionTimeoutMS=2000,
                connectTimeoutMS=2000,
                directConnection=True,
            )
        return self._client

    def stop(self, grace: float = 10.0) -> None:
        try:
            if self._client is not None:
                try:
                    self._client.close()
                except Exception:
                    pass
                self._client = None
        finally:
            procs.stop_service(self._process, self._watchdog, self.owner, grace)


@contextmanager
def running_ferretdb(workdir: Path) -> Iterator[FerretDB]:
    """Build (or take from the cache) and start FerretDB for the duration of a `with` block."""
    binary, build_seconds = ferretdb_binary()
    server = FerretDB(binary, workdir)
    server.build_seconds = build_seconds
    try:
        server.start()
        yield server
    finally:
        server.stop()
