"""`nexflow baseline` and `nexflow compat`: the upgrade gate's commands (docs/upgrades.md).

Both compile the project with `nexflow build` (tool/build.py) into a temporary directory, which
writes every unit's interface file and each job's `<Job>.state.json`; `baseline` keeps them,
`compat` compares them with a baseline directory's or with those of the project's sources at a
git revision (extracted with git archive and built the same way). `baseline --from-jar` takes
the baseline a job jar built by Pants carries instead of building.

`nexflow compile FILE --compat-baseline DIR` is the same gate for one build unit, what the
Pants backend runs per target under `pants check` (`run_unit_compat`).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from nexflow_core.compat import report
from nexflow_core.compat import state as compat_state
from nexflow_core.compat.baseline import (
    STATE_SUFFIX,
    Baseline,
    BaselineError,
    merge_baselines,
    read_baseline,
    read_jar_baseline,
    sources_at,
    write_baseline,
)
from nexflow_core.compat.contract import contract_findings
from nexflow_core.diagnostics import Diagnostic, NexflowError, render_text
from nexflow_core.generate.core import job_models
from nexflow_core.generate.unit_compile import CompiledUnit
from nexflow_core.interface import UnitInterface
from nexflow_core.project import check_project
from nexflow_core.tool.build import STATE_DIR, BuildOptions, build, read_units
from nexflow_core.tool.config import CONFIG_FILE, ConfigError, ProjectConfig, load_config


class GateError(Exception):
    """The gate cannot answer (sources that do not build, a baseline it cannot read)."""


def compile_baseline(config: ProjectConfig, environment: Optional[str]) -> Baseline:
    """Builds the project into a temporary directory and returns what a baseline keeps."""
    with tempfile.TemporaryDirectory(prefix="nexflow-gate-") as tmp:
        out, err = io.StringIO(), io.StringIO()
        options = BuildOptions(environment=environment, output_dir=tmp, progress="plain")
        result = build(config, options, out, err)
        if not result.ok:
            raise GateError(
                f"the sources in {config.root} do not build:\n{err.getvalue()}{out.getvalue()}"
            )
        root = Path(tmp)
        where = root / "environments" / result.environment if result.environment else root / "state"
        states: Dict[str, Dict[str, Any]] = {}
        for path in sorted(where.glob("*" + STATE_SUFFIX)) if where.is_dir() else []:
            states[path.name[: -len(STATE_SUFFIX)]] = compat_state.decode(path.read_bytes())
        interfaces: Dict[str, bytes] = {}
        store = root / STATE_DIR / "interfaces"
        for path in sorted(store.rglob("*.nxi")) if store.is_dir() else []:
            interfaces[path.relative_to(store).as_posix()[: -len(".nxi")]] = path.read_bytes()
        return Baseline(states, interfaces, result.environment)


def contract_findings_hook(
    baseline_interfaces: Mapping[str, UnitInterface], config: ProjectConfig
) -> List[Diagnostic]:
    """The stream and store contract findings (NX621–NX628) of the current sources against
    the baseline's interfaces, at the lines of the current sources (the project was built
    just before, so its sources check clean)."""
    units, unreadable, _ = read_units(config)
    if unreadable:
        return unreadable
    current = check_project({unit.path: unit.text for unit in units})
    return contract_findings(baseline_interfaces, current)


def _baseline_of(spec: str, config: ProjectConfig, environment: Optional[str]) -> Baseline:
    """A baseline directory, or the project's sources at a git revision, built."""
    directory = Path(spec)
    if directory.is_dir():
        return read_baseline(directory)
    with tempfile.TemporaryDirectory(prefix="nexflow-baseline-") as tmp:
        project = sources_at(spec, config.root, Path(tmp) / "project")
        if not (project / CONFIG_FILE).is_file():
            raise BaselineError(f"the project has no {CONFIG_FILE} at revision {spec}")
        try:
            then = load_config(project.resolve())
        except ConfigError as e:
            raise BaselineError(f"{CONFIG_FILE} at revision {spec}: {e}") from None
        try:
            return compile_baseline(then, environment)
        except GateError as e:
            raise BaselineError(f"at revision {spec}, {e}") from None


