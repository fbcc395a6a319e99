"""The card issuer's fraud screen (examples/card-fraud): its packaged job jar, exactly as
`pants package` builds it, runs on a local Flink MiniCluster over the sample authorizations the
example ships (examples/card-fraud/data), and the test checks every decision, alert, late
authorization and dead letter.

Every expected value below is worked out by hand from the DSL's meaning (the comments give the
arithmetic); none comes from the generator or from Flink. The rules being checked:

- velocity (card_fraud.proc, `rolling`): for an authorization at time t, the card's
  authorizations with a time in (t - 1 hour, t] (resp. 24 hours), itself included, that
  arrived before it; declined ones count, dead letters, the resend and the late one do not.
  Amounts are billing amounts (USD).
- signals (risk_signals.transform, merchant_categories.transform): gambling MCCs 7995, 7800-7802;
  quasi-cash 4829, 6051, 6540; card-not-present = ECOMMERCE or MAIL_PHONE; cross-border = the
  merchant's country is not the cardholder's home country (the card's without a profile) and no
  travel notice covers it; unusual = billing amount > 5 x the profile's typical purchase.
- the decision (fraud_decision.rules, hit policy priority): DECLINE beats REVIEW beats APPROVE;
  among rows of one decision the first written gives the reason.

Profiles (data/customer_profiles.json): card_1001 US typical 80.00 (unusual above 400), card_1002
US 150.00 (750) with a travel notice for FR until 2026-03-20, card_1003 GB 60.00 (300), card_1004
US 200.00 (1000), card_1005 DE 50.00 (250), card_1006 US 100.00 (500); card_9999 has none.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

JOB_JAR = Path("examples.card-fraud/card-fraud-job.jar")
# Job jars leave Flink out (a cluster has it); a local MiniCluster run adds it back.
FLINK_RUNTIME_JAR = Path("3rdparty.jvm/flink-local-runtime.jar")
JOB_CLASS = "nexflow.examples.card_fraud.CardFraudScreenJob"
DATA = Path("examples/card-fraud/data")
OUTPUTS = ["auth_decisions", "cardholder_alerts", "late_authorizations", "auth_dead_letters"]


def java() -> str:
    java_home = os.environ.get("NEXFLOW_JAVA_HOME") or os.environ.get("JAVA_HOME")
    assert java_home, "run through ./pants, which sets NEXFLOW_JAVA_HOME"
    return str(Path(java_home) / "bin" / "java")


def read_json_lines(directory: Path) -> list:
    records = []
    for part in sorted(directory.glob("part-*.jsonl")):
        records.extend(json.loads(line) for line in part.read_text("utf-8").splitlines() if line)
    return records


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Runs the job once over the sample data; {stream: [records]} and the run's duration."""
    assert JOB_JAR.is_file(), f"{JOB_JAR} was not packaged"
    out = tmp_path_factory.mktemp("card-fraud")
    args = [
        java(),
        "-cp",
        f"{JOB_JAR}:{FLINK_RUNTIME_JAR}",
        JOB_CLASS,
        f"--stream.authorizations=file:{DATA / 'authorizations.jsonl'}",
        *[f"--stream.{s}=file:{out / s}" for s in OUTPUTS],
        # The profiles as the `local` environment binds them: a memory store filled from a file.
        "--store.customer_profiles=memory:customer_profiles",
        f"--store.customer_profiles.file={DATA / 'customer_profiles.json'}",
        # A paced replay: watermarks advance between authorizations as in a live stream, so the
        # late one (A021) finds the watermark hours past it.
        "--stream.authorizations.pace_ms=60",
        "--flink.pipeline.auto-watermark-interval=10 ms",
        "--flink.parallelism.default=2",
        # The jar is bound to the production environment (RocksDB, checkpoints on S3): this
        # MiniCluster has neither, so the heap backend and a local directory instead.
        "--flink.state.backend.type=hashmap",
        f"--flink.execution.checkpointing.dir={(out / 'checkpoints').as_uri()}",
    ]
    started = time.monotonic()
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    records = {s: read_json_lines(out / s) for s in OUTPUTS}
    print(f"card-fraud job on the MiniCluster: {seconds:.1f} s")  # shown with -s
    return {"seconds": seconds, **records}


