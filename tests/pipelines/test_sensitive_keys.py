"""A card number as a `@key @sensitive` field (tests/pipelines/pan): the generated job, compiled
and run on a MiniCluster, writes the card number in clear only in the records it is asked to
write (the approved stream, the store). Every dead letter, alert and log line names the record
by its token, carries it masked, and says what went wrong without quoting a value
(docs/language/schema.md, "Sensitive data").

Expected tokens are computed here with Python's hmac, independently of the generated Java.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
from pathlib import Path
from typing import Optional

import pytest

from tests.generate import javatools

PAN_DIR = Path(__file__).parent / "pan"
HARNESS = Path(__file__).parent / "java" / "PipelineHarness.java"
REPORTER = Path(__file__).parent / "java" / "StateEntriesReporter.java"
PACKAGE = "nexflow.tests.pan"
TOKEN_KEY = "test-token-key-not-a-secret"

PAN_OK = "4111111111111111"
PAN_BLOCKED = "5500005555555559"
PAN_LARGE = "340000000000009"
PAN_BAD_AMOUNT = "6011000990139424"
PAN_BAD_PATTERN = "4012888888881881X"
PAN_NOT_JSON = "4222222222222"
PAN_DECIMAL = "3530111333300000"
PANS = [PAN_OK, PAN_BLOCKED, PAN_LARGE, PAN_BAD_AMOUNT, PAN_BAD_PATTERN, PAN_NOT_JSON, PAN_DECIMAL]


def auth(pan: str, auth_id: str, amount: object, country: str, minute: int) -> str:
    return json.dumps(
        {
            "pan": pan,
            "auth_id": auth_id,
            "amount": amount,
            "country": country,
            "event_time": f"2024-05-01T10:{minute:02d}:00Z",
        }
    )


LINES = [
    auth(PAN_OK, "a1", "10.00", "US", 0),  # approved
    auth(PAN_BLOCKED, "a2", "20.00", "KP", 1),  # rejected by a rule: a dead letter
    auth(PAN_LARGE, "a3", "6000.00", "US", 2),  # an alert, and approved
    auth(PAN_BAD_AMOUNT, "a4", "98765x", "US", 3),  # a bad amount: kept (not sensitive), unquoted
    auth(PAN_BAD_PATTERN, "a5", "5.00", "US", 4),  # the key breaks its @pattern
    f"{PAN_NOT_JSON};12.00;US",  # not JSON at all
    auth(PAN_DECIMAL, "a7", "123456789012345.123", "US", 5),  # out of range, more digits
]


def token(text: str) -> str:
    return "tok:" + hmac.new(TOKEN_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


LOG4J2 = """\
status = error
appender.out.type = Console
appender.out.name = out
appender.out.target = SYSTEM_ERR
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = %p %c %m%n%throwable
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.nexflow.name = nexflow
logger.nexflow.level = info
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pan")
    sources = {p.name: p.read_text("utf-8") for p in sorted(PAN_DIR.iterdir())}
    java_files = javatools.generate_sources(sources, PACKAGE, root)
    javatools.javac(java_files, root / "classes", [HARNESS, REPORTER])
    events = root / "auths.jsonl"
    events.write_text("\n".join(LINES) + "\n", "utf-8")
    (root / "log4j2.properties").write_text(LOG4J2, "utf-8")
    return root


STREAMS = ["pan_approved", "dead_letter", "alerts"]


