"""What a compilation unit offers downstream: names, types and signatures; never bodies or
positions. Encoded deterministically (see codec.py)."""

from __future__ import annotations

from typing import Optional

import msgspec

from nexflow_core.ast.infra import Entry
from nexflow_core.typemodel import Type

# 3: transforms carry their lookups; a proc's stores include those of the transforms it calls.
# 4: the unit's Java package, so a downstream unit needs no package rule of its own.
# 5: streams and stores carry their compatibility mode (`compatibility full`; omitted when it
#    is the default, backward, so a format-4 file decodes with the mode it had implicitly).
FORMAT_VERSION = 5


class Sig(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """Base of every interface entry."""


class FieldSig(Sig, frozen=True):
    name: str
    type: Type
    key: bool = False
    event_time: bool = False
    sensitive: bool = False
    has_default: bool = False
    allowed: list[str] = []


class SchemaSig(Sig, frozen=True):
    name: str
    fields: list[FieldSig]
    version: Optional[int] = None


class EnumSig(Sig, frozen=True):
    name: str
    members: list[str]


class StreamSig(Sig, frozen=True):
    name: str
    schema: str
    # backward | forward | full | none: what `nexflow compat` lets a schema change do.
    compatibility: str = "backward"


class StoreSig(Sig, frozen=True):
    name: str
    schema: str
    key: Optional[str] = None
    compatibility: str = "backward"


class ParamSig(Sig, frozen=True):
    name: str
    type: Type


class TransformLookupSig(Sig, frozen=True):
    """`lookup <alias> from <store> by <input>[.<field>…]`: the proc that calls the transform
    reads the store first, with the key taken from the call's argument for `input` (then
    `path`), and passes the record found (or null) as an extra argument."""

    alias: str
    store: str
    input: str
    path: list[str] = []


class TransformSig(Sig, frozen=True):
    name: str
    inputs: list[ParamSig]
    output: Type
    lookups: list[TransformLookupSig] = []


class RulesetSig(Sig, frozen=True):
    """`input` is the declared binding, or the one inferred from the implicit record name."""

    name: str
    mode: str
    input: Optional[ParamSig] = None
    routes: list[str] = []
    actions: list[str] = []
    sets: list[str] = []


class TableSig(Sig, frozen=True):
    name: str
    hit_policy: str
    outputs: list[ParamSig]
    result: Type
    input: Optional[ParamSig] = None
    aggregation: Optional[str] = None


class ProcSig(Sig, frozen=True):
    """The streams and stores a proc touches (what an environment must bind)."""

    name: str
    sources: list[str]
    sinks: list[str]
    stores: list[str] = []
    # `checkpoint every …` in the proc: exactly-once sinks need checkpoints from it or infra.
    checkpointed: bool = False
    # Sinks whose `emit to` declares a delivery guarantee: stream -> exactly_once|at_least_once.
    deliveries: dict[str, str] = {}
    # The stream of `on error emit to <stream>`; None: dead letters go to the implicit
    # `dead_letter` stream, which a deployable environment must bind (NX516).
    dead_letter: Optional[str] = None


class EnvironmentSig(Sig, frozen=True):
    """One `environment` block of an .infra file. Besides its names, it carries what a job bound
    to the environment bakes in: the block's settings as written (`entries`) and the text of
    the lines they are on (`lines`, from line `first_line`), which the generated Java cites.
    So unlike other entries it has positions: moving a setting changes the jobs citing it."""

    name: str
    streams: list[str]
    stores: list[str]
    extends: Optional[str] = None
    entries: list[Entry] = []
    first_line: int = 0
    lines: list[str] = []


class UnitInterface(Sig, frozen=True):
    """The interface of one file. Lists are sorted by name so equal meaning gives equal bytes."""

    format: int
    path: str
    kind: str
    # The Java package of the unit's generated code ("" when it was not compiled for Java).
    package: str = ""
    schemas: list[SchemaSig] = []
    enums: list[EnumSig] = []
    streams: list[StreamSig] = []
    stores: list[StoreSig] = []
    transforms: list[TransformSig] = []
    rulesets: list[RulesetSig] = []
    tables: list[TableSig] = []
    procs: list[ProcSig] = []
    environments: list[EnvironmentSig] = []