# auth_id: (card, decision, reason, auths_1h, spend_1h, auths_24h, spend_24h)
EXPECTED_DECISIONS = {
    # card_1005 (DE, chip and contactless at home): one authorization an hour, so each 1-hour
    # window holds only itself (07:10's window (06:10, 07:10] leaves 06:10 out); the 24-hour
    # count climbs to 8 at 16:10, which the busy_24h row (>= 8) sends to REVIEW.
    "A001": ("card_1005", "APPROVE", "NO_RISK_SIGNAL", 1, 4.86, 1, 4.86),
    "A002": ("card_1005", "APPROVE", "NO_RISK_SIGNAL", 1, 25.81, 2, 30.67),  # 4.86 + 25.81
    "A004": ("card_1005", "APPROVE", "NO_RISK_SIGNAL", 1, 39.10, 3, 69.77),  # + 39.10
    "A005": ("card_1005", "APPROVE", "NO_RISK_SIGNAL", 1, 13.82, 4, 83.59),  # + 13.82
    "A010": ("card_1005", "APPROVE", "NO_RISK_SIGNAL", 1, 19.87, 5, 103.46),  # + 19.87
    "A013": ("card_1005", "APPROVE", "NO_RISK_SIGNAL", 1, 32.40, 6, 135.86),  # + 32.40
    "A023": ("card_1005", "APPROVE", "NO_RISK_SIGNAL", 1, 23.76, 7, 159.62),  # + 23.76
    "A031": ("card_1005", "REVIEW", "VELOCITY_COUNT_24H", 1, 16.20, 8, 175.82),  # + 16.20
    # card_1001 (US, typical 80.00)
    "A003": ("card_1001", "APPROVE", "NO_RISK_SIGNAL", 1, 42.50, 1, 42.50),
    # 09:15: 08:00 is outside (08:15, 09:15]; 24 hours: 42.50 + 120.00
    "A006": ("card_1001", "APPROVE", "NO_RISK_SIGNAL", 1, 120.00, 2, 162.50),
    # 09:40, online casino in Malta (MCC 7995): BLOCKED_MCC, the first DECLINE row, although
    # it is also cross-border card-not-present. 1 hour: 120.00 + 216.00
    "A007": ("card_1001", "DECLINE", "BLOCKED_MCC", 2, 336.00, 3, 378.50),
    # 10:05, 500.00 online at home: > 400.00 is unusual. 1 hour (09:05, 10:05]: 120.00 +
    # 216.00 (declined, still counted) + 500.00 = 836.00; 24 hours: 42.50 + 836.00
    "A009": ("card_1001", "REVIEW", "UNUSUAL_AMOUNT", 3, 836.00, 4, 878.50),
    # 11:10 (arrives 30 s after an 11:10:30 authorization: within the 1-minute watermark
    # delay, so not late). 1 hour (10:10, 11:10] excludes 10:05; 24 hours: 878.50 + 6.75
    "A014": ("card_1001", "APPROVE", "NO_RISK_SIGNAL", 1, 6.75, 5, 885.25),
    # card_1002 (US, travel notice for FR until 2026-03-20)
    "A008": ("card_1002", "APPROVE", "NO_RISK_SIGNAL", 1, 41.04, 1, 41.04),  # Paris, notice
    # 10:30, online from Nigeria: card-not-present and cross-border (the notice is for FR).
    # 1 hour: 41.04 + 300.00
    "A011": ("card_1002", "REVIEW", "CROSS_BORDER_CNP", 2, 341.04, 2, 341.04),
    # 11:00, online from a French merchant: covered by the notice. 1 hour (10:00, 11:00]
    # leaves 10:00 out: 300.00 + 102.60; 24 hours: 341.04 + 102.60
    "A012": ("card_1002", "APPROVE", "NO_RISK_SIGNAL", 2, 402.60, 3, 443.64),
    "A022": ("card_1002", "APPROVE", "NO_RISK_SIGNAL", 1, 216.00, 4, 659.64),  # ATM in FR
    # 18:20, 918.00 in Paris: > 750.00 is unusual; 24 hours: 659.64 + 918.00
    "A033": ("card_1002", "REVIEW", "UNUSUAL_AMOUNT", 1, 918.00, 5, 1577.64),
    # card_1003 (GB): card testing, one 1.27 authorization a minute from 12:00; A017's resend
    # right after it is dropped and counts nowhere. The fifth in the hour declines (>= 5).
    "A015": ("card_1003", "APPROVE", "NO_RISK_SIGNAL", 1, 1.27, 1, 1.27),
    "A016": ("card_1003", "APPROVE", "NO_RISK_SIGNAL", 2, 2.54, 2, 2.54),
    "A017": ("card_1003", "APPROVE", "NO_RISK_SIGNAL", 3, 3.81, 3, 3.81),
    "A018": ("card_1003", "APPROVE", "NO_RISK_SIGNAL", 4, 5.08, 4, 5.08),
    "A019": ("card_1003", "DECLINE", "VELOCITY_COUNT_1H", 5, 7.62, 5, 7.62),  # + 2.54
    # 571.50 is also unusual (> 300.00: REVIEW), but the DECLINE row wins. 7.62 + 571.50
    "A020": ("card_1003", "DECLINE", "VELOCITY_COUNT_1H", 6, 579.12, 6, 579.12),
    # card_1006 (US): quasi-cash. Western Union at the counter: REVIEW; crypto online
    # (card-not-present): DECLINE. 400.00 + 250.00
    "A024": ("card_1006", "REVIEW", "QUASI_CASH", 1, 400.00, 1, 400.00),
    "A025": ("card_1006", "DECLINE", "QUASI_CASH_CNP", 2, 650.00, 2, 650.00),
    # card_1004 (US, typical 200.00): a spending spree
    "A026": ("card_1004", "REVIEW", "UNUSUAL_AMOUNT", 1, 1200.00, 1, 1200.00),  # > 1000.00
    "A027": ("card_1004", "APPROVE", "NO_RISK_SIGNAL", 2, 2100.00, 2, 2100.00),  # 900 is not
    # 14:45: 1200.00 + 900.00 + 650.00 = 2750.00 in the hour, > 2500: DECLINE
    "A028": ("card_1004", "DECLINE", "VELOCITY_AMOUNT_1H", 3, 2750.00, 3, 2750.00),
    # 15:30: (14:30, 15:30] holds 14:45 and 15:30: 650.00 + 85.00; 24 hours: 2750.00 + 85.00
    "A030": ("card_1004", "APPROVE", "NO_RISK_SIGNAL", 2, 735.00, 4, 2835.00),
    # 18:00, 2400.00 online in the UAE: 24 hours 2835.00 + 2400.00 = 5235.00 > 5000. It is
    # also cross-border card-not-present and unusual (> 1000.00): three REVIEW rows match,
    # and big_spend_24h is written first. 1 hour: 2400.00 alone, not > 2500.
    "A032": ("card_1004", "REVIEW", "VELOCITY_AMOUNT_24H", 1, 2400.00, 5, 5235.00),
    # card_9999: no profile
    "A029": ("card_9999", "REVIEW", "UNKNOWN_CARD", 1, 60.00, 1, 60.00),
}


