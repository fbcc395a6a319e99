"""Decision latency: authorization event produced → decision consumed, at a steady rate.

Starts a real Kafka broker and a real standalone Flink cluster (the tests/e2e fixtures' code),
submits a packaged job jar, sends events at --rate events/s for --warmup + --seconds seconds,
and prints p50/p90/p99/max of event send → decision arrival for the events after the warm-up
(see tests/e2e/infra/latency.py for how it is measured). The consumer reads read_committed,
as a payment switch would, so the sink's delivery guarantee decides what it waits for.

Profiles:
  card-fraud  examples/card-fraud's CardFraudScreen job, production environment moved onto the
              test broker (auth_decisions at_least_once keyed by auth_id, 30 s checkpoints)
  probe       tests/e2e/delivery's DeliveryProbe (fast_decisions at_least_once,
              committed_decisions exactly_once with a 10 s checkpoint interval here)

Usage (from the repository root, with the jars packaged into dist/):
  ./pants package 3rdparty/jvm/kafka:kafka-broker examples/card-fraud:card-fraud-job \
      tests/e2e/delivery:delivery-probe-job
  NEXFLOW_JAVA_HOME=<JDK 17> python bench/decision_latency.py --rate 1000 --seconds 30 --warmup 10
The last line is machine-readable: `p50_ms=… p99_ms=… rate=…`.

`--smoke` (what tests/bench/test_decision_latency_smoke.py runs under `./pants test`, with the
jars Pants packaged for it): card-fraud at 20 events/s for 3 s after a 2 s warm-up, so that a
benchmark that breaks fails CI. Its figures measure nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.e2e.infra.cardfraud import JAR, run_latency
from tests.e2e.infra.flink import FlinkCluster, running_cluster
from tests.e2e.infra.kafka import KafkaBroker, find_broker_jar, running_broker
from tests.e2e.infra.latency import LatencyReport, measure

PROBE = {
    "jar": "dist/tests.e2e.delivery/delivery-probe-job.jar",
    "main": "nexflow.tests.e2e.delivery.DeliveryProbeJob",
    "source": "auth_requests",
    "sinks": ["fast_decisions", "committed_decisions"],
    "id_field": "auth_id",
}


def probe_event(i: int) -> tuple[str, Optional[str], dict]:
    ident = f"L{i:07d}"
    return ident, f"C{i % 64}", {"auth_id": ident, "card_id": f"C{i % 64}", "amount": i % 5000}


def run_probe(
    kafka: KafkaBroker, cluster: FlinkCluster, decision: str, args: argparse.Namespace
) -> LatencyReport:
    topics = {s: kafka.unique_topic(s) for s in [PROBE["source"], *PROBE["sinks"]]}
    job_args = [f"--kafka.bootstrap.servers={kafka.bootstrap_servers}"]
    job_args += [f"--stream.{s}=kafka:{t}" for s, t in sorted(topics.items())]
    job_args.append(f"--flink.execution.checkpointing.interval={args.checkpoint_ms or 10000} ms")
    job = cluster.run_job(Path(args.jar or PROBE["jar"]), PROBE["main"], job_args)
    cluster.wait_for_running(job.job_id)
    try:
        return measure(
            kafka.bootstrap_servers,
            topics[PROBE["source"]],
            topics[decision],
            probe_event,
            rate=args.rate,
            seconds=args.seconds,
            warmup=args.warmup,
            id_field=PROBE["id_field"],
        )
    finally:
        cluster.cancel_job(job.job_id)


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=["probe", "card-fraud"], default="card-fraud")
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument(
        "--checkpoint-ms",
        type=int,
        help="checkpoint interval (default: card-fraud 30000, production's; probe 10000)",
    )
    parser.add_argument("--jar", help="the job jar (default: the profile's, under dist/)")
    parser.add_argument(
        "--delivery",
        choices=["exactly_once", "at_least_once"],
        help="card-fraud: override auth_decisions' declared delivery (for comparison)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a tiny run that only checks the benchmark works: 20/s for 3 s after 2 s of warm-up",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.rate, args.seconds, args.warmup = 20, 3.0, 2.0
    with tempfile.TemporaryDirectory(prefix="nexflow-latency-") as tmp:
        root = Path(tmp)
        with (
            running_broker(find_broker_jar(), root / "kafka") as kafka,
            running_cluster(root / "flink") as cluster,
        ):
            started = time.monotonic()
            if args.profile == "probe":
                reports = {s: run_probe(kafka, cluster, s, args) for s in PROBE["sinks"]}
            else:
                report = run_latency(
                    kafka,
                    cluster,
                    root,
                    rate=args.rate,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    checkpoint_ms=args.checkpoint_ms or 30000,
                    jar=Path(args.jar) if args.jar else Path("dist") / JAR,
                    extra_args=[f"--stream.auth_decisions.delivery={args.delivery}"]
                    if args.delivery
                    else [],
                )
                reports = {"auth_decisions": report}
            for sink, report in reports.items():
                print(f"{args.profile} {sink}: {report.line()}")
            mode = args.delivery or "as declared"
            print(f"(delivery {mode}; measured in {time.monotonic() - started:.0f} s)")
            last = list(reports.values())[0]
            print(f"p50_ms={last.p50_ms:.1f} p99_ms={last.p99_ms:.1f} rate={last.rate}")


if __name__ == "__main__":
    main()
