"""The command line as a whole: every command is there, and the commands build systems run
(`compile`, `symbols`, `generate-runtime`) behave as before next to the project commands."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import ROOT, nexflow  # pants: no-infer-dep

from nexflow_core import __version__

HELLO = ROOT / "examples" / "hello"


def test_help_lists_every_command() -> None:
    r = nexflow("--help")
    assert r.code == 0
    for command in (
        "check",
        "compile",
        "symbols",
        "generate-runtime",
        "init",
        "build",
        "graph",
        "fmt",
    ):
        assert command in r.out, command
    assert nexflow("--version").out.strip() == f"nexflow {__version__}"
    assert nexflow("build", "--help").code == 0
    bad = nexflow("graph")
    assert bad.code == 2 and "PROC" in bad.err


def test_build_system_commands_still_work(tmp_path: Path) -> None:
    schema, proc = str(HELLO / "greetings.schema"), str(HELLO / "hello.proc")
    iface = tmp_path / "greetings.nxi"
    r = nexflow(
        "compile",
        schema,
        "--java-package",
        "p.hello",
        "--interface-out",
        str(iface),
        "--output-dir",
        str(tmp_path / "java"),
    )
    assert r.code == 0, r.err
    r = nexflow(
        "compile",
        proc,
        "--java-package",
        "p.hello",
        "--interface",
        f"{iface}=p.hello",
        "--output-dir",
        str(tmp_path / "java"),
    )
    assert r.code == 0, r.err
    assert (tmp_path / "java/p/hello/HelloFilterJob.java").is_file()
    out = tmp_path / "symbols.json"
    assert nexflow("symbols", schema, proc, "--output", str(out)).code == 0
    kinds = {s["path"]: s["kind"] for s in json.loads(out.read_text())}
    assert kinds == {schema: "schema", proc: "proc"}
    assert nexflow("generate-runtime", "--output-dir", str(tmp_path / "rt")).code == 0
    assert list((tmp_path / "rt").rglob("*.java"))
