"""Checks for L4 rules files: ruleset bindings (explicit or implicit), conditions, actions,
unreachable rules, and decision tables (cells, results, hit policies, overlaps and gaps)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Optional

from nexflow_core import ast
from nexflow_core import typemodel as T
from nexflow_core.check.context import Ctx
from nexflow_core.check.exprs import ExprChecker, Scope, nonnull_if, render
from nexflow_core.check.tables import (
    MAX_GAPS,
    Analysis,
    build_column,
    cell_mask,
    cell_number,
    understood,
)
from nexflow_core.check.typeref import check_typeref
from nexflow_core.diagnostics import Span
from nexflow_core.interface.model import ParamSig
from nexflow_core.typemodel import Type

_CAMEL1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL2 = re.compile(r"([a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """PaymentEvent -> payment_event, HTTPRequest -> http_request."""
    return _CAMEL2.sub(r"\1_\2", _CAMEL1.sub(r"\1_\2", name)).lower()


def implicit_name(schema: str) -> str:
    """The name a ruleset uses for a record of `schema` when it declares no `for` binding:
    the schema name in snake_case without a trailing `_event` (PaymentEvent -> payment)."""
    s = snake(schema)
    return s[: -len("_event")] if s.endswith("_event") and len(s) > len("_event") else s


class Binder:
    """Resolves the record a ruleset/table inspects: the declared `for name: Schema`, or the
    first undeclared root name, bound to the one schema whose implicit name it is."""

    def __init__(self, ctx: Ctx, owner: str, binding: Optional[ast.Binding]) -> None:
        self.ctx = ctx
        self.owner = owner
        self.name: Optional[str] = None
        self.schema: Optional[str] = None
        self.type: Optional[Type] = None
        if binding is not None:
            self.name = binding.name
            self.schema = binding.schema
            tref = ast.TypeRef(span=binding.span, name=binding.schema)
            t = check_typeref(ctx, tref)
            if t.kind not in ("record", "any"):
                ctx.error(
                    "NX201",
                    f"'{binding.schema}' is not a schema",
                    binding.span,
                    expected="for name: SchemaName",
                )
            self.type = t
            self.explicit = True
        else:
            self.explicit = False

    def scope(self) -> Scope:
        if self.explicit:
            assert self.name is not None and self.type is not None
            return Scope({self.name: self.type}, unbound=self.unbound_after_explicit)
        return Scope(unbound=self.unbound)

    def unbound_after_explicit(self, name: str, p: ast.Path) -> Optional[Type]:
        self.ctx.error(
            "NX211",
            f"'{name}' is not known in {self.owner}",
            p.span,
            expected=f"fields of the record '{self.name}', such as {self.name}.…",
        )
        return None

    def unbound(self, name: str, p: ast.Path) -> Optional[Type]:
        if self.name is not None:
            if name == self.name:
                return self.type
            self.ctx.error(
                "NX210",
                f"{self.owner} already inspects '{self.name}' "
                f"({self.schema}); '{name}' cannot be bound as well",
                p.span,
                expected=f"fields of '{self.name}'",
                hint="a ruleset inspects one record; declare it with `for`",
            )
            return None
        matches = sorted(
            n
            for n, e in self.ctx.symbols.types.items()
            if e.what == "schema" and implicit_name(n) == name
        )
        if len(matches) != 1:
            known = sorted(
                f"{implicit_name(n)} ({n})"
                for n, e in self.ctx.symbols.types.items()
                if e.what == "schema"
            )
            why = "no schema" if not matches else f"several schemas ({', '.join(matches)})"
            self.ctx.error(
                "NX210",
                f"'{name}' is not declared and {why} gives that name",
                p.span,
                expected="one of: " + ", ".join(known[:10]) if known else None,
                hint=f"declare the record: `for {name}: SchemaName` after the name",
            )
            self.name, self.schema, self.type = name, None, T.ANY
            return None
        entry = self.ctx.symbols.types[matches[0]]
        self.ctx.use(entry, p.span)
        self.name, self.schema, self.type = name, matches[0], T.record(matches[0])
        return self.type

    def require_record(self, span: Span) -> None:
        """A ruleset or table that never names its record (no `for`, no field read): nothing
        tells which records it inspects, so no proc could apply it to a typed record."""
        if self.name is None:
            self.ctx.error(
                "NX210",
                f"{self.owner} reads no record, so nothing says which records it inspects",
                span,
                expected="`for <name>: <Schema>` after the name",
                hint="declare the record with `for`",
            )

    def sig(self) -> Optional[ParamSig]:
        if self.name is None or self.schema is None:
            return None
        return ParamSig(self.name, Type("ref", name=self.schema))


def check_rules_unit(ctx: Ctx, m: ast.Module) -> dict[str, Optional[ParamSig]]:
    """Check every ruleset/table; return the input binding each one ended up with (explicit
    or implicit) for the unit's interface."""
    ex = ExprChecker(ctx)
    bindings: dict[str, Optional[ParamSig]] = {}
    for d in m.decls:
        if isinstance(d, ast.RulesetDecl):
            bindings[d.name] = check_ruleset(ctx, ex, d)
        elif isinstance(d, ast.DecisionTableDecl):
            bindings[d.name] = check_table(ctx, ex, d)
    return bindings


