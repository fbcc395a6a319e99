"""Check-stage unit tests: seed project, implicit binding, types, layering, proc flow,
environments, evolution."""

from __future__ import annotations

from conftest import example_sources  # pants: no-infer-dep

from nexflow_core.check.rules_check import implicit_name
from nexflow_core.diagnostics import render_text
from nexflow_core.project import check_project

PAYMENT = """schema PaymentEvent {
    transaction_id: string @key
    amount: decimal(10,2)
    rate: double
    currency: string @enum["USD", "EUR", "GBP"]
    timestamp: datetime @event_time
}
stream payments: PaymentEvent
stream out: PaymentEvent
"""


def codes(sources: dict[str, str]) -> list[str]:
    return [d.code for d in check_project(sources).diagnostics]


def test_seed_examples_check_clean_as_one_project() -> None:
    project = check_project(example_sources("payments"))
    assert project.diagnostics == [], render_text(project.diagnostics, project.sources)
    rs = project.ruleset("PaymentValidation")
    assert rs is not None and rs.input is not None
    assert (rs.input.name, rs.input.type.name) == ("payment", "PaymentEvent")
    flow = project.proc_flow("PaymentProcessor")
    assert flow is not None and flow.source == "payment_events"
    assert flow.event_time_field == "timestamp"
    assert all(s.output is not None and s.output.name == "PaymentEvent" for s in flow.steps)
    env = project.environment("production")
    assert env is not None
    assert sorted(env.streams) == [
        "dead_letter",
        "failed_payments",
        "payment_events",
        "processed_payments",
    ]
    assert sorted(env.stores) == ["transaction_store"]
    assert sorted(env.files) == [
        "examples/payments/production.infra",
        "examples/payments/production_sinks.infra",
    ]


def test_hello_checks_clean_and_types_are_recorded() -> None:
    project = check_project(example_sources("hello"))
    assert project.ok and not project.diagnostics
    proc = project.modules["examples/hello/hello.proc"].decls[0]
    cond = proc.statements[1].condition
    assert project.type_of(cond).kind == "boolean"
    assert project.type_of(cond.left).kind == "int"
    assert project.schema("Greeting").fields[0].key


def test_implicit_name_rule() -> None:
    assert implicit_name("PaymentEvent") == "payment"
    assert implicit_name("Customer") == "customer"
    assert implicit_name("CardAuthorizationEvent") == "card_authorization"
    assert implicit_name("HTTPRequest") == "http_request"
    assert implicit_name("Event") == "event"


def test_implicit_binding_failures() -> None:
    rules = "ruleset R { rule r { when txn.amount > 1 then flag_for_review } }"
    assert "NX210" in codes({"a.schema": PAYMENT, "r.rules": rules})
    two = "ruleset R { rule r { when payment.amount > 1 and customer.x then flag_for_review } }"
    src = {"a.schema": PAYMENT + "schema Customer { x: boolean }", "r.rules": two}
    assert codes(src) == ["NX210"]
    ambiguous = "schema Payment { amount: int }\n" + PAYMENT
    rules_ok = "ruleset R { rule r { when payment.amount > 1 then flag_for_review } }"
    assert codes({"a.schema": ambiguous, "r.rules": rules_ok}) == ["NX210"]


def test_decimal_double_mixing_and_arithmetic_types() -> None:
    bad = PAYMENT.replace("}\nstream", "    validate amount * rate > 0\n}\nstream", 1)
    assert codes({"a.schema": bad}) == ["NX303"]
    t = """transform t {
        input p: PaymentEvent
        output decimal(21,4)
        compute p.amount * 2.50
    }"""
    project = check_project({"a.schema": PAYMENT, "t.transform": t})
    assert project.ok, project.diagnostics
    expr = project.modules["t.transform"].decls[0].compute
    ty = project.type_of(expr)
    assert (ty.kind, ty.precision, ty.scale) == ("decimal", 13, 4)


def test_enum_values_checked() -> None:
    src = {"a.schema": 'enum C { A, B }\nschema S { c: C validate c == "Z" }'}
    assert codes(src) == ["NX305"]
    ok = {"a.schema": "enum C { A, B }\nschema S { c: C validate c == A or c in [B] }"}
    assert codes(ok) == []


