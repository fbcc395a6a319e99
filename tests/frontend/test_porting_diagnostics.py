"""What porting real card pipelines tripped over (issue 16): semantic cases decided against the
reference, and diagnostics for things that used to pass silently or with an unclear message."""

from __future__ import annotations

from nexflow_core.diagnostics import Diagnostic
from nexflow_core.project import check_project, check_unit

PAYMENT = """schema PaymentEvent {
    transaction_id: string @key
    amount: decimal(10,2)
    channel: string @enum["ONLINE", "POS", "ATM"]
    note: string?
    timestamp: datetime @event_time
}
stream payments: PaymentEvent
stream out: PaymentEvent
"""

POINTS = """decision_table RiskPoints for payment: PaymentEvent hit_policy collect sum {
    inputs { payment.amount  payment.channel }
    outputs { points: int }
    rules {
        large:  > 5000, -       -> 40
        cash:   -,      "ATM"   -> 25
    }
}
decision_table Hits for payment: PaymentEvent hit_policy collect count {
    inputs { payment.amount }
    outputs { hit: boolean }
    rules {
        large: > 5000 -> true
    }
}
"""


def diags(sources: dict[str, str]) -> list[Diagnostic]:
    return list(check_project(sources).diagnostics)


def codes(sources: dict[str, str]) -> list[str]:
    return [d.code for d in diags(sources)]


def test_an_aggregated_collect_table_binds_the_number_itself() -> None:
    ok = """proc P {
    from payments
    apply RiskPoints table as risk
    apply Hits table as hits
    filter risk is not null and risk > 30 and hits > 0
    emit to out
}"""
    assert codes({"a.schema": PAYMENT, "t.rules": POINTS, "p.proc": ok}) == []
    bad = ok.replace("risk > 30", "risk.points > 30")
    found = diags({"a.schema": PAYMENT, "t.rules": POINTS, "p.proc": bad})
    assert [d.code for d in found] == ["NX204"]
    assert found[0].hint is not None and "write risk" in found[0].hint


def test_a_version_line_or_a_dotted_schema_version_is_nx106() -> None:
    line = diags({"a.schema": "version 1.0.0\nschema A {\n    a: int\n}\n"})
    assert [(d.code, d.span.line, d.span.column) for d in line] == [("NX106", 1, 1)]
    assert "no version line" in line[0].message and "version 1.0.0" in line[0].message
    proc = diags({"p.proc": "version 2\nproc P { from a emit to b }\n"})
    assert [d.code for d in proc] == ["NX106"]
    dotted = diags({"a.schema": "schema A version 1.0.0 {\n    a: int\n}\n"})
    assert [(d.code, d.span.column, d.span.end_column) for d in dotted] == [("NX106", 18, 23)]
    assert "one whole number, not 1.0.0" in dotted[0].message
    # a field named version stays a field
    assert codes({"a.schema": "schema A version 2 {\n    version: int\n}\n"}) == []


def test_a_table_output_named_priority_after_another_output() -> None:
    table = """decision_table Decide for payment: PaymentEvent hit_policy priority {
    inputs { payment.amount }
    outputs {
        decision: string priority ["DECLINE", "APPROVE"]
        priority: int
        note: string
    }
    rules {
        big:  > 100 -> "DECLINE", 1, "big"
        rest: -     -> "APPROVE", 2, "rest"
    }
}
"""
    project = check_project({"a.schema": PAYMENT, "t.rules": table})
    assert project.diagnostics == []
    outputs = project.modules["t.rules"].decls[0].outputs
    assert [(o.name, o.type.name, len(o.order)) for o in outputs] == [
        ("decision", "string", 2),
        ("priority", "int", 0),
        ("note", "string", 0),
    ]
    assert (outputs[0].span.line, outputs[0].span.end_column) == (4, 57)
    # an order with no output before it is still an error, located
    stray = table.replace('        decision: string priority ["DECLINE", "APPROVE"]\n',
                          '        priority ["DECLINE", "APPROVE"]\n        decision: string\n')
    assert [(d.code, d.span.line) for d in diags({"a.schema": PAYMENT, "t.rules": stray})] == [
        ("NX106", 4)
    ]


