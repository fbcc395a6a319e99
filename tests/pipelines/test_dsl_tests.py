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
from tests.generate import javatools

CARDS = Path(__file__).parent / "cards"


@pytest.fixture(autouse=True)
def _java(monkeypatch: pytest.MonkeyPatch) -> None:
    # The classpath the other generated-Java tests use; ending in the separator, it is read as
    # a classpath, not as a file listing one.
    monkeypatch.setenv("NEXFLOW_TEST_CLASSPATH", javatools.classpath() + os.pathsep)


def test_the_cards_dsl_tests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    tests = sorted(CARDS.glob("*.nxtest"))
    assert tests, "no .nxtest files in tests/pipelines/cards"
    status = main(["test", str(CARDS)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert " 0 failed" in out and "FAIL" not in out, out
    assert "PASS" in out and "a wait times out when the watermark passes its end" in out
