"""The target-independent render model: what a target needs to know to write code.

The generator core (core.py, lower.py) fills these from the checked AST; target adapters (flink/,
…) render them. Nothing here names a Java or Flink type: values carry the checker's `Type`
(nexflow_core.check.types), resolved (no `ref` kinds), and each target decides how a type is
spelled. Expressions are fully typed and explicit: every implicit widening the checker allows
(int → long, int → decimal, date → datetime, …) is a `Convert` node, so a target never has to
infer a type.
"""

from __future__ import annotations

from typing import Optional, Union

import msgspec

from nexflow_core.check.types import Type


class Origin(msgspec.Struct, frozen=True):
    """Where a piece of generated code came from: DSL file and line, and the text that was there."""

    file: str
    line: int
    text: str


# --- expressions (typed) ----------------------------------------------------------------------


class This(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """The record an expression is about (a schema's `validate`, a proc filter's input)."""

    type: Type


class Var(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """A named value in scope: a ruleset's record, a transform input, a `let`, a state, an
    alias. `name` is the DSL name; targets spell it safely."""

    name: str
    type: Type


class Field(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`obj.name`; null when `obj` is null."""

    obj: Expr
    name: str
    type: Type


class EnumValue(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`Color.RED`: a member of a declared enum (type.kind == "enum")."""

    member: str
    type: Type


class Lit(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """A literal of `type`. Decimals are their exact text, durations milliseconds, null is
    None (typed, so a target can spell a typed null)."""

    value: Union[str, int, bool, None]
    type: Type


class ListOf(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    items: list[Expr]
    type: Type


class Convert(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """A widening the language does implicitly: int→long/double/decimal, long→double/decimal,
    date→datetime (start of the day, UTC), enum→string (the member name), and any value to
    its nullable form. `operand.type` is the source type."""

    operand: Expr
    type: Type


class Unary(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """op: `neg` (type is the operand's) or `not` (boolean; null counts as false)."""

    op: str
    operand: Expr
    type: Type


class Arith(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`left op right`, op in + - * / %. Both operands already have the operation type
    `operand_type` (decimal, double, int, long, string for +, or a time type); `type` is the
    result type (for decimal division its scale is the division's scale)."""

    op: str
    left: Expr
    right: Expr
    operand_type: Type
    type: Type


class Compare(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`left op right`, op in == != < <= > >=, operands converted to one common type;
    false when either side is null."""

    op: str
    left: Expr
    right: Expr
    type: Type


class Logical(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`and` / `or` over two or more operands; a null operand counts as false."""

    op: str
    operands: list[Expr]
    type: Type


class InList(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`operand [not] in items`; false when the operand is null (for `not in` too)."""

    operand: Expr
    items: Expr
    negated: bool
    type: Type


class IsNull(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    operand: Expr
    negated: bool
    type: Type


class If(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`if cond then a else b`; a null condition takes the else branch; only the chosen
    branch is evaluated."""

    cond: Expr
    then: Expr
    otherwise: Expr
    type: Type


class Call(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """A catalogue function (docs/language/expressions.md), arguments converted to the types
    the function works on. `transform` names a transform when the call is one (then `package`
    is where its class lives)."""

    name: str
    args: list[Expr]
    type: Type
    transform: bool = False
    package: Optional[str] = None


class Fit(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """Store a decimal into decimal(precision, scale): round half-even to the scale, fail
    (a data error) when the digits left of the point do not fit."""

    operand: Expr
    type: Type


Expr = Union[
    This,
    Var,
    Field,
    EnumValue,
    Lit,
    ListOf,
    Convert,
    Unary,
    Arith,
    Compare,
    Logical,
    InList,
    IsNull,
    If,
    Call,
    Fit,
]


# --- schemas ----------------------------------------------------------------------------------


class Constraint(msgspec.Struct, frozen=True):
    """A field constraint checked on every record: kind is `range` (low/high exact decimal
    text), `length` (low/high whole numbers), `pattern` (a regex, whole value must match),
    `allowed` (the texts of @enum[…]), `uuid` (canonical UUID text) or `required` (not null)."""

    kind: str
    low: Optional[str] = None
    high: Optional[str] = None
    pattern: Optional[str] = None
    allowed: list[str] = []


class RecordField(msgspec.Struct, frozen=True):
    name: str
    type: Type
    optional: bool
    is_key: bool
    is_event_time: bool
    sensitive: bool
    origin: Origin
    default: Optional[Expr] = None
    constraints: list[Constraint] = []


class Validation(msgspec.Struct, frozen=True):
    """A schema's `validate <condition> [message "…"]`; the record is `This`."""

    condition: Expr
    message: str
    origin: Origin


class Record(msgspec.Struct, frozen=True):
    """One schema: a value class in the target language."""

    name: str
    package: str
    fields: list[RecordField]
    validations: list[Validation]
    origin: Origin
    version: Optional[int] = None


class Enum(msgspec.Struct, frozen=True):
    name: str
    package: str
    members: list[str]
    origin: Origin


# --- rules ------------------------------------------------------------------------------------


class Action(msgspec.Struct, frozen=True):
    """kind: flag (text = reason or None), reject (text = reason), route (text = label),
    set (field path `target`, `value`), alert (text = message, severity)."""

    kind: str
    origin: Origin
    text: Optional[str] = None
    target: list[str] = []
    value: Optional[Expr] = None
    severity: Optional[str] = None


class RuleModel(msgspec.Struct, frozen=True):
    name: str
    condition: Optional[Expr]
    actions: list[Action]
    priority: int
    origin: Origin


class Ruleset(msgspec.Struct, frozen=True):
    """Rules in firing order (priority descending, then as written). mode: all | first."""

    name: str
    package: str
    input_name: str
    input_type: Type
    mode: str
    rules: list[RuleModel]
    origin: Origin


class CellTest(msgspec.Struct, frozen=True):
    """One input test of a row: kind any, eq, ne, lt, le, gt, ge, in, not_in, range; values
    are expressions of the input column's type."""

    kind: str
    values: list[Expr] = []
    low_closed: bool = True
    high_closed: bool = True


class TableRowModel(msgspec.Struct, frozen=True):
    label: str
    cells: list[CellTest]
    results: list[Expr]
    origin: Origin


class TableColumn(msgspec.Struct, frozen=True):
    name: str
    type: Type
    expr: Optional[Expr] = None
    order: list[Expr] = []


class DecisionTable(msgspec.Struct, frozen=True):
    """hit_policy: unique | first | priority | any | collect; aggregation (collect only):
    sum | min | max | count or None (the list of all matches)."""

    name: str
    package: str
    input_name: str
    input_type: Type
    hit_policy: str
    aggregation: Optional[str]
    inputs: list[TableColumn]
    outputs: list[TableColumn]
    rows: list[TableRowModel]
    result_type: Type
    origin: Origin


# --- jobs -------------------------------------------------------------------------------------


class Source(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    stream: str
    record: Type
    origin: Origin


class Filter(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    condition: Expr
    record: Type
    origin: Origin


class Sink(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    stream: str
    record: Type
    origin: Origin


Operator = Union[Source, Filter, Sink]


class Job(msgspec.Struct, frozen=True):
    """One proc: an ordered pipeline of operators; uids derive from the proc name and position."""

    name: str
    package: str
    operators: list[Operator]
    origin: Origin
    dead_letter: Optional[str] = None


class TypeIndex(msgspec.Struct, frozen=True):
    """Where each declared name (schema, enum, transform, ruleset, table, proc) is generated:
    name -> package. Targets use it to spell references to other units' classes."""

    packages: dict[str, str]


class GeneratedFile(msgspec.Struct, frozen=True):
    """A file a target wrote: its path relative to the output root, and its text."""

    path: str
    content: str
