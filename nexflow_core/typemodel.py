"""The type model: what a value is, as a small frozen msgspec Struct that the checker computes
and interface files carry (so it sits below both `check/` and `interface/`). Records and enums
are referred to by name (kind "ref" until resolved against the symbol table, then "record" or
"enum"); table results are anonymous "struct"s."""

from __future__ import annotations

from typing import Optional

import msgspec

SCALARS = (
    "string",
    "int",
    "long",
    "double",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "uuid",
    "bytes",
)
NUMERIC = ("int", "long", "double", "decimal")
MAX_PRECISION = 38


class FieldType(msgspec.Struct, frozen=True):
    name: str
    type: Type


class Type(msgspec.Struct, frozen=True, omit_defaults=True):
    """kind: a scalar name, list, map, record, enum, ref (unresolved name), struct, null,
    duration, any (unknown after an error: fits everywhere, so one mistake is reported once)."""

    kind: str
    name: Optional[str] = None
    precision: Optional[int] = None
    scale: Optional[int] = None
    args: tuple[Type, ...] = ()
    fields: tuple[FieldType, ...] = ()
    nullable: bool = False

    def display(self) -> str:
        """The type as a user would write it."""
        if self.kind == "decimal":
            text = f"decimal({self.precision},{self.scale})"
        elif self.kind == "list":
            text = f"list<{self.args[0].display()}>"
        elif self.kind == "map":
            text = f"map<{self.args[0].display()}, {self.args[1].display()}>"
        elif self.kind in ("record", "enum", "ref"):
            text = self.name or self.kind
        elif self.kind == "struct":
            inner = ", ".join(f"{f.name}: {f.type.display()}" for f in self.fields)
            text = f"{{{inner}}}"
        elif self.kind == "any":
            text = "unknown"
        else:
            text = self.kind
        return text + "?" if self.nullable and self.kind not in ("null", "any") else text


def scalar(kind: str) -> Type:
    return Type(kind)


def decimal(precision: int, scale: int) -> Type:
    return Type("decimal", precision=min(precision, MAX_PRECISION), scale=min(scale, MAX_PRECISION))


def list_of(t: Type) -> Type:
    return Type("list", args=(t,))


def record(name: str, nullable: bool = False) -> Type:
    return Type("record", name=name, nullable=nullable)


ANY = Type("any")
NULL = Type("null")
BOOLEAN = Type("boolean")
STRING = Type("string")
INT = Type("int")
LONG = Type("long")
DOUBLE = Type("double")
DURATION = Type("duration")
DATETIME = Type("datetime")
DATE = Type("date")


def with_nullable(t: Type, nullable: bool = True) -> Type:
    if t.nullable == nullable or t.kind in ("any", "null"):
        return t
    return msgspec.structs.replace(t, nullable=nullable)


def is_numeric(t: Type) -> bool:
    return t.kind in NUMERIC


def as_decimal(t: Type) -> tuple[int, int]:
    """(precision, scale) of an exact number type."""
    if t.kind == "decimal":
        return (t.precision or MAX_PRECISION, t.scale or 0)
    if t.kind == "int":
        return (10, 0)
    return (19, 0)


def same(a: Type, b: Type) -> bool:
    """Equal ignoring nullability (and decimal precision/scale)."""
    if a.kind == "any" or b.kind == "any":
        return True
    if a.kind != b.kind:
        return False
    if a.kind in ("record", "enum", "ref"):
        return a.name == b.name
    if a.kind in ("list", "map"):
        return len(a.args) == len(b.args) and all(same(x, y) for x, y in zip(a.args, b.args))
    if a.kind == "struct":
        return [f.name for f in a.fields] == [f.name for f in b.fields] and all(
            same(x.type, y.type) for x, y in zip(a.fields, b.fields)
        )
    return True


WIDENS = {
    ("int", "long"),
    ("int", "double"),
    ("long", "double"),
    ("int", "decimal"),
    ("long", "decimal"),
    ("date", "datetime"),
}


def assignable(src: Type, dst: Type) -> bool:
    """Can a value of type src be stored where dst is expected (ignoring nullability)?"""
    if src.kind == "any" or dst.kind == "any":
        return True
    if src.kind == "null":
        return True
    if (src.kind, dst.kind) in WIDENS:
        return True
    if src.kind == "list" and dst.kind == "list":
        return assignable(src.args[0], dst.args[0])
    return same(src, dst)


def unify(a: Type, b: Type) -> Optional[Type]:
    """A common type for two branches/list items, or None."""
    nullable = a.nullable or b.nullable
    if a.kind == "any":
        return b
    if b.kind == "any":
        return a
    if a.kind == "null":
        return with_nullable(b)
    if b.kind == "null":
        return with_nullable(a)
    if is_numeric(a) and is_numeric(b):
        # An exact decimal and an approximate double have no common type (NX303's rule): the
        # target has no faithful conversion either way.
        r = numeric_result(a, b, "+")
        return None if r is None else with_nullable(r, nullable)
    if a.kind == b.kind and a.kind in ("list", "map") and len(a.args) == len(b.args):
        # Element-wise, so `[]` (list<unknown>) next to list<string> is list<string>.
        args = [unify(x, y) for x, y in zip(a.args, b.args)]
        if any(arg is None for arg in args):
            return None
        return with_nullable(Type(a.kind, args=tuple(arg for arg in args if arg)), nullable)
    if assignable(a, b):
        return with_nullable(b, nullable)
    if assignable(b, a):
        return with_nullable(a, nullable)
    return None


def numeric_result(a: Type, b: Type, op: str) -> Optional[Type]:
    """The type of a <op> b for numbers; None when an exact decimal meets a double."""
    kinds = {a.kind, b.kind}
    if "decimal" in kinds and "double" in kinds:
        return None
    if "double" in kinds:
        return DOUBLE
    if "decimal" in kinds:
        p1, s1 = as_decimal(a)
        p2, s2 = as_decimal(b)
        if op in ("+", "-", "%"):
            s = max(s1, s2)
            return decimal(max(p1 - s1, p2 - s2) + s + 1, s)
        if op == "*":
            return decimal(p1 + p2, s1 + s2)
        return decimal(MAX_PRECISION, max(s1, s2, 6))
    if op == "/":
        return decimal(MAX_PRECISION, 6)
    if "long" in kinds:
        return LONG
    return INT
