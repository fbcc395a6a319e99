"""Checks for L5 infra files and environments: merging of same-named environment blocks
across files, inheritance, known sections and settings, secrets by reference, and that every
stream and store a proc uses is bound in every deployable environment."""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Optional

import msgspec

from nexflow_core import ast
from nexflow_core.diagnostics import Diagnostic, Span, file_span
from nexflow_core.interface.model import EnvironmentSig, ProcSig

SECRET_WORDS = re.compile(
    r"(password|secret|token|credential|api_key|private_key|passphrase)", re.I
)
SECTIONS = (
    "kafka",
    "streams",
    "stores",
    "checkpoint",
    "state_backend",
    "parallelism",
    "max_parallelism",
    "buffer_timeout",
    "idle_timeout",
    "max_event_time_ahead",
    "max_event_time_behind",
    "delivery",
    "dead_letters",
    "schema_registry",
    "metrics",
    "logging",
)
KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL = ("PLAIN", "SCRAM_SHA_256", "SCRAM_SHA_512", "GSSAPI", "OAUTHBEARER")
STORE_TYPES = ("mongodb", "jdbc", "redis", "cassandra", "file", "memory", "kafka")
BACKENDS = ("rocksdb", "hashmap")
DELIVERY = ("exactly_once", "at_least_once")
# Where a Kafka source starts without a checkpoint (`start`), and where `committed` reads a
# partition its consumer group has no offset for (`start_fallback`).
STARTS = ("committed", "earliest", "latest")
START_FALLBACKS = ("earliest", "latest")
# How far a record's event time may be from the processing time (of an environment, or of a
# stream binding); a record beyond is a dead letter. Defaults in the runtime (StreamBindings):
# 1 hour ahead, no bound behind.
EVENT_TIME_BOUNDS = {"max_event_time_ahead": "ahead of", "max_event_time_behind": "behind"}
# What a stream binding may set: each is read by the generator or the runtime
# (StreamBindings); anything else would be passed to the job and never read (NX443).
STREAM_SETTINGS = (
    "topic", "file", "parallelism", "delivery", "idempotency_key", "transactional_id_prefix",
    "start", "start_fallback", "idle_timeout", "max_event_time_ahead", "max_event_time_behind",
    "pace_ms",
)  # fmt: skip
# Which side of a stream reads each setting (StreamBindings, Sources, Outputs and the Kafka
# source and sink of the job template): settings of a side the project never uses, or that a
# file binding's reader or writer ignores, have no effect (NX453). `parallelism` is read by
# both sides; the event-time bounds and `idle_timeout` by every source (file ones too).
SOURCE_SETTINGS = (
    "start", "start_fallback", "idle_timeout", "max_event_time_ahead", "max_event_time_behind",
    "pace_ms",
)  # fmt: skip
SINK_SETTINGS = ("delivery", "idempotency_key", "transactional_id_prefix")
# What only the Kafka source or sink reads: a file source starts at the file's first line, a
# file sink appends JSON lines (no transactions, no record key).
KAFKA_ONLY_SETTINGS = (
    "start", "start_fallback", "delivery", "idempotency_key", "transactional_id_prefix",
)  # fmt: skip
# Names users bring from other tools, and where Nexflow says the same thing.
_STREAM_SETTING_HINTS = {
    "consumer_group": "the consumer group is the job's (<environment>.<proc>); set another "
    "one for the whole job with group_id in the environment's kafka block",
    "group_id": "set group_id in the environment's kafka block: one consumer group per job",
    "start_offset": "start: committed | earliest | latest | \"<instant>\" says where a source "
    "begins without a checkpoint",
    "auto_offset_reset": "start_fallback: earliest | latest says where start: committed reads "
    "a partition its group has no offset for",
}
# Without any declaration a sink is written at least once: visible at once, keyed.
DEFAULT_DELIVERY = "at_least_once"
# What the L0 runtime's MongoStore needs of a `type: mongodb` binding, and how it may store
# decimals.
MONGODB_REQUIRED = ("uri", "database", "collection")
MONGODB_DECIMALS = ("decimal128", "string")
# Per-call bounds of a store (L0 runtime defaults: Stores.DEFAULT_READ_TIMEOUT_MILLIS and
# DEFAULT_WRITE_TIMEOUT_MILLIS), as the examples of NX521 spell them.
STORE_TIMEOUTS = {"read_timeout": "1 second", "write_timeout": "30 seconds"}
# The most answers a lookup cache may keep per parallel instance (Lookups' setting).
MAX_CACHE_ENTRIES = 999_999_999
_TRANSACTIONAL_PREFIX = re.compile(r"[A-Za-z0-9._-]{1,200}")
# Where the dead letters of a proc without `on error emit to <stream>` go.
DEAD_LETTER_STREAM = "dead_letter"
ALERTS_STREAM = "alerts"
ENVELOPE_KEY = "correlation_id"
# The key groups of keyed state (Flink's max parallelism) a cluster job gets when its environment
# sets none: Flink's own default for parallelism up to 85, written explicitly, so a job deployed
# before this default existed restores its state unchanged, and raising `parallelism` later
# cannot change it (which would make the state unreadable).
DEFAULT_MAX_PARALLELISM = 128
# Flink's upper bound on max parallelism (key groups).
MAX_MAX_PARALLELISM = 32768
# How many checkpoints in a row a cluster job's checkpoint block tolerates failing before the
# job restarts, when it says nothing (`checkpoint { tolerable_failures: n }`), at most: fewer
# when an exactly-once sink's transaction would outlive the producer's transaction timeout.
DEFAULT_TOLERABLE_CHECKPOINT_FAILURES = 3
# The producer's transaction timeout exactly-once sinks get (`kafka { transaction_timeout_ms }`)
# and Flink's own checkpoint timeout, for the bound on failed checkpoints in a row.
DEFAULT_TRANSACTION_TIMEOUT_MS = 900_000
FLINK_CHECKPOINT_TIMEOUT_MS = 600_000


