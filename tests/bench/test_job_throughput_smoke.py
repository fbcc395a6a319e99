"""bench/job_throughput at its smallest (--smoke): the harness still builds and runs the three
jobs (generated, hand-written, Flink SQL), they decide every authorization alike, and the summary
line is printed with numbers. The jars are packaged by Pants for this test (BUILD:
runtime_package_dependencies), never taken from dist/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.job_throughput.run import main

# Where Pants puts the packages this test depends on, relative to the test's sandbox.
JOB_JAR = Path("examples.card-fraud/card-fraud-job.jar")
BENCH_JAR = Path("bench.job_throughput/bench-jar.jar")

SUMMARY = re.compile(
    r"^generated_vs_handwritten=(\d+\.\d{3}) generated_vs_sql=(\d+\.\d{3}) "
    r"generated_p99_ms=(\d+\.\d{2})$",
    re.MULTILINE,
)


def test_smoke_runs_the_three_jobs_and_they_decide_alike(capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["--smoke", "--job-jar", str(JOB_JAR), "--bench-jar", str(BENCH_JAR)])
    out = capfd.readouterr().out
    assert code == 0, out
    compared = re.search(
        r"decisions compared: (\d+) authorizations decided by the generated job; (\d+) differ", out
    )
    assert compared, out
    # 300 lines hold ~300 authorizations; the latency runs decide the 300 fed at 150/s.
    assert int(compared[1]) >= 250 and int(compared[2]) == 0, out
    for variant in ("generated", "handwritten", "sql"):
        assert re.search(
            rf"^throughput {variant} +median [1-9]\d* events/s", out, re.MULTILINE
        ), out
    summary = SUMMARY.search(out)
    assert summary, out
    assert all(float(x) > 0 for x in summary.groups()), summary[0]