def _is_true(e: Optional[object]) -> bool:
    return e is None or (isinstance(e, ast.BoolLit) and e.value)


def _unset(proven: frozenset[str], target: ast.Path) -> frozenset[str]:
    """What stays proven not null after `set target = …` (the field may be written with or
    without the record's name)."""
    tgt = target.dotted
    field = ".".join(target.parts[1:])
    return frozenset(
        p
        for p in proven
        if not (p == tgt or p == field or p.startswith(tgt + ".") or p.startswith(field + "."))
    )


def check_ruleset(ctx: Ctx, ex: ExprChecker, d: ast.RulesetDecl) -> Optional[ParamSig]:
    b = Binder(ctx, f"ruleset {d.name}", d.binding)
    scope = b.scope()
    seen: dict = {}
    for r in d.rules:
        if r.name in seen:
            ctx.error(
                "NX202", f"rule '{r.name}' appears twice in {d.name}", r.span, related=seen[r.name]
            )
        seen[r.name] = r.span
        # A rule's actions run only when its condition holds, in order: what the condition
        # proves not null stays so until an action of the rule sets it.
        proven: frozenset[str] = frozenset()
        if r.when is not None:
            ex.condition(r.when, scope, f"the when of rule {r.name}")
            proven = nonnull_if(r.when, True)
        for a in r.actions:
            if isinstance(a, ast.SetAction):
                t = ex.infer(a.target, scope)
                value = ex.infer(a.expr, scope.narrowed(proven))
                ex.check_assign(value, t, a.expr, f"'{a.target.dotted}'")
                proven = _unset(proven, a.target)
                if len(a.target.parts) < 2 and a.target.parts[0] != b.name:
                    ctx.error(
                        "NX204",
                        "set changes a field of the inspected record",
                        a.target.span,
                        expected=f"{b.name or 'record'}.field = value",
                    )
    # unreachable rules
    for r in d.rules:
        if isinstance(r.when, ast.BoolLit) and not r.when.value:
            ctx.error(
                "NX403",
                f"rule {r.name} can never fire (its condition is false)",
                r.when.span,
                expected="a condition that can be true",
            )
    if d.mode == "first":
        order = sorted(
            range(len(d.rules)),
            key=lambda i: (-d.rules[i].rank, i),
        )
        conds: dict = {}
        blocker: Optional[ast.Rule] = None
        for i in order:
            r = d.rules[i]
            if blocker is not None:
                ctx.error(
                    "NX403",
                    f"rule {r.name} is unreachable: rule {blocker.name} always matches first",
                    r.span,
                    expected="conditional rules before a catch-all",
                    related=blocker.span,
                )
                continue
            text = render(r.when) if r.when is not None else "true"
            if text in conds:
                ctx.error(
                    "NX403",
                    f"rule {r.name} is unreachable: rule {conds[text].name} has "
                    "the same condition and matches first",
                    r.span,
                    related=conds[text].span,
                )
                continue
            conds[text] = r
            if _is_true(r.when):
                blocker = r
    b.require_record(d.span)
    return b.sig()


