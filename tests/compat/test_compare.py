"""The state comparison on small before/after pairs of DSL: each kind of change, its verdict
and the diagnostic it gives (code, place in the current sources)."""

from __future__ import annotations

from typing import Dict, Optional

from nexflow_core.compat import report, state
from tests.compat.compat_helpers import describe

SCHEMA = """
enum Channel { WEB, STORE }

schema Auth {
    auth_id: string @key
    card_id: string
    amount: decimal(12,2)
    channel: Channel
    event_time: datetime @event_time
}

schema Summary {
    card_id: string
    n: long
    total: decimal(38,2)?
}

stream auths: Auth
stream settlements: Auth
stream out: Auth
stream summaries: Summary
stream timeouts: Auth
"""

STATE = """
proc Count {
    from auths
    key by card_id
    state seen: long ttl 1 hour
    state last_amount: decimal(12,2) ttl 1 hour
    update seen = coalesce(seen, 0) + 1
    update last_amount = amount
    emit to out
}
"""


def _compare(
    before_proc: str,
    after_proc: str,
    before_schema: str = SCHEMA,
    after_schema: Optional[str] = None,
    allow_non_restored_state: bool = False,
    extra: Optional[Dict[str, str]] = None,
    environment: Optional[str] = None,
) -> state.JobResult:
    before = describe({"s.schema": before_schema, "p.proc": before_proc, **(extra or {})},
                      environment)  # fmt: skip
    after = describe(
        {"s.schema": after_schema or before_schema, "p.proc": after_proc, **(extra or {})},
        environment,
    )
    results = state.compare_jobs(before, after, allow_non_restored_state)
    assert len(results) == 1, results
    return results[0]


def _state(result: state.JobResult, name: str) -> state.StateResult:
    return next(s for o in result.operators for s in o.states if s.name == name)


def _codes(result: state.JobResult) -> set:
    return {d.code for d in state.diagnostics([result])}


def test_unchanged_is_same_and_compatible() -> None:
    result = _compare(STATE, STATE)
    assert result.verdict == "compatible"
    assert {s.change for o in result.operators for s in o.states} == {"same"}
    assert state.diagnostics([result]) == []


def test_an_added_state_starts_empty_and_is_compatible() -> None:
    after = STATE.replace("    update seen", "    state note: string ttl 1 hour\n    update seen")
    result = _compare(STATE, after)
    assert _state(result, "note").change == "added"
    assert result.verdict == "compatible"


def test_a_renamed_state_is_reset_and_a_loss() -> None:
    after = STATE.replace("last_amount", "previous_amount")
    result = _compare(STATE, after)
    renamed = _state(result, "previous_amount")
    assert renamed.change == "reset"
    assert "renamed from 'last_amount'" in renamed.detail
    assert result.verdict == "compatible, loses previous_amount"
    d = next(d for d in state.diagnostics([result]) if d.code == "NX603")
    # At the statement of the current sources that owns the state.
    assert (d.span.file, d.span.line) == ("p.proc", 6)


def test_a_removed_state_is_a_loss_at_the_proc() -> None:
    after = STATE.replace("    state last_amount: decimal(12,2) ttl 1 hour\n", "").replace(
        "    update last_amount = amount\n", ""
    )
    result = _compare(STATE, after)
    assert _state(result, "last_amount").change == "removed"
    assert result.verdict == "compatible, loses last_amount"
    d = next(d for d in state.diagnostics([result]) if d.code == "NX604")
    assert d.span.file == "p.proc"


def test_a_changed_state_type_is_incompatible() -> None:
    after = STATE.replace("state seen: long", "state seen: string").replace(
        "coalesce(seen, 0) + 1", "card_id"
    )
    result = _compare(STATE, after)
    assert _state(result, "seen").change == "incompatible"
    assert result.verdict == "incompatible"
    assert "NX605" in _codes(result)


