"""L4 rules files: rulesets and decision tables."""

from __future__ import annotations

from typing import Optional, Union

from nexflow_core.ast.base import Node, Ref
from nexflow_core.ast.expr import Expr, Path, TypeRef


class Binding(Node, frozen=True):
    """`for payment: PaymentEvent`: the record a ruleset or table inspects."""

    refs = {"schema": Ref("schema")}

    name: str
    schema: str


class FlagAction(Node, frozen=True):
    """`flag_for_review` or `flag "reason"`."""

    reason: Optional[str] = None


class RejectAction(Node, frozen=True):
    reason: str


class RouteAction(Node, frozen=True):
    """`route to <label>`: the proc maps the label with `on route <label> emit to <stream>`."""

    target: str


class SetAction(Node, frozen=True):
    target: Path
    expr: Expr


class AlertAction(Node, frozen=True):
    """`emit alert "message" [severity high]`."""

    message: str
    severity: Optional[str] = None


Action = Union[FlagAction, RejectAction, RouteAction, SetAction, AlertAction]


class Priority(Node, frozen=True):
    """`priority high|medium|low` or `priority <int>`; `rank` orders them (high=3 … low=1,
    integers as written); larger fires first."""

    word: Optional[str]
    rank: int


class Rule(Node, frozen=True):
    name: str
    when: Optional[Expr] = None
    actions: list[Action] = []
    priority: Optional[Priority] = None

    @property
    def rank(self) -> int:
        """Its priority's rank, 0 without one: a first_match ruleset tries the highest first."""
        return self.priority.rank if self.priority is not None else 0


class RulesetDecl(Node, frozen=True):
    """`ruleset Name [for name: Schema] [first_match] { rule … }`; mode is "all" or "first"."""

    name: str
    binding: Optional[Binding] = None
    mode: str = "all"
    rules: list[Rule] = []


class TableInput(Node, frozen=True):
    """An input column: `amount = payment.amount` or just `payment.amount`."""

    name: str
    expr: Expr


class TableOutput(Node, frozen=True):
    """An output column `name: type [priority ["A", "B"]]`."""

    name: str
    type: TypeRef
    order: list[Expr] = []


class Cell(Node, frozen=True):
    """One input test. kind: any, eq, ne, lt, le, gt, ge, in, not_in, range. For range,
    values = [low, high] and low_closed/high_closed tell `[`/`(` and `]`/`)`."""

    kind: str
    values: list[Expr] = []
    low_closed: bool = True
    high_closed: bool = True


class TableRow(Node, frozen=True):
    """A row: optional label, input cells (one per input) and results (one per output)."""

    label: str
    cells: list[Cell]
    results: list[Expr]


class DecisionTableDecl(Node, frozen=True):
    name: str
    binding: Optional[Binding] = None
    hit_policy: str = "unique"
    aggregation: Optional[str] = None
    inputs: list[TableInput] = []
    outputs: list[TableOutput] = []
    rows: list[TableRow] = []
