"""Lowering of checked expressions into the typed render model (model.Expr).

The checker already inferred a type for every expression node (`CheckedProject.type_of`); this
module makes the meaning explicit for targets: names become `This`/`Var`/`Field`/`EnumValue`,
and each implicit widening becomes a `Convert`, so operands of an operation always share one
type. Anything a target could not render faithfully raises NX901 (never wrong code); what the
checker refuses raises CheckerMissed (an internal error: the checker owns every user error).

Semantics fixed here (documented in docs/language/expressions.md, "Null and number rules"):
- arithmetic on decimals is exact; `/` rounds half-even to the scale the checker gave the
  quotient (max(scale of operands, 6)); storing into decimal(p,s) rounds half-even to s and
  fails when the integer digits do not fit (`Fit`);
- whole-number arithmetic fails on overflow instead of wrapping; whole-number `/` is a decimal
  division (the checker types it decimal(38,6));
- a comparison, `in` or `not in` with a null side is false; `and`/`or`/`not` and conditions
  treat null as false; arithmetic and functions on a null argument give null (except coalesce,
  is null, and the collection tests);
- date compared with datetime: the date is the start of its day in UTC.
"""

from __future__ import annotations

from typing import Callable, Optional

from nexflow_core import ast
from nexflow_core import typemodel as T
from nexflow_core.check.functions import AGGREGATIONS
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span
from nexflow_core.generate import model
from nexflow_core.typemodel import Type

NUMERIC_RANK = {"int": 0, "long": 1, "decimal": 2, "double": 3}
ARITH_OPS = ("+", "-", "*", "/", "%")
COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")

# Functions whose arguments all take the call's result type (so a mix of int and decimal is
# computed in decimal, of int and long in long, …).
_UNIFYING = ("coalesce", "min", "max")


def unsupported(span: Span, what: str) -> NexflowError:
    return NexflowError(
        [
            Diagnostic(
                code="NX901",
                severity="error",
                message=f"{what} is not supported by the generator yet",
                span=span,
                hint="use a supported construct (see docs/language/)",
            )
        ]
    )


class CheckerMissed(Exception):
    """A program error that reached the generator: the checker reports it with its own code,
    so this is a bug in Nexflow (`nexflow build` reports it as an internal error, exit 2),
    never NX901 (which is only for what the target cannot render)."""


def checker_missed(span: Span, code: str, what: str) -> CheckerMissed:
    """The failure of a guard for something the checker refuses with `code`."""
    return CheckerMissed(
        f"{span.location()}: {what} reached the generator, but the checker refuses it ({code}) "
        "and should have reported it"
    )


def generator_bug(span: Span, what: str) -> CheckerMissed:
    """The failure of a guard no program reaches (the generator's own invariant)."""
    return CheckerMissed(f"{span.location()}: {what} reached a guard no program should reach")


def lookups_unavailable(span: Span, transform: str, why: str, expected: str) -> NexflowError:
    """NX902: a call of a transform with lookups where the job cannot read the store first."""
    return NexflowError(
        [
            Diagnostic(
                code="NX902",
                severity="error",
                message=f"transform {transform} has lookups, {why}",
                span=span,
                expected=expected,
                hint="see docs/language/transform.md, Lookups",
            )
        ]
    )


CALL_SITES = "a call in a proc's `map into`, filter or route condition, or `transform using`"


def plain(t: Type) -> Type:
    """`t` without nullability: the generator's types say what a value is, not whether it
    may be missing (every target value may be null)."""
    return T.with_nullable(t, False) if t.nullable else t


def _same_repr(a: Type, b: Type) -> bool:
    """Do values of a and b have one representation (no conversion needed)?"""
    if a.kind != b.kind:
        return False
    if a.kind in ("record", "enum"):
        return a.name == b.name
    if a.kind in ("list", "map"):
        return len(a.args) == len(b.args) and all(_same_repr(x, y) for x, y in zip(a.args, b.args))
    return True