def test_a_wider_decimal_keeps_the_serializer() -> None:
    after = STATE.replace("last_amount: decimal(12,2)", "last_amount: decimal(38,2)")
    assert _state(_compare(STATE, after), "last_amount").change == "same"


def test_a_changed_ttl_keeps_the_state() -> None:
    after = STATE.replace("state seen: long ttl 1 hour", "state seen: long ttl 2 hours")
    result = _compare(STATE, after)
    seen = _state(result, "seen")
    assert seen.change == "same"
    assert "TTL 1 h → 2 h" in seen.detail
    assert result.verdict == "compatible"
    assert "NX613" in _codes(result)


def test_renaming_the_first_state_changes_the_uid_and_flink_refuses() -> None:
    after = STATE.replace("seen", "visits")
    result = _compare(STATE, after)
    removed = next(o for o in result.operators if o.change == "removed")
    assert removed.uid == "Count.state.card_id.seen"
    assert result.verdict == "incompatible"
    assert "Count.state.card_id.visits" in _state(result, "last_amount").detail or any(
        "its uid is now Count.state.card_id.visits" in s.detail for s in removed.states
    )
    assert "NX601" in _codes(result)


def test_with_allow_non_restored_state_a_changed_uid_is_a_loss() -> None:
    after = STATE.replace("seen", "visits")
    result = _compare(STATE, after, allow_non_restored_state=True)
    removed = next(o for o in result.operators if o.change == "removed")
    assert {s.change for s in removed.states if not s.internal} == {"reset"}
    assert result.verdict == "compatible, loses seen, last_amount"
    assert "NX603" in _codes(result) and "NX601" not in _codes(result)


def test_a_removed_operator_without_state_is_harmless() -> None:
    before = STATE.replace("    emit to out\n", "    filter amount > 0\n    emit to out\n")
    result = _compare(before, STATE)
    assert result.verdict == "compatible"


# --- records in state: Flink's PojoSerializer ------------------------------------------------

CORRELATE = """
proc Match {
    from auths
    correlate by auth_id within 1 minute
    on timeout emit to timeouts
    emit to out
}
"""


def test_a_field_added_to_a_record_in_state_evolves() -> None:
    after = SCHEMA.replace("    channel: Channel\n", "    channel: Channel\n    note: string?\n")
    result = _compare(CORRELATE, CORRELATE, after_schema=after)
    waiting = _state(result, "waiting")
    assert waiting.change == "evolves"
    assert "field Auth.note added" in waiting.detail
    assert result.verdict == "compatible"
    assert "NX610" in _codes(result)


def test_a_field_removed_from_a_record_in_state_evolves() -> None:
    after = SCHEMA.replace("    card_id: string\n    amount", "    amount", 1)
    result = _compare(CORRELATE, CORRELATE, after_schema=after)
    assert _state(result, "waiting").change == "evolves"
    assert "field Auth.card_id removed" in _state(result, "waiting").detail


def test_a_field_type_changed_in_a_record_in_state_is_incompatible() -> None:
    after = SCHEMA.replace("    card_id: string\n    amount", "    card_id: long\n    amount", 1)
    result = _compare(CORRELATE, CORRELATE, after_schema=after)
    assert _state(result, "waiting").change == "incompatible"
    assert result.verdict == "incompatible"


def test_an_enum_constant_added_evolves_and_removed_is_incompatible() -> None:
    added = SCHEMA.replace("enum Channel { WEB, STORE }", "enum Channel { WEB, STORE, PHONE }")
    assert _state(_compare(CORRELATE, CORRELATE, after_schema=added), "waiting").change == (
        "evolves"
    )
    removed = SCHEMA.replace("enum Channel { WEB, STORE }", "enum Channel { WEB }")
    result = _compare(CORRELATE, CORRELATE, after_schema=removed)
    assert _state(result, "waiting").change == "incompatible"
    assert "NX607" in _codes(result)


