"""Production defaults of a cluster environment (one that binds a stream to a Kafka topic):
checkpoints go to declared durable storage (NX526), max parallelism is explicit (declared, else
128; NX527 when a parallelism exceeds it), and RocksDB checkpoints incrementally. Before these,
payments' production checkpointed into the JobManager's memory, on the heap state backend,
with a max parallelism Flink derived from the first deployment's parallelism."""

from __future__ import annotations

from pathlib import Path

from nexflow_core.generate.environments import build_environment
from nexflow_core.generate.flink import options
from nexflow_core.project import check_project

ROOT = Path(__file__).resolve().parents[2]

SCHEMA = """schema Payment {
    id: string @key
    amount: decimal(10,2)
}

stream payments: Payment
stream accepted: Payment
"""
PROC = "proc Accept {\n    from payments\n    emit to accepted\n}\n"
STREAMS = """    streams {
        payments { topic: "p" parallelism: 8 }
        accepted { topic: "a" }
        dead_letter { topic: "d" }
    }
"""


def _codes(infra: str) -> list[str]:
    sources = {"a.schema": SCHEMA, "a.proc": PROC, "e.infra": infra}
    return [d.code for d in check_project(sources).diagnostics]


def _flink(infra: str) -> dict[str, str]:
    project = check_project({"a.schema": SCHEMA, "a.proc": PROC, "e.infra": infra})
    assert project.ok, project.diagnostics
    env = build_environment(project.environment("prod"), {})
    # The Flink options the adapter writes for the environment (the model carries meaning).
    return {s.key: s.value for s in options.options(env.execution)}


def test_a_cluster_environment_that_checkpoints_says_where() -> None:
    missing = "environment prod {\n    checkpoint { interval: 1 minute }\n" + STREAMS + "}\n"
    assert _codes(missing) == ["NX526"]
    for storage in ('"s3://b/checkpoints/accept"', "cluster"):
        assert _codes(missing.replace("1 minute", f"1 minute storage: {storage}")) == []
    assert _codes(missing.replace("1 minute", '1 minute storage: "checkpoints"')) == ["NX526"]
    # A local run over files keeps its checkpoints wherever it likes.
    local = missing.replace('topic: "p"', 'file: "p.jsonl"').replace('topic: "a"', 'file: "a"')
    assert _codes(local.replace('topic: "d"', 'file: "d"')) == []


def test_max_parallelism_is_explicit_and_bounds_every_parallelism() -> None:
    env = "environment prod {\n" + STREAMS + "}\n"
    flink = _flink(env)
    assert flink["flink.pipeline.max-parallelism"] == "128"
    assert (
        _flink(env.replace("streams {", "max_parallelism: 512\n    streams {"))[
            "flink.pipeline.max-parallelism"
        ]
        == "512"
    )
    assert _codes(env.replace("streams {", "max_parallelism: 4\n    streams {")) == ["NX527"]
    assert _codes(env.replace("parallelism: 8", "parallelism: 200")) == ["NX527"]
    assert _codes(env.replace("streams {", "max_parallelism: 0\n    streams {")) == ["NX527"]


def test_rocksdb_checkpoints_incrementally_and_cluster_storage_sets_no_directory() -> None:
    env = (
        "environment prod {\n    state_backend: rocksdb\n"
        "    checkpoint { interval: 1 minute storage: cluster }\n" + STREAMS + "}\n"
    )
    flink = _flink(env)
    assert flink["flink.state.backend.type"] == "rocksdb"
    assert flink["flink.execution.checkpointing.incremental"] == "true"
    assert "flink.execution.checkpointing.dir" not in flink
    hashmap = _flink(env.replace("rocksdb", "hashmap"))
    assert "flink.execution.checkpointing.incremental" not in hashmap


def test_payments_production_has_durable_checkpoints_rocksdb_and_max_parallelism() -> None:
    files = sorted((ROOT / "examples" / "payments").glob("*"))
    sources = {
        str(p.relative_to(ROOT)): p.read_text("utf-8")
        for p in files
        if p.suffix in (".schema", ".proc", ".rules", ".infra")
    }
    project = check_project(sources)
    assert project.ok, project.diagnostics
    production = project.environment("production")
    execution = build_environment(production, {}).execution
    flink = {s.key: s.value for s in options.options(execution)}
    assert flink["flink.execution.checkpointing.dir"].startswith("s3://")
    assert flink["flink.state.backend.type"] == "rocksdb"
    assert flink["flink.execution.checkpointing.incremental"] == "true"
    assert int(flink["flink.pipeline.max-parallelism"]) >= 8


