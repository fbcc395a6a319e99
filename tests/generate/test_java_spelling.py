"""Java spelling of DSL names and literals: whatever the DSL says, the Java compiles and means
it."""

from __future__ import annotations

from nexflow_core.generate.flink import java


def test_keywords_and_odd_names_become_safe_identifiers() -> None:
    assert java.identifier("count") == "count"
    # `$` never appears in DSL names, so the mapping cannot collide with another DSL name.
    assert java.identifier("class") == "class$"
    assert java.identifier("class_") == "class_"
    assert java.identifier("default") == "default$"
    assert java.identifier("_") == "_$"
    assert java.identifier("serialVersionUID") == "serialVersionUID$"
    assert java.identifier("2fa") == "_2fa$"
    assert java.identifier("amount-usd") == "amount_usd$"
    assert java.type_name("String") == "String$"


def test_string_literals_keep_every_character() -> None:
    assert java.string_literal('say "hi"') == '"say \\"hi\\""'
    assert java.string_literal("back\\slash") == '"back\\\\slash"'
    assert java.string_literal("line\nbreak\ttab") == '"line\\nbreak\\ttab"'
    assert java.string_literal("bell\x07") == '"bell\\u0007"'
    assert java.string_literal("end */ of comment") == '"end */ of comment"'
    assert java.string_literal("\u2028") == '"\\u2028"'
    assert java.string_literal("caf\u00e9") == '"caf\\u00e9"'
    assert java.string_literal("😀") == '"\\ud83d\\ude00"'


def test_comment_text_cannot_close_or_escape_a_comment() -> None:
    assert "*/" not in java.comment_text("a */ b")
    assert "\\u" not in java.comment_text("\\u000a")
    assert "\n" not in java.comment_text("two\nlines")
    assert java.comment_text("caf\u00e9 \u2192 x") == "cafU+00E9 U+2192 x"


def test_the_expression_writer_has_one_method_per_model_expression_and_raises_on_others() -> None:
    import typing

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.java.expressions import ExpressionWriter
    from nexflow_core.typemodel import Type

    kinds = {c.__name__ for c in typing.get_args(model.Expr)}
    assert len(kinds) == 16
    assert kinds == {n[len("write_") :] for n in dir(ExpressionWriter) if n.startswith("write_")}
    writer = ExpressionWriter(java.Spelling(model.TypeIndex(packages={})), "r")
    assert writer.write(model.This(type=Type("record", name="R"))) == "r"
    with pytest.raises(ValueError, match="no Java for the expression node Origin"):
        writer.write(model.Origin("a", 1, "x"))  # type: ignore[arg-type]


def test_cell_tests_and_rule_actions_have_one_method_per_kind_and_raise_on_others() -> None:
    import pytest

    from nexflow_core.generate import model
    from nexflow_core.typemodel import Type

    sp = java.Spelling(model.TypeIndex(packages={}))
    one = model.Lit(value=1, type=Type("int"))
    # Every kind model.CellTest documents.
    for kind in "any eq ne lt le gt ge in not_in".split():
        assert sp.cell_test(model.CellTest(kind=kind, values=[one]), "v")
    assert sp.cell_test(model.CellTest(kind="range", values=[one, one]), "v") == (
        "(Ops.ge(v, 1) && Ops.le(v, 1))"
    )
    with pytest.raises(ValueError, match="cell kind 'between'"):
        sp.cell_test(model.CellTest(kind="between"), "v")
    origin = model.Origin("a.rules", 1, "x")
    # Every kind model.Action documents.
    for kind in "flag reject route alert".split():
        assert sp.rule_action(model.Action(kind=kind, origin=origin, text="t"), "r", "in")
    assert (
        sp.rule_action(model.Action(kind="set", origin=origin, target=["a"], value=one), "r", "p")
        == "p.a = 1;"
    )
    with pytest.raises(ValueError, match="action kind 'drop'"):
        sp.rule_action(model.Action(kind="drop", origin=origin), "r", "p")