def common_numeric(a: Type, b: Type) -> Type:
    """The type two numbers are compared or combined in."""
    ka = a.kind if a.kind in NUMERIC_RANK else "int"
    kb = b.kind if b.kind in NUMERIC_RANK else "int"
    top = ka if NUMERIC_RANK[ka] >= NUMERIC_RANK[kb] else kb
    if top == "decimal":
        return T.decimal(T.MAX_PRECISION, max(_scale(a), _scale(b)))
    return Type(top)


def _scale(t: Type) -> int:
    return t.scale or 0 if t.kind == "decimal" else 0


class Scope:
    """Names an expression may use: explicit roots and, optionally, a record whose fields are
    in scope by their bare names (`implicit`). `nullable` names may hold null (field reads on
    them are null-safe). `aggregations`, when set, collects the window aggregations of an
    `aggregate into` mapping (each becomes a Var named after its slot). `lifted` maps a
    call of a transform with lookups (by `id` of its ast.Call) to the names of the values the
    proc looked up for it, one per lookup of the transform; a call not in it is refused."""

    def __init__(
        self,
        names: Optional[dict[str, Type]] = None,
        implicit: Optional[Type] = None,
        nullable: Optional[set] = None,
        aggregations: Optional[list] = None,
        lifted: Optional[dict[int, list[str]]] = None,
    ) -> None:
        self.names: dict[str, Type] = dict(names or {})
        self.implicit = implicit
        self.nullable: set = set(nullable or ())
        self.aggregations = aggregations
        self.lifted: dict[int, list[str]] = dict(lifted or {})


