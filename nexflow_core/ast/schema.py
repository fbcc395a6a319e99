"""L2 schema files: schemas, enums, streams and stores."""

from __future__ import annotations

from typing import Optional

from nexflow_core.ast.base import Node, Ref
from nexflow_core.ast.expr import Annotation, Expr, TypeRef


class Field(Node, frozen=True):
    """`name: type [= default] @annotations…`; `type.optional` is set by a trailing `?`."""

    name: str
    type: TypeRef
    default: Optional[Expr] = None
    annotations: list[Annotation] = []

    def annotation(self, name: str) -> Optional[Annotation]:
        for a in self.annotations:
            if a.name == name:
                return a
        return None


class Validate(Node, frozen=True):
    """`validate <expr> [message "…"]`: a record-level check."""

    expr: Expr
    message: Optional[str] = None


class SchemaDecl(Node, frozen=True):
    name: str
    version: Optional[int] = None
    fields: list[Field] = []
    validations: list[Validate] = []


class EnumMember(Node, frozen=True):
    name: str


class EnumDecl(Node, frozen=True):
    name: str
    members: list[EnumMember]


class StreamDecl(Node, frozen=True):
    """`stream payment_events: PaymentEvent`: the stream name carries that schema."""

    refs = {"schema": Ref("schema")}

    name: str
    schema: str


class StoreDecl(Node, frozen=True):
    """`store transaction_store: PaymentEvent [key transaction_id]`: a keyed table used for
    persistence and lookups."""

    refs = {"schema": Ref("schema")}

    name: str
    schema: str
    key: Optional[str] = None