def _run_job(
    root: Path, out: Path, token_key: Optional[str], extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    args = [
        "--flink.parallelism.default=2",
        "--job",
        f"{PACKAGE}.ScreenPansJob",
        f"--stream.pan_auths=file:{root / 'auths.jsonl'}",
        "--store.pan_last_auth=memory:pan_last_auth",
        *[f"--stream.{s}=file:{out / s}" for s in STREAMS],
        "--print-store=pan_last_auth",
        *extra,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXFLOW_TOKEN_KEY")}
    if token_key is not None:
        env["NEXFLOW_TOKEN_KEY"] = token_key
    return subprocess.run(
        [
            str(javatools.java_home() / "bin" / "java"),
            f"-Dlog4j2.configurationFile={root / 'log4j2.properties'}",
            "-cp",
            f"{root / 'classes'}{os.pathsep}{javatools.classpath()}",
            "PipelineHarness",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@pytest.fixture(scope="module")
def run(compiled: Path) -> dict:
    root = compiled
    streams = STREAMS
    result = _run_job(root, root, TOKEN_KEY)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    out: dict = {"stdout": result.stdout, "log": result.stderr, "raw": {}}
    for s in streams:
        text = "".join(p.read_text("utf-8") for p in sorted((root / s).glob("part-*.jsonl")))
        out["raw"][s] = text
        out[s] = [json.loads(x) for x in text.splitlines() if x]
    out["store"] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def test_outputs_carry_the_card_number_as_asked(run: dict) -> None:
    # The streams and stores a proc writes are the data: the card number stays in them.
    assert sorted(r["pan"] for r in run["pan_approved"]) == sorted([PAN_OK, PAN_LARGE])
    assert sorted(run["store"]) == sorted([PAN_OK, PAN_LARGE])


def test_no_card_number_in_dead_letters_alerts_or_logs(run: dict) -> None:
    # The job did log (dead letters are logged) and the log is where we look.
    assert '"event":"dead_letter"' in run["log"]
    for pan in PANS:
        assert pan not in run["raw"]["dead_letter"], pan
        assert pan not in run["raw"]["alerts"], pan
        assert pan not in run["log"], pan
    # Not even a part of one: the non-JSON line's card number is 13 digits.
    assert PAN_NOT_JSON[:12] not in run["raw"]["dead_letter"] + run["log"]


def test_correlation_ids_are_stable_keyed_tokens(run: dict) -> None:
    by_reason = {}
    for d in run["dead_letter"]:
        by_reason.setdefault(d["reason"], []).append(d)
    assert sorted(by_reason) == ["MALFORMED_INPUT", "REJECTED", "VALIDATION_FAILED"]
    (rejected,) = by_reason["REJECTED"]
    assert rejected["correlation_id"] == token(PAN_BLOCKED)
    assert json.loads(rejected["input"])["pan"] == "***"
    assert json.loads(rejected["input"])["auth_id"] == "a2"
    (alert,) = run["alerts"]
    assert alert["correlation_id"] == token(PAN_LARGE)
    assert json.loads(alert["record"])["pan"] == "***"
    # The same card in the log lines: found by its token.
    assert token(PAN_BLOCKED) in run["log"]
    assert token(PAN_LARGE) in run["log"]


def test_dead_letters_of_unparsed_lines_are_masked_or_withheld(run: dict) -> None:
    validation = {
        json.loads(d["input"])["auth_id"]: d
        for d in run["dead_letter"]
        if d["reason"] == "VALIDATION_FAILED"
    }
    assert sorted(validation) == ["a5", "a7"]
    # A record that parsed but broke a constraint: its correlation id is its token.
    assert validation["a5"]["correlation_id"] == token(PAN_BAD_PATTERN)
    assert [v["field"] for v in validation["a5"]["violations"]] == ["pan"]
    assert json.loads(validation["a7"]["input"])["pan"] == "***"
    malformed = [d for d in run["dead_letter"] if d["reason"] == "MALFORMED_INPUT"]
    assert len(malformed) == 2
    json_line = next(d for d in malformed if d["input"].startswith("{"))
    withheld = next(d for d in malformed if not d["input"].startswith("{"))
    # Masked by field name, the other fields as read (the bad amount too: it is not sensitive,
    # but the message does not quote it).
    masked = json.loads(json_line["input"])
    assert masked["pan"] == "***" and masked["auth_id"] == "a4"
    assert "at amount" in json_line["message"], json_line["message"]
    assert "98765" not in json_line["message"]
    assert masked["amount"] == "98765x"
    line = LINES[5]
    assert withheld["input"] == (
        f"*** (withheld: {len(line)} characters that are not a JSON object, token "
        f"{token(line)})"
    )
    assert withheld["correlation_id"] is None


def test_a_cluster_job_refuses_to_start_without_a_token_key(compiled: Path) -> None:
    """A job bound to a cluster environment (`tokens.require_key`, which the generator sets for
    every environment binding Kafka topics) fails as it starts on a TaskManager without a token
    key, naming the variables to set, and writes no unkeyed `sha:` token anywhere."""
    out = compiled / "unkeyed"
    result = _run_job(compiled, out, None, ("--tokens.require_key=true",))
    assert result.returncode != 0, result.stdout[-3000:]
    assert "no token key on this task manager: set NEXFLOW_TOKEN_KEY" in result.stderr
    written = "".join(p.read_text("utf-8") for p in out.rglob("*") if p.is_file())
    assert "sha:" not in written and "sha:" not in result.stdout
    # A local run over files (no such setting) still runs without a key, with sha: tokens.
    local = _run_job(compiled, compiled / "local", None)
    assert local.returncode == 0, local.stderr[-3000:]
    dead = "".join(
        p.read_text("utf-8") for p in (compiled / "local" / "dead_letter").rglob("*.jsonl")
    )
    assert '"correlation_id":"sha:' in dead
