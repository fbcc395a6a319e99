"""`nexflow baseline` and `nexflow compat`: the upgrade gate's commands (docs/upgrades.md).

Both compile the project with `nexflow build` (tool/build.py) into a temporary directory, which
writes every unit's interface file and each job's `<Job>.state.json`; `baseline` keeps them,
`compat` compares them with a baseline directory's or with those of the project's sources at a
git revision (extracted with git archive and built the same way).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from nexflow_core.compat import report
from nexflow_core.compat import state as compat_state
from nexflow_core.compat.baseline import (
    STATE_SUFFIX,
    Baseline,
    BaselineError,
    read_baseline,
    sources_at,
    write_baseline,
)
from nexflow_core.diagnostics import Diagnostic
from nexflow_core.interface import UnitInterface
from nexflow_core.tool.build import STATE_DIR, BuildOptions, build
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
    """The stream and store contract findings (NX620–NX639) of the current sources against
    the baseline's interfaces. The lead wires compat/contract.py's `contract_findings` in here;
    until then the gate reports no contract change (the `contracts` list of the JSON is
    empty)."""
    del baseline_interfaces, config
    return []


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


def run_baseline(args: argparse.Namespace, config: ProjectConfig) -> int:
    try:
        baseline = compile_baseline(config, args.environment)
    except GateError as e:
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
        "later change with (docs/upgrades.md).",
    )
    baseline.add_argument("--project", metavar="DIR", help=project_help)
    baseline.add_argument("--environment", metavar="NAME", help="the L5 environment to bind")
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