def check_table(ctx: Ctx, ex: ExprChecker, d: ast.DecisionTableDecl) -> Optional[ParamSig]:
    errors_before = len(ctx.diags)
    b = Binder(ctx, f"decision table {d.name}", d.binding)
    scope = b.scope()
    in_types: list[Type] = []
    seen: set = set()
    for inp in d.inputs:
        if inp.name in seen:
            ctx.error("NX202", f"input column '{inp.name}' appears twice", inp.span)
        seen.add(inp.name)
        in_types.append(ex.infer(inp.expr, scope))
    out_types: list[Type] = []
    for o in d.outputs:
        t = check_typeref(ctx, o.type)
        out_types.append(t)
        for v in o.order:
            ex.expect(v, Scope(), t, f"the priority order of '{o.name}'")
    if not d.inputs:
        ctx.error(
            "NX404",
            f"decision table {d.name} has no input columns",
            d.span,
            expected="inputs { name = record.field … }",
        )
    if not d.outputs:
        ctx.error(
            "NX404",
            f"decision table {d.name} has no output columns",
            d.span,
            expected="outputs { name: type … }",
        )
    # hit policy requirements
    if d.hit_policy == "priority" and d.outputs:
        o, t = d.outputs[0], out_types[0]
        if not o.order and t.kind != "enum":
            ctx.error(
                "NX405",
                f"hit_policy priority needs the order of '{o.name}' values",
                o.span,
                expected=f'{o.name}: {o.type.name} priority ["HIGH", "LOW"] or an enum output',
            )
    if d.aggregation is not None:
        if len(d.outputs) != 1:
            ctx.error(
                "NX405",
                f"collect {d.aggregation} needs exactly one output column",
                d.span,
                expected="one output column",
            )
        elif d.aggregation in ("sum", "min", "max") and out_types[0].kind not in (
            *T.NUMERIC,
            "any",
        ):
            ctx.error(
                "NX405",
                f"collect {d.aggregation} needs a numeric output, not {out_types[0].display()}",
                d.outputs[0].span,
                expected="a number",
            )
    # rows
    good_rows: list[ast.TableRow] = []
    for row in d.rows:
        ok = True
        if len(row.cells) != len(d.inputs):
            ctx.error(
                "NX404",
                f"{row.label} has {len(row.cells)} input cell(s) but the table "
                f"has {len(d.inputs)} input(s)",
                row.span,
                expected="one cell per input column (use - for any)",
            )
            ok = False
        if len(row.results) != len(d.outputs):
            ctx.error(
                "NX404",
                f"{row.label} has {len(row.results)} result(s) but the table "
                f"has {len(d.outputs)} output(s)",
                row.span,
                expected="one result per output column",
            )
            ok = False
        for c, t, inp in zip(row.cells, in_types, d.inputs):
            if not check_cell(ctx, ex, c, t):
                ok = False
            elif c.kind in _CELL_VERDICTS:
                for v in c.values:
                    ex.enum_texts(inp.expr, v, _CELL_VERDICTS[c.kind])
        for res, t, o in zip(row.results, out_types, d.outputs):
            ex.expect(res, Scope(), t, f"output '{o.name}'")
        if ok:
            good_rows.append(row)
    b.require_record(d.span)
    if len(good_rows) != len(d.rows) or not d.inputs:
        return b.sig()
    unknown = [i.name for i, t in zip(d.inputs, in_types) if t.kind == "any"]
    if unknown:
        # Only after an error, as far as the checker knows; if not, say so rather than let
        # silence read as "no gaps".
        if not any(x.severity == "error" for x in ctx.diags[errors_before:]):
            ctx.warning(
                "NX446",
                f"check could not fully verify {d.name}: the type of {', '.join(unknown)} is "
                "not known, so gaps, overlaps or rows that never win may go unreported",
                d.span,
            )
        return b.sig()
    analyse(ctx, d, in_types, out_types, good_rows, (b.name, b.schema))
    return b.sig()


