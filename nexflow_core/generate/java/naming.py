"""Java spelling of the model: identifiers, literals and types, for any target that writes Java
(the Flink adapter first). Used as jinja2 filters. Knows nothing of a target's framework: a
target adds the simple names its own templates and runtime use to the reserved type names
(`Naming`), and its own spellings (a framework's type information) by extending `Spelling`.

Naming rule: a DSL name becomes the same Java identifier, except a Java keyword or reserved
word, or a name the generated code itself uses, which gets a `$` suffix (`class` → `class$`).
DSL names never contain `$`, so the mapping is one-to-one and never collides; names the
generator invents for its own locals contain `$` too (`out$`), so they cannot clash with DSL
names either.

Type names (schemas, enums, rulesets, tables, transforms, procs) follow the same rule with a
larger reserved set, fixed by the generator and independent of the rest of the project, so
per-unit compilation and whole-project generation agree: a generated file refers to a DSL
type by its qualified name but to java.lang, the L0 runtime and what it imports by simple name,
and a class of the same package with one of those names would shadow it (or clash with the
import in its own file). Reserved are the java.lang classes generated code uses, every runtime
class, every simple name a template imports (the Java-generic templates' and the target's),
the first names of the packages generated code spells out (`java`, `org`, …) and the type's
own package's first name, and names that end like a generated companion class (`…Contract`
of a schema, `…Job` of a proc), so `FooContract` never meets the contract of `Foo`, or whose
companion would be reserved (`RecordContract`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from nexflow_core.generate import model
from nexflow_core.generate.java_package import JAVA_KEYWORDS
from nexflow_core.typemodel import Type

# Qualified names generated code spells out in expressions (`java.util.Objects.equals(…)`,
# `nexflow.….FooContract.INSTANCE`): a variable or a class named like their first name would
# obscure the package.
PACKAGE_ROOTS = frozenset(["java", "javax", "org", "com", "nexflow"])
# Members generated code relies on: a DSL name equal to one is renamed.
RESERVED_MEMBERS = frozenset(["serialVersionUID", "INSTANCE", "CONTRACT"]) | PACKAGE_ROOTS
# The java.lang classes generated code (templates and the spellings below) uses by simple name;
# tests/generate/test_safe_names.py checks the generated Java uses no other.
JAVA_LANG_TYPES = frozenset(
    """String Integer Long Double Boolean Object Math Override Enum Exception RuntimeException
    IllegalStateException IllegalArgumentException Number Comparable Iterable Character Byte
    Short Float Void System Class Record Runnable Thread Throwable StringBuilder
    ArithmeticException""".split()
)
# What a generated class is called after its DSL type: a type name with one of these endings
# is renamed, so it cannot be another type's companion.
COMPANION_SUFFIXES = ("Contract", "Job")
# The Java-generic templates (records, contracts, enums, rules, tables, transforms, the
# expression macros) and the part of the L0 runtime that needs no framework.
TEMPLATES = Path(__file__).parent / "templates"
RUNTIME_SOURCES = Path(__file__).parent / "runtime"


def template_imports(*template_dirs: Path) -> frozenset[str]:
    """Every simple name a template imports (`import java.util.List;`)."""
    names = set()
    for directory in template_dirs:
        for template in sorted(directory.rglob("*.j2")):
            text = template.read_text("utf-8")
            names.update(re.findall(r"^[ \t]*import[ \t]+[\w.{} ]+\.(\w+)[ \t]*;", text, re.M))
    return frozenset(names)


def runtime_types(*runtime_dirs: Path) -> frozenset[str]:
    """The class names of the runtime's `.java` files."""
    return frozenset(
        p.name[: -len(".java")] for directory in runtime_dirs for p in directory.glob("*.java")
    )


def reserved_types(
    template_dirs: tuple[Path, ...], runtime_dirs: tuple[Path, ...]
) -> frozenset[str]:
    """The simple names a DSL type may not take in a target whose templates and runtime are
    these (the Java-generic ones included by the caller)."""
    return (
        JAVA_LANG_TYPES
        | runtime_types(*runtime_dirs)
        | template_imports(*template_dirs)
        | PACKAGE_ROOTS
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
    # java.util.UUID is not a Flink POJO type and would fall back to Kryo: keep the text form,
    # checked against the canonical UUID shape on input.
    "uuid": "String",
    "bytes": "byte[]",
    "duration": "java.time.Duration",
    "null": "Object",
}

def identifier(name: str) -> str:
    """A Java identifier for a DSL name (see the module doc for the rule)."""
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not safe or safe[0].isdigit():
        safe = "_" + safe
    if safe in JAVA_KEYWORDS or safe in RESERVED_MEMBERS or safe != name:
        safe += "$"
    return safe


class Naming:
    """Class names for DSL types in one target: the rule of the module doc, with the target's
    reserved names (see `reserved_types`)."""

    def __init__(self, reserved: frozenset[str]) -> None:
        self.reserved = reserved

    def type_name(self, name: str, package: str = "") -> str:
        """A Java class name for a DSL type name (schemas, enums, rulesets, …) declared in
        `package` (see the module doc for the rule)."""
        out = identifier(name)
        if out.endswith("$"):
            return out
        reserved = (
            out in self.reserved
            or out == package.split(".")[0]
            or any(out.endswith(s) and out != s for s in COMPANION_SUFFIXES)
            or any(out + s in self.reserved for s in COMPANION_SUFFIXES)
        )
        return out + "$" if reserved else out


