"""The fault matrix: how generated jobs fare under real faults, one row per fault.

The rows come from the end-to-end fault tests (tests/e2e), which stage each fault on the real
Kafka broker and standalone Flink cluster their fixtures start — a topic with fewer partitions
than the source parallelism, a lagging partition, an idle topic, both topics of a correlation
idle (the processing-time backstop), an event time out of range (beyond epoch milliseconds, far
in the future), a sink topic that refuses old record timestamps, a restore after a long stop,
poison records, a slow or malformed store, overflow, a killed TaskManager — count what came
out themselves and report a row (tests/e2e/infra/faults.py). Faults the compiler refuses (an
unbound dead-letter stream) are rows too.

Usage (from the repository root):
  python3 bench/faults/run.py                    # runs the e2e tests through ./pants test
  python3 bench/faults/run.py --tests tests/e2e/test_fault_taskmanager_kill.py
  python3 bench/faults/run.py --rows FILE        # prints the matrix of rows saved earlier
  python3 bench/faults/run.py --smoke            # tiny: checks the matrix from sample rows

It prints one row per fault (records in, decisions out, dead letters, lost, duplicated, job
restarts) and ends with the machine-readable line
`faults=<n> survived=<n> lost=0 duplicated_exactly_once=0 poison_restarts=0`; it exits 1 when a
fault was not survived or no fault was reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.infra.faults import (  # noqa: E402
    FAULTS_OUT,
    HEADER,
    FaultRow,
    format_row,
    summary_line,
)

SAMPLE = [
    FaultRow("sample: poison record", 10, 9, 1, 0, 0, 0),
    FaultRow("sample: TaskManager kill", 10, 12, 0, 0, 2, 1, restart_expected=True),
    FaultRow("sample: unbound dead letters", 0, 0, 0, 0, 0, 0, compile_error=True),
]


def read_rows(path: Path) -> list[FaultRow]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(FaultRow(**json.loads(line)))
    return rows


def print_matrix(rows: list[FaultRow]) -> int:
    print(HEADER)
    for row in rows:
        print(format_row(row) + (f"  ({row.note})" if row.note else ""))
    print(summary_line(rows))
    return 0 if rows and all(r.survived for r in rows) else 1


def run_tests(tests: list[str], out: Path) -> int:
    env = dict(os.environ, **{FAULTS_OUT: str(out)})
    argv = ["./pants", "test", "--force", *tests, "--", "-q"]
    print("$ " + " ".join(argv), flush=True)
    return subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL).returncode


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tests", nargs="+", default=["tests/e2e::"], help="test targets")
    parser.add_argument("--rows", type=Path, help="print the matrix of a saved rows file")
    parser.add_argument("--smoke", action="store_true", help="print the matrix of sample rows")
    args = parser.parse_args(argv)
    if args.smoke:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "rows.jsonl"
            path.write_text("".join(json.dumps(r.__dict__) + "\n" for r in SAMPLE))
            return print_matrix(read_rows(path))
    if args.rows:
        return print_matrix(read_rows(args.rows))
    with tempfile.TemporaryDirectory(prefix="nexflow-faults-") as tmp:
        out = Path(tmp) / "rows.jsonl"
        code = run_tests(args.tests, out)
        rows = read_rows(out) if out.exists() else []
        matrix = print_matrix(rows)
        return code or matrix


if __name__ == "__main__":
    sys.exit(main())