# What a text cell outside its column's @enum means (NX442), by the cell's test.
_CELL_VERDICTS = {
    "eq": "this cell never matches",
    "in": "no value of the field is this item",
    "ne": "this cell matches every value",
    "not_in": "no value of the field is this item",
}
_NUMERIC_RANK = {"int": 0, "long": 1, "decimal": 2, "double": 3}
# A text cell written like a pattern or a template of another tool: a `*` wildcard, a shell or
# JavaScript `${name}`, a `{name}` placeholder. A cell is compared for equality, so it only
# matches that exact text.
_PATTERN_LIKE = re.compile(r"\*|\$\{[^}]*\}|\{[A-Za-z_][A-Za-z0-9_.]*\}")


def _pattern_like_cell(ctx: Ctx, v: ast.StringLit) -> None:
    m = _PATTERN_LIKE.search(v.value)
    if m is None:
        return
    if m.group(0) == "*":
        prefix = v.value.split("*", 1)[0]
        hint = (
            f'for a prefix, make the column a test: flag = starts_with(x, "{prefix}") with '
            "cells true/false; matches(x, regex) for more"
            if prefix and v.value.endswith("*") and v.value.count("*") == 1
            else "make the column a test such as matches(x, regex) with cells true/false"
        )
        what = "a wildcard"
    else:
        hint = (
            "a cell is constant text, never filled in: to compare with another value, make "
            "the column a test such as same = x == y with cells true/false"
        )
        what = "a template"
    ctx.warning(
        "NX441",
        f'the cell "{v.value}" looks like {what}, but a cell matches only this exact text',
        v.span,
        hint=hint,
    )


