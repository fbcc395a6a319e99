"""`nexflow baseline` and `nexflow compat` on a project made in a temporary directory: the
baseline directory, the JSON shape of gate_contract.md, exit statuses, --allow-loss, and a git
revision as the baseline (no stored files)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from nexflow_core.cli import main

TOML = """[project]
name = "gate"
java_package = "com.example.gate"

[build]
sources = ["src"]
output_dir = "build/nexflow"
default_environment = "local"
"""

SCHEMA = """schema Order {
    order_id: string @key
    customer: string
    quantity: int
}

stream orders: Order
stream large_orders: Order
"""

INFRA = """environment local {
    streams {
        orders {
            file: "data/orders.jsonl"
        }
        large_orders {
            file: "out/large_orders.jsonl"
        }
    }
}
"""

PROC = """proc Large {
    from orders
    key by customer
    state seen: long ttl 1 hour
    state last_quantity: int ttl 1 hour
    update seen = coalesce(seen, 0) + 1
    update last_quantity = quantity
    filter quantity >= 10
    emit to large_orders
}
"""


def _project(root: Path, proc: str = PROC) -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "nexflow.toml").write_text(TOML)
    (root / "src" / "orders.schema").write_text(SCHEMA)
    (root / "src" / "local.infra").write_text(INFRA)
    (root / "src" / "large.proc").write_text(proc)
    return root


def _run(capsys: pytest.CaptureFixture, *argv: str) -> tuple:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_baseline_writes_interfaces_and_state_descriptions(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    project = _project(tmp_path / "p")
    out = tmp_path / "base"
    code, stdout, err = _run(capsys, "baseline", "--project", str(project), "--output-dir",
                             str(out))  # fmt: skip
    assert code == 0, err
    assert "1 job(s)" in stdout and "environment local" in stdout
    assert (out / "interfaces" / "src" / "large.proc.nxi").is_file()
    assert (out / "interfaces" / "src" / "orders.schema.nxi").is_file()
    description = json.loads((out / "Large.state.json").read_text())
    keyed = next(o for o in description["operators"] if o["uid"] == "Large.state.customer.seen")
    assert {s["name"] for s in keyed["states"]} >= {"seen", "last_quantity"}
    assert keyed["key"]["type"]["serializer"] == "STRING"
    # Deterministic: a second baseline is byte-identical.
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, _, _ = _run(capsys, "baseline", "--project", str(project), "--output-dir", str(out))
    assert code == 0
    assert first == {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_build_writes_the_state_description_beside_the_args(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    project = _project(tmp_path / "p")
    code, _, err = _run(capsys, "build", "--project", str(project))
    assert code == 0, err
    env = project / "build" / "nexflow" / "environments" / "local"
    assert (env / "Large.args").is_file()
    assert json.loads((env / "Large.state.json").read_text())["job"] == "Large"


def test_compat_json_verdicts_and_exit_statuses(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    project = _project(tmp_path / "p")
    base = tmp_path / "base"
    assert _run(capsys, "baseline", "--project", str(project), "--output-dir", str(base))[0] == 0

    code, stdout, _ = _run(capsys, "compat", "--baseline", str(base), "--project", str(project),
                           "--format", "json")  # fmt: skip
    assert code == 0
    answer = json.loads(stdout)
    assert set(answer) == {"jobs", "contracts"} and answer["contracts"] == []
    [job] = answer["jobs"]
    assert set(job) == {"job", "verdict", "operators"}
    assert job["verdict"] == "compatible"
    for op in job["operators"]:
        assert set(op) == {"uid", "change", "states"} and op["change"] == "kept"
        for s in op["states"]:
            assert set(s) == {"name", "change", "detail"} and s["change"] == "same"

    # A renamed state: a loss, refused unless allowed.
    (project / "src" / "large.proc").write_text(PROC.replace("last_quantity", "previous_quantity"))
    code, stdout, _ = _run(capsys, "compat", "--baseline", str(base), "--project", str(project),
                           "--format", "json")  # fmt: skip
    assert code == 1
    [job] = json.loads(stdout)["jobs"]
    assert job["verdict"] == "compatible, loses previous_quantity"
    changes = {s["name"]: s["change"] for o in job["operators"] for s in o["states"]}
    assert changes["previous_quantity"] == "reset"
    code, stdout, err = _run(capsys, "compat", "--baseline", str(base), "--project",
                             str(project), "--allow-loss", "Large.previous_quantity")  # fmt: skip
    assert code == 0, stdout
    assert "Large: compatible, loses previous_quantity" in stdout
    assert "loses previous_quantity: allowed" in stdout
    assert "[NX603]" in err and "src/large.proc:5:" in err

    # A changed state type: incompatible whatever is allowed.
    (project / "src" / "large.proc").write_text(
        PROC.replace("state last_quantity: int", "state last_quantity: string").replace(
            "update last_quantity = quantity", "update last_quantity = customer"
        )
    )
    code, stdout, err = _run(capsys, "compat", "--baseline", str(base), "--project",
                             str(project), "--allow-loss", "Large.last_quantity")  # fmt: skip
    assert code == 1
    assert "Large: incompatible" in stdout
    assert "warning: --allow-loss Large.last_quantity names no state" in stdout
    assert "[NX605]" in err


def test_compat_without_a_baseline_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    project = _project(tmp_path / "p")
    code, _, err = _run(capsys, "compat", "--baseline", str(tmp_path / "empty"), "--project",
                        str(project))  # fmt: skip
    assert code == 2
    assert "error" in err


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_git_revision_is_a_baseline(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    repo = tmp_path / "repo"
    project = _project(repo / "pipelines")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
            cwd=repo, check=True, capture_output=True,
        )  # fmt: skip

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "v1")
    git("tag", "v1.0.0")
    # After the release: the first state renamed (the operator's uid changes).
    (project / "src" / "large.proc").write_text(PROC.replace("seen", "visits"))

    code, stdout, err = _run(capsys, "compat", "--baseline", "v1.0.0", "--project",
                             str(project), "--format", "json")  # fmt: skip
    assert code == 1, err
    [job] = json.loads(stdout)["jobs"]
    assert job["verdict"] == "incompatible"
    removed = next(o for o in job["operators"] if o["change"] == "removed")
    assert removed["uid"] == "Large.state.customer.seen"
    assert any("allowNonRestoredState" in s["detail"] for s in removed["states"])

    code, stdout, _ = _run(capsys, "compat", "--baseline", "v1.0.0", "--project", str(project),
                           "--allow-non-restored-state", "--allow-loss", "Large.seen",
                           "--allow-loss", "Large.last_quantity")  # fmt: skip
    assert code == 0, stdout
    assert "Large: compatible, loses seen, last_quantity" in stdout

    code, _, err = _run(capsys, "compat", "--baseline", "no-such-tag", "--project", str(project))
    assert code == 2 and "no-such-tag" in err


def test_compile_state_out_writes_the_jobs_state(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """What the Pants backend runs per file: `nexflow compile … --state-out DIR`."""
    project = _project(tmp_path / "p")
    schema, proc = project / "src" / "orders.schema", project / "src" / "large.proc"
    iface = tmp_path / "orders.nxi"
    code, _, err = _run(capsys, "compile", str(schema), "--java-package", "p",
                        "--interface-out", str(iface))  # fmt: skip
    assert code == 0, err
    code, _, err = _run(capsys, "compile", str(proc), "--java-package", "p", "--interface",
                        str(iface), "--output-dir", str(tmp_path / "java"), "--state-out",
                        str(tmp_path / "state"))  # fmt: skip
    assert code == 0, err
    description = json.loads((tmp_path / "state" / "Large.state.json").read_text())
    assert description["class"] == "p.LargeJob"
    uids = {o["uid"] for o in description["operators"]}
    assert "Large.state.customer.seen" in uids
