"""The function catalogue of the expression language (documented in
docs/language/expressions.md). Each entry: category, signature, description and a typing
rule from argument types to a result type (or an error message)."""

from __future__ import annotations

from typing import Callable, NamedTuple, Union

from nexflow_core import typemodel as T
from nexflow_core.typemodel import Type

Result = Union[Type, str]


class Function(NamedTuple):
    category: str
    signature: str
    doc: str
    rule: Callable[[list[Type]], Result]
    min_args: int
    max_args: int


def _nullable(args: list[Type], t: Type) -> Type:
    return T.with_nullable(t, any(a.nullable for a in args))


def _want(args: list[Type], *kinds: tuple[str, ...]) -> Union[str, None]:
    for i, (a, ks) in enumerate(zip(args, kinds)):
        if a.kind in ("any", "null"):
            continue
        if a.kind not in ks:
            return f"argument {i + 1} is {a.display()}, expected {' or '.join(ks)}"
    return None


NUM = ("int", "long", "double", "decimal")
TIME = ("date", "datetime")


def fixed(result: Type, *kinds: tuple[str, ...]) -> Callable[[list[Type]], Result]:
    def rule(args: list[Type]) -> Result:
        return _want(args, *kinds) or _nullable(args, result)

    return rule


def same_as_first(*kinds: tuple[str, ...]) -> Callable[[list[Type]], Result]:
    def rule(args: list[Type]) -> Result:
        return _want(args, *kinds) or args[0]

    return rule


def _round(args: list[Type]) -> Result:
    err = _want(args, NUM, ("int",))
    if err:
        return err
    a = args[0]
    if a.kind == "decimal" and len(args) == 1:
        return _nullable(args, T.decimal(a.precision or 38, 0))
    return a


def _minmax(args: list[Type]) -> Result:
    err = _want(args, (*NUM, "string", *TIME), (*NUM, "string", *TIME))
    if err:
        return err
    u = T.unify(args[0], args[1])
    return u if u is not None else f"cannot compare {args[0].display()} with {args[1].display()}"


def _coalesce(args: list[Type]) -> Result:
    out = args[0]
    for a in args[1:]:
        u = T.unify(out, a)
        if u is None:
            return f"values of different types: {out.display()} and {a.display()}"
        out = u
    return T.with_nullable(out, args[-1].nullable)


def _contains(args: list[Type]) -> Result:
    a = args[0]
    if a.kind == "list":
        if {a.args[0].kind, args[1].kind} == {"decimal", "double"}:
            return (
                f"an exact decimal and an approximate double do not compare "
                f"({a.display()} and {args[1].display()}): convert with to_decimal(…) or "
                "to_double(…)"
            )
        return T.BOOLEAN
    return _want(args, ("string", "list"), ("string",)) or T.BOOLEAN


def _size(args: list[Type]) -> Result:
    return _want(args, ("list", "map", "string", "bytes")) or _nullable(args, T.INT)


def _get(args: list[Type]) -> Result:
    a = args[0]
    if a.kind == "map":
        return T.with_nullable(a.args[1])
    if a.kind == "list":
        return _want(args, ("list",), ("int", "long")) or T.with_nullable(a.args[0])
    if a.kind == "any":
        return T.ANY
    return f"argument 1 is {a.display()}, expected a list or a map"


def _to_decimal(args: list[Type]) -> Result:
    if len(args) == 2:
        return "a precision goes with a scale: to_decimal(x) or to_decimal(x, precision, scale)"
    return _want(args, (*NUM, "string"), ("int",), ("int",)) or _nullable(args, T.decimal(38, 10))


