"""`nexflow init` and `nexflow build`: the scaffold builds out of the box; layer order;
incremental builds with early cutoff; environments; errors as located diagnostics."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from cli_helpers import java_files, make_project, nexflow, snapshot  # pants: no-infer-dep

from nexflow_core.tool.build import BuildOptions, build, layer_order, link_units, read_units
from nexflow_core.tool.config import load_config
from nexflow_core.tool.progress import Progress

OUT = Path("build/nexflow")
JAVA = OUT / "src/main/java"


def run_build(root: Path, *extra: str):
    return nexflow("build", "--progress", "plain", *extra, cwd=root)


def quiet_build(root: Path, **options):
    """A build through the API, to look at what it did."""
    return build(
        load_config(root), BuildOptions(progress="plain", **options), io.StringIO(), io.StringIO()
    )


def test_init_writes_a_project(tmp_path: Path) -> None:
    r = nexflow("init", "acme-payments", cwd=tmp_path)
    assert r.code == 0, r.err
    root = tmp_path / "acme-payments"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "README.md",
        "data/orders.jsonl",
        "nexflow.toml",
        "src/large_orders.proc",
        "src/local.infra",
        "src/order_checks.rules",
        "src/orders.nxtest",
        "src/orders.schema",
        "src/pricing.transform",
    ]
    config = load_config(root)
    assert (config.name, config.java_package) == ("acme-payments", "com.example.acme_payments")
    assert config.default_environment == "local"
    assert "next: cd acme-payments && nexflow build" in r.out
    # Refuses to overwrite.
    again = nexflow("init", "acme-payments", cwd=tmp_path)
    assert again.code == 1 and "already has nexflow.toml" in again.err
    bad = nexflow("init", "x", "--java-package", "com.class", cwd=tmp_path)
    assert bad.code == 1 and "not a Java package" in bad.err


def test_scaffold_builds_out_of_the_box_and_checks_clean(project: Path) -> None:
    assert nexflow("check", "src", cwd=project).code == 0
    r = run_build(project)
    assert r.code == 0, r.out + r.err
    assert r.err == ""
    # Layer order: schema, transform, rules, proc; then the environments and the runtime.
    # (How many Java files each unit gives is the generator's business.)
    lines = [re.sub(r"\(\d+ Java files?\)", "(n Java)", line) for line in r.out.splitlines()]
    assert lines == [
        "compiled   src/orders.schema  (n Java)",
        "compiled   src/pricing.transform  (n Java)",
        "compiled   src/order_checks.rules  (n Java)",
        "compiled   src/large_orders.proc  (n Java)",
        "checked    environments: src/local.infra  (1 environment)",
        "wrote      the L0 runtime  (n Java)",
        "built 6 units (6 compiled, 0 up to date) into build/nexflow, environment local",
    ]
    java = java_files(project / JAVA)
    assert "com/example/demo/LargeOrdersJob.java" in java
    assert "com/example/demo/Order.java" in java
    assert any(p.startswith("nexflow/runtime/") for p in java)
    job = (project / JAVA / "com/example/demo/LargeOrdersJob.java").read_text()
    assert "src/large_orders.proc:6" in job  # the filter's origin
    args = (project / OUT / "environments/local/LargeOrders.args").read_text()
    assert args.splitlines() == [
        "--flink.parallelism.default=1",
        "--nexflow.environment=local",
        "--stream.large_orders=file:out/large_orders",
        "--stream.orders=file:data/orders.jsonl",
        "--stream.rejected_orders=file:out/rejected_orders",
    ]
    assert args.splitlines() == _defaults(job)


def test_second_build_does_no_work_and_touches_nothing(project: Path, monkeypatch) -> None:
    import nexflow_core.tool.build as build_module

    assert run_build(project).code == 0
    before = snapshot(project / OUT)

    def no_parsing(*args, **kwargs):
        raise AssertionError("an unchanged file was parsed again")

    monkeypatch.setattr(build_module, "file_symbols", no_parsing)
    monkeypatch.setattr(build_module, "compile_unit", no_parsing)
    r = quiet_build(project)
    assert r.ok and r.compiled == []
    assert len(r.up_to_date) == 6
    assert snapshot(project / OUT) == before  # same bytes, same mtimes


def test_body_edit_recompiles_only_that_unit(project: Path) -> None:
    assert run_build(project).code == 0
    schema = project / "src/orders.schema"
    schema.write_text(schema.read_text().replace("validate quantity > 0", "validate quantity > 1"))
    r = quiet_build(project)
    assert r.ok and r.compiled == ["src/orders.schema"]  # its interface bytes did not change
    proc = project / "src/large_orders.proc"
    proc.write_text(proc.read_text().replace(">= 10", ">= 20"))
    r = quiet_build(project)
    assert r.compiled == ["src/large_orders.proc"]
    job = (project / JAVA / "com/example/demo/LargeOrdersJob.java").read_text()
    assert "filter quantity >= 20" in job and ".quantity, 20))" in job


def test_interface_edit_recompiles_downstream(project: Path) -> None:
    assert run_build(project).code == 0
    schema = project / "src/orders.schema"
    schema.write_text(
        schema.read_text().replace("    quantity: int\n", "    quantity: int\n    note: string?\n")
    )
    r = quiet_build(project)
    assert r.ok
    assert r.compiled == [
        "src/orders.schema",
        "src/pricing.transform",
        "src/order_checks.rules",
        "src/large_orders.proc",
        "(environments)",
    ]
    assert "note" in (project / JAVA / "com/example/demo/Order.java").read_text()


def test_deleted_and_tampered_outputs(project: Path) -> None:
    assert run_build(project).code == 0
    order = project / JAVA / "com/example/demo/Order.java"
    good = order.read_bytes()
    order.write_text("// edited by hand\n")
    r = quiet_build(project)
    assert r.compiled == ["src/orders.schema"] and order.read_bytes() == good
    order.unlink()
    assert quiet_build(project).compiled == ["src/orders.schema"] and order.is_file()
    # A unit that goes away takes its outputs with it.
    (project / "src/large_orders.proc").unlink()
    r = run_build(project)
    assert r.code == 0 and "removed    src/large_orders.proc" in r.out
    assert not (project / JAVA / "com/example/demo/LargeOrdersJob.java").exists()
    assert not (project / OUT / "environments/local/LargeOrders.args").exists()


def test_environments(project: Path) -> None:
    infra = project / "src/local.infra"
    infra.write_text(
        infra.read_text()
        + """
