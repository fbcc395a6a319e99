"""The target-neutral core (nexflow_core/generate/*.py, outside a target's package) says what a
job means; only a target's adapter spells it in the target's terms. For Flink that is
generate/flink/options.py: no Flink option key may appear in the core again, and the model
carries parallelism and checkpointing as typed values with their DSL origin.

The Java-generic package (generate/java/: records, enums, rules, tables, transforms, the
expression writer, naming, the framework-free runtime) knows nothing of Flink: it imports
nothing of generate/flink, its templates, runtime and strings name no Flink API, and a second
Java target made of its renderers alone writes records, rules, tables and transforms."""

from __future__ import annotations

import ast as pyast
import re
from pathlib import Path

from nexflow_core.generate import model
from nexflow_core.generate.core import Unit, generate, job_models
from nexflow_core.generate.environments import build_environment
from nexflow_core.generate.flink import kafka, options
from nexflow_core.generate.java import render
from nexflow_core.project import check_project
from nexflow_core.syntax import parse_source

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "nexflow_core" / "generate"
JAVA = CORE / "java"

# Names of Flink's API (and of what the Flink adapter adds to the Java spelling).
FLINK_API = re.compile(
    r"org\.apache\.flink|DataStream|StreamExecutionEnvironment|ProcessFunction|MapFunction"
    r"|FlatMapFunction|RichFunction|TypeInformation|TypeInfo\b|TypeInfoFactory|Collector\b"
    r"|KafkaSource|KafkaSink|SerializationSchema|type_info|flink_version|generate\.flink"
)

# Flink configuration keys (and the `flink.` prefix program arguments give them).
FLINK_KEY = re.compile(
    r"execution\.[a-z]|pipeline\.[a-z]|state\.backend|parallelism\.default|buffer-timeout"
    r"|checkpointing\.[a-z]|taskmanager\.|jobmanager\.|(?<![\w.])flink\.(?:[a-z]|$)"
)

# Kafka client property names: the Kafka adapter's (generate/flink/kafka.py), not the core's.
KAFKA_PROPERTY = re.compile(
    r"bootstrap\.servers|security\.protocol|sasl\.[a-z]|ssl\.[a-z]|isolation\.level"
    r"|transactional\.id|config\.providers|LoginModule|ConfigProvider|(?<![\w./])kafka\.[a-z]"
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


def test_no_kafka_client_property_in_the_core() -> None:
    core = sorted([*CORE.glob("*.py"), *JAVA.rglob("*.py")])
    found = [
        f"{path.relative_to(ROOT)}:{line}: {KAFKA_PROPERTY.search(text).group(0)!r} in {text!r:.80}"
        for path in core
        for line, text in _strings(path)
        if KAFKA_PROPERTY.search(text)
    ]
    assert not found, "Kafka property names belong in generate/flink/kafka.py:\n" + "\n".join(
        found
    )
    for key in (
        "kafka.bootstrap.servers",
        "security.protocol",
        "sasl.jaas.config",
        "ssl.truststore.location",
        "isolation.level",
        "transactional.id",
        "org.apache.kafka.common.security.plain.PlainLoginModule",
    ):
        assert KAFKA_PROPERTY.search(key), key
    for text in ("kafka:orders", "a kafka binding", "nexflow_core.generate.flink.kafka"):
        assert not KAFKA_PROPERTY.search(text), text


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
        "flink.execution.checkpointing.externalized-checkpoint-retention",
        "flink.execution.checkpointing.tolerable-failed-checkpoints",
        "flink.execution.buffer-timeout.interval",
    ]
    # A cluster environment's production defaults, typed like the rest (no DSL origin).
    assert checkpointing.retain_on_cancel == model.Flag(True)
    # 1 minute + Flink's 10-minute timeout: a second attempt would outlive a transaction.
    assert checkpointing.tolerable_failures == model.Count(0)


def _java_generic_files() -> list[Path]:
    return sorted(p for p in JAVA.rglob("*") if p.suffix in (".py", ".j2", ".java"))


def test_the_java_generic_package_imports_nothing_of_a_target() -> None:
    found = []
    for path in sorted(JAVA.rglob("*.py")):
        for node in pyast.walk(pyast.parse(path.read_text("utf-8"), str(path))):
            names = (
                [node.module or ""]
                if isinstance(node, pyast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, pyast.Import)
                else []
            )
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}: {n}"
                for n in names
                if n.startswith(("nexflow_core.generate.flink", "nexflow_core.generate.jobs"))
            ]
    assert len(list(JAVA.rglob("*.py"))) >= 3
    assert not found, "generate/java must not import a target:\n" + "\n".join(found)


def test_the_java_generic_package_names_no_flink_api() -> None:
    files = _java_generic_files()
    assert {p.suffix for p in files} == {".py", ".j2", ".java"}
    found = [
        f"{path.relative_to(ROOT)}:{n}: {FLINK_API.search(line).group(0)!r}"
        for path in files
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if FLINK_API.search(line)
    ]
    assert not found, "Flink belongs in generate/flink:\n" + "\n".join(found)


