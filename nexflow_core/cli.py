"""The `nexflow` command line: one subcommand per job (generate, generate-runtime, …)."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from nexflow_core.generate import command as generate_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nexflow", description="Compile Nexflow stream-processing DSLs into Flink Java."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    generate_command.add_commands(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