environment production {
    parallelism: 8
    checkpoint {
        interval: 1 minute
        mode: exactly_once
        storage: "s3://orders-checkpoints/production"
    }
    streams {
        orders {
            topic: "prod.orders"
        }
        large_orders {
            topic: "prod.orders.large"
        }
        rejected_orders {
            topic: "prod.orders.rejected"
        }
        dead_letter {
            topic: "prod.orders.dead_letter"
        }
    }
}
"""
    )
    r = run_build(project, "--environment", "production")
    assert r.code == 0, r.out + r.err
    assert "environment production" in r.out
    args = (project / OUT / "environments/production/LargeOrders.args").read_text().splitlines()
    assert [a for a in args if not a.startswith("--stream.dead_letter")] == [
        "--flink.execution.checkpointing.dir=s3://orders-checkpoints/production",
        "--flink.execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
        "--flink.execution.checkpointing.interval=60000 ms",
        "--flink.execution.checkpointing.mode=EXACTLY_ONCE",
        "--flink.execution.checkpointing.tolerable-failed-checkpoints=0",
        "--flink.parallelism.default=8",
        # A cluster environment's max parallelism is explicit even when undeclared.
        "--flink.pipeline.max-parallelism=128",
        "--nexflow.environment=production",
        "--stream.large_orders=kafka:prod.orders.large",
        "--stream.orders=kafka:prod.orders",
        "--stream.rejected_orders=kafka:prod.orders.rejected",
        "--tokens.require_key=true",
    ]
    job = (project / JAVA / "com/example/demo/LargeOrdersJob.java").read_text()
    assert args == _defaults(job)
    assert not (project / OUT / "environments/local").exists()
    bad = run_build(project, "--environment", "staging")
    assert bad.code == 1
    assert "unknown environment 'staging' (--environment); known: local, production" in bad.err


def _defaults(job: str) -> list[str]:
    """The settings a generated job class starts from (its defaults()), as program arguments."""
    body = job[job.index("public static Map<String, String> defaults()") :]
    body = body[: body.index("return settings;")]
    pairs = re.findall(r'settings\.put\("([^"]+)", "((?:[^"\\]|\\.)*)"\);', body)
    return sorted(f"--{k}={v.encode().decode('unicode_escape')}" for k, v in pairs)


def test_environment_args_carry_every_execution_setting(project: Path) -> None:
    """The args carry every setting of how the job runs (the Flink options), as the job's
    defaults() has them. Before, the build kept
    its own list of Flink options, without max parallelism (a class bound to an environment with
    another one could not restore this environment's state), checkpoint min_pause or
    incremental checkpoints."""
    infra = project / "src/local.infra"
    infra.write_text(
        infra.read_text()
        + """
environment production {
    parallelism: 8
    max_parallelism: 256
    state_backend: rocksdb
    buffer_timeout: 5 milliseconds
    checkpoint {
        interval: 1 minute
        min_pause: 10 seconds
        timeout: 5 minutes
        storage: "s3://orders-checkpoints/production"
    }
    streams {
        orders { topic: "prod.orders" }
        large_orders { topic: "prod.orders.large" }
        rejected_orders { topic: "prod.orders.rejected" }
        dead_letter { topic: "prod.orders.dead_letter" }
    }
}
"""
    )
    r = run_build(project, "--environment", "production")
    assert r.code == 0, r.out + r.err
    args = (project / OUT / "environments/production/LargeOrders.args").read_text().splitlines()
    flink = [a for a in args if a.startswith("--flink.")]
    assert flink == [
        "--flink.execution.buffer-timeout.interval=5 ms",
        "--flink.execution.checkpointing.dir=s3://orders-checkpoints/production",
        "--flink.execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
        "--flink.execution.checkpointing.incremental=true",
        "--flink.execution.checkpointing.interval=60000 ms",
        "--flink.execution.checkpointing.min-pause=10000 ms",
        "--flink.execution.checkpointing.timeout=300000 ms",
        "--flink.execution.checkpointing.tolerable-failed-checkpoints=1",
        "--flink.parallelism.default=8",
        "--flink.pipeline.max-parallelism=256",
        "--flink.state.backend.type=rocksdb",
    ]
    # The same options and values the job class bound to production starts from.
    job = (project / JAVA / "com/example/demo/LargeOrdersJob.java").read_text()
    for a in flink:
        key, _, value = a[2:].partition("=")
        assert f'settings.put("{key}", "{value}");' in job, a


def test_unbound_stream_fails_the_build(project: Path) -> None:
    infra = project / "src/local.infra"
    infra.write_text(
        infra.read_text().replace(
            'large_orders {\n            file: "out/large_orders"\n        }', ""
        )
    )
    r = run_build(project)
    assert r.code == 1
    assert (
        "src/local.infra:2:1: error[NX501]: environment local does not bind stream 'large_orders'"
        in r.err
    )
    assert r.out.splitlines()[-1].startswith("build failed:")


def test_errors_are_located_and_dependents_skipped(project: Path) -> None:
    schema = project / "src/orders.schema"
    schema.write_text(schema.read_text().replace("quantity: int", "quantity int"))
    r = run_build(project)
    assert r.code == 1
    assert "src/orders.schema:6:14: error[NX101]" in r.err
    assert " 6 |     quantity int" in r.err
    assert "failed     src/orders.schema" in r.out
    assert (
        "skipped    src/large_orders.proc  (it depends on src/orders.schema, which has errors)"
        in r.out
    )
    assert "Traceback" not in r.err


def test_a_compiler_bug_exits_2_and_skips_the_units_that_use_the_unit(
    project: Path, monkeypatch
) -> None:
    import nexflow_core.generate.unit_compile as unit_compile

    real = unit_compile.generate_checked

    def broken_for_schemas(project_, packages, target, environment, upstream):  # type: ignore[no-untyped-def]
        if any(path.endswith(".schema") for path in project_.modules):
            raise ValueError("no Java type for unknown")
        return real(project_, packages, target, environment, upstream)

    monkeypatch.setattr(unit_compile, "generate_checked", broken_for_schemas)
    r = run_build(project)
    assert r.code == 2, r.err
    assert "internal error while compiling src/orders.schema: ValueError" in r.err
    assert "failed     src/orders.schema" in r.out
    # Its Java was not written: the proc that uses its classes is not generated either.
    assert "skipped    src/large_orders.proc" in r.out
    assert not list((project / JAVA).rglob("LargeOrders*.java"))
    assert "Traceback" not in r.err


def test_a_flow_the_generator_cannot_render_is_a_check_error(project: Path) -> None:
    proc = project / "src/large_orders.proc"
    # Correlating the source with itself: once an NX901 of the generator after a clean check,
    # now the checker's (what `check` accepts must build).
    proc.write_text(
        proc.read_text().replace(
            "    filter", "    correlate with orders by order_id within 5 minutes\n    filter"
        )
    )
    assert nexflow("check", str(project / "src")).code == 1
    r = run_build(project)
    assert r.code == 1
    assert "src/large_orders.proc:6:5: error[NX420]" in r.err
    assert "failed     src/large_orders.proc" in r.out


def test_an_error_the_checker_missed_is_an_internal_error_naming_its_code(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guard of the generator for a user error (here keyed state without `key by`, the
    checker's NX430) is never NX901: should the checker miss it, the build says which code it
    missed, as an internal error (exit 2), without a traceback."""
    from nexflow_core.check.context import Ctx

    report = Ctx.error

    def without_nx430(self: Ctx, code: str, *args: object, **kwargs: object) -> None:
        if code != "NX430":
            report(self, code, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Ctx, "error", without_nx430)
    proc = project / "src/large_orders.proc"
    body = proc.read_text().replace("    filter", "    state seen: long ttl 1 hour\n    filter")
    proc.write_text(body)
    r = run_build(project)
    assert r.code == 2, r.err
    assert "internal error while compiling src/large_orders.proc: CheckerMissed: " in r.err
    assert "src/large_orders.proc:6:5: keyed state without `key by` before it" in r.err
    assert "the checker refuses it (NX430)" in r.err
    assert "NX901" not in r.err and "Traceback" not in r.err


def test_names_declared_twice(project: Path) -> None:
    (project / "src/more.schema").write_text("schema Order {\n    id: string\n}\n")
    r = run_build(project)
    assert r.code == 1
    assert (
        "src/orders.schema:2:8: error[NX202]" in r.err
        or "src/more.schema:1:8: error[NX202]" in r.err
    )


def test_output_dir_and_determinism(tmp_path: Path) -> None:
    a = make_project(tmp_path / "one")
    b = make_project(tmp_path / "two")
    assert run_build(a).code == 0
    assert run_build(b, "--output-dir", str(tmp_path / "elsewhere")).code == 0
    left, right = a / OUT, tmp_path / "elsewhere"
    assert java_files(left) == java_files(right)
    for rel in java_files(left):
        assert (left / rel).read_bytes() == (right / rel).read_bytes(), rel


def test_no_project_file(tmp_path: Path) -> None:
    r = nexflow("build", cwd=tmp_path)
    assert r.code == 1 and "no nexflow.toml" in r.err and "nexflow init" in r.err
    (tmp_path / "nexflow.toml").write_text('[project]\nname = "x"\n')
    r = nexflow("build", cwd=tmp_path)
    assert r.code == 1 and "nexflow.toml" in r.err and "java_package" in r.err


def test_layer_order_follows_dependencies(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "src").mkdir(parents=True)
    (root / "nexflow.toml").write_text('[project]\nname = "p"\njava_package = "p"\n')
    files = {
        "a.proc": "proc P {\n    from s\n    emit to s2\n}\n",
        "b.schema": "stream s: Base\nstream s2: Base\n",
        "c.schema": "schema Base {\n    id: string\n}\n",
        "z.rules": "ruleset R for b: Base {\n    rule r {\n        then flag\n    }\n}\n",
    }
    for name, text in files.items():
        (root / "src" / name).write_text(text)
    units, _, _ = read_units(load_config(root))
    assert link_units(units) == []
    order, cycles = layer_order(units)
    assert cycles == []
    assert [u.path for u in order] == ["src/c.schema", "src/b.schema", "src/z.rules", "src/a.proc"]


def test_progress_on_a_terminal_shows_durations() -> None:
    ticks = iter([0.0, 1.0, 1.25, 3.5])
    out = io.StringIO()
    p = Progress(out, mode="tty", clock=lambda: next(ticks))
    p.begin(1)
    started = p.unit_started("compiling", "src/a.schema")
    p.unit_done("compiled", "src/a.schema", started, "1 Java file")
    p.summary("built 1 units")
    text = out.getvalue()
    assert "[1/1]" in text and "\r\033[K" in text
    assert "250 ms" in text and "in 3.5 s" in text
    plain = io.StringIO()
    q = Progress(plain, mode="auto")  # a StringIO is not a terminal
    q.begin(1)
    q.unit_done("compiled", "src/a.schema", q.unit_started("compiling", "src/a.schema"))
    q.summary("built 1 units")
    assert plain.getvalue() == "compiled   src/a.schema\nbuilt 1 units\n"


def test_state_file_is_deterministic(tmp_path: Path) -> None:
    a = make_project(tmp_path / "one")
    b = make_project(tmp_path / "two")
    run_build(a)
    run_build(b)
    sa = json.loads((a / OUT / ".nexflow/state.json").read_text())
    sb = json.loads((b / OUT / ".nexflow/state.json").read_text())
    assert sa == sb


def test_clean_and_unsafe_output_directories(project: Path, tmp_path: Path) -> None:
    assert run_build(project).code == 0
    stale = project / JAVA / "stale/Old.java"
    stale.parent.mkdir(parents=True)
    stale.write_text("class Old {}\n")
    assert run_build(project, "--clean").code == 0
    assert not stale.exists() and (project / JAVA / "com/example/demo/Order.java").is_file()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("precious")
    r = run_build(project, "--clean", "--output-dir", str(mine))
    assert r.code == 1 and "has no Nexflow build state" in r.err
    assert (mine / "keep.txt").read_text() == "precious"
    for bad in (project, project / "src", project / "src" / "gen"):
        r = run_build(project, "--output-dir", str(bad))
        assert r.code == 1 and ("holds the whole project" in r.err or "overlaps" in r.err), bad


def test_same_bytes_under_any_hash_seed(tmp_path: Path) -> None:
    """Two builds in fresh interpreters with different PYTHONHASHSEEDs write the same files."""
    import os
    import subprocess
    import sys

    from cli_helpers import ROOT  # pants: no-infer-dep

    outputs = []
    for seed in ("1", "12345"):
        root = make_project(tmp_path / seed)
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        r = subprocess.run(
            [sys.executable, "-m", "nexflow_core", "build", "--progress", "plain"],
            cwd=str(root),
            env=env,
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        out = root / OUT
        outputs.append(
            {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        )
    assert outputs[0] == outputs[1]
