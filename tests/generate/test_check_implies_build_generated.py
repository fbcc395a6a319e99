"""What `check` accepts builds, on programs hypothesis writes: procs composed from a menu of
statements over the card pipelines' schemas, transforms and rules (tests/pipelines/cards), in
any order, so most break some rule of the language (a state with no key, a name read beyond
its operator, an `on timeout` without a correlate, …).

For every program: either `check` reports an error, or generation succeeds (no NX9xx, no
internal error). The programs that check clean are then compiled, all in one javac batch.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexflow_core.diagnostics import NexflowError, render_text
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.generate.command import write_files
from nexflow_core.generate.model import GeneratedFile
from nexflow_core.project import check_project
from nexflow_core.syntax import parse_source
from tests.generate import javatools
from tests.generate.program_menu import MENU

CARDS = Path("tests/pipelines/cards")
BASE = {
    p.name: p.read_text("utf-8")
    for p in sorted(CARDS.iterdir())
    if p.suffix in (".schema", ".transform", ".rules")
}


EXAMPLES = 2000  # programs per run (most break a rule of the language)
COMPILED_AT_MOST = 150  # of those that check clean, the ones compiled (javac on two cores)

statements = st.lists(st.sampled_from(range(len(MENU))), min_size=1, max_size=7)


def _program(name: str, picks: list[int]) -> str:
    body = "\n".join("    " + MENU[i].format(n=k) for k, i in enumerate(picks))
    return f"proc {name} {{\n    from auths\n{body}\n}}\n"


def test_every_generated_program_check_accepts_builds(tmp_path: Path) -> None:
    base = [Unit(parse_source(t, n), "generated.base", t) for n, t in sorted(BASE.items())]
    built: dict[tuple[int, ...], list[GeneratedFile]] = {}
    refused_by_check = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(statements)
    def check_then_build(picks: list[int]) -> None:
        nonlocal refused_by_check
        if tuple(picks) in built:
            return
        name = f"P{len(built)}"
        text = _program(name, picks)
        project = check_project({**BASE, "p.proc": text})
        if not project.ok:
            refused_by_check += 1
            return
        unit = Unit(project.modules["p.proc"], f"generated.p{len(built)}", text)
        try:
            built[tuple(picks)] = generate([unit], base, TARGETS["flink"])
        except NexflowError as e:
            raise AssertionError(
                f"check accepts, build refuses:\n{text}\n"
                + render_text(e.diagnostics, project.sources)
            ) from None

    check_then_build()
    # Most programs break a rule, but a good share must get through for the property to mean
    # much.
    assert len(built) >= 40, (len(built), refused_by_check)
    print(f"generated programs: {len(built)} build, {refused_by_check} refused by check")
    files = generate(base, [], TARGETS["flink"])
    for picks in list(built)[:COMPILED_AT_MOST]:
        files += built[picks]
    java = tmp_path / "java"
    written = write_files(java, files)
    written += write_files(java, TARGETS["flink"].render_runtime())
    javatools.javac(sorted(written), tmp_path / "classes")
