"""Decision-table analysis (DMN semantics): every column's input domain is cut into a finite
list of atoms (points and open intervals between the numbers the table mentions; enum
members; true/false; each text mentioned plus "any other text"; null for a nullable input),
every cell becomes the set of atoms it accepts (a bit mask), and overlaps, gaps and rows that
can never win become questions about boxes of atoms: is this box covered by the union of
those rows' boxes? The search is bounded; running out of budget is reported, never taken as
"covered"."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Iterator, Optional

from nexflow_core import ast
from nexflow_core.typemodel import Type

OTHER = object()
NULL = object()
MAX_GAPS = 3
MAX_OVERLAPS = 20
# Alternatives one column of an uncovered region names before `… more`.
MAX_PARTS = 4
# Atoms one coverage search may look at (each step of the search partitions one column's
# atoms by the rows that accept them), and all the searches of one table together: a few
# tenths of a second on a slow machine, far above what real tables need.
BUDGET = 100000
TABLE_BUDGET = 300000

_ORDERED_NUMBERS = ("int", "long", "double", "decimal", "duration")
_UNITS = (("days", 86400000), ("hours", 3600000), ("minutes", 60000), ("seconds", 1000))


class Column:
    """The atoms of one input column and how to describe them. A numeric column's atoms are
    (low, high) pairs: a point when low == high, else the open interval between them (None:
    unbounded); `step` is the spacing of the values the column can hold (1 for whole numbers,
    0.01 for a decimal(p,2) field; None: any number)."""

    def __init__(
        self,
        name: str,
        t: Type,
        numeric: bool,
        atoms: list[Any],
        step: Optional[Decimal] = None,
        mentioned: Optional[list[str]] = None,
    ) -> None:
        self.name = name
        self.type = t
        self.numeric = numeric
        self.atoms = atoms
        self.step = step
        self.mentioned = mentioned or []
        self.everything = (1 << len(atoms)) - 1
        self.non_null = sum(1 << i for i, a in enumerate(atoms) if a is not NULL)
        self._samples: Optional[list[Decimal]] = None

    def samples(self) -> list[Decimal]:
        """One number inside each numeric atom, ascending (the null atom, last, has none)."""
        if self._samples is None:
            self._samples = [self.sample(i) for i, a in enumerate(self.atoms) if a is not NULL]
        return self._samples

    # ---- concrete values -------------------------------------------------------------------

    def value(self, i: int) -> str:
        """A value of atom i a user could paste: `150`, `"FR"`, `ATM`, `null`."""
        a = self.atoms[i]
        if a is NULL:
            return "null"
        if self.numeric:
            return self._number(self.sample(i))
        if a is OTHER:
            return '"' + self.other_text() + '"'
        kind, v = a
        if kind == "s":
            return '"' + v + '"'
        if kind == "b":
            return "true" if v else "false"
        return str(v)

    def other_text(self) -> str:
        """A text the table does not mention."""
        n = 0
        while True:
            t = "OTHER" if n == 0 else f"OTHER_{n}"
            if t not in self.mentioned:
                return t
            n += 1

    def sample(self, i: int) -> Decimal:
        """A number inside numeric atom i (the point itself, else a round value inside)."""
        lo, hi = self.atoms[i]
        if lo is not None and lo == hi:
            return lo
        s = self.step
        if lo is None and hi is None:
            return Decimal(0)
        if lo is None:
            v = hi - 1
            return self._grid_below(hi) if s is not None else v
        if hi is None:
            return self._grid_above(lo, round_up=True) if s is not None else lo + 1
        mid = (lo + hi) / 2
        if s is not None:
            v = (mid / s).to_integral_value(ROUND_FLOOR) * s
            return v if v > lo else self._grid_above(lo, round_up=False)
        whole = mid.to_integral_value(ROUND_FLOOR)
        return whole if lo < whole < hi else mid

    def _grid_above(self, x: Decimal, round_up: bool) -> Decimal:
        """The first value above x the column holds; with round_up, the next whole number
        when the column holds it (1001 rather than 1000.01 above 1000, for no upper bound)."""
        assert self.step is not None
        s = self.step
        v = ((x / s).to_integral_value(ROUND_FLOOR) + 1) * s
        whole = x.to_integral_value(ROUND_FLOOR) + 1
        on_grid = (whole / s) == (whole / s).to_integral_value()
        return whole if round_up and on_grid else v

    def _grid_below(self, x: Decimal) -> Decimal:
        assert self.step is not None
        s = self.step
        q = x / s
        k = q.to_integral_value(ROUND_FLOOR)
        return (k - 1) * s if k == q else k * s

    def _number(self, v: Decimal) -> str:
        if self.type.kind == "duration":
            ms = int(v)
            for unit, size in _UNITS:
                if ms != 0 and ms % size == 0:
                    return f"{ms // size} {unit}"
            return f"{ms} ms"
        if self.type.kind == "decimal" and self.type.scale and self.step is not None:
            # a field's value as its records hold it: 1000.00 for a decimal(p,2)
            return str(v.quantize(self.step))
        return _fmt(v)

    # ---- region texts ----------------------------------------------------------------------

    def describe_set(self, mask: int) -> str:
        atoms = [i for i in range(len(self.atoms)) if mask >> i & 1]
        parts: list[str] = []
        if any(self.atoms[a] is NULL for a in atoms):
            parts.append(f"{self.name} is null")
        atoms = [a for a in atoms if self.atoms[a] is not NULL]
        if self.numeric:
            parts[:0] = _bounds(self, atoms)
        elif any(self.atoms[a] is OTHER for a in atoms):
            listed = ", ".join(
                self.value(i)
                for i in range(len(self.atoms))
                if not (mask >> i & 1) and self.atoms[i] not in (NULL, OTHER)
            )
            parts[:0] = [f"{self.name} not in [{listed}]" if listed else f"any {self.name}"]
        else:
            parts[:0] = [f"{self.name} = {self.value(a)}" for a in atoms]
        if len(parts) > MAX_PARTS:
            parts = [*parts[:MAX_PARTS], f"{len(parts) - MAX_PARTS} more"]
        return " or ".join(parts)


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
    f = col._number
    for run in runs:
        lo_atom, hi_atom = col.atoms[run[0]], col.atoms[run[-1]]
        lo, lo_closed = lo_atom[0], lo_atom[0] is not None and lo_atom[0] == lo_atom[1]
        hi, hi_closed = hi_atom[1], hi_atom[1] is not None and hi_atom[0] == hi_atom[1]
        only = _only_value(col, lo, lo_closed, hi, hi_closed)
        if only is not None:
            out.append(f"{n} = {f(only)}")
        elif lo is None and hi is None:
            out.append(f"any {n}")
        elif lo is None:
            out.append(f"{n} {'<=' if hi_closed else '<'} {f(hi)}")
        elif hi is None:
            out.append(f"{n} {'>=' if lo_closed else '>'} {f(lo)}")
        else:
            out.append(
                f"{f(lo)} {'<=' if lo_closed else '<'} {n} {'<=' if hi_closed else '<'} {f(hi)}"
            )
    return out


def _only_value(
    col: Column, lo: Optional[Decimal], lo_closed: bool, hi: Optional[Decimal], hi_closed: bool
) -> Optional[Decimal]:
    """The one value an interval holds (a point, or 0 < amount < 2 of whole numbers), or None."""
    if lo is None or hi is None:
        return None
    if lo == hi:
        return lo
    s = col.step
    if s is None:
        return None
    first = lo if lo_closed else ((lo / s).to_integral_value(ROUND_FLOOR) + 1) * s
    last = hi if hi_closed else -((-hi / s).to_integral_value(ROUND_FLOOR) + 1) * s
    return first if first == last else None


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
    return None


def build_column(
    name: str,
    t: Type,
    cells: list[ast.Cell],
    domain: Optional[list[Any]],
    step: Optional[Decimal] = None,
) -> Column:
    """domain: the finite values of an enum/boolean/allowed-text column, or None. step: the
    spacing of a decimal column's values when the input is a field of a known scale."""
    nullable = [NULL] if t.nullable else []
    if t.kind in _ORDERED_NUMBERS:
        if t.kind in ("int", "long", "duration"):
            step = Decimal(1)
        cuts = sorted({n for c in cells for v in c.values if (n := cell_number(v)) is not None})
        atoms: list[Any] = []
        prev: Optional[Decimal] = None
        for p in cuts:
            if prev is None or step is None or _grid_between(prev, p, step):
                atoms.append((prev, p))
            # A number the column cannot hold (10.005 for a decimal(p,2) field) still cuts the
            # line but is no atom of its own: a cell naming it matches nothing, as in Java.
            if step is None or (p / step) == (p / step).to_integral_value():
                atoms.append((p, p))
            prev = p
        atoms.append((prev, None))
        return Column(name, t, True, atoms + nullable, step)
    if domain is not None:
        return Column(name, t, False, list(domain) + nullable)
    seen: list[Any] = []
    for c in cells:
        for v in c.values:
            k = cell_key(v)
            if k is not None and k not in seen:
                seen.append(k)
    mentioned = [k[1] for k in seen if k[0] == "s"]
    return Column(name, t, False, [*seen, OTHER, *nullable], mentioned=mentioned)


