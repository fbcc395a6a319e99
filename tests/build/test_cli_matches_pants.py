"""`nexflow build --environment E` writes exactly what the Pants backend generates for E.

A scratch repository holds the examples at their own paths. For each environment, every
example that declares it gets a BUILD whose procs target is bound to it, and a real nested
`./pants export-codegen examples::` generates their Java. The same DSL files, at the same paths
below a project root, are then built with the `nexflow` command line
(`nexflow build --environment E`), and every generated Java file must be byte for byte what
Pants wrote: the job classes above all, which bake in the environment's streams, stores,
Kafka settings and checkpoints.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

from nexflow_core.cli import main as nexflow_main
from tests.build.nested import REPO, ScratchRepo

EXAMPLES = ("hello", "payments", "card-fraud")
DSL_SUFFIXES = (".schema", ".transform", ".rules", ".proc", ".infra")
TARGETS = {
    ".schema": 'nexflow_schemas(name="schemas")',
    ".transform": 'nexflow_transforms(name="transforms")',
    ".rules": 'nexflow_rules(name="rules")',
    ".infra": 'nexflow_infra(name="infra")',
}


def dsl_files(example: str) -> list[Path]:
    return sorted(p for p in (REPO / "examples" / example).iterdir() if p.suffix in DSL_SUFFIXES)


def environments(example: str) -> set[str]:
    names = set()
    for path in dsl_files(example):
        for line in path.read_text().splitlines():
            if line.startswith("environment "):
                names.add(line.split()[1])
    return names


def build_file(example: str, environment: str) -> str:
    suffixes = {p.suffix for p in dsl_files(example)}
    lines = [TARGETS[s] for s in sorted(TARGETS) if s in suffixes]
    lines.append(f'nexflow_procs(name="procs", environment="{environment}")')
    return "\n".join(lines) + "\n"


def java_files(root: Path) -> dict[str, bytes]:
    return {
        f.relative_to(root).as_posix(): f.read_bytes()
        for f in sorted(root.rglob("*.java"))
        if f.is_file()
    }


def package_of(example: str) -> str:
    return "nexflow.examples." + example.replace("-", "_")


def cli_build(project: Path, example: str, environment: str) -> dict[str, bytes]:
    """The Java `nexflow build --environment` writes for a project holding only `example`."""
    shutil.copytree(
        REPO / "examples" / example,
        project / "examples" / example,
        ignore=lambda _, names: [n for n in names if not n.endswith(DSL_SUFFIXES)],
    )
    (project / "nexflow.toml").write_text(
        f'[project]\nname = "{example}"\njava_package = "{package_of(example)}"\n\n'
        f'[build]\nsources = ["examples/{example}"]\n'
    )
    out, err = io.StringIO(), io.StringIO()
    argv = ["build", "--project", str(project), "--environment", environment]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = nexflow_main([*argv, "--progress", "plain"])
    assert code == 0, f"nexflow {' '.join(argv)} failed:\n{out.getvalue()}\n{err.getvalue()}"
    return java_files(project / "build" / "nexflow" / "src" / "main" / "java")


def test_cli_build_writes_what_pants_generates_for_every_example_and_environment(
    tmp_path: Path,
) -> None:
    repo = ScratchRepo.create(tmp_path / "repo", extra=[f"examples/{e}" for e in EXAMPLES])
    compared = []
    for environment in sorted(set().union(*(environments(e) for e in EXAMPLES))):
        examples = [e for e in EXAMPLES if environment in environments(e)]
        for example in EXAMPLES:
            text = build_file(example, environment) if example in examples else ""
            repo.write(f"examples/{example}/BUILD", text)
        shutil.rmtree(repo.root / "dist", ignore_errors=True)
        repo.pants("export-codegen", "//:nexflow-runtime", *(f"examples/{e}::" for e in examples))
        pants_java = java_files(repo.root / "dist" / "codegen")
        for example in examples:
            project = tmp_path / "cli" / f"{example}-{environment}"
            cli_java = cli_build(project, example, environment)
            prefix = package_of(example).replace(".", "/") + "/"
            mine = {p: b for p, b in cli_java.items() if p.startswith(prefix)}
            theirs = {p: b for p, b in pants_java.items() if p.startswith(prefix)}
            assert any(p.endswith("Job.java") for p in mine), f"{example}: no job class"
            assert sorted(mine) == sorted(theirs), f"{example} ({environment}): other files"
            differing = [p for p in sorted(mine) if mine[p] != theirs[p]]
            assert not differing, f"{example} ({environment}): CLI and Pants differ: {differing}"
            runtime = {p: b for p, b in cli_java.items() if p.startswith("nexflow/runtime/")}
            assert runtime == {
                p: b for p, b in pants_java.items() if p.startswith("nexflow/runtime/")
            }
            compared.append((example, environment))
    assert sorted(compared) == sorted(
        (e, env) for e in EXAMPLES for env in environments(e)
    ), compared
