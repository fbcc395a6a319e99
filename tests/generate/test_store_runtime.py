"""The L0 runtime's MongoDB store, without a server (the e2e test runs it against FerretDB):
the document a record becomes and the record it reads back, decimals both ways, secrets read
from the environment and files where the store opens, and how failures are classified, including
a real write to a loopback port nobody listens on. Expected values are written by hand."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.generate import javatools

HARNESS = Path(__file__).parent / "java" / "StoreHarness.java"
SCHEMA = """schema PaymentEvent {
    transaction_id: string @key
    amount: decimal(10,2)
    count: long
    currency: string
    timestamp: datetime @event_time
}
"""
RECORD = (
    '{"transaction_id":"tx-1","amount":150.00,"count":3,"currency":"USD",'
    '"timestamp":"2026-01-15T10:00:00Z"}'
)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("store")
    files = javatools.generate_sources({"p.schema": SCHEMA}, "gen.store", root / "gen")
    classes = root / "classes"
    javatools.javac(files, classes, [HARNESS])
    secrets = root / "secrets"
    secrets.mkdir()
    (secrets / "mongo-uri").write_text("mongodb://from-a-file/\n", "utf-8")
    # A loopback port that was free a moment ago: nothing answers there.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = subprocess.run(
        [str(javatools.java_home() / "bin" / "java"), "-cp",
         f"{classes}{os.pathsep}{javatools.classpath()}", "nexflow.runtime.StoreHarness",
         "gen.store.PaymentEvent", RECORD, str(port), str(secrets)],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, NX_TEST_MONGO_URI=f"mongodb://127.0.0.1:{port}/"
                 "?serverSelectionTimeoutMS=300&connectTimeoutMS=300"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    data = json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])
    data["port"] = port
    return data


def test_a_record_is_one_document_keyed_by_its_store_key(out: dict) -> None:
    assert json.loads(out["document.decimal128"]) == {
        "_id": "key-1",
        "transaction_id": "tx-1",
        "amount": {"$numberDecimal": "150.00"},
        "count": 3,
        "currency": "USD",
        "timestamp": "2026-01-15T10:00:00Z",
    }
    assert json.loads(out["document.string"])["amount"] == "150.00"


def test_documents_read_back_as_the_record_decimals_at_their_scale(out: dict) -> None:
    assert out["back.decimal128"] == RECORD
    assert out["back.string"] == RECORD


def test_a_store_nobody_answers_is_unavailable_a_fatal_error(out: dict) -> None:
    assert out["upsert.decimal128"] == "STORE_UNAVAILABLE fatal"
    assert out["upsert.string"] == "STORE_UNAVAILABLE fatal"


def test_secrets_resolve_where_the_store_opens(out: dict) -> None:
    assert out["secret"] == (
        f"mongodb://127.0.0.1:{out['port']}/?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
        "|mongodb://from-a-file/|plain"
    )
    assert out["open"]["unset"] == (
        "STORE_CONFIG: store 'kept': uri: secret ${env:NX_TEST_UNSET}: environment variable "
        "NX_TEST_UNSET is not set in this process"
    )
    # A bad connection string is named by its kind only: it may hold credentials.
    assert out["open"]["bad"] == (
        "STORE_CONFIG: store 'kept': uri is not a MongoDB connection string "
        "(IllegalArgumentException)"
    )
    assert "s3cret" not in json.dumps(out)


def test_failures_are_classified(out: dict) -> None:
    assert out["classify"] == {
        "write": "STORE_REJECTED recoverable recoverable STORE_REJECTED",
        "timeout": "STORE_UNAVAILABLE fatal fatal STORE_UNAVAILABLE",
        "security": "STORE_CONFIG fatal fatal STORE_CONFIG",
        "other": "STORE_FAILED fatal fatal STORE_FAILED",
        # A looked-up document that is not the schema's record: bad data of one key.
        "bad_document": "BAD_STORE_DOCUMENT recoverable recoverable BAD_STORE_DOCUMENT",
    }
    # Async I/O runs without a per-record timer; each call to the store is bounded by its
    # client instead (test_lookup_runtime.py), and a timeout names the bound.
    assert out["bounded"] == "STORE_UNAVAILABLE fatal: store 'kept': no answer within 400 ms"
    envelope = out["envelope"]
    assert envelope["reason"] == "STORE_REJECTED"
    assert envelope["classification"] == "recoverable"
    assert envelope["correlation_id"] == "key-1"
    assert envelope["message"].startswith("store 'kept': MongoWriteException: ")


def test_dead_letters_are_cut_to_what_the_producer_may_send(out: dict) -> None:
    capped = out["capped"]
    # max.request.size (default 1 MiB) less 16 KiB for the key and framing.
    assert capped["default_limit"] == 1_048_576 - 16_384
    assert capped["limit"] == 2_000_000 - 16_384
    assert capped["small"] == '{"a":1}'
    assert capped["bytes"] <= 4096
    envelope = capped["envelope"]
    assert envelope["truncated"] is True
    assert envelope["original_bytes"] == capped["original_bytes"] > 4096
    assert envelope["input_truncated"] is True
    assert envelope["input_bytes"] == capped["input_bytes"]
    assert envelope["reason"] == "MALFORMED_INPUT" and envelope["correlation_id"] == "k-1"
    # A prefix of the input, as long as fits (each repeat is 2 characters).
    assert 0 < len(envelope["input"]) < capped["input_chars"]
    assert envelope["input"] == ('\u00e9"' * 3000)[: len(envelope["input"])]
    assert len(envelope["input"]) > 1000
    # When not even that fits: the classification only.
    assert capped["least"] == {
        "stream": "payments", "operator": "source", "reason": "MALFORMED_INPUT",
        "classification": "recoverable", "correlation_id": "k-1", "truncated": True,
        "original_bytes": capped["original_bytes"],
    }  # fmt: skip
