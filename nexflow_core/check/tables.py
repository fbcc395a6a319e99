"""Decision-table analysis (DMN semantics): every column's input domain is cut into a finite
list of atoms (points and open intervals between the numbers the table mentions; enum
members; true/false; each text mentioned plus "any other text"), every cell becomes the set
of atoms it accepts, and overlaps, gaps and unreachable rows become set questions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from nexflow_core import ast
from nexflow_core.typemodel import Type

OTHER = object()
MAX_GAPS = 5
MAX_OVERLAPS = 20
BUDGET = 20000


class Column:
    """The atoms of one input column and how to describe them."""

    def __init__(self, name: str, t: Type, numeric: bool, atoms: list[Any]) -> None:
        self.name = name
        self.type = t
        self.numeric = numeric
        self.atoms = atoms

    def describe_set(self, atoms: list[int]) -> str:
        if self.numeric:
            return " or ".join(_bounds(self, atoms))
        return " or ".join(self.describe(a) for a in atoms)

    def describe(self, i: int) -> str:
        a = self.atoms[i]
        n = self.name
        if self.numeric:
            lo, hi = a
            if lo is hi is None:
                return f"any {n}"
            if lo is not None and hi is not None and lo == hi:
                return f"{n} = {_fmt(lo)}"
            if lo is None:
                return f"{n} < {_fmt(hi)}"
            if hi is None:
                return f"{n} > {_fmt(lo)}"
            return f"{_fmt(lo)} < {n} < {_fmt(hi)}"
        if a is OTHER:
            return f"{n} is any other value"
        kind, v = a
        if kind == "s":
            return f'{n} = "{v}"'
        if kind == "b":
            return f"{n} = {'true' if v else 'false'}"
        return f"{n} = {v}"


def _bounds(col: Column, atoms: list[int]) -> list[str]:
    """Contiguous runs of numeric atoms as interval texts."""
    runs: list[list[int]] = []
    for a in sorted(atoms):
        if runs and runs[-1][-1] == a - 1:
            runs[-1].append(a)
        else:
            runs.append([a])
    out = []
    n = col.name
    for run in runs:
        lo_atom, hi_atom = col.atoms[run[0]], col.atoms[run[-1]]
        lo, lo_closed = lo_atom[0], lo_atom[0] is not None and lo_atom[0] == lo_atom[1]
        hi, hi_closed = hi_atom[1], hi_atom[1] is not None and hi_atom[0] == hi_atom[1]
        if lo is not None and hi is not None and lo == hi:
            out.append(f"{n} = {_fmt(lo)}")
        elif lo is None and hi is None:
            out.append(f"any {n}")
        elif lo is None:
            out.append(f"{n} {'<=' if hi_closed else '<'} {_fmt(hi)}")
        elif hi is None:
            out.append(f"{n} {'>=' if lo_closed else '>'} {_fmt(lo)}")
        else:
            out.append(
                f"{_fmt(lo)} {'<=' if lo_closed else '<'} {n} "
                f"{'<=' if hi_closed else '<'} {_fmt(hi)}"
            )
    return out


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else str(d)


def cell_number(v: object) -> Optional[Decimal]:
    try:
        if isinstance(v, ast.IntLit):
            return Decimal(v.value)
        if isinstance(v, ast.DecimalLit):
            return Decimal(v.text)
        if isinstance(v, ast.DurationLit):
            return Decimal(v.millis)
    except InvalidOperation:  # pragma: no cover
        return None
    return None


def cell_key(v: object) -> Any:
    if isinstance(v, ast.StringLit):
        return ("s", v.value)
    if isinstance(v, ast.BoolLit):
        return ("b", v.value)
    if isinstance(v, ast.Path):
        return ("e", v.parts[-1])
    n = cell_number(v)
    if n is not None:
        return ("n", n)
    return ("?", repr(v))


def build_column(name: str, t: Type, cells: list[ast.Cell], domain: Optional[list[Any]]) -> Column:
    """domain: the finite values of an enum/boolean/allowed-text column, or None."""
    numeric = t.kind in ("int", "long", "double", "decimal", "duration")
    if numeric:
        points = sorted({n for c in cells for v in c.values if (n := cell_number(v)) is not None})
        atoms: list[Any] = []
        integral = t.kind in ("int", "long")
        prev: Optional[Decimal] = None
        for p in points:
            if not (integral and prev is not None and p - prev <= 1):
                atoms.append((prev, p) if prev is not None else (None, p))
            atoms.append((p, p))
            prev = p
        atoms.append((prev, None) if prev is not None else (None, None))
        return Column(name, t, True, atoms)
    if domain is not None:
        return Column(name, t, False, list(domain))
    seen = []
    for c in cells:
        for v in c.values:
            k = cell_key(v)
            if k not in seen:
                seen.append(k)
    return Column(name, t, False, [*seen, OTHER])


def _sample(atom: tuple) -> Decimal:
    lo, hi = atom
    if lo is None and hi is None:
        return Decimal(0)
    if lo is None:
        return hi - 1
    if hi is None:
        return lo + 1
    return (lo + hi) / 2


def accepts(cell: ast.Cell, col: Column, i: int) -> bool:
    k = cell.kind
    if k == "any":
        return True
    atom = col.atoms[i]
    if col.numeric:
        x = _sample(atom) if atom[0] != atom[1] or atom[0] is None else atom[0]
        numbers = [cell_number(v) for v in cell.values]
        vals = [v for v in numbers if v is not None]
        if len(vals) != len(numbers):
            return True
        if k == "eq":
            return x == vals[0]
        if k == "ne":
            return x != vals[0]
        if k == "lt":
            return x < vals[0]
        if k == "le":
            return x <= vals[0]
        if k == "gt":
            return x > vals[0]
        if k == "ge":
            return x >= vals[0]
        if k == "in":
            return x in vals
        if k == "not_in":
            return x not in vals
        if k == "range":
            lo, hi = vals
            ok_lo = x >= lo if cell.low_closed else x > lo
            ok_hi = x <= hi if cell.high_closed else x < hi
            return ok_lo and ok_hi
        return True
    keys = [cell_key(v) for v in cell.values]
    is_member = atom is not OTHER and any(_same_key(atom, kk) for kk in keys)
    if k in ("eq", "in"):
        return is_member
    if k in ("ne", "not_in"):
        return not is_member
    return True


def _same_key(atom: Any, key: Any) -> bool:
    if atom == key:
        return True
    # an enum column may be tested with "TEXT" or NAME
    return atom[1] == key[1] and {atom[0], key[0]} <= {"s", "e"}


class Analysis:
    def __init__(self, columns: list[Column], rows: list[list[frozenset]]) -> None:
        self.columns = columns
        self.rows = rows

    def overlaps(self) -> list[tuple[int, int, list[int]]]:
        """(i, j, example atoms) for each pair of rows that can both match."""
        out = []
        for j in range(len(self.rows)):
            for i in range(j):
                common = [a & b for a, b in zip(self.rows[i], self.rows[j])]
                if all(common):
                    out.append((i, j, [min(c) for c in common]))
                    if len(out) >= MAX_OVERLAPS:
                        return out
        return out

    def subsumed(self) -> list[tuple[int, int]]:
        """(i, j): row j can never be first to match because earlier row i covers it."""
        out = []
        for j in range(len(self.rows)):
            for i in range(j):
                if all(b <= a for a, b in zip(self.rows[i], self.rows[j])):
                    out.append((i, j))
                    break
        return out

    def gaps(self) -> list[list[Optional[list[int]]]]:
        """Input combinations no row accepts: per column, the atoms of the gap (None = any)."""
        found: list[list[Optional[list[int]]]] = []
        budget = [BUDGET]
        n = len(self.columns)

        def walk(col: int, live: list[int], prefix: list[Optional[list[int]]]) -> None:
            if len(found) >= MAX_GAPS or budget[0] <= 0:
                return
            budget[0] -= 1
            if col == n:
                if not live:
                    found.append(prefix)
                return
            groups: dict = {}
            for a in range(len(self.columns[col].atoms)):
                sub = tuple(r for r in live if a in self.rows[r][col])
                groups.setdefault(sub, []).append(a)
            whole = len(groups) == 1
            for sub, atoms in groups.items():
                here = None if whole else atoms
                if not sub:
                    found.append([*prefix, here] + [None] * (n - col - 1))
                    if len(found) >= MAX_GAPS:
                        return
                else:
                    walk(col + 1, list(sub), [*prefix, here])

        walk(0, list(range(len(self.rows))), [])
        return found

    def describe_gap(self, combo: list[Optional[list[int]]]) -> str:
        parts = []
        for c, atoms in enumerate(combo):
            if atoms is None:
                continue
            parts.append(self.columns[c].describe_set(atoms))
        return ", ".join(parts) if parts else "every input"

    def describe(self, combo: list[int]) -> str:
        parts = [self.columns[c].describe(a) for c, a in enumerate(combo) if a >= 0]
        parts = [p for p in parts if not p.startswith("any ")]
        return ", ".join(parts) if parts else "every input"
