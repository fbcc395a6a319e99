"""The names of the Java classes a job's state is serialized as.

Flink's PojoSerializer writes the class of a POJO into the savepoint and restores only into
that class, so the class of a state's values is part of the state's identity, like the
operator's uid and the state's name: it is named after them, never after the operator's
position in the job (an operator inserted before it would rename it, and Flink would refuse
the savepoint). Each is the CamelCase of what identifies the state, without the proc's name:

- a run of `rolling` statements (one list state): `Rolling` + its key + its state's name
  without `rolling.` (`key by card_id` + `rolling.payments_1h` → `RollingCardIdPayments1h`);
- `correlate with` (two list states): its uid + `Waiting` / `PartnerWaiting`
  (`P.correlate.auth_id.with.settlements` → `CorrelateAuthIdWithSettlementsWaiting`);
- a window (its accumulator): its uid + `Accumulator`
  (`P.window.tumbling.card_id.Summary` → `WindowTumblingCardIdSummaryAccumulator`).

The other classes of a job (an operator's function, its key selector) hold no state that is
restored into them and stay named by position (`Steps3`, `Window4`).

CamelCase drops punctuation and keeps case, so two identities can meet in one name (keys
`card_id` and `cardId`): then each of them gets a digest of its identity as a suffix
(`RollingCardIdN_1a2b3c4d`), the same in every build of the same sources, so the job still
compiles and both classes keep their names for as long as both states exist. A name that
would shadow a name the job's Java uses (the runtime's classes, the job class) gets the same.

compat/state.py describes the state with these names, so the upgrade gate sees exactly the
classes the Java declares (tests/compat/test_state_description.py holds them together).
"""

from __future__ import annotations

import hashlib
from typing import Dict, List, Tuple

from nexflow_core.generate import model
from nexflow_core.generate.flink import java as flink_java

# The states of an operator whose values are a class of the job (see the module doc).
WAITING = "waiting_records"
PARTNER_WAITING = "waiting_partners"
ACCUMULATOR = "accumulator"


def camel(text: str) -> str:
    """`card_id` → `CardId`, `window.tumbling.card_id` → `WindowTumblingCardId`: every run of
    letters and digits with its first letter upper-case, the rest dropped."""
    parts: List[str] = []
    word = ""
    for c in text:
        if c.isalnum():
            word += c
        else:
            parts.append(word)
            word = ""
    parts.append(word)
    return "".join(p[0].upper() + p[1:] for p in parts if p)


def _without_proc(job: model.Job, uid: str) -> str:
    prefix = job.name + "."
    return uid[len(prefix) :] if uid.startswith(prefix) else uid


def _rolling_states(op: model.Segment) -> List[str]:
    # The first statement of each run of consecutive `rolling` statements names the run's
    # state (the grouping of flink/adapter.py's rolling_runs).
    states: List[str] = []
    previous = False
    for step in op.steps:
        if isinstance(step, model.RollingStep) and not previous:
            states.append(step.state)
        previous = isinstance(step, model.RollingStep)
    return states


class StateClasses:
    """The simple names of the state classes of one job, by (operator uid, state)."""

    def __init__(self, job: model.Job, reserved: frozenset = flink_java.RESERVED_TYPES) -> None:
        wanted: Dict[Tuple[str, str], str] = {}
        for op in job.operators:
            if isinstance(op, model.Segment):
                key = camel(op.key.text) if op.key is not None else ""
                for state in _rolling_states(op):
                    name = state[len("rolling.") :] if state.startswith("rolling.") else state
                    wanted[(op.uid, state)] = "Rolling" + key + camel(name)
            elif isinstance(op, model.Correlate) and op.partner is not None:
                base = camel(_without_proc(job, op.uid))
                wanted[(op.uid, WAITING)] = base + "Waiting"
                wanted[(op.uid, PARTNER_WAITING)] = base + "PartnerWaiting"
            elif isinstance(op, model.Window):
                wanted[(op.uid, ACCUMULATOR)] = camel(_without_proc(job, op.uid)) + "Accumulator"
        taken: Dict[str, int] = {}
        for name in wanted.values():
            taken[name] = taken.get(name, 0) + 1
        # The job class itself (a nested class may not share its name) and what its Java
        # refers to by simple name.
        job_class = flink_java.type_name(job.name, job.package) + "Job"
        self.names: Dict[Tuple[str, str], str] = {}
        for identity, name in wanted.items():
            if taken[name] > 1 or name in reserved or name == job_class:
                digest = hashlib.sha256("\0".join(identity).encode("utf-8")).hexdigest()
                name = f"{name}_{digest[:8]}"
            self.names[identity] = name

    def of(self, uid: str, state: str) -> str:
        """The class of state `state` of operator `uid` (a rolling run: its state's name)."""
        return self.names[(uid, state)]

    def rolling(self, op: model.Segment, state: str) -> str:
        return self.of(op.uid, state)

    def waiting(self, op: model.Correlate) -> str:
        return self.of(op.uid, WAITING)

    def partner_waiting(self, op: model.Correlate) -> str:
        return self.of(op.uid, PARTNER_WAITING)

    def accumulator(self, op: model.Window) -> str:
        return self.of(op.uid, ACCUMULATOR)


def state_classes(job: model.Job) -> StateClasses:
    return StateClasses(job)