def test_layering_violation_names_both_files() -> None:
    src = {
        "a.schema": "schema S { x: R }",
        "r.rules": "ruleset R for s: S { rule r { then flag_for_review } }",
    }
    project = check_project(src)
    (d,) = [d for d in project.diagnostics if d.code == "NX203"]
    assert "a.schema" in d.message and "r.rules" in d.message
    assert d.related is not None and d.related.file == "r.rules"


def test_transform_cannot_call_rules_but_proc_can_call_transforms() -> None:
    src = {
        "a.schema": PAYMENT,
        "t.transform": "transform t { input p: PaymentEvent output boolean compute R(p) }",
        "r.rules": "ruleset R for p: PaymentEvent { rule r { then flag_for_review } }",
    }
    assert "NX203" in codes(src)


def test_proc_type_flow_through_transform_and_emit_mismatch() -> None:
    src = {
        "a.schema": PAYMENT + "schema Small { id: string }\nstream smalls: Small\n",
        "t.transform": "transform shrink { input p: PaymentEvent output Small "
        "map { id = p.transaction_id } }",
        "p.proc": "proc P { from payments transform using shrink emit to out }",
    }
    project = check_project(src)
    assert [d.code for d in project.diagnostics] == ["NX304"]
    flow = project.proc_flow("P")
    assert [s.output.name for s in flow.steps] == ["PaymentEvent", "Small", "Small"]
    src["p.proc"] = "proc P { from payments transform using shrink emit to smalls }"
    assert codes(src) == []


def test_proc_ordering_rules() -> None:
    base = {"a.schema": PAYMENT}
    assert "NX408" in codes({**base, "p.proc": "proc P { from payments on timeout emit to out }"})
    assert "NX430" in codes(
        {**base, "p.proc": "proc P { from payments window tumbling 1 minute emit to out }"}
    )
    assert "NX408" in codes({**base, "p.proc": "proc P { filter amount > 1 }"})
    ok = (
        "proc P { from payments correlate by transaction_id within 5 minutes "
        "on timeout emit to out emit to out }"
    )
    assert codes({**base, "p.proc": ok}) == []


def test_window_start_and_end_belong_to_aggregate_into() -> None:
    base = {
        "a.schema": PAYMENT
        + "schema W { transaction_id: string  n: long  s: datetime  e: datetime? }\n"
        + "stream w: W\n"
    }
    window = (
        "proc P { from payments event_time timestamp watermark 5 seconds key by transaction_id "
        "window tumbling 1 minute "
    )
    ok = window + (
        "aggregate into W { transaction_id = first(transaction_id) n = count() "
        "s = window_start() e = window_end() } emit to w }"
    )
    assert codes({**base, "p.proc": ok}) == []
    outside = "proc P { from payments filter window_end() > timestamp emit to out }"
    diags = check_project({**base, "p.proc": outside}).diagnostics
    assert [d.code for d in diags] == ["NX408"]
    assert "window_end(…) is a fact of a window" in diags[0].message
    args = window + "aggregate into W { s = window_start(timestamp) } emit to w }"
    assert "NX307" in codes({**base, "p.proc": args})
    wrong_type = window + "aggregate into W { n = window_end() } emit to w }"
    assert codes({**base, "p.proc": wrong_type}) != []


def test_routes_must_be_handled() -> None:
    src = {
        "a.schema": PAYMENT,
        "r.rules": "ruleset R for p: PaymentEvent { rule r { when p.amount > 5 "
        "then route to review } }",
        "p.proc": "proc P { from payments apply R rules emit to out }",
    }
    assert codes(src) == ["NX409"]
    src["p.proc"] = "proc P { from payments apply R rules on route review emit to out emit to out }"
    assert codes(src) == []


def test_environment_merge_inheritance_and_bindings() -> None:
    src = {
        "a.schema": PAYMENT,
        "p.proc": "proc P { from payments emit to out }",
        "base.infra": (
            'environment base { streams { payments { topic: "p" } dead_letter { topic: "d" } } }'
        ),
        "prod.infra": 'environment prod extends base { streams { out { topic: "o" } } }',
        "dup.infra": 'environment prod { streams { out { topic: "again" } } }',
    }
    project = check_project(src)
    assert [d.code for d in project.diagnostics] == ["NX202"]
    del src["dup.infra"]
    project = check_project(src)
    assert project.diagnostics == []
    assert sorted(project.environment("prod").streams) == ["dead_letter", "out", "payments"]
    src["prod.infra"] = "environment prod extends base { parallelism: 2 }"
    assert codes(src) == ["NX501"]


