"""Checking written types (TypeRef) against the symbol table."""

from __future__ import annotations

from nexflow_core import ast
from nexflow_core.check.context import Ctx
from nexflow_core.check.declare import type_of_ref
from nexflow_core.typemodel import MAX_PRECISION, SCALARS, Type

TYPE_WORDS = (
    "string, int, long, double, decimal(p,s), boolean, date, datetime, uuid, bytes, "
    "list<T>, map<K,V> or a schema/enum name"
)


def check_typeref(ctx: Ctx, t: ast.TypeRef, records_ok: bool = True) -> Type:
    """Report problems in a written type and return its resolved Type (`any` on error)."""
    name = t.name
    if name == "decimal":
        if len(t.params) != 2:
            ctx.error(
                "NX310",
                "decimal needs a precision and a scale",
                t.span,
                expected="decimal(precision, scale), such as decimal(10,2)",
            )
            return Type("any")
        p, s = t.params
        if not 1 <= p <= MAX_PRECISION or not 0 <= s <= p:
            ctx.error(
                "NX310",
                f"decimal({p},{s}) is not a valid size",
                t.span,
                expected=f"1 <= precision <= {MAX_PRECISION} and 0 <= scale <= precision",
            )
            return Type("any")
        return ctx.symbols.resolve(type_of_ref(t))
    if name in ("list", "map"):
        want = 1 if name == "list" else 2
        if len(t.args) != want or t.params:
            ctx.error(
                "NX310",
                f"{name} needs {want} element type(s)",
                t.span,
                expected="list<string> or map<string, int>",
            )
            return Type("any")
        for a in t.args:
            check_typeref(ctx, a)
        if name == "map" and t.args[0].name not in ("string", "int", "long", "uuid"):
            ctx.error(
                "NX310",
                "map keys must be string, int, long or uuid",
                t.args[0].span,
                expected="map<string, …>",
            )
        return ctx.symbols.resolve(type_of_ref(t))
    if name in SCALARS:
        if t.params or t.args:
            ctx.error("NX310", f"{name} takes no parameters", t.span, expected=name)
        return type_of_ref(t)
    if t.params or t.args:
        ctx.error("NX310", f"'{name}' takes no parameters", t.span, expected=TYPE_WORDS)
    entry = ctx.symbols.types.get(name)
    if entry is None:
        cands = list(SCALARS) + [
            n for n, e in ctx.symbols.types.items() if e.what in ("schema", "enum")
        ]
        ctx.error(
            "NX201",
            f"unknown type '{name}'",
            t.span,
            expected=TYPE_WORDS,
            hint=ctx.did_you_mean(name, cands),
        )
        return Type("any")
    if not ctx.use(entry, t.span):
        return Type("any")
    if entry.what not in ("schema", "enum"):
        ctx.error("NX201", f"'{name}' is {entry.what}, not a type", t.span, expected=TYPE_WORDS)
        return Type("any")
    if entry.what == "schema" and not records_ok:
        ctx.error(
            "NX201",
            f"'{name}' is a schema; a record is not allowed here",
            t.span,
            expected="a scalar type",
        )
        return Type("any")
    return ctx.symbols.resolve(type_of_ref(t))
