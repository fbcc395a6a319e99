"""Remote caching through a real Remote Execution API server (issue 5).

BuildGrid serves a cache (CAS, ByteStream, ActionCache) on loopback. A first copy of the
repository packages the examples with remote cache writes and an empty local store, so every
process executes and is written to the server. A second, separate copy then packages them with
remote cache reads and another empty local store: every Nexflow process (codegen, interface
files, the L0 runtime, the symbol map) and every javac must be a remote cache hit.

Both builds share the machine's named caches (coursier's and pex's download caches, which hold
no process results); the process cache is the local store, which each build has empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.build.buildgrid import BuildGrid, buildgrid_server
from tests.build.nested import (
    ScratchRepo,
    is_checking,
    is_generating,
    is_javac,
    is_nexflow,
    is_symbol_map,
)

EXAMPLES = ("examples/BUILD", "examples/hello")
TARGETS = ("examples/hello:hello-job",)


@pytest.fixture
def buildgrid(tmp_path: Path) -> Iterator[BuildGrid]:
    with buildgrid_server(tmp_path / "buildgrid") as grid:
        yield grid


def _remote(grid: BuildGrid) -> list:
    return [
        f"--remote-store-address={grid.address}",
        f"--remote-instance-name={grid.instance}",
    ]


def test_clean_clone_hits_remote_cache(tmp_path: Path, buildgrid: BuildGrid) -> None:
    writer = ScratchRepo.create(tmp_path / "first", extra=EXAMPLES)
    first = writer.pants(
        "package",
        *TARGETS,
        options=[
            *_remote(buildgrid),
            "--remote-cache-write",
            "--no-remote-cache-read",
            f"--local-store-dir={tmp_path / 'store-first'}",
        ],
    )
    summary = (
        f"first build: {first.seconds:.1f} s, {first.counts()}\n"
        f"{first.report(lambda p: is_nexflow(p) or is_javac(p))}"
    )
    # An empty local store and a new server: everything executed (and so was written).
    assert not [p for p in first.processes if p.source != "Ran"], summary
    for kind in (is_checking, is_generating, is_symbol_map, is_javac):
        assert first.select(kind), f"no {kind.__name__} process in the first build:\n{summary}"

    reader = ScratchRepo.create(tmp_path / "second", extra=EXAMPLES)
    second = reader.pants(
        "package",
        *TARGETS,
        options=[
            *_remote(buildgrid),
            "--remote-cache-read",
            "--no-remote-cache-write",
            f"--local-store-dir={tmp_path / 'store-second'}",
        ],
    )
    watched = second.select(lambda p: is_nexflow(p) or is_javac(p))
    summary += (
        f"\nsecond build: {second.seconds:.1f} s, {second.counts()}\n"
        f"{second.report(lambda p: is_nexflow(p) or is_javac(p))}\n"
        f"all processes of the second build:\n{second.report()}\n"
        f"first build's remote cache warnings:\n"
        + "\n".join(line for line in first.stderr.splitlines() if "remote" in line.lower())
    )
    # The same Nexflow and javac work as the first build, each answered by the server.
    assert sorted(p.description for p in watched) == sorted(
        p.description for p in first.select(lambda p: is_nexflow(p) or is_javac(p))
    ), summary
    misses = [p for p in watched if p.source != "HitRemotely"]
    assert not misses, "not remote cache hits:\n" + "\n".join(map(str, misses)) + "\n" + summary
    # And the job jar is really there.
    assert (reader.root / "dist" / "examples.hello" / "hello-job.jar").is_file(), summary
    print(summary)
