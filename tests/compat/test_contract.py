"""compat/contract.py: which consumers a schema change between two releases breaks, per
compatibility mode — every change kind under every mode, the readers named, the line
reported — and the `compatibility` clause of the schema language (grammar, formatter,
interface, checker), with the seed examples unchanged."""

from __future__ import annotations

import os
from typing import Optional

import msgspec
import pytest

from nexflow_core.check.evolution import RULES
from nexflow_core.compat.contract import CODES, contract_findings
from nexflow_core.diagnostics import Diagnostic, render_text
from nexflow_core.interface import build_interface, load_interface
from nexflow_core.project import CheckedProject, check_project
from nexflow_core.syntax import parse_source
from nexflow_core.tool.fmt import format_source

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODES = ("backward", "forward", "full", "none")

# A reader of the stream under test (`out` carries another schema: only `events` is compared).
PROC = """proc Reader {
    from events
    map into Out {
        id = id
    }
    emit to out
}
"""
OUT = "schema Out {\n    id: string @key\n}\n\nstream out: Out\n"


def _schema(fields: str, mode: Optional[str], enum: str = "") -> str:
    clause = f" compatibility {mode}" if mode else ""
    body = "\n".join(f"    {line}" for line in fields.splitlines())
    return (
        f"{enum}schema Event {{\n    id: string @key\n{body}\n}}\n\nstream events: Event{clause}\n"
    )


def _project(schema: str, proc: str = PROC) -> CheckedProject:
    project = check_project({"app/event.schema": schema, "app/out.schema": OUT, "app/r.proc": proc})
    assert project.ok, render_text(project.diagnostics, project.sources)
    return project


def findings(
    old: str, new: str, mode: Optional[str], enum_old: str = "", enum_new: str = ""
) -> list[Diagnostic]:
    baseline = _project(_schema(old, None, enum_old))
    current = _project(_schema(new, mode, enum_new))
    return contract_findings(baseline.interfaces, current)


