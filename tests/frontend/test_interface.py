"""Interface files: deterministic bytes; body-only edits leave them unchanged; signature
edits change them; identical under any PYTHONHASHSEED; downstream units check against
interfaces alone."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT, example_sources  # pants: no-infer-dep

from nexflow_core.interface import build_interface, load_interface
from nexflow_core.project import check_project, check_unit

RULES = "examples/payments/payments.rules"
SCHEMA = "examples/payments/payment_event.schema"
PROC = "examples/payments/payment_processor.proc"


def _iface(sources: dict[str, str], path: str) -> bytes:
    project = check_project(sources)
    assert project.ok, project.diagnostics
    return build_interface(project, path)


def test_rule_threshold_edit_keeps_interface_bytes() -> None:
    src = example_sources("payments")
    before = _iface(src, RULES)
    edited = dict(src)
    edited[RULES] = src[RULES].replace("payment.amount > 10000", "payment.amount > 25000")
    assert edited[RULES] != src[RULES]
    assert _iface(edited, RULES) == before


def test_comment_and_whitespace_edits_keep_interface_bytes() -> None:
    # .infra units excepted: their environments carry settings with positions (below).
    src = example_sources("payments")
    before = {p: _iface(src, p) for p in src if not p.endswith(".infra")}
    edited = {p: "// edited\n\n" + t.replace("\n", "\r\n") for p, t in src.items()}
    assert {p: _iface(edited, p) for p in before} == before


def test_proc_filter_edit_keeps_interface_bytes() -> None:
    src = example_sources("hello")
    path = "examples/hello/hello.proc"
    before = _iface(src, path)
    edited = dict(src)
    edited[path] = src[path].replace("count > 2", 'count > 3 and name != ""')
    assert _iface(edited, path) == before


def test_signature_edit_changes_interface_bytes() -> None:
    src = example_sources("payments")
    before = _iface(src, SCHEMA)
    edited = dict(src)
    edited[SCHEMA] = src[SCHEMA].replace("amount: decimal(10,2)", "amount: decimal(12,2)")
    assert _iface(edited, SCHEMA) != before
    rules_before = _iface(src, RULES)
    edited2 = dict(src)
    edited2[RULES] = src[RULES].replace(
        'then reject with "Unsupported currency"', "then route to manual_check"
    )
    # the proc now lacks `on route manual_check`, but the rules interface is what we compare
    project = check_project(edited2)
    assert build_interface(project, RULES) != rules_before


def test_interface_round_trip_and_no_spans() -> None:
    src = example_sources("payments")
    project = check_project(src)
    for path in src:
        data = build_interface(project, path)
        assert data.endswith(b"\n")
        if not path.endswith(".infra"):
            assert b'"line"' not in data and b'"span"' not in data
        assert build_interface(load_interface(data)) == data


def test_infra_interfaces_carry_environment_settings_and_cited_lines() -> None:
    # A job bound to an environment bakes its settings in, citing file:line: an .infra unit's
    # interface carries both, so a moved or edited setting re-generates those jobs.
    src = example_sources("payments")
    infra = "examples/payments/production.infra"
    (sig,) = load_interface(_iface(src, infra)).environments
    assert (sig.name, sig.first_line) == ("production", 1)
    assert sig.lines == src[infra].splitlines()
    assert [e.name for e in sig.entries] == ["kafka", "streams"]
    topic = sig.entries[1].entries[0].entries[0]
    assert (topic.name, topic.value.value, topic.span.line) == ("topic", "prod.payments.inbound", 9)
    edited = dict(src)
    edited[infra] = src[infra].replace("prod.payments.inbound", "prod.payments.in")
    assert _iface(edited, infra) != _iface(src, infra)
    shifted = dict(src)
    shifted[infra] = "// moved down a line\n" + src[infra]
    assert load_interface(_iface(shifted, infra)).environments[0].first_line == 2


_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from nexflow_core.project import check_project
from nexflow_core.interface import build_interface
p = check_project([{root!r} + '/examples/payments', {root!r} + '/docs/language/prelude'])
out = b''.join(build_interface(p, k) for k in sorted(p.interfaces))
sys.stdout.buffer.write(out)
"""


def test_interface_bytes_independent_of_hash_seed() -> None:
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT.format(root=ROOT)],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
        assert len(out) > 500
        outputs.add(out)
    assert len(outputs) == 1


def test_downstream_checks_against_upstream_interfaces_only() -> None:
    src = example_sources("payments")
    project = check_project(src)
    upstream = [build_interface(project, p) for p in src if p != PROC]
    alone = check_unit(src[PROC], PROC, upstream)
    assert alone.ok, alone.diagnostics
    # a broken reference is still found without the upstream sources
    broken = src[PROC].replace("emit to processed_payments", "emit to processed_paymentz")
    bad = check_unit(broken, PROC, upstream)
    assert [d.code for d in bad.errors] == ["NX205"]


def test_infra_unit_checks_bindings_against_proc_interfaces() -> None:
    src = example_sources("hello")
    project = check_project(src)
    infra = "examples/hello/local.infra"
    upstream = [build_interface(project, p) for p in src if p != infra]
    assert check_unit(src[infra], infra, upstream).ok
    text = src[infra].replace("loud_greetings {", "other_name {")
    codes = sorted(d.code for d in check_unit(text, infra, upstream).diagnostics)
    assert codes == ["NX501", "NX504"]
