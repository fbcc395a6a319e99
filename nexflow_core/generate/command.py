"""The commands build systems run: `nexflow compile`, `nexflow symbols`, `nexflow generate-runtime`
(and `nexflow generate`, which reads upstream DSL sources instead of interface files).

`compile` is one build unit's work: check one DSL file against the interface files of the units
it depends on (never their sources), write its own interface file, and generate its code.
Because downstream units read only interface files, an edit that leaves a unit's interface bytes
unchanged leaves every downstream unit's inputs unchanged too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from nexflow_core.buildgraph import symbols_json
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span, render_text
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.generate.core import job_models
from nexflow_core.generate.java_package import DEFAULT_BASE, package_for_directory
from nexflow_core.generate.localrun import run_plan
from nexflow_core.generate.model import GeneratedFile
from nexflow_core.generate.unit_compile import CompiledUnit, compile_unit
from nexflow_core.interface import load_interface
from nexflow_core.syntax import parse_source


def add_commands(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    compile_ = subparsers.add_parser(
        "compile",
        help="check one DSL file against its dependencies' interfaces and generate its code",
    )
    compile_.add_argument("file", help="the DSL file of this build unit")
    compile_.add_argument(
        "--interface",
        action="append",
        default=[],
        metavar="FILE",
        help="an interface file of a unit this one depends on (it names the unit's Java "
        "package; FILE=PACKAGE overrides it)",
    )
    package = compile_.add_mutually_exclusive_group(required=True)
    package.add_argument("--java-package", help="package of the generated code")
    package.add_argument(
        "--package-directory",
        metavar="DIR",
        help=f"derive the package from the unit's directory: {DEFAULT_BASE}.<DIR's components>, "
        "each made a Java identifier (what Pants uses without an explicit java_package)",
    )
    compile_.add_argument("--interface-out", help="where to write this unit's interface file")
    compile_.add_argument("--output-dir", help="where the generated files go")
    compile_.add_argument(
        "--check-only", action="store_true", help="report diagnostics; write nothing"
    )
    compile_.add_argument("--target", default="flink", choices=sorted(TARGETS))
    compile_.add_argument(
        "--environment",
        help="bind procs to this L5 environment (from the --interface files of its .infra units)",
    )
    compile_.add_argument(
        "--run-plan-out",
        metavar="FILE",
        help="write the run plan of this unit's jobs (JSON, for the L0 runtime's LocalRun): "
        "each job's class, streams and complete settings in --environment",
    )
    compile_.set_defaults(func=run_compile)

    symbols = subparsers.add_parser(
        "symbols", help="print, as JSON, what each DSL file declares and refers to"
    )
    symbols.add_argument("files", nargs="*", help="DSL files")
    symbols.add_argument("--output", help="write the JSON here instead of standard output")
    symbols.set_defaults(func=run_symbols)

    gen = subparsers.add_parser("generate",
        help="generate code for DSL files, reading upstream DSL sources (whole-project mode)",
    )
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
    gen.add_argument(
        "--environment", help="bind procs to this L5 environment (declared in the given files)"
    )
    gen.set_defaults(func=run_generate)

    runtime = subparsers.add_parser("generate-runtime", help="write the L0 runtime sources")
    runtime.add_argument("--output-dir", required=True)
    runtime.add_argument("--target", default="flink", choices=sorted(TARGETS))
    runtime.set_defaults(func=run_generate_runtime)


def _read_text(path: str) -> str:
    # utf-8-sig: a byte-order mark is not part of the DSL text.
    return Path(path).read_bytes().decode("utf-8-sig")


# What a caller above the generator does with a compiled unit after its files are written
# (cli.py: `--state-out`, the jobs' state descriptions): (args, unit, packages, upstream) -> exit.
AfterCompile = Callable[[argparse.Namespace, CompiledUnit, Mapping[str, str], Sequence[Any]], int]


def run_compile(args: argparse.Namespace, after: Optional[AfterCompile] = None) -> int:
    package = args.java_package or package_for_directory(args.package_directory)
    upstream = []
    packages: Dict[str, str] = {args.file: package}
    for spec in args.interface:
        # FILE, or FILE=PACKAGE (interface files written before they carried their package).
        path, sep, given = spec.rpartition("=") if "=" in spec else (spec, "", "")
        interface = load_interface(Path(path).read_bytes(), origin=path)
        upstream_package = given if sep else interface.package
        if not upstream_package:
            print(
                f"nexflow compile: {path} does not say its unit's Java package: "
                "pass --interface FILE=PACKAGE",
                file=sys.stderr,
            )
            return 2
        upstream.append(interface)
        packages[interface.path] = upstream_package

    try:
        text = _read_text(args.file)
    except UnicodeDecodeError as error:
        diagnostic = Diagnostic(
            "NX103",
            "error",
            f"the file is not UTF-8 text ({error.reason} at byte {error.start})",
            Span(args.file, 1, 1, 1, 2),
        )
        print(render_text([diagnostic]), file=sys.stderr)
        return 1
    target = TARGETS[args.target] if args.output_dir and not args.check_only else None
    unit = compile_unit(args.file, text, package, upstream, packages, target, args.environment)
    project = unit.project
    if project.diagnostics:
        print(render_text(project.diagnostics, project.sources), file=sys.stderr)
    if unit.interface is None:
        return 1
    if args.check_only:
        return 0
    if args.interface_out:
        out = Path(args.interface_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(unit.interface)
    if args.output_dir:
        if not unit.generated:
            refused = unit.diagnostics[len(project.diagnostics) :]
            print(render_text(refused, project.sources), file=sys.stderr)
            return 1
        write_files(Path(args.output_dir), unit.files)
    if args.run_plan_out:
        target = TARGETS[args.target]
        try:
            jobs = job_models(project, packages, args.environment, upstream)
        except NexflowError as error:
            print(render_text(error.diagnostics, project.sources), file=sys.stderr)
            return 1
        out = Path(args.run_plan_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(run_plan(jobs, target, args.environment or ""))
    if after is not None:
        return after(args, unit, packages, upstream)
    return 0


def run_symbols(args: argparse.Namespace) -> int:
    # Undecodable bytes only hide names here; compiling the file reports the encoding error.
    texts = ((path, Path(path).read_bytes().decode("utf-8-sig", "replace")) for path in args.files)
    data = symbols_json(texts)
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data + b"\n")
    return 0


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
        files = generate(units, upstream, TARGETS[args.target], args.environment)
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


def write_files(root: Path, files: Sequence[GeneratedFile]) -> List[Path]:
    written = []
    for file in files:
        path = root / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Bytes, not text mode: the same output on every platform (no newline translation).
        path.write_bytes(file.content.encode("utf-8"))
        written.append(path)
    return written