def _status_table(cells: str) -> str:
    return f"""decision_table Status for payment: PaymentEvent hit_policy first {{
    inputs {{ payment.note }}
    outputs {{ blocked: boolean }}
    rules {{
{cells}
        rest: - -> false
    }}
}}
"""


def test_a_text_cell_that_looks_like_a_wildcard_or_a_template_is_nx441() -> None:
    found = diags({"a.schema": PAYMENT, "t.rules": _status_table(
        '        wild: "BLOCKED_*" -> true\n'
        '        tmpl: in ["${limit}", "{card_id}"] -> true\n'
        '        star: "A*B" -> true'
    )})  # fmt: skip
    assert [(d.code, d.severity, d.span.line) for d in found] == [
        ("NX441", "warning", 5), ("NX441", "warning", 6), ("NX441", "warning", 6),
        ("NX441", "warning", 7),
    ]  # fmt: skip
    assert "wildcard" in found[0].message and "exact text" in found[0].message
    assert found[0].hint is not None and 'starts_with(x, "BLOCKED_")' in found[0].hint
    assert "template" in found[1].message
    assert "matches(" in (found[3].hint or "")
    # plain text, and braces that name nothing, are fine
    assert codes({"a.schema": PAYMENT, "t.rules": _status_table(
        '        plain: in ["BLOCKED", "a{1}", "50%"] -> true'
    )}) == []  # fmt: skip


def test_a_text_outside_a_fields_enum_in_a_comparison_is_nx442() -> None:
    proc = """proc P {
    from payments
    filter channel == "BRANCH" or "ONLNE" != channel or channel == "ATM"
    emit to out
}"""
    found = diags({"a.schema": PAYMENT, "p.proc": proc})
    assert [(d.code, d.severity, d.span.column) for d in found] == [
        ("NX442", "warning", 23),
        ("NX442", "warning", 35),
    ]
    assert "never true" in found[0].message and "always true" in found[1].message
    assert found[0].expected == '"ONLINE", "POS", "ATM"'
    assert found[1].hint == "did you mean 'ONLINE'?"
    rules = """ruleset R {
    rule r {
        when payment.channel in ["ONLINE", "KIOSK"] and payment.note == "x"
        then flag_for_review
    }
}"""
    found = diags({"a.schema": PAYMENT, "r.rules": rules})
    assert [(d.code, d.span.line, d.span.column) for d in found] == [("NX442", 3, 44)]


def test_a_stream_setting_that_nothing_reads_is_nx443() -> None:
    infra = """environment production {
    streams {
        payments {
            topic: "prod.payments"
            consumer_group: "fraud"
            start_offset: earliest
            paralelism: 2
            start: earliest
            idle_timeout: 30 seconds
        }
    }
}
"""
    found = [d for d in diags({"a.schema": PAYMENT, "e.infra": infra}) if d.code == "NX443"]
    assert [(d.severity, d.span.line, d.span.column) for d in found] == [
        ("warning", 5, 13), ("warning", 6, 13), ("warning", 7, 13),
    ]  # fmt: skip
    assert "consumer_group" in found[0].message and "no effect" in found[0].message
    assert "group_id in the environment's kafka block" in (found[0].hint or "")
    assert found[1].hint is not None and found[1].hint.startswith("start: committed")
    assert found[2].hint == "did you mean 'parallelism'?"
    assert found[2].expected is not None and "start_fallback" in found[2].expected


CUSTOMER = """schema Customer {
    customer_id: string @key
    tier: string
    nickname: string?
}
"""


def _label(expr: str) -> dict[str, str]:
    transform = f"""transform label {{
    input customer: Customer?
    output string
    compute {expr}
}}
"""
    return {"a.schema": PAYMENT + CUSTOMER, "t.transform": transform}