def test_the_pattern_finds_flink_api() -> None:
    for text in (
        "import org.apache.flink.api.common.typeinfo.TypeInfo;",
        "extends KeyedProcessFunction<K, I, O>",
        "@TypeInfo(TypeOf$x.class)",
        "{{ sp.type_info(t) }}",
        "from nexflow_core.generate.flink import java",
    ):
        assert FLINK_API.search(text), text
    for text in ("import java.util.List;", "Ops.isTrue(x)", "public class Payment {"):
        assert not FLINK_API.search(text), text


class PlainJava(render.RecordMixin, render.RulesMixin, render.TransformMixin, render.RuntimeMixin):
    """A second Java target written against generate/java alone (no job adapter)."""

    name = "plain-java"
    platform = "plain Java"
    platform_title = "plain Java"


RULES = """decision_table Tier for p: Payment hit_policy first {
    inputs {
        amount = p.amount
    }
    outputs {
        tier: string
    }
    rules {
        high:   >= 1000 -> "high"
        normal: -       -> "normal"
    }
}

ruleset Screening for payment: Payment {
    rule big {
        when payment.amount > 500
        then flag_for_review
    }
}
"""
TRANSFORM = """transform Twice {
    input p: Payment
    output decimal(12,2)
    compute p.amount * 2
}
"""


def test_a_second_java_target_reuses_the_java_generic_renderers() -> None:
    sources = {"a.schema": SCHEMA, "a.rules": RULES, "a.transform": TRANSFORM}
    units = [Unit(parse_source(t, n), "acme.pay", t) for n, t in sorted(sources.items())]
    files = {f.path: f.content for f in generate(units, [], PlainJava())}
    assert sorted(files) == [
        "acme/pay/Payment.java",
        "acme/pay/PaymentContract.java",
        "acme/pay/Screening.java",
        "acme/pay/Tier.java",
        "acme/pay/Twice.java",
    ]
    runtime_files = [(f.path, f.content) for f in PlainJava().render_runtime()]
    for path, text in [*files.items(), *runtime_files]:
        assert not FLINK_API.search(text), (path, FLINK_API.search(text))
        assert "Flink" not in text.split("\n", 1)[0], path
    assert "nexflow/runtime/Ops.java" in dict(runtime_files)
    assert "(no plain Java types)" in files["acme/pay/Screening.java"]


KAFKA_INFRA = """environment prod {
    kafka {
        brokers: "b1:9093"
        security_protocol: SASL_SSL
        sasl_mechanism: SCRAM_SHA_512
        username: env("KAFKA_USER")
        password: env("KAFKA_PASSWORD")
        truststore: file("/etc/kafka/truststore.jks")
        acks: "all"
    }
    streams {
        payments { topic: "p" }
    }
}
"""


def test_an_environments_kafka_client_is_data_and_the_adapter_spells_it() -> None:
    project = check_project({"a.schema": SCHEMA, "e.infra": KAFKA_INFRA})
    assert project.ok, project.diagnostics
    client = build_environment(project.environment("prod"), project.sources).kafka
    # The model: the DSL's names and meanings, no Kafka property name.
    assert [(s.key, s.value, s.kind) for s in client.settings] == [
        ("acks", "all", "literal"),
        ("brokers", "b1:9093", "literal"),
        ("security_protocol", "SASL_SSL", "literal"),
        ("truststore", "/etc/kafka/truststore.jks", "literal"),
    ]
    assert client.sasl_mechanism is not None and client.sasl_mechanism.name == "SCRAM_SHA_512"
    assert client.username is not None and client.username.value == "${env:KAFKA_USER}"
    assert client.password is not None and client.password.kind == "secret"
    # The Flink adapter: Kafka's properties.
    assert {s.key: s.value for s in kafka.client_settings(client)} == {
        "kafka.acks": "all",
        "kafka.bootstrap.servers": "b1:9093",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.ssl.truststore.location": "/etc/kafka/truststore.jks",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
        'required username="${env:KAFKA_USER}" password="${env:KAFKA_PASSWORD}";',
        "kafka.config.providers": "env,dir",
        "kafka.config.providers.env.class":
            "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
        "kafka.config.providers.dir.class":
            "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
    }  # fmt: skip


def test_the_java_generic_runtime_needs_no_class_of_the_flink_runtime() -> None:
    """The framework-free runtime, and the Java the generic templates write, need no class of
    the Flink runtime: generated transforms and contracts call OnError, Validation, Errors, …,
    which live in generate/java/runtime; only dead letters' side output and sink serialization
    (DeadLetterOutput) are Flink's."""
    flink_classes = {p.stem for p in (CORE / "flink" / "runtime").glob("*.java")}
    generic = [*(JAVA / "runtime").glob("*.java"), *(JAVA / "templates").rglob("*.j2")]
    found = []
    for path in sorted(generic):
        code = re.sub(r"//.*|/\*.*?\*/|\{#.*?#\}", "", path.read_text("utf-8"), flags=re.S)
        found += [(path.name, n) for n in sorted(flink_classes) if re.search(rf"\b{n}\b", code)]
    assert flink_classes and not found, found
