"""`nexflow test`: test files for rulesets, decision tables, transforms and procs
(docs/language/tests.md). This module holds the command's arguments only, so that building the
CLI's parser imports nothing heavy; `run` does the work."""

from __future__ import annotations

import argparse

CLASSPATH_VAR = "NEXFLOW_TEST_CLASSPATH"


def _run(args: argparse.Namespace) -> int:
    from nexflow_core.dsltest.run import run_tests

    return run_tests(args)


def add_command(
    sub: "argparse._SubParsersAction[argparse.ArgumentParser]", project_help: str
) -> None:
    test = sub.add_parser(
        "test",
        help="run the .nxtest files: rulesets, decision tables, transforms and procs",
        description="Run test files (.nxtest, docs/language/tests.md) against the generated "
        "Java: one javac and one JVM for all of them (procs on one Flink MiniCluster). Exit 1 "
        "when a test fails.",
    )
    test.add_argument(
        "paths", nargs="*", metavar="PATH",
        help=".nxtest files or directories (default: the project's sources)",
    )  # fmt: skip
    test.add_argument("--project", metavar="DIR", help=project_help)
    test.add_argument(
        "--classpath", metavar="CP",
        help=f"Flink and Jackson for the generated code (default: ${CLASSPATH_VAR}; a "
        "path that is a file and no jar is read as a file holding the classpath)",
    )  # fmt: skip
    test.add_argument(
        "--java-home", metavar="DIR", help="the JDK (default: $JAVA_HOME, else javac on PATH)"
    )
    test.add_argument("--coverage", action="store_true",
                      help="report the rules fired and table rows matched")  # fmt: skip
    test.add_argument("--fail-under", type=float, metavar="PERCENT",
                      help="exit 1 when rules and rows covered are below PERCENT")  # fmt: skip
    test.add_argument(
        "--work-dir", metavar="DIR", help="keep the generated sources and classes here"
    )
    test.set_defaults(func=_run)