def check_cell(ctx: Ctx, ex: ExprChecker, c: ast.Cell, t: Type) -> bool:
    if c.kind == "any" or t.kind == "any":
        return True
    ordered = t.kind in (*T.NUMERIC, "duration", "date", "datetime")
    if c.kind in ("lt", "le", "gt", "ge", "range") and not ordered:
        ctx.error(
            "NX411",
            f"'{_cell_word(c)}' needs an ordered input, but this column is {t.display()}",
            c.span,
            expected="=, !=, in [..] or - for this column",
        )
        return False
    ok = True
    for v in c.values:
        if isinstance(v, ast.NullLit):
            # Ops.eq/ne/in never match null: a `null` cell would silently match nothing (or,
            # in `not in`, everything else), never a missing value.
            ctx.error(
                "NX411",
                "a cell cannot test for null: only - matches a null input, and = null or "
                "!= null matches nothing",
                v.span,
                expected=f"a {t.display()} value, or - for any value (null included)",
                hint="to decide on a missing value, add an input such as known = x is not null "
                "with cells true/false",
            )
            ok = False
            continue
        if isinstance(v, ast.Path):
            if t.kind == "enum":
                sig = ctx.symbols.enum(t.name or "")
                if sig is not None and v.parts[-1] not in sig.members:
                    ctx.error(
                        "NX411",
                        f"'{v.parts[-1]}' is not a value of {t.name}",
                        v.span,
                        expected=", ".join(sig.members),
                    )
                    ok = False
                continue
            ctx.error(
                "NX411",
                f"'{v.dotted}' is not a value",
                v.span,
                expected=f'a {t.display()} value such as a number or "text"',
            )
            ok = False
            continue
        vt = ex.infer(v, Scope())
        if t.kind == "string" and isinstance(v, ast.StringLit):
            _pattern_like_cell(ctx, v)
        if t.kind == "enum" and isinstance(v, ast.StringLit):
            ex.enum_member(t, v.value, v.span)
            continue
        if T.is_numeric(vt) and T.is_numeric(t) and vt.kind != "any":
            if {vt.kind, t.kind} == {"decimal", "double"}:
                ctx.error(
                    "NX303",
                    f"this cell is {vt.display()} but the column is {t.display()}: an exact "
                    "decimal and an approximate double do not compare",
                    v.span,
                    expected=f"a {t.display()} value",
                    hint="convert the column's input with to_decimal(…) or to_double(…)",
                )
                ok = False
            elif _NUMERIC_RANK.get(vt.kind, 0) > _NUMERIC_RANK.get(t.kind, 0):
                # The row tests the column's values: a cell the column's type cannot hold
                # (1.5 for an int, a number beyond an int's range) is a mistake in the row.
                ctx.error(
                    "NX411",
                    f"this cell is {vt.display()} but the column is {t.display()}: a cell is "
                    "a value of its column's type",
                    v.span,
                    expected=f"a {t.display()} value",
                )
                ok = False
            continue
        if not (T.is_numeric(vt) and T.is_numeric(t)) and not T.assignable(vt, t):
            ctx.error(
                "NX411",
                f"this cell tests {vt.display()} but the column is {t.display()}",
                v.span,
                expected=f"a {t.display()} value",
            )
            ok = False
    if c.kind == "range" and ok and len(c.values) == 2:
        lo, hi = cell_number(c.values[0]), cell_number(c.values[1])
        if lo is not None and hi is not None and lo > hi:
            ctx.error(
                "NX411",
                "the range is empty: its low end is above its high end",
                c.span,
                expected="[low .. high]",
            )
            ok = False
    return ok


def _cell_word(c: ast.Cell) -> str:
    return {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "range": "[a .. b]"}.get(c.kind, c.kind)


def _domain(ctx: Ctx, bound: tuple, inp: ast.TableInput, t: Type) -> Optional[list]:
    if t.kind == "boolean":
        return [("b", True), ("b", False)]
    if t.kind == "enum":
        sig = ctx.symbols.enum(t.name or "")
        return [("e", m) for m in sig.members] if sig is not None else None
    p = inp.expr
    name, schema = bound
    if (
        t.kind == "string"
        and isinstance(p, ast.Path)
        and schema is not None
        and len(p.parts) == 2
        and p.parts[0] == name
    ):
        f = ctx.symbols.field_sig(schema, p.parts[1])
        if f is not None and f.allowed:
            return [("s", v) for v in f.allowed]
    return None


def _step(bound: tuple, inp: ast.TableInput, t: Type) -> Optional[Decimal]:
    """The spacing of a decimal column's values: a field of the inspected record declared
    decimal(p, s) holds multiples of 10^-s (its contract sets the scale); any other decimal
    input (an expression) may hold any number."""
    p = inp.expr
    if (
        t.kind == "decimal"
        and t.scale is not None
        and isinstance(p, ast.Path)
        and len(p.parts) >= 2
        and p.parts[0] == bound[0]
    ):
        return Decimal(1).scaleb(-t.scale)
    return None


def _constant(e: object) -> Optional[tuple]:
    """A result or priority value the checker can compare as the Java does, or None."""
    if isinstance(e, ast.StringLit):
        return ("t", e.value)
    if isinstance(e, ast.Path) and len(e.parts) == 1:
        return ("t", e.parts[0])
    if isinstance(e, ast.BoolLit):
        return ("b", e.value)
    n = cell_number(e)
    return ("n", n) if n is not None else None


