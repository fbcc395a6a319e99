"""Poison pills in generated jobs, as generated text (tests/e2e/test_poison_faults.py runs them
on a real broker and cluster): lookups send bad store documents to the dead letters, window
aggregates add a record only when every aggregation could take it, dead-letter envelopes are
capped to the producer's request size, and binding a proc to an environment that runs it on
Kafka without a dead-letter binding is refused (NX516)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexflow_core.diagnostics import NexflowError
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.syntax import parse_source

POISON = Path("tests/e2e/poison")


def _jobs(infra: str | None = None) -> dict[str, str]:
    sources = {str(p): p.read_text("utf-8") for p in sorted(POISON.iterdir()) if p.suffix in (
        ".schema", ".proc", ".infra")}  # fmt: skip
    if infra is not None:
        sources[str(POISON / "e2e.infra")] = infra
    units = [Unit(parse_source(t, p), "gen.poison", t) for p, t in sources.items()]
    files = generate(units, [], TARGETS["flink"], "e2e")
    return {Path(f.path).name: f.content for f in files if f.path.endswith("Job.java")}


def test_a_lookup_routes_bad_documents_to_the_dead_letters() -> None:
    job = _jobs()["CheckTransfersJob.java"]
    call = job[job.index("Lookups.lookup(") :].split(";")[0]
    assert '(op0, streams, SOURCE_STREAM, "accounts",' in call
    assert "gen.poison.Account.class, gen.poison.AccountContract.INSTANCE" in call
    assert "record -> gen.poison.TransferContract.INSTANCE.correlationId(record)" in call
    assert "deadLetters.add(op1.getSideOutput(DeadLetterOutput.TAG));" in job


def test_a_window_adds_a_record_whole_or_makes_it_a_dead_letter() -> None:
    job = _jobs()["SumTransfersJob.java"]
    acc = "WindowTumblingAccountAccountTotalAccumulator"
    add = job[job.index(f"public {acc} add(") :].split(f"public {acc} getResult")[0]
    # Computed into locals first, stored only after every aggregation succeeded.
    assert add.index("s2 = s2 == null ? x : Ops.add(s2, x);") < add.index(
        "} catch (RuntimeException e) {"
    )
    assert add.index("acc.reject(e, record.toString(),") < add.index("acc.total = s2;")
    # Dead letters leave when the window fires; a failed session merge fires as one.
    assert "sendRejected(key, context, acc);" in job
    assert "throw new ArithmeticException(acc.failed);" in job
    assert 'fields.put("rejected", Types.LIST(Types.STRING));' in job


def test_dead_letter_envelopes_are_capped_to_the_request_size() -> None:
    job = _jobs()["CheckTransfersJob.java"]
    lines = job[job.index("static void lines(") :].split("Outputs.sink(")[0]
    assert "int limit = Errors.envelopeLimit(properties(streams));" in lines
    capped = (
        "new Records<>(streams.topic(stream), Kafka::correlationKey, "
        "new DeadLetterOutput.Capped(limit))"
    )
    assert capped in lines


def test_an_environment_without_dead_letters_is_refused_when_a_proc_binds_to_it() -> None:
    infra = (POISON / "e2e.infra").read_text("utf-8")
    start = infra.index("        dead_letter {")
    unbound = infra[:start] + infra[infra.index("}", start) + 2 :]
    with pytest.raises(NexflowError) as refused:
        _jobs(unbound)
    codes = [d.code for d in refused.value.diagnostics]
    assert codes and set(codes) == {"NX516"}
    assert "environment e2e" in refused.value.diagnostics[0].message
    logged = unbound.replace(
        "environment e2e {", 'environment e2e {\n    dead_letters { log_only: "a test" }'
    )
    assert set(_jobs(logged)) == {"CheckTransfersJob.java", "SumTransfersJob.java"}
