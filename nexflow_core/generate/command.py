"""`nexflow generate` and `nexflow generate-runtime`: the commands build systems run.

`generate` compiles the given DSL files into Java under --output-dir; `--upstream FILE=PACKAGE`
names DSL files of other build units that the given files may refer to (their declarations are
read, nothing is generated for them). Errors are printed as located diagnostics, exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from collections.abc import Sequence

from nexflow_core.diagnostics import NexflowError, render_text
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.generate.model import GeneratedFile
from nexflow_core.syntax import parse_source


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gen = subparsers.add_parser("generate", help="generate target code from DSL files")
    gen.add_argument("files", nargs="+", help="DSL files to generate code for")
    gen.add_argument("--java-package", required=True, help="package of the generated code")
    gen.add_argument("--output-dir", required=True, help="where the generated files go")
    gen.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="FILE=PACKAGE",
        help="a DSL file of another unit these files refer to, and its generated package",
    )
    gen.add_argument("--target", default="flink", choices=sorted(TARGETS))
    gen.set_defaults(func=run_generate)

    runtime = subparsers.add_parser("generate-runtime", help="write the L0 runtime sources")
    runtime.add_argument("--output-dir", required=True)
    runtime.add_argument("--target", default="flink", choices=sorted(TARGETS))
    runtime.set_defaults(func=run_generate_runtime)


def _load(path: str, package: str) -> Unit:
    text = Path(path).read_text(encoding="utf-8")
    return Unit(parse_source(text, path), package, text)


def run_generate(args: argparse.Namespace) -> int:
    try:
        upstream = []
        for spec in args.upstream:
            path, sep, package = spec.rpartition("=")
            if not sep or not path or not package:
                message = f"nexflow generate: --upstream expects FILE=PACKAGE, got {spec!r}"
                print(message, file=sys.stderr)
                return 2
            upstream.append(_load(path, package))
        units = [_load(path, args.java_package) for path in args.files]
        files = generate(units, upstream, TARGETS[args.target])
    except NexflowError as error:
        sources = {}
        for path in [*args.files, *(s.rpartition("=")[0] for s in args.upstream)]:
            try:
                sources[path] = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                pass
        print(render_text(error.diagnostics, sources), file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as error:
        print(f"nexflow generate: cannot read a DSL file: {error}", file=sys.stderr)
        return 1
    write_files(Path(args.output_dir), files)
    return 0


def run_generate_runtime(args: argparse.Namespace) -> int:
    write_files(Path(args.output_dir), TARGETS[args.target].render_runtime())
    return 0


def write_files(root: Path, files: Sequence[GeneratedFile]) -> list[Path]:
    written = []
    for file in files:
        path = root / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Bytes, not text mode: the same output on every platform (no newline translation).
        path.write_bytes(file.content.encode("utf-8"))
        written.append(path)
    return written
