"""The generator refuses only what the Flink target cannot do (NX901, each documented); every
user error is the checker's, with its own code.

For each guard of the generator (`checker_missed(…)`, `unsupported(…)` in
nexflow_core/generate), the smallest program that would reach it, and what happens to it:
the checker refuses it with a code, or it builds (and compiles), or it is a documented limit
(NX901). Guards no program can reach (`generator_bug(…)`) have no program here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest

from nexflow_core import ast
from nexflow_core.diagnostics import NexflowError, render_text
from nexflow_core.generate import TARGETS, Unit, generate, generate_checked, jobs
from nexflow_core.generate.command import write_files
from nexflow_core.generate.lower import CheckerMissed
from nexflow_core.generate.model import GeneratedFile
from nexflow_core.project import check_project
from tests.generate import javatools

ROOT = Path(__file__).resolve().parents[2]

BASE = """
schema Auth {
    auth_id: string @key
    card_id: string
    amount: decimal(10,2)
    country: string
    at: datetime @event_time
}
schema Other {
    card_id: string @key
    n: long
    at: datetime @event_time
}
schema NoTime {
    card_id: string @key
    n: long
}
schema Total {
    card_id: string
    total: decimal(12,2)
    n: long
}
stream auths: Auth
stream others: Other
stream notime: NoTime
stream totals: Total
stream out: Auth
store profiles: Other key card_id
"""

NUMBERS = """
enum Ch { ATM, POS }
schema Num {
    id: string @key
    ratio: double
    count: int
    big: long
    price: decimal(10,2)
    ratios: list<double>
    ch: Ch
}
stream nums: Num
"""

AGG = """
aggregate into Total {
    card_id = last(card_id)
    total = sum(amount)
    n = count()
}
"""

ENV = """
environment prod {
    streams {
        auths { topic: "a" }
        out { topic: "o" }
        dead_letter {
            topic: "d"
            idempotency_key: auth_id
        }
    }
}
"""

LOOKUP_TRANSFORM = """
transform enrich {
    input a: Other
    lookup prof from profiles by a.card_id
    output long
    compute coalesce(prof.n, 0)
}
"""


def _env(setting: str) -> str:
    """ENV without its dead-letter key (NX508), with one more setting of the environment."""
    env = ENV.replace("            idempotency_key: auth_id\n", "")
    return env.replace("environment prod {\n", "environment prod {\n    " + setting + "\n")


def proc(body: str, **more: str) -> dict[str, str]:
    return {"p.proc": "proc P {\n" + body.strip("\n") + "\n}\n", **more}


def table(column_type: str, cell: str) -> dict[str, str]:
    return {
        "r.rules": f"""
