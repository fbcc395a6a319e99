"""How a job runs (model.Execution) → Flink configuration options: the one place the Flink
adapter spells them.

The core says what the DSL means (a parallelism, a checkpoint interval, a state backend);
this table says which Flink option carries it and how its value is written. A job's generated
`defaults()` puts them as `flink.<option>` (the key its program arguments override them with,
which the L0 runtime's JobArgs hands to Flink's Configuration), each commented with the DSL
line it came from; the run plan of a local run carries the same keys.
"""

from __future__ import annotations

from typing import Callable, Optional, Union

from nexflow_core.generate import model
from nexflow_core.generate.flink import kafka

# What the program arguments and defaults() prefix a Flink option with (JobArgs strips it).
PREFIX = "flink."

_Part = Union[model.Count, model.Duration, model.Choice, model.Text, model.Flag]


def _count(part: model.Count) -> str:
    return str(part.value)


def _duration(part: model.Duration) -> str:
    return f"{part.millis} ms"


def _name(part: model.Choice) -> str:
    return part.name


def _upper(part: model.Choice) -> str:
    # Flink's CheckpointingMode constants: EXACTLY_ONCE, AT_LEAST_ONCE.
    return part.name.upper()


def _text(part: model.Text) -> str:
    return part.value


def _flag(part: model.Flag) -> str:
    return "true" if part.value else "false"


def _retention(part: model.Flag) -> str:
    # Flink's ExternalizedCheckpointRetention: both keep the checkpoints of a failed job.
    return "RETAIN_ON_CANCELLATION" if part.value else "DELETE_ON_CANCELLATION"


# (Flink option, the part of a job's execution it carries, how its value is written), in the
# order defaults() lists them.
_OPTIONS: list[tuple[str, Callable[[model.Execution], Optional[_Part]], Callable[..., str]]] = [
    ("parallelism.default", lambda e: e.parallelism, _count),
    ("pipeline.max-parallelism", lambda e: e.max_parallelism, _count),
    ("execution.checkpointing.interval", lambda e: e.checkpointing.interval, _duration),
    ("execution.checkpointing.mode", lambda e: e.checkpointing.mode, _upper),
    ("execution.checkpointing.timeout", lambda e: e.checkpointing.timeout, _duration),
    ("execution.checkpointing.min-pause", lambda e: e.checkpointing.min_pause, _duration),
    ("execution.checkpointing.dir", lambda e: e.checkpointing.storage, _text),
    ("state.backend.type", lambda e: e.state_backend, _name),
    ("execution.checkpointing.incremental", lambda e: e.checkpointing.incremental, _flag),
    (
        "execution.checkpointing.externalized-checkpoint-retention",
        lambda e: e.checkpointing.retain_on_cancel,
        _retention,
    ),
    (
        "execution.checkpointing.tolerable-failed-checkpoints",
        lambda e: e.checkpointing.tolerable_failures,
        _count,
    ),
    ("execution.buffer-timeout.interval", lambda e: e.buffer_timeout, _duration),
]

# The option a checkpoint interval sets: what a job needing checkpoints tells its user to set.
CHECKPOINT_INTERVAL = PREFIX + "execution.checkpointing.interval"


def options(execution: model.Execution) -> list[model.Setting]:
    """The Flink options of `execution`, keyed `flink.<option>`; a part left unsaid is none
    (Flink's or the cluster's default)."""
    out: list[model.Setting] = []
    for option, part_of, spell in _OPTIONS:
        part = part_of(execution)
        if part is not None:
            out.append(model.Setting(key=PREFIX + option, value=spell(part), origin=part.origin))
    return out


def job_options(job: model.Job) -> list[model.Setting]:
    """The Flink options a job starts from, in the order defaults() puts them (later wins):
    the proc's own, then its environment's."""
    out = options(job.execution)
    if job.environment is not None:
        out += options(job.environment.execution)
    return out


def start_settings(job: model.Job) -> dict[str, str]:
    """The settings a job starts from, keys as in program arguments without the dashes: its
    Flink options, then its environment's stream, store, Kafka and job settings (later wins);
    exactly the job class's defaults. A run plan hands them to the job; `nexflow build` writes
    them as the environment's program arguments."""
    settings = {s.key: s.value for s in job_options(job)}
    env = job.environment
    if env is not None:
        for group in (env.streams, env.stores, kafka.client_settings(env.kafka), env.job):
            for s in group:
                settings[s.key] = s.value
    return dict(sorted(settings.items()))
