"""The Pants backend along Pants' own lines, on real nested Pants runs (see nested.py):

- a name two targets declare is settled by the one listed in `dependencies`; without one Pants
  warns and infers neither (it does not fail the build graph);
- `overrides` on a generator target sets a field of one generated target;
- `[nexflow].infer_dependencies` and `[nexflow].tailor` switch inference and tailor off.
"""

from __future__ import annotations

from pathlib import Path

from nested import ScratchRepo  # pants: no-infer-dep

GREETING = "schema Greeting {\n    id: string @key\n}\n"
STREAMS = "stream greetings: Greeting\nstream loud: Greeting\n"
PROC = "proc Shout {\n    from greetings\n    emit to loud\n}\n"


def _repo(tmp_path: Path) -> ScratchRepo:
    repo = ScratchRepo.create(tmp_path / "repo")
    # `Greeting` declared twice, in two directories; the streams and the proc use it.
    repo.write("a/greeting.schema", GREETING)
    repo.write("a/BUILD", "nexflow_schemas()\n")
    repo.write("b/greeting.schema", GREETING)
    repo.write("b/BUILD", "nexflow_schemas()\n")
    repo.write("app/streams.schema", STREAMS)
    repo.write("app/shout.proc", PROC)
    return repo


def _dependencies(repo: ScratchRepo, target: str, *options: str) -> tuple[list[str], str]:
    run = repo.pants("dependencies", target, options=options)
    return sorted(run.stdout.split()), run.stderr


def test_an_ambiguous_name_warns_and_an_explicit_dependency_settles_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.write("app/BUILD", 'nexflow_schemas(name="schemas")\nnexflow_procs(name="procs")\n')
    deps, stderr = _dependencies(repo, "app/streams.schema")
    assert "a/greeting.schema" not in deps and "b/greeting.schema" not in deps, deps
    assert "which several targets declare" in stderr and "a/greeting.schema" in stderr, stderr

    repo.write(
        "app/BUILD",
        'nexflow_schemas(name="schemas", dependencies=["b/greeting.schema"])\n'
        'nexflow_procs(name="procs")\n',
    )
    deps, stderr = _dependencies(repo, "app/streams.schema")
    assert "b/greeting.schema" in deps and "a/greeting.schema" not in deps, deps
    assert "which several targets declare" not in stderr, stderr
    # Overrides: one generated target gets a field of its own.
    repo.write(
        "app/BUILD",
        'nexflow_schemas(name="schemas", dependencies=["b/greeting.schema"])\n'
        'nexflow_procs(name="procs", '
        'overrides={"shout.proc": {"java_package": "com.acme.shout"}})\n',
    )
    peek = repo.pants("peek", "app/shout.proc")
    assert '"java_package": "com.acme.shout"' in peek.stdout, peek.stdout

    # Inference off: only what BUILD files list.
    deps, _ = _dependencies(repo, "app/shout.proc", "--nexflow-infer-dependencies=false")
    assert "app/streams.schema" not in deps, deps


def test_tailor_can_be_switched_off(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    on = repo.pants("tailor", "--check", "app::", check=False)
    assert on.returncode != 0 and "nexflow_procs" in on.stdout + on.stderr, on.stdout
    off = repo.pants("tailor", "--check", "app::", options=["--nexflow-tailor=false"])
    assert "nexflow_" not in off.stdout + off.stderr, off.stdout
