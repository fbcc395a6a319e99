"""Checks for L3 transform files: inputs, output, lookups, lets, mappings, validations."""

from __future__ import annotations

from nexflow_core import ast
from nexflow_core import typemodel as T
from nexflow_core.check.context import Ctx
from nexflow_core.check.declare import lookup_key_path
from nexflow_core.check.exprs import ExprChecker, Scope
from nexflow_core.check.functions import FUNCTIONS
from nexflow_core.check.typeref import check_typeref
from nexflow_core.diagnostics import Span
from nexflow_core.typemodel import Type


def check_transform_unit(ctx: Ctx, m: ast.Module) -> None:
    ex = ExprChecker(ctx)
    for d in m.decls:
        if isinstance(d, ast.TransformDecl):
            check_transform(ctx, ex, d)


def check_transform(ctx: Ctx, ex: ExprChecker, d: ast.TransformDecl) -> None:
    names: dict[str, Type] = {}
    if d.name in FUNCTIONS:
        # A call `upper(x)` means the built-in function wherever it is written; a transform of
        # that name could only be applied with `transform using`, and the parts of the compiler
        # that resolve calls would have to agree on which one a call means.
        ctx.error(
            "NX436",
            f"transform {d.name} is named like the built-in function {d.name}: a call "
            f"{d.name}(…) means the function",
            d.span,
            expected="a transform name that is not a built-in function "
            "(expressions.md lists them)",
            hint=f"rename it, e.g. {d.name}_value",
        )
    if not d.inputs:
        ctx.error(
            "NX306",
            f"transform {d.name} has no input",
            d.span,
            expected="at least one `input name: Type` line",
        )
    for p in d.inputs:
        if p.name in names:
            ctx.error("NX202", f"input '{p.name}' is declared twice", p.span)
        names[p.name] = check_typeref(ctx, p.type)
    out: Type = T.ANY
    if d.output is None:
        ctx.error(
            "NX306", f"transform {d.name} has no output", d.span, expected="an `output <type>` line"
        )
    else:
        out = check_typeref(ctx, d.output)
    scope = Scope(names)
    for v in d.validations:
        if v.phase == "input":
            ex.condition(v.expr, scope, "an input validation")
    for lk in d.lookups:
        duplicate = lk.alias in scope.names
        if duplicate:
            # The generated function takes inputs and lookups as parameters of one method.
            ctx.error(
                "NX202",
                f"'{lk.alias}' is already defined (an input or an earlier lookup)",
                lk.span,
                expected="a name of its own for each input and lookup",
            )
        store = ctx.symbols.stores.get(lk.store)
        kt = ex.infer(lk.key, scope)
        if store is None:
            ctx.error(
                "NX206",
                f"unknown store '{lk.store}'",
                lk.span,
                expected="a store declared in a .schema file",
                hint=ctx.did_you_mean(lk.store, list(ctx.symbols.stores)),
            )
            if not duplicate:
                scope.names[lk.alias] = T.ANY
            continue
        ctx.use(store, lk.span)
        sig = store.sig
        check_lookup_key(ctx, sig, kt, lk.key)
        if lookup_key_path(d, lk.key) is None:
            inputs = [p.name for p in d.inputs]
            ctx.error(
                "NX412",
                f"the key of lookup '{lk.alias}' is not an input of {d.name} or a field of one "
                "(the proc looks it up before the transform runs, from the call's arguments)",
                lk.key.span,
                expected=f"{inputs[0] if inputs else 'input'}.<field> (an input, or a field "
                "path of one)",
                hint="compute the key in the proc and pass it as an input",
            )
        if not duplicate:  # the name keeps its first meaning (no follow-on errors)
            scope.names[lk.alias] = T.record(sig.schema, nullable=True)
    for let in d.lets:
        if let.name in scope.names:
            ctx.error("NX202", f"'{let.name}' is already defined", let.span)
        scope.names[let.name] = ex.infer(let.expr, scope)
    if d.mappings:
        if out.kind not in ("record", "any"):
            ctx.error(
                "NX306",
                f"field mappings need a record output, but {d.name} returns {out.display()}",
                d.mappings[0].span,
                expected="`compute <expr>` for a single value",
            )
        else:
            check_mappings(ctx, ex, d.mappings, out, scope, d.span)
    elif d.compute is not None:
        if out.kind == "record":
            ctx.error(
                "NX306",
                f"{d.name} returns the record {out.display()}; fill it with map {{ … }}",
                d.compute.span,
                expected="map { field = expr … }",
            )
        else:
            ex.expect(d.compute, scope, out, f"the result of {d.name}")
    elif d.output is not None:
        ctx.error(
            "NX306",
            f"transform {d.name} computes nothing",
            d.span,
            expected="map { field = expr … } or compute <expr>",
        )
    out_scope = Scope(dict(scope.names), implicit=out if out.kind == "record" else None)
    for v in d.validations:
        if v.phase == "output":
            ex.condition(v.expr, out_scope, "an output validation")


def check_lookup_key(ctx: Ctx, sig: ast.StoreDecl, kt: Type, key_expr: ast.Expr) -> None:
    key = sig.key
    if key is None:
        ctx.error(
            "NX308",
            f"store {sig.name} has no key, so it cannot be looked up",
            key_expr.span,
            expected="a store declared with `key <field>`",
        )
        return
    f = ctx.symbols.field_sig(sig.schema, key)
    if f is None:
        return
    ft = ctx.symbols.resolve(f.type)
    if not T.assignable(kt, ft) and not (T.is_numeric(kt) and T.is_numeric(ft)):
        ctx.error(
            "NX308",
            f"the lookup key is {kt.display()} but {sig.name} is keyed by "
            f"{key}: {ft.display()}",
            key_expr.span,
            expected=f"a {ft.display()} value",
        )


def check_mappings(
    ctx: Ctx,
    ex: ExprChecker,
    mappings: list[ast.Mapping],
    out: Type,
    scope: Scope,
    span: Span,
) -> None:
    """Every mapping names a field of the output record with a fitting value; every required
    field (not optional, no default) is mapped."""
    if out.kind != "record":
        for mp in mappings:
            ex.infer(mp.expr, scope)
        return
    schema = ctx.symbols.schema(out.name or "")
    fields = {f.name: f for f in schema.fields} if schema is not None else {}
    seen: set = set()
    for mp in mappings:
        t = ex.infer(mp.expr, scope)
        if mp.field in seen:
            ctx.error("NX202", f"field '{mp.field}' is mapped twice", mp.span)
        seen.add(mp.field)
        f = fields.get(mp.field)
        if f is None:
            ctx.error(
                "NX306",
                f"{out.name} has no field '{mp.field}'",
                mp.span,
                expected="one of: " + ", ".join(fields),
                hint=ctx.did_you_mean(mp.field, list(fields)),
            )
            continue
        ex.check_assign(t, ctx.symbols.resolve(f.type), mp.expr, f"field '{mp.field}'")
    missing = [
        n for n, f in fields.items() if n not in seen and not f.type.nullable and not f.has_default
    ]
    if missing:
        ctx.error(
            "NX306",
            f"required field(s) of {out.name} not set: {', '.join(missing)}",
            span,
            expected="a mapping for every required field",
        )
