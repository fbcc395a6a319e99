"""Procs → the job model: flows the checker refuses (a located error, never wrong Java), and
operator uids that survive edits (derived from the proc and its keys, not positions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.project import check_project
from nexflow_core.syntax import parse_source

CARDS = Path("tests/pipelines/cards")


def _generate(proc: str, schema: str = "") -> dict:
    sources = {p.name: p.read_text("utf-8") for p in sorted(CARDS.iterdir())
               if p.suffix in (".schema", ".transform", ".rules")}  # fmt: skip
    sources["x.proc"] = proc
    if schema:
        sources["x.schema"] = schema
    units = [Unit(parse_source(t, n), "p", t) for n, t in sources.items()]
    return {f.path: f.content for f in generate(units, [], TARGETS["flink"])}


def _refused_by_check(proc: str) -> tuple:
    sources = {p.name: p.read_text("utf-8") for p in sorted(CARDS.iterdir())
               if p.suffix in (".schema", ".transform", ".rules")}  # fmt: skip
    sources["x.proc"] = proc
    project = check_project(sources)
    errors = [d for d in project.diagnostics if d.is_error]
    assert errors and errors[0].span.file == "x.proc", errors
    return errors[0].code, errors[0].span.line, errors[0].message


# Flows the generator once refused with NX901 after a clean check: the checker refuses them
# now (what `check` accepts must build).
REFUSED = {
    "correlate with itself": (
        "proc P {\n    from auths\n    correlate with auths by auth_id within 1 minute\n"
        "    emit to approved_auths\n}\n", "NX420", 3, "correlating it with itself"),
    "state across an operator": (
        "proc P {\n    from auths\n    key by card_id\n    state n: long ttl 1 hour\n"
        "    deduplicate by auth_id within 1 minute\n    update n = coalesce(n, 0) + 1\n"
        "    emit to approved_auths\n}\n", "NX421", 6, "the state 'n' belongs to the operator "
        "before `deduplicate` on line 5"),
    "table result across an operator": (
        "proc P {\n    from auths\n    transform using score_auth\n"
        "    apply RiskBand table as band\n    deduplicate by auth_id within 1 minute\n"
        "    filter band is not null\n    emit to high_risk_auths\n}\n", "NX421", 6,
        "'band' belongs to the operator before `deduplicate` on line 5"),
    "after route otherwise": (
        "proc P {\n    from auths\n    route {\n        when amount > 1 to review_auths\n"
        "        otherwise to approved_auths\n    }\n    emit to declined_auths\n}\n", "NX422",
        7, "the route on line 3 sends every record away"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_by_the_checker_with_a_located_error(case: str) -> None:
    proc, code, line, words = REFUSED[case]
    got_code, got_line, message = _refused_by_check(proc)
    assert (got_code, got_line) == (code, line) and words in message, message


def _uids(files: dict) -> list:
    job = next(v for k, v in files.items() if k.endswith("PJob.java"))
    return re.findall(r'\.uid\("([^"]+)"\)', job)


def _all_uids(files: dict) -> list:
    """Every uid in the job: `.uid("…")` and the last argument of the runtime's helpers that
    set one (lookups, persist, sinks)."""
    job = next(v for k, v in files.items() if k.endswith("PJob.java"))
    return re.findall(r'"(P\.[^"\s]+)"\)', job)


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
    assert keyed == ["P.state.card_id.n", "P.dedup.auth_id", "P.correlate.auth_id"]
    assert [u for u in after if ".steps." not in u and "review" not in u] == keyed


# Operators of the same kinds as the proc's (deduplicate, keyed state, lookup of the same store,
# persist to the same store), inserted before them.
SAME_KINDS = """    deduplicate by card_id within 1 hour
    key by merchant
    state seen: long ttl 1 hour
    update seen = coalesce(seen, 0) + 1
    lookup merchants by merchant as first_look
    emit to review_auths persist to merchants_seen
