"""L5 environments → what a job bound to them starts from (model.Environment).

A resolved environment (after merging its files and `extends`) becomes how its jobs run
(`model.Execution`: parallelism, max parallelism, checkpointing, state backend, buffer timeout,
as the DSL means them; each target maps them to its own options, the Flink adapter in
flink/options.py) and flat settings with the keys the L0 runtime reads (`JobArgs`):
`stream.<name>` (a binding URI, `kafka:<topic>` or `file:<path>`), `stream.<name>.parallelism`,
`stream.<name>.idle_timeout` (the environment's `idle_timeout` unless the binding sets its own;
the same for `max_event_time_ahead` and `max_event_time_behind`), `stream.<name>.start`,
`.start_fallback` and `.transactional_id_prefix`, `store.<name>` and `store.<name>.<setting>`.
Program arguments override every one. The `kafka { … }` block is client settings as data
(`model.KafkaClient`, by their DSL names); a target spells them as its Kafka client's
properties (the Flink adapter in flink/kafka.py).

Secrets stay references, in the syntax of Kafka's config providers, so that the value is read
where it is used (the Kafka client on a task manager) and never appears in generated code or
job graphs: `env("VAR")` → `${env:VAR}`, `file("/dir/name")` → `${dir:/dir:name}`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Callable, Optional

from nexflow_core import ast
from nexflow_core.check.infra_check import (
    CLUSTER_STORAGE,
    DEFAULT_MAX_PARALLELISM,
    DEFAULT_TOLERABLE_CHECKPOINT_FAILURES,
    ResolvedEnvironment,
    cluster_job_environment,
    resolve_environments,
    scoped_environment_decls,
    tolerable_checkpoint_failures,
)
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span
from nexflow_core.generate import model
from nexflow_core.generate.lower import checker_missed
from nexflow_core.interface.model import UnitInterface

# Files whose *path* is the setting (not a secret read from them).
_PATHS = ("truststore", "keystore")
_STORE_PATHS = ("truststore", "keystore", "ca_file")
# Binding settings compiled into the job's sinks (see jobs._bind_delivery), not run-time
# settings: `--stream.<name>.delivery` overrides the compiled guarantee.
_COMPILED = ("delivery", "idempotency_key")


class _Origins:
    def __init__(self, sources: dict) -> None:
        self.sources = sources

    def __call__(self, span: Span) -> model.Origin:
        text = ""
        source = self.sources.get(span.file)
        if source is not None:
            lines = source.splitlines()
            if 0 < span.line <= len(lines):
                text = lines[span.line - 1].strip().rstrip("{").rstrip()
        return model.Origin(file=span.file, line=span.line, text=text)


def secret(ref: ast.SecretRef) -> str:
    """A secret reference as a config-provider placeholder (never the value)."""
    if ref.kind == "env":
        return "${env:" + ref.ref + "}"
    directory, name = posixpath.split(ref.ref)
    return "${dir:" + (directory or ".") + ":" + name + "}"


def text(value: ast.Value, path: bool = False) -> tuple[str, str]:
    """(the value as setting text, its kind: literal or secret)."""
    if isinstance(value, ast.SecretRef):
        if path and value.kind == "file":
            return value.ref, "literal"
        return secret(value), "secret"
    if isinstance(value, ast.StringLit):
        return value.value, "literal"
    if isinstance(value, ast.IntLit):
        return str(value.value), "literal"
    if isinstance(value, ast.DecimalLit):
        return value.text, "literal"
    if isinstance(value, ast.BoolLit):
        return ("true" if value.value else "false"), "literal"
    if isinstance(value, ast.DurationLit):
        return f"{value.millis} ms", "literal"
    if isinstance(value, ast.Symbol):
        return value.name, "literal"
    parts = [text(v, path) for v in value.items]
    kind = "secret" if any(k == "secret" for _, k in parts) else "literal"
    return ",".join(t for t, _ in parts), kind


class UpstreamEnvironments:
    """Environments as the interface files of .infra units carry them (build-system mode).
    `get(name, consumer)` resolves `name` for the unit at path `consumer` to the blocks of the
    nearest declaring directory (scoped_environment_decls, the rule dependency inference
    applies too), merged across files and resolved through `extends` by the same function as
    whole-project checking. `sources`: the source lines the generated comments cite."""

    def __init__(self, interfaces: Iterable[UnitInterface]) -> None:
        decls: list[ast.EnvironmentDecl] = []
        lines: dict[str, dict[int, str]] = {}
        # Files in path order, blocks in file order: the order whole-project checking merges in.
        for interface in sorted(interfaces, key=lambda i: i.path):
            for sig in interface.environments:
                if not sig.lines:
                    continue
                end = sig.first_line + len(sig.lines) - 1
                span = Span(interface.path, sig.first_line, 1, end, len(sig.lines[-1]) + 1)
                decls.append(
                    ast.EnvironmentDecl(
                        span=span, name=sig.name, extends=sig.extends, entries=sig.entries
                    )
                )
                for offset, line in enumerate(sig.lines):
                    lines.setdefault(interface.path, {})[sig.first_line + offset] = line
        decls.sort(key=lambda d: (d.span.file, d.span.line))
        self.decls = decls
        # Source texts with the known lines in place, for build_environment's origins.
        self.sources = {
            path: "\n".join(known.get(n, "") for n in range(1, max(known) + 1))
            for path, known in lines.items()
        }

    def get(self, name: str, consumer: str) -> Optional[ResolvedEnvironment]:
        scoped = scoped_environment_decls(self.decls, name, consumer)
        diags: list[Diagnostic] = []
        environments = resolve_environments(scoped, [], diags)
        # Each .infra unit reports its own diagnostics when it is checked; not again here,
        # except a chain through two directories that name one environment alike, which only
        # this resolution sees and which must not merge silently.
        clash = [d for d in diags if d.code == "NX510"]
        if clash:
            raise NexflowError(clash)
        return environments.get(name)


def build_environment(env: ResolvedEnvironment, sources: dict) -> model.Environment:
    origin = _Origins(sources)

    def setting(key: str, value: ast.Value, path: bool = False) -> model.Setting:
        t, kind = text(value, path)
        return model.Setting(key=key, value=t, kind=kind, origin=origin(value.span))

    execution = _execution(env, origin)

    streams: list[model.Setting] = []
    # The environment's idle_timeout and event-time bounds are every stream's that does not set
    # its own (the runtime reads them per stream; StreamBindings' defaults when neither says).
    inherited = {
        k: env.settings[k]
        for k in ("idle_timeout", "max_event_time_ahead", "max_event_time_behind")
        if k in env.settings
    }
    for name in sorted(env.streams):
        b = env.streams[name]
        settings = dict(b.settings)
        for k, v in inherited.items():
            settings.setdefault(k, v)
        for k in sorted(settings):
            v = settings[k]
            if k == "topic":
                t, _ = text(v)
                streams.append(
                    model.Setting(key=f"stream.{name}", value="kafka:" + t, origin=origin(v.span))
                )
            elif k == "file":
                t, _ = text(v)
                streams.append(
                    model.Setting(key=f"stream.{name}", value="file:" + t, origin=origin(v.span))
                )
            elif k not in _COMPILED:
                streams.append(setting(f"stream.{name}.{k}", v))

    stores: list[model.Setting] = []
    for name in sorted(env.stores):
        b = env.stores[name]
        kind = b.settings.get("type")
        if kind is not None:
            t, _ = text(kind)
            stores.append(
                model.Setting(key=f"store.{name}", value=f"{t}:{name}", origin=origin(kind.span))
            )
        for k in sorted(b.settings):
            if k != "type":
                stores.append(setting(f"store.{name}.{k}", b.settings[k], k in _STORE_PATHS))

    # The environment the job class is bound to: its program arguments name theirs, and the
    # job refuses to start with another environment's (JobArgs).
    job: list[model.Setting] = [model.Setting(key="nexflow.environment", value=env.name)]
    if cluster_job_environment(env):
        # A cluster job refuses unkeyed tokens of @sensitive values (see Tokens): anyone can
        # compute those from a guessed card number.
        job.append(model.Setting(key="tokens.require_key", value="true"))
    kafka = _kafka(env, setting, origin)
    return model.Environment(
        name=env.name,
        streams=streams,
        execution=execution,
        kafka=kafka,
        stores=stores,
        files=list(env.files),
        job=job,
    )


def execution(env: ResolvedEnvironment, sources: Optional[dict] = None) -> model.Execution:
    """How the environment's jobs run, as the DSL says it (each target spells it its way);
    `sources`: the source texts origins quote (none: origins without text)."""
    return _execution(env, _Origins(sources or {}))


def _execution(env: ResolvedEnvironment, origin: _Origins) -> model.Execution:
    settings = env.settings
    par = settings.get("parallelism")
    most = settings.get("max_parallelism")
    max_parallelism = None
    if most is not None:
        max_parallelism = _count(most, "max_parallelism", "NX527", origin)
    elif cluster_job_environment(env):
        # Explicit even when not declared: the target would derive it from the parallelism of
        # the first deployment, and a later change of it would leave the state unreadable.
        max_parallelism = model.Count(value=DEFAULT_MAX_PARALLELISM)
    backend = settings.get("state_backend")
    state_backend = None if backend is None else _choice(backend, "state_backend", origin)
    buffer_timeout = settings.get("buffer_timeout")
    return model.Execution(
        parallelism=None if par is None else _count(par, "parallelism", "NX505", origin),
        max_parallelism=max_parallelism,
        checkpointing=_checkpointing(
            env.checkpoint,
            state_backend,
            origin,
            cluster_job_environment(env),
            tolerable_checkpoint_failures(env),
        ),
        state_backend=state_backend,
        buffer_timeout=(
            None if buffer_timeout is None else _duration(buffer_timeout, "buffer_timeout", origin)
        ),
    )


def _checkpointing(
    settings: dict[str, ast.Value],
    backend: Optional[model.Choice],
    origin: _Origins,
    cluster: bool,
    most_failures: Optional[int],
) -> model.Checkpointing:
    durations = {
        name: _duration(settings[name], f"checkpoint {name}", origin)
        for name in ("interval", "timeout", "min_pause")
        if name in settings
    }
    mode = settings.get("mode")
    storage = settings.get("storage")
    where: Optional[model.Text] = None
    if isinstance(storage, ast.StringLit):
        where = model.Text(value=storage.value, origin=origin(storage.span))
    elif storage is not None and not (
        isinstance(storage, ast.Symbol) and storage.name == CLUSTER_STORAGE
    ):
        raise checker_missed(storage.span, "NX526", "checkpoint storage that is no URI")
    # `storage: cluster` stays None: the cluster's configuration says where.
    incremental = None
    if backend is not None and backend.name == "rocksdb":
        # Each checkpoint uploads only the files RocksDB wrote since the last one, not the
        # whole state: checkpoints of large state stay short.
        incremental = model.Flag(value=True, origin=backend.origin)
    retain: Optional[model.Flag] = None
    tolerable: Optional[model.Count] = None
    retain_value = settings.get("retain_on_cancel")
    if isinstance(retain_value, ast.BoolLit):
        retain = model.Flag(value=retain_value.value, origin=origin(retain_value.span))
    elif cluster and settings:
        # Flink's default deletes every checkpoint when the job ends: a cancel without a
        # savepoint would lose its state.
        retain = model.Flag(value=True)
    failures = settings.get("tolerable_failures")
    if failures is not None:
        tolerable = _count(failures, "checkpoint tolerable_failures", "NX505", origin)
    elif cluster and most_failures is not None:
        # Flink's default (0) restarts the whole job for one checkpoint that fails or times
        # out (a slow upload, backpressure): a restart replays and resends more than waiting;
        # never more than an exactly-once sink's transaction survives.
        tolerable = model.Count(value=min(DEFAULT_TOLERABLE_CHECKPOINT_FAILURES, most_failures))
    return model.Checkpointing(
        interval=durations.get("interval"),
        mode=None if mode is None else _choice(mode, "checkpoint mode", origin),
        timeout=durations.get("timeout"),
        min_pause=durations.get("min_pause"),
        storage=where,
        incremental=incremental,
        retain_on_cancel=retain,
        tolerable_failures=tolerable,
    )


def _count(value: ast.Value, what: str, code: str, origin: _Origins) -> model.Count:
    if not isinstance(value, ast.IntLit):
        raise checker_missed(value.span, code, f"{what} that is no whole number")
    return model.Count(value=value.value, origin=origin(value.span))


def _duration(value: ast.Value, what: str, origin: _Origins) -> model.Duration:
    if not isinstance(value, ast.DurationLit):
        raise checker_missed(value.span, "NX505", f"{what} that is no duration")
    return model.Duration(millis=value.millis, origin=origin(value.span))


def _choice(value: ast.Value, what: str, origin: _Origins) -> model.Choice:
    if not isinstance(value, ast.Symbol):
        raise checker_missed(value.span, "NX505", f"{what} that is no name")
    return model.Choice(name=value.name, origin=origin(value.span))


def _kafka(
    env: ResolvedEnvironment,
    setting: Callable[[str, ast.Value, bool], model.Setting],
    origin: _Origins,
) -> model.KafkaClient:
    props = dict(env.kafka)
    mechanism: Optional[ast.Value] = props.pop("sasl_mechanism", None)
    user = props.pop("username", None)
    password = props.pop("password", None)
    mechanism_name: Optional[model.Choice] = None
    if mechanism is not None:
        m = mechanism.name if isinstance(mechanism, ast.Symbol) else text(mechanism)[0]
        mechanism_name = model.Choice(name=m, origin=origin(mechanism.span))
    return model.KafkaClient(
        settings=[setting(name, props[name], name in _PATHS) for name in sorted(props)],
        sasl_mechanism=mechanism_name,
        username=None if user is None else setting("username", user, False),
        password=None if password is None else setting("password", password, False),
    )


def uses_kafka(env: Optional[model.Environment]) -> bool:
    if env is None:
        return False
    kafka = env.kafka
    return (
        bool(kafka.settings)
        or kafka.sasl_mechanism is not None
        or any(s.value.startswith("kafka:") for s in env.streams)
    )
