"""A real single-node Kafka broker (KRaft, combined broker+controller) on loopback, and a client.

The broker is `3rdparty/jvm/kafka:kafka-broker`, a deploy_jar of `org.apache.kafka:kafka_2.13`
from Maven Central (own resolve `kafka-broker`). A test target gets it with
`runtime_package_dependencies=["3rdparty/jvm/kafka:kafka-broker"]`; the jar then sits at
`3rdparty.jvm.kafka/kafka-broker.jar` in the test's sandbox.

The client side is kafka-python (pure Python): topics, JSON producers (also transactional) and
consumers that read everything visible up to the end of a topic, `read_committed` by default.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

from tests.e2e.infra import procs
from tests.e2e.infra.procs import InfraError
from tests.e2e.infra.watchdog import start_watchdog

BROKER_JAR = Path("3rdparty.jvm.kafka/kafka-broker.jar")
BROKER_TARGET = "3rdparty/jvm/kafka:kafka-broker"
NODE_ID = 1

# Per the brief for tests: small, deterministic, fast. Transaction timeouts keep Kafka's
# production defaults on purpose, so a job whose transaction.timeout.ms exceeds what a real broker
# allows (15 min) fails here too.
BROKER_SETTINGS: dict[str, str] = {
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "transaction.max.timeout.ms": "900000",
    "num.partitions": "1",
    "default.replication.factor": "1",
    "min.insync.replicas": "1",
    # Topics must be created by the test (create_topic), so a misspelt topic fails loudly.
    "auto.create.topics.enable": "false",
    "log.segment.bytes": str(1024 * 1024),
    "log.retention.check.interval.ms": "60000",
    "num.network.threads": "2",
    "num.io.threads": "2",
    "background.threads": "2",
}

HEAP_OPTIONS = ["-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]
LOG_OPTIONS = [
    "-Djava.awt.headless=true",
    # slf4j-simple (the broker jar's logging binding): timestamps, INFO, one log file per broker.
    "-Dorg.slf4j.simpleLogger.showDateTime=true",
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
    "-Dorg.slf4j.simpleLogger.log.state.change.logger=warn",
]


def find_broker_jar() -> Path:
    for candidate in (BROKER_JAR, Path("dist") / BROKER_JAR):
        if candidate.is_file():
            return candidate.resolve()
    raise InfraError(
        f"{BROKER_JAR} is not in the test sandbox: give the test target "
        f'runtime_package_dependencies=["{BROKER_TARGET}"] (or `./pants package {BROKER_TARGET}` '
        "and run pytest from the repository root)."
    )


def random_cluster_id() -> str:
    """What `kafka-storage random-uuid` prints: a UUID in URL-safe base64, no padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    partition: int
    offset: int
    key: Optional[str]
    value: Any
    headers: dict[str, bytes]
    timestamp: int


KeySpec = Union[None, str, Callable[[Any], Optional[str]]]
TimestampSpec = Union[None, str, Callable[[Any], Optional[int]]]


