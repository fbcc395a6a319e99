"""Sensitive keys in generated code and the L0 runtime (docs/language/schema.md, "Sensitive
data"): a `@key @sensitive` card number is tokenized wherever it identifies a record outside the
job (correlation ids, Kafka record keys of sinks, dead-letter envelopes' keys), dead-letter
inputs are masked (and show decimals plainly), exception messages carry no value, and a
MongoDB store's TLS context is built from its trust store, CA file and key store.

The runtime is compiled and called directly (SensitiveHarness); expected tokens are computed
here with Python's hmac/hashlib, independently of the Java.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.syntax import parse_source
from tests.generate import javatools

HARNESS = Path(__file__).parent / "java" / "SensitiveHarness.java"
PAN_DIR = Path(__file__).parent.parent / "pipelines" / "pan"
PACKAGE = "gen.pan"
PAN = "4111111111111111"
KEY = "harness-token-key"

# The pan pipeline bound to Kafka: the approved stream keyed by the card number itself
# (idempotency_key: pan), the dead letters by their correlation id.
KAFKA_INFRA = """
environment production {
    kafka {
        brokers: "kafka-1:9093"
        security_protocol: SSL
        truststore: file("/etc/cards/kafka/truststore.p12")
        truststore_password: env("KAFKA_TRUSTSTORE_PASSWORD")
    }
    checkpoint { interval: 10 seconds storage: cluster }
    streams {
        pan_auths { topic: "pan.auths" }
        pan_approved {
            topic: "pan.approved"
            delivery: at_least_once
            idempotency_key: pan
        }
        dead_letter { topic: "pan.dlq" }
        alerts { topic: "pan.alerts" }
    }
    stores {
        pan_last_auth {
            type: mongodb
            uri: env("PAN_MONGO_URI")
            database: "cards"
            collection: "last_auth"
            tls: true
            ca_file: file("/etc/cards/mongo/ca.pem")
        }
    }
}
"""


def _sources(extra: dict[str, str]) -> dict[str, str]:
    sources = {p.name: p.read_text("utf-8") for p in sorted(PAN_DIR.iterdir())}
    sources.update(extra)
    return sources


def _generate(sources: dict[str, str], environment: str | None) -> dict[str, str]:
    units = [Unit(parse_source(t, n), PACKAGE, t) for n, t in sorted(sources.items())]
    return {f.path: f.content for f in generate(units, [], TARGETS["flink"], environment)}


def test_kafka_keys_of_a_sensitive_key_are_tokens() -> None:
    files = _generate(_sources({"prod.infra": KAFKA_INFRA}), "production")
    job = files["gen/pan/ScreenPansJob.java"]
    # The idempotency key names the card number: the Kafka key is its token.
    assert "record -> nexflow.runtime.Tokens.token(Keys.of(record.pan))," in job
    # The store's document id is the card number (the store holds the data, and a lookup finds
    # the card by it); the Kafka key never is.
    assert job.count("record -> Keys.of(record.pan),") == 1
    persist_key = "record -> Keys.of(record.pan),\n" + 16 * " " + "gen.pan.PanAuthContract"
    assert persist_key in job
    # Dead letters and alerts are keyed by the envelope's correlation id, the contract's token.
    contract = files["gen/pan/PanAuthContract.java"]
    assert "return Tokens.token(Fn.to_string(record.pan));" in contract
    assert "Kafka::correlationKey" in job
    # TLS material by reference, passed through to the clients.
    assert '"kafka.ssl.truststore.location", "/etc/cards/kafka/truststore.p12"' in job
    assert '"kafka.ssl.truststore.password", "${env:KAFKA_TRUSTSTORE_PASSWORD}"' in job
    assert '"store.pan_last_auth.tls", "true"' in job
    assert '"store.pan_last_auth.ca_file", "/etc/cards/mongo/ca.pem"' in job


def test_a_key_that_is_not_sensitive_stays_as_it_is() -> None:
    sources = _sources({})
    sources["pan.schema"] = sources["pan.schema"].replace("@key @sensitive", "@key")
    files = _generate(sources, None)
    contract = files["gen/pan/PanAuthContract.java"]
    assert "return Fn.to_string(record.pan);" in contract
    assert "Tokens" not in contract


def _keytool(*args: str) -> None:
    keytool = javatools.java_home() / "bin" / "keytool"
    subprocess.run([str(keytool), *args], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("sensitive")
    java_files = javatools.generate_sources(_sources({}), PACKAGE, root)
    classes = root / "classes"
    javatools.javac(java_files, classes, [HARNESS])
    password = "store-pass-123"
    keystore = root / "client.p12"
    _keytool(
        "-genkeypair", "-alias", "client", "-keyalg", "RSA", "-keysize", "2048",
        "-dname", "CN=nexflow-test", "-validity", "2", "-storetype", "PKCS12",
        "-keystore", str(keystore), "-storepass", password, "-keypass", password,
    )  # fmt: skip
    cert = root / "ca.pem"
    _keytool(
        "-exportcert", "-rfc", "-alias", "client", "-keystore", str(keystore),
        "-storepass", password, "-file", str(cert),
    )  # fmt: skip
    truststore = root / "trust.p12"
    _keytool(
        "-importcert", "-noprompt", "-alias", "ca", "-file", str(cert), "-storetype", "PKCS12",
        "-keystore", str(truststore), "-storepass", password,
    )  # fmt: skip
    result = subprocess.run(
        [
            str(javatools.java_home() / "bin" / "java"),
            "-cp",
            f"{classes}{os.pathsep}{javatools.classpath()}",
            "SensitiveHarness",
            f"{PACKAGE}.PanAuthContract",
            str(truststore),
            str(keystore),
            str(cert),
            password,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NEXFLOW_TOKEN_KEY": KEY, "STORE_PASS": password},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    shutil.rmtree(classes)
    data = json.loads(result.stdout.strip().splitlines()[-1])
    data["stderr"] = result.stderr
    data["password"] = password
    return data


def test_tokens_are_keyed_hmacs(out: dict) -> None:
    expected = "tok:" + hmac.new(KEY.encode(), PAN.encode(), hashlib.sha256).hexdigest()[:32]
    assert out["keyed"] is True
    assert out["token"] == expected
    assert out["correlation_id"] == expected
    assert out["sensitive"] is True
    assert json.loads(out["masked_record"])["pan"] == "***"


def test_dead_letter_inputs_are_masked_or_withheld(out: dict) -> None:
    assert json.loads(out["masked_line"]) == {"pan": "***", "amount": "x"}
    line = f"{PAN},1.00"
    token = "tok:" + hmac.new(KEY.encode(), line.encode(), hashlib.sha256).hexdigest()[:32]
    assert out["withheld_line"] == (
        f"*** (withheld: {len(line)} characters that are not a JSON object, token {token})"
    )


def test_dead_letter_inputs_show_decimals_plainly(out: dict) -> None:
    # Parsed with Decimal, so 1E+1 and 10.00 stay apart (json.loads would make both 10.0).
    record = json.loads(out["masked_record_ten"], parse_float=Decimal)
    assert str(record["amount"]) == "10.00"  # decimal(12,2): the record's scale, not 1E+1
    line = json.loads(out["masked_line_decimals"], parse_float=Decimal, parse_int=Decimal)
    assert {k: str(v) for k, v in line.items() if k != "pan"} == {
        "amount": "10.0",  # as written, not 1E+1
        "fee": "10.50",  # not 10.5
        "cap": "100",  # 1e2 written plainly, not 1E+2
        "whole": "10",
    }
    assert line["pan"] == "***"


def test_messages_never_quote_a_value(out: dict) -> None:
    messages = out["messages"]
    for name, text in messages.items():
        assert PAN not in text, (name, text)
    assert messages["number"] == "NumberFormatException"
    assert messages["datetime"] == "DateTimeParseException"
    assert messages["arithmetic"] == "Division by zero"
    assert messages["arithmetic_value"] == "ArithmeticException"
    assert messages["jackson"].startswith("InvalidFormatException at amount (line 1, column ")
    assert messages["jackson_reason"] == "MALFORMED_INPUT"
    assert messages["jackson_syntax"].startswith("JsonParseException (line 1, column ")
    trace = out["redacted_trace"]
    assert PAN not in trace
    assert "java.lang.NumberFormatException: NumberFormatException" in trace
    assert "at SensitiveHarness.main" in trace


def test_store_tls_contexts(out: dict) -> None:
    tls = out["tls"]
    assert tls["truststore"] == "TLS"
    assert tls["ca_file"] == "TLS"
    assert tls["keystore"] == "TLS"
    # A wrong password or an unset secret: STORE_CONFIG naming the setting, never a password.
    assert tls["wrong_password"].startswith("STORE_CONFIG: store 's': truststore cannot be used")
    assert tls["unset_password"].startswith("STORE_CONFIG: store 's': keystore: ")
    assert "NOT_SET_ANYWHERE" in tls["unset_password"]
    assert out["password"] not in json.dumps(tls)
    # tls=false (a test server): the certificates are not read, and not a problem.
    assert out["problems_without_tls"] is None
    assert out["problems_bad_tls"].startswith("tls is 'yes'; expected true or false")
    assert out["problems_ok"] is None
