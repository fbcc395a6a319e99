"""An independent evaluator of the expression language, for differential tests.

It follows docs/language/expressions.md ("Null and number rules") directly, on a small typed
tree of its own (never the generator's model): exact decimals with Python's `decimal`, whole
numbers checked against 32/64-bit ranges, null rules, short-circuit `and`/`or`/`if`. Results
are spelled like the Java harness prints them: "null", "b:true", "i:42", "d:3.50", "s:text",
or "ERROR".
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, Optional, Union

CTX = decimal.Context(prec=200, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])

INT_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)


class EvalError(Exception):
    pass


class T:
    """A static type: kind int | long | decimal | string | boolean, with decimal p/s."""

    def __init__(self, kind: str, p: int = 0, s: int = 0) -> None:
        self.kind = kind
        self.p = p
        self.s = s

    def ps(self) -> tuple[int, int]:
        if self.kind == "decimal":
            return self.p, self.s
        return (10, 0) if self.kind == "int" else (19, 0)

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "long", "decimal")


class Node:
    """op: lit, field, neg, not, + - * / %, == != < <= > >=, and, or, in, notin, isnull,
    isnotnull, if, call:<name>. `args` are child nodes; `value` a literal or field name."""

    def __init__(self, op: str, t: T, args: tuple = (), value: Any = None) -> None:
        self.op = op
        self.t = t
        self.args = args
        self.value = value

    def text(self) -> str:
        op, a = self.op, self.args
        if op == "lit":
            v = self.value
            if v is None:
                return "null"
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, str) and self.t.kind == "decimal":
                return v
            if isinstance(v, str):
                return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
            return str(v)
        if op == "field":
            return f"v.{self.value}"
        if op == "neg":
            return f"(-{a[0].text()})"
        if op == "not":
            return f"(not {a[0].text()})"
        if op in ("in", "notin"):
            items = ", ".join(i.text() for i in a[1:])
            word = "in" if op == "in" else "not in"
            return f"({a[0].text()} {word} [{items}])"
        if op in ("isnull", "isnotnull"):
            return f"({a[0].text()} is {'not ' if op == 'isnotnull' else ''}null)"
        if op == "if":
            return f"(if {a[0].text()} then {a[1].text()} else {a[2].text()})"
        if op.startswith("call:"):
            return f"{op[5:]}(" + ", ".join(x.text() for x in a) + ")"
        return f"({a[0].text()} {op} {a[1].text()})"


def numeric_result(a: T, b: T, op: str) -> T:
    """The checker's typing of a number operation (nexflow_core/typemodel.py)."""
    kinds = {a.kind, b.kind}
    if "decimal" in kinds:
        p1, s1 = a.ps()
        p2, s2 = b.ps()
        if op in ("+", "-", "%"):
            s = max(s1, s2)
            return T("decimal", min(max(p1 - s1, p2 - s2) + s + 1, 38), min(s, 38))
        if op == "*":
            return T("decimal", min(p1 + p2, 38), min(s1 + s2, 38))
        return T("decimal", 38, max(s1, s2, 6))
    if op == "/":
        return T("decimal", 38, 6)
    return T("long") if "long" in kinds else T("int")


Value = Union[None, bool, int, Decimal, str]


def _num(v: Value) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(v)  # type: ignore[arg-type]


def _check_whole(v: int, t: T) -> int:
    lo, hi = INT_RANGE if t.kind == "int" else LONG_RANGE
    if not lo <= v <= hi:
        raise EvalError("overflow")
    return v


def truth(v: Value) -> bool:
    return v is True


