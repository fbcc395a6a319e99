"""`nexflow test`: check the project, type the test files' cases, generate the project's Java,
compile the subjects and the generic runner with one javac, run every case in one JVM, compare
in Python and report (per test pass/fail, a diff pointing at the expectation's DSL line, and
with --coverage the rules fired and table rows matched).

The generated records carry Flink type-information annotations and read JSON with Jackson, so
compiling and running them needs a classpath with Flink and Jackson: --classpath, or the
environment variable NEXFLOW_TEST_CLASSPATH."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

from nexflow_core import ast
from nexflow_core.diagnostics import Diagnostic, render_text
from nexflow_core.dsltest import CLASSPATH_VAR
from nexflow_core.dsltest.cases import (
    EXTENSION,
    Case,
    Checker,
    Step,
    Value,
    _instant,
    parse_tests,
)
from nexflow_core.project import CheckedProject, check_project, discover
from nexflow_core.typemodel import Type

RUNNER = Path(__file__).resolve().parent / "java" / "NexflowTestRunner.java"
RUNNER_CLASS = "nexflow.testrunner.NexflowTestRunner"
DRIVER = Path(__file__).resolve().parent / "java" / "ProcTestDriver.java"

# The layers a test can reach. Environments (.infra) are left out: a proc's test binds its
# streams and stores itself (script:, memory:), whatever environment production runs it in.
SUBJECT_LAYERS = (".schema", ".transform", ".rules", ".proc")


@dataclass
class Outcome:
    case: Case
    passed: bool
    lines: list[str] = field(default_factory=list)
    nanos: Optional[int] = None
    # A proc's test: how long its job took to start (before the script ran).
    start_nanos: Optional[int] = None


def _roots(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(DSL directories or files, test files or directories)."""
    if args.paths:
        tests = list(args.paths)
        dsl = sorted({p if os.path.isdir(p) else os.path.dirname(p) or "." for p in tests})
        return dsl, tests
    from nexflow_core.tool.config import CONFIG_FILE, find_project, load_config

    start = Path(args.project) if args.project else Path.cwd()
    root = start if args.project else find_project(start)
    if root is not None and (root / CONFIG_FILE).is_file():
        config = load_config(root.resolve())
        dirs = (
            [str(d) for d in config.source_dirs()]
            if hasattr(config, "source_dirs")
            else [str(root / s) for s in config.sources]
        )
        return dirs, dirs
    return [str(start)], [str(start)]


def _test_files(paths: list[str]) -> list[str]:
    out: set[str] = set()
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out.update(os.path.join(root, f) for f in files if f.endswith(EXTENSION))
        else:
            out.add(p)
    return sorted(out)


def java_home(given: Optional[str]) -> Optional[Path]:
    for value in (given, os.environ.get("NEXFLOW_JAVA_HOME"), os.environ.get("JAVA_HOME")):
        if value and (Path(value) / "bin" / "javac").exists():
            return Path(value)
    javac = shutil.which("javac")
    return Path(os.path.realpath(javac)).parent.parent if javac else None


def classpath(given: Optional[str]) -> Optional[str]:
    value = given or os.environ.get(CLASSPATH_VAR)
    if not value:
        return None
    # A classpath of many jars is no file name (and longer than one may be: is_file() would
    # raise), so only a value without a path separator can name the file holding it.
    if os.pathsep in value or value.endswith(".jar"):
        return value
    path = Path(value)
    if path.is_file():
        return path.read_text("utf-8").strip()
    return value


Loaded = tuple[Optional[CheckedProject], list[Case], list[Diagnostic], dict[str, str]]


def load(args: argparse.Namespace) -> Loaded:
    """The checked project and the cases that check clean, or the diagnostics."""
    dsl_roots, test_roots = _roots(args)
    dsl_files = [f for f in discover(dsl_roots) if os.path.splitext(f)[1] in SUBJECT_LAYERS]
    project = check_project(dsl_files)
    sources = dict(project.sources)
    if project.errors:
        return None, [], project.diagnostics, sources
    cases: list[Case] = []
    diagnostics: list[Diagnostic] = []
    for path in _test_files(test_roots):
        text = Path(path).read_text("utf-8")
        sources[path] = text
        parsed, errors = parse_tests(text, path)
        diagnostics += errors
        cases += parsed
    checker = Checker(project)
    ok = checker.check(cases)
    return project, ok, diagnostics + checker.diagnostics, sources