def run_baseline(args: argparse.Namespace, config: Optional[ProjectConfig]) -> int:
    """`nexflow baseline`: of the project built, or (`--from-jar`, no project) of job jars."""
    try:
        if args.from_jar:
            baseline = merge_baselines(
                [read_jar_baseline(Path(jar)) for jar in args.from_jar], args.from_jar
            )
        else:
            assert config is not None
            baseline = compile_baseline(config, args.environment)
    except (GateError, BaselineError) as e:
        sys.stderr.write(f"nexflow baseline: error: {e}\n")
        return 1
    directory = Path(args.output_dir)
    try:
        write_baseline(baseline, directory)
    except OSError as e:
        sys.stderr.write(f"nexflow baseline: error: cannot write {directory}: {e}\n")
        return 2
    env = f", environment {baseline.environment}" if baseline.environment else ""
    sys.stdout.write(
        f"wrote the baseline of {len(baseline.states)} job(s) and "
        f"{len(baseline.interfaces)} unit interface(s){env} to {directory}\n"
    )
    return 0


def compare(
    before: Baseline, after: Baseline, allow_non_restored_state: bool = False
) -> List[compat_state.JobResult]:
    return compat_state.compare_jobs(before.states, after.states, allow_non_restored_state)


def run_compat(args: argparse.Namespace, config: ProjectConfig) -> int:
    environment = args.environment
    try:
        current = compile_baseline(config, environment)
    except GateError as e:
        sys.stderr.write(f"nexflow compat: error: {e}\n")
        return 1
    try:
        # The baseline is bound to the environment the current build chose.
        before = _baseline_of(args.baseline, config, current.environment or environment)
    except (BaselineError, GateError) as e:
        sys.stderr.write(f"nexflow compat: error: {e}\n")
        return report.EXIT_INTERNAL
    if before.environment != current.environment:
        sys.stderr.write(
            f"nexflow compat: warning: the baseline is of environment {before.environment}, "
            f"the current build of {current.environment}\n"
        )
    results = compare(before, current, args.allow_non_restored_state)
    contracts = contract_findings_hook(before.loaded_interfaces(), config)
    allow = list(args.allow_loss or [])
    if args.format == "json":
        sys.stdout.write(report.to_json(results, contracts))
    else:
        sys.stdout.write(report.to_text(results, allow, contracts))
        found = compat_state.diagnostics(results)
        if found:
            sys.stderr.write("".join(f"{_line(d)}\n" for d in found))
    return report.exit_status(results, allow, contracts)


def run_unit_compat(
    args: argparse.Namespace,
    unit: CompiledUnit,
    packages: Mapping[str, str],
    upstream: Sequence[Any],
) -> int:
    """`nexflow compile FILE --compat-baseline DIR`: the gate for what one checked unit
    contributes — with `--environment`, the state of its procs' jobs against the baseline's
    `<Job>.state.json`; the streams and stores it declares against the baseline's interfaces.
    The exit status is `nexflow compat`'s."""
    directory = Path(args.compat_baseline)
    try:
        before = read_baseline(directory, states=bool(args.environment))
        baseline_interfaces = before.loaded_interfaces()
    except (BaselineError, ValueError) as e:
        sys.stderr.write(f"nexflow compile: error: the baseline {directory}: {e}\n")
        return report.EXIT_INTERNAL
    results: List[compat_state.JobResult] = []
    if args.environment:
        if before.environment not in (None, args.environment):
            sys.stderr.write(
                f"nexflow compile: warning: the baseline is of environment "
                f"{before.environment}, this unit is bound to {args.environment}\n"
            )
        try:
            jobs = unit.jobs or job_models(unit.project, packages, args.environment, upstream)
        except NexflowError as error:
            sys.stderr.write(render_text(error.diagnostics, unit.project.sources))
            return report.EXIT_STOP
        types = compat_state.project_types(unit.project, packages)
        # Through the file's bytes, as the baseline's side was: both sides compare as JSON.
        current = {
            name: compat_state.decode(data)
            for name, data in (
                (job.name, compat_state.encode(compat_state.describe_job(job, types)))
                for job in jobs
            )
        }
        # The baseline's jobs of this unit: those it still builds and those whose proc was here.
        mine = {
            name: description
            for name, description in before.states.items()
            if name in current or (description.get("origin") or {}).get("file") == args.file
        }
        results = compat_state.compare_jobs(mine, current, args.allow_non_restored_state)
    # Only what this unit declares: its upstream units' streams are their own targets' business.
    contracts = [
        d for d in contract_findings(baseline_interfaces, unit.project) if d.span.file == args.file
    ]
    # Allowances of other units' jobs are not this unit's to warn about.
    jobs_here = {job.job for job in results}
    allow = [a for a in args.allow_loss if a.partition(".")[0] in jobs_here]
    if results or contracts:
        sys.stdout.write(report.to_text(results, allow, contracts))
    found = compat_state.diagnostics(results)
    if found:
        sys.stderr.write("".join(f"{_line(d)}\n" for d in found))
    return report.exit_status(results, allow, contracts)


