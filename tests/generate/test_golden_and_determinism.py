"""Golden files for the generated Java of the examples, and determinism: the same DSL gives the
same bytes under any PYTHONHASHSEED and from any working directory.

Regenerate the golden files after an intended change with
`NEXFLOW_UPDATE_GOLDEN=1 python -m pytest tests/generate/test_golden_and_determinism.py`
and review the diff like code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from nexflow_core import cli
from nexflow_core.diagnostics import NexflowError
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.syntax import parse_source

GOLDEN = Path(__file__).parent / "golden"
# The `nexflow` command line, run in a fresh interpreter (cli is imported above so that Pants
# puts it in the test's sandbox).
CLI = "import sys; from nexflow_core.cli import main; sys.exit(main(sys.argv[1:]))"

# (golden directory, Java package, DSL files, environment): the generator's output for each is
# checked in. The seed's PaymentProcessor is bound to its production environment (Kafka).
SETS = {
    "hello": ("nexflow.examples.hello", ["examples/hello/greetings.schema",
                                          "examples/hello/hello.proc"], None),
    "payments": ("nexflow.examples.payments", ["examples/payments/payment_event.schema",
                                               "examples/payments/streams.schema",
                                               "examples/payments/payments.rules",
                                               "examples/payments/payment_processor.proc",
                                               "examples/payments/production.infra",
                                               "examples/payments/production_sinks.infra"],
                 "production"),
}  # fmt: skip


def _generate(package: str, paths: list, environment: Optional[str] = None) -> dict:
    units = []
    for p in paths:
        text = Path(p).read_text("utf-8")
        units.append(Unit(parse_source(text, p), package, text))
    return {f.path: f.content for f in generate(units, [], TARGETS["flink"], environment)}


@pytest.mark.parametrize("name", sorted(SETS))
def test_generated_java_matches_the_golden_files(name: str) -> None:
    package, paths, environment = SETS[name]
    files = _generate(package, paths, environment)
    root = GOLDEN / name
    if os.environ.get("NEXFLOW_UPDATE_GOLDEN"):
        shutil.rmtree(root, ignore_errors=True)
        for path, content in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(content.encode("utf-8"))
    golden = {
        str(p.relative_to(root)): p.read_bytes().decode("utf-8")
        for p in sorted(root.rglob("*.java"))
    }
    assert sorted(golden) == sorted(files), "generated files differ from the golden set"
    for path, content in files.items():
        assert content == golden[path], f"{name}/{path} differs from its golden file"
        # Pure ASCII: javac reads generated files right whatever its default encoding.
        assert content.isascii(), path


def test_the_runtime_is_ascii() -> None:
    for f in TARGETS["flink"].render_runtime():
        assert f.content.isascii(), f.path


def test_a_proc_the_generator_cannot_write_is_refused_with_a_located_diagnostic() -> None:
    # A state cannot be updated by an operator other than the one that declares it: the
    # checker says so (NX421) rather than the generator emitting a job that does something else.
    proc = "proc Settle {\n    from payment_events\n    key by transaction_id\n" \
        "    state n: long ttl 1 hour\n    deduplicate by transaction_id within 1 minute\n" \
        "    update n = 1\n    emit to processed_payments\n}\n"
    units = []
    for p in ["examples/payments/payment_event.schema", "examples/payments/streams.schema"]:
        text = Path(p).read_text("utf-8")
        units.append(Unit(parse_source(text, p), "p", text))
    units.append(Unit(parse_source(proc, "settle.proc"), "p", proc))
    with pytest.raises(NexflowError) as info:
        generate(units, [], TARGETS["flink"])
    d = info.value.diagnostics[0]
    assert d.code == "NX421"
    assert d.span.file == "settle.proc" and d.span.line == 6


def _run_generator(cwd: Path, seed: str, out: Path) -> None:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = seed
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p or os.curdir) for p in sys.path)
    files = [
        "payments/payment_event.schema",
        "payments/streams.schema",
        "payments/payments.rules",
    ]
    result = subprocess.run(
        [sys.executable, "-c", CLI, "generate", "--java-package", "p.q",
         "--output-dir", str(out), *files],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    runtime = subprocess.run(
        [sys.executable, "-c", CLI, "generate-runtime", "--output-dir", str(out)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert runtime.returncode == 0, runtime.stderr


def test_generation_is_byte_identical_across_hash_seeds_and_directories(tmp_path: Path) -> None:
    outputs = []
    for i, seed in enumerate(["0", "12345"]):
        cwd = tmp_path / f"checkout{i}" / ("deeper" * i)
        shutil.copytree("examples/payments", cwd / "payments")
        out = tmp_path / f"out{i}"
        _run_generator(cwd, seed, out)
        outputs.append(
            {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.java"))}
        )
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) >= 20
    assert cli.main is not None