def test_if_x_is_not_null_narrows_x_in_its_branch() -> None:
    narrowed = [
        'if customer is not null then customer.tier else "NONE"',
        'if customer is null then "NONE" else customer.tier',
        'if not (customer is null) then customer.tier else "NONE"',
        'if customer is not null and customer.nickname is not null then customer.nickname '
        'else "NONE"',
        'if customer is null or customer.nickname is null then "NONE" else customer.nickname',
        'if customer is not null then (if customer.nickname is null then customer.tier '
        'else customer.nickname) else "NONE"',
    ]
    for expr in narrowed:
        assert codes(_label(expr)) == [], expr
    still_nullable = [
        'if customer is not null then customer.nickname else "NONE"',  # an optional field
        'if customer is null then customer.tier else "NONE"',
        'if customer is not null or true then customer.tier else "NONE"',
        'if customer is null and true then "NONE" else customer.tier',
        "customer.tier",
    ]
    for expr in still_nullable:
        assert codes(_label(expr)) == ["NX309"], expr


def test_the_right_side_of_and_or_sees_what_the_left_side_decided() -> None:
    transform = """transform tiered {
    input customer: Customer?
    output boolean
    compute customer is not null and is_tier(customer.tier)
}
transform is_tier {
    input tier: string
    output boolean
    compute tier != ""
}
"""
    assert codes({"a.schema": CUSTOMER, "t.transform": transform}) == []
    assert codes({"a.schema": CUSTOMER, "t.transform": transform.replace(
        "customer is not null and", "customer is null or"
    )}) == []  # fmt: skip
    assert codes({"a.schema": CUSTOMER, "t.transform": transform.replace(
        "customer is not null and", "customer is null and"
    )}) == ["NX309"]  # fmt: skip


def _tiering(catch_all: str) -> dict[str, str]:
    table = f"""decision_table Tier for payment: PaymentEvent hit_policy first {{
    inputs {{ payment.amount  payment.note }}
    outputs {{ tier: string }}
    rules {{
        big:  > 5000, -  -> "HIGH"
        {catch_all}
    }}
}}
"""
    proc = """proc Tiering {
    from payments
    apply Tier table as risk
    map into Tiered {
        transaction_id = transaction_id
        tier = risk.tier
    }
    emit to tiered
}"""
    schema = PAYMENT + "schema Tiered {\n    transaction_id: string @key\n    tier: string\n}\n"
    return {"a.schema": schema + "stream tiered: Tiered\n", "t.rules": table, "p.proc": proc}


def test_a_table_with_a_row_of_dashes_only_always_has_a_result() -> None:
    # `-` matches every value, null too: some row always matches, the result is never null
    assert codes(_tiering('rest: -, - -> "LOW"')) == []
    # without such a row (here a cell tests the amount) no row may match: null
    assert codes(_tiering('rest: <= 5000, - -> "LOW"')) == ["NX309"]
    sig = check_project(_tiering('rest: -, - -> "LOW"')).table("Tier")
    assert sig is not None and not sig.result.nullable
    sig = check_project(_tiering('rest: <= 5000, - -> "LOW"')).table("Tier")
    assert sig is not None and sig.result.nullable


def test_narrowing_is_only_for_the_tested_name() -> None:
    transform = """transform pick {
    input customer: Customer?
    input other: Customer?
    output string
    compute EXPR
}
"""
    # `other` tested, `customer` read: still nullable
    for expr in [
        'if other is not null then customer.tier else "NONE"',
        'if other is null then "NONE" else customer.tier',
        'if customer.nickname is not null then customer.tier else "NONE"',
    ]:
        sources = {"a.schema": CUSTOMER, "t.transform": transform.replace("EXPR", expr)}
        assert codes(sources) == ["NX309"], expr


RECORDS = """schema Payment {
    transaction_id: string @key
    card_id: string
    note: string?
}
schema Customer {
    card_id: string @key
    tier: string
}
schema Labelled {
    transaction_id: string @key
    tier: string
    note: string
}
store customers: Customer key card_id
stream payments: Payment
stream labelled: Labelled
"""


KIND = """decision_table Kind for payment: Payment hit_policy first {
    inputs { payment.card_id }
    outputs { kind: string }
    rules {
        any: - -> "card"
    }
}
ruleset Clear for payment: Payment {
    rule clear {
        when payment.card_id == "x"
        then set payment.note = null
    }
}
"""


def _labelling(middle: str) -> dict[str, str]:
    proc = f"""proc Label {{
    from payments
    lookup customers by card_id as customer
{middle}
    map into Labelled {{
        transaction_id = transaction_id
        tier = customer.tier
        note = note
    }}
    emit to labelled
}}"""
    return {"a.schema": RECORDS, "p.proc": proc}