def test_dead_letters_must_be_bound_where_a_proc_runs_on_kafka() -> None:
    """NX516: a proc without `on error emit to` whose sources are topics in an environment
    writes its dead letters to `dead_letter`, which that environment must bind (or say
    `dead_letters { log_only: "…" }`); local runs over files need not. NX517: a malformed
    opt-out."""
    src = {
        "a.schema": PAYMENT,
        "p.proc": "proc P { from payments emit to out }",
        "prod.infra": (
            'environment prod {\n streams { payments { topic: "p" } out { topic: "o" } } }'
        ),
    }
    project = check_project(src)
    (d,) = project.diagnostics
    assert d.code == "NX516" and "proc P" in d.message and "environment prod" in d.message
    assert (d.span.file, d.span.line) == ("prod.infra", 1) and d.related.file == "p.proc"
    # Bound: clean, and binding the implicit stream is no NX504 (no schema declares it).
    bound = src["prod.infra"].replace("} } }", '} dead_letter { topic: "dl" } } }')
    assert codes({**src, "prod.infra": bound}) == []
    # Explicitly only logged, with a reason.
    logged = src["prod.infra"].replace(
        "prod {", 'prod { dead_letters { log_only: "a smoke test; the logs are enough" }'
    )
    assert codes({**src, "prod.infra": logged}) == []
    # A proc with `on error emit to` a stream: that stream is checked like the others (NX501).
    src_on_error = {**src, "p.proc": "proc P { from payments on error emit to out emit to out }"}
    assert codes(src_on_error) == []
    # Sources read from files: a local run, exempt.
    local = 'environment local { streams { payments { file: "p.jsonl" } out { file: "o" } } }'
    assert codes({**src, "prod.infra": local}) == []
    # A base that another environment extends is not deployed itself.
    based = {**src, "prod.infra": src["prod.infra"].replace("prod {", "base {")}
    based["child.infra"] = "environment prod extends base { parallelism: 2 }"
    assert codes(based) == ["NX516"]
    # NX517: no reason, an empty one, or something else than log_only.
    for bad in ("log_only: yes", 'log_only: " "', 'keep: "x"'):
        broken = src["prod.infra"].replace("prod {", f"prod {{ dead_letters {{ {bad} }}")
        assert "NX517" in codes({**src, "prod.infra": broken}), bad


def test_secrets_and_settings() -> None:
    env = 'environment e { kafka { password: "x" security_protocol: TLS } }'
    assert sorted(codes({"e.infra": env})) == ["NX503", "NX505"]


def test_mongodb_store_bindings_need_what_the_client_needs() -> None:
    store = "store kept: PaymentEvent key transaction_id\n"
    src = {
        "a.schema": PAYMENT + store,
        "p.proc": "proc P { from payments emit to out persist to kept async }",
        "base.infra": (
            'environment base { streams { payments { topic: "p" } out { topic: "o" } '
            'dead_letter { topic: "d" } } }'
        ),
        "prod.infra": (
            'environment prod extends base { stores { kept { type: mongodb uri: env("MONGO_URI") '
            'database: "d" collection: "c" decimals: string threads: 2 } } }'
        ),
    }
    assert codes(src) == []
    src["prod.infra"] = (
        'environment prod extends base { stores { kept { type: mongodb uri: "mongodb://h/" } } }'
    )
    project = check_project(src)
    assert [d.code for d in project.diagnostics] == ["NX505"]
    assert project.diagnostics[0].message == (
        "environment prod: mongodb store kept needs database, collection"
    )
    assert project.diagnostics[0].span.file == "prod.infra"
    src["prod.infra"] = (
        'environment prod extends base { stores { kept { type: mongodb uri: "mongodb://h/" '
        'database: d collection: "c" decimals: float threads: 0 } } }'
    )
    assert sorted(codes(src)) == ["NX505", "NX505", "NX505"]


def test_schema_evolution() -> None:
    v = (
        "schema A version 1 { id: string n: int }\nschema A version 2 { id: string n: long "
        "x: int? }"
    )
    assert codes({"a.schema": v}) == []
    bad = "schema A version 1 { id: string n: int }\nschema A version 2 { id: string n: string }"
    assert codes({"a.schema": bad}) == ["NX407"]


