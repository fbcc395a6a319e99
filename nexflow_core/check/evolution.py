"""What changed between two versions of a record schema, and whom each change breaks.

One comparison serves two callers: the checker's NX407 (consecutive `version`s of one schema
in the project) and the upgrade gate's contract check (compat/contract.py: the schema a
stream or store carried in the baseline release against the one it carries now).

Every change says whether it breaks each direction of reading, as the Schema Registry's
compatibility modes define them:

- `backward`: a reader of the NEW schema can no longer read every record written with the
  OLD one (records still in the topic or the store when the upgraded job starts);
- `forward`: a reader of the OLD schema can no longer read every record written with the NEW
  one (consumers not yet upgraded).

The rules are Avro's schema resolution where Avro has one, on the JSON records the generated
jobs read (runtime Json.java and the record contracts): a field the reader does not know is
ignored; a field the reader needs and the record lacks takes the reader's default, is null if
it is optional (an optional field has the implicit default null), and otherwise fails the
record (REQUIRED); a value the reader's type cannot hold fails it (a long in an int, a
decimal with more digits or decimals than declared, an enum symbol or an `@enum` text the
reader does not list).
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from nexflow_core import typemodel as T
from nexflow_core.check.symbols import Symbols
from nexflow_core.interface.model import FieldSig, SchemaSig
from nexflow_core.typemodel import Type

MODES = ("backward", "forward", "full", "none")
DEFAULT_MODE = "backward"
# Schema Registry's transitive modes compare with every earlier version; the gate has one
# baseline release, so they are refused with a pointer to the plain mode (NX620).
TRANSITIVE = ("backward_transitive", "forward_transitive", "full_transitive")

# kind -> (breaks backward, breaks forward) for the kinds whose verdict does not depend on
# the types involved ("widened", "narrowed", "retyped" and "scale" compute theirs).
RULES: dict[str, tuple[bool, bool]] = {
    "added": (False, False),  # with a default, or optional (default null)
    "added_required": (True, False),  # old records lack it: the new reader fails them
    "removed": (False, False),  # the old reader falls back on its default / null
    "removed_required": (False, True),  # new records lack what the old reader requires
    "made_required": (True, False),  # old records may hold null
    "made_optional": (False, True),  # new records may hold null
    "value_added": (False, True),  # an old reader does not know the new value
    "value_removed": (True, False),  # old records may hold the removed value
    "key_changed": (True, True),  # records are identified (stored, partitioned) differently
    "event_time_changed": (True, True),  # the same record gets another time on each side
}


class Change(NamedTuple):
    """One difference between an old and a new schema.

    `path`: the field path from the compared record (`customer.address.zip`, `tags[]` for a
    list's items); `schema` and `member`: where the change is in the NEW sources (the schema
    and field, or the enum and member); `member` is "" for a change without a line of its own
    in them (a removed field: then `schema` is the new schema that lost it)."""

    kind: str
    path: str
    schema: str
    member: str
    detail: str
    backward: bool
    forward: bool
    old_type: Optional[Type] = None
    new_type: Optional[Type] = None

    def breaks(self, mode: str) -> bool:
        return breaks(self, mode)


def breaks(change: Change, mode: str) -> bool:
    """Does `change` break a stream or store declared `compatibility <mode>`?"""
    if mode == "backward":
        return change.backward
    if mode == "forward":
        return change.forward
    if mode == "full":
        return change.backward or change.forward
    return False


def _make(kind: str, path: str, schema: str, member: str, detail: str, **types: Type) -> Change:
    back, fwd = RULES[kind]
    return Change(kind, path, schema, member, detail, back, fwd, **types)


def required(f: FieldSig) -> bool:
    """A field a reader cannot do without: not optional and without a default."""
    return not f.type.nullable and not f.has_default


def reads(reader: Type, writer: Type) -> bool:
    """Can a reader of scalar type `reader` hold every value written as `writer`? (Types
    compared without nullability; records, enums and containers are compared by the caller.)"""
    if reader.kind == "any" or writer.kind == "any":
        return True
    exact = ("int", "long", "decimal")
    if reader.kind in exact and writer.kind in exact:
        if reader.kind == writer.kind and reader.kind != "decimal":
            return True
        # The runtime's Validation.fitsDecimal: no more decimals and no more integer digits
        # than declared (int and long are decimal(10,0) and decimal(19,0)).
        rp, rs = T.as_decimal(reader)
        wp, ws = T.as_decimal(writer)
        return rs >= ws and rp - rs >= wp - ws
    if reader.kind == writer.kind:
        return True
    return (writer.kind, reader.kind) in T.WIDENS


class Comparison:
    """Compares records of an old symbol table with those of a new one. `deep`: also compare
    the records and enums that fields refer to (by their declarations on each side) and the
    items of lists and maps; `renames`: report a removed field and an added one of the same
    type as one suspected rename; `roles`: compare the key and event-time fields of the
    top record."""

    def __init__(
        self,
        old: Symbols,
        new: Symbols,
        *,
        deep: bool = True,
        renames: bool = True,
        roles: bool = True,
    ) -> None:
        self.old = old
        self.new = new
        self.deep = deep
        self.renames = renames
        self.roles = roles
        self._seen: set[tuple[str, str]] = set()

    # records -------------------------------------------------------------------------
    def schemas(self, old: SchemaSig, new: SchemaSig, prefix: str = "") -> list[Change]:
        """The changes from `old` to `new`: per field of `new` in order (added, or changed),
        then the removed fields; at the top (no prefix) also the key and event-time fields
        if `roles`."""
        if (old.name, new.name) in self._seen:
            return []
        self._seen.add((old.name, new.name))
        out: list[Change] = []
        old_fields = {f.name: f for f in old.fields}
        new_names = {f.name for f in new.fields}
        added = [f for f in new.fields if f.name not in old_fields]
        removed = [f for f in old.fields if f.name not in new_names]
        pairs = self._renames(removed, added) if self.renames else {}
        renamed_to = {n.name: o for o, n in pairs.values()}
        for f in new.fields:
            path = prefix + f.name
            prev = old_fields.get(f.name)
            if prev is None:
                was = renamed_to.get(f.name)
                if was is not None:
                    out.append(self._rename(was, f, prefix, new.name))
                elif required(f):
                    detail = f"field `{path}` added without a default"
                    out.append(_make("added_required", path, new.name, f.name, detail))
                else:
                    how = "with a default" if f.has_default else "optional"
                    out.append(
                        _make("added", path, new.name, f.name, f"field `{path}` added ({how})")
                    )
                continue
            out.extend(self.fields(prev, f, path, new.name))
        for f in removed:
            if f.name in pairs:
                continue
            path = prefix + f.name
            if required(f):
                detail = f"required field `{path}` removed"
                out.append(_make("removed_required", path, new.name, "", detail))
            else:
                how = "with a default" if f.has_default else "optional"
                detail = f"field `{path}` removed ({how})"
                out.append(_make("removed", path, new.name, "", detail))
        if not prefix and self.roles:
            out.extend(self._roles(old, new))
        return out

    def _renames(
        self, removed: list[FieldSig], added: list[FieldSig]
    ) -> dict[str, tuple[FieldSig, FieldSig]]:
        """Removed field name -> (old field, new field) where exactly one added field has the
        removed one's type and no other removed field has it."""

        def key(f: FieldSig, syms: Symbols) -> str:
            return syms.resolve(f.type).display()

        old_keys = [key(f, self.old) for f in removed]
        new_keys = [key(f, self.new) for f in added]
        out = {}
        for f, k in zip(removed, old_keys):
            if old_keys.count(k) == 1 and new_keys.count(k) == 1:
                out[f.name] = (f, added[new_keys.index(k)])
        return out

    def _rename(self, old: FieldSig, new: FieldSig, prefix: str, schema: str) -> Change:
        # JSON records carry field names: a rename is a removal plus an addition, and breaks
        # what either of them breaks.
        back = required(new)
        fwd = required(old)
        why = []
        if back:
            why.append(f"old records have no `{new.name}` and it has no default")
        if fwd:
            why.append(f"new records have no `{old.name}`, which old readers require")
        if not why:
            why.append(f"old records' `{old.name}` values are not read into `{new.name}`")
        detail = (
            f"field `{prefix}{old.name}` looks renamed to `{prefix}{new.name}` (same type): "
            "records carry field names, so a rename is a removal plus an addition; "
            + "; ".join(why)
        )
        return Change("renamed", prefix + new.name, schema, new.name, detail, back, fwd)

    def _roles(self, old: SchemaSig, new: SchemaSig) -> list[Change]:
        out = []
        ok = sorted(f.name for f in old.fields if f.key)
        nk = sorted(f.name for f in new.fields if f.key)
        if ok != nk:
            detail = f"key of {new.name} changed from {_names(ok)} to {_names(nk)}"
            out.append(_make("key_changed", "", new.name, nk[0] if nk else "", detail))
        oe = next((f.name for f in old.fields if f.event_time), None)
        ne = next((f.name for f in new.fields if f.event_time), None)
        if oe != ne:
            detail = (
                f"event time of {new.name} changed from {_names([oe] if oe else [])} to "
                f"{_names([ne] if ne else [])}"
            )
            out.append(_make("event_time_changed", "", new.name, ne or "", detail))
        return out

    # fields --------------------------------------------------------------------------
    def fields(self, old: FieldSig, new: FieldSig, path: str, schema: str) -> list[Change]:
        """The changes of one field kept under its name (type, optionality, allowed texts)."""
        a, b = self.old.resolve(old.type), self.new.resolve(new.type)
        out = self.types(a, b, path, schema, new.name)
        if old.allowed != new.allowed and (old.allowed or new.allowed):
            out.extend(self._allowed(old, new, path, schema))
        return out

    def _allowed(self, old: FieldSig, new: FieldSig, path: str, schema: str) -> list[Change]:
        out = []
        if not old.allowed:
            detail = f"field `{path}` now only allows {', '.join(new.allowed)}"
            return [_make("value_removed", path, schema, new.name, detail)]
        if not new.allowed:
            detail = f"field `{path}` no longer limits its values to {', '.join(old.allowed)}"
            return [_make("value_added", path, schema, new.name, detail)]
        gone = [v for v in old.allowed if v not in new.allowed]
        extra = [v for v in new.allowed if v not in old.allowed]
        if extra:
            detail = f"@enum value(s) {', '.join(extra)} added to field `{path}`"
            out.append(_make("value_added", path, schema, new.name, detail))
        if gone:
            detail = f"@enum value(s) {', '.join(gone)} removed from field `{path}`"
            out.append(_make("value_removed", path, schema, new.name, detail))
        return out

    def types(self, a: Type, b: Type, path: str, schema: str, member: str) -> list[Change]:
        """The changes from resolved type `a` (old) to `b` (new) of the field at `path`."""
        if a.kind == "any" or b.kind == "any":
            return []
        out: list[Change] = []
        if a.nullable and not b.nullable:
            detail = f"field `{path}` made required (was optional)"
            out.append(_make("made_required", path, schema, member, detail))
        elif b.nullable and not a.nullable:
            detail = f"field `{path}` made optional (was required)"
            out.append(_make("made_optional", path, schema, member, detail))
        out.extend(self._kinds(a, b, path, schema, member))
        return out

    def _kinds(self, a: Type, b: Type, path: str, schema: str, member: str) -> list[Change]:
        shown = (
            f"from {T.with_nullable(a, False).display()} to {T.with_nullable(b, False).display()}"
        )
        if a.kind == b.kind and a.kind in ("list", "map") and self.deep:
            suffix = "[]" if a.kind == "list" else "{}"
            out = []
            for x, y in zip(a.args, b.args):
                out.extend(self.types(x, y, path + suffix, schema, member))
            return out
        if a.kind == b.kind == "record" and self.deep:
            os_, ns = self.old.schema(a.name or ""), self.new.schema(b.name or "")
            if os_ is None or ns is None:
                return []
            return self.schemas(os_, ns, path + ".")
        if a.kind == b.kind == "enum" and self.deep:
            return self._enums(a, b, path)
        if T.same(a, b) and a.kind not in ("decimal", "list", "map", "struct"):
            return []
        if a.kind in ("list", "map", "record", "enum", "struct") or b.kind in (
            "list",
            "map",
            "record",
            "enum",
            "struct",
        ):
            if T.same(a, b):
                return []
            detail = f"field `{path}` changed {shown}"
            return [Change("retyped", path, schema, member, detail, True, True, a, b)]
        newer, older = reads(b, a), reads(a, b)
        if newer and older:
            return []
        if a.kind == b.kind == "decimal" and a.scale != b.scale:
            detail = f"field `{path}` changed scale {shown}"
            kind = "scale"
        elif newer:
            kind, detail = "widened", f"field `{path}` widened {shown}"
        elif older:
            kind, detail = "narrowed", f"field `{path}` narrowed {shown}"
        else:
            kind, detail = "retyped", f"field `{path}` changed {shown}"
        return [Change(kind, path, schema, member, detail, not newer, not older, a, b)]

    def _enums(self, a: Type, b: Type, path: str) -> list[Change]:
        old, new = self.old.enum(a.name or ""), self.new.enum(b.name or "")
        if old is None or new is None or (a.name, b.name) in self._seen:
            return []
        self._seen.add((a.name or "", b.name or ""))
        out = []
        for m in new.members:
            if m not in old.members:
                detail = f"value {m} added to enum {new.name} (field `{path}`)"
                out.append(_make("value_added", path, new.name, m, detail))
        gone = [m for m in old.members if m not in new.members]
        if gone:
            detail = f"value(s) {', '.join(gone)} removed from enum {new.name} (field `{path}`)"
            out.append(_make("value_removed", path, new.name, "", detail))
        return out


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "none"
