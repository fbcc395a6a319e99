"""Type inference and checking of the shared expression language."""

from __future__ import annotations

from typing import Callable, Optional

from nexflow_core import ast
from nexflow_core import typemodel as T
from nexflow_core.check.context import Ctx
from nexflow_core.check.functions import AGGREGATIONS, FUNCTIONS, WINDOW_FACTS, aggregate_type
from nexflow_core.diagnostics import Span
from nexflow_core.typemodel import Type

MAX_LONG = 2**63 - 1
MAX_INT = 2**31 - 1


class Scope:
    """What names mean inside an expression: explicit roots (inputs, aliases, lets, states),
    the record whose fields are in scope directly (`implicit`), and an optional hook for
    names nothing else binds (used for a ruleset's implicit record)."""

    def __init__(
        self,
        names: Optional[dict[str, Type]] = None,
        implicit: Optional[Type] = None,
        unbound: Optional[Callable[[str, ast.Path], Optional[Type]]] = None,
        aggregates: bool = False,
        dead: Optional[dict[str, str]] = None,
        excused: Optional[set[int]] = None,
        nonnull: frozenset[str] = frozenset(),
    ) -> None:
        self.names = dict(names or {})
        self.implicit = implicit
        self.unbound = unbound
        self.aggregates = aggregates
        # Names of a proc bound in an operator before this one -> the statement that ended it.
        self.dead = dict(dead or {})
        # Paths already reported by the caller (ids): not reported again.
        self.excused = excused or set()
        # Dotted paths known not to be null here (`x.f` in `if x is not null then x.f …`).
        self.nonnull = nonnull

    def child(self, **extra: Type) -> Scope:
        s = Scope(self.names, self.implicit, self.unbound, self.aggregates, nonnull=self.nonnull)
        s.names.update(extra)
        return s

    def narrowed(self, paths: frozenset[str]) -> Scope:
        """This scope where `paths` are known not to be null."""
        if not paths:
            return self
        s = Scope(self.names, self.implicit, self.unbound, self.aggregates, self.dead)
        s.excused = self.excused
        s.nonnull = self.nonnull | paths
        return s


def nonnull_if(cond: object, holds: bool) -> frozenset[str]:
    """The dotted paths that cannot be null where `cond` is known to be `holds`: `x is not
    null` (true) / `x is null` (false), through `and` (true), `or` (false) and `not`."""
    if isinstance(cond, ast.IsNull) and isinstance(cond.operand, ast.Path):
        return frozenset({cond.operand.dotted}) if cond.negated == holds else frozenset()
    if isinstance(cond, ast.Unary) and cond.op == "not":
        return nonnull_if(cond.operand, not holds)
    if isinstance(cond, ast.Binary) and cond.op == ("and" if holds else "or"):
        return nonnull_if(cond.left, holds) | nonnull_if(cond.right, holds)
    return frozenset()


def render(e: object) -> str:
    """A canonical text of an expression (used to compare conditions and in messages)."""
    if isinstance(e, ast.IntLit):
        return str(e.value)
    if isinstance(e, ast.DecimalLit):
        return e.text
    if isinstance(e, ast.StringLit):
        return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(e, ast.BoolLit):
        return "true" if e.value else "false"
    if isinstance(e, ast.NullLit):
        return "null"
    if isinstance(e, ast.DurationLit):
        return f"{e.amount} {e.unit}"
    if isinstance(e, ast.ListLit):
        return "[" + ", ".join(render(i) for i in e.items) + "]"
    if isinstance(e, ast.Path):
        return e.dotted
    if isinstance(e, ast.Call):
        return f"{e.name}(" + ", ".join(render(a) for a in e.args) + ")"
    if isinstance(e, ast.Binary):
        return f"({render(e.left)} {e.op} {render(e.right)})"
    if isinstance(e, ast.Unary):
        return f"({e.op} {render(e.operand)})" if e.op == "not" else f"(-{render(e.operand)})"
    if isinstance(e, ast.InList):
        return f"({render(e.operand)} {'not in' if e.negated else 'in'} {render(e.items)})"
    if isinstance(e, ast.IsNull):
        return f"({render(e.operand)} is {'not ' if e.negated else ''}null)"
    if isinstance(e, ast.IfExpr):
        return f"(if {render(e.cond)} then {render(e.then)} else {render(e.otherwise)})"
    return "?"