# (name, old fields, new fields, enum before, enum after, code, severity per mode, B/F/full)
E = "error"
W = "warning"
CASES = [
    ("added with default", "", "x: int = 0", "", "", "NX622", (None, None, None)),
    ("added optional", "", "x: int?", "", "", "NX622", (None, None, None)),
    ("added required", "", "x: int", "", "", "NX622", (E, None, E)),
    ("removed with default", "x: int = 0", "", "", "", "NX621", (None, None, None)),
    ("removed optional", "x: int?", "", "", "", "NX621", (None, None, None)),
    ("removed required", "x: int", "", "", "", "NX621", (None, E, E)),
    ("renamed required", "a: int", "b: int", "", "", "NX623", (E, E, E)),
    ("renamed optional", "a: int?", "b: int?", "", "", "NX623", (W, W, W)),
    ("renamed, new has default", "a: int", "b: int = 0", "", "", "NX623", (W, E, E)),
    ("widened int to long", "x: int", "x: long", "", "", "NX624", (None, E, E)),
    ("widened long to double", "x: long", "x: double", "", "", "NX624", (None, E, E)),
    ("widened date to datetime", "x: date", "x: datetime", "", "", "NX624", (None, E, E)),
    ("widened decimal precision", "x: decimal(10,2)", "x: decimal(12,2)", "", "", "NX624",
     (None, E, E)),
    ("widened int to decimal", "x: int", "x: decimal(12,2)", "", "", "NX624", (None, E, E)),
    ("narrowed long to int", "x: long", "x: int", "", "", "NX624", (E, None, E)),
    ("narrowed decimal precision", "x: decimal(12,2)", "x: decimal(10,2)", "", "", "NX624",
     (E, None, E)),
    ("retyped string to int", "x: string", "x: int", "", "", "NX624", (E, E, E)),
    ("retyped int to too small decimal", "x: int", "x: decimal(5,2)", "", "", "NX624", (E, E, E)),
    ("scale raised", "x: decimal(10,2)", "x: decimal(12,4)", "", "", "NX624", (None, E, E)),
    ("scale lowered", "x: decimal(10,2)", "x: decimal(9,1)", "", "", "NX624", (E, None, E)),
    ("scale lowered, more integer digits", "x: decimal(10,2)", "x: decimal(12,1)", "", "", "NX624",
     (E, E, E)),
    ("made required", "x: int?", "x: int", "", "", "NX625", (E, None, E)),
    ("made optional", "x: int", "x: int?", "", "", "NX625", (None, E, E)),
    ("enum value added", "m: M", "m: M", "enum M { A }\n\n", "enum M { A, B }\n\n", "NX626",
     (None, E, E)),
    ("enum value removed", "m: M", "m: M", "enum M { A, B }\n\n", "enum M { A }\n\n", "NX626",
     (E, None, E)),
    ("allowed value added", 'c: string @enum["A"]', 'c: string @enum["A", "B"]', "", "",
     "NX626", (None, E, E)),
    ("allowed value removed", 'c: string @enum["A", "B"]', 'c: string @enum["A"]', "", "",
     "NX626", (E, None, E)),
    ("allowed values introduced", "c: string", 'c: string @enum["A"]', "", "", "NX626",
     (E, None, E)),
    ("allowed values dropped", 'c: string @enum["A"]', "c: string", "", "", "NX626",
     (None, E, E)),
    ("key changed", "k: string", "k: string @key", "", "", "NX627", (E, E, E)),
    ("event time changed", "t: datetime @event_time\nu: datetime",
     "t: datetime\nu: datetime @event_time", "", "", "NX628", (E, E, E)),
    ("event time added", "t: datetime", "t: datetime @event_time", "", "", "NX628", (E, E, E)),
    ("unchanged", "x: decimal(10,2)\nm: string?", "x: decimal(10,2)\nm: string?", "", "", "",
     (None, None, None)),
]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("old", "new", "enum_old", "enum_new", "code", "verdicts"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_change_under_mode(
    mode: str,
    old: str,
    new: str,
    enum_old: str,
    enum_new: str,
    code: str,
    verdicts: tuple[Optional[str], ...],
) -> None:
    expected = None if mode == "none" else verdicts[MODES.index(mode)]
    got = findings(old, new, mode, enum_old, enum_new)
    # The key case moves @key off `id`: that is the change, the only one.
    if code == "NX627":
        got = [d for d in got if "key of Event" in d.message]
    if expected is None:
        assert got == [], render_text(got, {})
        return
    assert [(d.code, d.severity) for d in got] == [(code, expected)], render_text(got, {})
    assert f"(compatibility {mode})" in got[0].message


def test_default_mode_is_backward() -> None:
    assert [d.code for d in findings("", "x: int", None)] == ["NX622"]
    assert findings("x: int", "", None) == []


def test_every_change_kind_has_a_code_and_a_rule() -> None:
    kinds = set(RULES) | {"renamed", "widened", "narrowed", "retyped", "scale"}
    assert kinds == set(CODES)


# --- where, and whom -------------------------------------------------------------------------
def test_added_field_is_reported_at_the_field_and_names_the_reader() -> None:
    (d,) = findings("", "merchant_id: string", "backward")
    assert d.code == "NX622" and d.severity == "error"
    assert (d.span.file, d.span.line, d.span.column) == ("app/event.schema", 3, 5)
    assert d.related is not None and d.related.line == 6  # the stream declaration
    assert d.message.startswith("Event: field `merchant_id` added without a default: ")
    assert (
        "stream events (compatibility backward) is read by Reader (app/r.proc: `from events`)"
        in (d.message)
    )
    assert "readers of the new schema can fail records written before the upgrade" in d.message


def test_removed_field_is_reported_at_the_stream_and_names_the_baseline_reader() -> None:
    (d,) = findings("merchant_id: string", "", "forward")
    assert d.code == "NX621"
    assert (d.span.file, d.span.line) == ("app/event.schema", 6)  # `stream events: Event …`
    assert d.related is not None and d.related.line == 1  # the schema
    assert "required field `merchant_id` removed" in d.message
    assert "read in the baseline by Reader (app/r.proc)" in d.message
    assert "readers of the old schema (not yet upgraded) can fail records written after" in (
        d.message
    )


def test_full_names_both_sides() -> None:
    (d,) = findings("x: int", "x: string", "full")
    assert "is read by Reader (app/r.proc: `from events`)" in d.message
    assert "is read in the baseline by Reader (app/r.proc)" in d.message


def test_enum_value_added_is_reported_at_the_member() -> None:
    (d,) = findings("m: M", "m: M", "forward", "enum M { A }\n\n", "enum M {\n    A,\n    B\n}\n\n")
    assert (d.span.line, d.span.column) == (3, 5)
    assert "value B added to enum M (field `m`)" in d.message


def test_a_stream_nobody_reads_still_has_its_contract() -> None:
    baseline = check_project({"a.schema": _schema("", None)})
    current = check_project({"a.schema": _schema("x: int", None)})
    (d,) = contract_findings(baseline.interfaces, current)
    assert "read by no proc of this project (consumers outside it still read it)" in d.message


READERS = """proc Joiner {
    from out
    join events as e on e.id == id within 5 minutes
    lookup kept by id as k
    emit to out
}

proc Correlator {
    from out
    correlate with events by id within 5 minutes
    emit to out
}

proc Other {
    from out
    emit to out
}
"""


def test_readers_of_every_kind_are_named() -> None:
    timed = "t: datetime @event_time"
    store = "\nstore kept: Event key id\n"
    out = OUT.replace("@key\n", "@key\n    t: datetime @event_time\n")
    base = check_project(
        {"e.schema": _schema(timed, None) + store, "o.schema": out, "r.proc": READERS}
    )
    assert base.ok, render_text(base.diagnostics, base.sources)
    cur = check_project(
        {"e.schema": _schema(timed + "\nx: int", None) + store, "o.schema": out, "r.proc": READERS}
    )
    assert cur.ok, render_text(cur.diagnostics, cur.sources)
    by_carrier = {
        d.message.split(": ", 2)[2].split(" (")[0]: d
        for d in contract_findings(base.interfaces, cur)
    }
    assert sorted(by_carrier) == ["store kept", "stream events"]
    events = by_carrier["stream events"].message
    assert "Correlator (r.proc: `correlate with events`)" in events
    assert "Joiner (r.proc: `join events`)" in events
    assert "Other" not in events
    kept = by_carrier["store kept"].message
    assert "store kept (compatibility backward) is read by Joiner (r.proc: `lookup kept`)" in kept
    assert "records stored before the upgrade" in kept


def test_store_key_change_is_reported_at_the_store() -> None:
    schema = "schema A {\n    id: string @key\n    iban: string\n}\n\n"
    base = check_project({"a.schema": schema + "store s: A key id\n"})
    cur = check_project({"a.schema": schema + "store s: A key iban compatibility forward\n"})
    (d,) = contract_findings(base.interfaces, cur)
    assert (d.code, d.span.line) == ("NX627", 6)
    assert "key of store s changed from `id` to `iban`" in d.message
    assert "records stored before the upgrade are not found under the new key" in d.message


def test_nested_records_and_list_items_are_compared() -> None:
    def src(inner: str) -> dict[str, str]:
        return {
            "a.schema": (
                f"schema Inner {{\n    {inner}\n}}\n\n"
                "schema Outer {\n    id: string @key\n    one: Inner\n    many: list<Inner>\n"
                "    n: list<int>\n}\n\nstream s: Outer compatibility full\n"
            )
        }

    base, cur = check_project(src("v: int")), check_project(src("v: long"))
    got = contract_findings(base.interfaces, cur)
    # `v` of Inner, reached through `one` (reported once: the same declaration).
    assert [(d.code, d.span.line) for d in got] == [("NX624", 2)]
    assert "field `one.v` widened from int to long" in got[0].message
    base = check_project(src("v: int").copy())
    cur = check_project({"a.schema": src("v: int")["a.schema"].replace("list<int>", "list<long>")})
    (d,) = contract_findings(base.interfaces, cur)
    assert "field `n[]` widened from int to long" in d.message and d.span.line == 9


def test_unchanged_examples_have_no_findings() -> None:
    for name in ("payments", "card-fraud", "hello"):
        project = check_project([os.path.join(ROOT, "examples", name)])
        assert contract_findings(project.interfaces, project) == [], name


def test_baseline_interfaces_read_back_from_their_files() -> None:
    """The gate loads the baseline from interface files (a format-4 file has no mode: the
    default, backward)."""
    baseline = _project(_schema("", None))
    loaded = {p: load_interface(build_interface(baseline, p)) for p in baseline.interfaces}
    old_format = load_interface(
        build_interface(baseline, "app/event.schema").replace(b'"format":5', b'"format":4')
    )
    assert old_format.streams[0].compatibility == "backward"
    current = _project(_schema("x: int", "full"))
    assert [d.code for d in contract_findings(loaded, current)] == ["NX622"]


# --- the language ----------------------------------------------------------------------------
SCHEMA = """schema P {
    id: string @key
}

stream a: P
stream b: P compatibility full
store s: P key id compatibility forward
store t: P compatibility none
"""


def test_the_clause_parses_into_the_ast_and_interface() -> None:
    module = parse_source(SCHEMA, "p.schema")
    modes = {d.name: d.compatibility.mode if d.compatibility else None for d in module.decls[1:]}
    assert modes == {"a": None, "b": "full", "s": "forward", "t": "none"}
    project = check_project({"p.schema": SCHEMA})
    assert project.ok
    unit = project.interfaces["p.schema"]
    assert {s.name: s.compatibility for s in unit.streams} == {"a": "backward", "b": "full"}
    assert {s.name: (s.key, s.compatibility) for s in unit.stores} == {
        "s": ("id", "forward"),
        "t": (None, "none"),
    }
    # The default is not written: equal meaning, equal bytes.
    assert b"compatibility" not in msgspec.json.encode(unit.streams[0])


def test_the_formatter_keeps_the_clause() -> None:
    messy = SCHEMA.replace("stream b: P compatibility full", "stream b:P   compatibility   full")
    out = format_source(messy, "p.schema")
    assert out == SCHEMA
    assert format_source(out, "p.schema") == out


def test_the_word_compatibility_still_names_things() -> None:
    src = (
        "schema P {\n    compatibility: string @key\n}\n\n"
        "stream compatibility: P compatibility full\n"
    )
    project = check_project({"p.schema": src})
    assert project.ok, render_text(project.diagnostics, project.sources)
    assert project.interfaces["p.schema"].streams[0].compatibility == "full"


@pytest.mark.parametrize(
    ("mode", "hint"),
    [
        ("backward_transitive", "write compatibility backward"),
        ("ful", "did you mean 'full'?"),
    ],
)
def test_unknown_mode_is_nx620_at_the_clause(mode: str, hint: str) -> None:
    project = check_project(
        {"p.schema": f"schema P {{ id: string }}\nstream a: P compatibility {mode}\n"}
    )
    (d,) = project.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("NX620", 2, 13)
    assert d.hint is not None and hint in d.hint
    # The gate leaves a stream with an unknown mode to NX620.
    base = check_project({"p.schema": "schema P { id: string }\nstream a: P\n"})
    changed = project.sources["p.schema"].replace("id: string }", "id: string x: int }")
    assert contract_findings(base.interfaces, check_project({"p.schema": changed})) == []


def test_seed_examples_are_unchanged_and_check_clean() -> None:
    for name in ("payments", "card-fraud", "hello"):
        project = check_project([os.path.join(ROOT, "examples", name)])
        assert project.ok, render_text(project.diagnostics, project.sources)
        for path, text in project.sources.items():
            if path.endswith(".schema"):
                assert format_source(text, path) == text, path
                assert "compatibility" not in text
        for unit in project.interfaces.values():
            assert all(s.compatibility == "backward" for s in unit.streams + unit.stores)


# --- NX407 shares the comparison and keeps its rule -------------------------------------------
@pytest.mark.parametrize(
    ("v1", "v2", "messages"),
    [
        ("n: int", "n: long\nx: int?", []),
        ("n: int", "n: string", ["changes 'n' from int to string"]),
        ("n: int", "n: int\nx: int", ["adds required field 'x' without a default"]),
        ("n: int\nx: int", "n: int", ["removes required field 'x'"]),
        ("n: list<int>", "n: list<long>", ["changes 'n' from list<int> to list<long>"]),
        ("n: decimal(10,2)", "n: decimal(8,1)", []),
        ("n: int?", "n: int", []),
        ("a: int", "b: int", ["adds required field 'b'", "removes required field 'a'"]),
    ],
)
def test_nx407_rule_is_unchanged(v1: str, v2: str, messages: list[str]) -> None:
    def block(version: int, fields: str) -> str:
        body = "\n".join(f"    {f}" for f in fields.splitlines())
        return f"schema A version {version} {{\n    id: string\n{body}\n}}\n"

    project = check_project({"a.schema": block(1, v1) + "\n" + block(2, v2)})
    got = [d.message for d in project.diagnostics]
    assert [d.code for d in project.diagnostics] == ["NX407"] * len(messages)
    for text, want in zip(sorted(got), sorted(messages)):
        assert want in text


def test_nx407_compares_every_consecutive_pair() -> None:
    src = (
        "schema A version 1 { id: string }\n"
        "schema A version 2 { id: string x: int? }\n"
        "schema A version 3 { id: string x: int? y: int }\n"
    )
    (d,) = check_project({"a.schema": src}).diagnostics
    assert d.code == "NX407" and "version 3 of A adds required field 'y'" in d.message


def test_a_store_read_through_a_transform_lookup_names_the_proc() -> None:
    def src(extra: str) -> dict[str, str]:
        return {
            "r.schema": "schema Rate {\n    currency: string @key\n    rate: decimal(12,6)\n"
            + extra
            + "}\n\nstore rates: Rate key currency\n",
            "p.schema": "schema Pay {\n    id: string @key\n    currency: string\n}\n\n"
            "schema Out {\n    id: string @key\n    r: decimal(12,6)\n}\n\n"
            "stream pays: Pay\nstream out: Out\n",
            "t.transform": "transform rate_of {\n    input currency: string\n"
            "    output decimal(12,6)\n    lookup fx from rates by currency\n"
            "    compute coalesce(fx.rate, 1.0)\n}\n",
            "x.proc": "proc Conv {\n    from pays\n    map into Out {\n        id = id\n"
            "        r = rate_of(currency)\n    }\n    emit to out\n}\n",
        }

    base, cur = check_project(src("")), check_project(src("    source: string\n"))
    assert base.ok and cur.ok, render_text(cur.diagnostics, cur.sources)
    (d,) = contract_findings(base.interfaces, cur)
    assert (d.code, d.span.file, d.span.line) == ("NX622", "r.schema", 4)
    assert "read by Conv (x.proc: `lookup … from rates` in transform rate_of)" in d.message
