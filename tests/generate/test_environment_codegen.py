"""L5 environments bound into generated jobs: the settings a job starts from (proc, then
environment, then program arguments, each overriding the one before), Kafka client properties
with secrets only as references that the Kafka client resolves at run time, per-sink delivery,
and the seed's PaymentProcessor (production environment, Kafka) compiling against Flink and the
official Kafka connector. One JVM, no broker: building a job graph with Kafka sources and sinks
connects to nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.syntax import parse_source
from tests.generate import javatools

HARNESS = Path(__file__).parent / "java" / "ConfigHarness.java"
PACKAGE = "gen.env"

SCHEMA = """
schema Payment {
    id: string @key
    card: string
    amount: decimal(10,2)
    at: datetime @event_time
}
stream payments: Payment
stream approved: Payment
stream audit: Payment
"""

PROC = """
proc Authorize {
    parallelism 2
    checkpoint every 30 seconds exactly_once
    from payments
    emit to approved at_least_once idempotency_key card
    emit to audit exactly_once
}
"""


def infra(secret_dir: Path) -> str:
    return f"""
environment base {{
    kafka {{
        security_protocol: SASL_SSL
        sasl_mechanism: SCRAM_SHA_512
        username: env("NX_KAFKA_USER")
        password: env("NX_KAFKA_PASSWORD")
        truststore: file("/etc/kafka/truststore.jks")
        truststore_password: file("{secret_dir}/truststore.pass")
        acks: "all"
    }}
    streams {{
        payments {{ topic: "base.payments" parallelism: 4 }}
    }}
}}

