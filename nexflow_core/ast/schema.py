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


class Compatibility(Node, frozen=True):
    """`compatibility <mode>` after a stream or store: which schema changes between releases
    its readers and writers tolerate (backward, forward, full or none; see compat/contract.py)."""

    mode: str


class StreamDecl(Node, frozen=True):
    """`stream payment_events: PaymentEvent [compatibility full]`: the stream name carries
    that schema; without `compatibility` the mode is backward."""

    refs = {"schema": Ref("schema")}

    name: str
    schema: str
    compatibility: Optional[Compatibility] = None


class StoreDecl(Node, frozen=True):
    """`store transaction_store: PaymentEvent [key transaction_id] [compatibility full]`: a
    keyed table used for persistence and lookups."""

    refs = {"schema": Ref("schema")}

    name: str
    schema: str
    key: Optional[str] = None
    compatibility: Optional[Compatibility] = None
