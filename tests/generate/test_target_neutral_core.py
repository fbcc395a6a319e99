"""The target-neutral core (nexflow_core/generate/*.py, outside a target's package) says what a
job means; only a target's adapter spells it in the target's terms. For Flink that is
generate/flink/options.py: no Flink option key may appear in the core again, and the model
carries parallelism and checkpointing as typed values with their DSL origin."""

from __future__ import annotations

import ast as pyast
import re
from pathlib import Path

from nexflow_core.generate import model
from nexflow_core.generate.core import job_models
from nexflow_core.generate.environments import build_environment
from nexflow_core.generate.flink import options
from nexflow_core.project import check_project

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "nexflow_core" / "generate"

# Flink configuration keys (and the `flink.` prefix program arguments give them).
FLINK_KEY = re.compile(
    r"execution\.[a-z]|pipeline\.[a-z]|state\.backend|parallelism\.default|buffer-timeout"
    r"|checkpointing\.[a-z]|taskmanager\.|jobmanager\.|(?<![\w.])flink\.(?:[a-z]|$)"
)


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a Python file (docstrings and f-string parts too)."""
    tree = pyast.parse(path.read_text("utf-8"), str(path))
    return [
        (node.lineno, node.value)
        for node in pyast.walk(tree)
        if isinstance(node, pyast.Constant) and isinstance(node.value, str)
    ]


def test_no_flink_option_key_in_the_core() -> None:
    core = sorted(CORE.glob("*.py"))
    assert len(core) > 5
    found = [
        f"{path.relative_to(ROOT)}:{line}: {FLINK_KEY.search(text).group(0)!r} in {text!r:.80}"
        for path in core
        for line, text in _strings(path)
        if FLINK_KEY.search(text)
    ]
    assert not found, "Flink option keys belong in generate/flink/options.py:\n" + "\n".join(found)


def test_the_pattern_finds_the_keys_the_core_used_to_carry() -> None:
    for key in (
        "flink.parallelism.default",
        "parallelism.default",
        "flink.pipeline.max-parallelism",
        "execution.checkpointing.interval",
        "flink.state.backend.type",
        "execution.buffer-timeout.interval",
        "flink.",
    ):
        assert FLINK_KEY.search(key), key
    for text in ("a one-way pipeline.", "the proc's execution.", "nexflow_core.generate.flink"):
        assert not FLINK_KEY.search(text), text


SCHEMA = """schema Payment {
    id: string @key
    amount: decimal(10,2)
}

stream payments: Payment
stream accepted: Payment
"""
INFRA = """environment prod {
    parallelism: 6
    state_backend: rocksdb
    buffer_timeout: 5 milliseconds
    checkpoint { interval: 1 minute mode: exactly_once min_pause: 10 seconds storage: cluster }
    streams {
        payments { topic: "p" }
        accepted { topic: "a" }
        dead_letter { topic: "d" }
    }
}
"""


def _job(proc: str) -> model.Job:
    project = check_project({"a.schema": SCHEMA, "a.proc": proc})
    assert project.ok, project.diagnostics
    (job,) = job_models(project, {p: "neutral" for p in project.modules})
    return job


def test_a_procs_checkpoint_and_parallelism_are_typed_with_their_origin() -> None:
    job = _job(
        "proc Accept {\n    from payments\n    parallelism 2\n"
        "    checkpoint every 30 seconds at_least_once\n    checkpoint every 1 minute\n"
        "    emit to accepted\n}\n"
    )
    execution = job.execution
    assert execution.parallelism is not None and execution.parallelism.value == 2
    assert execution.parallelism.origin is not None and execution.parallelism.origin.line == 3
    checkpointing = execution.checkpointing
    # The later statement wins part by part: its interval, the earlier one's mode.
    assert checkpointing.interval is not None and checkpointing.interval.millis == 60_000
    assert checkpointing.interval.origin is not None and checkpointing.interval.origin.line == 5
    assert checkpointing.mode is not None and checkpointing.mode.name == "at_least_once"
    assert {s.key: s.value for s in options.options(execution)} == {
        "flink.parallelism.default": "2",
        "flink.execution.checkpointing.interval": "60000 ms",
        "flink.execution.checkpointing.mode": "AT_LEAST_ONCE",
    }


def test_an_environments_execution_is_typed_and_the_adapter_spells_it() -> None:
    project = check_project({"a.schema": SCHEMA, "e.infra": INFRA})
    assert project.ok, project.diagnostics
    execution = build_environment(project.environment("prod"), project.sources).execution
    assert execution.parallelism is not None and execution.parallelism.value == 6
    assert execution.parallelism.origin == model.Origin("e.infra", 2, "parallelism: 6")
    # A cluster environment's max parallelism is explicit even when undeclared (no origin).
    assert execution.max_parallelism == model.Count(128)
    assert execution.state_backend is not None and execution.state_backend.name == "rocksdb"
    assert execution.buffer_timeout is not None and execution.buffer_timeout.millis == 5
    checkpointing = execution.checkpointing
    assert checkpointing.interval is not None and checkpointing.interval.millis == 60_000
    assert checkpointing.min_pause is not None and checkpointing.min_pause.millis == 10_000
    assert checkpointing.storage is None  # `storage: cluster`: the cluster's configuration
    assert checkpointing.incremental is not None and checkpointing.incremental.value
    assert checkpointing.incremental.origin == execution.state_backend.origin
    assert [s.key for s in options.options(execution)] == [
        "flink.parallelism.default",
        "flink.pipeline.max-parallelism",
        "flink.execution.checkpointing.interval",
        "flink.execution.checkpointing.mode",
        "flink.execution.checkpointing.min-pause",
        "flink.state.backend.type",
        "flink.execution.checkpointing.incremental",
        "flink.execution.buffer-timeout.interval",
    ]