def add_compile_options(compile_: argparse.ArgumentParser) -> None:
    """The gate's options of `nexflow compile` (run_unit_compat)."""
    compile_.add_argument(
        "--compat-baseline",
        metavar="DIR",
        help="run the upgrade gate for this unit against the baseline directory DIR: its jobs' "
        "state (with --environment) and the contracts of the streams and stores it declares; "
        "exit 1 when `nexflow compat` would stop (docs/upgrades.md)",
    )
    compile_.add_argument(
        "--allow-loss",
        action="append",
        default=[],
        metavar="JOB.STATE",
        help="with --compat-baseline: accept that STATE of JOB starts empty or is dropped",
    )
    compile_.add_argument(
        "--allow-non-restored-state",
        action="store_true",
        help="with --compat-baseline: the job starts with Flink's --allowNonRestoredState",
    )


def _line(d: Diagnostic) -> str:
    return f"{d.span.location()}: {d.severity}[{d.code}]: {d.message}"


def add_commands(
    sub: "argparse._SubParsersAction[argparse.ArgumentParser]", project_help: str
) -> Tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    baseline = sub.add_parser(
        "baseline",
        help="write the release's baseline: unit interfaces and each job's state description",
        description="Build the project and write, into DIR, every unit's interface file and "
        "each job's <JobName>.state.json: what `nexflow compat --baseline DIR` compares a "
        "later change with (docs/upgrades.md). With --from-jar, no project is built: the "
        "baselines the job jars carry are merged into DIR.",
    )
    baseline.add_argument("--project", metavar="DIR", help=project_help)
    baseline.add_argument("--environment", metavar="NAME", help="the L5 environment to bind")
    baseline.add_argument(
        "--from-jar",
        action="append",
        default=[],
        metavar="JAR",
        help="instead of building the project, take the baseline a job jar built by Pants "
        "carries (META-INF/nexflow/baseline/); repeat it for each job jar of the release",
    )
    baseline.add_argument("--output-dir", metavar="DIR", required=True, help="where it goes")

    compat = sub.add_parser(
        "compat",
        help="say what restoring the last release's savepoint into this build does",
        description="Compare the current sources with a baseline (a directory written by "
        "`nexflow baseline`, or a git revision of the project): per job, per operator uid and "
        "per state, whether a savepoint of the baseline restores. Exit 0: every job compatible "
        "(losses all allowed); 1: an incompatible job, a loss not allowed or a breaking "
        "contract change; 2: the gate could not run.",
    )
    compat.add_argument(
        "--baseline", metavar="DIR|REV", required=True, help="a baseline directory or git revision"
    )
    compat.add_argument("--project", metavar="DIR", help=project_help)
    compat.add_argument("--environment", metavar="NAME", help="the L5 environment to bind")
    compat.add_argument(
        "--allow-loss",
        action="append",
        default=[],
        metavar="JOB.STATE",
        help="accept that STATE of JOB starts empty or is dropped (its DSL name; repeatable)",
    )
    compat.add_argument(
        "--allow-non-restored-state",
        action="store_true",
        help="the job will be started with Flink's --allowNonRestoredState: the state of "
        "removed operators is dropped (a loss) instead of refusing the savepoint",
    )
    compat.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    return baseline, compat