class KafkaBroker:
    """One broker process. `start()` formats storage and waits until it answers; `stop()` always."""

    def __init__(self, jar: Path, workdir: Path, java_home: Optional[Path] = None) -> None:
        self.jar = jar
        self.workdir = workdir
        self.java_home = java_home or procs.java_home()
        self.owner = procs.new_owner_mark("kafka")
        self.broker_port, self.controller_port = procs.free_ports(2)
        self.bootstrap_servers = f"{procs.LOOPBACK}:{self.broker_port}"
        self.cluster_id = random_cluster_id()
        self.data_dir = workdir / "data"
        self.config_path = workdir / "server.properties"
        self.log_path = workdir / "broker.log"
        self.start_seconds: Optional[float] = None
        self._process = None
        self._watchdog = None
        self._admin = None

    # -- lifecycle ---------------------------------------------------------------------------

    def server_properties(self) -> dict[str, str]:
        props = {
            "process.roles": "broker,controller",
            "node.id": str(NODE_ID),
            "controller.quorum.voters": f"{NODE_ID}@{procs.LOOPBACK}:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://{procs.LOOPBACK}:{self.broker_port},"
                f"CONTROLLER://{procs.LOOPBACK}:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://{procs.LOOPBACK}:{self.broker_port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
        }
        props.update(BROKER_SETTINGS)
        return props

    def _java(self) -> str:
        return str(self.java_home / "bin" / "java")

    def _diagnostics(self) -> str:
        return procs.tail(self.log_path)

    def start(self, timeout: float = 90.0) -> None:
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            "".join(f"{k}={v}\n" for k, v in self.server_properties().items()), "utf-8"
        )
        env = procs.child_env(self.owner, {"JAVA_HOME": str(self.java_home)})
        self._watchdog = start_watchdog(os.getpid(), self.owner, env, self.workdir / "watchdog.log")

        # `kafka-storage format`: Kafka 4.x keeps StorageTool in core as kafka.tools.StorageTool.
        fmt = procs.spawn(
            [self._java(), "-Xmx256m", *LOG_OPTIONS, "-cp", str(self.jar),
             # `--cluster-id=<id>`: an id may start with "-" (URL-safe base64), which the
             # tool's parser would take for an option if it were a separate argument.
             "kafka.tools.StorageTool", "format", f"--cluster-id={self.cluster_id}",
             "--config", str(self.config_path), "--ignore-formatted"],
            env=env,
            log=self.workdir / "format.log",
        )
        try:
            code = fmt.wait(timeout=60)
        except Exception:
            procs.terminate([fmt.pid], grace=1)
            raise
        if code != 0:
            raise InfraError(
                f"kafka StorageTool format exited with {code}\n"
                + procs.tail(self.workdir / "format.log")
            )

        self._process = procs.spawn(
            [self._java(), *HEAP_OPTIONS, *LOG_OPTIONS, "-cp", str(self.jar), "kafka.Kafka",
             str(self.config_path)],
            env=env,
            log=self.log_path,
        )
        procs.wait_until(
            lambda: procs.port_open(self.broker_port),
            timeout=timeout,
            what=f"Kafka broker listening on {self.bootstrap_servers}",
            diagnostics=self._diagnostics,
            give_up=self._exited,
        )
        remaining = max(10.0, timeout - (time.monotonic() - started))
        procs.wait_until(
            self._answers,
            timeout=remaining,
            what=f"Kafka broker at {self.bootstrap_servers} answering metadata requests",
            diagnostics=self._diagnostics,
            give_up=self._exited,
            interval=0.3,
        )
        self.start_seconds = time.monotonic() - started

    def _exited(self) -> Optional[str]:
        if self._process is not None and self._process.poll() is not None:
            return f"the broker process exited with {self._process.returncode}"
        return None

    def _answers(self) -> bool:
        cluster = self.admin().describe_cluster()
        return bool(cluster.get("brokers")) and cluster.get("controller_id") is not None

    def stop(self, grace: float = 20.0) -> None:
        """Stop the broker (SIGTERM, SIGKILL after `grace` s) and anything else it left."""
        try:
            if self._admin is not None:
                try:
                    self._admin.close()
                except Exception:
                    pass
                self._admin = None
        finally:
            procs.stop_service(self._process, self._watchdog, self.owner, grace)

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process else None

    # -- clients -------------------------------------------------------------------------------

    def admin(self):
        from kafka import KafkaAdminClient

        if self._admin is None:
            self._admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                client_id="nexflow-e2e-admin",
                request_timeout_ms=10000,
            )
        return self._admin

    def create_topic(
        self, name: str, partitions: int = 1, config: Optional[Mapping[str, str]] = None
    ) -> str:
        """Create `name` and wait until every partition has a leader; returns the name."""
        self.admin().create_topics(
            {
                name: {
                    "num_partitions": partitions,
                    "replication_factor": 1,
                    "configs": dict(config or {}),
                }
            },
            timeout_ms=30000,
            wait_for_metadata=True,
        )
        return name

    def unique_topic(self, prefix: str, partitions: int = 1, **config: str) -> str:
        """Create a topic named `<prefix>-<random>` and return its name.

        Tests sharing the session's broker never collide this way.
        """
        return self.create_topic(f"{prefix}-{uuid.uuid4().hex[:8]}", partitions, config)

    def topics(self) -> list[str]:
        return sorted(self.admin().list_topics())

    def producer(self, transactional_id: Optional[str] = None, **config: Any):
        """A KafkaProducer whose values are JSON (dict → UTF-8 bytes) and keys strings.

        With `transactional_id` it is transactional: `init_transactions()` has been called, so use
        `begin_transaction()` / `commit_transaction()` / `abort_transaction()`. Close it when done
        (or use `with broker.producer(...) as p:`).
        """
        from kafka import KafkaProducer

        settings: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "value_serializer": _JsonSerializer(),
            "key_serializer": _StringSerializer(),
            "acks": "all",
            "linger_ms": 5,
        }
        if transactional_id:
            settings["transactional_id"] = transactional_id
            settings["enable_idempotence"] = True
        settings.update(config)
        producer = KafkaProducer(**settings)
        if transactional_id:
            producer.init_transactions()
        return producer

    def produce_json(
        self,
        topic: str,
        records: Iterable[Any],
        *,
        key: KeySpec = None,
        timestamp_ms: TimestampSpec = None,
        partition: Optional[int] = None,
        transactional_id: Optional[str] = None,
        timeout: float = 30.0,
    ) -> int:
        """Write `records` as JSON values (all acknowledged before returning); returns the count.

        `key` is a field name of each record, a function of the record, or None (no key).
        `timestamp_ms` sets the Kafka record timestamp (epoch milliseconds) the same way: a field
        name, a function of the record, or None (the producer's clock).
        With `transactional_id`, all records go out in one committed transaction.
        """
        key_of = _key_function(key)
        timestamp_of = _timestamp_function(timestamp_ms)
        with self.producer(transactional_id) as producer:
            if transactional_id:
                producer.begin_transaction()
            futures = [
                producer.send(
                    topic,
                    value=r,
                    key=key_of(r),
                    partition=partition,
                    timestamp_ms=timestamp_of(r),
                )
                for r in records
            ]
            producer.flush(timeout=timeout)
            for f in futures:
                f.get(timeout=timeout)
            if transactional_id:
                producer.commit_transaction()
        return len(futures)

    def produce_lines(
        self, topic: str, lines: Iterable[str], *, partition: Optional[int] = None,
        timeout: float = 30.0,
    ) -> int:
        """Write each text line as one record value (UTF-8, no key), in order, all acknowledged.

        For input that is not JSON (dead-letter tests) or whose exact text matters.
        """
        with self.producer(value_serializer=_serializer(lambda v: v.encode("utf-8"))) as producer:
            futures = [producer.send(topic, value=line, partition=partition) for line in lines]
            producer.flush(timeout=timeout)
            for f in futures:
                f.get(timeout=timeout)
        return len(futures)

    def consume(
        self,
        topic: str,
        *,
        min_records: Optional[int] = None,
        timeout: float = 30.0,
        isolation_level: str = "read_committed",
        raw: bool = False,
    ) -> list[KafkaRecord]:
        """Every record of `topic` visible now, from the start, in (partition, offset) order.

        Visible means up to the end offsets taken when the read starts — with `read_committed`,
        the last stable offset, so records of open or aborted transactions are never returned.
        With `min_records`, first wait (up to `timeout` s) until at least that many are visible,
        then read to the end: extra records (duplicates!) are returned, not hidden.
        Values are parsed as JSON unless `raw`.
        """
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            isolation_level=isolation_level,
            auto_offset_reset="earliest",
            client_id="nexflow-e2e-consumer",
        )
        try:
            partitions = procs.wait_until(
                lambda: consumer.partitions_for_topic(topic),
                timeout=30,
                what=f"metadata of topic {topic}",
                diagnostics=lambda: f"topics on the broker: {self.topics()}",
            )
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            if min_records is not None:
                deadline = time.monotonic() + timeout
                while True:
                    ends = consumer.end_offsets(tps)
                    beginnings = consumer.beginning_offsets(tps)
                    # Offsets also count transaction markers and aborted records, so this is an
                    # upper bound; the exact count is checked after reading.
                    if sum(ends[tp] - beginnings[tp] for tp in tps) >= min_records:
                        records = self._read_to(consumer, tps, ends, raw, deadline)
                        if len(records) >= min_records:
                            return records
                        consumer.seek_to_beginning(*tps)
                    if time.monotonic() >= deadline:
                        seen = self._read_to(consumer, tps, consumer.end_offsets(tps), raw,
                                             time.monotonic() + 10)
                        raise InfraError(
                            f"topic {topic}: expected at least {min_records} {isolation_level} "
                            f"records within {timeout:.0f} s, found {len(seen)}: "
                            f"{[r.value for r in seen][:20]}"
                        )
                    time.sleep(0.2)
            ends = consumer.end_offsets(tps)
            return self._read_to(consumer, tps, ends, raw, time.monotonic() + timeout)
        finally:
            consumer.close()

    def consume_json(self, topic: str, **kwargs: Any) -> list[Any]:
        """The values of `consume(topic, ...)`: parsed JSON, in (partition, offset) order."""
        return [r.value for r in self.consume(topic, **kwargs)]

    @staticmethod
    def _read_to(consumer, tps, ends, raw: bool, deadline: float) -> list[KafkaRecord]:
        records: list[KafkaRecord] = []
        pending = {tp for tp in tps if consumer.position(tp) < ends[tp]}
        while pending:
            if time.monotonic() >= deadline:
                raise InfraError(
                    f"reading to the end offsets {dict((str(tp), ends[tp]) for tp in tps)} "
                    f"did not finish; positions: "
                    f"{dict((str(tp), consumer.position(tp)) for tp in tps)}"
                )
            batch = consumer.poll(timeout_ms=500)
            for tp, messages in batch.items():
                for m in messages:
                    if m.offset >= ends[tp]:
                        continue
                    value = m.value if raw or m.value is None else json.loads(m.value)
                    records.append(
                        KafkaRecord(
                            topic=m.topic,
                            partition=m.partition,
                            offset=m.offset,
                            key=None if m.key is None else m.key.decode("utf-8"),
                            value=value,
                            headers={k: v for k, v in (m.headers or [])},
                            timestamp=m.timestamp,
                        )
                    )
            # Records past the end offset (produced meanwhile) may arrive too: skipped above.
            pending = {tp for tp in pending if consumer.position(tp) < ends[tp]}
        records.sort(key=lambda r: (r.partition, r.offset))
        return records


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _serializer(function: Callable[[Any], Optional[bytes]]):
    from kafka.serializer import Serializer

    class _Wrapped(Serializer):
        def serialize(self, topic, headers, data):
            return None if data is None else function(data)

    return _Wrapped()


def _JsonSerializer():
    return _serializer(_json_bytes)


def _StringSerializer():
    return _serializer(lambda k: str(k).encode("utf-8"))


def _key_function(key: KeySpec) -> Callable[[Any], Optional[str]]:
    if key is None:
        return lambda _r: None
    if isinstance(key, str):
        field = key
        return lambda r: None if r.get(field) is None else str(r[field])
    return key


def _timestamp_function(spec: TimestampSpec) -> Callable[[Any], Optional[int]]:
    if spec is None:
        return lambda _r: None
    if isinstance(spec, str):
        field = spec
        return lambda r: None if r.get(field) is None else int(r[field])
    return spec


@contextmanager
def running_broker(jar: Path, workdir: Path) -> Iterator[KafkaBroker]:
    """Start a broker for the duration of a `with` block (the session fixture uses this)."""
    broker = KafkaBroker(jar, workdir)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
