"""Checks for L2 schema files: field types, annotations, defaults, validations, streams,
stores, enums and schema evolution between versions."""

from __future__ import annotations

import re
from typing import Optional, Union

from nexflow_core import ast
from nexflow_core import typemodel as T
from nexflow_core.check.context import Ctx
from nexflow_core.check.evolution import MODES, TRANSITIVE, Comparison
from nexflow_core.check.exprs import ExprChecker, Scope
from nexflow_core.check.typeref import check_typeref
from nexflow_core.diagnostics import file_span
from nexflow_core.typemodel import Type

ANNOTATIONS = {
    "key": "marks the record key (no arguments)",
    "event_time": "the event-time field (datetime or long)",
    "enum": 'allowed text values: @enum["A", "B"]',
    "range": "numeric bounds: @range(0, 100)",
    "length": "text/list length bounds: @length(1, 64)",
    "pattern": 'a regular expression: @pattern("^[A-Z]{3}$")',
    "sensitive": "masked in logs",
    "pii": "personal data, masked in logs",
    "doc": 'a description: @doc("…")',
}


def check_schema_unit(ctx: Ctx, m: ast.Module) -> None:
    ex = ExprChecker(ctx)
    for d in m.decls:
        if isinstance(d, ast.SchemaDecl):
            check_schema(ctx, ex, d)
        elif isinstance(d, ast.EnumDecl):
            seen: set = set()
            for mem in d.members:
                if mem.name in seen:
                    ctx.error(
                        "NX202",
                        f"enum {d.name} lists '{mem.name}' twice",
                        mem.span,
                        expected="each value once",
                    )
                seen.add(mem.name)
        elif isinstance(d, (ast.StreamDecl, ast.StoreDecl)):
            check_carrier(ctx, d)


def check_carrier(ctx: Ctx, d: Union[ast.StreamDecl, ast.StoreDecl]) -> None:
    span = d.span
    schema_name = d.schema
    what = "stream" if isinstance(d, ast.StreamDecl) else "store"
    mode = d.compatibility
    if mode is not None and mode.mode not in MODES:
        transitive = mode.mode in TRANSITIVE
        ctx.error(
            "NX620",
            f"{what} {d.name}: compatibility {mode.mode} is not "
            + ("supported" if transitive else "a compatibility mode"),
            mode.span,
            expected=", ".join(MODES),
            hint=(
                "the upgrade gate compares with one baseline release, so a transitive mode "
                f"checks nothing more: write compatibility {mode.mode.split('_')[0]}"
                if transitive
                else ctx.did_you_mean(mode.mode, list(MODES))
            ),
        )
    entry = ctx.symbols.types.get(schema_name)
    if entry is None or entry.what != "schema":
        cands = [n for n, e in ctx.symbols.types.items() if e.what == "schema"]
        ctx.error(
            "NX201",
            f"{what} {d.name} carries unknown schema '{schema_name}'",
            span,
            expected="the name of a schema",
            hint=ctx.did_you_mean(schema_name, cands),
        )
        return
    ctx.use(entry, span)
    if isinstance(d, ast.StoreDecl) and d.key is not None:
        if ctx.symbols.field_sig(schema_name, d.key) is None:
            ctx.error(
                "NX204",
                f"schema {schema_name} has no field '{d.key}' to key the store",
                span,
                expected="a field of " + schema_name,
            )


def check_schema(ctx: Ctx, ex: ExprChecker, d: ast.SchemaDecl) -> None:
    seen: dict = {}
    event_times = []
    for f in d.fields:
        if f.name in seen:
            ctx.error(
                "NX202",
                f"field '{f.name}' is declared twice in {d.name}",
                f.span,
                related=seen[f.name],
            )
        seen[f.name] = f.span
        t = check_typeref(ctx, f.type)
        if f.default is not None:
            ex.expect(f.default, Scope(), t, f"field '{f.name}'")
        for a in f.annotations:
            check_annotation(ctx, ex, f, a, t)
            if a.name == "event_time":
                event_times.append(a)
    for a in event_times[1:]:
        ctx.error(
            "NX406",
            f"{d.name} has more than one @event_time field",
            a.span,
            expected="one event-time field per schema",
        )
    own = T.record(d.name)
    for v in d.validations:
        scope = Scope(implicit=own)
        ex.condition(v.expr, scope, "a validate rule")


def _num(e: object) -> Optional[float]:
    if isinstance(e, ast.IntLit):
        return float(e.value)
    if isinstance(e, ast.DecimalLit):
        return float(e.text)
    return None