def test_duplicates_across_files() -> None:
    src = {"a.schema": "schema A { x: int }", "b.schema": "schema A { y: int }"}
    project = check_project(src)
    (d,) = project.diagnostics
    assert d.code == "NX202" and "a.schema" in d.message and d.related.file == "a.schema"


def test_every_diagnostic_is_located() -> None:
    src = {"a.schema": PAYMENT, "p.proc": "proc P { from nowhere filter zz emit to out }"}
    for d in check_project(src).diagnostics:
        assert d.span.file == "p.proc" and d.span.line >= 1 and d.span.column >= 1


DELIVERY_SCHEMA = """schema Decision {
    auth_id: string @key
    approved: boolean
}
stream requests: Decision
stream decisions: Decision
stream audit: Decision
"""


def _delivery(env: str, proc: str = "proc D { from requests emit to decisions emit to audit }"):
    return check_project(
        {"d.schema": DELIVERY_SCHEMA, "d.proc": proc, "e.infra": env}
    ).diagnostics


def test_delivery_per_binding_and_environment_default() -> None:
    ok = """environment prod {
        delivery: exactly_once
        checkpoint { interval: 30 seconds storage: cluster }
        streams {
            requests { topic: "r" }
            decisions { topic: "d" delivery: at_least_once idempotency_key: auth_id }
            audit { topic: "a" } dead_letter { topic: "dl" }
        }
    }"""
    assert _delivery(ok) == []
    # Unknown modes, for a binding and for the environment's default.
    bad = ok.replace("delivery: at_least_once", "delivery: at_most_once").replace(
        "delivery: exactly_once", "delivery: sometimes"
    )
    found = _delivery(bad)
    assert [d.code for d in found] == ["NX507", "NX507"]
    assert {d.span.line for d in found} == {2, 6}
    # The idempotency key is a field of the stream's schema (and a name).
    (d,) = _delivery(ok.replace("idempotency_key: auth_id", "idempotency_key: auth"))
    assert d.code == "NX508" and "auth_id, approved" == d.expected and d.span.line == 6
    (d,) = _delivery(ok.replace("idempotency_key: auth_id", 'idempotency_key: "auth_id"'))
    assert d.code == "NX508"


def test_exactly_once_needs_checkpoints_from_the_environment_or_the_proc() -> None:
    env = """environment prod {
        streams {
            requests { topic: "r" }
            decisions { topic: "d" delivery: exactly_once }
            audit { topic: "a" } dead_letter { topic: "dl" }
        }
    }"""
    (d,) = _delivery(env)
    assert d.code == "NX509" and "decisions" in d.message and d.span.line == 4
    # The proc's checkpoints are enough.
    checked = "proc D { checkpoint every 10 seconds from requests emit to decisions emit to audit }"
    assert _delivery(env, checked) == []
    # The environment's default applies to sinks without a mode of their own ...
    default = env.replace("delivery: exactly_once", "").replace(
        "streams {", "delivery: exactly_once streams {"
    )
    assert sorted(d.message.split()[1] for d in _delivery(default)) == ["audit", "decisions"]
    # ... but a proc's `emit to … at_least_once` wins over it, and a binding over the proc.
    declared = (
        "proc D { from requests emit to decisions at_least_once emit to audit at_least_once }"
    )
    assert [d.message.split()[1] for d in _delivery(default, declared)] == []
    (d,) = _delivery(env, declared)
    assert "decisions" in d.message
    # Without any declaration, sinks are at_least_once and need no checkpoints.
    assert _delivery(env.replace("delivery: exactly_once", "")) == []


RATES = """schema Rate {
    currency: string @key
    rate: decimal(12,6)
}
store rates: Rate key currency
"""


def _in_usd(key: str, second: str = "") -> str:
    return (
        "transform in_usd {\n"
        "    input payment: PaymentEvent\n"
        "    input code: string\n"
        "    output decimal(24,8)\n"
        f"    lookup fx from rates by {key}\n"
        f"{second}"
        "    compute payment.amount * coalesce(fx.rate, 1.0)\n"
        "}\n"
    )


