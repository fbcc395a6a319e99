"""docs/diagnostics.md documents every code of the catalogue, and each section's example
(its fenced blocks form one project) really triggers that code, with a location."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import fenced_blocks, read  # pants: no-infer-dep

from nexflow_core.compat.contract import contract_findings
from nexflow_core.diagnostics import CODES, NexflowError, render_text
from nexflow_core.generate import TARGETS, generate_checked
from nexflow_core.project import check_project

_SECTION = re.compile(r"^## (NX\d{3}) — (.+)$", re.M)
_FILE = re.compile(r"// file: (\S+)")
# Codes outside NX9xx that only the generator finds (none: the checker finds NX414 too).
GENERATION_CODES: set[str] = set()
# The upgrade gate's state codes (nexflow compat): an example is a release (`before/` files)
# and a change (`after/` files), the other files are both's.
COMPAT_CODES = {code for code in CODES if "NX601" <= code <= "NX619"}
# The test-file codes (nexflow test): the `nxtest` blocks are test files of the other blocks.
TEST_FILE_CODES = {code for code in CODES if "NX701" <= code <= "NX719"}


def _sections() -> dict[str, tuple[str, str]]:
    text = read("docs/diagnostics.md")
    heads = list(_SECTION.finditer(text))
    out = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out[m.group(1)] = (m.group(2), text[m.end() : end])
    return out


SECTIONS = _sections()


def test_every_code_is_documented_once() -> None:
    assert sorted(SECTIONS) == sorted(CODES)


# Codes whose real trigger is too large to print: their example is checked with the step
# limit of the decision-table search lowered (docs/diagnostics.md says so in the section).
SMALL_LIMIT_CODES = {"NX446"}


@pytest.mark.parametrize("code", sorted(CODES))
def test_documented_example_triggers_code(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if code in SMALL_LIMIT_CODES:
        from nexflow_core.check import tables

        monkeypatch.setattr(tables, "BUDGET", 3)
    title, body = SECTIONS[code]
    assert title.startswith(CODES[code]), (title, CODES[code])
    assert "Fix:" in body
    blocks = fenced_blocks(body)
    assert blocks, f"{code} has no example"
    sources = {}
    for n, (tag, text, _) in enumerate(blocks):
        # A block whose first line is `// file: <path>` is that file (directories matter).
        named = _FILE.match(text)
        sources[named.group(1) if named else f"{code.lower()}_{n}.{tag}"] = text
    # Upgrade codes compare two releases: blocks under `baseline/` are the release running
    # (checked on their own, compared by their interfaces), the others the new one.
    baseline = {p[len("baseline/") :]: t for p, t in sources.items() if p.startswith("baseline/")}
    sources = {p: t for p, t in sources.items() if not p.startswith("baseline/")}
    if code in COMPAT_CODES:
        _check_compat_example(code, body, sources)
        return
    if code in TEST_FILE_CODES:
        _check_test_file_example(code, sources)
        return
    project = check_project(sources)
    if baseline:
        released = check_project(baseline)
        assert released.ok, render_text(released.diagnostics, released.sources)
        project.diagnostics.extend(contract_findings(released.interfaces, project))
    if code.startswith("NX9") or code in GENERATION_CODES:
        # Generation codes: the example checks clean and the generator refuses it.
        assert project.ok, render_text(project.diagnostics, project.sources)
        packages = {path: "docs.example" for path in project.modules}
        with pytest.raises(NexflowError) as refused:
            generate_checked(project, packages, TARGETS["flink"])
        project.diagnostics.extend(refused.value.diagnostics)
    codes = {d.code for d in project.diagnostics}
    assert code in codes, render_text(project.diagnostics, project.sources)
    for d in project.diagnostics:
        assert d.span.line >= 1 and d.span.column >= 1 and d.span.file
        assert d.message
    rendered = render_text(project.diagnostics, project.sources)
    assert f"[{code}]" in rendered


def _check_test_file_example(code: str, sources: dict) -> None:
    """Test-file codes: the DSL blocks check clean; the `nxtest` blocks give `code`."""
    from nexflow_core.dsltest.cases import Checker, parse_tests

    tests = {p: t for p, t in sources.items() if p.endswith(".nxtest")}
    project = check_project({p: t for p, t in sources.items() if p not in tests})
    assert project.ok, render_text(project.diagnostics, project.sources)
    found = []
    checker = Checker(project)
    for path, text in tests.items():
        cases, errors = parse_tests(text, path)
        found += errors
        checker.check(cases)
    found += checker.diagnostics
    assert code in {d.code for d in found}, [(d.code, d.message) for d in found]
    for d in found:
        assert d.span.file in tests and d.span.line >= 1 and d.span.column >= 1
    assert f"[{code}]" in render_text(found, {**project.sources, **tests})


def _check_compat_example(code: str, body: str, sources: dict) -> None:
    """The gate, on the section's release (`before/`) and change (`after/`), reports `code`
    at a place in the change's files."""
    from nexflow_core.compat import state

    environment = re.search(r"--environment (\w+)", body)
    env = environment.group(1) if environment else None
    described = {}
    for side in ("before/", "after/"):
        files = {
            path[len(side) :] if path.startswith(side) else path: text
            for path, text in sources.items()
            if path.startswith(side) or not path.startswith(("before/", "after/"))
        }
        project = check_project(files)
        assert project.ok, render_text(project.diagnostics, project.sources)
        packages = {path: "docs.example" for path in project.modules}
        described[side] = (state.describe_checked(project, packages, env), files)
    results = state.compare_jobs(
        described["before/"][0],
        described["after/"][0],
        allow_non_restored_state="`nexflow compat --allow-non-restored-state`" in body,
    )
    found = state.diagnostics(results)
    assert code in {d.code for d in found}, [(d.code, d.message) for d in found]
    for d in found:
        assert d.span.file in described["after/"][1] and d.span.line >= 1
    assert f"[{code}]" in render_text(found, described["after/"][1])


def test_every_code_the_compiler_writes_is_in_the_catalogue() -> None:
    """The catalogue is the registry of codes: a code literal anywhere in the compiler that it
    lacks would reach a user undocumented (Diagnostic refuses one at run time too)."""
    root = Path(__file__).resolve().parents[2] / "nexflow_core"
    used = {
        (path.relative_to(root).as_posix(), code)
        for path in sorted(root.rglob("*.py"))
        for code in re.findall(r"[\"'](NX\d{3})[\"']", path.read_text("utf-8"))
    }
    assert used, "no code literal found"
    unknown = sorted((path, code) for path, code in used if code not in CODES)
    assert not unknown, unknown


def test_a_diagnostic_of_an_unregistered_code_is_refused() -> None:
    from nexflow_core.diagnostics import Diagnostic, Span

    with pytest.raises(ValueError, match="NX999"):
        Diagnostic("NX999", "error", "no such code", Span("x.proc", 1, 1, 1, 2))
