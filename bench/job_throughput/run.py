"""Job-throughput benchmark (issue 4): the card-fraud pipeline three ways on one Flink MiniCluster.

    python3 bench/job_throughput/run.py [--events 100000] [--runs 3] [--rate 20000]
                                        [--latency-seconds 5] [--cards 20000]
                                        [--buffer-timeout-ms N]

Builds with ./pants the card-fraud job jar (examples/card-fraud:card-fraud-job, the Java Nexflow
generates) and the benchmark jar (bench/job_throughput:bench-jar: the harness, the same job
hand-written with the DataStream API, and in Flink SQL, with Flink and its SQL planner), then runs
the harness (java/nexflow/bench/JobThroughput.java) with both on the class path. It prints each
job's latency at the fixed rate and throughput at full speed, checks that the three decide every
authorization alike, and ends with the line

    generated_vs_handwritten=<ratio> generated_vs_sql=<ratio> generated_p99_ms=<ms>

Targets: generated >= 0.95x hand-written throughput, >= 1x Flink SQL, p99 < 10 ms at 20,000/s.
The measurement is not part of `./pants test ::` (it takes minutes and wants a quiet machine);
its Java compiles in `./pants check ::`, and `--smoke` (300 lines, one round, jars given with
--job-jar/--bench-jar, no build) is what tests/bench/test_job_throughput_smoke.py runs, so that a
harness that breaks fails CI. Smoke figures measure nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JOB_JAR = ROOT / "dist" / "examples.card-fraud" / "card-fraud-job.jar"
BENCH_JAR = ROOT / "dist" / "bench.job_throughput" / "bench-jar.jar"


def java() -> str:
    for home in (os.environ.get("NEXFLOW_JAVA_HOME"), os.environ.get("JAVA_HOME")):
        if home and (Path(home) / "bin" / "java").exists():
            return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        sys.exit("no java: set JAVA_HOME")
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="lines per throughput run")
    parser.add_argument("--runs", type=int, default=3, help="measured rounds (a, b, c each)")
    parser.add_argument("--rate", type=int, default=20_000, help="lines a second (latency runs)")
    parser.add_argument("--latency-seconds", type=int, default=5, help="length of each latency run")
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument(
        "--buffer-timeout-ms",
        type=int,
        help="network buffer timeout of the three jobs (default: the job's buffer_timeout)",
    )
    parser.add_argument("--no-build", action="store_true", help="use the jars already in dist/")
    parser.add_argument("--job-jar", type=Path, default=JOB_JAR, help="the card-fraud job jar")
    parser.add_argument("--bench-jar", type=Path, default=BENCH_JAR, help="the benchmark jar")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a tiny run that only checks the harness works: 300 lines, one round, 2 s of"
        " latency at 150/s, 200 cards; no build (implies --no-build)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        # The latency run skips its first second (the job is starting): 2 s at 150/s leaves
        # 150 authorizations to measure; all 300 are compared.
        args.events, args.runs, args.rate, args.latency_seconds, args.cards = 300, 1, 150, 2, 200
        args.no_build = True

    if not args.no_build:
        started = time.monotonic()
        targets = ["examples/card-fraud:card-fraud-job", "bench/job_throughput:bench-jar"]
        subprocess.run(["./pants", "package", *targets], cwd=ROOT, check=True)
        print(f"built the jars in {time.monotonic() - started:.0f} s", flush=True)
    # The benchmark jar first: its Flink (with the SQL planner) is the one that runs; the job
    # jar adds the generated job, its L0 runtime and the connectors it bundles.
    for jar in (args.bench_jar, args.job_jar):
        if not jar.is_file():
            sys.exit(f"{jar} is missing: package it with ./pants (or drop --no-build)")
    heap = "-Xmx512m" if args.smoke else "-Xmx2g"
    command = [
        java(), heap, heap.replace("mx", "ms"),
        "-cp", f"{args.bench_jar.resolve()}{os.pathsep}{args.job_jar.resolve()}",
        "nexflow.bench.JobThroughput",
        f"--events={args.events}", f"--runs={args.runs}", f"--rate={args.rate}",
        f"--latency-seconds={args.latency_seconds}", f"--cards={args.cards}",
    ]  # fmt: skip
    if args.buffer_timeout_ms is not None:
        command.append(f"--buffer-timeout-ms={args.buffer_timeout_ms}")
    with open("/proc/loadavg") as f:
        print(f"load average before: {' '.join(f.read().split()[:3])}", flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