def run_tests(args: argparse.Namespace) -> int:
    project, cases, diagnostics, sources = load(args)
    if diagnostics:
        sys.stdout.write(render_text(diagnostics, sources))
        if any(d.is_error for d in diagnostics):
            return 1
    assert project is not None
    if not cases:
        sys.stdout.write("no tests found\n")
        return 0 if args.fail_under is None else 1
    jdk = java_home(args.java_home)
    if jdk is None:
        sys.stderr.write("nexflow test: error: no JDK: set JAVA_HOME or --java-home\n")
        return 2
    cp = classpath(args.classpath)
    if cp is None:
        sys.stderr.write(
            "nexflow test: error: the generated records need Flink and Jackson on the "
            f"classpath: give --classpath or set {CLASSPATH_VAR}\n"
        )
        return 2
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="nexflow-test-"))
    try:
        results = _run_java(project, cases, work, jdk, cp)
    except RuntimeError as e:
        sys.stderr.write(f"nexflow test: error: {e}\n")
        return 2
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    outcomes = [compare(case, results.get(i, {})) for i, case in enumerate(cases)]
    failed = report(outcomes)
    status = 1 if failed else 0
    if args.coverage or args.fail_under is not None:
        percent = coverage(project, cases, results)
        if args.fail_under is not None and percent < args.fail_under:
            sys.stdout.write(
                f"coverage {percent:.1f}% is under --fail-under {args.fail_under:g}%\n"
            )
            status = 1
    return status


# --- generating, compiling, running -----------------------------------------------------------