def _priority_keys(
    ctx: Ctx, d: ast.DecisionTableDecl, out_types: list[Type], rows: list[ast.TableRow]
) -> list[Optional[tuple]]:
    """Each row's place in the priority order (smaller wins), compared output by output as
    the generated comparePriority does; None when a result is not a constant."""
    orders: list[tuple[int, list]] = []
    for k, o in enumerate(d.outputs):
        if o.order:
            orders.append((k, [_constant(v) for v in o.order]))
        elif k == 0 and out_types[0].kind == "enum":
            sig = ctx.symbols.enum(out_types[0].name or "")
            if sig is not None:
                orders.append((0, [("t", m) for m in sig.members]))
    keys: list[Optional[tuple]] = []
    for r in rows:
        key = []
        for k, order in orders:
            c = _constant(r.results[k])
            if c is None:
                break
            key.append(order.index(c) if c in order else len(order))
        keys.append(tuple(key) if len(key) == len(orders) else None)
    return keys


def _names(rows: list[ast.TableRow], mask: int) -> str:
    labels = [r.label for i, r in enumerate(rows) if mask >> i & 1]
    return ", ".join(labels[:4]) + (f" and {len(labels) - 4} more" if len(labels) > 4 else "")


def analyse(
    ctx: Ctx,
    d: ast.DecisionTableDecl,
    in_types: list[Type],
    out_types: list[Type],
    rows: list[ast.TableRow],
    bound: tuple,
) -> None:
    cols = []
    unmodelled: list[str] = []
    for i, (inp, t) in enumerate(zip(d.inputs, in_types)):
        cells = [r.cells[i] for r in rows]
        col = build_column(inp.name, t, cells, _domain(ctx, bound, inp, t), _step(bound, inp, t))
        cols.append(col)
        if not all(understood(c, col) for c in cells):
            unmodelled.append(inp.name)
    masks = [[cell_mask(cell, col) for cell, col in zip(r.cells, cols)] for r in rows]
    an = Analysis(cols, masks)
    policy = d.hit_policy
    everyone = (1 << len(rows)) - 1
    # A row with a cell no value passes matches nothing, under every policy.
    dead = 0
    for r, c in an.empty_rows():
        dead |= 1 << r
        ctx.warning(
            "NX444",
            f"{rows[r].label} can never match: its cell for {cols[c].name} accepts no value "
            f"{cols[c].name} can hold",
            rows[r].cells[c].span,
            hint="widen the cell, or remove the row",
        )
    if policy in ("unique", "any"):
        for i, j, common in an.overlaps():
            ri, rj = rows[i], rows[j]
            if policy == "any":
                if [render(x) for x in ri.results] == [render(x) for x in rj.results]:
                    continue
                ctx.error(
                    "NX410",
                    f"{ri.label} and {rj.label} both match "
                    f"({an.example(common)}) but give different results",
                    rj.span,
                    expected="the same results for overlapping rows under hit_policy any",
                    related=ri.span,
                )
                continue
            ctx.error(
                "NX401",
                f"{ri.label} and {rj.label} both match when {an.example(common)}",
                rj.span,
                expected="at most one matching row per input under hit_policy unique",
                hint="narrow one of the rows, or use hit_policy first",
                related=ri.span,
            )
    if policy != "collect":
        _gaps(ctx, d, an, everyone & ~dead)
    if policy in ("first", "priority"):
        _never_win(ctx, d, an, rows, out_types, everyone & ~dead)
    if unmodelled or an.incomplete:
        why = (
            f"the cells of {', '.join(unmodelled)} are not literals it can compare"
            if unmodelled
            else "its search for uncovered inputs reached its step limit"
        )
        ctx.warning(
            "NX446",
            f"check could not fully verify {d.name}: {why}, so gaps, overlaps or rows that "
            "never win may go unreported",
            d.span,
            hint="split the table, or make its inputs fewer or coarser",
        )


