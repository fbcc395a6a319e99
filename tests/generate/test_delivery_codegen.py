"""Per-sink delivery guarantees chosen by the L5 environment: a binding's `delivery` and
`idempotency_key` win over the proc's `emit to … <delivery>`, which wins over the environment's
default `delivery`; each becomes the compiled default of its Kafka sink (a program argument
`--stream.<name>.delivery` still overrides it). Generated text only; tests/e2e runs the modes on
a real broker and cluster."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nexflow_core import cli
from nexflow_core.diagnostics import NexflowError
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.syntax import parse_source

SCHEMA = """
schema Auth {
    auth_id: string @key
    card: string
    approved: boolean
}
stream auths: Auth
stream decisions: Auth
stream ledger: Auth
stream review: Auth
stream rejected: Auth
"""

PROC = """
proc Decide {
    checkpoint every 1 minute
    from auths
    on error emit to rejected
    emit to decisions at_least_once idempotency_key card
    emit to ledger
    emit to review at_least_once
}
"""

INFRA = """
environment prod {
    delivery: exactly_once
    streams {
        auths { topic: "auths" }
        decisions { topic: "decisions" idempotency_key: auth_id }
        ledger { topic: "ledger" }
        review { topic: "review" delivery: exactly_once }
        rejected { topic: "rejected" delivery: at_least_once }
    }
}
"""


def _job(infra: str = INFRA) -> str:
    sources = {"a.schema": SCHEMA, "d.proc": PROC, "e.infra": infra}
    units = [Unit(parse_source(t, p), "gen.delivery", t) for p, t in sources.items()]
    files = generate(units, [], TARGETS["flink"], "prod")
    (job,) = [f.content for f in files if f.path.endswith("DecideJob.java")]
    return job


def _sink(job: str, stream: str) -> str:
    call = job[job.index(f"Kafka.sink(out${stream},") :].split(";")[0]
    return " ".join(call.split())


def test_binding_then_emit_then_environment_default() -> None:
    job = _job()
    # decisions: the emit says at_least_once keyed by card; the binding keys it by auth_id.
    decisions = _sink(job, "decisions")
    assert 'streams.delivery("decisions", "at_least_once")' in decisions
    assert "Keys.of(record.auth_id)" in decisions
    assert "// delivery: at_least_once (the proc's emit), idempotency key" in job
    # ledger: nothing in the proc or its binding, the environment's default.
    assert 'streams.delivery("ledger", "exactly_once")' in _sink(job, "ledger")
    assert "// delivery: exactly_once (default of environment prod)" in job
    # review: the binding wins over the proc's at_least_once.
    assert 'streams.delivery("review", "exactly_once")' in _sink(job, "review")
    assert "// delivery: exactly_once (binding of review in environment prod)" in job
    # Dead letters take their binding's mode; the binding's settings are compiled, not
    # run-time defaults.
    assert 'streams.delivery(DEAD_LETTER_STREAM, "at_least_once")' in job
    assert not re.search(r'settings.put\("stream\.\w+\.(delivery|idempotency_key)"', job)


def test_without_declarations_sinks_are_at_least_once() -> None:
    plain = re.sub(r"\s(delivery|idempotency_key): \w+", "", INFRA)
    job = _job(plain)
    assert 'streams.delivery("ledger", "at_least_once")' in _sink(job, "ledger")
    assert 'streams.delivery(DEAD_LETTER_STREAM, "at_least_once")' in job
    # The proc's own declarations stay.
    assert "Keys.of(record.card)" in _sink(job, "decisions")


def test_dead_letters_are_keyed_by_their_correlation_id_only() -> None:
    with pytest.raises(NexflowError) as refused:
        _job(INFRA.replace("delivery: at_least_once }", "idempotency_key: card }"))
    # The checker's (what `check` accepts builds): once an NX901 of the generator.
    (d,) = refused.value.diagnostics
    assert d.code == "NX508" and "correlation_id" in d.message and d.span.line == 9



def test_unit_builds_refuse_exactly_once_without_checkpoints(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Compiled unit by unit as the Pants backend does, the .infra unit is checked without the
    procs, so binding the proc to its environment reports NX509 itself."""
    files = {  # in dependency order
        "a.schema": SCHEMA,
        "e.infra": INFRA,
        "d.proc": PROC.replace("    checkpoint every 1 minute\n", ""),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    upstream: list[str] = []
    for name in files:
        argv = ["compile", str(tmp_path / name), "--java-package", "gen.delivery",
                "--interface-out", str(tmp_path / f"{name}.nxi")]  # fmt: skip
        for dep in upstream:
            argv += ["--interface", f"{tmp_path / dep}.nxi=gen.delivery"]
        if name.endswith(".proc"):
            argv += ["--environment", "prod", "--output-dir", str(tmp_path / "java")]
            assert cli.main(argv) == 1
            err = capsys.readouterr().err
            assert "NX509" in err and "stream ledger is written exactly once" in err
        else:
            assert cli.main(argv) == 0, name
        upstream.append(name)


def test_unit_builds_refuse_at_least_once_checkpoints_with_an_exactly_once_sink(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """NX511 when the proc is bound to its environment unit by unit (the .infra unit is
    checked without the procs): the environment's checkpoint mode, or the proc's own
    `checkpoint every … at_least_once` when the environment sets no mode."""
    for infra, proc, where in [
        (INFRA.replace("delivery: exactly_once\n", "delivery: exactly_once\n    checkpoint "
                       "{ mode: at_least_once storage: cluster }\n", 1), PROC, "e.infra:4"),
        (INFRA, PROC.replace("checkpoint every 1 minute", "checkpoint every 1 minute "
                             "at_least_once"), "d.proc:3"),
    ]:  # fmt: skip
        files = {"a.schema": SCHEMA, "e.infra": infra, "d.proc": proc}
        for name, text in files.items():
            (tmp_path / name).write_text(text, "utf-8")
        upstream: list[str] = []
        for name in files:
            argv = ["compile", str(tmp_path / name), "--java-package", "gen.delivery",
                    "--interface-out", str(tmp_path / f"{name}.nxi")]  # fmt: skip
            for dep in upstream:
                argv += ["--interface", f"{tmp_path / dep}.nxi=gen.delivery"]
            if name.endswith(".proc"):
                argv += ["--environment", "prod", "--output-dir", str(tmp_path / "java")]
                assert cli.main(argv) == 1
                err = capsys.readouterr().err
                assert "NX511" in err and "takes at-least-once checkpoints" in err, err
                assert where in err, err
            else:
                assert cli.main(argv) == 0, name
            upstream.append(name)