def _nx309_lines(sources: dict[str, str]) -> list[int]:
    return [d.span.line for d in diags(sources) if d.code == "NX309"]


def test_a_filter_narrows_the_statements_after_it() -> None:
    # lines 7 (tier = customer.tier) and 8 (note = note) of the proc
    assert _nx309_lines(_labelling("")) == [7, 8]
    assert _nx309_lines(_labelling("    filter customer is not null and note is not null")) == []
    assert _nx309_lines(_labelling("    filter customer is not null")) == [8]
    assert _nx309_lines(_labelling("    filter not (note is null)")) == [7]
    # statements that keep the record and the name keep what the filter proved
    kept = _labelling(
        "    filter customer is not null and note is not null\n"
        "    apply Kind table as kind\n"
        "    filter note != \"\""
    )
    kept["t.rules"] = KIND
    assert codes(kept) == []
    # after `key by` the lookup's name is gone (NX421), the record's fields keep theirs
    keyed = _labelling("    filter customer is not null and note is not null\n    key by card_id")
    assert [(d.code, d.span.line) for d in diags(keyed)] == [("NX421", 8)]
    # a ruleset may set the record's fields: what the filter proved of them ends there
    ruled = _labelling(
        "    filter customer is not null and note is not null\n    apply Clear rules"
    )
    ruled["t.rules"] = KIND
    assert [(d.code, d.span.line) for d in diags(ruled)] == [("NX309", 9)]
    # `or` proves nothing about either side
    assert _nx309_lines(_labelling("    filter customer is not null or note is not null")) == [
        7, 8
    ]  # fmt: skip


def test_what_a_filter_proved_ends_where_the_value_changes() -> None:
    # the lookup binds customer again after the filter: a new value that may be null
    relookup = _labelling(
        "    filter customer is not null and note is not null\n"
        "    lookup customers by note as customer"
    )
    assert [(d.code, d.span.line) for d in diags(relookup) if d.code == "NX309"] == [
        ("NX309", 8)
    ]
    # after a map into, the fields are those of the new record
    remapped = {
        "a.schema": RECORDS,
        "p.proc": """proc Label {
    from payments
    filter note is not null
    map into Payment {
        transaction_id = transaction_id
        card_id = card_id
        note = if card_id == "x" then null else note
    }
    map into Labelled {
        transaction_id = transaction_id
        tier = "GOLD"
        note = note
    }
    emit to labelled
}""",
    }
    assert _nx309_lines(remapped) == [12]


def test_a_rules_condition_narrows_its_actions() -> None:
    schema = """schema Payment {
    transaction_id: string @key
    note: string?
    label: string
}
"""

    def rules(when: str, actions: str) -> dict[str, str]:
        return {"a.schema": schema, "r.rules": f"""ruleset Label for payment: Payment {{
    rule r {{
        when {when}
        then {actions}
    }}
}}"""}

    assert codes(rules("payment.note is not null", "set payment.label = payment.note")) == []
    assert codes(rules("payment.note is null", "set payment.label = payment.note")) == ["NX309"]
    assert codes(rules("true", "set payment.label = payment.note")) == ["NX309"]
    # an earlier action of the rule may set the field to null
    assert codes(rules(
        "payment.note is not null",
        "set payment.note = null, set payment.label = payment.note",
    )) == ["NX309"]  # fmt: skip


def test_a_table_cell_outside_its_columns_enum_is_nx442() -> None:
    table = """decision_table Channel for payment: PaymentEvent hit_policy first {
    inputs { payment.channel }
    outputs { branch: boolean }
    rules {
        a: "BRANCH"             -> true
        b: in ["ATM", "KIOSK"]  -> true
        d: "POS"                -> false
        c: != "ONLNE"           -> false
    }
}
"""
    found = diags({"a.schema": PAYMENT, "t.rules": table})
    # row a also never matches at all (NX444, the table's analysis knows the @enum too)
    assert [(d.code, d.severity, d.span.line, d.span.column) for d in found] == [
        ("NX442", "warning", 5, 12),
        ("NX444", "warning", 5, 12),
        ("NX442", "warning", 6, 23),
        ("NX442", "warning", 8, 15),
    ]
    assert "never matches" in found[0].message and "matches every value" in found[3].message
    assert found[0].expected == '"ONLINE", "POS", "ATM"'
    assert found[3].hint == "did you mean 'ONLINE'?"
    # a column computed from the field is not the field: nothing to say
    computed = table.replace("inputs { payment.channel }", "inputs { lower(payment.channel) }")
    assert "NX442" not in codes({"a.schema": PAYMENT, "t.rules": computed})