class Lowerer:
    """Lowers expressions of one checked project."""

    def __init__(
        self,
        type_of: Callable[[object], Optional[Type]],
        resolve: Callable[[Type], Type],
        field_type: Callable[[Type, str], Optional[Type]],
        is_enum: Callable[[str], bool],
        transform_package: Callable[[str], Optional[str]],
        transform_params: Callable[[str], list] = lambda name: [],
        transform_lookups: Callable[[str], list] = lambda name: [],
    ) -> None:
        """`transform_lookups(name)`: the types of the records a transform's lookups find
        (one per lookup, in order; empty for a transform without lookups)."""
        self._type_of = type_of
        self._resolve = resolve
        self._field_type = field_type
        self._is_enum = is_enum
        self._transform_package = transform_package
        self._transform_params = transform_params
        self._transform_lookups = transform_lookups

    # types -------------------------------------------------------------------------------
    def type_of(self, node: ast.Expr) -> Type:
        t = self._type_of(node)
        if t is None or t.kind == "any":
            # The checker types every expression it accepts (`any` only after an error).
            raise generator_bug(node.span, "an expression the checker gave no type")
        return plain(self._resolve(t))

    # conversions -------------------------------------------------------------------------
    def coerce(self, e: model.Expr, to: Type, span: Span) -> model.Expr:
        """`e` as a value of type `to` (a widening the checker allowed)."""
        to = plain(to)
        src = e.type
        if to.kind == "any" or _same_repr(src, to):
            return e
        if isinstance(e, model.Lit) and e.value is None:
            return model.Lit(value=None, type=to)
        if src.kind == "null":
            return model.Lit(value=None, type=to)
        if isinstance(e, model.Lit) and src.kind == "string" and to.kind == "enum":
            # A text literal stored as an enum (`channel = "ATM"`): the checker saw it names a
            # member.
            return model.EnumValue(member=str(e.value), type=to)
        if isinstance(e, model.Lit) and src.kind == "int" and to.kind == "long":
            return model.Lit(value=e.value, type=to)
        if isinstance(e, model.Lit) and src.kind in ("int", "long") and to.kind == "decimal":
            return model.Lit(value=str(e.value), type=T.decimal(max(len(str(e.value)), 1), 0))
        if isinstance(e, model.ListOf) and to.kind == "list" and src.kind == "list":
            items = [self.coerce(i, to.args[0], span) for i in e.items]
            return model.ListOf(items=items, type=to)
        if src.kind == "list" and to.kind == "list" and src.args[0].kind == "any":
            return model.Convert(operand=e, type=to)
        allowed = (
            (src.kind in ("int", "long") and to.kind in ("long", "double", "decimal"))
            or (src.kind == "decimal" and to.kind == "decimal")
            or (src.kind == "date" and to.kind == "datetime")
            or (src.kind == "enum" and to.kind == "string")
        )
        if not allowed:
            code = "NX303" if {src.kind, to.kind} == {"decimal", "double"} else "NX305"
            raise checker_missed(span, code, f"using {src.display()} as {to.display()}")
        return model.Convert(operand=e, type=to)

    def fit(self, e: model.Expr, to: Type, span: Span) -> model.Expr:
        """`e` stored into a slot of type `to`: converted, and rounded to a decimal's scale."""
        to = plain(to)
        out = self.coerce(e, to, span)
        if to.kind == "decimal" and to.scale is not None and to.precision is not None:
            if isinstance(out, model.Lit) and out.value is None:
                return out
            return model.Fit(operand=out, type=to)
        return out

    # expressions -------------------------------------------------------------------------
    def expr(self, node: ast.Expr, scope: Scope) -> model.Expr:
        if isinstance(node, ast.Path):
            return self.path(node, scope)
        if isinstance(node, ast.IntLit):
            return model.Lit(value=node.value, type=self.type_of(node))
        if isinstance(node, ast.DecimalLit):
            return model.Lit(value=node.text, type=self.type_of(node))
        if isinstance(node, ast.StringLit):
            return model.Lit(value=node.value, type=T.STRING)
        if isinstance(node, ast.BoolLit):
            return model.Lit(value=node.value, type=T.BOOLEAN)
        if isinstance(node, ast.NullLit):
            return model.Lit(value=None, type=T.NULL)
        if isinstance(node, ast.DurationLit):
            return model.Lit(value=node.millis, type=T.DURATION)
        if isinstance(node, ast.ListLit):
            t = self.type_of(node)
            items = [self.coerce(self.expr(i, scope), t.args[0], i.span) for i in node.items]
            return model.ListOf(items=items, type=t)
        if isinstance(node, ast.Binary):
            return self.binary(node, scope)
        if isinstance(node, ast.Unary):
            operand = self.expr(node.operand, scope)
            if node.op == "not":
                return model.Unary(op="not", operand=operand, type=T.BOOLEAN)
            return model.Unary(op="neg", operand=operand, type=operand.type)
        if isinstance(node, ast.InList):
            return self.in_list(node, scope)
        if isinstance(node, ast.IsNull):
            return model.IsNull(
                operand=self.expr(node.operand, scope), negated=node.negated, type=T.BOOLEAN
            )
        if isinstance(node, ast.IfExpr):
            t = self.type_of(node)
            return model.If(
                cond=self.expr(node.cond, scope),
                then=self.coerce(self.expr(node.then, scope), t, node.then.span),
                otherwise=self.coerce(self.expr(node.otherwise, scope), t, node.otherwise.span),
                type=t,
            )
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        # Every kind of expression node is lowered above.
        raise generator_bug(node.span, "this expression")

    def path(self, node: ast.Path, scope: Scope) -> model.Expr:
        root, rest = node.parts[0], node.parts[1:]
        e: model.Expr
        if root in scope.names:
            e = model.Var(
                name=root,
                type=plain(self._resolve(scope.names[root])),
                nullable=root in scope.nullable,
            )
        elif scope.implicit is not None and self._field_type(scope.implicit, root) is not None:
            ft = self._field_type(scope.implicit, root)
            assert ft is not None
            e = model.Field(
                obj=model.This(type=scope.implicit), name=root, type=plain(self._resolve(ft))
            )
        elif self._is_enum(root) and len(rest) == 1:
            return model.EnumValue(member=rest[0], type=Type("enum", name=root))
        elif not rest and (member_type := self._bare_member(node)) is not None:
            # A bare enum member compared with an enum value (`channel == ATM`).
            return model.EnumValue(member=root, type=member_type)
        else:
            raise checker_missed(node.span, "NX211", f"the name '{node.dotted}'")
        for part in rest:
            ft = self._field_type(e.type, part)
            if ft is None:
                raise checker_missed(node.span, "NX204", f"the field path '{node.dotted}'")
            e = model.Field(obj=e, name=part, type=plain(self._resolve(ft)))
        return e

    def _bare_member(self, node: ast.Path) -> Optional[Type]:
        t = self._type_of(node)
        if t is None:
            return None
        t = plain(self._resolve(t))
        return t if t.kind == "enum" else None

    def binary(self, node: ast.Binary, scope: Scope) -> model.Expr:
        op = node.op
        left = self.expr(node.left, scope)
        right = self.expr(node.right, scope)
        if op in ("and", "or"):
            operands: list[model.Expr] = []
            for side in (left, right):
                if isinstance(side, model.Logical) and side.op == op:
                    operands.extend(side.operands)
                else:
                    operands.append(side)
            return model.Logical(op=op, operands=operands, type=T.BOOLEAN)
        if op in COMPARE_OPS:
            left, right = self.unify_pair(left, right, node.span)
            return model.Compare(op=op, left=left, right=right, type=T.BOOLEAN)
        if op not in ARITH_OPS:
            # The grammar has no other binary operator.
            raise generator_bug(node.span, f"the operator '{op}'")
        t = self.type_of(node)
        a, b = left.type, right.type
        if t.kind in NUMERIC_RANK and a.kind in NUMERIC_RANK and b.kind in NUMERIC_RANK:
            operand_type = t if t.kind != "decimal" else common_numeric(a, b)
            if t.kind == "decimal" and operand_type.kind != "decimal":
                # whole numbers divided: a decimal division
                operand_type = T.decimal(T.MAX_PRECISION, 0)
            left = self.coerce(left, operand_type, node.left.span)
            right = self.coerce(right, operand_type, node.right.span)
            return model.Arith(op=op, left=left, right=right, operand_type=operand_type, type=t)
        if op == "+" and t.kind == "string":
            return model.Arith(op=op, left=left, right=right, operand_type=T.STRING, type=t)
        if t.kind in ("datetime", "date", "duration") and op in ("+", "-", "*", "/"):
            return model.Arith(op=op, left=left, right=right, operand_type=a, type=t)
        raise checker_missed(node.span, "NX301", f"'{op}' on {a.display()} and {b.display()}")

    def unify_pair(
        self, left: model.Expr, right: model.Expr, span: Span
    ) -> tuple[model.Expr, model.Expr]:
        a, b = left.type, right.type
        if a.kind == "null" or b.kind == "null":
            return left, right
        if a.kind in NUMERIC_RANK and b.kind in NUMERIC_RANK:
            c = common_numeric(a, b)
            return self.coerce(left, c, span), self.coerce(right, c, span)
        if {a.kind, b.kind} == {"date", "datetime"}:
            return self.coerce(left, T.DATETIME, span), self.coerce(right, T.DATETIME, span)
        if a.kind == "enum" and b.kind == "string":
            return self.coerce(left, T.STRING, span), right
        if b.kind == "enum" and a.kind == "string":
            return left, self.coerce(right, T.STRING, span)
        return left, right

    def in_list(self, node: ast.InList, scope: Scope) -> model.Expr:
        operand = self.expr(node.operand, scope)
        items = self.expr(node.items, scope)
        if items.type.kind != "list":
            raise checker_missed(
                node.items.span, "NX301", "`in` over something that is not a list"
            )
        el = items.type.args[0]
        if el.kind == "any" and isinstance(items, model.ListOf) and not items.items:
            el = operand.type
            items = model.ListOf(items=[], type=T.list_of(el))
        a = operand.type
        if a.kind == "enum" and el.kind == "string":
            operand = self.coerce(operand, T.STRING, node.operand.span)
        elif a.kind in NUMERIC_RANK and el.kind in NUMERIC_RANK:
            c = common_numeric(a, el)
            operand = self.coerce(operand, c, node.operand.span)
            items = self.coerce(items, T.list_of(c), node.items.span)
        elif {a.kind, el.kind} == {"date", "datetime"}:
            operand = self.coerce(operand, T.DATETIME, node.operand.span)
            items = self.coerce(items, T.list_of(T.DATETIME), node.items.span)
        return model.InList(operand=operand, items=items, negated=node.negated, type=T.BOOLEAN)

    def call(self, node: ast.Call, scope: Scope) -> model.Expr:
        t = self.type_of(node)
        name = node.name
        if scope.aggregations is not None and name in AGGREGATIONS and not (
            name in ("min", "max") and len(node.args) == 2
        ):
            return self.aggregation(node, t, scope)
        args = [self.expr(a, scope) for a in node.args]
        package = self._transform_package(name)
        if package is not None:
            params = self._transform_params(name)
            args = [self.fit(a, p, s.span) for a, p, s in zip(args, params, node.args)]
            found = self._transform_lookups(name)
            if found:
                names = scope.lifted.get(id(node))
                if names is None:
                    raise lookups_unavailable(
                        node.span, name, "which only a proc can read before calling it", CALL_SITES
                    )
                args += [
                    model.Var(name=n, type=t, nullable=True) for n, t in zip(names, found)
                ]
            return model.Call(name=name, args=args, type=t, transform=True, package=package)
        if name in _UNIFYING:
            args = [self.coerce(a, t, s.span) for a, s in zip(args, node.args)]
        elif name in ("days_between", "millis_between"):
            kinds = {a.type.kind for a in args}
            if len(kinds) > 1 or name == "millis_between":
                args = [self.coerce(a, T.DATETIME, s.span) for a, s in zip(args, node.args)]
        elif name == "contains" and args and args[0].type.kind == "list":
            el = args[0].type.args[0]
            if el.kind in NUMERIC_RANK and args[1].type.kind in NUMERIC_RANK:
                c = common_numeric(el, args[1].type)
                args = [
                    self.coerce(args[0], T.list_of(c), node.args[0].span),
                    self.coerce(args[1], c, node.args[1].span),
                ]
        elif name == "get" and args and args[0].type.kind == "map":
            args = [args[0], self.coerce(args[1], args[0].type.args[0], node.args[1].span)]
        elif name == "get" and args and args[0].type.kind == "list":
            args = [args[0], self.coerce(args[1], T.LONG, node.args[1].span)]
        elif name == "to_decimal" and len(args) != 1 and len(args) != 3:
            raise checker_missed(node.span, "NX307", "to_decimal with two arguments")
        return model.Call(name=name, args=args, type=t)

    def aggregation(self, node: ast.Call, t: Type, scope: Scope) -> model.Expr:
        """A window aggregation inside `aggregate into`: collected into `scope.aggregations`
        (one slot per distinct call) and read back as a Var of that slot."""
        assert scope.aggregations is not None
        inner = Scope(scope.names, scope.implicit, scope.nullable)
        arg = self.expr(node.args[0], inner) if node.args else None
        if node.name in ("sum", "avg") and arg is not None and arg.type.kind == "int":
            arg = self.coerce(arg, T.LONG, node.args[0].span)
        for a in scope.aggregations:
            if a.fn == node.name and a.arg == arg:
                return model.Var(name=a.slot, type=a.type, nullable=True)
        slot = f"agg${len(scope.aggregations) + 1}"
        scope.aggregations.append(
            model.Aggregation(
                slot=slot,
                fn=node.name,
                arg=arg,
                arg_type=None if arg is None else arg.type,
                type=t,
            )
        )
        return model.Var(name=slot, type=t, nullable=True)
