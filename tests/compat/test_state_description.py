"""The state description cannot drift from the templates: for every example job, in every
environment of its example (and in none), every state descriptor name the generated Java
registers is in the description of the operator whose Java registers it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, List, Optional, Set

import pytest

from nexflow_core.compat import state
from nexflow_core.diagnostics import render_text
from nexflow_core.generate import TARGETS, generate_checked
from nexflow_core.project import check_project
from tests.fuzz_corpus import with_prelude

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())
_KINDS = (".schema", ".transform", ".rules", ".proc", ".infra")

# `private static final String OPERATOR = "<uid>";` opens an operator's function class; the
# descriptors after it (to the next one) are that operator's.
_OPERATOR = re.compile(r'static final String OPERATOR = "([^"]+)";')
_DESCRIPTOR = re.compile(r'StateDescriptor<>\(\s*"([^"]+)"')


def _sources(example: Path) -> Dict[str, str]:
    return {
        p.relative_to(ROOT).as_posix(): p.read_text("utf-8")
        for p in sorted(example.rglob("*"))
        if p.suffix in _KINDS
    }


# Every operator with state the examples lack (windows of each kind, deduplication, `correlate
# with`, joins of both kinds, keyed `state`), over the language docs' prelude schemas.
EVERY_OPERATOR = """
proc EveryOperator {
    from payment_events
    event_time timestamp watermark 5 seconds
    deduplicate by transaction_id within 1 hour
    correlate with settlements by transaction_id within 1 hour
    emit to processed_payments
}

proc IntervalJoin {
    from payment_events
    event_time timestamp watermark 5 seconds
    join settlements as s on transaction_id == s.transaction_id within 1 hour
    emit to processed_payments
}

proc EveryWindow {
    from payment_events
    event_time timestamp watermark 5 seconds
    join settlements as s on transaction_id == s.transaction_id window tumbling 10 minutes
    key by card_id
    state spent: decimal(38,2) ttl 24 hours
    update spent = coalesce(spent, 0) + amount
    window tumbling 1 minute allowed_lateness 10 seconds
    aggregate into CardVelocity {
        card_id = first(card_id)
        txn_count = count()
        total_amount = sum(amount)
    }
    emit to card_velocity
}

proc Sessions {
    from payment_events
    event_time timestamp watermark 5 seconds
    filter amount > 0
    key by card_id
    window session gap 30 minutes
    aggregate into CardVelocity {
        card_id = first(card_id)
        txn_count = count()
        total_amount = sum(amount) + 0 * avg(amount)
        window_end = window_end()
    }
    emit to card_velocity
}
"""


def _every_operator_sources() -> Dict[str, str]:
    return with_prelude({"every/every.proc": EVERY_OPERATOR})


def _cases() -> List[tuple]:
    cases = []
    for example in EXAMPLES:
        project = check_project(_sources(example))
        for environment in [None, *sorted(project.environments)]:
            cases.append((example.name, environment))
    return cases + [("(every operator)", None)]


def descriptors_by_operator(java: str) -> Dict[str, Set[str]]:
    """uid -> the state descriptor names registered after `OPERATOR = uid` in one job's Java."""
    marks = list(_OPERATOR.finditer(java))
    out: Dict[str, Set[str]] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(java)
        out.setdefault(m.group(1), set()).update(_DESCRIPTOR.findall(java, m.end(), end))
    # A descriptor before the first operator class belongs to none: the check reports it.
    first = marks[0].start() if marks else len(java)
    stray = set(_DESCRIPTOR.findall(java, 0, first))
    if stray:
        out["(no operator)"] = stray
    return out


def missing(java: str, description: dict) -> List[str]:
    """Descriptor names of the Java that the description lacks, as `uid: name`."""
    described = {o["uid"]: {s["name"] for s in o["states"]} for o in description["operators"]}
    return sorted(
        f"{uid}: {name}"
        for uid, names in descriptors_by_operator(java).items()
        for name in names
        if name not in described.get(uid, set())
    )


def _generate(example: str, environment: Optional[str]) -> tuple:
    if example == "(every operator)":
        project = check_project(_every_operator_sources())
    else:
        project = check_project(_sources(ROOT / "examples" / example))
    assert project.ok, render_text(project.diagnostics, project.sources)
    packages = {path: "nexflow.examples.t" for path in project.modules}
    files = generate_checked(project, packages, TARGETS["flink"], environment)
    descriptions = state.describe_checked(project, packages, environment)
    return files, descriptions


# A class of the job (`public static final class X {` at the job class's indentation) and
# its instance fields, to the class's closing brace.
_CLASS = re.compile(r"^    public static final class (\w+) \{$(.*?)^    \}$", re.M | re.S)
_FIELD = re.compile(r"^        public (?!static )[\w.<>, \[\]]+ ([\w$]+)(?: = [^;]*)?;$", re.M)