FUNCTIONS: dict[str, Function] = {
    # text
    "upper": Function("text", "upper(s: string) -> string", "upper case", fixed(T.STRING, ("string",)), 1, 1),
    "lower": Function("text", "lower(s: string) -> string", "lower case", fixed(T.STRING, ("string",)), 1, 1),
    "trim": Function("text", "trim(s: string) -> string", "strip surrounding blanks", fixed(T.STRING, ("string",)), 1, 1),
    "length": Function("text", "length(s: string) -> int", "number of characters", fixed(T.INT, ("string",)), 1, 1),
    "substring": Function("text", "substring(s: string, start: int, count: int) -> string", "part of a text (start at 0)", fixed(T.STRING, ("string",), ("int",), ("int",)), 3, 3),
    "concat": Function("text", "concat(a: string, b: string, …) -> string", "join texts", lambda a: _want(a, *[("string",)] * len(a)) or _nullable(a, T.STRING), 2, 16),
    "starts_with": Function("text", "starts_with(s: string, prefix: string) -> boolean", "prefix test", fixed(T.BOOLEAN, ("string",), ("string",)), 2, 2),
    "ends_with": Function("text", "ends_with(s: string, suffix: string) -> boolean", "suffix test", fixed(T.BOOLEAN, ("string",), ("string",)), 2, 2),
    "replace": Function("text", "replace(s: string, find: string, with: string) -> string", "replace every occurrence", fixed(T.STRING, ("string",), ("string",), ("string",)), 3, 3),
    "matches": Function("text", "matches(s: string, regex: string) -> boolean", "regular-expression test", fixed(T.BOOLEAN, ("string",), ("string",)), 2, 2),
    "mask": Function("text", "mask(s: string, keep_last: int) -> string", "hide all but the last characters", fixed(T.STRING, ("string",), ("int",)), 2, 2),
    "to_string": Function("text", "to_string(x) -> string", "text form of any value", lambda a: _nullable(a, T.STRING), 1, 1),
    "contains": Function("text", "contains(s: string|list, x) -> boolean", "substring or element test", _contains, 2, 2),
    # math
    "abs": Function("math", "abs(x: number) -> number", "absolute value", same_as_first(NUM), 1, 1),
    "round": Function("math", "round(x: number [, scale: int]) -> number", "round half-even to scale digits", _round, 1, 2),
    "floor": Function("math", "floor(x: number) -> number", "round down", same_as_first(NUM), 1, 1),
    "ceil": Function("math", "ceil(x: number) -> number", "round up", same_as_first(NUM), 1, 1),
    "min": Function("math", "min(a, b) -> same type", "smaller of two values (one argument: aggregation)", _minmax, 2, 2),
    "max": Function("math", "max(a, b) -> same type", "larger of two values (one argument: aggregation)", _minmax, 2, 2),
    "sqrt": Function("math", "sqrt(x: number) -> double", "square root (approximate)", fixed(T.DOUBLE, NUM), 1, 1),
    "pow": Function("math", "pow(x: number, y: number) -> double", "power (approximate)", fixed(T.DOUBLE, NUM, NUM), 2, 2),
    "to_int": Function("math", "to_int(x: number|string) -> int", "convert, truncating", fixed(T.INT, (*NUM, "string")), 1, 1),
    "to_long": Function("math", "to_long(x: number|string) -> long", "convert, truncating", fixed(T.LONG, (*NUM, "string")), 1, 1),
    "to_double": Function("math", "to_double(x: number|string) -> double", "convert to approximate", fixed(T.DOUBLE, (*NUM, "string")), 1, 1),
    "to_decimal": Function("math", "to_decimal(x [, precision, scale]) -> decimal", "convert to exact decimal (default decimal(38,10))", _to_decimal, 1, 3),
    # date and time
    "now": Function("time", "now() -> datetime", "processing time now", lambda a: T.DATETIME, 0, 0),
    "date_of": Function("time", "date_of(t: datetime) -> date", "calendar date of a moment (UTC)", fixed(T.DATE, ("datetime",)), 1, 1),
    "year": Function("time", "year(t: date|datetime) -> int", "year", fixed(T.INT, TIME), 1, 1),
    "month": Function("time", "month(t: date|datetime) -> int", "month 1-12", fixed(T.INT, TIME), 1, 1),
    "day": Function("time", "day(t: date|datetime) -> int", "day of month", fixed(T.INT, TIME), 1, 1),
    "hour": Function("time", "hour(t: datetime) -> int", "hour 0-23 (UTC)", fixed(T.INT, ("datetime",)), 1, 1),
    "days_between": Function("time", "days_between(a: date|datetime, b: date|datetime) -> long", "whole days from a to b", fixed(T.LONG, TIME, TIME), 2, 2),
    "millis_between": Function("time", "millis_between(a: datetime, b: datetime) -> long", "milliseconds from a to b", fixed(T.LONG, ("datetime",), ("datetime",)), 2, 2),
    "format_datetime": Function("time", "format_datetime(t: datetime, pattern: string) -> string", "format with a pattern such as yyyy-MM-dd", fixed(T.STRING, TIME, ("string",)), 2, 2),
    "parse_datetime": Function("time", "parse_datetime(s: string, pattern: string) -> datetime", "parse a text", fixed(T.DATETIME, ("string",), ("string",)), 2, 2),
    # collections
    "size": Function("collections", "size(x: list|map|string) -> int", "number of elements", _size, 1, 1),
    "is_empty": Function("collections", "is_empty(x: list|map|string) -> boolean", "no elements", fixed(T.BOOLEAN, ("list", "map", "string")), 1, 1),
    "get": Function("collections", "get(m: map|list, key) -> value?", "element by key or index (null if absent)", _get, 2, 2),
    # null handling
    "coalesce": Function("null", "coalesce(a, b, …) -> first non-null", "first value that is not null", _coalesce, 2, 16),
}  # fmt: skip

AGGREGATIONS: dict[str, str] = {
    "count": "count() -> long: number of records in the window",
    "sum": "sum(x: number) -> number: total",
    "avg": "avg(x: number) -> decimal|double: mean",
    "min": "min(x) -> same type: smallest value",
    "max": "max(x) -> same type: largest value",
    "first": "first(x) -> same type: value of the earliest record",
    "last": "last(x) -> same type: value of the latest record",
    "count_distinct": "count_distinct(x) -> long: number of different values",
    "window_start": "window_start() -> datetime: start of the window (included)",
    "window_end": "window_end() -> datetime: end of the window (excluded)",
}
# Not aggregations of records but facts of the window the record falls in; allowed in the same
# place (`aggregate into`).
WINDOW_FACTS = ("window_start", "window_end")


def aggregate_type(name: str, args: list[Type]) -> Result:
    if name == "count":
        return T.LONG if not args else "count() takes no argument"
    if name in WINDOW_FACTS:
        return T.DATETIME if not args else f"{name}() takes no argument"
    if len(args) != 1:
        return f"{name}(…) takes one argument"
    a = args[0]
    if name == "count_distinct":
        return T.LONG
    if name in ("sum", "avg"):
        if a.kind not in NUM and a.kind != "any":
            return f"{name} needs a number, not {a.display()}"
        if name == "sum":
            if a.kind == "decimal":
                return T.decimal(38, a.scale or 0)
            return T.LONG if a.kind in ("int", "long") else a
        if a.kind == "decimal":
            return T.decimal(38, max(a.scale or 0, 6))
        return T.DOUBLE if a.kind in ("int", "long", "double") else a
    return a
