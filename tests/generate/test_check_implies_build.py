"""What `check` accepts builds: every program of the corpus below that checks clean generates
Java, and all of it compiles, in one javac batch.

The corpus: programs users tried that once passed `check` and then failed in `build` (a
generator error, an internal error or Java that did not compile), every example of the
language reference (docs/language/*.md, each with the prelude files it does not redefine),
and the example projects (examples/*). Each program generates into a package of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nexflow_core.diagnostics import render_text
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.generate.command import write_files
from nexflow_core.generate.model import GeneratedFile
from nexflow_core.project import check_project
from nexflow_core.syntax import parse_source
from tests.generate import javatools

ROOT = Path(__file__).resolve().parents[2]
DSL_TAGS = ("schema", "transform", "rules", "proc", "infra")
PAGES = ("schema.md", "transform.md", "rules.md", "proc.md", "infra.md", "expressions.md")
_FENCE = re.compile(r"^```([A-Za-z0-9_-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)

_AUTH = """
schema Auth {
    auth_id: string @key
    card_id: string
    amount: decimal(10,2)
    tags: list<string>?
    at: datetime @event_time
}
schema Profile {
    card_id: string @key
    home_country: string
}
schema Labelled {
    auth_id: string @key
    labels: list<string>?
    tags: list<string>
    home: string?
    payments_1h: long?
}
stream auths: Auth
stream labelled: Labelled
store customer_profiles: Profile key card_id
"""

# Programs from issue reports: each checked clean and then failed to build.
REPORTED: dict[str, dict[str, str]] = {
    # `[]` next to a list<string> was list<unknown>: "no Java type for unknown" (exit 1), and
    # `coalesce(r.tags, [])` an NX901 naming list<unknown>.
    "empty_list_literals": {
        "auth.schema": _AUTH,
        "label.transform": """
transform label {
    input r: Auth
    output Labelled
    map {
        auth_id = r.auth_id
        labels = if r.amount > 100 then ["big"] else if r.amount > 10 then ["mid"] else []
        tags = coalesce(r.tags, [])
    }
}
""",
    },
    # The documented `lookup … as profile` feeding a transform's second input: NX901 "a
    # transform with several inputs in a proc".
    "lookup_feeds_transform_input": {
        "auth.schema": _AUTH,
        "enrich.transform": """
transform enrich {
    input auth: Auth
    input profile: Profile?
    output Labelled
    map {
        auth_id = auth.auth_id
        tags = coalesce(auth.tags, [])
        home = profile.home_country
    }
}
""",
        "enrich.proc": """
proc EnrichAuths {
    from auths
    lookup customer_profiles by card_id as profile cache 5 minutes
    transform using enrich
    emit to labelled
}
""",
    },
    # A `rolling` name feeding a transform input: the same NX901.
    "rolling_feeds_transform_input": {
        "auth.schema": _AUTH,
        "velocity.transform": """
transform with_velocity {
    input auth: Auth
    input payments_1h: long
    output Labelled
    map {
        auth_id = auth.auth_id
        tags = []
        payments_1h = payments_1h
    }
}
""",
        "velocity.proc": """
proc Velocity {
    from auths
    event_time at watermark 5 seconds
    key by card_id
    rolling 1 hour {
        payments_1h = count()
    }
    transform using with_velocity
    emit to labelled
}
""",
    },
    # Issue 16: an aggregated collect table binds the number itself (docs/language/proc.md).
    "collect_aggregate_alias": {
        "auth.schema": _AUTH + "stream big_auths: Auth\n",
        "points.rules": """
decision_table Points for auth: Auth hit_policy collect sum {
    inputs { auth.amount }
    outputs { points: int }
    rules {
        large: > 5000 -> 40
        mid:   > 100  -> 10
    }
}
decision_table Hits for auth: Auth hit_policy collect count {
    inputs { auth.amount }
    outputs { hit: boolean }
    rules {
        large: > 5000 -> true
    }
}
""",
        "big.proc": """
proc BigAuths {
    from auths
    apply Points table as points
    apply Hits table as hits
    filter points is not null and points > 30 and hits > 0
    emit to big_auths
}
""",
    },
    # Issue 16: a tested path is not null where the test holds (no NX309 there).
    "narrowed_nulls": {
        "auth.schema": _AUTH,
        "label.transform": """
transform narrowed {
    input r: Auth
    input profile: Profile?
    output Labelled
    map {
        auth_id = r.auth_id
        home = if profile is not null then profile.home_country else null
        tags = if r.tags is null then [] else r.tags
        labels = if profile is null or r.tags is null then [] else r.tags
    }
}

transform home_of {
    input profile: Profile?
    output string
    compute if not (profile is null) then profile.home_country else "??"
}

transform is_home {
    input r: Auth
    input profile: Profile?
    output boolean
    compute profile is not null and home_of(profile) == "DE"
}
""",
        "label.proc": """
proc Narrowed {
    from auths
    lookup customer_profiles by card_id as profile
    transform using narrowed
    emit to labelled
}
""",
    },
    # Issue 16: a filter narrows the statements after it, a rule's condition its actions.
    "narrowed_by_filter_and_when": {
        "auth.schema": _AUTH
        + """
