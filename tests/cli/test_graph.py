"""`nexflow graph`: the operator graph of a proc, as Mermaid and as SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from cli_helpers import ROOT, make_project, nexflow  # pants: no-infer-dep

PAYMENTS = str(ROOT / "examples" / "payments")
SVG = "{http://www.w3.org/2000/svg}"

SCREENING = """\
proc Screening {
    from payment_events
    apply PaymentValidation rules
    on reject emit to failed_payments
    apply RiskTier table as risk
    lookup customers by customer_id as customer cache 10 minutes
    join settlements as s on s.transaction_id == transaction_id within 1 hour
    route {
        when amount > 10000 to review_queue
        otherwise to processed_payments
    }
    parallelism 4
}
"""


def test_mermaid_of_the_seed_proc() -> None:
    r = nexflow("graph", "PaymentProcessor", PAYMENTS)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "flowchart LR"
    assert '    n1(["payment_events<br/><small>PaymentEvent</small>"])' in lines
    assert '    n2{{"apply PaymentValidation rules"}}' in lines
    assert '    n3["correlate by transaction_id within 5 minutes"]' in lines
    assert '    n3 -->|"on timeout"| n4' in lines  # n4: failed_payments
    assert '    n4(["failed_payments<br/><small>PaymentEvent</small>"])' in lines
    assert '    n5 -->|"persist async"| n6' in lines  # processed_payments -> the store
    assert '    n6[("transaction_store<br/><small>store</small>")]' in lines
    assert nexflow("graph", "PaymentProcessor", PAYMENTS).out == r.out  # deterministic


def test_svg_is_well_formed_and_deterministic(tmp_path: Path) -> None:
    out = tmp_path / "pp.svg"
    r = nexflow("graph", "PaymentProcessor", PAYMENTS, "-o", str(out))
    assert r.code == 0 and "(svg)" in r.out
    first = out.read_bytes()
    doc = ET.fromstring(first)
    assert doc.tag == f"{SVG}svg"
    groups = {g.get("id"): g.get("class") for g in doc.iter(f"{SVG}g")}
    assert groups == {
        "n1": "source",
        "n2": "rules",
        "n3": "operator",
        "n4": "sink",
        "n5": "sink",
        "n6": "store",
    }
    texts = [t.text for t in doc.iter(f"{SVG}text")]
    assert "payment_events" in texts and "on timeout" in texts
    # Node boxes do not overlap.
    boxes = []
    for g in doc.iter(f"{SVG}g"):
        shape = next(iter(g.iter(f"{SVG}rect")), None)
        if shape is not None:
            x, y = float(shape.get("x")), float(shape.get("y"))
            boxes.append((x, y, x + float(shape.get("width")), y + float(shape.get("height"))))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    nexflow("graph", "PaymentProcessor", PAYMENTS, "--format", "svg", "-o", str(out))
    assert out.read_bytes() == first


def test_rules_tables_lookups_joins_and_routes(tmp_path: Path) -> None:
    prelude = ROOT / "docs" / "language" / "prelude"
    for f in prelude.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "screening.proc").write_text(SCREENING)
    r = nexflow("graph", "Screening", str(tmp_path))
    assert r.code == 0, r.err
    out = r.out
    assert "%% proc Screening" in out and "parallelism 4" in out
    assert '{{"apply PaymentValidation rules"}}' in out
    assert '[["apply RiskTier table as risk"]]' in out
    assert '[("customers<br/><small>store</small>")]' in out
    assert '"lookup"' in out and "-.->" in out
    assert '(["settlements<br/><small>Settlement</small>"])' in out
    assert '"on reject"' in out and '"otherwise"' in out and '"amount #62; 10000"' in out
    svg = nexflow("graph", "Screening", str(tmp_path), "--format", "svg")
    assert svg.code == 0
    ET.fromstring(svg.out.encode())


def test_unknown_proc_lists_the_known_ones() -> None:
    r = nexflow("graph", "Nope", str(ROOT / "examples"))
    assert r.code == 1
    assert "no proc named 'Nope'; procs: CardFraudScreen, HelloFilter, PaymentProcessor" in r.err


def test_graph_of_the_init_project(project: Path) -> None:
    r = nexflow("graph", "LargeOrders", cwd=project)
    assert r.code == 0, r.err
    assert '["filter quantity #62;= 10"]' in r.out
    assert '(["large_orders<br/><small>Order</small>"])' in r.out


def test_errors_in_the_proc_file_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.proc").write_text("proc P {\n    from nowhere\n}\n")
    r = nexflow("graph", "P", str(tmp_path))
    assert r.code == 1
    assert "error[NX205]" in r.err and "fix the errors" in r.err


def test_the_graph_is_the_same_in_every_checkout(tmp_path: Path) -> None:
    # The proc's file is named relative to the project, never by an absolute path.
    outputs = []
    for checkout in ("one", "two"):
        copy = make_project(tmp_path / checkout)
        for argv, cwd in ((("LargeOrders",), copy), (("LargeOrders", str(copy / "src")), copy),
                          (("LargeOrders", "--project", str(copy)), tmp_path)):  # fmt: skip
            r = nexflow("graph", *argv, cwd=cwd)
            assert r.code == 0, r.err
            outputs.append(r.out)
    assert "%% proc LargeOrders (src/large_orders.proc)" in outputs[0]
    assert len(set(outputs)) == 1


def test_handlers_hang_on_the_statement_the_checker_chose(tmp_path: Path) -> None:
    # `on late` written before its window belongs to the window (the checker's choice); the
    # graph draws it from there, not from whatever came just before.
    (tmp_path / "p.schema").write_text(
        "schema Pay {\n    id: string @key\n    card: string\n    at: datetime @event_time\n}\n"
        "schema Count {\n    card: string @key\n    n: long\n}\n"
        "stream pays: Pay\nstream late_pays: Pay\nstream counts: Count\n"
    )
    (tmp_path / "p.proc").write_text(
        "proc Counts {\n    from pays\n    event_time at watermark 5 seconds\n"
        "    filter id != \"\"\n    on late emit to late_pays\n    key by card\n"
        "    window tumbling 1 minute\n"
        "    aggregate into Count {\n        card = first(card)\n        n = count()\n    }\n"
        "    emit to counts\n}\n"
    )
    r = nexflow("graph", "Counts", str(tmp_path))
    assert r.code == 0, r.err
    window = next(ln.split("[")[0].strip() for ln in r.out.splitlines() if "window tumbling" in ln)
    late = next(ln.split("(")[0].strip() for ln in r.out.splitlines() if "late_pays<br/>" in ln)
    assert f'    {window} -->|"on late"| {late}' in r.out.splitlines(), r.out
