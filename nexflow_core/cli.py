"""The `nexflow` command line. Subcommands live in one argparse parser; `check` is the
front end's: `nexflow check PATH... [--format text|json]` prints diagnostics and exits 1 when
there is any error, 0 otherwise (2 on an internal failure)."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Optional

from nexflow_core import __version__
from nexflow_core.generate import command as generate_command


def _cmd_check(args: argparse.Namespace) -> int:
    from nexflow_core.diagnostics import render_json, render_text
    from nexflow_core.project import check_project, discover

    files = discover(args.paths)
    project = check_project(args.paths)
    if args.format == "json":
        sys.stdout.write(render_json(project.diagnostics))
    else:
        if project.diagnostics:
            sys.stdout.write(render_text(project.diagnostics, project.sources))
        else:
            sys.stdout.write(f"checked {len(files)} file(s): no problems\n")
    return 1 if project.errors else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nexflow", description="Nexflow: layered stream-processing DSLs to Apache Flink."
    )
    parser.add_argument("--version", action="version", version=f"nexflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    check = sub.add_parser(
        "check",
        help="parse and check DSL files; print diagnostics",
        description="Parse and check .schema, .transform, .rules, .proc and .infra files "
        "(directories are searched recursively) as one project.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    check.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    check.set_defaults(func=_cmd_check)
    generate_command.add_commands(sub)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    """Console-script entry point."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except Exception as e:  # pragma: no cover - a bug, reported without a traceback
        sys.stderr.write(f"nexflow: internal error: {type(e).__name__}: {e}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
