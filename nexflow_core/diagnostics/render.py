"""Rendering diagnostics: human text (file:line:col, the offending line, a caret) and JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

import msgspec

from nexflow_core.diagnostics.catalogue import title
from nexflow_core.diagnostics.diagnostic import Diagnostic, sort_key


def _source_line(sources: Mapping[str, str], file: str, line: int) -> Optional[str]:
    text = sources.get(file)
    if text is None:
        return None
    lines = text.splitlines()
    if 1 <= line <= len(lines):
        return lines[line - 1].replace("\t", " ")
    return None


def render_one(d: Diagnostic, sources: Optional[Mapping[str, str]] = None) -> str:
    """One diagnostic as human text. `sources` maps file paths to their text so the offending
    line can be shown with a caret under the location."""
    s = d.span
    out: list[str] = [f"{s.location()}: {d.severity}[{d.code}]: {d.message}"]
    line = _source_line(sources or {}, s.file, s.line)
    if line is not None:
        gutter = str(s.line)
        pad = " " * len(gutter)
        width = 1
        if s.end_line == s.line and s.end_column > s.column:
            width = s.end_column - s.column
        col = max(s.column, 1)
        width = max(1, min(width, max(1, len(line) - col + 1)))
        out.append(f" {gutter} | {line}")
        out.append(f" {pad} | {' ' * (col - 1)}{'^' * width}")
    if d.expected:
        out.append(f"  expected: {d.expected}")
    if d.hint:
        out.append(f"  hint: {d.hint}")
    if d.related is not None:
        out.append(f"  see also: {d.related.location()}")
    return "\n".join(out)


def render_text(diagnostics: list[Diagnostic], sources: Optional[Mapping[str, str]] = None) -> str:
    """All diagnostics, sorted by location, separated by blank lines, plus a summary line."""
    ds = sorted(diagnostics, key=sort_key)
    parts = [render_one(d, sources) for d in ds]
    errors = sum(1 for d in ds if d.is_error)
    warnings = len(ds) - errors
    parts.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n\n".join(parts) + "\n"


def to_jsonable(d: Diagnostic) -> dict[str, object]:
    """A plain dict for one diagnostic (stable keys), including the code's title."""
    data = msgspec.to_builtins(d)
    assert isinstance(data, dict)
    data["title"] = title(d.code)
    return data


def render_json(diagnostics: list[Diagnostic]) -> str:
    """All diagnostics as one JSON document: {"diagnostics": [...], "errors": n, "warnings": n}."""
    ds = sorted(diagnostics, key=sort_key)
    errors = sum(1 for d in ds if d.is_error)
    doc = {
        "diagnostics": [to_jsonable(d) for d in ds],
        "errors": errors,
        "warnings": len(ds) - errors,
    }
    return msgspec.json.encode(doc, order="sorted").decode("utf-8") + "\n"
