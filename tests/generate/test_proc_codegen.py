"""Procs → the job model: what the generator refuses (a located NX901, never wrong Java), and
operator uids that survive edits (derived from the proc and its keys, not positions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nexflow_core.diagnostics import NexflowError
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.syntax import parse_source

CARDS = Path("tests/pipelines/cards")


def _generate(proc: str) -> dict:
    sources = {p.name: p.read_text("utf-8") for p in sorted(CARDS.iterdir())
               if p.suffix in (".schema", ".transform", ".rules")}  # fmt: skip
    sources["x.proc"] = proc
    units = [Unit(parse_source(t, n), "p", t) for n, t in sources.items()]
    return {f.path: f.content for f in generate(units, [], TARGETS["flink"])}


def _refused(proc: str) -> tuple:
    with pytest.raises(NexflowError) as info:
        _generate(proc)
    d = info.value.diagnostics[0]
    assert d.code == "NX901" and d.span.file == "x.proc"
    return d.span.line, d.message


REFUSED = {
    "correlate with itself": (
        "proc P {\n    from auths\n    correlate with auths by auth_id within 1 minute\n"
        "    emit to approved_auths\n}\n", 3, "correlating 'auths' with itself"),
    "state across an operator": (
        "proc P {\n    from auths\n    key by card_id\n    state n: long ttl 1 hour\n"
        "    deduplicate by auth_id within 1 minute\n    update n = coalesce(n, 0) + 1\n"
        "    emit to approved_auths\n}\n", 6, "updating the state 'n'"),
    "table result across an operator": (
        "proc P {\n    from auths\n    transform using score_auth\n"
        "    apply RiskBand table as band\n    deduplicate by auth_id within 1 minute\n"
        "    filter band is not null\n    emit to high_risk_auths\n}\n", 6, "reading 'band'"),
    "after route otherwise": (
        "proc P {\n    from auths\n    route {\n        when amount > 1 to review_auths\n"
        "        otherwise to approved_auths\n    }\n    emit to declined_auths\n}\n", 7,
        "after the route"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_a_located_nx901(case: str) -> None:
    proc, line, words = REFUSED[case]
    got_line, message = _refused(proc)
    assert got_line == line and words in message, message


def _uids(files: dict) -> list:
    job = next(v for k, v in files.items() if k.endswith("PJob.java"))
    return re.findall(r'\.uid\("([^"]+)"\)', job)


def test_a_self_join_reads_its_stream_once() -> None:
    files = _generate(
        "proc P {\n    from auths\n    filter amount > 0\n"
        "    join auths as o on card_id == o.card_id within 1 hour\n    emit to approved_auths\n}\n"
    )
    job = next(v for k, v in files.items() if k.endswith("PJob.java"))
    uids = _uids(files)
    assert len(uids) == len(set(uids))
    # The one source assigns event time itself (no operator after it does).
    assert job.count("Sources.jsonLines(") == 1 and "NAME, SOURCE_TIME)" in job
    assert "assignTimestampsAndWatermarks" not in job
    assert "DataStream<p.CardAuth> timed2 = op0;" in job


def test_keyed_uids_do_not_move_when_stateless_statements_are_added() -> None:
    base = ("proc P {\n    from auths\n%s    key by card_id\n    state n: long ttl 1 hour\n"
            "    update n = coalesce(n, 0) + 1\n    deduplicate by auth_id within 1 minute\n"
            "    correlate by auth_id within 1 minute\n"
            "    emit to approved_auths\n}\n")  # fmt: skip
    before = _uids(_generate(base % ""))
    after = _uids(_generate(base % "    filter amount > 0\n    emit to review_auths\n"))
    keyed = [u for u in before if ".steps." not in u]
    assert keyed == ["P.state.card_id", "P.dedup.auth_id", "P.correlate.auth_id"]
    assert [u for u in after if ".steps." not in u and "review" not in u] == keyed