def test_a_record_class_renamed_is_incompatible() -> None:
    renamed = SCHEMA.replace("schema Auth {", "schema Authorization {").replace(
        ": Auth\n", ": Authorization\n"
    )
    result = _compare(CORRELATE, CORRELATE, after_schema=renamed)
    assert _state(result, "waiting").change == "incompatible"
    assert "NX606" in _codes(result)


def test_a_changed_correlation_key_is_another_operator() -> None:
    after = CORRELATE.replace("correlate by auth_id", "correlate by card_id")
    result = _compare(CORRELATE, after)
    assert {o.change for o in result.operators} >= {"added", "removed"}
    assert result.verdict == "incompatible"
    assert _compare(CORRELATE, after, allow_non_restored_state=True).verdict == (
        "compatible, loses correlate.auth_id"
    )


# --- rolling: the generator keeps an added aggregate compatible -------------------------------

ROLLING = """
proc Roll {
    from auths
    key by card_id
    rolling 1 hour {
        n = count()
        total = sum(amount)
    }
    map into Summary {
        card_id = card_id
        n = n
        total = total
    }
    emit to summaries
}
"""


def test_an_aggregate_added_to_a_rolling_block_evolves() -> None:
    after = ROLLING.replace("        total = sum(amount)\n", "        biggest = max(amount)\n"
                            "        total = sum(amount)\n")  # fmt: skip
    result = _compare(ROLLING, after)
    rolling = _state(result, "rolling.n")
    assert rolling.change == "evolves"
    assert "v_biggest added" in rolling.detail
    assert result.verdict == "compatible"


def test_a_changed_rolling_duration_keeps_the_state() -> None:
    result = _compare(ROLLING, ROLLING.replace("rolling 1 hour", "rolling 2 hours"))
    assert _state(result, "rolling.n").change == "same"
    assert result.verdict == "compatible"


# A stateless statement before `key by`: the records reach the keyed operator through an
# operator of their own (a segment, a lookup), which moves every operator after it one place on.
FILTER_FIRST = "    filter amount > 0\n    key by card_id\n"


def test_an_operator_inserted_before_a_rolling_block_keeps_its_class() -> None:
    """The rolling state's class is named after its key and its name (RollingCardIdN), not
    after the operator's position: operators inserted before it leave it restorable."""
    for inserted in (
        FILTER_FIRST,
        "    deduplicate by auth_id within 1 minute\n    key by card_id\n",
    ):
        after = ROLLING.replace("    key by card_id\n", inserted)
        result = _compare(ROLLING, after)
        assert _state(result, "rolling.n").change == "same", inserted
        assert "NX606" not in _codes(result)
        assert result.verdict == "compatible"


# --- windows ------------------------------------------------------------------------------

WINDOW = """
proc Win {
    from auths
    key by card_id
    window tumbling 1 minute
    aggregate into Summary {
        card_id = first(card_id)
        n = count()
        total = sum(amount)
    }
    emit to summaries
}
"""


def test_a_changed_window_size_evolves() -> None:
    result = _compare(WINDOW, WINDOW.replace("tumbling 1 minute", "tumbling 5 minutes"))
    contents = _state(result, "window-contents")
    assert contents.change == "evolves"
    assert "size_ms 1 min → 5 min" in contents.detail
    assert "NX611" in _codes(result)
    assert result.verdict == "compatible"


def test_another_window_aggregation_in_the_same_field_evolves_with_a_warning() -> None:
    """Accumulator fields are named after the output field (total): min → max restores, and
    the windows open at the savepoint mix both."""
    before = WINDOW.replace("total = sum(amount)", "total = min(amount)")
    result = _compare(before, WINDOW.replace("total = sum(amount)", "total = max(amount)"))
    contents = _state(result, "window-contents")
    assert contents.change == "evolves"
    assert "min(decimal(12,2)) and now holds max(decimal(12,2))" in contents.detail
    assert "NX614" in _codes(result)