"""

OF_EACH_KIND = """proc P {
    from auths
%s    deduplicate by auth_id within 1 minute
    key by card_id
    state n: long ttl 1 hour
    update n = coalesce(n, 0) + 1
    lookup merchants by merchant as m
    filter m is not null
    emit to approved_auths persist to merchants_seen
}
"""


def test_inserting_or_removing_an_earlier_operator_of_the_same_kind_moves_no_uid() -> None:
    extra = "stream merchants_seen: CardAuth\nstore merchants_seen: CardAuth key auth_id\n"
    without = _all_uids(_generate(OF_EACH_KIND % "", extra))
    with_them = _all_uids(_generate(OF_EACH_KIND % SAME_KINDS, extra))
    stateful = [u for u in without if not re.search(r"\.(steps|keyed|sink)\.", u)]
    assert stateful == [
        "P.dedup.auth_id", "P.state.card_id.n", "P.lookup.merchants.m",
        "P.persist.merchants_seen.approved_auths",
    ]  # fmt: skip
    # Each keeps its uid when operators of its kind come before it (and again when they go).
    assert set(stateful) <= set(with_them)
    assert {"P.dedup.card_id", "P.state.merchant.seen", "P.lookup.merchants.first_look",
            "P.persist.merchants_seen.review_auths"} <= set(with_them)  # fmt: skip
    assert len(with_them) == len(set(with_them))


def test_two_streams_persisting_to_one_store_get_two_uids() -> None:
    extra = "stream merchants_seen: CardAuth\nstore merchants_seen: CardAuth key auth_id\n"
    proc = ("proc P {\n    from auths\n    emit to approved_auths persist to merchants_seen\n"
            "    filter amount > 100\n"
            "    emit to review_auths persist to merchants_seen async\n}\n")  # fmt: skip
    uids = _all_uids(_generate(proc, extra))
    persist = sorted(u for u in uids if ".persist." in u)
    assert persist == [
        "P.persist.merchants_seen.approved_auths", "P.persist.merchants_seen.review_auths"
    ]
    assert len(uids) == len(set(uids))


def test_one_stream_emitted_twice_alike_with_persist_builds_one_sink() -> None:
    # Two identical `emit … persist to` lines: check accepts them (same delivery and
    # persistence, NX424 compares those); the generator compared where each was written too and
    # refused them as an internal error. Found by the fuzz corpus.
    extra = "store merchants_seen: CardAuth key auth_id\n"
    proc = ("proc P {\n    from auths\n    emit to approved_auths persist to merchants_seen\n"
            "    filter amount > 100\n"
            "    emit to approved_auths persist to merchants_seen\n}\n")  # fmt: skip
    uids = _all_uids(_generate(proc, extra))
    assert [u for u in uids if ".persist." in u] == ["P.persist.merchants_seen.approved_auths"]
    assert len(uids) == len(set(uids))


def test_two_operators_with_one_uid_are_nx414_naming_both() -> None:
    proc = ("proc P {\n    from auths\n    deduplicate by auth_id within 1 minute\n"
            "    filter amount > 0\n    deduplicate by auth_id within 1 hour\n"
            "    emit to approved_auths\n}\n")  # fmt: skip
    sources = {p.name: p.read_text("utf-8") for p in sorted(CARDS.iterdir())
               if p.suffix in (".schema", ".transform", ".rules")}  # fmt: skip
    project = check_project({**sources, "x.proc": proc})
    (d,) = [d for d in project.diagnostics if d.is_error]
    assert d.code == "NX414" and "(deduplicate auth_id)" in d.message
    assert (d.span.file, d.span.line) == ("x.proc", 5)
    assert d.related is not None and (d.related.file, d.related.line) == ("x.proc", 3)
    assert "x.proc:3" in d.message


def test_rolling_state_is_named_after_the_first_aggregate_not_all_of_them() -> None:
    proc = ("proc P {\n    from auths\n    key by card_id\n    rolling 1 hour {\n"
            "        n = count()\n%s        total = sum(amount)\n    }\n"
            "    filter n > 1\n    emit to approved_auths\n}\n")  # fmt: skip
    before = next(v for k, v in _generate(proc % "").items() if k.endswith("PJob.java"))
    after = next(
        v for k, v in _generate(proc % "        biggest = max(amount)\n").items()
        if k.endswith("PJob.java")
    )
    for job in (before, after):
        assert 'new ValueStateDescriptor<>("rolling.n",' in job
        assert '.uid("P.state.card_id.n")' in job
        # Values kept per aggregate name (a POJO field each: Flink's schema evolution).
        assert "public java.math.BigDecimal[] v_total" in job
    assert "public java.math.BigDecimal[] v_biggest" in after


# The classes state is serialized as (Flink's PojoSerializer restores only into the class the
# savepoint names): one of each kind, after `%s`.
STATE_CLASSES = """proc P {
    from auths
    event_time event_time watermark 1 second
%s    key by card_id
    rolling 1 hour {
        payments_1h = count()
        spent_1h = sum(amount)
    }
    correlate with settlements by auth_id within 5 minutes
    key by card_id
    window tumbling 1 minute
    aggregate into CardVelocity {
        card_id = first(card_id)
        txn_count = count()
        total_usd = sum(amount)
        max_usd = max(amount)
        avg_usd = avg(amount)
        first_auth = first(auth_id)
        last_auth = last(auth_id)
        merchants = count_distinct(merchant)
    }
    emit to card_velocity
}
"""


def _classes(job: str) -> list:
    return re.findall(r"^    (?:public|private) static final class (\w+)", job, re.M)


def test_state_classes_are_named_after_their_state_not_their_position() -> None:
    before = _generate(STATE_CLASSES % "")["p/PJob.java"]
    after = _generate(STATE_CLASSES % "    filter amount > 0\n    emit to review_auths\n")[
        "p/PJob.java"
    ]
    state = ["RollingCardIdPayments1h", "CorrelateAuthIdWithSettlementsWaiting",
             "CorrelateAuthIdWithSettlementsPartnerWaiting",
             "WindowTumblingCardIdCardVelocityAccumulator"]  # fmt: skip
    for job in (before, after):
        assert set(state) <= set(_classes(job)), _classes(job)
    # The operators' own functions hold no state restored into them: still by position.
    assert "Steps1" in _classes(before) and "Window3" in _classes(before)
    assert "Steps2" in _classes(after) and "Window4" in _classes(after)


def test_window_accumulator_fields_are_named_after_the_output_fields() -> None:
    job = _generate(STATE_CLASSES % "")["p/PJob.java"]
    acc = job[job.index("class WindowTumblingCardIdCardVelocityAccumulator") :]
    acc = acc[: acc.index("\n    }\n")]
    fields = re.findall(r"^        public (?!static )[\w.<>, \[\]]+ ([\w$]+)", acc, re.M)
    assert fields == [
        "card_id", "card_id$time", "txn_count", "total_usd", "max_usd", "avg_usd$sum",
        "avg_usd$count", "first_auth", "first_auth$time", "last_auth", "last_auth$time",
        "merchants", "rejected", "rejectedMore", "failed",
    ]  # fmt: skip
    # Moved to the front: every field keeps its name (and its values in open windows).
    moved = STATE_CLASSES.replace("        max_usd = max(amount)\n", "").replace(
        "        card_id = first", "        max_usd = max(amount)\n        card_id = first"
    )
    job = _generate(moved % "")["p/PJob.java"]
    acc = job[job.index("class WindowTumblingCardIdCardVelocityAccumulator") :]
    acc = acc[: acc.index("\n    }\n")]
    moved_fields = re.findall(r"^        public (?!static )[\w.<>, \[\]]+ ([\w$]+)", acc, re.M)
    assert moved_fields[0] == "max_usd" and sorted(moved_fields) == sorted(fields)


RATIOS = """schema Ratios {
    ratio: decimal(38,6)?
    n: long
    failed: long
    class: decimal(38,6)?
}
stream ratios: Ratios
"""


def test_window_accumulator_fields_of_shared_and_combined_aggregations() -> None:
    proc = ("proc P {\n    from auths\n    key by card_id\n    window tumbling 1 minute\n"
            "    aggregate into Ratios {\n"
            # Two aggregations in one field: each named with its function (and a number).
            "        ratio = (sum(amount) + sum(amount * 2)) / count()\n"
            # count() also alone in a field: named after that one.
            "        n = count()\n"
            # Named like a member of the accumulator, or a Java keyword: a `$` suffix.
            "        failed = count_distinct(merchant)\n"
            "        class = avg(amount)\n"
            "    }\n    emit to ratios\n}\n")  # fmt: skip
    job = _generate(proc, RATIOS)["p/PJob.java"]
    acc = job[job.index("class WindowTumblingCardIdRatiosAccumulator") :]
    acc = acc[: acc.index("\n    }\n")]
    fields = re.findall(r"^        public (?!static )[\w.<>, \[\]]+ ([\w$]+)", acc, re.M)
    assert fields == [
        "ratio$sum", "ratio$sum$2", "n", "failed$", "class$$sum", "class$$count", "rejected",
        "rejectedMore", "failed",
    ]  # fmt: skip


def test_two_states_meeting_in_one_class_name_get_a_digest_suffix(tmp_path: Path) -> None:
    # `rolling.n_1` and `rolling.n1` of one key are both RollingCardIdN1 in CamelCase.
    proc = ("proc P {\n    from auths\n    key by card_id\n    rolling 1 hour {\n"
            "        n_1 = count()\n    }\n    filter n_1 > 0\n    rolling 1 hour {\n"
            "        n1 = count()\n    }\n    filter n1 > 0\n"
            "    emit to approved_auths\n}\n")  # fmt: skip
    job = _generate(proc)["p/PJob.java"]
    rolling = sorted(c for c in _classes(job) if c.startswith("Rolling"))
    assert len(rolling) == 2 and all(re.fullmatch(r"RollingCardIdN1_[0-9a-f]{8}", c)
                                     for c in rolling), rolling  # fmt: skip
    # The same names in every build of the same sources, whatever comes before them.
    again = _generate(proc.replace("    key by", "    filter amount > 0\n    key by"))
    assert sorted(c for c in _classes(again["p/PJob.java"]) if c.startswith("Rolling")) == rolling
    # And the job compiles.
    from tests.generate import javatools

    sources = {p.name: p.read_text("utf-8") for p in sorted(CARDS.iterdir())
               if p.suffix in (".schema", ".transform", ".rules")}  # fmt: skip
    files = javatools.generate_sources({**sources, "x.proc": proc}, "p", tmp_path / "out")
    javatools.javac(files, tmp_path / "classes")
