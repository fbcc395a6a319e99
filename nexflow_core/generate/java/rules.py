"""The Java of rulesets' actions and decision tables' cell tests: one method per kind the model
carries (`model.Action.kind`, `model.CellTest.kind`), raising on any other, so an unknown kind
is an error and never a rule that silently does nothing or a row that matches nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, NamedTuple, Optional

from nexflow_core.generate import model
from nexflow_core.generate.java.naming import identifier, string_literal

if TYPE_CHECKING:
    from nexflow_core.generate.java.naming import Spelling


def _or_null(text: Optional[str]) -> str:
    return string_literal(text) if text is not None else "null"


def _text(a: model.Action) -> str:
    if a.text is None:
        raise ValueError(f"a {a.kind} action without its text")
    return string_literal(a.text)


class CellTests:
    """`cell` of a decision table row as a Java condition on the column's value `var`."""

    def __init__(self, sp: Spelling, var: str) -> None:
        self.sp = sp
        self.var = var

    def write(self, cell: model.CellTest) -> str:
        method: Optional[Callable[[model.CellTest], str]] = getattr(
            self, "cell_" + cell.kind, None
        )
        if method is None:
            raise ValueError(f"no Java for the decision table cell kind {cell.kind!r}")
        return method(cell)

    def _compare(self, cell: model.CellTest) -> str:
        return f"Ops.{cell.kind}({self.var}, {self.sp.expr(cell.values[0])})"

    def _list(self, cell: model.CellTest) -> str:
        return ", ".join(self.sp.expr(v) for v in cell.values)

    def cell_any(self, cell: model.CellTest) -> str:
        return "true"

    cell_eq = cell_ne = cell_lt = cell_le = cell_gt = cell_ge = _compare

    def cell_in(self, cell: model.CellTest) -> str:
        return f"Ops.in({self.var}, java.util.Arrays.asList({self._list(cell)}))"

    def cell_not_in(self, cell: model.CellTest) -> str:
        return f"Ops.notIn({self.var}, java.util.Arrays.asList({self._list(cell)}))"

    def cell_range(self, cell: model.CellTest) -> str:
        low = "ge" if cell.low_closed else "gt"
        high = "le" if cell.high_closed else "lt"
        return (
            f"(Ops.{low}({self.var}, {self.sp.expr(cell.values[0])}) && "
            f"Ops.{high}({self.var}, {self.sp.expr(cell.values[1])}))"
        )


class RuleActions:
    """An action of rule `rule` as one Java statement on the outcome `out$` (or, for `set`, on
    the ruleset's input `input`)."""

    def __init__(self, sp: Spelling, rule: str, input: str) -> None:
        self.sp = sp
        self.rule = string_literal(rule)
        self.input = input

    def write(self, action: model.Action) -> str:
        method: Optional[Callable[[model.Action], str]] = getattr(
            self, "action_" + action.kind, None
        )
        if method is None:
            raise ValueError(f"no Java for the rule action kind {action.kind!r}")
        return method(action)

    def action_flag(self, a: model.Action) -> str:
        return f"out$.flag({self.rule}, {_or_null(a.text)});"

    def action_reject(self, a: model.Action) -> str:
        return f"out$.reject({self.rule}, {_text(a)});"

    def action_route(self, a: model.Action) -> str:
        return f"out$.route({_text(a)});"

    def action_alert(self, a: model.Action) -> str:
        return (
            f"out$.alert({self.rule}, {_text(a)}, {_or_null(a.severity)});"
        )

    def action_set(self, a: model.Action) -> str:
        if a.value is None:
            raise ValueError("a set action without a value")
        return f"{self.input}.{identifier(a.target[0])} = {self.sp.expr(a.value)};"


class ModeJava(NamedTuple):
    # The macro of the class comment's sentence on the mode.
    doc: str
    # A rule that fires ends the evaluation (no later rule is checked).
    returns_on_fire: bool


class Modes:
    """The Java of a ruleset's mode (`model.Ruleset.mode`): one method per mode, raising on any
    other, never a ruleset that silently fires the wrong rules."""

    def java(self, ruleset: model.Ruleset) -> ModeJava:
        method: Optional[Callable[[model.Ruleset], ModeJava]] = getattr(
            self, "mode_" + ruleset.mode, None
        )
        if method is None:
            raise ValueError(f"no Java for the ruleset mode {ruleset.mode!r}")
        return method(ruleset)

    def mode_first(self, ruleset: model.Ruleset) -> ModeJava:
        return ModeJava("doc_first", returns_on_fire=True)

    def mode_all(self, ruleset: model.Ruleset) -> ModeJava:
        return ModeJava("doc_all", returns_on_fire=False)


ruleset_mode_java = Modes().java
