"""The expression writer: a typed model expression (model.Expr) as a Java expression.

One method per model class (`write_<Class>`); a class without one is an error, never empty
Java. Operators go through nexflow.runtime.Ops (one overload per operand type: the generator
converted both operands to one type), functions through nexflow.runtime.Fn. `this` spells
model.This (the record a rule, contract or operator works on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from nexflow_core.generate import model
from nexflow_core.generate.java.naming import identifier

if TYPE_CHECKING:
    from nexflow_core.generate.java.naming import Spelling

_LIST_CONVERSIONS = {
    "long": "toLongList",
    "double": "toDoubleList",
    "decimal": "toDecimalList",
    "datetime": "toDatetimeList",
}
_CONVERSIONS = {
    "long": "toLong",
    "double": "toDouble",
    "decimal": "toDecimal",
    "datetime": "toDatetime",
    "string": "name",
}
_ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod"}
_COMPARE = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


class ExpressionWriter:
    def __init__(self, sp: Spelling, this: str = "record") -> None:
        self.sp = sp
        self.this = this

    def write(self, e: model.Expr) -> str:
        method: Callable[[model.Expr], str] | None = getattr(
            self, "write_" + type(e).__name__, None
        )
        if method is None:
            raise ValueError(f"no Java for the expression node {type(e).__name__}")
        return method(e)

    def cond(self, e: model.Expr) -> str:
        """A condition: a boolean expression where null counts as false."""
        return f"Ops.isTrue({self.write(e)})"

    def _args(self, args: list[model.Expr]) -> str:
        return ", ".join(self.write(a) for a in args)

    def write_This(self, e: model.This) -> str:
        return self.this

    def write_Var(self, e: model.Var) -> str:
        return self.sp.local(e.name)

    def write_Field(self, e: model.Field) -> str:
        obj = e.obj
        if isinstance(obj, model.This) or (isinstance(obj, model.Var) and not obj.nullable):
            return f"{self.write(obj)}.{identifier(e.name)}"
        # Explicit type arguments: inferred from the lambda, an overloaded caller (Ops.mul) is
        # ambiguous.
        return (
            f"Ops.<{self.sp.java_type(obj.type)}, {self.sp.java_type(e.type)}>nav("
            f"{self.write(obj)}, v$ -> v$.{identifier(e.name)})"
        )

    def write_EnumValue(self, e: model.EnumValue) -> str:
        return f"{self.sp.qualified(e.type.name or '')}.{identifier(e.member)}"

    def write_Lit(self, e: model.Lit) -> str:
        return self.sp.literal(e)

    def write_ListOf(self, e: model.ListOf) -> str:
        element = self.sp.java_type(e.type.args[0])
        if e.items:
            return f"java.util.Arrays.<{element}>asList({self._args(e.items)})"
        return f"java.util.Collections.<{element}>emptyList()"

    def write_Convert(self, e: model.Convert) -> str:
        if e.type.kind == "list":
            if e.operand.type.args[0].kind == "any":
                operand = self.write(e.operand)
                return f"(({self.sp.java_type(e.type)}) (java.util.List<?>) {operand})"
            return f"Ops.{_LIST_CONVERSIONS[e.type.args[0].kind]}({self.write(e.operand)})"
        return f"Ops.{_CONVERSIONS[e.type.kind]}({self.write(e.operand)})"

    def write_Unary(self, e: model.Unary) -> str:
        if e.op == "not":
            return f"!Ops.isTrue({self.write(e.operand)})"
        return f"Ops.neg({self.write(e.operand)})"

    def write_Arith(self, e: model.Arith) -> str:
        left, right = self.write(e.left), self.write(e.right)
        if e.op == "/" and e.type.kind == "decimal":
            return f"Ops.div({left}, {right}, {e.type.scale})"
        return f"Ops.{_ARITH[e.op]}({left}, {right})"

    def write_Compare(self, e: model.Compare) -> str:
        return f"Ops.{_COMPARE[e.op]}({self.write(e.left)}, {self.write(e.right)})"

    def write_Logical(self, e: model.Logical) -> str:
        joiner = " && " if e.op == "and" else " || "
        return "(" + joiner.join(self.cond(o) for o in e.operands) + ")"

    def write_InList(self, e: model.InList) -> str:
        name = "notIn" if e.negated else "in"
        return f"Ops.{name}({self.write(e.operand)}, {self.write(e.items)})"

    def write_IsNull(self, e: model.IsNull) -> str:
        return f"({self.write(e.operand)} {'!=' if e.negated else '=='} null)"

    def write_If(self, e: model.If) -> str:
        jt = self.sp.java_type(e.type)
        return (
            f"(Ops.isTrue({self.write(e.cond)}) ? ({jt}) {self.write(e.then)}"
            f" : ({jt}) {self.write(e.otherwise)})"
        )

    def write_Call(self, e: model.Call) -> str:
        if e.transform:
            return f"{self.sp.qualified(e.name)}.apply({self._args(e.args)})"
        return f"Fn.{e.name}({self._args(e.args)})"

    def write_Fit(self, e: model.Fit) -> str:
        return f"Ops.fit({self.write(e.operand)}, {e.type.precision}, {e.type.scale})"
