"""The gate's verdicts, as text for people and as JSON for tools (the shape of
/work/notes/gate_contract.md, documented in docs/cli.md), and its exit status.

A job's verdict: `compatible`; `compatible, loses <state>[, <state>…]` (the restore succeeds
and those states start empty or are dropped); `incompatible` (Flink refuses the savepoint).
A loss stops the gate unless `--allow-loss JOB.STATE` accepts it: STATE is the state's DSL
name (a `state`'s name, `rolling.<first aggregate>`, or an operator's uid without the proc's
name: `dedup.card_id`, `correlate.auth_id`, `window.tumbling.card_id.Summary`, …); the kind
alone (`dedup`, `window`) names every such state of the job.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Sequence, Set, Tuple

from nexflow_core.compat.state import JobResult
from nexflow_core.diagnostics import Diagnostic

EXIT_OK = 0
EXIT_STOP = 1
EXIT_INTERNAL = 2


def _matches(allowed: str, job: str, state: str) -> bool:
    name, dot, wanted = allowed.partition(".")
    if not dot or name != job:
        return False
    return wanted == state or state.split(".", 1)[0] == wanted


def unallowed_losses(results: Sequence[JobResult], allow: Sequence[str]) -> List[Tuple[str, str]]:
    """(job, state) of each loss no --allow-loss accepts."""
    return [
        (job.job, lost)
        for job in results
        for lost in job.losses
        if not any(_matches(a, job.job, lost) for a in allow)
    ]


def unused_allowances(results: Sequence[JobResult], allow: Sequence[str]) -> List[str]:
    """--allow-loss values that name no loss (a typo would otherwise pass silently)."""
    used: Set[str] = set()
    for job in results:
        for lost in job.losses:
            used |= {a for a in allow if _matches(a, job.job, lost)}
    return [a for a in allow if a not in used]


def exit_status(
    results: Sequence[JobResult], allow: Sequence[str], contracts: Sequence[Diagnostic]
) -> int:
    if any(job.incompatible for job in results if not job.gone):
        return EXIT_STOP
    if unallowed_losses(results, allow):
        return EXIT_STOP
    if any(d.is_error for d in contracts):
        return EXIT_STOP
    return EXIT_OK


def _diagnostic_json(d: Diagnostic) -> Dict[str, Any]:
    return {
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "file": d.span.file,
        "line": d.span.line,
        "column": d.span.column,
    }


def to_json(results: Sequence[JobResult], contracts: Sequence[Diagnostic]) -> str:
    """The gate's answer as JSON (stdout of `nexflow compat --format json`)."""
    jobs = []
    for job in results:
        if job.gone:
            continue  # no job to restore into: nothing to say about its state
        operators = []
        for op in job.operators:
            states = [{"name": s.name, "change": s.change, "detail": s.detail} for s in op.states]
            operators.append({"uid": op.uid, "change": op.change, "states": states})
        jobs.append({"job": job.job, "verdict": job.verdict, "operators": operators})
    body = {"jobs": jobs, "contracts": [_diagnostic_json(d) for d in contracts]}
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_text(
    results: Sequence[JobResult], allow: Sequence[str], contracts: Sequence[Diagnostic]
) -> str:
    """One line per job with its verdict, then what changed (kept states that are the same
    are not listed)."""
    lines: List[str] = []
    refused = set(unallowed_losses(results, allow))
    for job in results:
        if job.gone:
            lines.append(f"{job.job}: not built any more (its savepoints have no job to restore)")
            continue
        lines.append(f"{job.job}: {job.verdict}")
        for op in job.operators:
            shown = [s for s in op.states if s.change != "same" or s.code is not None]
            shown = [s for s in shown if not (s.internal and s.change in ("added", "removed"))]
            if op.change != "kept" and not op.states:
                lines.append(f"  operator {op.uid}: {op.change} (no state)")
                continue
            for s in shown:
                where = f"{s.name}" if s.name == s.dsl else f"{s.dsl} ({s.name})"
                lines.append(f"  {op.uid} {where}: {s.change}: {s.detail}")
        for lost in job.losses:
            if (job.job, lost) in refused:
                lines.append(
                    f"  loses {lost}: not allowed (accept it with --allow-loss {job.job}.{lost})"
                )
            else:
                lines.append(f"  loses {lost}: allowed")
    for a in unused_allowances(results, allow):
        lines.append(f"warning: --allow-loss {a} names no state this change loses")
    for d in contracts:
        lines.append(f"{d.span.location()}: {d.severity}[{d.code}]: {d.message}")
    return "\n".join(lines) + "\n"
