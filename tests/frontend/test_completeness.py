"""Every proc statement is complete: the checker has a handler for it (its semantics and flow),
the job builder has one (its operators), the language reference shows it in an example, and
the generated-program property test (tests/generate/test_check_implies_build_generated.py)
can write it. Adding a statement without one of these fails here, naming what is missing
(docs/architecture.md, "Checklist: adding a proc statement")."""

from __future__ import annotations

import inspect

from conftest import fenced_blocks, read  # pants: no-infer-dep

from nexflow_core import ast
from nexflow_core.ast import proc as proc_ast
from nexflow_core.check.proc_check import ProcChecker
from nexflow_core.generate.jobs import JobBuilder
from nexflow_core.syntax import parse_source
from tests.generate.program_menu import MENU

STATEMENTS = sorted(
    name
    for name, cls in inspect.getmembers(proc_ast, inspect.isclass)
    if name.endswith("Stmt") and cls.__module__ == proc_ast.__name__
)


def _statements_in(text: str, path: str) -> set[str]:
    module = parse_source(text, path)
    return {
        type(s).__name__ for d in module.decls if isinstance(d, ast.ProcDecl) for s in d.statements
    }


def test_there_are_statements() -> None:
    assert len(STATEMENTS) >= 20 and "FromStmt" in STATEMENTS


def test_the_checker_and_the_job_builder_handle_every_statement() -> None:
    missing = [
        f"{who.__name__}.on_{name}"
        for name in STATEMENTS
        for who in (ProcChecker, JobBuilder)
        if not hasattr(who, f"on_{name}")
    ]
    assert not missing, missing


def test_the_language_reference_shows_every_statement() -> None:
    shown: set[str] = set()
    for tag, body, line in fenced_blocks(read("docs/language/proc.md")):
        if tag == "proc":
            shown |= _statements_in(body, f"proc.md:{line}.proc")
    assert not set(STATEMENTS) - shown, sorted(set(STATEMENTS) - shown)


def test_the_generated_programs_can_write_every_statement() -> None:
    body = "\n".join("    " + m.format(n=k) for k, m in enumerate(MENU))
    written = _statements_in(f"proc P {{\n    from auths\n{body}\n}}\n", "menu.proc")
    # Settings that no program needs varied: they change no operator.
    settings = {"ParallelismStmt", "CheckpointStmt", "OnLookupErrorStmt"}
    assert not set(STATEMENTS) - written - settings, sorted(set(STATEMENTS) - written - settings)
