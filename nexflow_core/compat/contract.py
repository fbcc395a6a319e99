"""Which consumers a schema change breaks: the record schema each stream and store carried in
the baseline release against the one it carries in the current sources, under the
compatibility mode the stream or store declares (`compatibility backward|forward|full|none`,
default backward) — what `buf breaking` does for protobuf, for streams.

`contract_findings(baseline_interfaces, current)` is the one entry point (the upgrade gate,
`nexflow compat`, calls it). The field comparison is check/evolution.py's, the one the
checker's NX407 uses for consecutive `version`s; the rules per change and mode are
documented in docs/language/schema.md ("Evolving a stream's schema").

Findings point at the CURRENT sources: the field (or enum value) that changed, or the
declaration of the stream or store when the change has no line of its own (a removed field
or enum value, a store's `key`). A stream or store that only one side declares, or whose
schema only one side knows, is not compared (adding or dropping a stream is the state
gate's and the environment's business).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Optional, Union

from nexflow_core import ast
from nexflow_core.check.evolution import MODES, Change, Comparison, breaks
from nexflow_core.check.symbols import Symbols
from nexflow_core.diagnostics import Diagnostic, Span, file_span, sort_key
from nexflow_core.interface.model import ProcSig, SchemaSig, StoreSig, StreamSig, UnitInterface
from nexflow_core.project import CheckedProject

# One code per family of change (docs/diagnostics.md).
CODES = {
    "removed": "NX621",
    "removed_required": "NX621",
    "added": "NX622",
    "added_required": "NX622",
    "renamed": "NX623",
    "widened": "NX624",
    "narrowed": "NX624",
    "retyped": "NX624",
    "scale": "NX624",
    "made_required": "NX625",
    "made_optional": "NX625",
    "value_added": "NX626",
    "value_removed": "NX626",
    "key_changed": "NX627",
    "event_time_changed": "NX628",
}

FIX = {
    "removed": "keep the field",
    "removed_required": "keep the field, or release a version where it is optional or has a "
    "default first",
    "added": "",
    "added_required": "give the new field a default (`= …`) or make it optional (`?`)",
    "renamed": "keep the old name (a rename is a removal plus an addition), or add the new "
    "field beside the old one",
    "widened": "keep the type until every consumer reads the wider one",
    "narrowed": "keep the type, or add a field of the narrower type beside it",
    "retyped": "keep the type and add a field of the new type beside it",
    "scale": "keep the decimal's scale and integer digits, or add a new field",
    "made_required": "keep the field optional, or give it a default",
    "made_optional": "keep the field required until every consumer accepts null",
    "value_added": "release the readers that know the new value first",
    "value_removed": "keep the value until no record holds it",
    "key_changed": "keep the key, or write to a new stream or store",
    "event_time_changed": "keep the event-time field, or write to a new stream",
}


class _Carrier(NamedTuple):
    what: str  # "stream" | "store"
    name: str
    old: Union[StreamSig, StoreSig]
    new: Union[StreamSig, StoreSig]
    decl: Optional[Union[ast.StreamDecl, ast.StoreDecl]]
    path: str


def contract_findings(
    baseline_interfaces: Mapping[str, UnitInterface], current: CheckedProject
) -> list[Diagnostic]:
    """The NX621–NX628 findings of every stream and store that the baseline release and the
    current sources both declare: errors for the changes that break the stream's or store's
    compatibility mode (as the current sources declare it), warnings for suspected renames
    that break nothing but drop the old field's values. `baseline_interfaces`: the baseline's
    unit interfaces (keyed by their path; only their content is used). `current`: the checked
    current sources (`nexflow_core.project.check_project`); a project with errors may give
    partial findings (what does not resolve is not compared), so check it first."""
    old = Symbols()
    for u in sorted(baseline_interfaces.values(), key=lambda u: u.path):
        old.add_unit(u)
    new = current.symbols
    decls = _carrier_decls(current)
    out: list[Diagnostic] = []
    for what, old_space, new_space in (
        ("stream", old.streams, new.streams),
        ("store", old.stores, new.stores),
    ):
        for name in sorted(set(old_space) & set(new_space)):
            o, n = old_space[name], new_space[name]
            carrier = _Carrier(what, name, o.sig, n.sig, decls.get((what, name)), n.path)
            out.extend(_carrier_findings(carrier, old, new, current))
    out.sort(key=sort_key)
    return out


def _carrier_decls(
    current: CheckedProject,
) -> dict[tuple[str, str], Union[ast.StreamDecl, ast.StoreDecl]]:
    out: dict[tuple[str, str], Union[ast.StreamDecl, ast.StoreDecl]] = {}
    for d in current.decls():
        if isinstance(d, ast.StreamDecl):
            out.setdefault(("stream", d.name), d)
        elif isinstance(d, ast.StoreDecl):
            out.setdefault(("store", d.name), d)
    return out


def _carrier_findings(
    c: _Carrier, old: Symbols, new: Symbols, current: CheckedProject
) -> list[Diagnostic]:
    mode = c.new.compatibility
    if mode not in MODES or mode == "none":
        return []  # an unknown mode is the checker's NX620
    old_schema, new_schema = old.schema(c.old.schema), new.schema(c.new.schema)
    if old_schema is None or new_schema is None:
        return []
    changes = Comparison(old, new).schemas(old_schema, new_schema)
    if isinstance(c.old, StoreSig) and isinstance(c.new, StoreSig):
        changes = [x for x in changes if x.kind != "key_changed"]
        changes.extend(_store_key_change(c.old, c.new, old_schema, new_schema))
    out = []
    readers = _Readers(c, old, new, current)
    for change in changes:
        broken = breaks(change, mode)
        if not broken and change.kind != "renamed":
            continue
        span, related = _where(change, c, current)
        out.append(
            Diagnostic(
                CODES[change.kind],
                "error" if broken else "warning",
                _message(change, c, mode, broken, readers, new_schema),
                span,
                expected=f"a change compatibility {mode} allows",
                hint=FIX[change.kind] or None,
                related=related,
            )
        )
    return out


def _store_key_change(
    old: StoreSig, new: StoreSig, old_schema: SchemaSig, new_schema: SchemaSig
) -> list[Change]:
    """A store's key: its `key` field, else its schema's @key fields."""

    def key(s: StoreSig, schema: SchemaSig) -> list[str]:
        return [s.key] if s.key else sorted(f.name for f in schema.fields if f.key)

    ok, nk = key(old, old_schema), key(new, new_schema)
    if ok == nk:
        return []
    shown = [", ".join(f"`{k}`" for k in keys) or "none" for keys in (ok, nk)]
    detail = f"key of store {new.name} changed from {shown[0]} to {shown[1]}"
    member = "" if new.key else (nk[0] if nk else "")
    return [Change("key_changed", "", new_schema.name, member, detail, True, True)]


class _Readers:
    """Who reads a stream or store: procs of the current sources (readers of the new schema)
    and procs of the baseline (readers of the old one, until they are upgraded)."""

    def __init__(self, c: _Carrier, old: Symbols, new: Symbols, current: CheckedProject) -> None:
        self.carrier = c
        self.new = self._current(c, new, current)
        self.old = [
            f"{e.sig.name} ({e.path})"
            for _, e in sorted(old.types.items())
            if e.what == "proc" and _uses(e.sig, c)
        ]

    @staticmethod
    def _current(c: _Carrier, new: Symbols, current: CheckedProject) -> list[str]:
        # The statements that read it, from the local ASTs; an upstream proc (interface only)
        # by its signature.
        local: dict[str, list[str]] = {}
        for d in current.decls(ast.ProcDecl):
            assert isinstance(d, ast.ProcDecl)
            local[d.name] = sorted(set(_reading_statements(d, c, new)))
        out = []
        for name, e in sorted(new.types.items()):
            if e.what != "proc":
                continue
            if name in local:
                if local[name]:
                    out.append(f"{name} ({e.path}: {', '.join(local[name])})")
            elif _uses(e.sig, c):
                out.append(f"{name} ({e.path})")
        return out


def _uses(p: ProcSig, c: _Carrier) -> bool:
    return c.name in (p.sources if c.what == "stream" else p.stores)


def _reading_statements(d: ast.ProcDecl, c: _Carrier, new: Symbols) -> list[str]:
    out = []
    for node in ast.walk(d.statements):
        if c.what == "stream":
            if isinstance(node, ast.FromStmt) and node.stream == c.name:
                out.append(f"`from {c.name}`")
            elif isinstance(node, ast.CorrelateStmt) and node.partner == c.name:
                out.append(f"`correlate with {c.name}`")
            elif isinstance(node, ast.JoinStmt) and node.stream == c.name:
                out.append(f"`join {c.name}`")
        else:
            if isinstance(node, ast.LookupStmt) and node.store == c.name:
                out.append(f"`lookup {c.name}`")
    if c.what == "store":
        for r in ast.references(d):
            if r.kind in ("function", "transform"):
                t = new.transform(r.name)
                if t is not None and any(lk.store == c.name for lk in t.lookups):
                    out.append(f"`lookup … from {c.name}` in transform {r.name}")
    return out


def _message(
    change: Change,
    c: _Carrier,
    mode: str,
    broken: bool,
    readers: _Readers,
    schema: SchemaSig,
) -> str:
    what = f"{c.what} {c.name}"
    head = f"{schema.name}: {change.detail}"
    if not broken:
        return (
            f"{head}; {what} (compatibility {mode}) still reads, but its upgraded readers do "
            "not see the values old records hold under the old name"
        )
    sides = []  # (who reads it, what goes wrong for them)
    if change.backward and mode in ("backward", "full"):
        who = (
            "read by " + ", ".join(readers.new)
            if readers.new
            else "read by no proc of this project (consumers outside it still read it)"
        )
        sides.append((who, _consequence(change, c, True)))
    if change.forward and mode in ("forward", "full"):
        who = (
            "read in the baseline by " + ", ".join(readers.old)
            if readers.old
            else "read by no proc of the baseline (consumers outside it still read it)"
        )
        sides.append((who, _consequence(change, c, False)))
    if len(sides) == 2 and sides[0][1] == sides[1][1]:
        sides = [(f"{sides[0][0]}, and {sides[1][0]}", sides[0][1])]
    parts = [f"{what} (compatibility {mode}) is {who}: {why}" for who, why in sides]
    return f"{head}: " + "; ".join(parts)


def _consequence(change: Change, c: _Carrier, backward: bool) -> str:
    """What goes wrong for the readers on one side of the upgrade."""
    if change.kind == "key_changed":
        if c.what == "store":
            return "records stored before the upgrade are not found under the new key"
        return "a key's records before and after the upgrade are partitioned apart, out of order"
    if change.kind == "event_time_changed":
        return (
            "records before and after the upgrade are timed by different fields (windows, "
            "lateness and order shift)"
        )
    records = "records stored" if c.what == "store" else "records written"
    if backward:
        return f"readers of the new schema can fail {records} before the upgrade"
    return f"readers of the old schema (not yet upgraded) can fail {records} after the upgrade"


def _where(change: Change, c: _Carrier, current: CheckedProject) -> tuple[Span, Optional[Span]]:
    """The current line of the change, and the declaration of the stream or store (or of the
    schema, when the change is reported at the stream or store)."""
    carrier = c.decl.span if c.decl is not None else file_span(c.path)
    schema_decl = _schema_decl(current, change.schema)
    if change.member:
        if isinstance(schema_decl, ast.SchemaDecl):
            for f in schema_decl.fields:
                if f.name == change.member:
                    return f.span, carrier
        elif isinstance(schema_decl, ast.EnumDecl):
            for m in schema_decl.members:
                if m.name == change.member:
                    return m.span, carrier
    return carrier, schema_decl.span if schema_decl is not None else None


def _schema_decl(
    current: CheckedProject, name: str
) -> Optional[Union[ast.SchemaDecl, ast.EnumDecl]]:
    """The current declaration of a schema (its highest version) or enum."""
    found: Optional[Union[ast.SchemaDecl, ast.EnumDecl]] = None
    for d in current.decls():
        if isinstance(d, ast.EnumDecl) and d.name == name and found is None:
            found = d
        elif isinstance(d, ast.SchemaDecl) and d.name == name:
            if not isinstance(found, ast.SchemaDecl) or (d.version or 0) > (found.version or 0):
                found = d
    return found