def state_classes(java: str) -> Dict[str, Set[str]]:
    """Simple name -> instance fields of each public nested class of a job's Java."""
    return {m.group(1): set(_FIELD.findall(m.group(2))) for m in _CLASS.finditer(java)}


def _pojos(t: dict) -> List[dict]:
    out = [t] if "pojo" in t else []
    for part in ("list", "array"):
        if part in t:
            out += _pojos(t[part])
    for part in ("map", "tuple", "union"):
        for x in t.get(part, []):
            out += _pojos(x)
    for f in t.get("fields", []):
        out += _pojos(f["type"])
    return out


def class_drift(java: str, description: dict) -> List[str]:
    """The job's own state classes (`<JobClass>$<Name>`) of the description that the Java does
    not declare with exactly the described fields."""
    declared = state_classes(java)
    prefix = description["class"] + "$"
    out = []
    for o in description["operators"]:
        for s in o["states"]:
            for pojo in _pojos(s["type"]):
                if not pojo["pojo"].startswith(prefix):
                    continue
                simple = pojo["pojo"][len(prefix) :]
                fields = {f["name"] for f in pojo["fields"]}
                if declared.get(simple) != fields:
                    out.append(f"{o['uid']}: {s['name']}: {simple} {sorted(fields)} "
                               f"declared {sorted(declared.get(simple, ['(none)']))}")  # fmt: skip
    return out


@pytest.mark.parametrize("example,environment", _cases())
def test_every_state_descriptor_is_described(example: str, environment: Optional[str]) -> None:
    files, descriptions = _generate(example, environment)
    for name, description in descriptions.items():
        java = next(f.content for f in files if f.path.endswith(f"/{name}Job.java"))
        assert missing(java, description) == [], (example, environment, name)
        # The classes the state is serialized as, and their fields (Flink's PojoSerializer
        # restores by class name and field name).
        assert class_drift(java, description) == [], (example, environment, name)
        # Deterministic: the same bytes twice, keys sorted.
        encoded = state.encode(description)
        assert encoded == state.encode(json.loads(encoded))
    assert descriptions


def test_the_check_fails_when_the_description_drops_a_state() -> None:
    files, descriptions = _generate("card-fraud", "production")
    name, description = next(iter(sorted(descriptions.items())))
    java = next(f.content for f in files if f.path.endswith(f"/{name}Job.java"))
    assert missing(java, description) == []
    keyed = next(o for o in description["operators"] if o["operator"] == "keyed state")
    dropped = keyed["states"].pop(0)
    assert missing(java, description) == [f"{keyed['uid']}: {dropped['name']}"]


def test_the_check_sees_the_descriptors_of_every_operator_kind() -> None:
    """Not vacuous: the Java the drift check reads registers the states of each kind."""
    seen: Set[str] = set()
    for example, environment in [("(every operator)", None), ("payments", None),
                                 ("card-fraud", None)]:  # fmt: skip
        files, descriptions = _generate(example, environment)
        for name in descriptions:
            java = next(f.content for f in files if f.path.endswith(f"/{name}Job.java"))
            for names in descriptors_by_operator(java).values():
                seen |= names
    assert {"kept", "waiting_records", "waiting_partners", "spent", "dead_letters_sent",
            "waiting", "waiting_since", "deadline", "waiting_arrived",
            "rolling.auths_in_1h"} <= seen, seen  # fmt: skip


def test_the_check_sees_the_state_classes_of_every_kind() -> None:
    """Not vacuous: rolling runs, `correlate with` and windows each have a class of the job,
    named after the state, with its fields; a class renamed in the description is caught."""
    seen: Dict[str, Set[str]] = {}
    for example in ("(every operator)", "card-fraud"):
        files, descriptions = _generate(example, None)
        for name, description in descriptions.items():
            java = next(f.content for f in files if f.path.endswith(f"/{name}Job.java"))
            seen.update(state_classes(java))
            for o in description["operators"]:
                for s in o["states"]:
                    if "pojo" in s["type"] and s["type"]["pojo"].startswith(description["class"]):
                        broken = json.loads(json.dumps(description))
                        target = next(x for x in broken["operators"] if x["uid"] == o["uid"])
                        state_ = next(x for x in target["states"] if x["name"] == s["name"])
                        state_["type"]["pojo"] += "X"
                        assert class_drift(java, broken) != []
    assert seen["CorrelateTransactionIdWithSettlementsWaiting"] == {"record", "time", "arrived"}
    assert seen["WindowSessionCardIdCardVelocityAccumulator"] == {
        "card_id", "card_id$time", "txn_count", "total_amount$sum", "total_amount$avg$sum",
        "total_amount$avg$count", "rejected", "rejectedMore", "failed",
    }  # fmt: skip
    assert any(n.startswith("RollingCardId") for n in seen), sorted(seen)