def test_each_constraint_kind_names_macros_of_the_contract_template() -> None:
    import re

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.java import contracts, naming

    template = (naming.TEMPLATES / "contract.java.j2").read_text("utf-8")
    macros = set(re.findall(r"\{% macro (\w+)\(", template))
    # Every kind model.Constraint documents.
    for kind in "required range length pattern allowed uuid".split():
        java_ = contracts.constraint_java(model.Constraint(kind=kind))
        assert java_.check in macros and (java_.constant is None or java_.constant in macros)
    with pytest.raises(ValueError, match="constraint kind 'even'"):
        contracts.constraint_java(model.Constraint(kind="even"))


def test_a_length_is_counted_as_the_dsl_counts_it() -> None:
    import pytest

    from nexflow_core.generate import model
    from nexflow_core.typemodel import Type

    sp = java.Spelling(model.TypeIndex(packages={}))
    assert sp.size("x", Type("string")) == "Validation.length(x)"
    assert sp.size("x", Type("bytes")) == "x.length"
    assert sp.size("x", Type("list", args=(Type("int"),))) == "x.size()"
    with pytest.raises(ValueError, match="no length of"):
        sp.size("x", Type("int"))


def test_record_equality_compares_bytes_by_content() -> None:
    from nexflow_core.generate import model
    from nexflow_core.typemodel import Type

    sp = java.Spelling(model.TypeIndex(packages={}))
    assert sp.equals(Type("bytes"), "a", "b") == "java.util.Objects.deepEquals(a, b)"
    assert sp.equals(Type("string"), "a", "b") == "java.util.Objects.equals(a, b)"
    assert sp.hash_code(Type("bytes"), "a") == "java.util.Arrays.hashCode(a)"
    assert sp.hash_code(Type("long"), "a") == "java.util.Objects.hashCode(a)"


def test_each_hit_policy_names_macros_of_the_table_template() -> None:
    import re

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.java import naming, tables
    from nexflow_core.typemodel import Type

    template = (naming.TEMPLATES / "table.java.j2").read_text("utf-8")
    macros = set(re.findall(r"\{% macro (\w+)\(", template))

    def table(policy: str, aggregation: "str | None" = None) -> model.DecisionTable:
        # Only the policy and aggregation matter to the choice.
        return model.DecisionTable(
            name="T",
            package="p",
            input_name="p",
            input_type=Type("record", name="P"),
            hit_policy=policy,
            aggregation=aggregation,
            inputs=[],
            outputs=[],
            rows=[],
            result_type=Type("int"),
            origin=model.Origin("t.rules", 1, "decision_table T"),
        )

    for policy, aggregation in [
        ("unique", None), ("first", None), ("any", None), ("priority", None), ("collect", None),
        ("collect", "count"), ("collect", "sum"), ("collect", "min"), ("collect", "max"),
    ]:  # fmt: skip
        java_ = tables.hit_policy_java(table(policy, aggregation))
        assert {java_.doc, java_.result} <= macros
        assert java_.helpers is None or java_.helpers in macros
    assert tables.hit_policy_java(table("first")).returns_first
    assert tables.hit_policy_java(table("collect", "max")).combine == "Fn.max"
    with pytest.raises(ValueError, match="hit policy 'rule_order'"):
        tables.hit_policy_java(table("rule_order"))
    with pytest.raises(ValueError, match="aggregation 'avg'"):
        tables.hit_policy_java(table("collect", "avg"))