environment prod extends base {{
    parallelism: 6
    state_backend: hashmap
    kafka {{ brokers: ["b1:9093", "b2:9093"] }}
    checkpoint {{
        interval: 1 minute
        mode: exactly_once
        timeout: 10 minutes
        storage: "s3://prod-checkpoints/payments"
    }}
    streams {{
        payments {{ topic: "prod.payments" parallelism: 8 }}
        approved {{ topic: "prod.approved" }}
        audit {{ topic: "prod.audit" }}
        dead_letter {{ topic: "prod.dead_letter" }}
    }}
}}
"""


SEED = [
    "examples/payments/payment_event.schema",
    "examples/payments/streams.schema",
    "examples/payments/payments.rules",
    "examples/payments/payment_processor.proc",
    "examples/payments/production.infra",
    "examples/payments/production_sinks.infra",
]

PASSWORD = "pa55-w0rd-from-env"
TRUSTSTORE_PASSWORD = "trust-me-from-a-file"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("env")
    secrets = root / "secrets"
    secrets.mkdir()
    (secrets / "truststore.pass").write_text(TRUSTSTORE_PASSWORD, "utf-8")
    sources = {"pay.schema": SCHEMA, "authorize.proc": PROC, "envs.infra": infra(secrets)}
    files = javatools.generate_sources(sources, PACKAGE, root / "a", environment="prod")
    seed_units = []
    for p in SEED:
        text = Path(p).read_text("utf-8")
        seed_units.append(Unit(parse_source(text, p), "nexflow.examples.payments", text))
    seed = generate(seed_units, [], TARGETS["flink"], "production")
    seed_dir = root / "seed"
    for f in seed:
        (seed_dir / f.path).parent.mkdir(parents=True, exist_ok=True)
        (seed_dir / f.path).write_text(f.content, "utf-8")
    classes = root / "classes"
    javatools.javac(files + sorted(seed_dir.rglob("*.java")), classes, [HARNESS])

    job = f"{PACKAGE}.AuthorizeJob"
    groups = [
        [job, "--stream.dead_letter=kafka:prod.dead_letters"],
        [job, "--stream.payments=file:/data/p.jsonl", "--flink.parallelism.default=3",
         "--kafka.bootstrap.servers=local:9092", "--stream.audit.parallelism=1"],
        ["nexflow.examples.payments.PaymentProcessorJob"],
        ["nexflow.examples.payments.PaymentProcessorJob",
         "--store.transaction_store=memory:txs"],
        ["nexflow.examples.payments.PaymentProcessorJob",
         "--store.transaction_store.collection="],
        ["nexflow.examples.payments.PaymentProcessorJob",
         "--store.transaction_store=redis:txs"],
        # Where a source starts: an instant, and a value that is none of the known ones.
        [job, "--stream.payments.start=2026-01-31T00:00:00Z", "--stream.payments.idle_timeout=0"],
        [job, "--stream.payments.start=yesterday"],
        [job, "--stream.payments.start_fallback=none"],
        # Another environment's arguments, and this environment's own.
        [job, "--nexflow.environment=base", "--stream.payments=kafka:base.payments"],
        [job, "--nexflow.environment=prod"],
    ]  # fmt: skip
    args = [a for g in groups for a in [*g, "--next"]][:-1]
    env = dict(os.environ, NX_KAFKA_USER="alice", NX_KAFKA_PASSWORD=PASSWORD,
               KAFKA_USERNAME="bob", KAFKA_PASSWORD=PASSWORD)  # fmt: skip
    result = subprocess.run(
        [str(javatools.java_home() / "bin" / "java"), "-cp",
         f"{classes}{os.pathsep}{javatools.classpath()}", "ConfigHarness", *args],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    outputs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    java = {p.name: p.read_text("utf-8") for p in files if p.name.endswith("Job.java")}
    java.update({Path(f.path).name: f.content for f in seed})
    return {"outputs": outputs, "java": java}


def test_defaults_come_from_the_proc_then_the_environment(run: dict) -> None:
    defaults = run["outputs"][0]["defaults"]
    assert defaults == {
        # the proc says 2 and 30 s; environment prod (which wins) says 6 and 1 minute
        "flink.parallelism.default": "6",
        "flink.execution.checkpointing.interval": "60000 ms",
        "flink.execution.checkpointing.mode": "EXACTLY_ONCE",
        "flink.execution.checkpointing.timeout": "600000 ms",
        "flink.execution.checkpointing.dir": "s3://prod-checkpoints/payments",
        # kept when the job is cancelled; no failed checkpoint tolerated (1 minute + 10
        # minutes a checkpoint: a second attempt would outlive the 15-minute transaction)
        "flink.execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "flink.execution.checkpointing.tolerable-failed-checkpoints": "0",
        "flink.state.backend.type": "hashmap",
        # a cluster environment's max parallelism, explicit though prod sets none
        "flink.pipeline.max-parallelism": "128",
        # a cluster environment's job refuses unkeyed tokens of sensitive values
        "tokens.require_key": "true",
        # the environment the class is bound to (it refuses another's arguments)
        "nexflow.environment": "prod",
        # prod's bindings override base's
        "stream.payments": "kafka:prod.payments",
        "stream.payments.parallelism": "8",
        "stream.approved": "kafka:prod.approved",
        "stream.dead_letter": "kafka:prod.dead_letter",
        "stream.audit": "kafka:prod.audit",
        # kafka from base and prod; secrets as references only
        "kafka.bootstrap.servers": "b1:9093,b2:9093",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
        'required username="${env:NX_KAFKA_USER}" password="${env:NX_KAFKA_PASSWORD}";',
        "kafka.ssl.truststore.location": "/etc/kafka/truststore.jks",
        "kafka.ssl.truststore.password": "${dir:" + defaults["kafka.ssl.truststore.password"]
        .split(":", 1)[1].rsplit(":", 1)[0] + ":truststore.pass}",
        "kafka.acks": "all",
        "kafka.config.providers": "env,dir",
        "kafka.config.providers.env.class":
            "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
        "kafka.config.providers.dir.class":
            "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
    }  # fmt: skip


def test_a_class_bound_to_one_environment_refuses_another_environments_arguments(
    run: dict,
) -> None:
    refused = run["outputs"][9]
    assert set(refused) == {"refused"}
    assert "built for environment 'prod'" in refused["refused"]
    assert "arguments are for environment 'base'" in refused["refused"]
    assert "nexflow build --environment base" in refused["refused"]
    own = run["outputs"][10]
    assert "refused" not in own and own["settings"]["nexflow.environment"] == "prod"


def test_program_arguments_override_every_default(run: dict) -> None:
    out = run["outputs"][1]
    settings = out["settings"]
    assert settings["stream.payments"] == "file:/data/p.jsonl"
    assert settings["kafka.bootstrap.servers"] == "local:9092"
    assert settings["stream.audit.parallelism"] == "1"
    assert settings["stream.approved"] == "kafka:prod.approved"  # not overridden
    assert out["flink"]["parallelism.default"] == "3"
    assert out["flink"]["execution.checkpointing.interval"] == "60000 ms"
    assert out["flink"]["pipeline.generic-types"] == "false"


def test_secrets_are_read_at_run_time_never_written_in_code(run: dict) -> None:
    resolved = run["outputs"][0]["resolved"]
    assert resolved["sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="alice" password="{PASSWORD}";'
    )
    assert resolved["ssl.truststore.password"] == TRUSTSTORE_PASSWORD
    for name, text in run["java"].items():
        assert PASSWORD not in text and TRUSTSTORE_PASSWORD not in text, name
    assert "${env:NX_KAFKA_PASSWORD}" in run["java"]["AuthorizeJob.java"]


def test_each_sink_has_its_delivery_guarantee(run: dict) -> None:
    text = run["java"]["AuthorizeJob.java"]
    approved = text[text.index('Kafka.sink(out$approved'):].split(";")[0]
    audit = text[text.index('Kafka.sink(out$audit'):].split(";")[0]
    assert '"at_least_once"' in approved and "Keys.of(record.card)" in approved
    assert '"exactly_once"' in audit
    # Transactional ids: <environment>.<proc>.<stream> unless the binding names a prefix, from
    # a pool reused across checkpoints (not a new id per checkpoint).
    assert 'ENVIRONMENT = "prod";' in text and 'GROUP = ENVIRONMENT + "." + NAME;' in text
    assert (
        'setTransactionalIdPrefix(streams.setting(stream, "transactional_id_prefix", '
        'GROUP + "." + stream))' in text
    )
    assert "setTransactionNamingStrategy(TransactionNamingStrategy.POOLING)" in text
    assert "DeliveryGuarantee.EXACTLY_ONCE" in text and "DeliveryGuarantee.AT_LEAST_ONCE" in text
    # With the environment's checkpoints, the Kafka job graph builds (no broker needed), dead
    # letters to a topic too.
    first = run["outputs"][0]
    assert first.get("built", 0) >= 4, first.get("build_error")


def test_the_seed_payment_processor_binds_production_and_its_mongodb_store(run: dict) -> None:
    seed = run["outputs"][2]
    assert seed["defaults"]["stream.payment_events"] == "kafka:prod.payments.inbound"
    assert seed["defaults"]["stream.payment_events.parallelism"] == "8"
    assert seed["defaults"]["kafka.sasl.mechanism"] == "SCRAM-SHA-512"
    assert seed["defaults"]["store.transaction_store"] == "mongodb:transaction_store"
    assert seed["defaults"]["store.transaction_store.uri"] == "${env:MONGO_URI}"
    assert seed["defaults"]["store.transaction_store.database"] == "payments"
    assert seed["defaults"]["store.transaction_store.collection"] == "transactions"
    # The job graph builds with the production binding: the MongoDB client connects (and reads
    # MONGO_URI) only on a task manager. Source, event time, rules, correlate, emit, persist
    # (async write + split of refused records) and the sinks.
    assert seed.get("built", 0) >= 7, seed.get("build_error")
    # ... and with the store bound to memory.
    assert run["outputs"][3]["built"] >= 7
    # An incomplete binding stops the job before it starts, naming what to set.
    assert run["outputs"][4]["build_error"] == (
        "store 'transaction_store' is bound to 'mongodb:transaction_store': a mongodb store needs "
        "uri, database and collection; set --store.transaction_store.collection"
    )
    assert "this build has no client for it" in run["outputs"][5]["build_error"]


def test_sources_take_idle_timeout_and_start_from_the_environment_or_arguments(run: dict) -> None:
    seed = run["outputs"][2]["defaults"]
    # The environment's idle_timeout is every stream binding's (payments: production_sinks.infra).
    assert seed["stream.payment_events.idle_timeout"] == "30000 ms"
    assert run["outputs"][6].get("built", 0) >= 4, run["outputs"][6].get("build_error")
    assert "expected committed, earliest, latest or an instant" in run["outputs"][7]["build_error"]
    assert "start_fallback 'none'; expected earliest or latest" in run["outputs"][8]["build_error"]
    text = run["java"]["AuthorizeJob.java"]
    # read_committed always; group and client ids scoped by the environment.
    assert 'properties.setProperty("isolation.level", "read_committed");' in text
    assert '.setGroupId(properties.getProperty("group.id", GROUP))' in text
    assert '.setClientIdPrefix(GROUP + "." + stream)' in text
    # Event time is assigned in the source, with the stream's idle timeout and its event-time
    # bounds (a record out of them is a dead letter in the reader).
    assert "Watermarks.EventTime<T> checked = streams.eventTime(stream, time);" in text
    assert "Watermarks.inSource(checked, streams.idleTimeout(stream))" in text
    assert ".setDeserializer(new Decode<>(stream, contract, checked))" in text
    assert "assignTimestampsAndWatermarks" not in text


def test_kafka_sinks_write_producer_time_and_the_event_time_in_a_header(tmp_path: Path) -> None:
    sources = {"pay.schema": SCHEMA, "authorize.proc": PROC, "envs.infra": infra(tmp_path)}
    files = javatools.generate_sources(sources, PACKAGE, tmp_path / "a", environment="prod")
    text = next(p for p in files if p.name == "AuthorizeJob.java").read_text("utf-8")
    # No timestamp of the record's own (the producer's time); the event time in a header.
    assert "return new ProducerRecord<>(topic, null, null," in text
    assert 'static final String EVENT_TIME_HEADER = "nexflow.event_time";' in text
    assert "headers.add(EVENT_TIME_HEADER, Long.toString(timestamp)" in text
    # Records and dead-letter lines both go through it; no builder stamps the event time.
    assert text.count("new Records<>(streams.topic(stream)") == 2
    assert "KafkaRecordSerializationSchema.<" not in text


def test_event_time_bounds_come_from_the_environment_or_the_binding(tmp_path: Path) -> None:
    bounded = (
        infra(tmp_path)
        .replace(
            "    parallelism: 6\n", "    parallelism: 6\n    max_event_time_ahead: 10 minutes\n"
        )
        .replace(
            'payments { topic: "prod.payments" parallelism: 8 }',
            'payments { topic: "prod.payments" parallelism: 8 max_event_time_behind: 7 days }',
        )
    )
    assert "max_event_time_behind" in bounded and "max_event_time_ahead" in bounded
    sources = {"pay.schema": SCHEMA, "authorize.proc": PROC, "envs.infra": bounded}
    files = javatools.generate_sources(sources, PACKAGE, tmp_path / "a", environment="prod")
    text = next(p for p in files if p.name == "AuthorizeJob.java").read_text("utf-8")
    # The environment's bound is every bound stream's; the binding's own wins for its stream.
    for stream in ("approved", "audit", "payments"):
        assert f'settings.put("stream.{stream}.max_event_time_ahead", "600000 ms");' in text
    assert 'settings.put("stream.payments.max_event_time_behind", "604800000 ms");' in text
    assert 'settings.put("stream.audit.max_event_time_behind"' not in text