def _run_java(
    project: CheckedProject, cases: list[Case], work: Path, jdk: Path, cp: str
) -> dict[int, dict]:
    from nexflow_core.generate import TARGETS, generate_checked
    from nexflow_core.generate.command import write_files
    from nexflow_core.generate.java_package import DEFAULT_BASE

    package = DEFAULT_BASE + ".tested"
    target = TARGETS["flink"]
    packages = {p: package for p in project.modules}
    files = generate_checked(project, packages, target)
    src = work / "src"
    write_files(src, files)
    write_files(src, target.render_runtime())
    runner = src / "nexflow" / "testrunner" / RUNNER.name
    runner.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(RUNNER, runner)
    shutil.copyfile(DRIVER, runner.parent / DRIVER.name)
    generated = {f.path for f in files}
    jobs = {}
    if any(case.kind == "proc" for case in cases):
        from nexflow_core.generate.core import job_models

        jobs = {j.name: target.job_class(j) for j in job_models(project, packages)}
    lines = []
    wanted = {runner}
    for i, case in enumerate(cases):
        if case.kind == "proc":
            line = _proc_case(i, case, jobs[case.subject], work)
        else:
            cls = _class_of(case.subject, package, generated)
            line = {"id": i, "kind": case.kind, "class": cls}
            line["args" if case.kind == "transform" else "input"] = case.input_json
        wanted.add(src / (str(line["class"]).replace(".", "/") + ".java"))
        lines.append(json.dumps(line, default=_json_default))
    (work / "cases.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    classes = work / "classes"
    classes.mkdir(parents=True, exist_ok=True)
    # javac finds what the subjects use (records, enums, the runtime) on -sourcepath: only
    # those are compiled, not the whole runtime.
    javac = [str(jdk / "bin" / "javac"), "-nowarn", "-proc:none", "-encoding", "UTF-8",
             "-d", str(classes), "-sourcepath", str(src), "-cp", cp,
             *sorted(map(str, wanted))]  # fmt: skip
    done = subprocess.run(javac, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            "javac failed on the generated Java:\n" + (done.stdout + done.stderr)[-4000:]
        )
    java = [str(jdk / "bin" / "java"), "-cp", f"{classes}{os.pathsep}{cp}", RUNNER_CLASS,
            str(work / "cases.jsonl"), str(work / "results.jsonl")]  # fmt: skip
    done = subprocess.run(java, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("the test runner failed:\n" + (done.stdout + done.stderr)[-4000:])
    out: dict[int, dict] = {}
    for text in (work / "results.jsonl").read_text("utf-8").splitlines():
        if text:
            r = json.loads(text, parse_float=Decimal)
            out[int(r["id"])] = r
    return out


def _proc_case(i: int, case: Case, job_class: str, work: Path) -> dict[str, Any]:
    """The runner's line for a proc's test: the job, its bindings and the script's steps."""
    key = f"t{i}"
    settings: dict[str, str] = {}
    for stream in case.sources:
        settings[f"stream.{stream}"] = f"script:{key}.{stream}"
        # No clock in a test: an event time far from today is no dead letter.
        settings[f"stream.{stream}.max_event_time_ahead"] = "0"
    sinks = {s: f"{key}.{s}" for s in [*case.sinks, "alerts"]}
    for stream, memory in sinks.items():
        settings[f"stream.{stream}"] = f"memory:{memory}"
    steps: list[dict[str, Any]] = []
    stores: dict[str, dict[str, Any]] = {store: {} for store in case.stores}
    for step in case.steps:
        if step.kind in ("given", "line"):
            for record in step.lines:
                text = (
                    record if isinstance(record, str) else json.dumps(record, default=_json_default)
                )
                steps.append({"given": step.stream, "line": text})
        elif step.kind == "watermark":
            steps.append({"watermark": step.millis, "streams": step.streams})
        elif step.kind == "expect":
            steps.append({"expect": step.stream})
        elif step.kind == "unavailable":
            settings[f"store.{step.stream}.unavailable"] = "true"
        else:
            stores.setdefault(step.stream, {}).update(step.documents)
    # Every store, given documents or not: a store the test fills nothing into is empty.
    for store, documents in stores.items():
        path = work / f"{key}.{store}.json"
        path.write_text(json.dumps(documents, default=_json_default), "utf-8")
        settings[f"store.{store}"] = f"memory:{key}.{store}"
        settings[f"store.{store}.file"] = str(path)
        # A persisted record is handed on only when its write completed: in the caller's
        # thread, before the next input, so the lock step's checkpoint leaves none in flight.
        settings[f"store.{store}.synchronous_writes"] = "true"
    return {
        "id": i,
        "kind": "proc",
        "class": job_class,
        "settings": settings,
        "sources": {s: f"{key}.{s}" for s in case.sources},
        "sinks": sinks,
        "steps": steps,
    }


def _class_of(name: str, package: str, generated: set[str]) -> str:
    """The generated class of a subject (the name, or the name with `$` where Java reserves it)."""
    base = package.replace(".", "/")
    for candidate in (name, name + "$"):
        if f"{base}/{candidate}.java" in generated:
            return f"{package}.{candidate}"
    raise RuntimeError(f"no generated class for {name}")


def _json_default(o: object) -> Any:
    if isinstance(o, Decimal):
        # Exact: a float would round decimal(p, s) values.
        return _RawNumber(o)
    raise TypeError(type(o).__name__)


class _RawNumber(float):
    """A Decimal written by json.dumps as its own digits (float subclass: json's number path)."""

    def __new__(cls, d: Decimal) -> "_RawNumber":
        obj = super().__new__(cls, float(d))
        obj._text = str(d)  # type: ignore[attr-defined]
        return obj

    def __repr__(self) -> str:
        return self._text  # type: ignore[attr-defined]


# --- comparing --------------------------------------------------------------------------------


def compare(case: Case, result: dict) -> Outcome:
    where = (case.expect or case).span.location()
    if case.kind == "proc" and "error" not in result:
        return _compare_script(case, result)
    if "error" in result:
        return Outcome(
            case, False, [f"{where}: the call failed: {result['error']}"], result.get("nanos")
        )
    if "result" not in result:
        return Outcome(case, False, [f"{where}: the runner gave no result"])
    diffs: list[str] = []
    assert case.expect is not None and case.expect_type is not None
    _compare(case.expect, case.expect_type, result["result"], "", case.exact, diffs, case)
    return Outcome(case, not diffs, diffs, result.get("nanos"))


def _compare(
    v: Value, t: Type, actual: Any, path: str, exact: bool, out: list[str], case: Case
) -> None:
    label = path or "result"

    def differ() -> None:
        out.append(f"{v.span.location()}: {label}: expected {render_value(v)}, got {_show(actual)}")

    if v.kind == "null":
        if actual is not None:
            differ()
        return
    if v.kind == "block":
        if not isinstance(actual, dict):
            differ()
            return
        named = {f.name for f in v.fields}
        types = _field_types(t)
        for f in v.fields:
            sub = f"{path}.{f.name}" if path else f.name
            _compare(
                f.value, types.get(f.name, Type("any")), actual.get(f.name), sub, exact, out, case
            )
        if exact:
            for name, value in actual.items():
                if name not in named and name in types and value not in (None, False, []):
                    sub = f"{path}.{name}" if path else name
                    where = v.span.location()
                    out.append(f"{where}: {sub}: expected nothing (exactly), got {_show(value)}")
        return
    if v.kind == "list":
        if not isinstance(actual, list) or len(actual) != len(v.items):
            differ()
            return
        inner = t.args[0] if t.kind == "list" and t.args else Type("any")
        for n, (item, got) in enumerate(zip(v.items, actual)):
            _compare(item, inner, got, f"{label}[{n}]", exact, out, case)
        return
    if not _same_scalar(v, t, actual):
        differ()


def _compare_script(case: Case, result: dict) -> Outcome:
    """Each `expect` against the records its stream got since the previous one; then, for
    every stream the test expects on, nothing more after its last `expect`."""
    if "outputs" not in result:
        return Outcome(case, False, [f"{case.span.location()}: the runner gave no result"])
    outputs = iter(result["outputs"])
    diffs: list[str] = []
    last: dict[str, Step] = {}
    for step in case.steps:
        if step.kind != "expect":
            continue
        assert step.value is not None and step.record_type is not None
        got = [json.loads(line, parse_float=Decimal) for line in next(outputs)]
        want = step.value.items if step.value.kind == "list" else [step.value]
        record = step.record_type
        if len(got) != len(want):
            shown = "; ".join(_show(g) for g in got) or "nothing"
            diffs.append(
                f"{step.span.location()}: {step.stream}: expected {len(want)} record(s), "
                f"got {len(got)}: {shown}"
            )
        elif not _any_order(want, got, record, step.exact, case):
            for n, (item, actual) in enumerate(zip(want, got)):
                _compare(item, record, actual, f"{step.stream}[{n}]", step.exact, diffs, case)
        last[step.stream] = step
    for stream, step in last.items():
        more = [json.loads(line, parse_float=Decimal) for line in result["rest"].get(stream, [])]
        if more:
            shown = "; ".join(_show(g) for g in more)
            diffs.append(
                f"{step.span.location()}: {stream}: {len(more)} more record(s) after this "
                f"expect: {shown}"
            )
    return Outcome(case, not diffs, diffs, result.get("nanos"), result.get("start_nanos"))


def _any_order(want: list[Value], got: list[Any], record: Type, exact: bool, case: Case) -> bool:
    """Can each expected record be paired with its own record written, in any order? (Only
    the records of one key come in a defined order; a join's two inputs, a union of streams,
    records of different keys may interleave either way.) Where not, the positional diff
    shows what differs."""
    fits = [[not _differs(item, record, actual, exact, case) for actual in got] for item in want]
    taken = [False] * len(got)

    def pair(i: int) -> bool:
        if i == len(want):
            return True
        for j, ok in enumerate(fits[i]):
            if ok and not taken[j]:
                taken[j] = True
                if pair(i + 1):
                    return True
                taken[j] = False
        return False

    return pair(0)


def _differs(v: Value, t: Type, actual: Any, exact: bool, case: Case) -> bool:
    out: list[str] = []
    _compare(v, t, actual, "", exact, out, case)
    return bool(out)


def _field_types(t: Type) -> dict[str, Type]:
    return {f.name: f.type for f in t.fields} if t.kind == "struct" else {}


def _same_scalar(v: Value, t: Type, actual: Any) -> bool:
    if v.kind == "number":
        return (
            isinstance(actual, (int, Decimal))
            and not isinstance(actual, bool)
            and Decimal(v.text) == Decimal(actual)
        )
    if v.kind in ("true", "false"):
        return actual is (v.kind == "true")
    if v.kind == "word":
        return actual == v.text
    text = json.loads(v.text)
    if t.kind == "datetime" and isinstance(actual, str):
        return _instant(text) == _instant(actual)
    return bool(actual == text)


def render_value(v: Value) -> str:
    if v.kind in ("string", "number", "word"):
        return v.text
    if v.kind == "list":
        return "[" + ", ".join(render_value(i) for i in v.items) + "]"
    if v.kind == "block":
        return "{ " + ", ".join(f"{f.name} = {render_value(f.value)}" for f in v.fields) + " }"
    return v.kind


def _show(actual: Any) -> str:
    if actual is None:
        return "null"
    if isinstance(actual, bool):
        return "true" if actual else "false"
    if isinstance(actual, (int, Decimal)):
        return str(actual)
    if isinstance(actual, str):
        return json.dumps(actual)
    if isinstance(actual, list):
        return "[" + ", ".join(_show(a) for a in actual) + "]"
    if isinstance(actual, dict):
        return "{ " + ", ".join(f"{k} = {_show(a)}" for k, a in actual.items()) + " }"
    return str(actual)


def report(outcomes: list[Outcome]) -> int:
    failed = 0
    for o in outcomes:
        took = f" ({o.nanos / 1e6:.3f} ms)" if o.nanos is not None else ""
        if o.start_nanos is not None and o.nanos is not None:
            took = f" (script {o.nanos / 1e6:.0f} ms, job start {o.start_nanos / 1e6:.0f} ms)"
        status = "PASS" if o.passed else "FAIL"
        sys.stdout.write(f"{status} {o.case.span.file}:{o.case.span.line} {o.case.name}{took}\n")
        for line in o.lines:
            sys.stdout.write(f"    {line}\n")
        failed += not o.passed
    sys.stdout.write(f"{len(outcomes) - failed} passed, {failed} failed\n")
    return failed


# --- coverage ---------------------------------------------------------------------------------


def coverage(project: CheckedProject, cases: list[Case], results: dict[int, dict]) -> float:
    """Print the rules fired and rows matched per ruleset and table; the total percentage."""
    hit: dict[tuple[str, str], set[str]] = {}
    for i, case in enumerate(cases):
        r = results.get(i, {})
        if case.kind == "table":
            hit.setdefault(("table", case.subject), set()).update(r.get("rows") or [])
        elif case.kind == "rules":
            fired = (r.get("result") or {}).get("fired") or []
            hit.setdefault(("rules", case.subject), set()).update(fired)
    total = covered = 0
    for path in sorted(project.modules):
        for decl in project.modules[path].decls:
            if isinstance(decl, ast.DecisionTableDecl):
                key, names, what = ("table", decl.name), [r.label for r in decl.rows], "rows"
            elif isinstance(decl, ast.RulesetDecl):
                key, names, what = ("rules", decl.name), [r.name for r in decl.rules], "rules"
            else:
                continue
            seen = hit.get(key, set())
            done = [n for n in names if n in seen]
            total += len(names)
            covered += len(done)
            kind = "table" if key[0] == "table" else "ruleset"
            sys.stdout.write(f"{kind} {decl.name} ({path}): {len(done)}/{len(names)} {what}\n")
            missed = [n for n in names if n not in seen]
            if missed:
                sys.stdout.write(f"    not hit: {', '.join(missed)}\n")
    percent = 100.0 if total == 0 else 100.0 * covered / total
    sys.stdout.write(f"coverage: {covered}/{total} rules and rows ({percent:.1f}%)\n")
    return percent