def _grid_between(lo: Decimal, hi: Decimal, step: Decimal) -> bool:
    """Whether a multiple of step lies strictly between lo and hi."""
    return ((lo / step).to_integral_value(ROUND_FLOOR) + 1) * step < hi


def understood(cell: ast.Cell, col: Column) -> bool:
    """Whether the analysis models this cell exactly (every value a literal it can compare)."""
    if cell.kind == "any":
        return True
    if col.numeric:
        return all(cell_number(v) is not None for v in cell.values)
    return all(cell_key(v) is not None for v in cell.values)


def _norm(key: Any) -> Any:
    # an enum column may be tested with "TEXT" or NAME
    return ("t", key[1]) if key[0] in ("s", "e") else key


def cell_mask(cell: ast.Cell, col: Column) -> int:
    """The bit mask of the atoms of `col` the cell matches, as the generated Java does: a null
    input matches `-` only, `!=` and `not in` match no null either. A cell the analysis does
    not model (understood() is False) matches everything; the caller then says the table was
    not fully verified."""
    k = cell.kind
    if k == "any" or not understood(cell, col):
        return col.everything
    if col.numeric:
        vals = [n for v in cell.values if (n := cell_number(v)) is not None]
        xs = col.samples()
        count = len(xs)

        def span(lo: int, hi: int) -> int:
            return ((1 << max(hi, lo)) - 1) & ~((1 << lo) - 1)

        def points(vs: list[Decimal]) -> int:
            m = 0
            for v in vs:
                i = bisect_left(xs, v)
                if i < count and xs[i] == v:
                    m |= 1 << i
            return m

        if k == "eq" or k == "in":
            return points(vals)
        if k == "ne" or k == "not_in":
            return col.non_null & ~points(vals)
        if k == "lt":
            return span(0, bisect_left(xs, vals[0]))
        if k == "le":
            return span(0, bisect_right(xs, vals[0]))
        if k == "gt":
            return span(bisect_right(xs, vals[0]), count)
        if k == "ge":
            return span(bisect_left(xs, vals[0]), count)
        if k == "range":
            lo, hi = vals
            start = bisect_left(xs, lo) if cell.low_closed else bisect_right(xs, lo)
            end = bisect_right(xs, hi) if cell.high_closed else bisect_left(xs, hi)
            return span(start, end)
        return col.everything
    keys = {_norm(cell_key(v)) for v in cell.values}
    members = 0
    for i, atom in enumerate(col.atoms):
        if atom is not NULL and atom is not OTHER and _norm(atom) in keys:
            members |= 1 << i
    if k in ("eq", "in"):
        return members
    if k in ("ne", "not_in"):
        return col.non_null & ~members
    return col.everything


