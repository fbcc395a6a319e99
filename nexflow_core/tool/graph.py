"""`nexflow graph PROC`: a proc's operator graph, as Mermaid text or as SVG.

The graph follows the proc's statements in order: its source streams, each operator (filter,
transform, apply rules or decision table, correlate, key by, window, aggregate, join, lookup,
deduplicate, …), the streams it emits to (with the event or route that sends records there) and
the stores it reads or persists to. Job settings (parallelism, checkpoints) go in the title.

The SVG is drawn by a small layered layout of our own (no Graphviz): the main chain of
operators left to right, sinks in the column after the operator that feeds them, extra
sources and stores above. Sizes come from character counts, so the same proc gives the same
bytes everywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from nexflow_core import ast
from nexflow_core.check.flow import ProcFlow
from nexflow_core.diagnostics import render_text

# Node kinds: how a node is drawn.
SOURCE, SINK, OPERATOR, RULES, TABLE, TRANSFORM, STORE = (
    "source",
    "sink",
    "operator",
    "rules",
    "table",
    "transform",
    "store",
)
MAX_LABEL = 44


class Node:
    def __init__(self, id: str, kind: str, label: str, detail: str = "", line: int = 0) -> None:
        self.id = id
        self.kind = kind
        self.label = label
        self.detail = detail  # a second, smaller line (a stream's schema)
        self.line = line  # DSL line, for the SVG tooltip
        self.column = 0
        self.row = 0


class Edge:
    def __init__(self, source: str, target: str, label: str = "", dashed: bool = False) -> None:
        self.source = source
        self.target = target
        self.label = label
        self.dashed = dashed


class Graph:
    def __init__(self, proc: str, path: str) -> None:
        self.proc = proc
        self.path = path
        self.nodes: List[Node] = []
        self.edges: List[Edge] = []
        self.settings: List[str] = []
        self._streams: Dict[Tuple[str, str], Node] = {}

    def add(self, kind: str, label: str, detail: str = "", line: int = 0) -> Node:
        node = Node(f"n{len(self.nodes) + 1}", kind, label, detail, line)
        self.nodes.append(node)
        return node

    def stream(self, kind: str, name: str, detail: str, line: int) -> Node:
        """One node per stream and role (a stream read and written is drawn twice)."""
        key = (kind, name)
        if key not in self._streams:
            self._streams[key] = self.add(kind, name, detail, line)
        return self._streams[key]

    def connect(self, source: Node, target: Node, label: str = "", dashed: bool = False) -> None:
        self.edges.append(Edge(source.id, target.id, label, dashed))

    def node(self, id: str) -> Node:
        return self.nodes[int(id[1:]) - 1]


def _shorten(text: str, limit: int = MAX_LABEL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Source:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def slice(self, span: object) -> str:
        """The DSL text of a span, on one line."""
        line, col = getattr(span, "line", 0), getattr(span, "column", 0)
        end_line, end_col = getattr(span, "end_line", line), getattr(span, "end_column", 0)
        if not (0 < line <= len(self.lines)):
            return ""
        if end_line == line:
            return self.lines[line - 1][col - 1 : end_col - 1]
        parts = [self.lines[line - 1][col - 1 :]]
        parts.extend(self.lines[line : min(end_line - 1, len(self.lines))])
        if end_line <= len(self.lines):
            parts.append(self.lines[end_line - 1][: end_col - 1])
        return " ".join(p.strip() for p in parts)


def build_graph(
    proc: ast.ProcDecl,
    path: str,
    text: str,
    stream_schema: Optional[Dict[str, str]] = None,
    flow: Optional[ProcFlow] = None,
) -> Graph:
    """The operator graph of one proc. `stream_schema` names each stream's schema (for labels);
    `flow` is the checker's flow of the proc: what each `apply` applies and the statement each
    `on` handler belongs to (without it, as for a proc with errors, handlers hang off the
    node before them)."""
    src = _Source(text)
    schemas = stream_schema or {}
    steps = flow.steps if flow is not None and len(flow.steps) == len(proc.statements) else []
    owners = flow.handlers if steps and flow is not None else {}
    g = Graph(proc.name, path)
    current: Optional[Node] = None
    last_apply: Optional[Node] = None  # `on error` hangs off the last `apply`, where records fail
    node_of: Dict[int, Node] = {}  # statement index -> its node
    pending: list[tuple[ast.OnStmt, int]] = []  # handlers whose owner comes after them

    def step(kind: str, label: str, stmt: ast.Node) -> Node:
        nonlocal current
        node = g.add(kind, _shorten(label), line=stmt.span.line)
        if current is not None:
            g.connect(current, node)
        current = node
        return node

    def sink(name: str, stmt: ast.Node) -> Node:
        return g.stream(SINK, name, schemas.get(name, ""), stmt.span.line)

    for index, stmt in enumerate(proc.statements):
        line = stmt.span.line
        before = current
        if isinstance(stmt, ast.FromStmt):
            node = g.stream(SOURCE, stmt.stream, schemas.get(stmt.stream, ""), line)
            if current is not None:
                g.connect(node, current, "from")
            else:
                current = node
        elif isinstance(stmt, ast.ParallelismStmt):
            g.settings.append(f"parallelism {stmt.value}")
        elif isinstance(stmt, ast.CheckpointStmt):
            g.settings.append(_shorten(src.slice(stmt.span)))
        elif isinstance(stmt, ast.OnStmt):
            owner = owners.get(index)
            if owner is not None and owner > index:
                pending.append((stmt, owner))  # `on late` before its window
                continue
            producer = node_of.get(owner) if owner is not None else None
            if stmt.event == "error":
                producer = last_apply
            producer = producer or current
            if producer is not None:
                label = f"route {stmt.label}" if stmt.label else f"on {stmt.event}"
                g.connect(producer, sink(stmt.stream, stmt), label)
        elif isinstance(stmt, ast.EmitStmt):
            if current is None:
                continue
            target = sink(stmt.stream, stmt)
            label = stmt.delivery.replace("_", "-") if stmt.delivery else ""
            g.connect(current, target, label)
            if stmt.persist is not None:
                store = g.add(STORE, stmt.persist.store, "store", line)
                g.connect(target, store, "persist async" if stmt.persist.is_async else "persist")
        elif isinstance(stmt, ast.RouteStmt):
            node = step(OPERATOR, "route", stmt)
            for case in stmt.cases:
                cond = src.slice(case.condition.span) if case.condition is not None else ""
                g.connect(
                    node, sink(case.stream, case), _shorten(cond, 28) if cond else "otherwise"
                )
        elif isinstance(stmt, ast.TransformStmt):
            step(TRANSFORM, f"transform {stmt.transform}", stmt)
        elif isinstance(stmt, ast.ApplyStmt):
            applies = steps[index].applies if steps else None
            what = stmt.kind or ("table" if applies == "table" else "rules")
            kind = TABLE if what == "table" else RULES
            label = f"apply {stmt.target} {what}" + (f" as {stmt.alias}" if stmt.alias else "")
            last_apply = step(kind, label, stmt)
        elif isinstance(stmt, ast.CorrelateStmt):
            node = step(OPERATOR, src.slice(stmt.span) or "correlate", stmt)
            if stmt.partner:
                partner = g.stream(SOURCE, stmt.partner, schemas.get(stmt.partner, ""), line)
                g.connect(partner, node, "with")
        elif isinstance(stmt, ast.JoinStmt):
            node = step(OPERATOR, f"join {stmt.stream} as {stmt.alias}", stmt)
            other = g.stream(SOURCE, stmt.stream, schemas.get(stmt.stream, ""), line)
            g.connect(other, node, "join")
        elif isinstance(stmt, ast.LookupStmt):
            node = step(OPERATOR, f"lookup {stmt.store} as {stmt.alias}", stmt)
            store = g.add(STORE, stmt.store, "store", line)
            g.connect(store, node, "lookup", dashed=True)
        elif isinstance(stmt, ast.WindowStmt):
            step(OPERATOR, src.slice(stmt.span) or f"window {stmt.kind}", stmt)
        elif isinstance(stmt, ast.RollingStmt):
            names = ", ".join(mp.field for mp in stmt.mappings)
            within = f"{stmt.within.amount} {stmt.within.unit}"
            step(OPERATOR, f"rolling {within}: {names}", stmt)
        elif isinstance(stmt, (ast.AggregateStmt, ast.MapStmt)):
            verb = "aggregate" if isinstance(stmt, ast.AggregateStmt) else "map"
            step(OPERATOR, f"{verb} into {stmt.schema}", stmt)
        else:
            step(OPERATOR, src.slice(stmt.span) or type(stmt).__name__, stmt)
        if current is not before and current is not None:
            node_of[index] = current
    for stmt, owner in pending:
        if owner in node_of:
            label = f"route {stmt.label}" if stmt.label else f"on {stmt.event}"
            g.connect(node_of[owner], sink(stmt.stream, stmt), label)
    return g


# --- Mermaid ------------------------------------------------------------------------------------

_MERMAID_SHAPES = {
    SOURCE: ('(["', '"])'),
    SINK: ('(["', '"])'),
    OPERATOR: ('["', '"]'),
    RULES: ('{{"', '"}}'),
    TABLE: ('[["', '"]]'),
    TRANSFORM: ('[/"', '"/]'),
    STORE: ('[("', '")]'),
}
_MERMAID_STYLES = {
    SOURCE: "fill:#e3f2fd,stroke:#1565c0",
    SINK: "fill:#e8f5e9,stroke:#2e7d32",
    OPERATOR: "fill:#ffffff,stroke:#455a64",
    RULES: "fill:#fff3e0,stroke:#ef6c00",
    TABLE: "fill:#fff3e0,stroke:#ef6c00",
    TRANSFORM: "fill:#f3e5f5,stroke:#6a1b9a",
    STORE: "fill:#eceff1,stroke:#37474f",
}


def _mermaid_text(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"<>&#':
            out.append(f"#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


def to_mermaid(g: Graph) -> str:
    lines = ["flowchart LR"]
    title = f"proc {g.proc} ({g.path})"
    if g.settings:
        title += " · " + " · ".join(g.settings)
    lines.append(f"    %% {title}")
    for n in g.nodes:
        open_, close = _MERMAID_SHAPES[n.kind]
        label = _mermaid_text(n.label)
        if n.detail:
            label += "<br/><small>" + _mermaid_text(n.detail) + "</small>"
        lines.append(f"    {n.id}{open_}{label}{close}")
    for e in g.edges:
        arrow = "-.->" if e.dashed else "-->"
        if e.label:
            lines.append(f'    {e.source} {arrow}|"{_mermaid_text(e.label)}"| {e.target}')
        else:
            lines.append(f"    {e.source} {arrow} {e.target}")
    for kind in (SOURCE, SINK, OPERATOR, RULES, TABLE, TRANSFORM, STORE):
        members = [n.id for n in g.nodes if n.kind == kind]
        if members:
            lines.append(f"    classDef {kind} {_MERMAID_STYLES[kind]}")
            lines.append(f"    class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


# --- SVG ------------------------------------------------------------------------------------------

CHAR_W = 7.2  # px per character of the 12px monospace font
DETAIL_W = 6.0  # px per character of the 10px detail line
NODE_H = 38
NODE_H2 = 52
COL_GAP = 56
ROW_H = 84
MARGIN = 24
TITLE_H = 36
_FILL = {
    SOURCE: ("#e3f2fd", "#1565c0"),
    SINK: ("#e8f5e9", "#2e7d32"),
    OPERATOR: ("#ffffff", "#455a64"),
    RULES: ("#fff3e0", "#ef6c00"),
    TABLE: ("#fff3e0", "#ef6c00"),
    TRANSFORM: ("#f3e5f5", "#6a1b9a"),
    STORE: ("#eceff1", "#37474f"),
}


def _num(x: float) -> str:
    """Coordinates with at most one decimal, the same text on every machine."""
    r = round(x * 10) / 10
    return str(int(r)) if r == int(r) else f"{r:.1f}"


def _xml(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _size(n: Node) -> Tuple[float, float]:
    w = max(len(n.label) * CHAR_W, len(n.detail) * DETAIL_W) + 28
    if n.kind in (RULES, TABLE, TRANSFORM):
        w += 16
    return max(w, 72), (NODE_H2 if n.detail else NODE_H)


def layout(g: Graph) -> None:
    """Assigns every node a column and a row: the main chain on row 0, left to right; each
    sink in the column after the node that feeds it (the main output on row 0 when its
    producer ends the chain, side outputs below); stores after the sink they persist or above
    the lookup that reads them; extra sources above the operator they feed."""
    taken: Dict[Tuple[int, int], str] = {}
    placed: Dict[str, Tuple[int, int]] = {}

    def place(node: Node, column: int, rows: Sequence[int]) -> None:
        for r in rows:
            if (column, r) not in taken:
                taken[(column, r)] = node.id
                placed[node.id] = (column, r)
                node.column, node.row = column, r
                return

    incoming: Dict[str, List[Edge]] = {}
    outgoing: Dict[str, List[Edge]] = {}
    for e in g.edges:
        incoming.setdefault(e.target, []).append(e)
        outgoing.setdefault(e.source, []).append(e)
    chain: List[str] = []
    for n in g.nodes:
        if n.kind in (OPERATOR, RULES, TABLE, TRANSFORM) or (n.kind == SOURCE and not chain):
            chain.append(n.id)
    for i, nid in enumerate(chain):
        place(g.node(nid), i, [0])
    down = list(range(0, 64))
    below = down[1:]
    up = list(range(-1, -64, -1))

    def producer_column(n: Node) -> Optional[int]:
        cols = [placed[e.source][0] for e in incoming.get(n.id, []) if e.source in placed]
        return max(cols) if cols else None

    # Main outputs (an unlabelled edge) first, so that they take row 0 after the chain.
    sinks = [n for n in g.nodes if n.kind == SINK]
    sinks.sort(key=lambda n: (any(e.label for e in incoming.get(n.id, [])), int(n.id[1:])))
    for n in sinks:
        col = producer_column(n)
        column = col + 1 if col is not None else len(chain)
        place(n, column, down if column >= len(chain) else below)
    for n in g.nodes:
        if n.id in placed:
            continue
        if n.kind == STORE and producer_column(n) is not None:  # persisted to: after its sink
            source = [placed[e.source] for e in incoming[n.id] if e.source in placed][0]
            place(n, source[0] + 1, [source[1], *(r for r in down if r != source[1])])
        else:  # a store looked up, or an extra source: above the operator it feeds
            users = [placed[e.target][0] for e in outgoing.get(n.id, []) if e.target in placed]
            column = users[0] if users else 0
            if n.kind == SOURCE:
                column = max(column - 1, 0)
            place(n, column, up)


def to_svg(g: Graph) -> str:
    layout(g)
    sizes = {n.id: _size(n) for n in g.nodes}
    columns = sorted({n.column for n in g.nodes}) or [0]
    rows = sorted({n.row for n in g.nodes}) or [0]
    col_w = {c: max(sizes[n.id][0] for n in g.nodes if n.column == c) for c in columns}
    gap: Dict[int, float] = {}
    for e in g.edges:
        a, b = g.node(e.source), g.node(e.target)
        if e.label and a.column != b.column:
            left = min(a.column, b.column)
            gap[left] = max(gap.get(left, COL_GAP), len(e.label) * 6.0 + 36)
    col_x: Dict[int, float] = {}
    x = float(MARGIN)
    for c in range(min(columns), max(columns) + 1):
        col_x[c] = x
        x += col_w.get(c, 40) + gap.get(c, COL_GAP)
    width = max(x - gap.get(max(columns), COL_GAP) + MARGIN, 320)
    title = f"proc {g.proc}"
    subtitle = g.path + ("  ·  " + "  ·  ".join(g.settings) if g.settings else "")
    width = max(width, len(subtitle) * 6.0 + 2 * MARGIN, len(title) * 8.4 + 2 * MARGIN)
    height = TITLE_H + MARGIN * 2 + (rows[-1] - rows[0]) * ROW_H + NODE_H2

    centre: Dict[str, Tuple[float, float]] = {}
    for n in g.nodes:
        w, _ = sizes[n.id]
        cx = col_x[n.column] + col_w[n.column] / 2
        cy = TITLE_H + MARGIN + (n.row - rows[0]) * ROW_H + NODE_H2 / 2
        centre[n.id] = (cx, cy)

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" '
        f'height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" '
        'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace">',
        f"<title>{_xml(title)}</title>",
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#546e7a"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{_num(width)}" height="{_num(height)}" fill="#fafafa"/>',
        f'<text x="{MARGIN}" y="22" font-size="14" font-weight="bold" fill="#263238">'
        f"{_xml(title)}</text>",
        f'<text x="{_num(MARGIN + len(title) * 8.4 + 12)}" y="22" font-size="10" '
        f'fill="#607d8b">{_xml(subtitle)}</text>',
    ]
    # Edges first, so that nodes are drawn over their ends.
    for e in g.edges:
        out.extend(_svg_edge(e, g, centre, sizes))
    for n in g.nodes:
        out.extend(_svg_node(n, centre[n.id], sizes[n.id]))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _anchor(
    c: Tuple[float, float], size: Tuple[float, float], towards: Tuple[float, float], side: bool
) -> Tuple[float, float]:
    """Where an edge leaves or enters a node: its left or right side between columns, its top
    or bottom within one column."""
    (x, y), (w, h) = c, size
    if side:
        return (x + (w / 2 if towards[0] > x else -w / 2), y)
    return (x, y + (h / 2 if towards[1] > y else -h / 2))


def _svg_edge(
    e: Edge,
    g: Graph,
    centre: Dict[str, Tuple[float, float]],
    sizes: Dict[str, Tuple[float, float]],
) -> List[str]:
    a, b = centre[e.source], centre[e.target]
    side = g.node(e.source).column != g.node(e.target).column
    x1, y1 = _anchor(a, sizes[e.source], b, side)
    x2, y2 = _anchor(b, sizes[e.target], a, side)
    if side:  # side to side: a horizontal S-curve
        mx = (x1 + x2) / 2
        c1, c2 = f"{_num(mx)} {_num(y1)}", f"{_num(mx)} {_num(y2)}"
        d = f"M {_num(x1)} {_num(y1)} C {c1}, {c2}, {_num(x2)} {_num(y2)}"
    else:
        my = (y1 + y2) / 2
        c1, c2 = f"{_num(x1)} {_num(my)}", f"{_num(x2)} {_num(my)}"
        d = f"M {_num(x1)} {_num(y1)} C {c1}, {c2}, {_num(x2)} {_num(y2)}"
    dash = ' stroke-dasharray="5 4"' if e.dashed else ""
    out = [
        f'<path d="{d}" fill="none" stroke="#546e7a" stroke-width="1.4"{dash} '
        'marker-end="url(#arrow)"/>'
    ]
    if e.label:
        lx, ly = (x1 + x2) / 2, (y1 + y2) / 2
        w = len(e.label) * 6.0 + 8
        out.append(
            f'<rect x="{_num(lx - w / 2)}" y="{_num(ly - 8)}" width="{_num(w)}" height="14" '
            'rx="3" fill="#fafafa" fill-opacity="0.9"/>'
        )
        out.append(
            f'<text x="{_num(lx)}" y="{_num(ly + 3)}" font-size="10" text-anchor="middle" '
            f'fill="#37474f">{_xml(e.label)}</text>'
        )
    return out


def _svg_node(n: Node, c: Tuple[float, float], size: Tuple[float, float]) -> List[str]:
    (cx, cy), (w, h) = c, size
    x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    fill, stroke = _FILL[n.kind]
    paint = f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"'
    out = [f'<g class="{n.kind}" id="{n.id}">']
    if n.line:
        out.append(f"<title>{_xml(n.label)} (line {n.line})</title>")
    if n.kind in (SOURCE, SINK):
        out.append(
            f'<rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(w)}" height="{_num(h)}" '
            f'rx="{_num(h / 2)}" {paint}/>'
        )
    elif n.kind == RULES:
        k = 12
        pts = [(x0, cy), (x0 + k, y0), (x1 - k, y0), (x1, cy), (x1 - k, y1), (x0 + k, y1)]
        out.append(f'<polygon points="{_points(pts)}" {paint}/>')
    elif n.kind == TABLE:
        out.append(
            f'<rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(w)}" height="{_num(h)}" {paint}/>'
        )
        for xx in (x0 + 8, x1 - 8):
            out.append(
                f'<line x1="{_num(xx)}" y1="{_num(y0)}" x2="{_num(xx)}" y2="{_num(y1)}" '
                f'stroke="{stroke}" stroke-width="1"/>'
            )
    elif n.kind == TRANSFORM:
        k = 10
        pts = [(x0 + k, y0), (x1, y0), (x1 - k, y1), (x0, y1)]
        out.append(f'<polygon points="{_points(pts)}" {paint}/>')
    elif n.kind == STORE:
        ry = 6
        out.append(
            f'<path d="M {_num(x0)} {_num(y0 + ry)} A {_num(w / 2)} {ry} 0 0 1 {_num(x1)} '
            f"{_num(y0 + ry)} L {_num(x1)} {_num(y1 - ry)} A {_num(w / 2)} {ry} 0 0 1 "
            f'{_num(x0)} {_num(y1 - ry)} Z" {paint}/>'
        )
        out.append(
            f'<path d="M {_num(x0)} {_num(y0 + ry)} A {_num(w / 2)} {ry} 0 0 0 {_num(x1)} '
            f'{_num(y0 + ry)}" fill="none" stroke="{stroke}" stroke-width="1.5"/>'
        )
    else:
        out.append(
            f'<rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(w)}" height="{_num(h)}" '
            f'rx="4" {paint}/>'
        )
    if n.detail:
        out.append(
            f'<text x="{_num(cx)}" y="{_num(cy - 2)}" font-size="12" text-anchor="middle" '
            f'fill="#263238">{_xml(n.label)}</text>'
        )
        out.append(
            f'<text x="{_num(cx)}" y="{_num(cy + 13)}" font-size="10" text-anchor="middle" '
            f'fill="#607d8b">{_xml(n.detail)}</text>'
        )
    else:
        out.append(
            f'<text x="{_num(cx)}" y="{_num(cy + 4)}" font-size="12" text-anchor="middle" '
            f'fill="#263238">{_xml(n.label)}</text>'
        )
    out.append("</g>")
    return out


def _points(pts: Sequence[Tuple[float, float]]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in pts)


# --- the command ----------------------------------------------------------------------------------


def _project_files(args: argparse.Namespace) -> Optional[Tuple[List[str], Path]]:
    """The DSL files or directories to read, and the directory paths are shown relative to
    (the project's root, else the current directory)."""
    from nexflow_core.tool.config import ConfigError, find_project, load_config

    root = Path(args.project) if args.project else find_project(Path.cwd())
    base = (root or Path.cwd()).resolve()
    if args.paths:
        return list(args.paths), base
    if root is None:
        return ["."], base
    try:
        config = load_config(base)
    except ConfigError as e:
        sys.stderr.write(f"nexflow graph: {e}\n")
        return None
    return [str(d) for d in config.source_dirs() if d.is_dir()], base


def _shown(path: str, base: Path) -> str:
    """`path` as the graph names it: relative to `base` when it is below it, so the output is
    the same in every checkout."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return Path(path).as_posix()


def run_graph(args: argparse.Namespace) -> int:
    from nexflow_core.project import check_project

    found_files = _project_files(args)
    if found_files is None:
        return 1
    paths, base = found_files
    project = check_project(paths)
    found = None
    procs = []
    for path in sorted(project.modules):
        for decl in project.modules[path].decls:
            if isinstance(decl, ast.ProcDecl):
                procs.append(decl.name)
                if decl.name == args.proc and found is None:
                    found = (decl, path)
    if found is None:
        known = ", ".join(sorted(procs)) if procs else "none"
        sys.stderr.write(f"nexflow graph: error: no proc named '{args.proc}'; procs: {known}\n")
        return 1
    decl, path = found
    own = [d for d in project.errors if d.span.file == path]
    if own:
        sys.stderr.write(render_text(own, project.sources))
        sys.stderr.write(f"nexflow graph: error: fix the errors in {path} first\n")
        return 1
    if project.errors:
        n = len(project.errors)
        sys.stderr.write(
            f"nexflow graph: warning: the project has {n} error(s) elsewhere "
            "(`nexflow check` lists them); the graph may be incomplete\n"
        )
    # The schema of each stream the proc reads or writes (for labels); what each `apply`
    # applies comes from the checker's flow.
    streams: Dict[str, str] = {}
    for ref in ast.references(decl):
        if ref.kind == "stream":
            sig = project.stream(ref.name)
            if sig is not None:
                streams[ref.name] = sig.schema
    shown = _shown(path, base)
    flow = project.proc_flow(decl.name)
    graph = build_graph(decl, shown, project.sources[path], streams, flow)
    fmt = args.format
    if fmt is None:
        fmt = "svg" if args.output and args.output.lower().endswith(".svg") else "mermaid"
    text = to_svg(graph) if fmt == "svg" else to_mermaid(graph)
    if args.output:
        try:
            Path(args.output).write_bytes(text.encode("utf-8"))
        except OSError as e:
            sys.stderr.write(f"nexflow graph: error: cannot write {args.output} ({e.strerror})\n")
            return 1
        sys.stdout.write(f"wrote {args.output} ({fmt})\n")
    else:
        sys.stdout.write(text)
    return 0
