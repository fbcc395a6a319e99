"""The Pants backend along Pants' own lines, on real nested Pants runs (see nested.py):

- a name two targets declare is settled by the one listed in `dependencies`; without one Pants
  warns and infers neither (it does not fail the build graph);
- `overrides` on a generator target sets a field of one generated target;
- `[nexflow].infer_dependencies` and `[nexflow].tailor` switch inference and tailor off.

Four nested runs (each starts Pants afresh, a minute or more on a busy machine), so several
goals share a run.
"""

from __future__ import annotations

from pathlib import Path

from nested import ScratchRepo  # pants: no-infer-dep

GREETING = "schema Greeting {\n    id: string @key\n}\n"


def test_ambiguity_overrides_and_the_switches(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo")
    # `Greeting` declared twice, in two directories; app/ uses it and has no BUILD file yet.
    for directory in ("a", "b"):
        repo.write(f"{directory}/greeting.schema", GREETING)
        repo.write(f"{directory}/BUILD", "nexflow_schemas()\n")
    repo.write("app/streams.schema", "stream greetings: Greeting\nstream loud: Greeting\n")
    repo.write("app/shout.proc", "proc Shout {\n    from greetings\n    emit to loud\n}\n")
    # c/: one owner per name, so its dependency is inferred.
    repo.write("c/ping.schema", "schema Ping {\n    id: string @key\n}\n")
    repo.write("c/pings.schema", "stream pings: Ping\n")
    repo.write("c/BUILD", "nexflow_schemas()\n")

    # Tailor proposes targets for app/; switched off, it proposes none, and with inference off
    # c/pings.schema depends on nothing it names.
    on = repo.pants("tailor", "--check", "app::", check=False)
    assert on.returncode != 0 and "nexflow_procs" in on.stdout + on.stderr, on.stdout
    off = repo.pants(
        "tailor", "--check", "app::", "dependencies", "c/pings.schema",
        options=["--nexflow-tailor=false", "--nexflow-infer-dependencies=false"],
    )  # fmt: skip
    assert "nexflow_procs" not in off.stdout + off.stderr, off.stdout
    assert "c/ping.schema" not in off.stdout.split(), off.stdout

    # Ambiguous: a warning naming both owners, neither inferred; the unambiguous one is.
    # Overrides give one generated target its own Java package.
    repo.write(
        "app/BUILD",
        'nexflow_schemas(name="schemas")\n'
        'nexflow_procs(name="procs", '
        'overrides={"shout.proc": {"java_package": "com.acme.shout"}})\n',
    )
    run = repo.pants(
        "dependencies", "app/streams.schema", "c/pings.schema", "peek", "app/shout.proc"
    )
    lines = run.stdout.split()
    assert "a/greeting.schema" not in lines and "b/greeting.schema" not in lines, run.stdout
    assert "c/ping.schema" in lines, run.stdout
    assert "which several targets declare" in run.stderr and "a/greeting.schema" in run.stderr
    assert '"java_package": "com.acme.shout"' in run.stdout, run.stdout

    # Listed in `dependencies`: that owner, and no warning.
    repo.write(
        "app/BUILD",
        'nexflow_schemas(name="schemas", dependencies=["b/greeting.schema"])\n'
        'nexflow_procs(name="procs")\n',
    )
    settled = repo.pants("dependencies", "app/streams.schema")
    assert "b/greeting.schema" in settled.stdout.split(), settled.stdout
    assert "a/greeting.schema" not in settled.stdout.split(), settled.stdout
    assert "which several targets declare" not in settled.stderr, settled.stderr