class Budget:
    def __init__(self, total: int) -> None:
        self.left = total
        self.exhausted = False


class Analysis:
    """rows[r][c]: the bit mask of column c's atoms row r's cell accepts."""

    def __init__(
        self, columns: list[Column], rows: list[list[int]], budget: Optional[Budget] = None
    ) -> None:
        self.columns = columns
        self.rows = rows
        self.budget = budget or Budget(TABLE_BUDGET)
        # accept[c][a]: the bit mask of rows whose cell in column c accepts atom a. Built from
        # each cell's runs of atoms (a range is one run, - one, not in a few): a row toggles
        # its bit where a run starts and ends, and a running xor gives every atom's rows.
        self.accept: list[list[int]] = []
        # reach[c][k][a]: the rows accepting any of the atoms a .. a + 2^k - 1 (a sparse table,
        # so the rows meeting a run of atoms are two lookups).
        self.reach: list[list[list[int]]] = []
        for c, col in enumerate(columns):
            size = len(col.atoms)
            toggles = [0] * (size + 1)
            for r, row in enumerate(rows):
                bit = 1 << r
                for start, end in _runs(row[c]):
                    toggles[start] ^= bit
                    toggles[end] ^= bit
            masks = []
            running = 0
            for a in range(size):
                running ^= toggles[a]
                masks.append(running)
            self.accept.append(masks)
            table = [masks]
            k = 1
            while 1 << k <= size:
                prev, half = table[-1], 1 << (k - 1)
                table.append([prev[a] | prev[a + half] for a in range(size - (1 << k) + 1)])
                k += 1
            self.reach.append(table)
        self.incomplete = False

    def meeting(self, box: list[int]) -> int:
        """The rows that match some input of the box."""
        out = -1
        for c, mask in enumerate(box):
            table = self.reach[c]
            m = 0
            for start, end in _runs(mask):
                k = (end - start).bit_length() - 1
                m |= table[k][start] | table[k][end - (1 << k)]
            out &= m
            if not out:
                return 0
        return out if out != -1 else 0

    def empty_rows(self) -> list[tuple[int, int]]:
        """(row, column) for each row with a cell that accepts no value at all."""
        return [
            (r, next(c for c, m in enumerate(row) if m == 0))
            for r, row in enumerate(self.rows)
            if any(m == 0 for m in row)
        ]

    def overlaps(self) -> list[tuple[int, int, list[int]]]:
        """(i, j, common atom masks) for each pair of rows that can both match."""
        out = []
        for j in range(len(self.rows)):
            rj = self.rows[j]
            for i in range(j):
                common = [a & b for a, b in zip(self.rows[i], rj)]
                if all(common):
                    out.append((i, j, common))
                    if len(out) >= MAX_OVERLAPS:
                        return out
        return out

    def uncovered(self, box: list[int], candidates: int, limit: int = 1) -> Iterator[list[int]]:
        """Regions (one atom mask per column) of `box` that no row of `candidates` (a bit mask
        of rows) matches, at most `limit` of them. Sets self.incomplete when the budget ran out
        before the search ended (then "none found" proves nothing)."""
        n = len(self.columns)
        # Columns that most rows test come first: splitting on them early leaves few rows live,
        # and a row whose remaining cells are all - ends a branch at once.
        tests = [sum(1 for r in _bits(candidates) if box[c] & ~self.rows[r][c]) for c in range(n)]
        order = sorted(range(n), key=lambda c: -tests[c])
        # full[d]: rows whose cells accept the whole box in columns order[d:]: once such a row
        # is live the rest of the box is covered.
        full = [0] * (n + 1)
        for r in _bits(candidates):
            d = n
            while d > 0 and box[order[d - 1]] & ~self.rows[r][order[d - 1]] == 0:
                d -= 1
            for k in range(d, n + 1):
                full[k] |= 1 << r
        box_atoms = [list(_bits(box[c])) for c in order]
        covered: set[tuple[int, int]] = set()
        found = [0]
        local = [BUDGET]
        cut = [False]

        def region(prefix: list[int]) -> list[int]:
            out = list(box)
            for d, atoms in enumerate(prefix):
                out[order[d]] = atoms
            return out

        def walk(depth: int, live: int, prefix: list[int]) -> Iterator[list[int]]:
            if live & full[depth] or (depth, live) in covered:
                return
            if local[0] <= 0 or self.budget.left <= 0:
                self.incomplete = cut[0] = True
                return
            acc = self.accept[order[depth]]
            here = box_atoms[depth]
            # the budget counts atoms looked at, the search's real work
            local[0] -= len(here)
            self.budget.left -= len(here)
            groups: dict[int, int] = {}
            for a in here:
                sub = live & acc[a]
                groups[sub] = groups.get(sub, 0) | (1 << a)
            before = found[0]
            # fewest live rows first: the likeliest way to an uncovered input
            for sub in sorted(groups, key=lambda m: bin(m).count("1")):
                if found[0] >= limit:
                    return
                atoms = groups[sub]
                if not sub:
                    found[0] += 1
                    yield region([*prefix, atoms])
                else:
                    yield from walk(depth + 1, sub, [*prefix, atoms])
            if found[0] == before and not cut[0]:
                covered.add((depth, live))

        if any(m == 0 for m in box):
            return
        yield from walk(0, candidates, [])

    # ---- texts -----------------------------------------------------------------------------

    def example(self, region: list[int], box: Optional[list[int]] = None) -> str:
        """One concrete input of the region, naming the columns the region constrains
        (whatever the others hold): `amount = 150, country = "FR"`."""
        parts = []
        for c, mask in enumerate(region):
            col = self.columns[c]
            whole = box[c] if box is not None else col.non_null
            if mask & whole == whole:
                continue
            atom = (mask & -mask).bit_length() - 1
            parts.append(f"{col.name} = {col.value(atom)}")
        return ", ".join(parts) if parts else "every input"

    def region(self, region: list[int], box: Optional[list[int]] = None) -> Optional[str]:
        """The region as conditions, or None when it is a single input (the example says it
        all)."""
        parts = []
        single = True
        for c, mask in enumerate(region):
            col = self.columns[c]
            whole = box[c] if box is not None else col.non_null
            if mask & whole == whole:
                continue
            if (
                bin(mask).count("1") != 1
                or (col.numeric and not _is_point(col, mask))
                or (not col.numeric and col.atoms[(mask & -mask).bit_length() - 1] is OTHER)
            ):
                single = False
            parts.append(col.describe_set(mask))
        return None if single else ", ".join(parts)


def _runs(mask: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of set bits of mask, end exclusive."""
    while mask:
        low = mask & -mask
        start = low.bit_length() - 1
        above = mask + low  # the run's bits carry into the bit after it
        end = (above & -above).bit_length() - 1
        yield start, end
        mask &= ~((1 << end) - 1)


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _is_point(col: Column, mask: int) -> bool:
    a = col.atoms[(mask & -mask).bit_length() - 1]
    return a is NULL or (a[0] is not None and a[0] == a[1])