def test_transform_lookup_key_is_an_input_or_a_field_path_of_one() -> None:
    for key in ("payment.currency", "code"):
        project = check_project({"a.schema": PAYMENT + RATES, "t.transform": _in_usd(key)})
        assert project.diagnostics == [], render_text(project.diagnostics, project.sources)
    project = check_project({"a.schema": PAYMENT + RATES, "t.transform": _in_usd("code")})
    (sig,) = project.interfaces["t.transform"].transforms
    assert [(lk.alias, lk.store, lk.input, lk.path) for lk in sig.lookups] == [
        ("fx", "rates", "code", [])
    ]
    project = check_project(
        {"a.schema": PAYMENT + RATES, "t.transform": _in_usd("payment.currency")}
    )
    (sig,) = project.interfaces["t.transform"].transforms
    assert [(lk.input, lk.path) for lk in sig.lookups] == [("payment", ["currency"])]
    # A computed key, or one read from another lookup, cannot be evaluated by the calling proc.
    for key, second, line, column in (
        ("upper(code)", "", 5, 29),
        ("code", "    lookup again from rates by fx.currency\n", 6, 32),
    ):
        project = check_project(
            {"a.schema": PAYMENT + RATES, "t.transform": _in_usd(key, second)}
        )
        (d,) = project.diagnostics
        assert (d.code, d.span.file, d.span.line, d.span.column) == (
            "NX412", "t.transform", line, column
        ), render_text(project.diagnostics, project.sources)
        assert d.expected == "payment.<field> (an input, or a field path of one)"


def test_a_proc_calling_a_transform_with_lookups_uses_their_stores() -> None:
    transforms = """
transform rate_of {
    input currency: string
    output decimal(12,6)
    lookup fx from rates by currency
    compute coalesce(fx.rate, 1.0)
}

transform stamp {
    input payment: PaymentEvent
    output PaymentEvent
    lookup fx from rates by payment.currency
    map {
        transaction_id = payment.transaction_id
        amount = payment.amount
        rate = coalesce(to_double(fx.rate), payment.rate)
        currency = payment.currency
        timestamp = payment.timestamp
    }
}
"""
    streams = 'streams { payments { file: "p" } out { file: "o" } }'
    src = {"a.schema": PAYMENT + RATES, "t.transform": transforms}
    for proc, used in (
        ("proc P { from payments filter rate_of(currency) > 0 emit to out }", True),
        ("proc P { from payments transform using stamp emit to out }", True),
        ("proc P { from payments filter amount > 0 emit to out }", False),
    ):
        src["p.proc"] = proc
        src["e.infra"] = f"environment local {{ {streams} }}"
        project = check_project(src)
        assert [d.code for d in project.diagnostics] == (["NX502"] if used else []), proc
        if used:
            assert project.diagnostics[0].message == (
                "environment local does not bind store 'rates' used by proc P (p.proc)"
            )
            assert project.interfaces["p.proc"].procs[0].stores == ["rates"]
        src["e.infra"] = f"environment local {{ {streams} stores {{ rates {{ type: memory }} }} }}"
        project = check_project(src)
        assert project.diagnostics == [], render_text(project.diagnostics, project.sources)


def _infra_codes(text: str) -> list[tuple[str, int, int]]:
    project = check_project({"prod.infra": text})
    return [(d.code, d.span.line, d.span.column) for d in project.diagnostics]


def test_literal_credentials_are_refused_with_their_place() -> None:
    # A password inside a MongoDB connection string (NX523), the message masks it.
    uri = (
        "environment production {\n"
        "    stores { s {\n"
        "        type: mongodb\n"
        '        uri: "mongodb://fraud:hunter2@mongo-1:27017/?tls=true"\n'
        '        database: "d"\n'
        '        collection: "c"\n'
        "    } }\n"
        "}\n"
    )
    assert _infra_codes(uri) == [("NX523", 4, 14)]
    project = check_project({"prod.infra": uri})
    assert "hunter2" not in project.diagnostics[0].message
    assert "mongodb://fraud:****@" in project.diagnostics[0].message
    # A password inside a pass-through text (a JAAS config), anywhere in a list too (NX524).
    jaas = (
        "environment production {\n"
        "    kafka {\n"
        '        sasl_jaas_config: "PlainLoginModule required username=\\"a\\" password=\\"b\\";"\n'
        "    }\n"
        "}\n"
    )
    assert _infra_codes(jaas) == [("NX524", 3, 27)]
    listed = 'environment e { kafka { brokers: ["k1:9093", "https://u:pw@k2:9093"] } }'
    assert [c for c, _, _ in _infra_codes(listed)] == ["NX523"]
    # Settings named like secrets (NX503): trust store and key passwords too.
    for name in ("truststore_password", "keystore_password", "key_password", "api_key"):
        text = f'environment e {{ kafka {{ {name}: "changeit" }} }}'
        assert [c for c, _, _ in _infra_codes(text)] == ["NX503"], name
    # References that cannot be resolved on a task manager (NX213).
    bad_refs = 'environment e { kafka { password: env("KAFKA PASSWORD") username: file("u") } }'
    assert [c for c, _, _ in _infra_codes(bad_refs)] == ["NX213", "NX213"]
    # By reference, all is well.
    ok = (
        "environment e { kafka { password: env(\"KAFKA_PASSWORD\") "
        'truststore_password: file("/run/secrets/ts") brokers: "k1:9093" } }'
    )
    assert _infra_codes(ok) == []


