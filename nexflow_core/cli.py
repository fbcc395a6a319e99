"""The `nexflow` command line. Subcommands live in one argparse parser; `check` is the
front end's: `nexflow check PATH... [--format text|json]` prints diagnostics and exits 1 when
there is any error, 0 otherwise (2 on an internal failure).

Build systems run `compile`, `symbols` and `generate-runtime` (nexflow_core.generate.command).
Teams without Pants use the project commands: `init`, `build`, `graph` and `fmt`; their code
lives in nexflow_core.tool (one module per command), imported only when the command runs so
that the build-system commands start fast. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Callable, Optional

from nexflow_core import __version__
from nexflow_core.generate import command as generate_command

if TYPE_CHECKING:  # imported when a project command runs, not at start-up
    from typing import Mapping, Sequence

    from nexflow_core.generate.unit_compile import CompiledUnit
    from nexflow_core.interface import UnitInterface
    from nexflow_core.tool.config import ProjectConfig


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
    compile_ = sub.choices["compile"]
    compile_.add_argument(
        "--state-out",
        metavar="DIR",
        help="write each job's <JobName>.state.json here: what it keeps in a savepoint "
        "(docs/upgrades.md)",
    )
    from nexflow_core.tool import gate  # argparse only; the commands import the rest

    gate.add_compile_options(compile_)
    compile_.set_defaults(func=lambda a: generate_command.run_compile(a, _after_compile))
    _add_project_commands(sub)
    return parser


# --- the project commands (nexflow_core.tool) ------------------------------------------------


def _cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nexflow_core.tool.init import InitError, init_project

    directory = Path(args.directory)
    try:
        written = init_project(directory, args.name, args.java_package)
    except InitError as e:
        sys.stderr.write(f"nexflow init: error: {e}\n")
        return 1
    except OSError as e:
        sys.stderr.write(f"nexflow init: error: cannot write the project ({e})\n")
        return 1
    sys.stdout.write(f"created {args.directory}/ with {len(written)} files:\n")
    for rel in written:
        sys.stdout.write(f"  {rel}\n")
    sys.stdout.write(f"next: cd {args.directory} && nexflow build\n")
    return 0


def _load_project(args: argparse.Namespace, command: str) -> "Optional[ProjectConfig]":
    from pathlib import Path

    from nexflow_core.tool.config import CONFIG_FILE, ConfigError, find_project, load_config

    start = Path(args.project) if args.project else Path.cwd()
    root = find_project(start) if not args.project else start
    if root is None or not (root / CONFIG_FILE).is_file():
        where = args.project or "this directory or any directory above it"
        sys.stderr.write(
            f"nexflow {command}: error: no {CONFIG_FILE} in {where}; "
            "create a project with `nexflow init NAME`\n"
        )
        return None
    try:
        return load_config(root.resolve())
    except ConfigError as e:
        sys.stderr.write(f"nexflow {command}: {e}\n")
        return None


def _cmd_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nexflow_core.tool.build import BuildOptions, build, clean, unsafe_output

    config = _load_project(args, "build")
    if config is None:
        return 1
    # A relative --output-dir is relative to where the command runs (nexflow.toml's
    # output_dir is relative to the project).
    output_dir = str(Path(args.output_dir).resolve()) if args.output_dir else None
    options = BuildOptions(
        environment=args.environment,
        output_dir=output_dir,
        verify=args.verify,
        progress=args.progress,
        verbose=args.verbose,
    )
    if args.clean:
        output = config.output_path(output_dir)
        unsafe = unsafe_output(config, output)
        refused = unsafe or clean(output)
        if refused:
            sys.stderr.write(f"nexflow build: error: {refused}\n")
            return 1
    try:
        result = build(config, options)
    except OSError as e:  # the file system, not the DSL: a full disk, a read-only directory
        sys.stderr.write(f"nexflow build: error: {e.strerror or e}: {e.filename or ''}\n")
        return 1
    if result.internal_errors:
        return 2
    return 0 if result.ok else 1


def _cmd_graph(args: argparse.Namespace) -> int:
    from nexflow_core.tool.graph import run_graph

    return run_graph(args)


def _cmd_baseline(args: argparse.Namespace) -> int:
    from nexflow_core.tool.gate import run_baseline

    if args.from_jar:
        if args.project or args.environment:
            sys.stderr.write(
                "nexflow baseline: error: --from-jar takes the jars' baseline as built; "
                "--project and --environment do not apply\n"
            )
            return 1
        return run_baseline(args, None)
    config = _load_project(args, "baseline")
    return 1 if config is None else run_baseline(args, config)


def _cmd_compat(args: argparse.Namespace) -> int:
    from nexflow_core.tool.gate import run_compat

    config = _load_project(args, "compat")
    # No project: the gate cannot run (exit 2, as for an unreadable baseline).
    return 2 if config is None else run_compat(args, config)


def _after_compile(args: argparse.Namespace, unit: "CompiledUnit", packages: "Mapping[str, str]",
                   upstream: "Sequence[UnitInterface]") -> int:  # fmt: skip
    """What `nexflow compile` does after the generator: --state-out, then --compat-baseline."""
    status = _write_states(args, unit, packages, upstream)
    if status != 0 or not args.compat_baseline:
        return status
    from nexflow_core.tool.gate import run_unit_compat

    return run_unit_compat(args, unit, packages, upstream)


def _write_states(args: argparse.Namespace, unit: "CompiledUnit", packages: "Mapping[str, str]",
                  upstream: "Sequence[UnitInterface]") -> int:  # fmt: skip
    """`nexflow compile --state-out DIR`: each job's <JobName>.state.json (docs/upgrades.md)."""
    from pathlib import Path

    from nexflow_core.compat.state import describe_jobs, project_types
    from nexflow_core.diagnostics import NexflowError, render_text
    from nexflow_core.generate.core import job_models

    if not args.state_out:
        return 0
    try:
        jobs = unit.jobs or job_models(unit.project, packages, args.environment, upstream)
    except NexflowError as error:
        sys.stderr.write(render_text(error.diagnostics, unit.project.sources) + "\n")
        return 1
    out = Path(args.state_out)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(describe_jobs(jobs, project_types(unit.project, packages)).items()):
        (out / name).write_bytes(data)
    return 0


