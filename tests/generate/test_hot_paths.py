"""What the generated job does for every record (the job-throughput benchmark's hot paths) does
no work a record does not need: the safety behaviour stays, its cost stays off the common path."""

from __future__ import annotations

import re
from pathlib import Path

from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.syntax import parse_source

CARD_FRAUD = Path("examples/card-fraud")


def _card_fraud_job() -> str:
    sources = {
        p.name: p.read_text("utf-8")
        for p in sorted(CARD_FRAUD.iterdir())
        if p.suffix in (".schema", ".transform", ".rules", ".proc") or p.name == "production.infra"
    }
    units = [Unit(parse_source(t, n), "p", t) for n, t in sources.items()]
    # Its production environment: Kafka sources and sinks, as the decision-latency bench runs it.
    files = {f.path: f.content for f in generate(units, [], TARGETS["flink"], "production")}
    return next(v for k, v in files.items() if k.endswith("CardFraudScreenJob.java"))


def _runtime(name: str) -> str:
    return next(
        f.content for f in TARGETS["flink"].render_runtime() if f.path.endswith(f"/{name}.java")
    )


def test_the_rolling_walk_has_no_exception_handler_inside_its_loop() -> None:
    job = _card_fraud_job()
    walk = job[job.index("int kept$1 = 0;") : job.index("held$1.truncate(kept$1);")]
    loop = walk[
        walk.index("for (; i$1 < held$1.size; i$1++) {") : walk.index(
            "} catch (ArithmeticException"
        )
    ]
    # The overflow guard is around the loop, not in it (an exception edge per entry kept the
    # JIT from keeping the running sums unboxed: ~10% of the keyed step's samples in BigDecimal).
    assert walk.index("try {") < walk.index("for (; i$1")
    assert "try {" not in loop and "failed$1" not in loop
    # After an overflow the rest of the entries are still compacted (the state stays consistent).
    handler = walk[walk.index("} catch (ArithmeticException") :]
    assert "failed$1 = e$;" in handler
    assert re.search(r"for \(i\$1\+\+; i\$1 < held\$1\.size; i\$1\+\+\) \{", handler)
    assert "held$1.move(i$1, kept$1++);" in handler


def test_a_kafka_record_s_place_is_spelled_out_only_for_a_dead_letter() -> None:
    job = _card_fraud_job()
    decode = job[job.index("public void deserialize(ConsumerRecord") :]
    decode = decode[: decode.index("}")]
    assert "record.topic(), record.partition()" in decode
    assert '+ "/" +' not in decode and '"@"' not in decode
    parsed = _runtime("Parsed")
    assert "String topic, int partition, long offset" in parsed


def test_an_in_process_lookup_chains_no_futures() -> None:
    lookups = _runtime("Lookups")
    in_process = lookups[lookups.index("private static final class InProcess") :]
    in_process = in_process[: in_process.index("private abstract static class Asking")]
    assert "lookup.askInProcess(k)" in in_process
    assert "lookup.ask(k)" not in in_process
    ask = lookups[lookups.index("S askInProcess(String k) {") :]
    ask = ask[: ask.index("return found;")]
    # The document's schema check and the LRU cache stay; coalescing is for calls in flight.
    assert "checked(client.get(k, type).join())" in ask and "cache.put(" in ask
