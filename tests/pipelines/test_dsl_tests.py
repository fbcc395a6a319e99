"""The card issuer's pipelines (tests/pipelines/cards) tested in the DSL (.nxtest files, run by
`nexflow test`): where a test is records given, time moved and records expected, the test file
says it better than a Java harness and a wall-clock-paced replay do.

Needs a JDK and the classpath jar of tests/generate/jvm:flink-classpath (under Pants), or
NEXFLOW_TEST_CLASSPATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nexflow_core.cli import main

CARDS = Path(__file__).parent / "cards"
PANTS_JAR = Path("tests.generate.jvm/flink-classpath.jar")


@pytest.fixture(autouse=True)
def _java(monkeypatch: pytest.MonkeyPatch) -> None:
    if not os.environ.get("NEXFLOW_TEST_CLASSPATH"):
        assert (
            PANTS_JAR.is_file()
        ), f"{PANTS_JAR} missing: use ./pants or set NEXFLOW_TEST_CLASSPATH"
        # A jar path ending in the separator is a classpath, not a file listing one.
        monkeypatch.setenv("NEXFLOW_TEST_CLASSPATH", f"{PANTS_JAR.resolve()}{os.pathsep}")


def test_the_cards_dsl_tests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    tests = sorted(CARDS.glob("*.nxtest"))
    assert tests, "no .nxtest files in tests/pipelines/cards"
    status = main(["test", str(CARDS)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert " 0 failed" in out and "FAIL" not in out, out
    assert "PASS" in out and "a wait times out when the watermark passes its end" in out