def tolerable_checkpoint_failures(env: ResolvedEnvironment) -> Optional[int]:
    """The most checkpoints in a row that may fail while an exactly-once sink's transaction
    still commits: each failed attempt takes up to interval + timeout, the transaction holding
    what was written since the last completed checkpoint commits only with the next one to
    complete, and the broker aborts it after the transaction timeout (its records lost). None
    without a checkpoint interval."""
    interval = env.checkpoint.get("interval")
    if not isinstance(interval, ast.DurationLit):
        return None
    timeout = env.checkpoint.get("timeout")
    took = interval.millis + (
        timeout.millis if isinstance(timeout, ast.DurationLit) else FLINK_CHECKPOINT_TIMEOUT_MS
    )
    configured = env.kafka.get("transaction_timeout_ms")
    txn = configured.value if isinstance(configured, ast.IntLit) else DEFAULT_TRANSACTION_TIMEOUT_MS
    return max(0, (txn - 1) // took - 1)
# `checkpoint { storage: cluster }`: the Flink cluster's own configuration says where
# checkpoints go (a cluster whose execution.checkpointing.dir is set centrally).
CLUSTER_STORAGE = "cluster"


class Binding(msgspec.Struct, frozen=True):
    """One stream or store binding after inheritance: its settings by name."""

    name: str
    settings: dict[str, ast.Value]


class ResolvedEnvironment(msgspec.Struct, frozen=True):
    """An environment after merging its files and applying `extends`: what the generator
    reads (kafka settings, stream/store bindings, checkpoint, state backend, …)."""

    name: str
    extends: Optional[str]
    files: list[str]
    settings: dict[str, ast.Value]
    kafka: dict[str, ast.Value]
    checkpoint: dict[str, ast.Value]
    streams: dict[str, Binding]
    stores: dict[str, Binding]
    other: dict[str, dict[str, ast.Value]] = {}
    # The environment's first block (diagnostics about the whole environment point at it).
    span: Optional[Span] = None


class _Parts:
    def __init__(self) -> None:
        self.decls: list[ast.EnvironmentDecl] = []


def _err(
    diags: list[Diagnostic],
    code: str,
    msg: str,
    span: Span,
    expected: Optional[str] = None,
    hint: Optional[str] = None,
    related: Optional[Span] = None,
    severity: str = "error",
) -> None:
    diags.append(Diagnostic(code, severity, msg, span, expected, hint, related))


def _props(entries: list, diags: list[Diagnostic], where: str) -> dict[str, ast.Value]:
    out: dict[str, ast.Value] = {}
    spans: dict[str, Span] = {}
    for e in entries:
        if isinstance(e, ast.Property):
            if e.name in out:
                _err(
                    diags,
                    "NX202",
                    f"'{e.name}' is set twice in {where}",
                    e.span,
                    related=spans[e.name],
                )
            out[e.name] = e.value
            spans[e.name] = e.span
    return out


def check_values(env: ast.EnvironmentDecl, diags: list[Diagnostic]) -> None:
    """Per-declaration checks: sections, secrets, binding shapes."""
    for e in env.entries:
        _secrets(e, diags)
        if e.name not in SECTIONS:
            _err(
                diags,
                "NX505",
                f"unknown setting '{e.name}' in environment {env.name}",
                e.span,
                expected=", ".join(SECTIONS),
                severity="warning",
            )
            continue
        if e.name in ("streams", "stores"):
            if not isinstance(e, ast.Block):
                _err(
                    diags,
                    "NX505",
                    f"{e.name} is a block of bindings",
                    e.span,
                    expected=f"{e.name} {{ name {{ … }} }}",
                )
                continue
            for b in e.entries:
                if not isinstance(b, ast.Block):
                    _err(
                        diags,
                        "NX505",
                        f"'{b.name}' should be a block of settings",
                        b.span,
                        expected=f'{b.name} {{ topic: "…" }}',
                    )
                    continue
                _binding(e.name, b, diags)
        elif e.name == "kafka":
            if not isinstance(e, ast.Block):
                _err(diags, "NX505", "kafka is a block of settings", e.span, expected="kafka { … }")
                continue
            p = _props(e.entries, diags, "kafka")
            _symbol(p, "security_protocol", KAFKA_PROTOCOLS, diags)
            _symbol(p, "sasl_mechanism", SASL, diags)
            _kafka_tls(p, diags)
            if "brokers" in p and not isinstance(p["brokers"], (ast.StringLit, ast.ListValue)):
                _err(
                    diags,
                    "NX505",
                    'brokers is a text such as "host:9092"',
                    p["brokers"].span,
                    expected='"host:9092" or a list of them',
                )
        elif e.name == "checkpoint":
            if not isinstance(e, ast.Block):
                _err(
                    diags,
                    "NX505",
                    "checkpoint is a block of settings",
                    e.span,
                    expected="checkpoint { interval: 1 minute }",
                )
                continue
            p = _props(e.entries, diags, "checkpoint")
            for k in ("interval", "timeout", "min_pause"):
                if k in p and not isinstance(p[k], ast.DurationLit):
                    _err(
                        diags,
                        "NX505",
                        f"checkpoint {k} is a duration",
                        p[k].span,
                        expected="a duration such as 1 minute",
                    )
            _symbol(p, "mode", ("exactly_once", "at_least_once"), diags)
            _checkpoint_storage(p.get("storage"), diags)
            retain = p.get("retain_on_cancel")
            if retain is not None and not isinstance(retain, ast.BoolLit):
                _err(
                    diags,
                    "NX505",
                    "checkpoint retain_on_cancel is true or false",
                    retain.span,
                    expected="retain_on_cancel: true",
                )
            failures = p.get("tolerable_failures")
            if failures is not None and not (
                isinstance(failures, ast.IntLit) and failures.value >= 0
            ):
                _err(
                    diags,
                    "NX505",
                    "checkpoint tolerable_failures is a whole number of at least 0",
                    failures.span,
                    expected="tolerable_failures: 3",
                )
        elif e.name == "state_backend":
            if isinstance(e, ast.Property):
                _symbol({"state_backend": e.value}, "state_backend", BACKENDS, diags)
        elif e.name == "delivery":
            if not isinstance(e, ast.Property):
                _err(
                    diags,
                    "NX507",
                    "delivery is the environment's default guarantee for its sinks",
                    e.span,
                    expected="delivery: exactly_once | at_least_once",
                )
            else:
                _delivery(e.value, diags)
        elif e.name == "dead_letters":
            _dead_letters_block(e, diags)
        elif e.name == "buffer_timeout":
            if not isinstance(e, ast.Property) or not isinstance(e.value, ast.DurationLit):
                _err(
                    diags,
                    "NX505",
                    "buffer_timeout is how long a record may wait in a network buffer: a duration",
                    e.span,
                    expected="buffer_timeout: 5 milliseconds",
                )
        elif e.name == "idle_timeout":
            _idle_timeout(e.value if isinstance(e, ast.Property) else None, e.span, diags)
        elif e.name == "max_parallelism":
            if (
                not isinstance(e, ast.Property)
                or not isinstance(e.value, ast.IntLit)
                or not 1 <= e.value.value <= MAX_MAX_PARALLELISM
            ):
                _err(
                    diags,
                    "NX527",
                    f"max_parallelism is a whole number from 1 to {MAX_MAX_PARALLELISM}",
                    e.span,
                    expected="max_parallelism: 128",
                    hint="it is the number of key groups keyed state is split into; it cannot "
                    "change once the job has state",
                )
        elif e.name in EVENT_TIME_BOUNDS:
            value = e.value if isinstance(e, ast.Property) else None
            _event_time_bound(e.name, value, e.span, diags)
        elif e.name == "parallelism":
            if (
                not isinstance(e, ast.Property)
                or not isinstance(e.value, ast.IntLit)
                or e.value.value < 1
            ):
                _err(
                    diags,
                    "NX505",
                    "parallelism is a whole number of at least 1",
                    e.span,
                    expected="parallelism: 4",
                )


# TLS material of a store, by reference: trusted certificates (a trust store, or PEM CA
# certificates) and the client's certificate and key (a key store, for mutual TLS).
STORE_TLS_FILES = ("truststore", "keystore", "ca_file")
STORE_TLS = (
    *STORE_TLS_FILES,
    "truststore_password",
    "keystore_password",
    "truststore_type",
    "keystore_type",
)
# Kafka protocols without TLS: trust and key stores would be ignored.
KAFKA_CLEAR = ("PLAINTEXT", "SASL_PLAINTEXT")


def _tls_files(p: dict, names: tuple, what: str, diags: list[Diagnostic]) -> None:
    for k in names:
        v = p.get(k)
        if v is None or isinstance(v, ast.StringLit):
            continue
        if isinstance(v, ast.SecretRef) and v.kind == "file":
            continue
        _err(
            diags,
            "NX525",
            f"{k} of {what} is the path of a file on the task managers",
            v.span,
            expected=f'{k}: file("/etc/…")',
        )


def _store_tls(store: str, p: dict, diags: list[Diagnostic]) -> None:
    """`tls: true` with its material by reference (NX525 when it is not)."""
    tls = p.get("tls")
    if tls is not None and not isinstance(tls, ast.BoolLit):
        _err(
            diags,
            "NX525",
            f"tls of store {store} is true or false",
            tls.span,
            expected="tls: true",
        )
        return
    _tls_files(p, STORE_TLS_FILES, f"store {store}", diags)
    material = [k for k in STORE_TLS if k in p]
    if material and not (isinstance(tls, ast.BoolLit) and tls.value):
        _err(
            diags,
            "NX525",
            f"store {store} sets {', '.join(material)} but not tls: true, so they would be "
            "ignored",
            p[material[0]].span,
            expected="tls: true",
            hint="a connection to a store outside the job's host is encrypted: tls: true, "
            'and the certificates that sign the server\'s in truststore: file("…") or ca_file',
        )
    if "keystore" in p and "keystore_password" not in p:
        _err(
            diags,
            "NX525",
            f"store {store} has a keystore but no keystore_password",
            p["keystore"].span,
            expected='keystore_password: env("…") or file("…")',
        )


def _kafka_tls(p: dict, diags: list[Diagnostic]) -> None:
    _tls_files(p, ("truststore", "keystore"), "kafka", diags)
    protocol = p.get("security_protocol")
    if not isinstance(protocol, ast.Symbol) or protocol.name not in KAFKA_CLEAR:
        return
    material = [k for k in ("truststore", "keystore") if k in p]
    if material:
        _err(
            diags,
            "NX525",
            f"kafka sets {', '.join(material)} but security_protocol {protocol.name} has no "
            "TLS, so they would be ignored",
            protocol.span,
            expected="security_protocol: SSL or SASL_SSL",
        )


def _idle_timeout(v: Optional[ast.Value], span: Span, diags: list[Diagnostic]) -> None:
    if not isinstance(v, ast.DurationLit):
        _err(
            diags,
            "NX512",
            "idle_timeout is how long a source partition may send nothing before it stops "
            "holding event time back: a duration",
            v.span if v is not None else span,
            expected="idle_timeout: 30 seconds (0 seconds: never idle)",
        )


def _event_time_bound(
    name: str, v: Optional[ast.Value], span: Span, diags: list[Diagnostic]
) -> None:
    if not isinstance(v, ast.DurationLit):
        _err(
            diags,
            "NX528",
            f"{name} is how far {EVENT_TIME_BOUNDS[name]} the processing time a record's event "
            "time may be before the record is a dead letter (EVENT_TIME_OUT_OF_RANGE): a duration",
            v.span if v is not None else span,
            expected=f"{name}: 1 hour (0 seconds: no bound)",
        )


def _start(p: dict[str, ast.Value], diags: list[Diagnostic]) -> None:
    """`start`: committed | earliest | latest | "<ISO-8601 instant>"; `start_fallback` (for
    `committed` only): earliest | latest."""
    start = p.get("start")
    if start is not None:
        ok = isinstance(start, ast.Symbol) and start.name in STARTS
        if isinstance(start, ast.StringLit):
            ok = _is_instant(start.value)
        if not ok:
            _err(
                diags,
                "NX513",
                "start is where a Kafka source begins when the job has no checkpoint",
                start.span,
                expected='committed, earliest, latest or an instant such as "2026-01-31T00:00:00Z"',
            )
    fallback = p.get("start_fallback")
    if fallback is None:
        return
    if not isinstance(fallback, ast.Symbol) or fallback.name not in START_FALLBACKS:
        _err(
            diags,
            "NX513",
            "start_fallback is where a source reads a partition its consumer group has no "
            "offset for",
            fallback.span,
            expected="earliest or latest",
        )
    elif start is not None and not (isinstance(start, ast.Symbol) and start.name == "committed"):
        _err(
            diags,
            "NX513",
            "start_fallback applies only to start: committed",
            fallback.span,
            expected="start: committed (or no start_fallback)",
            related=start.span,
        )


def _is_instant(text: str) -> bool:
    """An ISO-8601 instant with a zone, as Java's Instant.parse reads it."""
    m = re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z", text)
    if m is None:
        return False
    try:
        datetime.strptime(text[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        return False
    return True


def _dead_letters_block(e: ast.Entry, diags: list[Diagnostic]) -> None:
    """`dead_letters { log_only: "<why>" }`: the one way to leave dead letters unbound in a
    deployable environment (NX516), with the reason in the environment itself (NX517)."""
    expected = 'dead_letters { log_only: "why dead letters need not be kept here" }'
    if not isinstance(e, ast.Block):
        _err(diags, "NX517", "dead_letters is a block of settings", e.span, expected=expected)
        return
    p = _props(e.entries, diags, "dead_letters")
    for name, v in p.items():
        if name != "log_only":
            _err(
                diags,
                "NX517",
                f"unknown setting '{name}' in dead_letters",
                v.span,
                expected=expected,
            )
    reason = p.get("log_only")
    if reason is None:
        _err(diags, "NX517", "dead_letters without log_only", e.span, expected=expected)
    elif not isinstance(reason, ast.StringLit) or not reason.value.strip():
        _err(
            diags,
            "NX517",
            "log_only is the reason this environment keeps no dead letters: a text",
            reason.span,
            expected=expected,
        )


def _checkpoint_storage(v: Optional[ast.Value], diags: list[Diagnostic]) -> None:
    """`storage` is a URI with a scheme (s3://, hdfs://, file:// on a shared volume) or
    `cluster`."""
    if v is None:
        return
    if isinstance(v, ast.Symbol) and v.name == CLUSTER_STORAGE:
        return
    if isinstance(v, ast.StringLit) and re.fullmatch(r"[a-z][a-z0-9+.-]*://\S+", v.value):
        return
    _err(
        diags,
        "NX526",
        "checkpoint storage is a URI of durable storage, or `cluster`",
        v.span,
        expected='storage: "s3://bucket/checkpoints/job" (or storage: cluster)',
    )


def cluster_job_environment(env: ResolvedEnvironment) -> bool:
    """Does `env` run jobs on a Flink cluster (it binds a stream to a Kafka topic), as opposed
    to a local run over files? Production defaults (NX516, NX526, NX527) hold for those."""
    return any("topic" in b.settings for b in env.streams.values())


def production_defaults(env: ResolvedEnvironment, diags: list[Diagnostic]) -> None:
    """NX526: a cluster environment that checkpoints says where to (durable storage: without
    it Flink keeps checkpoints in the JobManager's memory, and a JobManager failover loses
    them). NX527: max parallelism is at least every parallelism the environment sets (a job
    cannot run wider than its key groups)."""
    if not cluster_job_environment(env):
        return
    span = env.span or file_span(env.files[0] if env.files else "?")
    if env.checkpoint and "storage" not in env.checkpoint:
        _err(
            diags,
            "NX526",
            f"environment {env.name} checkpoints its cluster jobs but does not say where: "
            "Flink would keep the checkpoints in the JobManager's memory, lost with it",
            span,
            expected='checkpoint { storage: "s3://bucket/checkpoints/<job>" } (or storage: '
            "cluster, when the cluster's execution.checkpointing.dir is set)",
        )
    most = env.settings.get("max_parallelism")
    if most is not None and not (
        isinstance(most, ast.IntLit) and 1 <= most.value <= MAX_MAX_PARALLELISM
    ):
        return  # reported as it is (check_values)
    _tolerable_failures(env, diags)
    limit = most.value if isinstance(most, ast.IntLit) else DEFAULT_MAX_PARALLELISM
    wide: list[tuple[str, ast.Value]] = []
    par = env.settings.get("parallelism")
    if par is not None:
        wide.append(("parallelism", par))
    for name in sorted(env.streams):
        v = env.streams[name].settings.get("parallelism")
        if v is not None:
            wide.append((f"stream {name}'s parallelism", v))
    for what, v in wide:
        if isinstance(v, ast.IntLit) and v.value > limit:
            _err(
                diags,
                "NX527",
                f"environment {env.name}: {what} is {v.value}, above its max parallelism "
                f"{limit}" + ("" if most is not None else " (the default)"),
                v.span,
                expected=f"max_parallelism: {v.value} or more (fixed for the life of the state)",
            )


def _tolerable_failures(env: ResolvedEnvironment, diags: list[Diagnostic]) -> None:
    """NX529: more failed checkpoints in a row tolerated than an exactly-once sink survives."""
    failures = env.checkpoint.get("tolerable_failures")
    bound = tolerable_checkpoint_failures(env)
    if not isinstance(failures, ast.IntLit) or bound is None or failures.value <= bound:
        return
    _err(
        diags,
        "NX529",
        f"environment {env.name} tolerates {failures.value} failed checkpoints in a row, but an "
        f"exactly-once sink's transaction survives {bound}: with each attempt taking up to "
        "the checkpoint interval plus its timeout, the broker would abort the transaction "
        "before the next checkpoint commits it, and its records would be lost",
        failures.span,
        expected=f"tolerable_failures: {bound} or fewer, a shorter checkpoint timeout, or a "
        "longer kafka transaction_timeout_ms (within the brokers' transaction.max.timeout.ms)",
        severity="warning",
    )


def dead_letters_log_only(env: ResolvedEnvironment) -> bool:
    """Does `env` say its dead letters are only logged (`dead_letters { log_only: "…" }`)?"""
    reason = env.other.get("dead_letters", {}).get("log_only")
    return isinstance(reason, ast.StringLit) and bool(reason.value.strip())


def unbound_dead_letters(
    env: ResolvedEnvironment,
    proc: str,
    path: str,
    sources: Iterable[str],
    dead_letter: Optional[str],
) -> Optional[Diagnostic]:
    """NX516: a proc deployed from `env` (its sources are Kafka topics there: a cluster job, not
    a local or test run over files) must have somewhere to put its dead letters. A proc with
    `on error emit to <stream>` has that stream checked like every other (NX501); one without
    writes to the implicit `dead_letter` stream, which the environment must bind, unless it
    says `dead_letters { log_only: "<why>" }`."""
    if dead_letter is not None or DEAD_LETTER_STREAM in env.streams:
        return None
    if not any(s in env.streams and "topic" in env.streams[s].settings for s in sources):
        return None
    if dead_letters_log_only(env):
        return None
    return Diagnostic(
        "NX516",
        "error",
        f"environment {env.name} runs proc {proc} ({path}) on Kafka topics but does not "
        f"bind its dead letters: every record the proc rejects would only be logged",
        env.span or file_span(env.files[0] if env.files else path),
        f'streams {{ {DEAD_LETTER_STREAM} {{ topic: "…" }} }} (or `on error emit to <stream>` in '
        'the proc, bound here; or dead_letters { log_only: "<why>" })',
        "a dead letter holds the rejected record itself, so it can be inspected and replayed; "
        "a log line is not a place to keep records",
        file_span(path),
    )


def _symbol(p: dict, key: str, allowed: tuple, diags: list[Diagnostic]) -> None:
    v = p.get(key)
    if v is None:
        return
    if not isinstance(v, ast.Symbol) or v.name not in allowed:
        _err(
            diags,
            "NX505",
            f"{key} must be one of {', '.join(allowed)}",
            v.span,
            expected=", ".join(allowed),
        )


def _delivery(v: ast.Value, diags: list[Diagnostic]) -> None:
    if not isinstance(v, ast.Symbol) or v.name not in DELIVERY:
        _err(
            diags,
            "NX507",
            "unknown delivery guarantee",
            v.span,
            expected=" | ".join(DELIVERY),
            hint="exactly_once: transactional, visible when a checkpoint commits; "
            "at_least_once: visible at once, duplicates after a recovery carry the same key",
        )


def _stream_settings(b: ast.Block, diags: list[Diagnostic]) -> None:
    """NX443: a setting of a stream binding that nothing reads would pass silently."""
    for e in b.entries:
        if e.name in STREAM_SETTINGS:
            continue
        close = difflib.get_close_matches(e.name, STREAM_SETTINGS, n=1, cutoff=0.7)
        hint = _STREAM_SETTING_HINTS.get(e.name)
        if hint is None and close:
            hint = f"did you mean '{close[0]}'?"
        _err(
            diags,
            "NX443",
            f"'{e.name}' has no effect on stream {b.name}: no part of the job reads it",
            e.span,
            expected=", ".join(STREAM_SETTINGS),
            hint=hint,
            severity="warning",
        )


def _binding(section: str, b: ast.Block, diags: list[Diagnostic]) -> None:
    p = _props(b.entries, diags, b.name)
    if section == "streams":
        _stream_settings(b, diags)
        if "delivery" in p:
            _delivery(p["delivery"], diags)
        if "idle_timeout" in p:
            _idle_timeout(p["idle_timeout"], b.span, diags)
        for bound in EVENT_TIME_BOUNDS:
            if bound in p:
                _event_time_bound(bound, p[bound], b.span, diags)
        _start(p, diags)
        prefix = p.get("transactional_id_prefix")
        if prefix is not None and not (
            isinstance(prefix, ast.StringLit) and _TRANSACTIONAL_PREFIX.fullmatch(prefix.value)
        ):
            _err(
                diags,
                "NX514",
                "transactional_id_prefix is a text of letters, digits and . _ -",
                prefix.span,
                expected='transactional_id_prefix: "production.cards.auth-decisions"',
                hint="the prefix must stay the same across restarts of the job and differ "
                "from every other job's and environment's on the cluster",
            )
        key = p.get("idempotency_key")
        if key is not None and not isinstance(key, ast.Symbol):
            _err(
                diags,
                "NX508",
                "idempotency_key names a field of the stream's schema",
                key.span,
                expected="idempotency_key: <field>",
            )
        has = [k for k in ("topic", "file") if k in p]
        if len(has) != 1:
            _err(
                diags,
                "NX505",
                f"stream {b.name} needs exactly one of topic or file",
                b.span,
                expected='topic: "name.of.topic" (Kafka) or file: "path.jsonl" (local runs)',
            )
        for k in has:
            if not isinstance(p[k], ast.StringLit):
                _err(
                    diags,
                    "NX505",
                    f"{k} is a text in double quotes",
                    p[k].span,
                    expected=f'{k}: "…"',
                )
    else:
        t = p.get("type")
        if t is None:
            _err(
                diags,
                "NX505",
                f"store {b.name} needs a type",
                b.span,
                expected="type: " + " | ".join(STORE_TYPES),
            )
        else:
            _symbol(p, "type", STORE_TYPES, diags)
        _symbol(p, "decimals", MONGODB_DECIMALS, diags)
        _store_tls(b.name, p, diags)
        threads = p.get("threads")
        if threads is not None and (not isinstance(threads, ast.IntLit) or threads.value < 1):
            _err(
                diags,
                "NX505",
                "threads is a whole number of at least 1",
                threads.span,
                expected="threads: 4",
            )
        for k in STORE_TIMEOUTS:
            v = p.get(k)
            if v is not None and (not isinstance(v, ast.DurationLit) or v.millis < 1):
                _err(
                    diags,
                    "NX521",
                    f"{k} of store {b.name} is a duration of at least 1 millisecond",
                    v.span,
                    expected=f"{k}: {STORE_TIMEOUTS[k]}",
                )
        entries = p.get("cache_entries")
        if entries is not None and (
            not isinstance(entries, ast.IntLit) or not 1 <= entries.value <= MAX_CACHE_ENTRIES
        ):
            _err(
                diags,
                "NX522",
                f"cache_entries of store {b.name} is a whole number from 1 to {MAX_CACHE_ENTRIES}",
                entries.span,
                expected="cache_entries: 100000",
            )
    par = p.get("parallelism")
    if par is not None and (not isinstance(par, ast.IntLit) or par.value < 1):
        _err(
            diags,
            "NX505",
            "parallelism is a whole number of at least 1",
            par.span,
            expected="parallelism: 4",
        )


def _secrets(e: object, diags: list[Diagnostic]) -> None:
    """No credential is written in an .infra file: a setting named like a secret is a
    reference (NX503); no literal text carries one, inside a URI (NX523) or as an assignment
    such as a JAAS config's `password="…"` (NX524); references name a variable or an absolute
    file (NX213). Messages never repeat the credential."""
    if isinstance(e, ast.Block):
        for x in e.entries:
            _secrets(x, diags)
        return
    if not isinstance(e, ast.Property):
        return
    if SECRET_WORDS.search(e.name) and not isinstance(e.value, ast.SecretRef):
        _err(
            diags,
            "NX503",
            f"'{e.name}' looks like a secret but is written in the file",
            e.value.span,
            expected=f'{e.name}: env("VARIABLE") or file("/path")',
            hint="secrets are passed by reference and never copied into generated code",
        )
        return
    for v in _leaves(e.value):
        if isinstance(v, ast.SecretRef):
            _reference(e.name, v, diags)
        elif isinstance(v, ast.StringLit):
            _literal_credentials(e.name, v, diags)


def _leaves(v: ast.Value) -> list[ast.Value]:
    return [x for item in v.items for x in _leaves(item)] if isinstance(v, ast.ListValue) else [v]


# `scheme://user:password@host` (or `scheme://:password@host`): a password in a URI's userinfo.
URI_CREDENTIALS = re.compile(r"^([a-z][a-z0-9+.-]*://)([^/?#@\s]*):([^/?#@\s]+)@", re.I)
# `password="…"`, `password=…`, `token: …` inside a text (JAAS configs, query strings, DSNs).
ASSIGNED_CREDENTIAL = re.compile(
    r"(?<![a-z0-9])(password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|passphrase|"
    r"credentials?)\s*[=:]\s*(\"[^\"]+\"|'[^']+'|[^\s&;,\"']+)",
    re.I,
)
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _literal_credentials(name: str, v: ast.StringLit, diags: list[Diagnostic]) -> None:
    m = URI_CREDENTIALS.match(v.value)
    if m:
        shown = m.group(1) + (m.group(2) or "") + ":****@…"
        _err(
            diags,
            "NX523",
            f"'{name}' has a password inside its URI ({shown}), written in the file",
            v.span,
            expected=f'{name}: env("VARIABLE") or {name}: file("/run/secrets/…"), '
            "holding the whole URI",
            hint="a credential is never written in .infra or compiled into a job: the URI is "
            "read where the client connects (the task manager), from the environment or a file",
        )
        return
    m = ASSIGNED_CREDENTIAL.search(v.value)
    if m:
        _err(
            diags,
            "NX524",
            f"'{name}' carries a credential ({m.group(1)}=****) in its text, written in the file",
            v.span,
            expected="the credential as its own setting by reference, e.g. "
            'password: env("KAFKA_PASSWORD"), or the whole text as env("…") / file("…")',
            hint="a credential is never written in .infra or compiled into a job",
        )


def _reference(name: str, v: ast.SecretRef, diags: list[Diagnostic]) -> None:
    if v.kind == "env" and not ENV_NAME.match(v.ref):
        _err(
            diags,
            "NX213",
            f"'{name}': env(\"{v.ref}\") does not name an environment variable",
            v.span,
            expected='env("NAME") with letters, digits and _ (not starting with a digit)',
        )
    elif v.kind == "file" and not v.ref.startswith("/"):
        _err(
            diags,
            "NX213",
            f"'{name}': file(\"{v.ref}\") is not an absolute path",
            v.span,
            expected='file("/absolute/path"): the task manager reads it from its own disk, '
            "whatever its working directory",
        )


def _merge_block(
    into: dict, entries: list, diags: list[Diagnostic], env: str, section: str, spans: dict
) -> None:
    for b in entries:
        if isinstance(b, ast.Block):
            if b.name in into and spans.get(b.name) is not None:
                _err(
                    diags,
                    "NX202",
                    f"{section[:-1]} {b.name} is bound twice in environment {env}",
                    b.span,
                    related=spans[b.name],
                )
                continue
            into[b.name] = Binding(b.name, _props(b.entries, [], b.name))
            spans[b.name] = b.span


def nearest_scope(consumer_dir: str, declaring_dirs: Iterable[str]) -> Optional[str]:
    """The directory whose blocks of an environment a consumer in `consumer_dir` uses: the
    nearest of `declaring_dirs` that is `consumer_dir` itself or one of its ancestors. Sibling
    directories never mix, so two projects may each declare `production` in one repository."""
    best: Optional[str] = None
    for d in set(declaring_dirs):
        inside = d == "" or consumer_dir == d or consumer_dir.startswith(d.rstrip("/") + "/")
        if inside and (best is None or len(d) > len(best)):
            best = d
    return best


def scoped_environment_decls(
    decls: Iterable[ast.EnvironmentDecl], name: str, consumer_path: str
) -> list[ast.EnvironmentDecl]:
    """The blocks environment `name` means for the file `consumer_path`: those of the nearest
    declaring directory (nearest_scope), and, through `extends`, the parent's blocks by the same
    rule from the extending block's own directory. In source order."""
    by_name: dict[str, list[ast.EnvironmentDecl]] = {}
    for d in decls:
        by_name.setdefault(d.name, []).append(d)
    chosen: list[ast.EnvironmentDecl] = []
    seen: set[tuple[str, str]] = set()
    todo = [(name, posixpath.dirname(consumer_path))]
    while todo:
        wanted, where = todo.pop()
        candidates = by_name.get(wanted, [])
        scope = nearest_scope(where, (posixpath.dirname(d.span.file) for d in candidates))
        if scope is None or (wanted, scope) in seen:
            continue
        seen.add((wanted, scope))
        for d in candidates:
            if posixpath.dirname(d.span.file) == scope:
                chosen.append(d)
                if d.extends:
                    todo.append((d.extends, scope))
    return sorted(chosen, key=lambda d: (d.span.file, d.span.line))


def _one_directory_per_environment(
    decls: list[ast.EnvironmentDecl], diags: list[Diagnostic]
) -> list[ast.EnvironmentDecl]:
    """Whole-project checking keys environments by name alone, so blocks of one name from two
    directories would merge two unrelated environments: report NX510 and keep the blocks of the
    first directory only (never a silent mix)."""
    dirs: dict[str, list[str]] = {}
    for d in decls:
        where = posixpath.dirname(d.span.file)
        if where not in dirs.setdefault(d.name, []):
            dirs[d.name].append(where)
    kept = []
    reported = set()
    for d in decls:
        where = posixpath.dirname(d.span.file)
        if where == dirs[d.name][0]:
            kept.append(d)
        elif d.name not in reported:
            reported.add(d.name)
            listing = ", ".join(f"{x or '.'}/" for x in sorted(dirs[d.name]))
            _err(
                diags,
                "NX510",
                f"environment {d.name} is declared in several directories ({listing}); "
                "checking them together would merge unrelated environments",
                d.span,
                expected="one directory per environment name in one check",
                hint="check or build each project directory on its own, or rename one "
                "environment (a build system resolves each proc's environment to the nearest "
                "declaring directory)",
            )
    return kept


def resolve_environments(
    decls: list[ast.EnvironmentDecl],
    upstream: list[EnvironmentSig],
    diags: list[Diagnostic],
) -> dict[str, ResolvedEnvironment]:
    """Merge same-named blocks, then apply inheritance (child settings win). Blocks of one
    name must come from one directory (NX510); scoped_environment_decls selects them so."""
    decls = _one_directory_per_environment(decls, diags)
    groups: dict[str, list[ast.EnvironmentDecl]] = {}
    for d in decls:
        groups.setdefault(d.name, []).append(d)
    own: dict[str, ResolvedEnvironment] = {}
    extends: dict[str, Optional[str]] = {}
    first_span: dict[str, Span] = {}
    for name, ds in sorted(groups.items()):
        parents = sorted({d.extends for d in ds if d.extends})
        if len(parents) > 1:
            _err(
                diags,
                "NX506",
                f"environment {name} extends several parents: {', '.join(parents)}",
                ds[-1].span,
                expected="one parent",
            )
        extends[name] = parents[0] if parents else None
        first_span[name] = ds[0].span
        settings: dict = {}
        kafka: dict = {}
        checkpoint: dict = {}
        streams: dict = {}
        stores: dict = {}
        other: dict = {}
        sspans: dict = {}
        tspans: dict = {}
        for d in ds:
            for e in d.entries:
                if isinstance(e, ast.Property):
                    settings[e.name] = e.value
                elif e.name == "kafka":
                    kafka.update(_props(e.entries, [], "kafka"))
                elif e.name == "checkpoint":
                    checkpoint.update(_props(e.entries, [], "checkpoint"))
                elif e.name == "streams":
                    _merge_block(streams, e.entries, diags, name, "streams", sspans)
                elif e.name == "stores":
                    _merge_block(stores, e.entries, diags, name, "stores", tspans)
                else:
                    other.setdefault(e.name, {}).update(_props(e.entries, [], e.name))
        own[name] = ResolvedEnvironment(
            name,
            extends[name],
            sorted({d.span.file for d in ds}),
            settings,
            kafka,
            checkpoint,
            streams,
            stores,
            other,
            ds[0].span,
        )
    known = set(own) | {u.name for u in upstream}
    out: dict[str, ResolvedEnvironment] = {}

    def resolve(name: str, trail: list[str]) -> Optional[ResolvedEnvironment]:
        if name in out:
            return out[name]
        env = own.get(name)
        if env is None:
            return None
        parent = extends.get(name)
        if parent is None:
            out[name] = env
            return env
        if parent in trail:
            _err(
                diags,
                "NX506",
                f"environments extend each other in a circle: {' -> '.join([*trail, parent])}",
                first_span[name],
                expected="a chain that ends in an environment without extends",
            )
            out[name] = env
            return env
        if parent not in known:
            _err(
                diags,
                "NX212",
                f"environment {name} extends unknown environment '{parent}'",
                first_span[name],
                expected="the name of another environment",
            )
            out[name] = env
            return env
        base = resolve(parent, [*trail, name])
        if base is None:
            out[name] = env
            return env
        merged = ResolvedEnvironment(
            name,
            parent,
            env.files,
            {**base.settings, **env.settings},
            {**base.kafka, **env.kafka},
            {**base.checkpoint, **env.checkpoint},
            {**base.streams, **env.streams},
            {**base.stores, **env.stores},
            {**base.other, **env.other},
            env.span,
        )
        out[name] = merged
        return merged

    for name in sorted(own):
        resolve(name, [name])
    return out


def sink_delivery(
    env: ResolvedEnvironment, stream: str, declared: Optional[str] = None
) -> tuple[str, Optional[ast.Value], str]:
    """The delivery guarantee a sink of `env` gets, the setting that chose it (None when the
    proc or the built-in default did) and where it comes from: the stream's binding, else the
    proc's `emit to … <delivery>` (`declared`), else the environment's `delivery`, else
    at_least_once."""
    binding = env.streams.get(stream)
    chosen = binding.settings.get("delivery") if binding is not None else None
    if isinstance(chosen, ast.Symbol):
        return chosen.name, chosen, f"binding of {stream} in environment {env.name}"
    if declared is not None:
        return declared, None, "the proc's emit"
    default = env.settings.get("delivery")
    if isinstance(default, ast.Symbol):
        return default.name, default, f"default of environment {env.name}"
    return DEFAULT_DELIVERY, None, "the default"


def _check_delivery(
    env: ResolvedEnvironment,
    procs: list[tuple[ProcSig, str]],
    stream_fields: dict[str, Optional[list[str]]],
    diags: list[Diagnostic],
) -> None:
    """Idempotency keys are fields of their stream's schema; exactly-once sinks have
    checkpoints (a transaction commits only when a checkpoint completes)."""
    # Dead letters and alerts are JSON envelopes the runtime keys by their correlation id.
    envelopes = {DEAD_LETTER_STREAM, ALERTS_STREAM} | {
        sig.dead_letter for sig, _ in procs if sig.dead_letter is not None
    }
    for stream in sorted(env.streams):
        key = env.streams[stream].settings.get("idempotency_key")
        if not isinstance(key, ast.Symbol):
            continue
        if stream in envelopes:
            if key.name != ENVELOPE_KEY:
                _err(
                    diags,
                    "NX508",
                    f"{stream} carries dead letters or alerts, JSON envelopes keyed by their "
                    f"{ENVELOPE_KEY}: it cannot be keyed by '{key.name}'",
                    key.span,
                    expected=f"idempotency_key: {ENVELOPE_KEY}, or no idempotency_key",
                )
            continue
        fields = stream_fields.get(stream)
        if fields is not None and key.name not in fields:
            _err(
                diags,
                "NX508",
                f"idempotency_key '{key.name}' is not a field of stream {stream}'s schema",
                key.span,
                expected=", ".join(fields) if fields else "a field of the schema",
            )
    interval = env.checkpoint.get("interval")
    mode = env.checkpoint.get("mode")
    for sig, path in procs:
        if isinstance(mode, ast.Symbol) and mode.name == "at_least_once":
            for stream in sig.sinks:
                chosen, where, _ = sink_delivery(env, stream, sig.deliveries.get(stream))
                if chosen == "exactly_once":
                    diags.append(
                        at_least_once_checkpoints_with_exactly_once_sink(
                            env.name,
                            stream,
                            sig.name,
                            mode.span,
                            where.span if where is not None else file_span(path),
                        )
                    )
        if sig.checkpointed or interval is not None:
            continue
        for stream in sig.sinks:
            # Not `mode`: that is the checkpoint mode the next proc's NX511 check reads.
            chosen, where, _ = sink_delivery(env, stream, sig.deliveries.get(stream))
            if chosen == "exactly_once":
                diags.append(
                    exactly_once_without_checkpoints(
                        env.name, stream, sig.name, path, where.span if where else None
                    )
                )


def at_least_once_checkpoints_with_exactly_once_sink(
    env: str, stream: str, proc: str, mode: Span, sink: Span
) -> Diagnostic:
    """NX511: an exactly-once Kafka sink commits its transaction when a checkpoint completes;
    with at-least-once checkpoints (no barrier alignment) the committed state does not match
    what the transaction holds, so after a recovery records are written twice or lost."""
    return Diagnostic(
        "NX511",
        "error",
        f"environment {env} takes at-least-once checkpoints ({mode.file}:{mode.line}), but "
        f"stream {stream} of proc {proc} is written exactly once ({sink.file}:{sink.line})",
        mode,
        "checkpoint { mode: exactly_once }, or delivery: at_least_once for the stream",
        "an exactly-once sink is exactly once only with exactly-once checkpoints: with "
        "at_least_once a recovery replays records whose output a committed transaction holds",
        sink,
    )


def exactly_once_without_checkpoints(
    env: str, stream: str, proc: str, path: str, span: Optional[Span]
) -> Diagnostic:
    """NX509, from checking a project or (in unit builds, where the infra unit does not see
    the procs) from binding a proc to its environment."""
    return Diagnostic(
        "NX509",
        "error",
        f"stream {stream} is written exactly once in environment {env}, "
        f"but neither the environment nor proc {proc} ({path}) enables checkpoints",
        span or file_span(path),
        "checkpoint { interval: 1 minute } (or `checkpoint every …` in the proc)",
        "an exactly-once sink's records become visible only when a checkpoint commits; "
        "without checkpoints they never would",
    )


def check_bindings(
    envs: dict[str, ResolvedEnvironment],
    env_spans: dict[str, Span],
    procs: list[tuple[ProcSig, str]],
    declared_streams: set,
    declared_stores: set,
    diags: list[Diagnostic],
    stream_fields: Optional[dict[str, Optional[list[str]]]] = None,
    whole_project: bool = False,
) -> None:
    """Every stream/store any proc uses is bound in every deployable environment (one no
    other environment extends); bindings of undeclared names are flagged; delivery
    guarantees are consistent (see `_check_delivery`). `whole_project`: `procs` are all the
    procs there are (not a build unit's view), so a stream no proc reads is only written."""
    parents = {e.extends for e in envs.values() if e.extends}
    ineffective_seen: set[tuple[Span, str]] = set()
    for name in sorted(envs):
        env = envs[name]
        span = env_spans.get(name) or file_span(env.files[0] if env.files else "?")
        for b in sorted(env.streams):
            if declared_streams and b not in declared_streams and b != DEAD_LETTER_STREAM:
                _err(
                    diags,
                    "NX504",
                    f"environment {name} binds '{b}', which no schema file declares as a stream",
                    span,
                    expected="stream <name>: <Schema> in a .schema file",
                    severity="warning",
                )
        for b in sorted(env.stores):
            if declared_stores and b not in declared_stores:
                _err(
                    diags,
                    "NX504",
                    f"environment {name} binds store '{b}', which no schema file declares",
                    span,
                    expected="store <name>: <Schema> in a .schema file",
                    severity="warning",
                )
        if name in parents:
            continue
        _ineffective_settings(env, procs if whole_project else None, ineffective_seen, diags)
        _check_delivery(env, procs, stream_fields or {}, diags)
        production_defaults(env, diags)
        for b in sorted(env.stores):
            _check_mongodb(name, env.stores[b], span, diags)
        for sig, path in procs:
            unbound = unbound_dead_letters(env, sig.name, path, sig.sources, sig.dead_letter)
            if unbound is not None:
                diags.append(unbound)
            for s in sorted(set(sig.sources) | set(sig.sinks)):
                if s not in env.streams:
                    _err(
                        diags,
                        "NX501",
                        f"environment {name} does not bind stream '{s}' "
                        f"used by proc {sig.name} ({path})",
                        span,
                        expected=f'streams {{ {s} {{ topic: "…" }} }}',
                        related=file_span(path),
                    )
            for s in sig.stores:
                if s not in env.stores:
                    _err(
                        diags,
                        "NX502",
                        f"environment {name} does not bind store '{s}' "
                        f"used by proc {sig.name} ({path})",
                        span,
                        expected=f"stores {{ {s} {{ type: mongodb … }} }}",
                        related=file_span(path),
                    )


def _effective(is_file: bool, read: bool, written: bool) -> str:
    """The stream settings that do something for a binding (file or topic) of a stream known
    to be read and/or written (neither: not known), as NX453's `expected` lists them."""
    out = [
        k
        for k in STREAM_SETTINGS
        if k not in ("topic", "file")
        and not (is_file and k in KAFKA_ONLY_SETTINGS)
        and not (k in SOURCE_SETTINGS and written and not read)
        and not (k in SINK_SETTINGS and read and not written)
    ]
    return ", ".join(out)


def _ineffective_settings(
    env: ResolvedEnvironment,
    procs: Optional[list[tuple[ProcSig, str]]],
    seen: set[tuple[Span, str]],
    diags: list[Diagnostic],
) -> None:
    """NX453: a setting of a stream binding that the binding's kind or the stream's use makes
    pointless. `procs` None: not every proc is known, so only the binding's kind is judged.
    A setting inherited by several environments is reported once."""
    readers: dict[str, list[str]] = {}
    writers: dict[str, list[str]] = {}
    exactly_once: set[str] = set()
    for sig, _path in procs or []:
        for st in sig.sources:
            readers.setdefault(st, []).append(sig.name)
        # Every job may write dead letters and alerts (its rules' `emit alert`).
        for st in [*sig.sinks, sig.dead_letter or DEAD_LETTER_STREAM, ALERTS_STREAM]:
            writers.setdefault(st, []).append(sig.name)
        exactly_once.update(st for st, d in sig.deliveries.items() if d == "exactly_once")
    for stream in sorted(env.streams):
        settings = env.streams[stream].settings
        is_file = "file" in settings and "topic" not in settings
        read, written = stream in readers, stream in writers
        for key in sorted(settings):
            v = settings[key]
            why: Optional[str] = None
            hint: Optional[str] = None
            if is_file and key in KAFKA_ONLY_SETTINGS:
                side = "source" if key in SOURCE_SETTINGS else "sink"
                why = (
                    f"{stream} is bound to a file, and only a Kafka {side} reads {key}"
                    + (" (a file source reads from the file's first line)" if side == "source"
                       else " (a file sink appends JSON lines: no transactions, no record key)")
                )  # fmt: skip
                hint = f"remove {key}, or bind {stream} to a topic"
            elif procs is not None and key in SOURCE_SETTINGS and written and not read:
                names = ", ".join(sorted(set(writers[stream])))
                why = f"no proc reads {stream} (it is only written, by {names}), and {key} " \
                    "is a setting of a stream's source"  # fmt: skip
                hint = f"set {key} on the binding of the stream the procs read"
            elif procs is not None and key in SINK_SETTINGS and read and not written:
                names = ", ".join(sorted(set(readers[stream])))
                why = f"no proc writes {stream} (it is only read, by {names}), and {key} is " \
                    "a setting of a stream's sink"  # fmt: skip
                hint = f"set {key} on the binding of the stream the procs emit to"
            elif (
                procs is not None
                and key == "transactional_id_prefix"
                and stream in writers
                and stream not in exactly_once
                and sink_delivery(env, stream)[0] != "exactly_once"
            ):
                why = (
                    f"{stream} is written at_least_once, and only an exactly_once Kafka sink "
                    "uses transactions"
                )
                hint = f"delivery: exactly_once on {stream} if its records must not repeat"
            if why is None or (v.span, key) in seen:
                continue
            seen.add((v.span, key))
            _err(
                diags,
                "NX453",
                f"'{key}' has no effect on stream {stream} in environment {env.name}: {why}",
                v.span,
                expected=f"a setting {stream} uses here: "
                + _effective(is_file, procs is not None and read, procs is not None and written),
                hint=hint,
                severity="warning",
            )


def _check_mongodb(env: str, b: Binding, span: Span, diags: list[Diagnostic]) -> None:
    """A deployable `type: mongodb` binding has everything the runtime's client needs (after
    merging the environment's blocks and `extends`, so the settings may come from several files)."""
    kind = b.settings.get("type")
    if not isinstance(kind, ast.Symbol) or kind.name != "mongodb":
        return
    missing = [k for k in MONGODB_REQUIRED if k not in b.settings]
    if missing:
        _err(
            diags,
            "NX505",
            f"environment {env}: mongodb store {b.name} needs {', '.join(missing)}",
            kind.span,
            expected='uri: env("MONGO_URI")  database: "…"  collection: "…"',
        )
    for k in MONGODB_REQUIRED:
        v = b.settings.get(k)
        if v is None:
            continue
        ok = isinstance(v, ast.StringLit) or (k == "uri" and isinstance(v, ast.SecretRef))
        if not ok:
            _err(
                diags,
                "NX505",
                f"{k} of mongodb store {b.name} is a text in double quotes"
                + (' or a secret (env("…"), file("…"))' if k == "uri" else ""),
                v.span,
                expected=f'{k}: env("MONGO_URI")' if k == "uri" else f'{k}: "…"',
            )
