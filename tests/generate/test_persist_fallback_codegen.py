"""`on persist_error dead_letter | fail`: what every `persist to` of a proc does with a record
whose write still fails after its retries. The default is a dead letter (before it, a write that
timed out always failed the job, which then restarted as long as the store was down); the
choice reaches the generated job's Stores.upsert, with the line that made it. Generated text
only; tests/e2e/test_store_faults.py runs the fallback against a stalled FerretDB."""

from __future__ import annotations

from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.project import check_project
from nexflow_core.syntax import parse_source

SCHEMA = """
schema Payment {
    id: string @key
    amount: decimal(10,2)
}
stream payments: Payment
stream accepted: Payment
store ledger: Payment key id
"""


def _job(proc: str) -> str:
    sources = {"a.schema": SCHEMA, "k.proc": proc}
    units = [Unit(parse_source(t, p), "gen.persist", t) for p, t in sources.items()]
    files = generate(units, [], TARGETS["flink"])
    (job,) = [f.content for f in files if f.path.endswith("KeepJob.java")]
    return job


def test_the_default_is_a_dead_letter() -> None:
    job = _job("proc Keep {\n    from payments\n    emit to accepted persist to ledger async\n}\n")
    assert "Stores.OnPersistError.DEAD_LETTER" in job
    assert "// on persist_error dead_letter (the default)" in job


def test_fail_is_declared_once_for_every_persist() -> None:
    proc = (
        "proc Keep {\n    from payments\n    on persist_error fail\n"
        "    emit to accepted persist to ledger async\n}\n"
    )
    job = _job(proc)
    assert "Stores.OnPersistError.FAIL" in job and "OnPersistError.DEAD_LETTER" not in job
    assert "k.proc:3  on persist_error fail: a write that still fails" in job


def test_declared_twice_or_without_a_persist() -> None:
    twice = (
        "proc Keep {\n    from payments\n    on persist_error fail\n"
        "    on persist_error dead_letter\n    emit to accepted persist to ledger\n}\n"
    )
    d = check_project({"a.schema": SCHEMA, "k.proc": twice}).diagnostics
    assert [(x.code, x.span.line) for x in d] == [("NX425", 4)]
    unused = "proc Keep {\n    from payments\n    on persist_error fail\n    emit to accepted\n}\n"
    d = check_project({"a.schema": SCHEMA, "k.proc": unused}).diagnostics
    assert [(x.code, x.severity) for x in d] == [("NX426", "warning")]
    # `continue` is no persist fallback: a record would go on without being stored.
    bad = "proc Keep {\n    from payments\n    on persist_error continue\n    emit to accepted\n}\n"
    assert [x.code for x in check_project({"a.schema": SCHEMA, "k.proc": bad}).diagnostics] == [
        "NX101"
    ]