COPY = {
    "a.schema": """schema P {
    id: string @key
}
stream a: P
stream b: P
stream c: P
""",
    "p.proc": "proc Copy {\n    from a\n    emit to b\n}\n",
}


def _nx453(infra: str) -> list[tuple[int, str]]:
    sources = {**COPY, "e.infra": infra}
    found = [d for d in diags(sources) if d.code == "NX453"]
    assert all(d.severity == "warning" for d in found)
    return [(d.span.line, d.message.split("'")[1]) for d in found]


def test_a_stream_setting_for_the_side_no_proc_uses_is_nx453() -> None:
    infra = """environment production {
    streams {
        a {
            topic: "a"
            start: earliest
            delivery: exactly_once
        }
        b {
            topic: "b"
            start: latest
            pace_ms: 3
            parallelism: 2
            delivery: exactly_once
            transactional_id_prefix: "prod.b"
        }
    }
}
"""
    # a is only read (delivery is a sink's), b only written (start and pace_ms are a
    # source's); parallelism is both sides', b's transactional prefix is used (exactly_once)
    assert _nx453(infra) == [(6, "delivery"), (10, "start"), (11, "pace_ms")]
    found = [d for d in diags({**COPY, "e.infra": infra}) if d.code == "NX453"]
    assert "no proc reads b (it is only written, by Copy)" in found[1].message
    # a transactional prefix on a sink written at least once: no transactions
    at_least = infra.replace("            delivery: exactly_once\n            trans",
                             "            trans")
    assert (14, "transactional_id_prefix") not in _nx453(infra)
    assert (13, "transactional_id_prefix") in _nx453(at_least)


def test_kafka_settings_on_a_file_binding_are_nx453() -> None:
    infra = """environment local {
    streams {
        a {
            file: "/tmp/a.jsonl"
            start: earliest
            start_fallback: latest
            idle_timeout: 5 seconds
        }
        b {
            file: "/tmp/b.jsonl"
            delivery: exactly_once
            idempotency_key: id
        }
    }
}
"""
    found = [d for d in diags({**COPY, "e.infra": infra}) if d.code == "NX453"]
    assert [(d.span.line, d.message.split("'")[1]) for d in found] == [
        (5, "start"), (6, "start_fallback"), (11, "delivery"), (12, "idempotency_key"),
    ]  # fmt: skip
    assert "a is bound to a file, and only a Kafka source reads start" in found[0].message
    assert found[0].hint == "remove start, or bind a to a topic"
    assert "only a Kafka sink reads delivery" in found[2].message


def test_a_build_unit_judges_only_the_binding_kind() -> None:
    # A build unit sees only the procs it depends on: another proc may read b.
    schema = check_project({"a.schema": COPY["a.schema"]})
    proc = check_project({"p.proc": COPY["p.proc"]}, upstream=schema.interfaces.values())
    infra = """environment production {
    streams {
        b { topic: "b"  start: latest }
        c { file: "/tmp/c"  start: latest }
    }
}
"""
    unit = check_unit(
        infra, "e.infra", [*schema.interfaces.values(), *proc.interfaces.values()]
    )
    assert [(d.code, d.span.line) for d in unit.diagnostics if d.code == "NX453"] == [
        ("NX453", 4)
    ]


def test_nx453_lists_the_settings_that_do_something() -> None:
    infra = """environment local {
    streams {
        b {
            file: "/tmp/b.jsonl"
            start: earliest
        }
    }
}
"""
    found = [d for d in diags({**COPY, "e.infra": infra}) if d.code == "NX453"]
    # b is only written and bound to a file: of a sink's settings only parallelism is left
    assert [d.expected for d in found] == ["a setting b uses here: parallelism"]
