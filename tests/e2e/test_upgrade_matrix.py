"""The upgrade matrix (issue 14): what Flink really does when an upgraded build of a job restores
from the savepoint of the old one, compared with the upgrade-safety gate's verdict.

On the real standalone cluster and broker: the procs of tests/e2e/upgrades/v1 (one per kind of
keyed state: `state` of a number, a count and a record; `rolling`; a tumbling `window`;
`deduplicate`; `correlate by`; an interval `join`), built into one Flink job
(upgrades/java/UpgradeMatrixJob.java), read a few records and stop with a savepoint. Then each
variant (upgrades/variants/*.patch: the v1 sources with one change) is generated, compiled in one
warm compiler with the others, and started from that one savepoint, on topics of its own, with
probe records whose output shows, per state, whether the v1 state went on:

- refused: the submission fails (state of an operator the new job lacks) or the job fails and
  restarts while restoring (a serializer Flink cannot migrate);
- empty: the job runs, but the probe's output shows the state started fresh;
- kept: the probe's output continues the v1 state.

The gate (`nexflow compat --baseline <v1 baseline> --format json` over the variant's project)
must say the same: `incompatible` for refused, `compatible, loses X` for X empty, `compatible`
for all kept. The test prints the table and `variants=<n> verdicts_matching=<n>`.

Lookups are not in the matrix: a lookup's cache is a transient map per parallel instance
(`Lookups.Cache` in the runtime's Lookups.java), not Flink state, keyed or other; a savepoint
holds only the async I/O operator's records in flight, and a restore starts every cache empty.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.generate.command import write_files
from nexflow_core.syntax import parse_source
from tests.e2e.infra import procs
from tests.e2e.infra.flink import FlinkCluster
from tests.e2e.infra.kafka import KafkaBroker
from tests.e2e.infra.procs import InfraError
from tests.e2e.infra.timings import record_report, record_timing

UPGRADES = Path(__file__).parent / "upgrades"
PACKAGE = "nexflow.tests.e2e.upgrades"
MAIN = f"{PACKAGE}.UpgradeMatrixJob"
# A packaged job jar: the L0 runtime and the libraries a cluster lacks (Kafka connector,
# Jackson); each build adds its generated classes (another package) to a copy of it.
BASE_JAR = Path("tests.e2e.watermarks/velocity-job.jar")
ENVIRONMENT = "e2e"
# Variants run side by side on the cluster (4 slots; each variant's job takes one).
SIDE_BY_SIDE = 3
INPUTS = ("auths", "settlements")
OUTPUTS = ("spend_out", "velocity_out", "window_out", "deduped", "matched", "unmatched",
           "settled_out")  # fmt: skip
# The states the probes look at, by the gate's names: the DSL's state names and, for the other
# kinds, the statement's keyword (docs/upgrades.md).
STATES = ("spent", "seen", "last", "rolling", "window", "dedup", "correlate", "join")


def base_jar() -> Path:
    """In the Pants sandbox, or in dist/ after `pants package` (pytest from the repository)."""
    for candidate in (BASE_JAR, Path("dist") / BASE_JAR):
        if candidate.is_file():
            return candidate.resolve()
    raise InfraError(f"{BASE_JAR} missing: `pants package tests/e2e/watermarks:velocity-job`")


# -- the builds --------------------------------------------------------------------------------


@dataclass
class Variant:
    name: str
    title: str
    sources: dict[str, str]
    # `# observe <state> as <name>`: the probe of <state> reads the variant's state <name>.
    renamed: dict[str, str] = field(default_factory=dict)


def v1_sources() -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in sorted((UPGRADES / "v1").iterdir())}


def apply_patch(sources: dict[str, str], patch: str, where: str) -> dict[str, str]:
    """A variant's patch: `@ <file>` then the `-` lines to find (once) and the `+` lines that
    replace them; `#` lines say what it changes."""
    out = dict(sources)
    hunks: list[tuple[str, list[str], list[str]]] = []
    for line in patch.splitlines():
        if line.startswith("@ "):
            hunks.append((line[2:].strip(), [], []))
        elif line.startswith("-") and hunks:
            hunks[-1][1].append(line[1:])
        elif line.startswith("+") and hunks:
            hunks[-1][2].append(line[1:])
    for name, old, new in hunks:
        before = "\n".join(old) + "\n"
        assert out[name].count(before) == 1, f"{where}: {name} has not exactly one {before!r}"
        out[name] = out[name].replace(before, "\n".join(new) + "\n")
    return out


def variants() -> list[Variant]:
    base = v1_sources()
    found = []
    for path in sorted((UPGRADES / "variants").glob("*.patch")):
        text = path.read_text("utf-8")
        title = next(line[1:].strip() for line in text.splitlines() if line.startswith("#"))
        renamed = dict(re.findall(r"^# observe (\w+) as (\w+)$", text, re.M))
        found.append(Variant(path.stem, title, apply_patch(base, text, str(path)), renamed))
    return found


def generate_java(sources: dict[str, str], out: Path) -> list[Path]:
    """The generated Java of the sources (bound to the e2e environment), without the runtime
    (the base jar has it)."""
    units = [
        Unit(parse_source(text, name), PACKAGE, text) for name, text in sorted(sources.items())
    ]
    files = generate(units, [], TARGETS["flink"], ENVIRONMENT)
    written = write_files(out / "java", files)
    return sorted(written)


def write_project(sources: dict[str, str], root: Path) -> Path:
    """A `nexflow` project of the sources (what the gate reads)."""
    (root / "src").mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (root / "src" / name).write_text(text, "utf-8")
    (root / "nexflow.toml").write_text(
        f'[project]\nname = "upgrades"\njava_package = "{PACKAGE}"\n\n[build]\nsources = ["src"]\n'
        f'default_environment = "{ENVIRONMENT}"\n',
        "utf-8",
    )
    return root


def changed_sources(base: Path, files: list[Path], java: Path) -> list[Path]:
    """The files of a build (under `java`) that differ from the base build's (under `base`),
    and, transitively, the unchanged ones that name a class of those: only these are compiled
    again (against the base build's classes), so no class keeps a stale view of another."""
    text = {f: f.read_text("utf-8") for f in files}
    todo = {f for f in files if not (base / f.relative_to(java)).is_file()
            or (base / f.relative_to(java)).read_text("utf-8") != text[f]}  # fmt: skip
    while True:
        names = "|".join(re.escape(f.stem) for f in todo)
        more = {
            f for f in files if f not in todo and names and re.search(rf"\b({names})\b", text[f])
        }
        if not more:
            return sorted(todo)
        todo |= more


def compile_builds(builds: dict[str, list[Path]], root: Path, classpath: str) -> None:
    """v1 (the first build) whole, with the matrix's main, then of each other build what
    differs from v1."""
    first, *others = builds
    main = UPGRADES / "java" / "UpgradeMatrixJob.java"
    specs = [f"{root / first / 'classes'}={listing(root / first, [*builds[first], main])}"]
    for name in others:
        files = changed_sources(root / first / "java", builds[name], root / name / "java")
        specs.append(f"{root / name / 'classes'}={listing(root / name, files)}"
                     f"={root / first / 'classes'}")  # fmt: skip
    java = procs.java_home() / "bin" / "java"
    tool = UPGRADES / "java" / "CompileMany.java"
    result = subprocess.run(
        [str(java), str(tool), classpath, *specs], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]


def listing(out: Path, files: list[Path]) -> Path:
    path = out / "sources.txt"
    path.write_text("\n".join(str(f) for f in files), "utf-8")
    return path


def package(classes: Path, jar: Path, base: Optional[Path] = None) -> Path:
    """A copy of the base jar with the build's classes added: those of `classes`, and those of
    the `base` build that `classes` does not replace (a recompiled class's nested classes all
    come from `classes`)."""
    shutil.copyfile(base_jar(), jar)
    entries = {p.relative_to(classes).as_posix(): p for p in classes.rglob("*.class")}
    if base is not None:
        replaced = {name.split("$")[0].removesuffix(".class") for name in entries}
        for path in base.rglob("*.class"):
            name = path.relative_to(base).as_posix()
            if name.split("$")[0].removesuffix(".class") not in replaced:
                entries[name] = path
    with zipfile.ZipFile(jar, "a", compression=zipfile.ZIP_DEFLATED) as out:
        for name, path in sorted(entries.items()):
            out.write(path, name)
    return jar


# -- the cluster -------------------------------------------------------------------------------


def upload(cluster: FlinkCluster, jar: Path) -> str:
    """POST /jars/upload; returns the jar's id."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="jarfile"; filename="{jar.name}"\r\n'
        "Content-Type: application/x-java-archive\r\n\r\n".encode()
    )
    body.write(jar.read_bytes())
    body.write(f"\r\n--{boundary}--\r\n".encode())
    request = urllib.request.Request(
        cluster.rest_url + "/jars/upload",
        data=body.getvalue(),
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=120) as response:
        answer = json.loads(response.read().decode("utf-8"))
    return answer["filename"].rsplit("/", 1)[-1]


def submit(
    cluster: FlinkCluster, jar_id: str, args: list[str], savepoint: Optional[str]
) -> tuple[Optional[str], str]:
    """POST /jars/:id/run (the main runs in the JobManager); returns (job id, "") or
    (None, the refusal, in full)."""
    body: dict[str, Any] = {"entryClass": MAIN, "programArgsList": args, "parallelism": 1}
    if savepoint is not None:
        # As `flink run --fromSavepoint` without --allowNonRestoredState.
        body.update(savepointPath=savepoint, allowNonRestoredState=False)
    request = urllib.request.Request(
        f"{cluster.rest_url}/jars/{jar_id}/run",
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=180) as response:
            return json.loads(response.read().decode("utf-8"))["jobid"], ""
    except urllib.error.HTTPError as e:
        return None, e.read().decode("utf-8", "replace").replace("\\n", "\n")


def started(cluster: FlinkCluster, job_id: str, timeout: float = 90) -> str:
    """Waits until every task runs (restored) or the job fails restoring; returns "" or the
    failure."""

    def probe() -> Optional[str]:
        job = cluster.job(job_id)
        history = cluster.rest(f"/jobs/{job_id}/exceptions").get("exceptionHistory", {})
        if history.get("entries") or job["state"] in ("FAILED", "RESTARTING", "CANCELED"):
            return cluster.job_exceptions(job_id) or job["state"]
        vertices = job.get("vertices", [])
        if (
            job["state"] == "RUNNING"
            and vertices
            and all(v.get("status") == "RUNNING" for v in vertices)
        ):
            return "ok"
        return None

    outcome = procs.wait_until(probe, timeout=timeout, what=f"job {job_id} to run or fail")
    return "" if outcome == "ok" else outcome


def topics(kafka: KafkaBroker, tag: str) -> dict[str, str]:
    # The sinks stamp records with their event time (2024): no time-based retention.
    return {s: kafka.unique_topic(f"upg-{tag}-{s}", **{"retention.ms": "-1"})
            for s in INPUTS + OUTPUTS}  # fmt: skip


def job_args(kafka: KafkaBroker, flink: FlinkCluster, bound: dict[str, str], tag: str) -> list:
    return [
        *[f"--stream.{s}=kafka:{t}" for s, t in bound.items()],
        f"--kafka.bootstrap.servers={kafka.bootstrap_servers}",
        "--kafka.security.protocol=PLAINTEXT",
        f"--kafka.group.id=upg-{tag}-{uuid.uuid4().hex[:6]}",
        "--flink.parallelism.default=1",
        f"--flink.execution.checkpointing.dir=file://{flink.checkpoint_dir}",
    ]


def auth(auth_id: str, card: str, amount: str, at: str, merchant: str = "m1") -> str:
    return json.dumps({"auth_id": auth_id, "card_id": card, "merchant": merchant,
                       "amount": amount, "event_time": f"2024-05-01T{at}Z"})  # fmt: skip


def settlement(auth_id: str, amount: str, at: str) -> str:
    return json.dumps({"auth_id": auth_id, "settled": amount, "event_time": f"2024-05-01T{at}Z"})


# v1: card c1 spends 10 then 20 (state, rolling, window), a1 and a2 wait for a repeat (correlate)
# and are remembered (dedup), j0 joins its settlement, j1's settlement waits for its auth (join).
# In event-time order: a record behind the watermark would be late (and not counted).
V1_AUTHS = [auth("j0", "cj", "1.00", "10:00:00", "m9"), auth("a1", "c1", "10.00", "10:00:00"),
            auth("a2", "c1", "20.00", "10:00:30")]  # fmt: skip
V1_SETTLEMENTS = [settlement("j0", "1.00", "10:00:00"), settlement("j1", "7.00", "10:00:00")]
# Each variant, first: a1 again (5.00, a minute later), j1's auth, and k1 with its settlement
# (k1's join shows that the join has read both streams to 10:01).
PROBE_AUTHS = [auth("a1", "c1", "5.00", "10:01:00"), auth("j1", "cj", "1.00", "10:01:00", "m9"),
               auth("k1", "ck", "1.00", "10:01:00", "m9")]  # fmt: skip
PROBE_SETTLEMENTS = [settlement("k1", "1.00", "10:01:00")]
# Then z on both streams four hours later: the watermark passes every window and wait of 10:xx.
# (Sent at once, z's settlement could move the join's watermark past j1's auth while that
# source has not yet been given its new topic: j1 would be late and look unjoined.)
LAST_AUTHS = [auth("z", "cz", "1.00", "14:00:00", "m9")]
LAST_SETTLEMENTS = [settlement("z", "1.00", "14:00:00")]


def consume_until(
    kafka: KafkaBroker, topic: str, done: Callable[[list], bool], timeout: float = 180
) -> list:
    # A bound, not a pace: on a loaded CI machine a job's first output can take minutes.
    deadline = time.monotonic() + timeout
    while True:
        records = kafka.consume_json(topic, timeout=10)
        if done(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.3)


def has(key: str, value: str) -> Callable[[list], bool]:
    return lambda records: any(r.get(key) == value for r in records)


def read_outputs(kafka: KafkaBroker, flink: FlinkCluster, job_id: str, bound: dict) -> dict:
    """The outputs once every proc has shown it read to z (or, for the correlation, timed j1
    out), and a checkpoint after that has flushed every sink."""
    sentinels = {
        "spend_out": has("auth_id", "z"),
        "velocity_out": has("auth_id", "z"),
        "window_out": has("card_id", "cj"),
        "deduped": has("auth_id", "z"),
        "unmatched": has("auth_id", "j1"),
        "settled_out": has("auth_id", "z"),
    }
    for stream, done in sentinels.items():
        consume_until(kafka, bound[stream], done)
    flink.wait_for_checkpoints(job_id, flink.completed_checkpoints(job_id) + 1, timeout=30)
    return {s: kafka.consume_json(bound[s], timeout=10) for s in OUTPUTS}


def observe(out: dict) -> dict[str, str]:
    """Per state: kept (the probe's output continues v1), empty (it starts fresh), or what was
    seen instead."""

    def row(stream: str, key: str, value: str) -> Optional[dict]:
        rows = [r for r in out[stream] if r.get(key) == value]
        return rows[-1] if rows else None

    def judge(value: Any, kept: Any, empty: Any) -> str:
        if value is not None and Decimal(str(value)) == Decimal(str(kept)):
            return "kept"
        if value is not None and Decimal(str(value)) == Decimal(str(empty)):
            return "empty"
        return f"? {value}"

    def both(count: str, total: str) -> str:
        """A run or window keeps a count and a sum: both kept, both empty, or which was lost."""
        if count == total:
            return count
        return f"count {count}, total {total}"

    seen: dict[str, str] = {}
    spend = row("spend_out", "auth_id", "a1") or {}
    seen["spent"] = judge(spend.get("spent"), 35, 5)
    seen["seen"] = judge(spend.get("seen"), 3, 1)
    seen["last"] = judge(spend.get("first_amount"), 10, 5)
    velocity = row("velocity_out", "auth_id", "a1") or {}
    seen["rolling"] = both(judge(velocity.get("n"), 3, 1), judge(velocity.get("total"), 35, 5))
    if seen["rolling"] != "kept":
        seen["rolling"] += " " + json.dumps(velocity)
    # A changed window size leaves the restored windows to fire as they were: count c1's
    # records in every window of 10:xx.
    windows = [r for r in out["window_out"] if r.get("card_id") == "c1"]
    seen["window"] = both(
        judge(sum(int(r["n"]) for r in windows) if windows else None, 3, 1),
        judge(sum(Decimal(str(r["total"])) for r in windows) if windows else None, 35, 5),
    )
    if seen["window"] != "kept":
        seen["window"] += " " + json.dumps(windows)
    deduped = [r["auth_id"] for r in out["deduped"]]
    seen["dedup"] = "kept" if "a1" not in deduped else "empty"
    matched = [r["auth_id"] for r in out["matched"]]
    unmatched = [r["auth_id"] for r in out["unmatched"]]
    seen["correlate"] = (
        "kept" if "a1" in matched and "a2" in unmatched
        else "empty" if "a1" in unmatched and not matched else f"? matched {matched}"
    )  # fmt: skip
    settled = [r["auth_id"] for r in out["settled_out"]]
    seen["join"] = "kept" if "j1" in settled else "empty"
    return seen


def ordered(states: list[str]) -> list[str]:
    return sorted(states, key=lambda s: (STATES.index(s) if s in STATES else len(STATES), s))


@dataclass
class Outcome:
    """What Flink did with a variant."""

    refused: str = ""
    states: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        if self.refused:
            return "refused"
        odd = [f"{k}={v}" for k, v in self.states.items() if v.startswith("?")]
        if odd:
            return "unclear: " + ", ".join(odd)
        # Part of a state lost (a window's sum but not its count) is a loss of that state.
        empty = [k for k, v in self.states.items() if v != "kept"]
        return "kept" if not empty else "empty: " + ", ".join(ordered(empty))


def first_line_of_cause(text: str) -> str:
    """The most telling line of a refusal: Flink's own reason, not its wrappers'."""
    for pattern in (r"(Cannot map checkpoint/savepoint state for operator \w+)",
                    r"(StateMigrationException: [^\n]*)",
                    r"(Could not find class '[^']*')",
                    r"(The new [^\n]*serializer[^\n]*)"):  # fmt: skip
        found = re.search(pattern, text)
        if found:
            return found.group(1)[:400]
    causes = re.findall(r"Caused by: ([^\n]*)", text)
    if causes:
        return causes[-1][:400]
    return text.strip().splitlines()[0][:400] if text.strip() else "?"


def run_variant(
    kafka: KafkaBroker, flink: FlinkCluster, variant: Variant, jar: Path, savepoint: str
) -> Outcome:
    """Starts the variant's build from the v1 savepoint, on topics of its own, and observes
    what its probes show."""
    began = time.monotonic()
    outcome = Outcome()
    tag = variant.name[:2]
    bound = topics(kafka, tag)
    kafka.produce_lines(bound["auths"], PROBE_AUTHS, partition=0)
    kafka.produce_lines(bound["settlements"], PROBE_SETTLEMENTS, partition=0)
    job_id, refusal = submit(
        flink, upload(flink, jar), job_args(kafka, flink, bound, tag), savepoint
    )
    if job_id is not None:
        refusal = started(flink, job_id)
    if refusal:
        outcome.refused = first_line_of_cause(refusal)
    else:
        assert job_id is not None
        joined = consume_until(kafka, bound["settled_out"], has("auth_id", "k1"))
        assert has("auth_id", "k1")(joined), f"{variant.name}: the join did not read k1"
        kafka.produce_lines(bound["auths"], LAST_AUTHS, partition=0)
        kafka.produce_lines(bound["settlements"], LAST_SETTLEMENTS, partition=0)
        observed = observe(read_outputs(kafka, flink, job_id, bound))
        outcome.states = {variant.renamed.get(k, k): v for k, v in observed.items()}
    if job_id is not None:
        flink.cancel_job(job_id)
    outcome.seconds = time.monotonic() - began
    return outcome


# -- the gate ----------------------------------------------------------------------------------


def run_cli(args: list[str]) -> tuple[int, str]:
    """`nexflow <args>` in this process (no interpreter start per call); (exit code, stdout)."""
    import contextlib

    from nexflow_core import cli

    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = cli.main(args)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 2
    return int(code or 0), out.getvalue()


# What a verdict's loss names (the DSL's names) are in the matrix's terms.
GATE_NAMES = (("rolling", "rolling"), ("window", "window"), ("dedup", "dedup"),
              ("deduplicate", "dedup"), ("correlate", "correlate"), ("join", "join"))  # fmt: skip


def matrix_name(loss: str) -> str:
    """A loss as the gate names it (`seen`, `rolling.n`, `dedup.auth_id`, …) in the matrix's
    names."""
    for prefix, ours in GATE_NAMES:
        if loss.startswith(prefix):
            return ours
    return loss


def gate_verdict(baseline: Path, project: Path) -> tuple[str, str]:
    """(the verdict in the matrix's terms: "refused" | "kept" | "empty: a, b", the gate's
    own words)."""
    code, stdout = run_cli(["compat", "--baseline", str(baseline), "--project", str(project),
                            "--environment", ENVIRONMENT, "--format", "json"])  # fmt: skip
    if code == 2 or not stdout.strip():
        return "error", f"exit {code}: {stdout[-300:]}"
    report = json.loads(stdout)
    words = "; ".join(f"{j['job']}: {j['verdict']}" for j in report["jobs"]
                      if j["verdict"] != "compatible") or "compatible"  # fmt: skip
    verdicts = [j["verdict"] for j in report["jobs"]]
    if any(v == "incompatible" for v in verdicts):
        return "refused", words
    lost = sorted(
        {
            matrix_name(x)
            for v in verdicts
            if v.startswith("compatible, loses ")
            for x in v[len("compatible, loses ") :].split(",")
        }  # fmt: skip
    )
    return ("kept" if not lost else "empty: " + ", ".join(ordered(lost))), words


# -- the matrix --------------------------------------------------------------------------------


def test_each_upgrade_restores_as_the_gate_says(
    kafka_broker: KafkaBroker, flink_cluster: FlinkCluster, tmp_path: Path
) -> None:
    began = time.monotonic()
    kafka, flink = kafka_broker, flink_cluster
    matrix = variants()
    builds = {"v1": v1_sources(), **{v.name: v.sources for v in matrix}}
    java = {n: generate_java(s, tmp_path / n) for n, s in builds.items()}
    classpath = ":".join(
        [str(base_jar())] + sorted(str(j) for j in (flink.flink_home / "lib").glob("*.jar"))
    )
    compile_builds(java, tmp_path, classpath)
    v1_classes = tmp_path / "v1" / "classes"
    jars = {n: package(tmp_path / n / "classes", tmp_path / n / "job.jar",
                       None if n == "v1" else v1_classes) for n in builds}  # fmt: skip
    built = time.monotonic() - began
    record_timing(f"upgrade matrix: generate + compile + package {len(builds)} builds", built)

    # v1 runs, holds state of every kind, and stops with a savepoint.
    bound = topics(kafka, "v1")
    kafka.produce_lines(bound["auths"], V1_AUTHS, partition=0)
    kafka.produce_lines(bound["settlements"], V1_SETTLEMENTS, partition=0)
    job_id, refusal = submit(flink, upload(flink, jars["v1"]), job_args(kafka, flink, bound, "v1"),
                             None)  # fmt: skip
    assert job_id, refusal
    assert started(flink, job_id) == ""
    for stream, done in {
        "spend_out": lambda r: len(r) >= 3,
        "velocity_out": lambda r: len(r) >= 3,
        "deduped": lambda r: len(r) >= 3,
        "settled_out": has("auth_id", "j0"),
    }.items():
        assert done(consume_until(kafka, bound[stream], done)), stream
    savepoint = flink.stop_with_savepoint(job_id)
    v1_done = time.monotonic()

    baseline = tmp_path / "baseline"
    code, out = run_cli(["baseline", "--project", str(write_project(builds["v1"],
                         tmp_path / "project-v1")), "--environment", ENVIRONMENT,
                         "--output-dir", str(baseline)])  # fmt: skip
    assert code == 0, out

    def run(variant: Variant) -> Outcome:
        return run_variant(kafka, flink, variant, jars[variant.name], savepoint)

    # Side by side: a variant's job mostly waits (for the broker, for its first checkpoint).
    with ThreadPoolExecutor(max_workers=SIDE_BY_SIDE) as pool:
        outcomes = list(pool.map(run, matrix))
    rows = []
    for variant, outcome in zip(matrix, outcomes):
        verdict, words = gate_verdict(
            baseline, write_project(variant.sources, tmp_path / f"project-{variant.name}")
        )
        rows.append((variant, outcome, verdict, words))

    took = time.monotonic() - began
    record_timing("upgrade matrix: v1 run + savepoint", v1_done - began - built)
    record_timing(f"upgrade matrix: all ({len(matrix)} variants)", took)
    matching = sum(1 for _, o, v, _ in rows if v == o.summary())
    lines = [f"{'variant':28} {'gate verdict':24} {'flink outcome':24} match  ({'seconds'})"]
    for variant, outcome, verdict, words in rows:
        lines.append(f"{variant.name:28} {verdict:24} {outcome.summary():24} "
                     f"{'yes' if verdict == outcome.summary() else 'NO ':5}  "
                     f"({outcome.seconds:.0f} s)")  # fmt: skip
        lines.append(f"    {variant.title}")
        if outcome.refused:
            lines.append(f"    flink: {outcome.refused}")
        elif any(s != "kept" for s in outcome.states.values()):
            lines.append("    flink: " + ", ".join(f"{k}={v}" for k, v in outcome.states.items()))
        lines.append(f"    gate: {words}")
    lines.append(f"variants={len(rows)} verdicts_matching={matching}")
    lines.append(f"matrix {took:.0f} s (builds {built:.0f} s)")
    table = "\n".join(lines)
    print("\n" + table)
    record_report("upgrade matrix", table)
    (tmp_path / "matrix.txt").write_text(table + "\n", "utf-8")
    assert matching == len(rows), table
