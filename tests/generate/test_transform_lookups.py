"""Transforms with lookups: the transform stays a pure function whose lookups are parameters
after its inputs, and the proc statement calling it reads the store first (a lookup operator
right before it). Where that cannot happen the generator refuses with a located NX902.

The transforms and procs below run on a MiniCluster in tests/pipelines/test_card_pipelines.py
(RateAuths, RateScored); here: the shape of the generated Java and the refusals.
"""

from __future__ import annotations

import re

import pytest

from nexflow_core.diagnostics import NexflowError
from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.syntax import parse_source

SCHEMA = """
schema Payment {
    id: string @key
    currency: string
    amount: decimal(10,2)
    at: datetime @event_time
}
schema Rate {
    currency: string @key
    rate: decimal(12,6)
}
schema Usd {
    id: string @key
    usd: decimal(24,8)?
    fee: decimal(24,8)?
}
schema Total {
    id: string @key
    total: decimal(38,8)?
}
stream payments: Payment
stream usd_out: Usd
stream totals: Total
stream kept: Payment
store rates: Rate key currency
store rates_again: Rate key currency
"""

TRANSFORMS = """
transform in_usd {
    input amount: decimal(10,2)
    input currency: string
    output decimal(24,8)
    lookup fx from rates by currency
    compute amount * coalesce(fx.rate, 1.0)
}

transform to_usd_record {
    input payment: Payment
    output Usd
    lookup fx from rates by payment.currency
    map {
        id = payment.id
        usd = payment.amount * fx.rate
    }
}

transform two_lookups {
    input payment: Payment
    output Usd
    lookup fx from rates by payment.currency
    lookup again from rates_again by payment.currency
    map {
        id = payment.id
        usd = payment.amount * fx.rate * again.rate
    }
}
"""

RULES = """
ruleset Big for p: Payment {
    rule big {
        when in_usd(p.amount, p.currency) > 1000
        then flag "big"
    }
}
"""


def _generate(proc: str, rules: bool = False) -> dict:
    sources = {"a.schema": SCHEMA, "t.transform": TRANSFORMS, "x.proc": proc}
    if rules:
        sources["r.rules"] = RULES
    units = [Unit(parse_source(t, n), "p", t) for n, t in sources.items()]
    return {f.path: f.content for f in generate(units, [], TARGETS["flink"])}


def _refused(proc: str, rules: bool = False):
    with pytest.raises(NexflowError) as info:
        _generate(proc, rules)
    return info.value.diagnostics[0]


MAP = """proc P {
    from payments
    map into Usd {
        id = id
        usd = in_usd(amount, currency)
        fee = in_usd(amount, currency) * 0.01
    }
    emit to usd_out
}
"""


def test_lookups_are_parameters_after_the_inputs() -> None:
    files = _generate(MAP)
    assert (
        "public static java.math.BigDecimal apply(java.math.BigDecimal amount, String currency, "
        "p.Rate fx) {" in files["p/in_usd.java"]
    )
    assert "public static p.Usd apply(p.Payment payment, p.Rate fx) {" in files[
        "p/to_usd_record.java"
    ]
    # Not a one-input MapFunction: the lookup is an argument only a proc supplies.
    assert "AsMapFunction" not in files["p/to_usd_record.java"]


def test_the_calling_statement_reads_the_store_first_once_for_calls_with_one_key() -> None:
    job = _generate(MAP)["p/PJob.java"]
    # One lookup (both calls have the same store and key), keyed by the call's argument
    # evaluated on the record, before the map into's operator; both calls get what it found.
    assert job.count("Lookups.lookup(") == 1
    assert (
        'Lookups.lookup(op0, streams, SOURCE_STREAM, "rates",\n'
        "                record -> Keys.of(record.currency),\n"
        "                p.Rate.class, p.RateContract.INSTANCE, 0L,\n"
        "                Lookups.OnLookupError.CONTINUE," in job
    )
    # Named after the store, the transform, its lookup, the key and the statement (its keyword
    # and a digest of its text): content, not position.
    assert '"P.lookup.rates.in_usd.fx.currency.map.185d98bb");' in job
    assert "p.Rate in_usd_fx$ = in$.found;" in job
    calls = re.findall(r"p\.in_usd\.apply\(([^;]*?in_usd_fx\$)\)", job)
    assert calls == ["Ops.fit(r$0.amount, 10, 2), r$0.currency, in_usd_fx$"] * 2