def test_tls_settings_of_stores_and_kafka() -> None:
    store = (
        "environment production {{\n"
        "    stores {{ s {{\n"
        '        type: mongodb uri: env("MONGO_URI") database: "d" collection: "c"\n'
        "        {}\n"
        "    }} }}\n"
        "}}\n"
    )
    good = (
        'tls: true ca_file: file("/etc/ca.pem") keystore: file("/etc/client.p12") '
        'keystore_password: file("/etc/client.pass")'
    )
    assert _infra_codes(store.format(good)) == []
    assert _infra_codes(store.format("tls: yes")) == [("NX525", 4, 14)]
    assert [c for c, _, _ in _infra_codes(store.format('ca_file: file("/etc/ca.pem")'))] == [
        "NX525"
    ]
    no_password = 'tls: true keystore: file("/etc/client.p12")'
    assert [c for c, _, _ in _infra_codes(store.format(no_password))] == ["NX525"]
    clear = 'environment e { kafka { security_protocol: PLAINTEXT truststore: file("/t.jks") } }'
    assert [c for c, _, _ in _infra_codes(clear)] == ["NX525"]
def test_at_least_once_checkpoints_refuse_an_exactly_once_sink_naming_both_places() -> None:
    env = """environment prod {
        checkpoint {
            interval: 10 seconds
            mode: at_least_once storage: cluster
        }
        streams {
            requests { topic: "r" }
            decisions { topic: "d" delivery: exactly_once }
            audit { topic: "a" }
        }
        dead_letters { log_only: "not what this test is about" }
    }"""
    (d,) = _delivery(env)
    assert d.code == "NX511" and d.severity == "error"
    assert d.span.file == "e.infra" and d.span.line == 4  # the checkpoint mode
    assert d.related is not None and d.related.line == 8  # the sink's delivery
    assert "e.infra:4" in d.message and "e.infra:8" in d.message and "decisions" in d.message
    # Exactly-once checkpoints (or no exactly-once sink) are fine.
    assert _delivery(env.replace("mode: at_least_once", "mode: exactly_once")) == []
    assert _delivery(env.replace("delivery: exactly_once", "")) == []
    # The environment's default delivery counts too; the proc's emit is pointed at by file.
    default = env.replace("delivery: exactly_once", "").replace(
        "streams {", "delivery: exactly_once streams {"
    )
    assert sorted(d.code for d in _delivery(default)) == ["NX511", "NX511"]
    declared = "proc D { from requests emit to decisions emit to audit exactly_once }"
    (d,) = _delivery(env.replace("delivery: exactly_once", ""), declared)
    assert d.code == "NX511" and d.related is not None and d.related.file == "d.proc"


def test_at_least_once_checkpoints_are_checked_for_a_proc_after_one_without_any() -> None:
    # The NX509 check of a proc without checkpoints once overwrote the checkpoint mode the next
    # proc's NX511 check reads (found by mypy): b.proc's exactly-once sink went unreported.
    env = """environment prod {
        checkpoint { mode: at_least_once storage: cluster }
        streams {
            requests { topic: "r" }
            decisions { topic: "d" delivery: exactly_once }
            audit { topic: "a" }
        }
        dead_letters { log_only: "not what this test is about" }
    }"""
    found = check_project(
        {
            "d.schema": DELIVERY_SCHEMA,
            "e.infra": env,
            "a.proc": "proc A { from requests emit to decisions emit to audit }",
            "b.proc": (
                "proc B { checkpoint every 10 seconds "
                "from requests emit to decisions emit to audit }"
            ),
        }
    ).diagnostics
    assert sorted((d.code, d.message.split("proc ")[1][0]) for d in found if d.code == "NX511") == [
        ("NX511", "A"),
        ("NX511", "B"),
    ]
    assert [d.code for d in found if d.code != "NX511"] == ["NX509"]