def evaluate(n: Node, record: dict) -> Value:
    op, a = n.op, n.args
    if op == "lit":
        v = n.value
        return Decimal(v) if n.t.kind == "decimal" and v is not None else v
    if op == "field":
        v = record.get(n.value)
        return Decimal(str(v)) if n.t.kind == "decimal" and v is not None else v
    if op == "and":
        return truth(evaluate(a[0], record)) and truth(evaluate(a[1], record))
    if op == "or":
        return truth(evaluate(a[0], record)) or truth(evaluate(a[1], record))
    if op == "not":
        return not truth(evaluate(a[0], record))
    if op == "if":
        chosen = a[1] if truth(evaluate(a[0], record)) else a[2]
        return convert(evaluate(chosen, record), chosen.t, n.t)
    if op in ("isnull", "isnotnull"):
        v = evaluate(a[0], record)
        return (v is None) == (op == "isnull")
    if op in ("in", "notin"):
        x = evaluate(a[0], record)
        items = [evaluate(i, record) for i in a[1:]]
        if x is None:
            return False
        found = any(i is not None and _equal(x, i) for i in items)
        return found if op == "in" else not found
    if op.startswith("call:"):
        return call(op[5:], n, [evaluate(x, record) for x in a], record)
    if op == "neg":
        v = evaluate(a[0], record)
        if v is None:
            return None
        return -v if isinstance(v, Decimal) else _check_whole(-v, n.t)  # type: ignore[operator]
    left = evaluate(a[0], record)
    right = evaluate(a[1], record)
    if op in ("==", "!=", "<", "<=", ">", ">="):
        if left is None or right is None:
            return False
        if isinstance(left, bool) or isinstance(left, str):
            x, y = left, right
        else:
            x, y = _num(left), _num(right)
        return {
            "==": x == y,
            "!=": x != y,
            "<": x < y,  # type: ignore[operator]
            "<=": x <= y,  # type: ignore[operator]
            ">": x > y,  # type: ignore[operator]
            ">=": x >= y,  # type: ignore[operator]
        }[op]
    if left is None or right is None:
        return None
    if n.t.kind == "string":
        return str(left) + str(right)
    if n.t.kind == "decimal":
        x, y = _num(left), _num(right)
        if op == "+":
            return CTX.add(x, y)
        if op == "-":
            return CTX.subtract(x, y)
        if op == "*":
            return CTX.multiply(x, y)
        if y == 0:
            raise EvalError("division by zero")
        if op == "/":
            q = CTX.divide(x, y)
            return q.quantize(Decimal(1).scaleb(-n.t.s), rounding=decimal.ROUND_HALF_EVEN)
        return CTX.remainder(x, y)
    x, y = int(left), int(right)  # type: ignore[arg-type]
    if op == "+":
        return _check_whole(x + y, n.t)
    if op == "-":
        return _check_whole(x - y, n.t)
    if op == "*":
        return _check_whole(x * y, n.t)
    if op == "%":
        if y == 0:
            raise EvalError("division by zero")
        r = abs(x) % abs(y)
        return -r if x < 0 else r
    raise EvalError(f"unexpected {op}")


def _equal(x: Value, y: Value) -> bool:
    if isinstance(x, (bool, str)) or isinstance(y, (bool, str)):
        return x == y
    return _num(x) == _num(y)


def convert(v: Value, src: T, dst: T) -> Value:
    if v is None or src.kind == dst.kind:
        return v
    if dst.kind == "decimal":
        return _num(v)
    return v


def call(name: str, n: Node, args: list, record: dict) -> Value:
    if name == "coalesce":
        for v, node in zip(args, n.args):
            if v is not None:
                return convert(v, node.t, n.t)
        return None
    if any(v is None for v in args):
        return None
    if name == "abs":
        v = args[0]
        return abs(v) if isinstance(v, Decimal) else _check_whole(abs(v), n.t)
    if name in ("min", "max"):
        x, y = (convert(v, node.t, n.t) for v, node in zip(args, n.args))
        if name == "min":
            return y if _num(y) < _num(x) else x  # type: ignore[arg-type]
        return y if _num(y) > _num(x) else x  # type: ignore[arg-type]
    if name == "round":
        x, scale = args
        return _num(x).quantize(Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_EVEN)
    if name == "upper":
        return args[0].upper()
    if name == "lower":
        return args[0].lower()
    if name == "length":
        return len(args[0])
    if name == "concat":
        return "".join(args)
    if name == "substring":
        s, start, count = args
        k = len(s)
        lo = max(0, min(start, k))
        hi = max(lo, min(lo + max(count, 0), k))
        return s[lo:hi]
    raise EvalError(f"unknown function {name}")


def show(v: Value) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "b:" + ("true" if v else "false")
    if isinstance(v, int):
        return f"i:{v}"
    if isinstance(v, Decimal):
        return "d:" + format(v, "f")
    return "s:" + v


def run(n: Node, record: dict) -> str:
    try:
        return show(evaluate(n, record))
    except (EvalError, decimal.InvalidOperation, decimal.DivisionByZero):
        return "ERROR"


def same_result(a: str, b: str) -> bool:
    """Decimals compare by value (1.5 and 1.50 are the same number)."""
    if a.startswith("d:") and b.startswith("d:"):
        return Decimal(a[2:]) == Decimal(b[2:])
    return a == b


def optional(x: Optional[Any]) -> Optional[Any]:
    return x
