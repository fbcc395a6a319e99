"""The project-wide symbol table, built from unit interfaces (local units and upstream
interface files alike), with layering-aware lookups."""

from __future__ import annotations

import difflib
from typing import Any, Optional

from nexflow_core.interface.model import (
    EnumSig,
    FieldSig,
    RulesetSig,
    SchemaSig,
    StoreSig,
    StreamSig,
    TableSig,
    TransformSig,
    UnitInterface,
)
from nexflow_core.typemodel import FieldType, Type, with_nullable

# Which unit kinds a unit of each kind may depend on (DESIGN §3 layering).
ALLOWED: dict[str, tuple[str, ...]] = {
    "schema": ("schema",),
    "transform": ("schema", "transform"),
    "rules": ("schema", "transform", "rules"),
    "proc": ("schema", "transform", "rules", "proc"),
    "infra": ("schema",),
}
LAYER_NAME = {
    "schema": "L2 schema",
    "transform": "L3 transform",
    "rules": "L4 rules",
    "proc": "L1 proc",
    "infra": "L5 infra",
}
WHAT = {
    "schema": "a schema",
    "enum": "an enum",
    "transform": "a transform",
    "ruleset": "a ruleset",
    "table": "a decision table",
    "proc": "a proc",
}


class Entry:
    """A declared name: what it is (`what`), its signature and the unit that owns it."""

    __slots__ = ("path", "sig", "unit_kind", "what")

    def __init__(self, what: str, sig: Any, path: str, unit_kind: str) -> None:
        self.what = what
        self.sig = sig
        self.path = path
        self.unit_kind = unit_kind


class Symbols:
    """Names across the project. `types` is the one namespace of schemas, enums, transforms,
    rulesets, decision tables and procs; streams, stores and environments have their own."""

    def __init__(self) -> None:
        self.types: dict[str, Entry] = {}
        self.schema_versions: dict[str, list[Entry]] = {}
        self.streams: dict[str, Entry] = {}
        self.stores: dict[str, Entry] = {}
        self.duplicates: list[tuple[str, str, Entry, Entry]] = []

    # building ------------------------------------------------------------------------
    def _put(self, space: dict[str, Entry], ns: str, name: str, e: Entry) -> None:
        old = space.get(name)
        if old is not None:
            self.duplicates.append((ns, name, old, e))
            return
        space[name] = e

    def add_unit(self, u: UnitInterface) -> None:
        k = u.kind
        for s in u.schemas:
            e = Entry("schema", s, u.path, k)
            versions = self.schema_versions.setdefault(s.name, [])
            if s.version is not None and all(
                v.sig.version is not None and v.sig.version != s.version for v in versions
            ):
                versions.append(e)
                cur = self.types.get(s.name)
                if cur is None or (cur.what == "schema" and (cur.sig.version or 0) < s.version):
                    self.types[s.name] = e
                continue
            versions.append(e)
            self._put(self.types, "type", s.name, e)
        for n in u.enums:
            self._put(self.types, "type", n.name, Entry("enum", n, u.path, k))
        for t in u.transforms:
            self._put(self.types, "type", t.name, Entry("transform", t, u.path, k))
        for r in u.rulesets:
            self._put(self.types, "type", r.name, Entry("ruleset", r, u.path, k))
        for tb in u.tables:
            self._put(self.types, "type", tb.name, Entry("table", tb, u.path, k))
        for p in u.procs:
            self._put(self.types, "type", p.name, Entry("proc", p, u.path, k))
        for st in u.streams:
            self._put(self.streams, "stream", st.name, Entry("stream", st, u.path, k))
        for so in u.stores:
            self._put(self.stores, "store", so.name, Entry("store", so, u.path, k))

    # lookups -------------------------------------------------------------------------
    def suggest(self, name: str, candidates: list[str]) -> Optional[str]:
        m = difflib.get_close_matches(name, candidates, n=1, cutoff=0.7)
        return m[0] if m else None

    def schema(self, name: str) -> Optional[SchemaSig]:
        e = self.types.get(name)
        return e.sig if e is not None and e.what == "schema" else None

    def enum(self, name: str) -> Optional[EnumSig]:
        e = self.types.get(name)
        return e.sig if e is not None and e.what == "enum" else None

    def stream(self, name: str) -> Optional[StreamSig]:
        e = self.streams.get(name)
        return e.sig if e is not None else None

    def store(self, name: str) -> Optional[StoreSig]:
        e = self.stores.get(name)
        return e.sig if e is not None else None

    def transform(self, name: str) -> Optional[TransformSig]:
        e = self.types.get(name)
        return e.sig if e is not None and e.what == "transform" else None

    def ruleset(self, name: str) -> Optional[RulesetSig]:
        e = self.types.get(name)
        return e.sig if e is not None and e.what == "ruleset" else None

    def table(self, name: str) -> Optional[TableSig]:
        e = self.types.get(name)
        return e.sig if e is not None and e.what == "table" else None

    def resolve(self, t: Type) -> Type:
        """Turn `ref` types into record/enum (deeply); unknown names become `any`."""
        if t.kind == "ref":
            e = self.types.get(t.name or "")
            if e is None or e.what not in ("schema", "enum"):
                return Type("any")
            return Type(
                "record" if e.what == "schema" else "enum", name=t.name, nullable=t.nullable
            )
        if t.args:
            return Type(
                t.kind,
                t.name,
                t.precision,
                t.scale,
                tuple(self.resolve(a) for a in t.args),
                t.fields,
                t.nullable,
            )
        if t.fields:
            return Type(
                t.kind,
                t.name,
                t.precision,
                t.scale,
                t.args,
                tuple(FieldType(f.name, self.resolve(f.type)) for f in t.fields),
                t.nullable,
            )
        return t

    def fields_of(self, t: Type) -> Optional[list[tuple[str, Type]]]:
        """The (name, resolved type) fields of a record or struct type, else None."""
        if t.kind == "record":
            s = self.schema(t.name or "")
            if s is None:
                return None
            return [(f.name, self.resolve(f.type)) for f in s.fields]
        if t.kind == "struct":
            return [(f.name, self.resolve(f.type)) for f in t.fields]
        return None

    def field_sig(self, schema: str, name: str) -> Optional[FieldSig]:
        s = self.schema(schema)
        if s is None:
            return None
        for f in s.fields:
            if f.name == name:
                return f
        return None

    def field_type(self, t: Type, name: str) -> Optional[Type]:
        fields = self.fields_of(t)
        if fields is None:
            return None
        for n, ft in fields:
            if n == name:
                return with_nullable(ft) if t.nullable else ft
        return None


def layering_ok(user_kind: str, owner_kind: str) -> bool:
    return owner_kind in ALLOWED.get(user_kind, ())


def table_sig_of(e: Entry) -> Optional[TableSig]:
    return e.sig if e.what == "table" else None