def _cmd_fmt(args: argparse.Namespace) -> int:
    from nexflow_core.tool.fmt import run_fmt

    return run_fmt(args)


def _add_project_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    init = sub.add_parser(
        "init",
        help="create a new project: nexflow.toml and one DSL file per layer",
        description="Create DIRECTORY with a nexflow.toml, a small working pipeline (one "
        ".schema, .transform, .rules, .proc and .infra file), sample input and a README.",
    )
    init.add_argument("directory", metavar="NAME", help="the project directory to create")
    init.add_argument("--name", help="the project name (default: the directory name)")
    init.add_argument(
        "--java-package",
        help="the Java package of the generated code (default: com.example.<name>)",
    )
    init.set_defaults(func=_cmd_init)

    project_help = (
        "the project directory (default: the nearest directory with a nexflow.toml at or "
        "above the current one)"
    )
    build = sub.add_parser(
        "build",
        help="compile the project's DSL files to Java, incrementally, in layer order",
        description="Compile every DSL file of the project (schema, transform, rules, proc; "
        "then the infra files) to Java under the output directory. Unchanged units are not "
        "compiled again; an edit that leaves a unit's interface unchanged recompiles that "
        "unit only.",
    )
    build.add_argument("--environment", metavar="NAME", help="the L5 environment to bind")
    build.add_argument(
        "--verify",
        action="store_true",
        help="write a pom.xml and compile the generated Java with Maven (mvn -q -B compile)",
    )
    build.add_argument(
        "--output-dir", metavar="DIR", help="where the generated sources go (default: nexflow.toml)"
    )
    build.add_argument("--clean", action="store_true", help="start from an empty output directory")
    build.add_argument("--project", metavar="DIR", help=project_help)
    build.add_argument(
        "--progress",
        choices=("auto", "tty", "plain"),
        default="auto",
        help="progress display: live on a terminal (auto), always live, or plain lines",
    )
    build.add_argument("-v", "--verbose", action="store_true", help="list up-to-date units too")
    build.set_defaults(func=_cmd_build)

    graph = sub.add_parser(
        "graph",
        help="draw a proc's operator graph (Mermaid or SVG)",
        description="Draw the operator graph of PROC: its sources, the rules, decision "
        "tables and transforms it applies, its operators and its sinks.",
    )
    graph.add_argument("proc", metavar="PROC", help="the name of the proc")
    graph.add_argument(
        "--format", choices=("mermaid", "svg"), help="default: from -o, else mermaid"
    )
    graph.add_argument(
        "-o", "--output", metavar="FILE", help="write here (default: standard output)"
    )
    graph.add_argument("--project", metavar="DIR", help=project_help)
    graph.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="DSL files or directories to read instead of the project's sources",
    )
    graph.set_defaults(func=_cmd_graph)

    from nexflow_core.tool import gate  # argparse only; the commands import the rest

    baseline, compat = gate.add_commands(sub, project_help)
    baseline.set_defaults(func=_cmd_baseline)
    compat.set_defaults(func=_cmd_compat)

    from nexflow_core import dsltest  # argparse only until it runs

    dsltest.add_command(sub, project_help)

    fmt = sub.add_parser(
        "fmt",
        help="format DSL files canonically",
        description="Rewrite DSL files in canonical form: indentation by block depth, one "
        "statement per line, normalized spacing, comments kept, LF line ends.",
    )
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    fmt.add_argument(
        "--check",
        action="store_true",
        help="change nothing; list the files that are not formatted and exit 1 if any",
    )
    fmt.set_defaults(func=_cmd_fmt)


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
