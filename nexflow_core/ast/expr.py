"""Expressions, shared by all five languages (see docs/language/expressions.md)."""

from __future__ import annotations

from typing import Optional, Union

from nexflow_core.ast.base import Node, Ref


class IntLit(Node, frozen=True):
    value: int


class DecimalLit(Node, frozen=True):
    """An exact decimal literal such as 10.25, kept as text (never a float)."""

    text: str


class StringLit(Node, frozen=True):
    value: str


class BoolLit(Node, frozen=True):
    value: bool


class NullLit(Node, frozen=True):
    pass


class DurationLit(Node, frozen=True):
    """`5 minutes`, `100 ms`: amount and unit as written plus the length in milliseconds."""

    amount: int
    unit: str
    millis: int


class ListLit(Node, frozen=True):
    items: list[Expr]


class Path(Node, frozen=True):
    """A name or a field path such as `payment.amount`."""

    parts: list[str]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


class Call(Node, frozen=True):
    """A function call: a catalogue function, an aggregation or another transform."""

    refs = {"name": Ref("function")}

    name: str
    args: list[Expr]


class Binary(Node, frozen=True):
    """op is one of + - * / % == != < <= > >= and or."""

    op: str
    left: Expr
    right: Expr


class Unary(Node, frozen=True):
    """op is `not` or `-`."""

    op: str
    operand: Expr


class InList(Node, frozen=True):
    """`x in [..]` / `x not in [..]`; `items` is a list literal or a list-typed expression."""

    operand: Expr
    items: Expr
    negated: bool


class IsNull(Node, frozen=True):
    """`x is null` / `x is not null`."""

    operand: Expr
    negated: bool


class IfExpr(Node, frozen=True):
    cond: Expr
    then: Expr
    otherwise: Expr


Literal = Union[IntLit, DecimalLit, StringLit, BoolLit, NullLit, DurationLit]
Expr = Union[
    IntLit,
    DecimalLit,
    StringLit,
    BoolLit,
    NullLit,
    DurationLit,
    ListLit,
    Path,
    Call,
    Binary,
    Unary,
    InList,
    IsNull,
    IfExpr,
]


class TypeRef(Node, frozen=True):
    """A type as written: `string`, `decimal(10,2)`, `list<string>`, `map<string,int>`, or a
    schema/enum name. `params` holds numeric parameters, `args` element types."""

    refs = {"name": Ref("type")}

    name: str
    params: list[int] = []
    args: list[TypeRef] = []
    optional: bool = False


class Annotation(Node, frozen=True):
    """`@key`, `@enum["A","B"]`, `@range(0, 100)`: a name and literal arguments."""

    name: str
    args: list[Expr] = []


def opt_span(node: Optional[Node]) -> Optional[object]:
    return None if node is None else node.span