def decimal_type(text: str) -> Type:
    digits = text.lstrip("-")
    whole, _, frac = digits.partition(".")
    whole = whole.lstrip("0") or "0"
    return T.decimal(max(len(whole) + len(frac), 1), len(frac))


class ExprChecker:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.sy = ctx.symbols
        # id(path) -> (schema, field) for a path that reads a field of a schema's record: its
        # @enum texts are checked where the path is compared with text (NX442).
        self.owners: dict[int, tuple[str, str]] = {}

    # entry points --------------------------------------------------------------------
    def infer(self, e: object, scope: Scope) -> Type:
        t = self._infer(e, scope)
        self.ctx.expr_types[id(e)] = t
        return t

    def condition(self, e: ast.Expr, scope: Scope, what: str = "a condition") -> Type:
        t = self.infer(e, scope)
        if t.kind not in ("boolean", "any"):
            self.ctx.error(
                "NX302",
                f"{what} must be true or false, but this is {t.display()}",
                e.span,
                expected="a comparison such as amount > 100, or a boolean field",
            )
        return t

    def expect(self, e: ast.Expr, scope: Scope, want: Type, what: str) -> Type:
        t = self.infer(e, scope)
        self.check_assign(t, want, e, what)
        return t

    def check_assign(self, t: Type, want: Type, e: ast.Expr, what: str) -> None:
        span = e.span
        if want.kind == "enum" and t.kind == "string" and isinstance(e, ast.StringLit):
            self.enum_member(want, e.value, span)
            return
        if want.kind == "decimal" and t.kind == "double":
            self.ctx.error(
                "NX303",
                f"{what} is an exact decimal but the value is an approximate double",
                span,
                expected=f"a {want.display()} value",
                hint="use to_decimal(…) to convert on purpose",
            )
            return
        if not T.assignable(t, want):
            self.ctx.error(
                "NX305",
                f"{what} is {want.display()} but the value is {t.display()}",
                span,
                expected=f"a {want.display()} value",
            )
        elif (t.nullable or t.kind == "null") and not want.nullable and t.kind != "any":
            # The literal null too: `tier = null` or a table row's `-> null` for a required
            # field or output builds, and then every record it makes breaks its schema.
            self.ctx.warning(
                "NX309",
                f"{what} is required but the value "
                + ("is null" if t.kind == "null" else "may be null"),
                span,
                hint="use coalesce(value, default) or mark the field optional with ?",
            )

    def enum_member(self, enum_t: Type, value: str, span: Span) -> None:
        sig = self.sy.enum(enum_t.name or "")
        if sig is not None and value not in sig.members:
            self.ctx.error(
                "NX305",
                f"'{value}' is not a value of {enum_t.name}",
                span,
                expected=", ".join(sig.members),
            )

    # inference -----------------------------------------------------------------------
    def _infer(self, e: object, scope: Scope) -> Type:
        if isinstance(e, ast.Path):
            return self.path(e, scope)
        if isinstance(e, ast.Binary):
            return self.binary(e, scope)
        if isinstance(e, ast.IntLit):
            v = abs(e.value)
            if v > MAX_LONG:
                self.ctx.error(
                    "NX305",
                    "this number is too large for a whole-number field",
                    e.span,
                    expected=f"at most {MAX_LONG}",
                    hint="write it as a decimal (e.g. 1e20 as 100000000000000000000.0)",
                )
                return T.ANY
            return T.LONG if v > MAX_INT else T.INT
        if isinstance(e, ast.DecimalLit):
            t = decimal_type(e.text)
            if (t.precision or 0) > T.MAX_PRECISION:
                self.ctx.error(
                    "NX310",
                    "this decimal number has more than 38 digits",
                    e.span,
                    expected="at most 38 digits",
                )
                return T.ANY
            return t
        if isinstance(e, ast.StringLit):
            return T.STRING
        if isinstance(e, ast.BoolLit):
            return T.BOOLEAN
        if isinstance(e, ast.NullLit):
            return T.NULL
        if isinstance(e, ast.DurationLit):
            return T.DURATION
        if isinstance(e, ast.ListLit):
            return self.list_lit(e, scope)
        if isinstance(e, ast.Call):
            return self.call(e, scope)
        if isinstance(e, ast.Unary):
            t = self.infer(e.operand, scope)
            if e.op == "not":
                if t.kind not in ("boolean", "any"):
                    self.ctx.error(
                        "NX302",
                        f"not needs true or false, but this is {t.display()}",
                        e.operand.span,
                        expected="a condition",
                    )
                return T.with_nullable(T.BOOLEAN, t.nullable)
            if t.kind not in (*T.NUMERIC, "duration", "any"):
                self.ctx.error(
                    "NX301",
                    f"cannot negate {t.display()}",
                    e.span,
                    expected="a number or a duration",
                )
                return T.ANY
            return t
        if isinstance(e, ast.InList):
            return self.in_list(e, scope)
        if isinstance(e, ast.IsNull):
            self.infer(e.operand, scope)
            return T.BOOLEAN
        if isinstance(e, ast.IfExpr):
            self.condition(e.cond, scope, "the if condition")
            a = self.infer(e.then, scope.narrowed(nonnull_if(e.cond, True)))
            b = self.infer(e.otherwise, scope.narrowed(nonnull_if(e.cond, False)))
            u = T.unify(a, b)
            if u is None:
                self.ctx.error(
                    "NX301",
                    f"the two branches differ: {a.display()} and {b.display()}",
                    e.span,
                    expected="both branches of the same type",
                )
                return T.ANY
            return u
        return T.ANY

    def enum_word(self, e: object, other: Type, scope: Scope) -> Optional[Type]:
        """A bare member name (`ATM`) compared with an enum value means that member."""
        if other.kind != "enum" or not isinstance(e, ast.Path) or len(e.parts) != 1:
            return None
        word = e.parts[0]
        if word in scope.names or (
            scope.implicit is not None and self.sy.field_type(scope.implicit, word) is not None
        ):
            return None
        sig = self.sy.enum(other.name or "")
        if sig is None or word not in sig.members:
            return None
        t = Type("enum", name=other.name)
        self.ctx.expr_types[id(e)] = t
        return t

    def list_lit(self, e: ast.ListLit, scope: Scope, enum_t: Optional[Type] = None) -> Type:
        out: Type = T.ANY
        for item in e.items:
            t = (self.enum_word(item, enum_t, scope) if enum_t is not None else None) or self.infer(
                item, scope
            )
            u = T.unify(out, t)
            if u is None:
                self.ctx.error(
                    "NX301",
                    f"list items of different types: {out.display()} and {t.display()}",
                    item.span,
                    expected="items of one type",
                )
                return T.list_of(T.ANY)
            out = u
        return T.list_of(out)

    def path(self, e: ast.Path, scope: Scope) -> Type:
        root = e.parts[0]
        rest = e.parts[1:]
        t: Optional[Type] = scope.names.get(root)
        if t is None and scope.implicit is not None:
            t = self.sy.field_type(scope.implicit, root)
            if t is not None and not rest and scope.implicit.kind == "record":
                self.owners[id(e)] = (scope.implicit.name or "", root)
            if t is not None and scope.aggregates:
                # `aggregate into` computes one record per window: a field of the window's
                # records has no one value there, only aggregations of it.
                self.ctx.error(
                    "NX435",
                    f"'{root}' is a field of each record of the window: read it inside an "
                    "aggregation",
                    e.span,
                    expected=f"first({e.dotted}), last({e.dotted}) or another aggregation",
                )
        if t is None:
            en = self.sy.enum(root)
            if en is not None and len(rest) == 1:
                entry = self.sy.types[root]
                self.ctx.use(entry, e.span)
                if rest[0] not in en.members:
                    self.ctx.error(
                        "NX204",
                        f"{root} has no value '{rest[0]}'",
                        e.span,
                        expected=", ".join(en.members),
                    )
                return Type("enum", name=root)
        if t is None and scope.unbound is not None:
            t = scope.unbound(root, e)
            if t is None:
                return T.ANY
        if t is None and root in scope.dead and id(e) in scope.excused:
            return T.ANY
        if t is None and root in scope.dead:
            self.ctx.error(
                "NX421",
                f"'{root}' belongs to the operator before {scope.dead[root]}: it cannot be read "
                "after it",
                e.span,
                expected=f"the reads of '{root}' before {scope.dead[root]}",
                hint="carry the value in the record (a field set by `map into` or a transform) "
                "to use it further down",
            )
            return T.ANY
        if t is None:
            cands = list(scope.names)
            if scope.implicit is not None:
                cands += [n for n, _ in self.sy.fields_of(scope.implicit) or []]
            self.ctx.error(
                "NX211",
                f"'{root}' is not a field or name known here",
                e.span,
                expected=_known(cands),
                hint=self.ctx.did_you_mean(root, cands),
            )
            return T.ANY
        if root in scope.nonnull:
            t = T.with_nullable(t, False)
        for i, part in enumerate(rest):
            if t.kind == "any":
                return T.ANY
            ft = self.sy.field_type(t, part)
            if ft is None:
                fields = self.sy.fields_of(t)
                names = [n for n, _ in fields] if fields is not None else []
                where = ".".join(e.parts[: i + 1])
                if fields is None:
                    # A name bound to a number (a `collect sum|min|max|count` table's result
                    # is the aggregate itself, not a record of the output) read like a record.
                    bare = i == 0 and root in scope.names and t.kind in T.NUMERIC
                    self.ctx.error(
                        "NX204",
                        f"'{where}' is {t.display()}, which has no fields",
                        e.span,
                        expected="a record",
                        hint=f"'{root}' is the value itself (a collect sum|min|max|count table "
                        f"binds the aggregate, not a record): write {root}"
                        if bare
                        else None,
                    )
                else:
                    self.ctx.error(
                        "NX204",
                        f"{t.display()} has no field '{part}'",
                        e.span,
                        expected=_known(names),
                        hint=self.ctx.did_you_mean(part, names),
                    )
                return T.ANY
            if i == len(rest) - 1 and t.kind == "record":
                self.owners[id(e)] = (t.name or "", part)
            t = ft
            if scope.nonnull and ".".join(e.parts[: i + 2]) in scope.nonnull:
                t = T.with_nullable(t, False)
        return t

    def enum_texts(self, e: object, lit: object, verdict: str) -> None:
        """NX442: a text compared with a field whose @enum does not allow it."""
        if not isinstance(lit, ast.StringLit) or id(e) not in self.owners:
            return
        schema, field = self.owners[id(e)]
        sig = self.sy.field_sig(schema, field)
        if sig is None or not sig.allowed or lit.value in sig.allowed:
            return
        self.ctx.warning(
            "NX442",
            f'"{lit.value}" is not a value @enum allows for {field} ({schema}): {verdict}',
            lit.span,
            expected=", ".join(f'"{v}"' for v in sig.allowed),
            hint=self.ctx.did_you_mean(lit.value, list(sig.allowed)),
        )

    def binary(self, e: ast.Binary, scope: Scope) -> Type:
        op = e.op
        if op in ("and", "or"):
            a = self.condition(e.left, scope, f"the left side of {op}")
            # The right side is only evaluated when the left one did not decide.
            right = scope.narrowed(nonnull_if(e.left, op == "and"))
            b = self.condition(e.right, right, f"the right side of {op}")
            return T.with_nullable(T.BOOLEAN, a.nullable or b.nullable)
        a = self.infer(e.left, scope)
        b = self.enum_word(e.right, a, scope) or self.infer(e.right, scope)
        if a.kind == "any" or b.kind == "any":
            return T.BOOLEAN if op in ("==", "!=", "<", "<=", ">", ">=") else T.ANY
        if op in ("==", "!=", "<", "<=", ">", ">="):
            self.compare(e, a, b)
            return T.BOOLEAN
        nullable = a.nullable or b.nullable
        if T.is_numeric(a) and T.is_numeric(b):
            r = T.numeric_result(a, b, op)
            if r is None:
                self.ctx.error(
                    "NX303",
                    f"'{op}' mixes an exact decimal with an approximate double",
                    e.span,
                    expected="both sides decimal (or both double)",
                    hint="convert with to_decimal(…) or to_double(…)",
                )
                return T.ANY
            return T.with_nullable(r, nullable)
        ka, kb = a.kind, b.kind
        if op == "+" and ka == "string" and kb == "string":
            return T.with_nullable(T.STRING, nullable)
        if op in ("+", "-") and ka in ("datetime", "date") and kb == "duration":
            return T.with_nullable(a, nullable)
        if op == "-" and ka == kb == "datetime":
            return T.with_nullable(T.DURATION, nullable)
        if op in ("+", "-") and ka == kb == "duration":
            return T.with_nullable(T.DURATION, nullable)
        if op in ("*", "/") and ka == "duration" and kb in ("int", "long"):
            return T.with_nullable(T.DURATION, nullable)
        hint = "use concat(…) or to_string(…) to build text" if "string" in (ka, kb) else None
        self.ctx.error(
            "NX301",
            f"cannot apply '{op}' to {a.display()} and {b.display()}",
            e.span,
            expected="numbers on both sides",
            hint=hint,
        )
        return T.ANY

    def compare(self, e: ast.Binary, a: Type, b: Type) -> None:
        op = e.op
        if a.kind == "null" or b.kind == "null":
            self.ctx.error(
                "NX301",
                f"'{op} null' never matches",
                e.span,
                expected="is null / is not null",
                hint="write `x is null` or `x is not null`",
            )
            return
        if op in ("==", "!="):
            verdict = "this is never true" if op == "==" else "this is always true"
            self.enum_texts(e.left, e.right, verdict)
            self.enum_texts(e.right, e.left, verdict)
        if a.kind == "enum" and b.kind == "string" and isinstance(e.right, ast.StringLit):
            self.enum_member(a, e.right.value, e.right.span)
            return
        if b.kind == "enum" and a.kind == "string" and isinstance(e.left, ast.StringLit):
            self.enum_member(b, e.left.value, e.left.span)
            return
        ok = (
            (T.is_numeric(a) and T.is_numeric(b))
            or T.same(a, b)
            or {a.kind, b.kind} == {"date", "datetime"}
        )
        if (
            ok
            and op not in ("==", "!=")
            and a.kind in ("boolean", "record", "struct", "list", "map", "uuid", "bytes")
        ):
            self.ctx.error(
                "NX301", f"'{op}' does not order {a.display()} values", e.span, expected="== or !="
            )
            return
        if ok and {a.kind, b.kind} == {"decimal", "double"}:
            # As in arithmetic: no exact rule compares an approximate double with a decimal.
            self.ctx.error(
                "NX303",
                f"'{op}' compares an exact decimal with an approximate double",
                e.span,
                expected="both sides decimal (or both double)",
                hint="convert with to_decimal(…) or to_double(…)",
            )
            return
        if not ok:
            self.ctx.error(
                "NX301",
                f"cannot compare {a.display()} with {b.display()}",
                e.span,
                expected=f"a {a.display()} value on the right",
            )

    def in_list(self, e: ast.InList, scope: Scope) -> Type:
        a = self.infer(e.operand, scope)
        if a.kind == "enum" and isinstance(e.items, ast.ListLit):
            lt = self.list_lit(e.items, scope, a)
            self.ctx.expr_types[id(e.items)] = lt
        else:
            lt = self.infer(e.items, scope)
        if lt.kind == "any" or a.kind == "any":
            return T.BOOLEAN
        if lt.kind != "list":
            self.ctx.error(
                "NX301",
                f"'in' needs a list, not {lt.display()}",
                e.items.span,
                expected='a list such as ["USD", "EUR"]',
            )
            return T.BOOLEAN
        el = lt.args[0]
        if isinstance(e.items, ast.ListLit):
            for item in e.items.items:
                self.enum_texts(e.operand, item, "no value of the field is this item")
        if a.kind == "enum" and el.kind == "string" and isinstance(e.items, ast.ListLit):
            for item in e.items.items:
                if isinstance(item, ast.StringLit):
                    self.enum_member(a, item.value, item.span)
            return T.BOOLEAN
        if {a.kind, el.kind} == {"decimal", "double"}:
            self.ctx.error(
                "NX303",
                f"`in` looks for {a.display()} in a list of {el.display()}: an exact decimal "
                "and an approximate double do not compare",
                e.span,
                expected="both decimal (or both double)",
                hint="convert with to_decimal(…) or to_double(…)",
            )
            return T.BOOLEAN
        if el.kind != "any" and not (T.is_numeric(a) and T.is_numeric(el)) and not T.same(a, el):
            self.ctx.error(
                "NX301",
                f"cannot look for {a.display()} in a list of {el.display()}",
                e.span,
                expected=f"a list of {a.display()} values",
            )
        return T.BOOLEAN

    def call(self, e: ast.Call, scope: Scope) -> Type:
        name = e.name
        if (
            scope.aggregates
            and name in AGGREGATIONS
            and not (name in ("min", "max") and len(e.args) == 2)
        ):
            inner = Scope(scope.names, scope.implicit, scope.unbound, False)
            args = [self.infer(a, inner) for a in e.args]
            r = aggregate_type(name, args)
            if isinstance(r, str):
                self.ctx.error("NX307", r, e.span, expected=AGGREGATIONS[name])
                return T.ANY
            return r
        fn = FUNCTIONS.get(name)
        args = [self.infer(a, scope) for a in e.args]
        if fn is not None:
            if not fn.min_args <= len(args) <= fn.max_args:
                self.ctx.error(
                    "NX307",
                    f"{name} takes {_count(fn.min_args, fn.max_args)}, not {len(args)}",
                    e.span,
                    expected=fn.signature,
                )
                return T.ANY
            r = fn.rule(args)
            if isinstance(r, str):
                self.ctx.error("NX307", f"{name}: {r}", e.span, expected=fn.signature)
                return T.ANY
            return r
        entry = self.sy.types.get(name)
        if entry is not None:
            if not self.ctx.use(entry, e.span):
                return T.ANY
            if entry.what == "transform":
                sig = entry.sig
                if len(args) != len(sig.inputs):
                    self.ctx.error(
                        "NX307",
                        f"transform {name} takes {len(sig.inputs)} input(s), not {len(args)}",
                        e.span,
                        expected=", ".join(f"{p.name}: {p.type.display()}" for p in sig.inputs),
                    )
                    return T.ANY
                for a, t, p in zip(e.args, args, sig.inputs):
                    self.check_assign(t, self.sy.resolve(p.type), a, f"input '{p.name}' of {name}")
                return self.sy.resolve(sig.output)
            self.ctx.error(
                "NX209",
                f"{name} is {entry.what}, not a function",
                e.span,
                expected="a catalogue function or a transform",
            )
            return T.ANY
        if name in AGGREGATIONS:
            what = "is a fact of a window" if name in WINDOW_FACTS else "aggregates a window"
            self.ctx.error(
                "NX408",
                f"{name}(…) {what}; it is only allowed in `aggregate into`",
                e.span,
                expected="a window followed by aggregate",
            )
            return T.ANY
        cands = list(FUNCTIONS) + [n for n, x in self.sy.types.items() if x.what == "transform"]
        self.ctx.error(
            "NX209",
            f"unknown function '{name}'",
            e.span,
            expected="a function from the catalogue (docs/language/expressions.md) or a transform",
            hint=self.ctx.did_you_mean(name, cands),
        )
        return T.ANY


def _count(lo: int, hi: int) -> str:
    if lo == hi:
        return f"{lo} argument(s)"
    return f"{lo} to {hi} arguments"


def _known(names: list[str]) -> Optional[str]:
    if not names:
        return None
    names = sorted(set(names))
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return f"one of: {shown}"