def test_every_authorization_gets_the_decision_worked_out_by_hand(run: dict) -> None:
    got = {
        d["auth_id"]: (
            d["card_id"], d["decision"], d["reason"],
            d["auths_1h"], d["spend_1h"], d["auths_24h"], d["spend_24h"],
        )
        for d in run["auth_decisions"]
    }  # fmt: skip
    # One decision per authorization, A001 to A033 but A021 (late); the resend of A017 got
    # none of its own, nor did the six dead letters.
    assert len(run["auth_decisions"]) == len(got) == 32
    assert got == EXPECTED_DECISIONS


def test_a_decision_record_carries_the_authorization(run: dict) -> None:
    a007 = next(d for d in run["auth_decisions"] if d["auth_id"] == "A007")
    assert a007 == {
        "auth_id": "A007",
        "card_id": "card_1001",
        "customer_id": "CUST-01",
        "decision": "DECLINE",
        "reason": "BLOCKED_MCC",
        "billing_amount": 216.00,
        "merchant_name": "Lucky Star Casino",
        "mcc": "7995",
        "merchant_country": "MT",
        "channel": "ECOMMERCE",
        "auths_1h": 2,
        "spend_1h": 336.00,
        "auths_24h": 3,
        "spend_24h": 378.50,
        "event_time": "2026-03-14T09:40:00Z",
    }
    a029 = next(d for d in run["auth_decisions"] if d["auth_id"] == "A029")
    assert a029["customer_id"] is None


