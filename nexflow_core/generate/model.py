"""The target-independent render model: what a target needs to know to write code.

The generator core (core.py) fills these from the AST; target adapters (flink/, …) render them.
Nothing here names a Java or Flink type: a record's field carries its DSL type, and each target
decides how that type is spelled.
"""

from __future__ import annotations

from typing import List, Optional, Union

import msgspec


class Origin(msgspec.Struct, frozen=True):
    """Where a piece of generated code came from: DSL file and line, and the text that was there."""

    file: str
    line: int
    text: str


class ScalarType(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    """A DSL scalar type (string, int, long, double, decimal, boolean, date, datetime, uuid,
    bytes); precision and scale for decimals."""

    name: str
    precision: Optional[int] = None
    scale: Optional[int] = None


class RecordType(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    """A reference to a schema, rendered as the class of that schema."""

    name: str
    package: str


FieldType = Union[ScalarType, RecordType]


class RecordField(msgspec.Struct, frozen=True):
    name: str
    type: FieldType
    optional: bool
    is_key: bool
    origin: Origin


class Record(msgspec.Struct, frozen=True):
    """One schema: a value class in the target language."""

    name: str
    package: str
    fields: List[RecordField]
    origin: Origin


# --- expressions (typed) ----------------------------------------------------------------------


class FieldRef(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    """A field of the current record."""

    name: str
    type: FieldType


class Literal(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    """A literal; `text` is its canonical DSL spelling (strings unescaped, decimals exact)."""

    type: ScalarType
    value: Union[str, int, bool, None]


class Compare(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    """`left op right` with op in == != < <= > >=; false when either side is null."""

    op: str
    left: "Expr"
    right: "Expr"


class Logical(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    """`and` / `or` over two or more operands."""

    op: str
    operands: List["Expr"]


class Not(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    operand: "Expr"


Expr = Union[FieldRef, Literal, Compare, Logical, Not]


# --- jobs -------------------------------------------------------------------------------------


class Source(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    stream: str
    record: RecordType
    origin: Origin


class Filter(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    condition: Expr
    record: RecordType
    origin: Origin


class Sink(msgspec.Struct, frozen=True, tag=True, tag_field="kind"):
    stream: str
    record: RecordType
    origin: Origin


Operator = Union[Source, Filter, Sink]


class Job(msgspec.Struct, frozen=True):
    """One proc: an ordered pipeline of operators; uids derive from the proc name and position."""

    name: str
    package: str
    operators: List[Operator]
    origin: Origin


class GeneratedFile(msgspec.Struct, frozen=True):
    """A file a target wrote: its path relative to the output root, and its text."""

    path: str
    content: str
