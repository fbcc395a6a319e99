"""A parsed file."""

from __future__ import annotations

from typing import Union

from nexflow_core.ast.base import Node
from nexflow_core.ast.infra import EnvironmentDecl
from nexflow_core.ast.proc import ProcDecl
from nexflow_core.ast.rules import DecisionTableDecl, RulesetDecl
from nexflow_core.ast.schema import EnumDecl, SchemaDecl, StoreDecl, StreamDecl
from nexflow_core.ast.transform import TransformDecl

Decl = Union[
    SchemaDecl,
    EnumDecl,
    StreamDecl,
    StoreDecl,
    TransformDecl,
    RulesetDecl,
    DecisionTableDecl,
    ProcDecl,
    EnvironmentDecl,
]

KINDS = ("schema", "transform", "rules", "proc", "infra")
LAYER = {"schema": "L2", "transform": "L3", "rules": "L4", "proc": "L1", "infra": "L5"}


class Module(Node, frozen=True):
    """One compilation unit: `kind` is schema, transform, rules, proc or infra (from the file
    extension); `path` as given to the parser."""

    path: str
    kind: str
    decls: list[Decl]
