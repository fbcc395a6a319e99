"""Decision latency: event produced → decision consumed, on a real broker and cluster.

A producer process sends events at a steady rate (paced every 10 ms, `linger_ms=0`) and notes
the wall-clock time just before each send; a consumer process (read_committed, like a payment
switch) notes when each decision arrives. Both run on this machine, so one clock serves both.
The latency of an event is arrival − send for the first decision that carries its id; events
of the warm-up are left out. Used by bench/decision_latency.py and the card-fraud e2e test.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class LatencyReport:
    rate: int
    seconds: float
    sent: int
    measured: int
    received: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    achieved_rate: float
    # Checkpoints the job completed by the end of the run (-1: not asked).
    checkpoints: int = -1

    def line(self) -> str:
        return (
            f"rate={self.rate}/s for {self.seconds:.0f} s (achieved {self.achieved_rate:.0f}/s): "
            f"{self.measured} of {self.sent} measured events decided; latency p50="
            f"{self.p50_ms:.1f} ms p90={self.p90_ms:.1f} ms p99={self.p99_ms:.1f} ms "
            f"max={self.max_ms:.1f} ms"
        )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def _produce(
    servers: str,
    topic: str,
    events: list[tuple[str, Optional[str], dict]],
    rate: int,
    out: Any,
) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=servers,
        acks=1,
        linger_ms=0,
        key_serializer=lambda k: None if k is None else k.encode("utf-8"),
        value_serializer=lambda v: json.dumps(v, separators=(",", ":")).encode("utf-8"),
    )
    sent: dict[str, float] = {}
    start = time.monotonic()
    tick = 0.01
    i = 0
    k = 0
    while i < len(events):
        k += 1
        # Events due by the end of tick k: a steady rate, caught up if a tick ran late.
        for _ in range(min(int(rate * tick * k), len(events)) - i):
            ident, key, value = events[i]
            sent[ident] = time.time()
            producer.send(topic, key=key, value=value)
            i += 1
        pause = start + tick * k - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    producer.flush()
    producer.close()
    out.put((sent, time.monotonic() - start))


def _consume(
    servers: str, topic: str, id_field: str, expected: int, timeout: float, ready: Any, out: Any
) -> None:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=servers,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="latest",
        fetch_max_wait_ms=20,
    )
    partitions = None
    deadline = time.monotonic() + 30
    while not partitions and time.monotonic() < deadline:
        partitions = consumer.partitions_for_topic(topic)
        time.sleep(0.05)
    tps = [TopicPartition(topic, p) for p in sorted(partitions or [])]
    consumer.assign(tps)
    consumer.seek_to_end(*tps)
    for tp in tps:
        consumer.position(tp)
    ready.set()
    arrived: dict[str, float] = {}
    duplicates = 0
    deadline = time.monotonic() + timeout
    while len(arrived) < expected and time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=100)
        now = time.time()
        for messages in batch.values():
            for m in messages:
                ident = json.loads(m.value)[id_field]
                if ident in arrived:
                    duplicates += 1
                else:
                    arrived[ident] = now
    consumer.close()
    out.put((arrived, duplicates))


def measure(
    servers: str,
    source_topic: str,
    decision_topic: str,
    make_event: Callable[[int], tuple[str, Optional[str], dict]],
    *,
    rate: int,
    seconds: float,
    warmup: float,
    id_field: str,
    timeout: float = 120.0,
) -> LatencyReport:
    """Send `rate` events/s for `warmup` + `seconds` s; `make_event(i)` returns (id, Kafka key,
    value) of event i. Every event must yield one decision carrying its id in `id_field`."""
    total_warm = int(rate * warmup)
    total = total_warm + int(rate * seconds)
    events = [make_event(i) for i in range(total)]
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    produced: Any = context.Queue()
    consumed: Any = context.Queue()
    consumer = context.Process(
        target=_consume,
        args=(
            servers, decision_topic, id_field, total, warmup + seconds + timeout, ready, consumed
        ),
    )
    consumer.start()
    if not ready.wait(60):
        consumer.kill()
        raise RuntimeError("the latency consumer did not get ready within 60 s")
    producer = context.Process(
        target=_produce, args=(servers, source_topic, events, rate, produced)
    )
    producer.start()
    sent, elapsed = produced.get(timeout=warmup + seconds + 120)
    arrived, _duplicates = consumed.get(timeout=warmup + seconds + timeout + 60)
    producer.join(10)
    consumer.join(10)
    measured_ids = [e[0] for e in events[total_warm:]]
    latencies = [
        (arrived[i] - sent[i]) * 1000.0 for i in measured_ids if i in arrived and i in sent
    ]
    if not latencies:
        raise RuntimeError(f"no decisions arrived for the {len(measured_ids)} measured events")
    return LatencyReport(
        rate=rate,
        seconds=seconds,
        sent=len(measured_ids),
        measured=len(latencies),
        received=len(arrived),
        p50_ms=percentile(latencies, 50),
        p90_ms=percentile(latencies, 90),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies),
        achieved_rate=len(sent) / elapsed if elapsed > 0 else 0.0,
    )