def alert(auth_id: str, customer: str, card: str, decision: str, reason: str, message: str,
          at: str) -> dict:  # fmt: skip
    return {
        "auth_id": auth_id,
        "customer_id": customer,
        "card_id": card,
        "decision": decision,
        "reason": reason,
        "message": message,
        "event_time": f"2026-03-14T{at}:00Z",
    }


def declined(merchant: str, usd: str) -> str:
    return f"Your card was declined at {merchant} for {usd} USD. Call us if this was you."


def confirm(merchant: str, usd: str) -> str:
    return f"Did you just pay {usd} USD at {merchant}? Reply YES or NO."


def test_cardholders_are_alerted_of_declines_and_reviews(run: dict) -> None:
    # Every DECLINE and REVIEW of a card with a profile; A029's card has no customer to tell.
    expected = [
        alert("A007", "CUST-01", "card_1001", "DECLINE", "BLOCKED_MCC",
              declined("Lucky Star Casino", "216.00"), "09:40"),
        alert("A009", "CUST-01", "card_1001", "REVIEW", "UNUSUAL_AMOUNT",
              confirm("TechWorld Online", "500.00"), "10:05"),
        alert("A011", "CUST-02", "card_1002", "REVIEW", "CROSS_BORDER_CNP",
              confirm("Lagos Gadgets", "300.00"), "10:30"),
        alert("A019", "CUST-03", "card_1003", "DECLINE", "VELOCITY_COUNT_1H",
              declined("GameKeys", "2.54"), "12:04"),
        alert("A020", "CUST-03", "card_1003", "DECLINE", "VELOCITY_COUNT_1H",
              declined("MegaElectro UK", "571.50"), "12:05"),
        alert("A024", "CUST-06", "card_1006", "REVIEW", "QUASI_CASH",
              confirm("Western Union", "400.00"), "13:30"),
        alert("A025", "CUST-06", "card_1006", "DECLINE", "QUASI_CASH_CNP",
              declined("CoinFlash", "250.00"), "13:45"),
        alert("A026", "CUST-04", "card_1004", "REVIEW", "UNUSUAL_AMOUNT",
              confirm("Apple Store", "1200.00"), "14:00"),
        alert("A028", "CUST-04", "card_1004", "DECLINE", "VELOCITY_AMOUNT_1H",
              declined("Louis Vuitton", "650.00"), "14:45"),
        alert("A031", "CUST-05", "card_1005", "REVIEW", "VELOCITY_COUNT_24H",
              confirm("Lidl", "16.20"), "16:10"),
        alert("A032", "CUST-04", "card_1004", "REVIEW", "VELOCITY_AMOUNT_24H",
              confirm("Emirates", "2400.00"), "18:00"),
        alert("A033", "CUST-02", "card_1002", "REVIEW", "UNUSUAL_AMOUNT",
              confirm("Galeries Lafayette", "918.00"), "18:20"),
    ]  # fmt: skip
    assert sorted(run["cardholder_alerts"], key=lambda a: a["auth_id"]) == expected


def test_an_authorization_behind_the_watermark_goes_to_the_late_stream(run: dict) -> None:
    # A021 (05:30) arrives after 12:05 authorizations: the watermark (newest time - 1 minute)
    # is hours past it. It is not decided and does not count in card_1003's velocity (A019 and
    # A020 above count only the 12:00-12:05 authorizations).
    assert [(r["auth_id"], r["event_time"]) for r in run["late_authorizations"]] == [
        ("A021", "2026-03-14T05:30:00Z")
    ]