def _gaps(ctx: Ctx, d: ast.DecisionTableDecl, an: Analysis, everyone: int) -> None:
    """Inputs no row matches: under unique an error (NX402); under first, priority and any
    the table gives null there (its result type says so), a warning (NX445). Null inputs,
    which only `-` matches, are a warning under every policy."""
    cols = an.columns
    box = [c.non_null for c in cols]
    gaps = list(an.uncovered(box, everyone, limit=MAX_GAPS + 1))
    for n, gap in enumerate(gaps[:MAX_GAPS]):
        region = an.region(gap, box)
        text = f"no row of {d.name} matches when {an.example(gap, box)}"
        if region is not None:
            text += f" (uncovered: {region})"
        if n == MAX_GAPS - 1 and len(gaps) > MAX_GAPS:
            text += "; other inputs are uncovered too"
        if d.hit_policy == "unique":
            ctx.error(
                "NX402",
                text,
                d.span,
                expected="a row for every input combination under hit_policy unique",
                hint="add a row for this case (use - for any value)",
            )
        else:
            ctx.warning(
                "NX445",
                text + f", so {d.name} gives null there",
                d.span,
                hint="add a last row of - cells with the default result, or handle the "
                "null where the result is used",
            )
    if gaps or an.incomplete:
        return
    everything = [c.everything for c in cols]
    for gap in an.uncovered(everything, everyone, limit=1):
        nulls = [
            c.name for c, m in zip(cols, gap) if m == 1 << len(c.atoms) - 1 and c.type.nullable
        ]
        ctx.warning(
            "NX445",
            f"no row of {d.name} matches when {an.example(gap, everything)} (only a - cell "
            f"matches a null input), so {d.name} gives null there",
            d.span,
            hint=f"add a row with - for {', '.join(nulls) or 'that input'} giving the result "
            "for a missing value, or test it in an input column "
            "(known = x is not null, cells true/false)",
        )


def _never_win(
    ctx: Ctx,
    d: ast.DecisionTableDecl,
    an: Analysis,
    rows: list[ast.TableRow],
    out_types: list[Type],
    live: int,
) -> None:
    """Rows that can never decide the result: under first, every input they match is
    matched by earlier rows; under priority, by rows that win over them. One earlier row
    covering a first-table row stays an error (NX403, as before); the rest are warnings
    (NX444), so a table that compiled keeps compiling."""
    if d.hit_policy == "priority":
        keys = _priority_keys(ctx, d, out_types, rows)
    else:
        keys = [()] * len(rows)
    for j, rj in enumerate(rows):
        kj = keys[j]
        if not live >> j & 1 or kj is None:
            continue
        box = an.rows[j]
        winners = 0
        for i, ki in enumerate(keys):
            if i != j and ki is not None and (ki < kj or (ki == kj and i < j)):
                winners |= 1 << i
        beats = an.meeting(box) & winners & live
        if not beats:
            continue
        if d.hit_policy == "first":
            single = next(
                (
                    i
                    for i in range(j)
                    if beats >> i & 1 and all(b & ~a == 0 for a, b in zip(an.rows[i], box))
                ),
                None,
            )
            if single is not None:
                ctx.error(
                    "NX403",
                    f"{rj.label} is unreachable: {rows[single].label} matches every "
                    "input it does and comes first",
                    rj.span,
                    related=rows[single].span,
                )
                continue
        before = an.incomplete
        an.incomplete = False
        reachable = next(an.uncovered(box, beats), None) is not None
        cut, an.incomplete = an.incomplete, before or an.incomplete
        if reachable or cut:
            continue
        if d.hit_policy == "first":
            text = (
                f"{rj.label} can never be the first match: {_names(rows, beats)} together "
                "match every input it does and come first"
            )
        else:
            text = (
                f"{rj.label} can never win: {_names(rows, beats)} match every input it does "
                "and win over it in the priority order (or tie and come first)"
            )
        ctx.warning(
            "NX444",
            text,
            rj.span,
            hint="remove the row, or narrow the rows before it",
        )