def test_lookups_with_other_keys_are_chained_before_the_statement() -> None:
    proc = (
        "proc P {\n    from payments\n    map into Usd {\n        id = id\n"
        "        usd = in_usd(amount, currency)\n        fee = in_usd(amount, \"EUR\")\n"
        "    }\n    emit to usd_out\n}\n"
    )
    job = _generate(proc)["p/PJob.java"]
    # The second lookup reads the first one's envelope (record and answer) and wraps it whole;
    # the statement's operator opens both.
    assert "SingleOutputStreamOperator<Lookup2Row> op2 = Lookups.lookup(op1," in job
    assert 'record -> Keys.of("EUR"),' in job
    assert "public Lookup1Row record;" in job and 'fields.put("record", Lookup1Row.TYPE);' in job
    assert "p.Payment r$0 = in$.record.record;" in job
    assert "p.Rate in_usd_fx_2$ = in$.found;" in job
    assert "p.Rate in_usd_fx$ = in$.record.found;" in job
    assert "r$0.currency, in_usd_fx$), 24, 8);" in job
    assert '"EUR", in_usd_fx_2$), 24, 8);' in job


def test_a_transform_with_two_lookups_reads_both_stores() -> None:
    proc = "proc P {\n    from payments\n    transform using two_lookups\n    emit to usd_out\n}\n"
    job = _generate(proc)["p/PJob.java"]
    assert "record -> Keys.of(record.currency)," in job
    assert "record -> Keys.of(record.record.currency)," in job
    assert '"P.lookup.rates.two_lookups.fx.record.currency.transform.0ddf66a3");' in job
    assert '"P.lookup.rates_again.two_lookups.again.record.currency.transform.0ddf66a3");' in job
    assert "p.Usd r$1 = p.two_lookups.apply(r$0, two_lookups_fx$, two_lookups_again$);" in job


def test_transform_using_reads_the_store_with_the_records_field() -> None:
    proc = (
        "proc P {\n    from payments\n    transform using to_usd_record\n"
        "    emit to usd_out\n}\n"
    )
    job = _generate(proc)["p/PJob.java"]
    assert "record -> Keys.of(record.currency)," in job
    assert "p.Usd r$1 = p.to_usd_record.apply(r$0, to_usd_record_fx$);" in job


REFUSED = {
    "a key from another lookup's alias": (
        "proc P {\n    from payments\n    lookup rates by currency as r\n"
        "    map into Usd {\n        id = id\n        usd = in_usd(amount, r.currency)\n"
        "    }\n    emit to usd_out\n}\n", (6, 30), "reads more than the record's fields"),
    "in a window aggregate": (
        "proc P {\n    from payments\n    key by id\n    window tumbling 1 minute\n"
        "    aggregate into Total {\n        id = first(id)\n"
        "        total = sum(in_usd(amount, currency))\n    }\n    emit to totals\n}\n",
        (7, 21), "only a proc can read"),
    "in keyed state": (
        "proc P {\n    from payments\n    key by id\n    state t: decimal(24,8) ttl 1 hour\n"
        "    update t = in_usd(amount, currency)\n    emit to kept\n}\n",
        (5, 16), "only a proc can read"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_a_located_nx902(case: str) -> None:
    proc, (line, column), words = REFUSED[case]
    d = _refused(proc)
    assert d.code == "NX902", d.message
    assert (d.span.file, d.span.line, d.span.column) == ("x.proc", line, column)
    assert words in d.message and d.expected, d.message


def test_refused_from_rules() -> None:
    proc = "proc P {\n    from payments\n    apply Big rules\n    emit to kept\n}\n"
    d = _refused(proc, rules=True)
    assert d.code == "NX902" and d.message.startswith("transform in_usd has lookups")
    assert (d.span.file, d.span.line, d.span.column) == ("r.rules", 4, 14)
