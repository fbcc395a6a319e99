"""How a Flink job reads and writes its streams and stores (job/io.j2, and the partner reads of
keyed.j2 and join.j2): which transports the job's code can bind a stream to (files only, or
Kafka or files, chosen per stream at start), which key a Kafka record and a persisted document
get, and the runtime's constant for each failure policy. One method per kind; any other is an
error, never a stream silently read or written some other way."""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from nexflow_core.generate import model


class TransportJava(NamedTuple):
    # The macros of job/io.j2 reading the source, reading a partner stream, writing a sink and
    # writing the dead letters' and alerts' lines.
    source: str
    partner: str
    sink: str
    lines: str
    # The job's code includes the Kafka connector (imports and classes).
    kafka: bool


class Transports:
    def java(self, job: model.Job) -> TransportJava:
        return self.transport_kafka_or_files() if job.uses_kafka else self.transport_files()

    def transport_kafka_or_files(self) -> TransportJava:
        # Bound to an environment with Kafka: each stream is Kafka or a file, at start.
        return TransportJava(
            "source_kafka_or_file", "partner_kafka_or_file", "sink_kafka_or_file",
            "lines_kafka_or_file", True,
        )  # fmt: skip

    def transport_files(self) -> TransportJava:
        return TransportJava("source_file", "partner_file", "sink_file", "lines_file", False)


transport_java = Transports().java


def kafka_key(o: model.Output) -> str:
    """The macro writing the Kafka record key of `o`'s records."""
    if o.idempotency_key is None:
        return "key_correlation_id"
    # A @sensitive idempotency key: its token, never its value.
    return "key_token" if o.idempotency_sensitive else "key_idempotency"


def persist_key(p: model.Persist) -> str:
    """The macro writing the key a persisted record is upserted under."""
    return "persist_key_field" if p.key_field else "persist_key_correlation_id"


class Policies:
    """The runtime's constant for each `on lookup_error` / `on persist_error` policy the model
    carries; one method per policy, raising on any other."""

    def lookup(self, policy: str) -> str:
        return self._constant("lookup_", "Lookups.OnLookupError.", policy)

    def persist(self, policy: str) -> str:
        return self._constant("persist_", "Stores.OnPersistError.", policy)

    def _constant(self, prefix: str, enum: str, policy: str) -> str:
        method: Optional[Callable[[], str]] = getattr(self, prefix + policy, None)
        if method is None:
            raise ValueError(f"the Flink runtime has no {prefix}error policy {policy!r}")
        return enum + method()

    def lookup_continue(self) -> str:
        return "CONTINUE"

    def lookup_dead_letter(self) -> str:
        return "DEAD_LETTER"

    def lookup_fail(self) -> str:
        return "FAIL"

    def persist_dead_letter(self) -> str:
        return "DEAD_LETTER"

    def persist_fail(self) -> str:
        return "FAIL"


on_lookup_error = Policies().lookup
on_persist_error = Policies().persist
