"""The Flink adapter's Java spelling: the Java-generic rules of generate/java/naming.py with the
names the Flink templates and runtime reserve, plus what only Flink needs, the TypeInformation
of a type (`Spelling.type_info`) and whether a POJO field must name it (`needs_type_info`).
"""

from __future__ import annotations

from pathlib import Path

from nexflow_core.generate import model
from nexflow_core.generate.java import naming
from nexflow_core.generate.java.naming import (
    COMPANION_SUFFIXES,
    JAVA_LANG_TYPES,
    PACKAGE_ROOTS,
    RESERVED_MEMBERS,
    comment_text,
    enum_constant,
    identifier,
    string_literal,
)
from nexflow_core.typemodel import Type

__all__ = [
    "COMPANION_SUFFIXES",
    "JAVA_LANG_TYPES",
    "NAMING",
    "PACKAGE_ROOTS",
    "RESERVED_MEMBERS",
    "RESERVED_TYPES",
    "RUNTIME_SOURCES",
    "TEMPLATES",
    "Spelling",
    "comment_text",
    "enum_constant",
    "identifier",
    "needs_type_info",
    "string_literal",
    "type_name",
]

TEMPLATES = Path(__file__).parent / "templates"
# The Flink part of the L0 runtime (sources, sinks, state, watermarks, job arguments).
RUNTIME_SOURCES = Path(__file__).parent / "runtime"

# A DSL type may take no simple name a Flink job's files use: the Java-generic templates' and
# runtime's, and the Flink ones'.
RESERVED_TYPES = naming.reserved_types(
    (naming.TEMPLATES, TEMPLATES), (naming.RUNTIME_SOURCES, RUNTIME_SOURCES)
)
NAMING = naming.Naming(RESERVED_TYPES)
type_name = NAMING.type_name

_TYPE_INFOS = {
    "string": "Types.STRING",
    "uuid": "Types.STRING",
    "int": "Types.INT",
    "long": "Types.LONG",
    "double": "Types.DOUBLE",
    "decimal": "Types.BIG_DEC",
    "boolean": "Types.BOOLEAN",
    "date": "Types.LOCAL_DATE",
    "datetime": "Types.INSTANT",
    "bytes": "PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO",
}


class Spelling(naming.Spelling):
    """The Java spelling of one file's types, with Flink's type information."""

    def __init__(self, index: model.TypeIndex) -> None:
        super().__init__(index, NAMING)

    def type_info(self, t: Type) -> str:
        """A Flink TypeInformation expression for `t` (never a generic/Kryo type)."""
        if t.kind in _TYPE_INFOS:
            return _TYPE_INFOS[t.kind]
        if t.kind == "record":
            return f"Types.POJO({self.qualified(t.name or '')}.class)"
        if t.kind == "enum":
            return f"Types.ENUM({self.qualified(t.name or '')}.class)"
        if t.kind == "list":
            return f"new NullableListTypeInfo<>({self.type_info(t.args[0])})"
        if t.kind == "map":
            return (
                f"new NullableMapTypeInfo<>({self.type_info(t.args[0])}, "
                f"{self.type_info(t.args[1])})"
            )
        raise ValueError(f"no Flink type information for {t.display()}")


def needs_type_info(t: Type) -> bool:
    """Does a POJO field of type `t` need an explicit @TypeInfo (Flink 2.2 would otherwise type
    it as a generic/Kryo type: LocalDate, and collections whose elements are collections)?"""
    return t.kind in ("date", "list", "map")