def test_reordered_window_aggregations_keep_the_open_windows_values() -> None:
    """Accumulator fields are named after the output field they compute (n, total), not
    after their position."""
    after = WINDOW.replace(
        "        n = count()\n        total = sum(amount)\n",
        "        total = sum(amount)\n        n = count()\n",
    )
    contents = _state(_compare(WINDOW, after), "window-contents")
    assert contents.change == "same", contents.detail


def test_a_window_aggregation_added_in_the_middle_keeps_the_others() -> None:
    after = WINDOW.replace(
        "        n = count()\n", "        n = count()\n        biggest = max(amount)\n"
    )
    result = _compare(WINDOW, after, after_schema=SCHEMA.replace(
        "    total: decimal(38,2)?\n", "    total: decimal(38,2)?\n    biggest: decimal(12,2)?\n"
    ))  # fmt: skip
    contents = _state(result, "window-contents")
    assert contents.change == "evolves"
    # Only the new field: the others keep their names and their values in open windows.
    assert contents.detail.endswith(".biggest added (null in restored values)"), contents.detail
    assert ";" not in contents.detail, contents.detail
    assert result.verdict == "compatible"


def test_an_operator_inserted_before_a_window_keeps_its_class() -> None:
    result = _compare(WINDOW, WINDOW.replace("    key by card_id\n", FILTER_FIRST))
    assert _state(result, "window-contents").change == "same"
    assert result.verdict == "compatible"


CORRELATE_WITH = """
proc Settle {
    from auths
    event_time event_time watermark 1 second
    correlate with settlements by auth_id within 1 minute
    on timeout emit to timeouts
    emit to out
}
"""


def test_an_operator_inserted_before_a_correlation_keeps_its_classes() -> None:
    after = CORRELATE_WITH.replace(
        "    correlate with",
        "    filter amount > 0\n    key by card_id\n"
        "    state seen: long ttl 1 hour\n    update seen = coalesce(seen, 0) + 1\n"
        "    correlate with",
    )
    result = _compare(CORRELATE_WITH, after)
    for name in ("waiting_records", "waiting_partners"):
        assert _state(result, name).change == "same", name
    assert result.verdict == "compatible"


# --- the job's max parallelism --------------------------------------------------------------

INFRA = """
environment prod {
    max_parallelism: 128
    streams {
        auths {
            file: "in.jsonl"
        }
        out {
            file: "out.jsonl"
        }
    }
}
"""


def test_a_changed_max_parallelism_is_incompatible() -> None:
    before = describe({"s.schema": SCHEMA, "p.proc": STATE, "e.infra": INFRA}, "prod")
    after = describe(
        {"s.schema": SCHEMA, "p.proc": STATE, "e.infra": INFRA.replace("128", "256")}, "prod"
    )
    [result] = state.compare_jobs(before, after)
    assert result.verdict == "incompatible"
    assert "NX612" in _codes(result)


# --- verdicts and exit statuses ---------------------------------------------------------------


def test_exit_status_and_allow_loss() -> None:
    loss = _compare(STATE, STATE.replace("last_amount", "previous_amount"))
    assert report.exit_status([loss], [], []) == 1
    assert report.exit_status([loss], ["Count.previous_amount"], []) == 0
    assert report.exit_status([loss], ["Other.previous_amount"], []) == 1
    assert report.unused_allowances([loss], ["Count.nothing"]) == ["Count.nothing"]
    incompatible = _compare(STATE, STATE.replace("seen", "visits"))
    assert report.exit_status([incompatible], ["Count.seen", "Count.last_amount"], []) == 1
    assert report.exit_status([_compare(STATE, STATE)], [], []) == 0


def test_a_kind_alone_allows_the_loss_of_that_operator() -> None:
    after = CORRELATE.replace("correlate by auth_id", "correlate by card_id")
    result = _compare(CORRELATE, after, allow_non_restored_state=True)
    assert report.exit_status([result], ["Match.correlate"], []) == 0