def test_malformed_authorizations_go_to_the_dead_letter_stream_with_their_reason(
    run: dict,
) -> None:
    lines = (DATA / "authorizations.jsonl").read_text("utf-8").splitlines()
    raw = {
        "truncated": next(x for x in lines if x.startswith('{"auth_id": "A034"')),
        "html": next(x for x in lines if x.startswith("<html>")),
        "A035": next(x for x in lines if '"A035"' in x),
        "A036": next(x for x in lines if '"A036"' in x),
        "A037": next(x for x in lines if '"A037"' in x),
        "A038": next(x for x in lines if '"A038"' in x),
    }
    got = sorted(
        (
            d["reason"], d["correlation_id"], d["classification"], d["stream"],
            d["operator"], tuple((v["field"], v["code"]) for v in d["violations"]), d["input"],
        )
        for d in run["auth_dead_letters"]
    )  # fmt: skip
    parse = ("recoverable", "authorizations", "parse.authorizations")
    expected = sorted([
        # Not JSON (cut off mid-line; an HTML error page): no auth_id could be read.
        ("MALFORMED_INPUT", None, *parse, (), raw["truncated"]),
        ("MALFORMED_INPUT", None, *parse, (), raw["html"]),
        # JSON, but TELEPATHY is not a Channel: the record cannot be built.
        ("MALFORMED_INPUT", None, *parse, (), raw["A038"]),
        # Records that break Authorization's constraints, named by their auth_id.
        ("VALIDATION_FAILED", "A035", *parse, (("mcc", "PATTERN"),), raw["A035"]),  # 59X1
        ("VALIDATION_FAILED", "A036", *parse,
         (("amount", "RANGE"), ("billing_amount", "RANGE")), raw["A036"]),  # -25.00 / -27.00
        ("VALIDATION_FAILED", "A037", *parse, (("card_id", "REQUIRED"),), raw["A037"]),
    ])  # fmt: skip
    assert got == expected


# --- the generated evaluators, called as plain Java (no Flink) ------------------------------

# (label, mcc, cnp, cross_border, auths_1h, spend_1h, auths_24h, spend_24h, unusual,
#  customer_id) -> (decision, reason). The boundaries are the table's: >= 5, > 2500, >= 8,
# > 5000.
TABLE_CASES = [
    ("plain", "5411", False, False, 4, "2500.00", 7, "5000.00", False, "C1", "APPROVE",
     "NO_RISK_SIGNAL"),
    ("fifth_in_hour", "5411", False, False, 5, "10.00", 5, "10.00", False, "C1", "DECLINE",
     "VELOCITY_COUNT_1H"),
    ("cent_over_1h", "5411", False, False, 1, "2500.01", 1, "2500.01", False, "C1", "DECLINE",
     "VELOCITY_AMOUNT_1H"),
    ("eighth_today", "5411", False, False, 1, "10.00", 8, "80.00", False, "C1", "REVIEW",
     "VELOCITY_COUNT_24H"),
    ("cent_over_24h", "5411", False, False, 1, "10.00", 2, "5000.01", False, "C1", "REVIEW",
     "VELOCITY_AMOUNT_24H"),
    # gambling beats every other DECLINE row written after it
    ("casino_burst", "7801", True, True, 9, "9000.00", 9, "9000.00", True, "C1", "DECLINE",
     "BLOCKED_MCC"),
    ("wire_in_person", "4829", False, False, 1, "10.00", 1, "10.00", False, "C1", "REVIEW",
     "QUASI_CASH"),
    ("stored_value_online", "6540", True, False, 1, "10.00", 1, "10.00", False, "C1",
     "DECLINE", "QUASI_CASH_CNP"),
    ("foreign_in_person", "5411", False, True, 1, "10.00", 1, "10.00", False, "C1", "APPROVE",
     "NO_RISK_SIGNAL"),
    ("foreign_online", "5411", True, True, 1, "10.00", 1, "10.00", False, "C1", "REVIEW",
     "CROSS_BORDER_CNP"),
    # two REVIEW rows: the one written first (unknown_card) gives the reason
    ("unknown_unusual", "5411", False, False, 1, "10.00", 1, "10.00", True, None, "REVIEW",
     "UNKNOWN_CARD"),
]  # fmt: skip

