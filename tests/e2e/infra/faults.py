"""The fault matrix: one row per fault a test staged on the real broker and cluster.

Each fault test ends with `report_fault(FaultRow(...))` holding what it counted itself (records
in, decisions out, dead letters, lost, duplicated, job restarts). The rows are printed in pytest's
summary ("fault matrix") and, when NEXFLOW_FAULTS_OUT names a file, appended to it as JSON lines:
bench/faults/run.py runs the fault tests that way and prints the table and its closing line.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Optional

FAULTS_OUT = "NEXFLOW_FAULTS_OUT"


@dataclass(frozen=True)
class FaultRow:
    """What happened to a job under one fault, counted by the test that staged it."""

    fault: str
    records_in: int
    decisions_out: int
    dead_letters: int
    lost: int
    duplicated: int
    restarts: int
    # Whether the fault is one that is expected to restart the job (a killed TaskManager);
    # restarts of any other fault are restarts caused by bad data or slow stores.
    restart_expected: bool = False
    # Duplicates of an exactly-once sink (must be 0); at-least-once duplicates carry their key.
    duplicated_exactly_once: int = 0
    # A fault the compiler refuses (an unbound dead-letter stream): no job ran.
    compile_error: bool = False
    note: str = ""

    @property
    def survived(self) -> bool:
        if self.compile_error:
            return True
        poison_restarts = 0 if self.restart_expected else self.restarts
        return self.lost == 0 and self.duplicated_exactly_once == 0 and poison_restarts == 0


FAULTS: list[FaultRow] = []


def report_fault(row: FaultRow) -> None:
    FAULTS.append(row)
    out: Optional[str] = os.environ.get(FAULTS_OUT)
    if out:
        with open(out, "a", encoding="utf-8") as file:
            file.write(json.dumps(asdict(row), sort_keys=True) + "\n")


HEADER = (
    f"{'fault':<44} {'in':>7} {'out':>7} {'dead':>6} {'lost':>5} {'dup':>5} {'restarts':>8}  ok"
)


def format_row(row: FaultRow) -> str:
    if row.compile_error:
        return f"{row.fault:<44} {'refused by the compiler':>45}  {'yes'}"
    return (
        f"{row.fault:<44} {row.records_in:>7} {row.decisions_out:>7} {row.dead_letters:>6} "
        f"{row.lost:>5} {row.duplicated:>5} {row.restarts:>8}  "
        f"{'yes' if row.survived else 'NO'}"
    )


def summary_line(rows: list[FaultRow]) -> str:
    poison = sum(r.restarts for r in rows if not r.restart_expected and not r.compile_error)
    return (
        f"faults={len(rows)} survived={sum(r.survived for r in rows)} "
        f"lost={sum(r.lost for r in rows)} "
        f"duplicated_exactly_once={sum(r.duplicated_exactly_once for r in rows)} "
        f"poison_restarts={poison}"
    )