def check_annotation(ctx: Ctx, ex: ExprChecker, f: ast.Field, a: ast.Annotation, t: Type) -> None:
    name = a.name
    if name not in ANNOTATIONS:
        ctx.error(
            "NX406",
            f"unknown annotation @{name}",
            a.span,
            expected=", ".join("@" + k for k in ANNOTATIONS),
        )
        return
    k = t.kind
    if name in ("key", "sensitive", "pii", "event_time") and a.args:
        ctx.error("NX406", f"@{name} takes no arguments", a.span, expected=f"@{name}")
    elif name == "event_time" and k not in ("datetime", "long", "any"):
        ctx.error(
            "NX406",
            f"@event_time needs a datetime or long field, not {t.display()}",
            a.span,
            expected="a datetime field",
        )
    elif name == "enum":
        vals = (
            a.args[0].items if len(a.args) == 1 and isinstance(a.args[0], ast.ListLit) else a.args
        )
        if (
            k not in ("string", "any")
            or not vals
            or not all(isinstance(x, ast.StringLit) for x in vals)
        ):
            ctx.error(
                "NX406",
                "@enum lists the allowed texts of a string field",
                a.span,
                expected='@enum["A", "B"] on a string field',
            )
    elif name in ("range", "length"):
        nums = [_num(x) for x in a.args]
        if len(a.args) != 2 or any(n is None for n in nums):
            ctx.error(
                "NX406",
                f"@{name} needs a lower and an upper number",
                a.span,
                expected=f"@{name}(1, 64)",
            )
        elif name == "range" and not T.is_numeric(t) and k != "any":
            ctx.error(
                "NX406",
                f"@range applies to numbers, not {t.display()}",
                a.span,
                expected="a numeric field",
            )
        elif name == "length" and k not in ("string", "list", "bytes", "any"):
            ctx.error(
                "NX406",
                f"@length applies to text or lists, not {t.display()}",
                a.span,
                expected="a string or list field",
            )
        elif nums[0] is not None and nums[1] is not None and nums[0] > nums[1]:
            ctx.error(
                "NX406",
                f"@{name} lower bound is above the upper bound",
                a.span,
                expected="lower <= upper",
            )
    elif name in ("pattern", "doc"):
        if len(a.args) != 1 or not isinstance(a.args[0], ast.StringLit):
            ctx.error("NX406", f"@{name} needs one text argument", a.span, expected=f'@{name}("…")')
        elif name == "pattern":
            if k not in ("string", "any"):
                ctx.error(
                    "NX406", "@pattern applies to text fields", a.span, expected="a string field"
                )
            else:
                try:
                    re.compile(a.args[0].value)
                except (re.error, RecursionError, OverflowError) as e:
                    ctx.error(
                        "NX406",
                        f"@pattern is not a valid regular expression ({e})",
                        a.args[0].span,
                        expected="a regular expression",
                    )


# --- evolution ---------------------------------------------------------------------------
def check_evolution(ctx: Ctx, name: str, spans: dict) -> None:
    """Compare consecutive versions of a schema: the new version must read data written with
    the old one, and the old version data written with the new one where a required field
    goes (the field comparison is check/evolution.py's, shared with the upgrade gate)."""
    versions = sorted(
        (e for e in ctx.symbols.schema_versions.get(name, []) if e.sig.version is not None),
        key=lambda e: e.sig.version,
    )
    for old, new in zip(versions, versions[1:]):
        if new.path != ctx.path:
            continue
        span = spans.get((name, new.sig.version)) or file_span(new.path)
        # Versions live in one symbol table: their fields' types are compared by name, as
        # written (a referenced schema's own versions are checked on their own).
        compare = Comparison(ctx.symbols, ctx.symbols, deep=False, renames=False, roles=False)
        for c in compare.schemas(old.sig, new.sig):
            field = c.path
            if c.kind == "added_required":
                ctx.error(
                    "NX407",
                    f"version {new.sig.version} of {name} adds required field "
                    f"'{field}' without a default",
                    span,
                    expected="new fields optional (?) or with a default",
                    related=file_span(old.path),
                )
            elif c.kind == "removed_required":
                ctx.error(
                    "NX407",
                    f"version {new.sig.version} of {name} removes required field '{field}'",
                    span,
                    expected="only optional fields removed",
                )
            elif c.old_type is not None and c.new_type is not None:
                a, b = c.old_type, c.new_type
                if not T.same(a, b) and (a.kind, b.kind) not in T.WIDENS:
                    ctx.error(
                        "NX407",
                        f"version {new.sig.version} of {name} changes '{field}' "
                        f"from {a.display()} to {b.display()}",
                        span,
                        expected="the same type or a widening (int to long, …)",
                    )
