"""Java spelling of the model: identifiers, literals and types. Used as jinja2 filters."""

from __future__ import annotations

from nexflow_core.generate import model

JAVA_KEYWORDS = frozenset(
    """abstract assert boolean break byte case catch char class const continue default do double
    else enum extends final finally float for goto if implements import instanceof int interface
    long native new package private protected public return short static strictfp super switch
    synchronized this throw throws transient try void volatile while true false null var yield
    record sealed permits non-sealed""".split()
)

_SCALARS = {
    "string": "String",
    "int": "Integer",
    "long": "Long",
    "double": "Double",
    "decimal": "java.math.BigDecimal",
    "boolean": "Boolean",
    "date": "java.time.LocalDate",
    "datetime": "java.time.Instant",
    # java.util.UUID is not a Flink POJO type and would fall back to Kryo: keep the text form.
    "uuid": "String",
    "bytes": "byte[]",
}


def identifier(name: str) -> str:
    """A Java identifier for a DSL name: keywords and odd characters get a safe spelling."""
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not safe or safe[0].isdigit():
        safe = "_" + safe
    if safe in JAVA_KEYWORDS:
        safe += "_"
    return safe


def string_literal(value: str) -> str:
    """A Java string literal with the exact same characters as `value`."""
    out = []
    for ch in value:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code < 0xA0 or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif code > 0xFFFF:
            high, low = divmod(code - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def comment_text(text: str) -> str:
    """Text that is safe inside a Java comment: no `*/`, no line breaks, no unicode escapes."""
    return text.replace("*/", "* /").replace("\\u", "\\ u").replace("\r", " ").replace("\n", " ")


def java_type(field_type: model.FieldType) -> str:
    if isinstance(field_type, model.RecordType):
        return f"{field_type.package}.{field_type.name}"
    return _SCALARS[field_type.name]


def literal(lit: model.Literal) -> str:
    if lit.value is None:
        return "null"
    if lit.type.name == "string":
        return string_literal(str(lit.value))
    if lit.type.name == "boolean":
        return "true" if lit.value else "false"
    if lit.type.name == "long":
        return f"{lit.value}L"
    if lit.type.name == "double":
        return f"{lit.value}d"
    if lit.type.name == "decimal":
        return f'new java.math.BigDecimal("{lit.value}")'
    return str(lit.value)