decision_table T for a: Num hit_policy first {{
    inputs {{ n = a.{column_type} }}
    outputs {{ ok: boolean }}
    rules {{
        hit: {cell} -> true
        rest: - -> false
    }}
}}
"""
    }


def nums(condition: str) -> dict[str, str]:
    return proc(f"from nums\nfilter {condition}\nemit to nums")


class Case(NamedTuple):
    site: str  # the generator's guard (file: message)
    sources: dict[str, str]
    # "NXnnn": the checker refuses it with that code; "builds": it generates (and compiles);
    # "NX901: <limit>" / "NX212": the generator refuses it with that diagnostic.
    expected: str
    environment: str | None = None


CASES: dict[str, Case] = {
    # --- jobs.py ------------------------------------------------------------------------------
    "read_after_operator": Case(
        "jobs.py: reading '<name>' after …",
        proc("from auths\nkey by card_id\nstate seen: long ttl 1 hour\n"
             "lookup profiles by card_id as prof\nfilter seen > 1\nemit to out"),
        "NX421",
    ),
    "second_emit_other_delivery": Case(
        "jobs.py: a second `emit to` with another delivery",
        proc("from auths\nemit to out\nemit to out at_least_once"),
        "NX424",
    ),
    "state_after_lookup": Case(
        "jobs.py: keyed state right after a lookup",
        proc("from auths\nlookup profiles by card_id as prof\n"
             "state seen: long ttl 1 hour\nemit to out"),
        "NX430",
    ),
    "state_without_key": Case(
        "jobs.py: keyed state without a key / without `key by` before it",
        proc("from auths\nstate seen: long ttl 1 hour\nemit to out"),
        "NX430",
    ),
    # Check passed and the generator refused it (NX901) before the checker knew it.
    "state_after_aggregate": Case(
        "jobs.py: keyed state without `key by` before it (after aggregate into)",
        proc("from auths\nkey by card_id\nwindow tumbling 1 minute\n" + AGG
             + "state seen: long ttl 1 hour\nemit to totals"),
        "NX430",
    ),
    "rolling_after_aggregate": Case(
        "jobs.py: rolling aggregates without `key by` before them (after aggregate into)",
        proc("from auths\nkey by card_id\nwindow tumbling 1 minute\n" + AGG
             + "rolling 1 hour {\n k = count()\n}\nemit to totals"),
        "NX430",
    ),
    "statement_before_from": Case(
        "jobs.py: a statement before `from`",
        proc("filter amount > 1\nfrom auths\nemit to out"),
        "NX408",
    ),
    "statement_after_route_otherwise": Case(
        "jobs.py: a statement after the route whose `otherwise` sends every record away",
        proc("from auths\nroute {\n when amount > 1 to out\n otherwise to out\n}\n"
             "filter amount > 1\nemit to out"),
        "NX422",
    ),
    "window_without_aggregate": Case(
        "jobs.py: a window without `aggregate into` after it",
        proc("from auths\nkey by card_id\nwindow tumbling 1 minute"),
        "NX408",
    ),
    "proc_without_from": Case("jobs.py: a proc without `from`", proc("emit to out"), "NX431"),
    "handler_without_owner": Case(
        "jobs.py: `on <event>` without the statement it belongs to",
        proc("from auths\non late emit to out\nemit to out"),
        "NX408",
    ),
    "unknown_source": Case(
        "jobs.py: the stream without a schema", proc("from nope\nemit to out"), "NX205"
    ),
    "event_time_after_map": Case(
        "jobs.py: event time from a field that is not the source's",
        proc("from auths\nmap into Stamped {\n card_id = card_id\n seen = at\n}\n"
             "event_time seen watermark 1 second\nemit to stamped",
             **{"s.schema": "schema Stamped {\n card_id: string\n seen: datetime\n}\n"
                "stream stamped: Stamped\n"}),
        "NX434",
    ),
    "event_time_nested": Case(
        "jobs.py: event time from '<field>', not a field of the source",
        proc("from nested\nevent_time inner.ts watermark 1 second\nemit to nested",
             **{"n.schema": "schema In {\n ts: datetime\n}\nschema Nested {\n id: string @key\n"
                " inner: In\n}\nstream nested: Nested\n"}),
        "NX434",
    ),
    "event_time_of_a_date": Case(
        "jobs.py: event time from a <kind> field",
        proc("from dated\nevent_time day watermark 1 second\nemit to dated",
             **{"d.schema": "schema Dated {\n id: string @key\n day: date\n}\n"
                "stream dated: Dated\n"}),
        "NX305",
    ),
    "unknown_transform": Case(
        "jobs.py: the transform", proc("from auths\ntransform using nope\nemit to out"), "NX207"
    ),
    "map_unknown_field": Case(
        "jobs.py/core.py: the field '<field>'",
        proc("from auths\nmap into Total {\n card_id = card_id\n total = amount\n n = 1\n"
             " nope = 1\n}\nemit to totals"),
        "NX306",
    ),
    "unknown_rules": Case(
        "jobs.py: applying '<target>'", proc("from auths\napply Nope as o\nemit to out"), "NX208"
    ),
    "table_result_without_name": Case(
        "jobs.py: applying '<target>' (a decision table without `as <name>`)",
        proc("from nums\napply T\nemit to nums", **table("count", "> 1")),
        "NX432",
    ),
    "update_after_operator": Case(
        "jobs.py: updating the state after …",
        proc("from auths\nkey by card_id\nstate seen: long ttl 1 hour\n"
             "lookup profiles by card_id as prof\nupdate seen = 1\nemit to out"),
        "NX421",
    ),
    "rolling_without_key": Case(
        "jobs.py: rolling aggregates without `key by` before them",
        proc("from auths\nrolling 1 hour {\n n = count()\n}\nemit to out"),
        "NX430",
    ),
    "rolling_after_lookup": Case(
        "jobs.py: rolling aggregates right after a lookup",
        proc("from auths\nkey by card_id\nlookup profiles by card_id as prof\n"
             "rolling 1 hour {\n n = count()\n}\nemit to out"),
        "NX430",
    ),
    "rolling_not_one_aggregation": Case(
        "jobs.py: '<field>' as a rolling aggregation",
        proc("from auths\nkey by card_id\nrolling 1 hour {\n n = count() + 1\n}\nemit to out"),
        "NX307",
    ),
    "correlate_with_itself": Case(
        "jobs.py: correlating '<stream>' with itself",
        proc("from auths\ncorrelate with auths by card_id within 5 minutes\nemit to out"),
        "NX420",
    ),
    "correlate_unknown": Case(
        "jobs.py: the stream '<partner>'",
        proc("from auths\ncorrelate with nope by card_id within 5 minutes\nemit to out"),
        "NX205",
    ),
    "correlate_without_event_time": Case(
        "jobs.py: correlating with a stream without event time on both",
        proc("from auths\ncorrelate with notime by card_id within 5 minutes\nemit to out"),
        "NX420",
    ),
    "unknown_store": Case(
        "jobs.py/core.py: the store '<store>'",
        proc("from auths\nlookup nope by card_id as prof\nemit to out"),
        "NX206",
    ),
    "transform_lookup_argument_missing": Case(
        "jobs.py: the lookup '<alias>' of <transform>",
        proc("from others\nfilter enrich() > 1\nemit to others",
             **{"t.transform": LOOKUP_TRANSFORM}),
        "NX307",
    ),
    "transform_lookup_key_not_a_field": Case(
        "jobs.py: the field '<part>' of <type>",
        proc("from others\ntransform using enrich\nemit to others",
             **{"t.transform": LOOKUP_TRANSFORM.replace("a.card_id", "a.nope")}),
        "NX204",
    ),
    "transform_lookup_argument_not_the_record": Case(
        "jobs.py: an argument of a transform with lookups reading a proc name (was NX901 → NX902)",
        proc("from auths\nlookup profiles by card_id as o\nfilter enrich(o) > 1\nemit to out",
             **{"t.transform": LOOKUP_TRANSFORM}),
        "NX902",
    ),
    "join_unknown": Case(
        "jobs.py: the stream '<stream>' (join)",
        proc("from auths\njoin nope as o on card_id == o.card_id within 5 minutes\nemit to out"),
        "NX205",
    ),
    "join_key_reads_alias_on_both_sides": Case(
        "jobs.py: a join without `<key> == <alias>.<field>`",
        proc("from auths\njoin others as o on o.card_id == lower(o.card_id) within 5 minutes\n"
             "emit to out"),
        "NX432",
    ),
    "join_partner_without_event_time": Case(
        "jobs.py: a join without event time on both streams",
        proc("from auths\njoin notime as o on card_id == o.card_id within 5 minutes\n"
             "emit to out"),
        "NX420",
    ),
    "join_source_without_event_time": Case(
        "jobs.py: a join without event time on both streams",
        proc("from notime\njoin others as o on card_id == o.card_id within 5 minutes\n"
             "emit to notime"),
        "NX420",
    ),
    "window_without_key": Case(
        "jobs.py: a window without `key by` before it",
        proc("from auths\nwindow tumbling 1 minute\n" + AGG + "emit to totals"),
        "NX430",
    ),
    "window_keyed_by_another_record": Case(
        "jobs.py: a window keyed by '<key>' of another record",
        proc("from auths\nkey by card_id\nmap into Total {\n card_id = card_id\n"
             " total = amount\n n = 1\n}\nwindow tumbling 1 minute\naggregate into Total {\n"
             " card_id = last(card_id)\n total = sum(total)\n n = count()\n}\nemit to totals"),
        "NX430",
    ),
    "aggregate_without_window": Case(
        "jobs.py: aggregate without a window right before it",
        proc("from auths\nkey by card_id\n" + AGG + "emit to totals"),
        "NX408",
    ),
    "aggregate_reads_field_outside_aggregation": Case(
        "jobs.py: reading a field outside an aggregation",
        proc("from auths\nkey by card_id\nwindow tumbling 1 minute\naggregate into Total {\n"
             " card_id = card_id\n total = sum(amount)\n n = count()\n}\nemit to totals"),
        "NX435",
    ),
    "dead_letters_keyed_by_a_field": Case(
        "jobs.py: an idempotency key other than correlation_id for dead letters",
        proc("from auths\nemit to out", **{"e.infra": ENV}),
        "NX508",
    ),
    # --- core.py ------------------------------------------------------------------------------
    "unknown_state_type": Case(
        "core.py: the type '<name>'",
        proc("from auths\nkey by card_id\nstate seen: Nope ttl 1 hour\nemit to out"),
        "NX201",
    ),
    "range_bounds_not_numbers": Case(
        "core.py: @range with bounds that are not numbers",
        {"x.schema": 'schema X {\n id: string @key\n n: int @range("a", "b")\n}\n'},
        "NX406",
    ),
    "ruleset_reads_no_record": Case(
        "core.py: <ruleset> without a record to inspect",
        {"r.rules": 'ruleset V {\n rule r {\n when true\n then flag "x"\n }\n}\n'},
        "NX210",
    ),
    "table_reads_no_record": Case(
        "core.py: <table> without a record to inspect",
        {"r.rules": "decision_table T hit_policy first {\n inputs { n = 1 }\n"
         " outputs { ok: boolean }\n rules {\n hit: > 0 -> true\n rest: - -> false\n }\n}\n"},
        "NX210",
    ),
    "set_unknown_field": Case(
        "core.py: set on '<target>'",
        {"r.rules": 'ruleset V for a: Auth {\n rule r {\n when a.amount > 1\n'
         ' then set a.nope = "US"\n }\n}\n'},
        "NX204",
    ),
    "set_nested_field": Case(
        "core.py: set on a nested field",
        {
            "n.schema": "schema Addr {\n country: string\n}\n"
            "schema Pay {\n id: string @key\n addr: Addr\n}\n",
            "r.rules": 'ruleset V for a: Pay {\n rule r {\n when a.id == "x"\n'
            ' then set a.addr.country = "US"\n }\n}\n',
        },
        "NX901: set on a nested field",
    ),
    "decimal_cell_in_int_column": Case(
        "core.py: a <type> cell in a <type> column", table("count", "> 1.5"), "NX411"
    ),
    "long_cell_in_int_column": Case(
        "core.py: a <type> cell in a <type> column", table("count", "> 99999999999"), "NX411"
    ),
    "decimal_cell_in_double_column": Case(
        "lower.py: using decimal as double (a table cell)", table("ratio", "> 1.5"), "NX303"
    ),
    "whole_cell_in_double_column": Case(
        "core.py: a <type> cell in a <type> column (allowed)", table("ratio", "> 1"), "builds"
    ),
    "transform_without_output": Case(
        "core.py: a transform without an output",
        {"t.transform": "transform t {\n input a: Auth\n map {\n x = 1\n }\n}\n"},
        "NX306",
    ),
    "transform_on_error_unknown": Case(
        "core.py: on error <behaviour>",
        {"t.transform": "transform t {\n input a: Auth\n output Auth\n compute a\n"
         " on error retry\n}\n"},
        "NX106",
    ),
    "unknown_environment": Case(
        "core.py: binding to an environment no .infra declares (NX901 before)",
        proc("from auths\nemit to out"),
        "NX212",
        environment="nope",
    ),
    # --- environments.py ----------------------------------------------------------------------
    "environment_parallelism_not_whole": Case(
        "environments.py: parallelism that is no whole number",
        proc("from auths\nemit to out", **{"e.infra": _env('parallelism: "4"')}),
        "NX505",
    ),
    "environment_max_parallelism_not_whole": Case(
        "environments.py: max_parallelism that is no whole number",
        proc("from auths\nemit to out", **{"e.infra": _env("max_parallelism: 1 minute")}),
        "NX527",
    ),
    "environment_duration_not_duration": Case(
        "environments.py: <what> that is no duration",
        proc("from auths\nemit to out", **{"e.infra": _env("buffer_timeout: 5")}),
        "NX505",
    ),
    "environment_choice_not_name": Case(
        "environments.py: <what> that is no name",
        proc("from auths\nemit to out", **{"e.infra": _env('state_backend: "rocksdb"')}),
        "NX505",
    ),
    "environment_checkpoint_storage_not_uri": Case(
        "environments.py: checkpoint storage that is no URI",
        proc("from auths\nemit to out", **{"e.infra": _env("checkpoint { storage: 5 }")}),
        "NX526",
    ),
    # --- lower.py -----------------------------------------------------------------------------
    "unknown_name": Case(
        "lower.py: the name '<name>'", proc("from auths\nfilter nope > 1\nemit to out"), "NX211"
    ),
    "unknown_field_path": Case(
        "lower.py: the field path '<path>'",
        proc("from auths\nfilter country.nope > 1\nemit to out"),
        "NX204",
    ),
    "operator_on_wrong_types": Case(
        "lower.py: '<op>' on <type> and <type>", nums("id - id == id"), "NX301"
    ),
    "in_over_not_a_list": Case(
        "lower.py: `in` over something that is not a list", nums('id in "abc"'), "NX301"
    ),
    "to_decimal_with_two_arguments": Case(
        "lower.py: to_decimal with two arguments", nums("to_decimal(ratio, 2) > 1"), "NX307"
    ),
    "double_compared_with_decimal": Case(
        "lower.py: using decimal as double (a comparison)", nums("ratio > 1.5"), "NX303"
    ),
    "double_in_decimals": Case(
        "lower.py: using decimal as double (`in`)", nums("ratio in [1.5, 2]"), "NX303"
    ),
    "decimal_in_doubles": Case(
        "lower.py: using decimal as double (`in`)", nums("price in ratios"), "NX303"
    ),
    "coalesce_double_decimal": Case(
        "lower.py: using decimal as double (coalesce)", nums("coalesce(ratio, price) > 1"), "NX307"
    ),
    "max_double_decimal": Case(
        "lower.py: using decimal as double (max)", nums("max(ratio, 1.5) > 1"), "NX307"
    ),
    "if_double_decimal": Case(
        "lower.py: using decimal as double (if)",
        nums("(if count > 1 then ratio else price) > 1"),
        "NX301",
    ),
    "contains_decimal_in_doubles": Case(
        "lower.py: using decimal as double (contains)", nums("contains(ratios, 1.5)"), "NX307"
    ),
    "double_compared_with_whole_number": Case(
        "lower.py: using <type> as <type> (allowed)", nums("ratio > 1 and count > 1.5"), "builds"
    ),
    # A text literal stored into an enum field: NX901 ("using string as Ch") before.
    "enum_field_from_text": Case(
        "lower.py: using string as <enum>",
        proc("from nums\nmap into Num {\n id = id\n ratio = ratio\n count = count\n"
             " big = big\n price = price\n ratios = ratios\n ch = \"ATM\"\n}\nemit to nums"),
        "builds",
    ),
    "enum_default_from_text": Case(
        "lower.py: using string as <enum> (a default)",
        {"d.schema": 'schema WithDefault {\n id: string @key\n ch: Ch = "POS"\n}\n'},
        "builds",
    ),
}


def _sources(case: Case) -> dict[str, str]:
    return {"base.schema": BASE, "numbers.schema": NUMBERS, **case.sources}


def _generate(name: str, case: Case) -> list[GeneratedFile]:
    project = check_project(_sources(case))
    assert project.ok, render_text(project.diagnostics, project.sources)
    package = f"limits.{name}"
    units = [Unit(project.modules[p], package, project.sources[p]) for p in sorted(project.modules)]
    return generate(units, [], TARGETS["flink"], case.environment)


def _refused_by_generator(expected: str) -> bool:
    return expected == "NX212" or expected.startswith("NX901")


CHECKER = {
    n: c
    for n, c in CASES.items()
    if c.expected != "builds" and not _refused_by_generator(c.expected)
}
REFUSED = {n: c for n, c in CASES.items() if _refused_by_generator(c.expected)}
BUILDS = {n: c for n, c in CASES.items() if c.expected == "builds"}


@pytest.mark.parametrize("name", sorted(CHECKER))
def test_the_checker_refuses_it_with_its_code(name: str) -> None:
    case = CASES[name]
    project = check_project(_sources(case))
    codes = {d.code for d in project.diagnostics if d.severity == "error"}
    assert case.expected in codes, render_text(project.diagnostics, project.sources)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_generator_refuses_it_with_a_documented_diagnostic(name: str) -> None:
    case = CASES[name]
    with pytest.raises(NexflowError) as refused:
        _generate(name, case)
    (d,) = refused.value.diagnostics
    code, _, limit = case.expected.partition(": ")
    assert d.code == code, d
    assert limit in d.message
    if code == "NX901":
        assert limit in _documented_limits()


def test_what_checks_clean_builds_and_compiles(tmp_path: Path) -> None:
    files: list[GeneratedFile] = []
    for name, case in sorted(BUILDS.items()):
        files += _generate(name, case)
    java = tmp_path / "java"
    written = write_files(java, files)
    written += write_files(java, TARGETS["flink"].render_runtime())
    javatools.javac(sorted(written), tmp_path / "classes")


def _documented_limits() -> str:
    """The list "Limits of the Flink target" under NX901 in docs/diagnostics.md."""
    text = (ROOT / "docs/diagnostics.md").read_text("utf-8")
    start = text.index("### Limits of the Flink target")
    return text[start : text.index("\n## ", start)]


_UNSUPPORTED = re.compile(r"\bunsupported\(\s*[^,]+,\s*f?\"([^\"{]+)", re.S)


def test_every_nx901_of_the_generator_is_a_documented_limit() -> None:
    limits = _documented_limits()
    calls = []
    for path in sorted((ROOT / "nexflow_core/generate").rglob("*.py")):
        text = path.read_text("utf-8")
        calls += [(path.name, m.group(1).strip()) for m in _UNSUPPORTED.finditer(text)]
    # Every call names its construct with a literal phrase, and the list names each one.
    assert len(calls) == len(re.findall(r"(?<!def )\bunsupported\(", "\n".join(
        p.read_text("utf-8") for p in (ROOT / "nexflow_core/generate").rglob("*.py")
    )))
    assert calls, "no unsupported(…) call found"
    for file, phrase in calls:
        assert f"**{phrase}**" in limits, f"{file}: NX901 '{phrase}' is not in the list"


def test_every_documented_limit_is_a_program_here() -> None:
    documented = re.findall(r"^- \*\*(.+?)\*\*", _documented_limits(), re.M)
    tested = {c.expected.partition(": ")[2] for c in REFUSED.values()}
    assert documented and set(documented) <= tested


def test_a_guard_the_checker_owns_fails_as_an_internal_error_naming_its_code() -> None:
    # The checker's NX430 dropped: the generator's guard names the code it should have had,
    # and is no NexflowError (`nexflow build` reports it as an internal error, exit 2).
    project = check_project(_sources(CASES["state_without_key"]))
    assert {d.code for d in project.diagnostics} == {"NX430"}
    project.diagnostics.clear()
    packages = {p: "limits.internal" for p in project.modules}
    with pytest.raises(CheckerMissed, match="NX430") as missed:
        generate_checked(project, packages, TARGETS["flink"])
    assert not isinstance(missed.value, NexflowError)
    assert "p.proc:3:" in str(missed.value)


def test_the_generator_has_a_handler_for_every_proc_statement() -> None:
    # So "the proc statement `…`" (a generator_bug guard) stays unreachable.
    statements = {
        name for name in dir(ast) if name.endswith("Stmt") and isinstance(getattr(ast, name), type)
    }
    builders = [v for v in vars(jobs).values() if isinstance(v, type) and hasattr(v, "on_FromStmt")]
    assert len(builders) == 1 and len(statements) > 20
    handlers = {n[len("on_") :] for n in dir(builders[0]) if n.startswith("on_")}
    assert statements <= handlers, statements - handlers


def test_every_limit_of_the_target_is_reported_in_one_run() -> None:
    """NX901 is collected: every construct the target cannot render, in every unit, at once
    (not the first one per run)."""
    nested = CASES["set_nested_field"].sources
    second = (
        'ruleset W for a: Pay {\n rule r {\n when a.id == "y"\n'
        ' then set a.addr.country = "GB"\n }\n rule s {\n when a.id == "z"\n'
        ' then set a.addr.country = "FR"\n }\n}\n'
    )
    case = Case("core.py: set on a nested field", {**nested, "w.rules": second}, "NX901")
    with pytest.raises(NexflowError) as refused:
        _generate("all_limits", case)
    found = [(d.code, d.span.file, d.span.line) for d in refused.value.diagnostics]
    assert found == [
        ("NX901", "r.rules", 4),
        ("NX901", "w.rules", 4),
        ("NX901", "w.rules", 8),
    ]
