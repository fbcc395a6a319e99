"""A transform declaring `on error skip` in a lookup's key expression, on a Flink MiniCluster:
the record it fails for is dropped and counted, as in every other operator — it used to be a
fatal error (the job failed and restarted on the same record). The key also nests a transform
declaring `on error dead_letter` around it: the innermost declared behaviour wins
(docs/language/transform.md, "Error behaviour"), so a card the inner transform skips is
skipped and one the outer transform fails for is a dead letter.

Both ways of asking a store run: an in-JVM `memory:` store (asked on the operator's thread) and
FlakyStore, a `class:` store answering on another thread (async I/O). Expected values are worked
out by hand from AUTHS and the DSL below.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.generate import javatools

HERE = Path(__file__).parent
JAVA = [HERE / "java" / "PipelineHarness.java", HERE / "java" / "StateEntriesReporter.java",
        HERE / "java" / "FlakyStore.java"]  # fmt: skip
PACKAGE = "nexflow.tests.skipkey"

SCHEMA = """
schema Auth {
    auth_id: string @key
    card_id: string
}

schema Profile {
    card_id: string @key
    customer_id: string
}

schema Enriched {
    auth_id: string @key
    customer_id: string?
}

stream auths: Auth
stream enriched: Enriched
store profiles: Profile key card_id
"""

# A card id starting with "skip" (or "dead") is not a number: to_decimal fails in the
# transform that declares skip (or dead_letter); any other card id is the key as it is.
TRANSFORMS = """
transform skip_bad {
    input text: string
    output string
    on error skip
    compute if starts_with(text, "skip") then to_string(to_decimal(text)) else text
}

transform dead_bad {
    input text: string
    output string
    on error dead_letter
    compute if starts_with(text, "dead") then to_string(to_decimal(text)) else text
}
"""

# One proc per store binding (one MiniCluster runs both: their operator uids must differ).
PROC = """
proc SkipKeyNAME {
    from auths
    lookup profiles by dead_bad(skip_bad(card_id)) as profile
    map into Enriched {
        auth_id = auth_id
        customer_id = profile.customer_id
    }
    emit to enriched
}
"""

AUTHS = [
    {"auth_id": "a1", "card_id": "c1"},
    {"auth_id": "a2", "card_id": "skip1"},
    {"auth_id": "a3", "card_id": "dead1"},
    {"auth_id": "a4", "card_id": "c2"},
]
# The memory store knows c1 only; FlakyStore answers every other card as cust_<card>.
PROFILES = {"c1": {"card_id": "c1", "customer_id": "cust_c1"}}
STORES = {"Memory": "memory:profiles", "Async": "class:FlakyStore"}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("skipkey")
    procs = "".join(PROC.replace("NAME", name) for name in STORES)
    sources = {"skip.schema": SCHEMA, "skip.transform": TRANSFORMS, "skip.proc": procs}
    files = javatools.generate_sources(sources, PACKAGE, root)
    classes = root / "classes"
    javatools.javac(sorted(set(files)), classes, JAVA)
    auths = root / "auths.jsonl"
    auths.write_text("".join(json.dumps(a) + "\n" for a in AUTHS), "utf-8")
    profiles = root / "profiles.json"
    profiles.write_text(json.dumps(PROFILES), "utf-8")
    args = ["--flink.parallelism.default=1", f"--load-store=profiles={profiles}"]
    for name, store in STORES.items():
        args += ["--job", f"{PACKAGE}.SkipKey{name}Job", f"--stream.auths=memory:{name}.auths",
                 f"--feed={name}.auths={auths}", f"--store.profiles={store}",
                 f"--store.profiles.label={name}"]  # fmt: skip
        for stream in ("enriched", "dead_letter"):
            args += [f"--stream.{stream}=memory:{name}.{stream}",
                     f"--print-stream={name}.{stream}"]  # fmt: skip
    printed = javatools.java("PipelineHarness", classes, args, timeout=300).strip().splitlines()
    return dict(json.loads(printed[-1]))


@pytest.mark.parametrize("name", list(STORES))
def test_a_record_the_key_skips_is_dropped_and_the_job_goes_on(written: dict, name: str) -> None:
    enriched = {
        e["auth_id"]: e["customer_id"] for e in map(json.loads, written[f"{name}.enriched"])
    }
    # a2 (skip1) is nowhere: skipped; a3 (dead1) is a dead letter; the job saw a4 after both.
    expected_c2 = None if name == "Memory" else "cust_c2"
    assert enriched == {"a1": "cust_c1", "a4": expected_c2}


@pytest.mark.parametrize("name", list(STORES))
def test_the_outer_transforms_dead_letter_is_the_only_dead_letter(written: dict, name: str) -> None:
    dead = [json.loads(d) for d in written[f"{name}.dead_letter"]]
    assert [json.loads(d["input"]) for d in dead] == [AUTHS[2]]
    assert [(d["operator"], d["reason"], d["classification"]) for d in dead] == [
        ("lookup.profiles", "NOT_A_NUMBER", "recoverable")
    ]