def test_a_cluster_environment_requires_a_token_key() -> None:
    """Unkeyed `sha:` tokens of @sensitive values are refused outside local runs over files:
    the job of a cluster environment carries `tokens.require_key` (the runtime side is in
    tests/pipelines/test_sensitive_keys.py)."""
    env = "environment prod {\n" + STREAMS + "}\n"
    project = check_project({"a.schema": SCHEMA, "a.proc": PROC, "e.infra": env})
    job = {s.key: s.value for s in build_environment(project.environment("prod"), {}).job}
    assert job == {"tokens.require_key": "true", "nexflow.environment": "prod"}
    files = env.replace('topic: "p"', 'file: "p"').replace('topic: "a"', 'file: "a"')
    files = files.replace('topic: "d"', 'file: "d"')
    project = check_project({"a.schema": SCHEMA, "a.proc": PROC, "e.infra": files})
    job = {s.key: s.value for s in build_environment(project.environment("prod"), {}).job}
    assert job == {"nexflow.environment": "prod"}


RETENTION = "flink.execution.checkpointing.externalized-checkpoint-retention"
TOLERABLE = "flink.execution.checkpointing.tolerable-failed-checkpoints"


def test_checkpoints_are_kept_when_a_cluster_job_is_cancelled() -> None:
    """Flink's default (NO_EXTERNALIZED_CHECKPOINTS) deletes every checkpoint when the job
    ends: a cancel without a savepoint lost all state."""
    env = (
        "environment prod {\n    checkpoint { interval: 1 minute storage: cluster }\n"
        + STREAMS
        + "}\n"
    )
    assert _flink(env)[RETENTION] == "RETAIN_ON_CANCELLATION"
    kept_on_failure_only = env.replace("cluster", "cluster retain_on_cancel: false")
    assert _flink(kept_on_failure_only)[RETENTION] == "DELETE_ON_CANCELLATION"
    assert _codes(env.replace("storage: cluster", 'storage: cluster retain_on_cancel: "yes"')) == [
        "NX505"
    ]
    # A local run over files, or an environment that leaves checkpoints to the cluster: none.
    local = env.replace('topic: "p"', 'file: "p.jsonl"').replace('topic: "a"', 'file: "a"')
    assert RETENTION not in _flink(local.replace('topic: "d"', 'file: "d"'))
    assert RETENTION not in _flink("environment prod {\n" + STREAMS + "}\n")


def test_failed_checkpoints_tolerated_only_as_far_as_exactly_once_transactions_survive() -> None:
    """Flink's default (0) restarts the job for one failed checkpoint; tolerating more is safe
    only while an exactly-once sink's open transaction outlives the failures: (n + 1) attempts of
    interval + timeout each must stay under the transaction timeout (15 minutes)."""
    env = (
        "environment prod {\n    checkpoint { interval: 30 seconds timeout: 2 minutes "
        "storage: cluster }\n" + STREAMS + "}\n"
    )
    assert _flink(env)[TOLERABLE] == "3"  # 4 x 150 s = 10 min < 15 min
    # card-fraud's production: 30 s + 5 min a checkpoint: 2 attempts fit, so 1 failure.
    assert _flink(env.replace("2 minutes", "5 minutes"))[TOLERABLE] == "1"
    # Flink's own 10-minute timeout: not one failure fits.
    assert _flink(env.replace(" timeout: 2 minutes", ""))[TOLERABLE] == "0"
    longer = env.replace("streams {", "kafka { transaction_timeout_ms: 3600000 }\n    streams {")
    assert _flink(longer.replace("2 minutes", "5 minutes"))[TOLERABLE] == "3"
    # Declared: as declared, with a warning when a transaction would not survive it.
    declared = env.replace("storage: cluster", "storage: cluster tolerable_failures: 10")
    assert _flink(declared)[TOLERABLE] == "10"
    assert _codes(declared) == ["NX529"]
    assert _codes(declared.replace("tolerable_failures: 10", "tolerable_failures: 2")) == []
    assert _codes(declared.replace("tolerable_failures: 10", "tolerable_failures: -1")) != []
