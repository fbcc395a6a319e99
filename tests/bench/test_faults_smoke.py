"""bench/faults/run.py at its smallest: the matrix, its closing line and its exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.faults.run import main
from tests.e2e.infra.faults import FaultRow


def test_smoke_prints_the_matrix_and_its_closing_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--smoke"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == ("faults=3 survived=3 lost=0 duplicated_exactly_once=0 poison_restarts=0")


def test_a_restart_caused_by_bad_data_is_not_survived(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        FaultRow("null value", 5, 4, 1, 0, 0, restarts=2),
        FaultRow("TaskManager kill", 5, 6, 0, 0, 1, restarts=1, restart_expected=True),
        FaultRow("lost on timeout", 5, 4, 0, lost=1, duplicated=0, restarts=0),
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r.__dict__) + "\n" for r in rows))
    assert main(["--rows", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].endswith("NO") and out[2].endswith("yes") and out[3].endswith("NO")
    assert out[-1] == "faults=3 survived=1 lost=1 duplicated_exactly_once=0 poison_restarts=2"