def test_source_settings_are_checked() -> None:
    def infra(stream: str, top: str = "") -> list:
        env = f"""environment prod {{
            {top}
            streams {{
                requests {{ topic: "r" {stream} }}
                decisions {{ topic: "d" }}
                audit {{ topic: "a" }}
            }}
            dead_letters {{ log_only: "not what this test is about" }}
        }}"""
        return [(d.code, d.span.line) for d in _delivery(env) if d.severity == "error"]

    good = [
        "idle_timeout: 30 seconds",
        "idle_timeout: 0 seconds",
        "start: committed start_fallback: latest",
        "start: earliest",
        "start: latest",
        'start: "2026-01-31T00:00:00Z"',
        'start: "2026-01-31T00:00:00.250Z"',
        'transactional_id_prefix: "prod.cards.decisions-1"',
    ]
    for setting in good:
        assert infra(setting) == [], setting
    assert infra("", "idle_timeout: 1 minute") == []
    assert infra("", "idle_timeout: 30") == [("NX512", 2)]
    assert infra("idle_timeout: fast") == [("NX512", 4)]
    # How far an event time may be from the processing time before it is a dead letter.
    assert infra("max_event_time_ahead: 10 minutes max_event_time_behind: 7 days") == []
    assert infra("", "max_event_time_ahead: 0 seconds") == []
    assert infra("", "max_event_time_ahead: 3600") == [("NX528", 2)]
    assert infra("max_event_time_behind: long") == [("NX528", 4)]
    assert infra("start: newest") == [("NX513", 4)]
    assert infra('start: "yesterday"') == [("NX513", 4)]
    assert infra('start: "2026-13-31T00:00:00Z"') == [("NX513", 4)]
    assert infra('start: "2026-01-31T00:00:00"') == [("NX513", 4)]  # no zone
    assert infra("start_fallback: none") == [("NX513", 4)]
    assert infra("start: latest start_fallback: earliest") == [("NX513", 4)]
    assert infra("transactional_id_prefix: prod") == [("NX514", 4)]
    assert infra('transactional_id_prefix: "prod cards"') == [("NX514", 4)]


def test_a_transform_named_like_a_built_in_function_is_refused() -> None:
    # Found by tests/generate/test_check_implies_build_fuzz.py: the checker read the call
    # `format_datetime(…)` as the built-in, the generator as the transform, and build stopped
    # with an internal error (CheckerMissed NX305) on a program check had accepted.
    sources = {
        "p.schema": PAYMENT,
        "t.transform": """
transform format_datetime {
    input payment: PaymentEvent
    output string
    compute format_datetime(payment.timestamp, "yyyy-MM-dd")
}
""",
    }
    project = check_project(sources)
    assert [(d.code, d.span.line) for d in project.errors] == [("NX436", 2)]
    assert "built-in function format_datetime" in project.errors[0].message
    # A name of its own is fine.
    renamed = sources["t.transform"].replace("transform format_datetime", "transform day_key")
    assert codes({**sources, "t.transform": renamed}) == []


def test_a_transform_lookup_named_like_an_input_or_another_lookup_is_refused() -> None:
    # Found by tests/generate/test_check_implies_build_fuzz.py: a lookup line written twice
    # passed check, and the transform's Java function took two parameters named fx.
    fx = "schema FxRate {\n    currency: string @key\n    rate: decimal(12,6)\n}\n"
    fx += "store fx_rates: FxRate key currency\n"
    text = """
transform in_usd {
    input payment: PaymentEvent
    output decimal(24,8)
    lookup fx from fx_rates by payment.currency
    lookup fx from fx_rates by payment.currency
    lookup payment from fx_rates by payment.currency
    compute payment.amount * coalesce(fx.rate, 1.0)
}
"""
    project = check_project({"p.schema": PAYMENT + fx, "t.transform": text})
    assert [(d.code, d.span.line) for d in project.errors] == [("NX202", 6), ("NX202", 7)]
    single = text.replace("    lookup fx from fx_rates by payment.currency\n", "", 1)
    single = single.replace("    lookup payment from fx_rates by payment.currency\n", "")
    assert codes({"p.schema": PAYMENT + fx, "t.transform": single}) == []
