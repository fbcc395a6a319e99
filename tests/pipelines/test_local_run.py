"""`./pants run examples/hello:local`, minus Pants: the L0 runtime's LocalRun launcher runs the
packaged hello job on a MiniCluster over the example's sample events, with the run plan
`nexflow compile --run-plan-out` writes for environment `local` (what the `nexflow_local_run`
target passes it). It must print each output record with its stream, then a summary.

Expected records are worked out by hand from examples/hello/data/greetings.jsonl and the DSL:
`filter count > 2` keeps g3 (3) and g5 (1000000); g1 (1) and g2 (2) are filtered out; g4 has
no `count`, which the schema requires, so it is a dead letter (VALIDATION_FAILED); g6's count
"many" is not an int, a dead letter (MALFORMED_INPUT).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from nexflow_core import cli
from tests.pipelines.test_hello_job import FLINK_RUNTIME_JAR, JOB_JAR, java

HELLO = "examples/hello"
PACKAGE = "nexflow.examples.hello"
LAUNCHER = "nexflow.runtime.LocalRun"


def write_plan(work: Path) -> Path:
    """The plan as the plugin makes it: each unit compiled against its upstream interfaces."""
    schema, infra, plan = work / "schema.nxi", work / "infra.nxi", work / "plan.json"
    upstream = f"{schema}={PACKAGE}"
    assert cli.main(["compile", f"{HELLO}/greetings.schema", "--java-package", PACKAGE,
                     "--interface-out", str(schema)]) == 0  # fmt: skip
    assert cli.main(["compile", f"{HELLO}/local.infra", "--java-package", PACKAGE,
                     "--interface-out", str(infra), "--interface", upstream]) == 0  # fmt: skip
    assert cli.main(["compile", f"{HELLO}/hello.proc", "--java-package", PACKAGE,
                     "--environment", "local", "--run-plan-out", str(plan),
                     "--interface", upstream,
                     "--interface", f"{infra}={PACKAGE}"]) == 0  # fmt: skip
    return plan


def run_local(plan: Path, base: Path, *args: str) -> str:
    result = subprocess.run(
        [java(), "-cp", f"{JOB_JAR}:{FLINK_RUNTIME_JAR}", LAUNCHER, f"--plan={plan}",
         f"--base-dir={base}", *args],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def records(stdout: str, stream: str) -> list[dict]:
    prefix = re.compile(rf"^{re.escape(stream)} +\| ")
    return [json.loads(prefix.sub("", line)) for line in stdout.splitlines() if prefix.match(line)]


def test_local_run_prints_records_and_a_summary(tmp_path: Path) -> None:
    plan = write_plan(tmp_path)
    settings = json.loads(plan.read_text("utf-8"))["jobs"][0]["settings"]
    # local.infra's bindings, exactly (by hand), and the environment they are for.
    assert settings == {
        "nexflow.environment": "local",
        "stream.greetings": "file:data/greetings.jsonl",
        "stream.greetings.parallelism": "1",
        "stream.loud_greetings": "file:out/loud_greetings.jsonl",
        "stream.loud_greetings.parallelism": "1",
    }
    base = tmp_path / "hello"
    shutil.copytree(f"{HELLO}/data", base / "data")

    for attempt in ("first run", "second run: earlier outputs are replaced, not appended to"):
        stdout = run_local(plan, base)
        loud = sorted(records(stdout, "loud_greetings"), key=lambda r: r["id"])
        assert loud == [
            {"id": "g3", "name": "loud", "count": 3},
            {"id": "g5", "name": "very loud", "count": 1000000},
        ], attempt
        dead = sorted(records(stdout, "dead_letter"), key=lambda r: r["reason"])
        assert [(d["reason"], d["stream"]) for d in dead] == [
            ("MALFORMED_INPUT", "greetings"),
            ("VALIDATION_FAILED", "greetings"),
        ], attempt
        assert '"g6"' in dead[0]["input"] and dead[1]["correlation_id"] == "g4"

        lines = stdout.splitlines()
        summary = lines[lines.index(next(x for x in lines if x.startswith("== HelloFilter:"))) :]
        assert re.fullmatch(r"== HelloFilter: done in \d+\.\d s \(the Flink job ran \d+\.\d s\)",
                            summary[0])  # fmt: skip
        out = base / "out"
        assert summary[1:6] == [
            f"   in   greetings            6 records  {base}/data/greetings.jsonl",
            f"   out  loud_greetings       2 records  {out}/loud_greetings.jsonl",
            f"   dead letters              2 records  {out}/HelloFilter.dead_letter",
            f"   alerts                    0 records  {out}/HelloFilter.alerts",
            "   late events               -          (nothing in the job can find an event late)",
        ], attempt
        assert re.fullmatch(r"== 1 job, wall time \d+\.\d s", summary[6])
        # Records come before the summary, and the files hold what was printed.
        assert lines.index(summary[0]) > max(
            i for i, x in enumerate(lines) if x.startswith(("loud_greetings |", "dead_letter"))
        )
        written = [
            json.loads(x)
            for part in sorted((out / "loud_greetings.jsonl").glob("part-*.jsonl"))
            for x in part.read_text("utf-8").splitlines()
        ]
        assert sorted(written, key=lambda r: r["id"]) == loud


def test_program_arguments_override_the_plan(tmp_path: Path) -> None:
    plan = write_plan(tmp_path)
    events = tmp_path / "mine.jsonl"
    events.write_text('{"id": "x", "name": "shout", "count": 7}\n', "utf-8")
    stdout = run_local(plan, tmp_path / "base", f"--stream.greetings=file:{events}")
    assert records(stdout, "loud_greetings") == [{"id": "x", "name": "shout", "count": 7}]
    assert f"   in   greetings            1 record   {events}" in stdout.splitlines()


def test_records_are_printed_while_the_job_runs(tmp_path: Path) -> None:
    # A paced replay (one greeting every 500 ms, 3 s in all): g3, the first loud greeting, is
    # written at about 1 s, flushed by the next checkpoint (every 500 ms) and printed then,
    # well before the job ends (after g6 at about 3 s) and its summary is printed.
    plan = write_plan(tmp_path)
    base = tmp_path / "hello"
    shutil.copytree(f"{HELLO}/data", base / "data")
    argv = [java(), "-cp", f"{JOB_JAR}:{FLINK_RUNTIME_JAR}", LAUNCHER, f"--plan={plan}",
            f"--base-dir={base}", "--stream.greetings.pace_ms=500"]  # fmt: skip
    seen: list[tuple[float, str]] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as p:
        assert p.stdout is not None
        for line in p.stdout:
            seen.append((time.monotonic(), line.rstrip("\n")))
        assert p.wait(timeout=300) == 0
    first = next(t for t, x in seen if x.startswith("loud_greetings |"))
    done = next(t for t, x in seen if x.startswith("== HelloFilter: done"))
    assert done - first > 1.0, seen