def test_each_field_type_kind_names_macros_of_the_contract_template() -> None:
    import re

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.java import contracts, naming
    from nexflow_core.typemodel import SCALARS, Type

    template = (naming.TEMPLATES / "contract.java.j2").read_text("utf-8")
    macros = set(re.findall(r"\{% macro (\w+)\(", template))

    def field(t: Type, sensitive: bool = False) -> model.RecordField:
        return model.RecordField(
            name="f", type=t, optional=True, sensitive=sensitive, is_key=False, is_event_time=False,
            origin=model.Origin("a.schema", 1, "f"),
        )  # fmt: skip

    nested = Type("record", name="N")
    # Every kind a record field can have: the scalars, enums, records, lists and maps.
    kinds = set(SCALARS) | {"enum", "record", "list", "map"}
    methods = {n[len("type_") :] for n in dir(contracts.FieldTypes) if n.startswith("type_")}
    assert methods == kinds
    types = [Type(k) for k in SCALARS] + [Type("enum", name="E"), nested]
    for item in (Type("int"), Type("decimal", precision=5, scale=2), nested):
        types += [Type("list", args=(item,)), Type("map", args=(Type("string"), item))]
    for t in types:
        for sensitive in (False, True):
            java_ = contracts.field_java(field(t, sensitive))
            assert {java_.check, java_.normalize, java_.mask} <= macros, (t, java_)
            assert (java_.mask == "mask_sensitive") == sensitive
    assert contracts.field_java(field(Type("list", args=(nested,)))).array_of_records
    assert contracts.field_java(field(Type("map", args=(Type("string"), nested)))).nested == "N"
    with pytest.raises(ValueError, match="field of kind 'struct'"):
        contracts.field_java(field(Type("struct", name="T")))

    # The contract as a whole: mask(), sensitive() and correlationId() by what the record holds.
    def record(*fields: model.RecordField) -> model.Record:
        return model.Record(
            name="R", package="p", fields=list(fields), validations=[],
            origin=model.Origin("a.schema", 1, "R"),
        )  # fmt: skip

    key = model.RecordField(
        name="id", type=Type("string"), optional=False, is_key=True, is_event_time=False,
        sensitive=False, origin=model.Origin("a.schema", 2, "id"),
    )  # fmt: skip
    secret_key = model.RecordField(
        name="id", type=Type("string"), optional=False, is_key=True, is_event_time=False,
        sensitive=True, origin=model.Origin("a.schema", 2, "id"),
    )  # fmt: skip
    plain = record(field(Type("int")))
    assert contracts.record_java(plain)[2:5] == (
        "mask_nothing", "sensitive_never", "correlation_none",
    )  # fmt: skip
    nested_list = record(key, field(Type("list", args=(nested,))), field(nested))
    rj = contracts.record_java(nested_list)
    assert (rj.nested, rj.array_nodes) == (["N"], True)
    assert rj[2:5] == ("mask_fields", "sensitive_if_nested", "correlation_keys")
    rj = contracts.record_java(record(secret_key))
    assert rj[2:5] == ("mask_fields", "sensitive_always", "correlation_token")
    assert set(rj[2:5]) <= macros


def test_each_ruleset_mode_names_a_macro_of_the_ruleset_template() -> None:
    import re

    import pytest

    from nexflow_core.generate import model
    from nexflow_core.generate.java import naming, rules
    from nexflow_core.typemodel import Type

    template = (naming.TEMPLATES / "ruleset.java.j2").read_text("utf-8")
    macros = set(re.findall(r"\{% macro (\w+)\(", template))

    def ruleset(mode: str) -> model.Ruleset:
        return model.Ruleset(
            name="R", package="p", input_name="p", input_type=Type("record", name="P"),
            mode=mode, rules=[], origin=model.Origin("r.rules", 1, "ruleset R"),
        )  # fmt: skip

    methods = {n[len("mode_") :] for n in dir(rules.Modes) if n.startswith("mode_")}
    assert methods == {"first", "all"}
    for mode in methods:
        assert rules.ruleset_mode_java(ruleset(mode)).doc in macros
    assert rules.ruleset_mode_java(ruleset("first")).returns_on_fire
    assert not rules.ruleset_mode_java(ruleset("all")).returns_on_fire
    with pytest.raises(ValueError, match="ruleset mode 'some'"):
        rules.ruleset_mode_java(ruleset("some"))