schema Homed {
    auth_id: string @key
    home: string
    note: string?
    label: string
}
stream homed: Homed
""",
        "label.rules": """
ruleset Label for h: Homed {
    rule noted {
        when h.note is not null
        then set h.label = h.note
    }
}
""",
        "homed.proc": """
proc Homing {
    from auths
    lookup customer_profiles by card_id as profile
    filter profile is not null
    map into Homed {
        auth_id = auth_id
        home = profile.home_country
        note = null
        label = "none"
    }
    apply Label rules
    emit to homed
}
""",
    },
    # Issue 16: a table with a row of `-` only always has a result (not nullable).
    "table_with_a_catch_all_row": {
        "auth.schema": _AUTH
        + "schema Tiered {\n    auth_id: string @key\n    tier: string\n    rank: int\n}\n"
        + "stream tiered: Tiered\n",
        "tier.rules": """
decision_table Tier for auth: Auth hit_policy first {
    inputs { auth.amount  auth.tags }
    outputs { tier: string  rank: int }
    rules {
        big:  > 5000, - -> "HIGH", 1
        rest: -,      - -> "LOW", 2
    }
}
""",
        "tier.proc": """
proc Tiering {
    from auths
    apply Tier table as risk
    map into Tiered {
        auth_id = auth_id
        tier = risk.tier
        rank = risk.rank + 1
    }
    emit to tiered
}
""",
    },
    # Two versions of a schema in one file (the reference's own example): NX901.
    "schema_versions_in_one_file": {
        "account.schema": """
schema Account version 1 {
    account_id: string @key
    balance: decimal(12,2)
}
schema Account version 2 {
    account_id: string @key
    balance: decimal(12,2)
    status: string = "OPEN"
}
stream accounts: Account
stream open_accounts: Account
""",
        "open.proc": """
proc OpenAccounts {
    from accounts
    filter status == "OPEN"
    emit to open_accounts
}
""",
    },
}


def _read(rel: str) -> str:
    return (ROOT / rel).read_text("utf-8")


def _declared(text: str, path: str) -> set[str]:
    return {getattr(d, "name", "") for d in parse_source(text, path).decls}


def _with_prelude(blocks: dict[str, str]) -> dict[str, str]:
    """A doc example with the prelude files whose names it does not declare itself."""
    names = set().union(*(_declared(text, path) for path, text in blocks.items()))
    sources = dict(blocks)
    for path in sorted((ROOT / "docs/language/prelude").iterdir()):
        text = path.read_text("utf-8")
        rel = f"docs/language/prelude/{path.name}"
        if not (_declared(text, rel) & names):
            sources[rel] = text
    return sources


def _doc_examples() -> dict[str, dict[str, str]]:
    out = {}
    for page in PAGES:
        for m in _FENCE.finditer(_read(f"docs/language/{page}")):
            tag, body = m.group(1), m.group(2)
            if tag in DSL_TAGS:
                line = _read(f"docs/language/{page}")[: m.start()].count("\n") + 1
                name = f"{page[:-3]}_{line}"
                out[name] = _with_prelude({f"docs/language/{page}:{line}.{tag}": body})
    return out


def _example_projects() -> dict[str, dict[str, str]]:
    out = {}
    for project in sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir()):
        out[project.name.replace("-", "_")] = {
            f"examples/{project.name}/{f.name}": f.read_text("utf-8")
            for f in sorted(project.iterdir())
            if f.suffix[1:] in DSL_TAGS
        }
    return out


def _generated(name: str, sources: dict[str, str]) -> list[GeneratedFile]:
    project = check_project(sources)
    assert project.ok, render_text(project.diagnostics, project.sources)
    package = f"corpus.{name}"
    units = [Unit(project.modules[p], package, project.sources[p]) for p in sorted(sources)]
    return generate(units, [], TARGETS["flink"], None)


def test_reported_programs_check_generate_and_compile(tmp_path: Path) -> None:
    files = []
    for name, sources in REPORTED.items():
        files += _generated(name, sources)
    java = tmp_path / "java"
    written = write_files(java, files)
    written += write_files(java, TARGETS["flink"].render_runtime())
    javatools.javac(sorted(written), tmp_path / "classes")


def test_every_doc_example_and_example_project_that_checks_builds(tmp_path: Path) -> None:
    corpus = {**_doc_examples(), **_example_projects()}
    assert len(corpus) >= 80
    files: list[GeneratedFile] = []
    checked = 0
    for name, sources in corpus.items():
        if not check_project(sources).ok:
            continue  # examples that show an error on purpose (docs/diagnostics.md has those)
        checked += 1
        files += _generated(name, sources)
    assert checked >= 80
    java = tmp_path / "java"
    written = write_files(java, files)
    written += write_files(java, TARGETS["flink"].render_runtime())
    javatools.javac(sorted(written), tmp_path / "classes")


@pytest.mark.parametrize("name", sorted(REPORTED))
def test_reported_programs_check_clean(name: str) -> None:
    project = check_project(REPORTED[name])
    assert project.diagnostics == [], render_text(project.diagnostics, project.sources)
