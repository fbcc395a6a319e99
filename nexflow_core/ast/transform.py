"""L3 transform files."""

from __future__ import annotations

from typing import Optional

from nexflow_core.ast.base import Node, Ref
from nexflow_core.ast.expr import Expr, TypeRef


class Param(Node, frozen=True):
    """`input payment: PaymentEvent`."""

    name: str
    type: TypeRef


class TransformLookup(Node, frozen=True):
    """`lookup fx from fx_rates by payment.currency`: reads a declared store by key."""

    refs = {"store": Ref("store", "read")}

    alias: str
    store: str
    key: Expr


class Let(Node, frozen=True):
    name: str
    expr: Expr


class Mapping(Node, frozen=True):
    """`field = expr` inside `map { … }` (also used by proc `aggregate`/`map into`)."""

    field: str
    expr: Expr


class TransformValidate(Node, frozen=True):
    """`validate input <expr>` / `validate output <expr>` with an optional message."""

    phase: str
    expr: Expr
    message: Optional[str] = None


class TransformDecl(Node, frozen=True):
    name: str
    inputs: list[Param] = []
    output: Optional[TypeRef] = None
    lookups: list[TransformLookup] = []
    lets: list[Let] = []
    mappings: list[Mapping] = []
    compute: Optional[Expr] = None
    validations: list[TransformValidate] = []
    on_error: Optional[str] = None
