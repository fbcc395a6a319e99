"""bench/decision_latency.py at its smallest (--smoke): a real Kafka broker and Flink cluster,
the card-fraud job packaged by Pants for this test (BUILD: runtime_package_dependencies, never
dist/), a few seconds of events, and the machine-readable last line with numbers."""

from __future__ import annotations

import re

import pytest

from bench.decision_latency import main
from tests.e2e.infra.cardfraud import JAR


def test_smoke_measures_card_fraud_decisions(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--smoke", "--jar", str(JAR)])
    out = capsys.readouterr().out
    report = re.search(
        r"card-fraud auth_decisions: .*?: (\d+) of (\d+) measured events decided", out
    )
    assert report, out
    # 20/s for 3 s: every measured event was decided.
    assert int(report[2]) >= 40 and int(report[1]) == int(report[2]), out
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(r"p50_ms=\d+\.\d p99_ms=\d+\.\d rate=20", last), out
