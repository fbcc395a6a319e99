"""L5 infra files: environments made of properties and nested blocks."""

from __future__ import annotations

from typing import Optional, Union

from nexflow_core.ast.base import Node, Ref
from nexflow_core.ast.expr import BoolLit, DecimalLit, DurationLit, IntLit, StringLit


class Symbol(Node, frozen=True):
    """A bare word value such as `SASL_SSL` or `rocksdb`."""

    name: str


class SecretRef(Node, frozen=True):
    """`env("VAR")` or `file("/path")`: a secret by reference, never by value."""

    kind: str
    ref: str


class ListValue(Node, frozen=True):
    items: list[Value]


Value = Union[StringLit, IntLit, DecimalLit, BoolLit, DurationLit, Symbol, SecretRef, ListValue]


class Property(Node, frozen=True):
    name: str
    value: Value


class Block(Node, frozen=True):
    name: str
    entries: list[Entry]

    def get(self, name: str) -> Optional[Entry]:
        for e in self.entries:
            if e.name == name:
                return e
        return None


Entry = Union[Property, Block]


class EnvironmentDecl(Node, frozen=True):
    """`environment <name> [extends <parent>] { … }`. Blocks of the same environment name in
    several files are merged (a name bound twice is an error)."""

    refs = {"extends": Ref("environment")}

    name: str
    extends: Optional[str] = None
    entries: list[Entry] = []