def enum_constant(member: str) -> str:
    return identifier(member)


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
        elif code < 0x20 or 0x7F <= code <= 0xFFFF:
            # Generated files are pure ASCII: javac reads them right whatever its encoding.
            out.append(f"\\u{code:04x}")
        elif code > 0xFFFF:
            high, low = divmod(code - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def comment_text(text: str) -> str:
    """Text that is safe inside a Java comment: no `*/`, no line breaks, no unicode escapes, and
    ASCII only (other characters are written as U+XXXX)."""
    text = text.replace("*/", "* /").replace("\\u", "\\ u").replace("\r", " ").replace("\n", " ")
    return "".join(c if ord(c) < 0x7F else f"U+{ord(c):04X}" for c in text)


class Spelling:
    """Type spelling needs to know each declared type's package."""

    def __init__(self, index: model.TypeIndex, naming: Naming) -> None:
        self.naming = naming
        self.packages: dict[str, str] = index.packages
        # The first names of the packages this file's types come from: a local variable named
        # like one would obscure the package in `acme.fraud.Order…` expressions.
        self.package_roots = frozenset(p.split(".")[0] for p in index.packages.values())

    def local(self, name: str) -> str:
        """A Java local variable or parameter for a DSL name (an input, `let`, alias, state or
        aggregate slot): `identifier(name)`, with a `$` also when it is the first name of a
        package the file's types come from (locals are private to their file, so this rule
        may depend on the file's packages)."""
        out = identifier(name)
        return out + "$" if not out.endswith("$") and out in self.package_roots else out

    def qualified(self, name: str) -> str:
        package = self.packages.get(name)
        type_name = self.naming.type_name
        return f"{package}.{type_name(name, package)}" if package else type_name(name)

    def java_type(self, t: Type) -> str:
        if t.kind in ("record", "enum"):
            return self.qualified(t.name or "")
        if t.kind == "struct":
            return self.qualified(t.name or "") + ".Result"
        if t.kind == "list":
            return f"java.util.List<{self.java_type(t.args[0])}>"
        if t.kind == "map":
            return f"java.util.Map<{self.java_type(t.args[0])}, {self.java_type(t.args[1])}>"
        if t.kind in _SCALARS:
            return _SCALARS[t.kind]
        raise ValueError(f"no Java type for {t.display()}")

    def expr(self, e: model.Expr, this: str = "record") -> str:
        """`e` as a Java expression (expressions.py); `this` spells model.This."""
        # Imported here: the writer uses this module's identifier().
        from nexflow_core.generate.java.expressions import ExpressionWriter

        return ExpressionWriter(self, this).write(e)

    def cond(self, e: model.Expr, this: str = "record") -> str:
        """`e` as a Java condition, null counting as false."""
        from nexflow_core.generate.java.expressions import ExpressionWriter

        return ExpressionWriter(self, this).cond(e)

    def equals(self, t: Type, a: str, b: str) -> str:
        """Are the values `a` and `b` of type `t` equal (arrays by content)?"""
        if t.kind == "bytes":
            return f"java.util.Objects.deepEquals({a}, {b})"
        return f"java.util.Objects.equals({a}, {b})"

    def hash_code(self, t: Type, value: str) -> str:
        """The hash code of `value` of type `t`, consistent with `equals`."""
        if t.kind == "bytes":
            return f"java.util.Arrays.hashCode({value})"
        return f"java.util.Objects.hashCode({value})"

    def size(self, value: str, t: Type) -> str:
        """The length of `value`, a Java expression of type `t` (text, bytes or a collection),
        as the DSL's `@length` counts it."""
        if t.kind == "string":
            return f"Validation.length({value})"
        if t.kind == "bytes":
            return f"{value}.length"
        if t.kind in ("list", "map"):
            return f"{value}.size()"
        raise ValueError(f"no length of {t.display()}")

    def cell_test(self, cell: model.CellTest, var: str) -> str:
        """A decision table cell as a Java condition on the column's value `var` (rules.py)."""
        from nexflow_core.generate.java.rules import CellTests

        return CellTests(self, var).write(cell)

    def rule_action(self, action: model.Action, rule: str, input: str) -> str:
        """A rule's action as one Java statement (rules.py)."""
        from nexflow_core.generate.java.rules import RuleActions

        return RuleActions(self, rule, input).write(action)

    def literal(self, lit: model.Lit) -> str:
        t = lit.type
        if lit.value is None:
            return "null" if t.kind == "null" else f"(({self.java_type(t)}) null)"
        if t.kind in ("string", "uuid"):
            return string_literal(str(lit.value))
        if t.kind == "boolean":
            return "true" if lit.value else "false"
        if t.kind == "int":
            return str(lit.value)
        if t.kind == "long":
            return f"{lit.value}L"
        if t.kind == "decimal":
            return f'new java.math.BigDecimal("{Decimal(str(lit.value))}")'
        if t.kind == "double":
            return f"{float(str(lit.value))!r}d"
        if t.kind == "duration":
            return f"java.time.Duration.ofMillis({lit.value}L)"
        raise ValueError(f"no Java literal for {t.display()}")