# (call, expected printed value)
TRANSFORM_CASES = [
    ('merchant_category_risk.apply("7995")', "GAMBLING"),
    ('merchant_category_risk.apply("6051")', "QUASI_CASH"),
    ('merchant_category_risk.apply("5411")', "STANDARD"),
    # The travel notice (FR until 2026-03-20) covers France on the 19th, not on the 21st, and
    # never Spain; without a profile, home is the card's country.
    ('is_cross_border.apply("FR", "US", traveller(), at("2026-03-19T12:00:00Z"))', "false"),
    ('is_cross_border.apply("FR", "US", traveller(), at("2026-03-21T12:00:00Z"))', "true"),
    ('is_cross_border.apply("ES", "US", traveller(), at("2026-03-19T12:00:00Z"))', "true"),
    ('is_cross_border.apply("GB", "GB", null, at("2026-03-19T12:00:00Z"))', "false"),
    # 5 x 150.00 = 750.00: unusual only above it
    ('is_unusual_amount.apply(new BigDecimal("750.00"), traveller())', "false"),
    ('is_unusual_amount.apply(new BigDecimal("750.01"), traveller())', "true"),
    ('is_unusual_amount.apply(new BigDecimal("9999.00"), null)', "false"),
    ("is_card_not_present.apply(Channel.MAIL_PHONE)", "true"),
    ("is_card_not_present.apply(Channel.CONTACTLESS)", "false"),
]


def _java_text(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v)


def test_the_decision_table_and_signals_are_plain_java(tmp_path: Path) -> None:
    calls = []
    for label, mcc, cnp, xb, n1, s1, n24, s24, unusual, customer, *_ in TABLE_CASES:
        calls.append(
            f'        table("{label}", {_java_text(mcc)}, {_java_text(cnp)}, {_java_text(xb)}, '
            f'{n1}L, "{s1}", {n24}L, "{s24}", {_java_text(unusual)}, {_java_text(customer)});'
        )
    for call, _ in TRANSFORM_CASES:
        calls.append(f"        System.out.println(String.valueOf({call}));")
    source = "\n".join([
        "import java.math.BigDecimal;",
        "import java.time.Instant;",
        "import nexflow.examples.card_fraud.*;",
        "",
        "public class EvaluatorCheck {",
        "    static Instant at(String t) { return Instant.parse(t); }",
        "",
        "    static CustomerProfile traveller() {",
        "        CustomerProfile p = new CustomerProfile();",
        '        p.card_id = "card_1002";',
        '        p.customer_id = "CUST-02";',
        '        p.home_country = "US";',
        '        p.typical_spend = new BigDecimal("150.00");',
        '        p.travel_country = "FR";',
        '        p.travel_until = at("2026-03-20T00:00:00Z");',
        "        return p;",
        "    }",
        "",
        "    static void table(String label, String mcc, boolean cnp, boolean crossBorder,",
        "            long auths1h, String spend1h, long auths24h, String spend24h,",
        "            boolean unusual, String customer) {",
        "        ScreenedAuth a = new ScreenedAuth();",
        '        a.auth_id = label;',
        '        a.card_id = "card";',
        "        a.customer_id = customer;",
        "        a.mcc = mcc;",
        "        a.card_not_present = cnp;",
        "        a.cross_border = crossBorder;",
        "        a.auths_1h = auths1h;",
        "        a.spend_1h = new BigDecimal(spend1h);",
        "        a.auths_24h = auths24h;",
        "        a.spend_24h = new BigDecimal(spend24h);",
        "        a.unusual_amount = unusual;",
        "        FraudDecision.Result r = FraudDecision.evaluate(a);",
        '        System.out.println(label + " " + r.decision + " " + r.reason);',
        "    }",
        "",
        "    public static void main(String[] args) {",
        *calls,
        "    }",
        "}",
        "",
    ])  # fmt: skip
    program = tmp_path / "EvaluatorCheck.java"
    program.write_text(source, "utf-8")
    # Java 11+ runs a single source file directly; only the job jar is on the class path.
    result = subprocess.run(
        [java(), "-cp", str(JOB_JAR), str(program)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    expected = [f"{c[0]} {c[-2]} {c[-1]}" for c in TABLE_CASES] + [v for _, v in TRANSFORM_CASES]
    assert result.stdout.splitlines() == expected
