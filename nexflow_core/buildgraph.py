"""What each DSL file declares and what it refers to: the facts a build system needs to infer
dependencies between files without checking them.

Names are reported as written; whether they resolve, and to something of the right kind, is the
check stage's job. A file that does not parse declares and references nothing here: compiling it
reports why.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set, Tuple

import msgspec

from nexflow_core import ast
from nexflow_core.check.declare import declare
from nexflow_core.check.functions import AGGREGATIONS, FUNCTIONS
from nexflow_core.check.infra_check import DEAD_LETTER_STREAM
from nexflow_core.check.rules_check import implicit_name
from nexflow_core.check.symbols import ALLOWED
from nexflow_core.diagnostics import NexflowError
from nexflow_core.syntax import parse_source
from nexflow_core.typemodel import SCALARS

# Namespaces of declared names (DSL names live in one of these).
TYPE = "type"  # schemas, enums, transforms, rulesets, decision tables, procs
STREAM = "stream"
STORE = "store"
ENVIRONMENT = "environment"
# The name a ruleset or table without a `for` binding uses for its record (PaymentEvent ->
# payment, see check.rules_check.implicit_name). Resolving one to no schema is not an error here.
RECORD = "record"

# The namespace of each kind of name the AST declares as a reference (ast.Ref.kind): streams,
# stores and environments have their own; every other kind names a type-like declaration.
_NAMESPACE_OF_KIND: Dict[str, str] = {
    "stream": STREAM,
    "store": STORE,
    "environment": ENVIRONMENT,
}

# Names that are part of the languages themselves, never declared in a file.
_BUILTIN_TYPES: Set[str] = {*SCALARS, "list", "map", "any"}
_BUILTIN_FUNCTIONS: Set[str] = {*FUNCTIONS, *AGGREGATIONS}


class Name(msgspec.Struct, frozen=True, order=True):
    namespace: str
    name: str


class FileSymbols(msgspec.Struct, frozen=True):
    path: str
    kind: str
    declares: List[Name]
    references: List[Name]
    # The kinds of file this one may depend on (DESIGN §3 layering).
    may_depend_on: List[str] = []
    # Set when the file does not parse: then it declares and references nothing.
    error: Optional[str] = None


def _declared(module: ast.Module) -> Set[Name]:
    unit = declare(module)
    names = {Name(TYPE, sig.name) for sig in unit.schemas}
    names.update(Name(RECORD, implicit_name(sig.name)) for sig in unit.schemas)
    names.update(Name(TYPE, sig.name) for sig in unit.enums)
    names.update(Name(TYPE, sig.name) for sig in unit.transforms)
    names.update(Name(TYPE, sig.name) for sig in unit.rulesets)
    names.update(Name(TYPE, sig.name) for sig in unit.tables)
    names.update(Name(TYPE, sig.name) for sig in unit.procs)
    names.update(Name(STREAM, sig.name) for sig in unit.streams)
    names.update(Name(STORE, sig.name) for sig in unit.stores)
    names.update(Name(ENVIRONMENT, sig.name) for sig in unit.environments)
    return names


def _referenced(module: ast.Module) -> Set[Name]:
    found: Set[Name] = {
        Name(_NAMESPACE_OF_KIND.get(r.kind, TYPE), r.name) for r in ast.references(module)
    }
    for decl in module.decls:
        if isinstance(decl, ast.EnvironmentDecl):
            found.update(_environment_bindings(decl))
        if isinstance(decl, (ast.RulesetDecl, ast.DecisionTableDecl)) and decl.binding is None:
            # Without `for name: Schema`, the root of each field path names the record.
            found.update(Name(RECORD, p.parts[0]) for p in ast.nodes_of(decl, ast.Path))
    return {
        name
        for name in found
        if not (name.namespace == TYPE and name.name in _BUILTIN_TYPES | _BUILTIN_FUNCTIONS)
    }


def _environment_bindings(env: ast.EnvironmentDecl) -> Set[Name]:
    """Streams and stores an environment binds: `streams { name { … } }`, `stores { … }`
    (not the implicit dead-letter stream, which no file declares)."""
    names: Set[Name] = set()
    for entry in env.entries:
        if isinstance(entry, ast.Block) and entry.name in ("streams", "stores"):
            namespace = STREAM if entry.name == "streams" else STORE
            names.update(
                Name(namespace, b.name)
                for b in entry.entries
                if isinstance(b, ast.Block)
                and not (namespace == STREAM and b.name == DEAD_LETTER_STREAM)
            )
    return names


def file_symbols(path: str, text: str) -> FileSymbols:
    try:
        module = parse_source(text, path)
    except NexflowError as error:
        first = error.diagnostics[0]
        return FileSymbols(
            path=path,
            kind="",
            declares=[],
            references=[],
            error=f"{first.span.location()}: {first.code}: {first.message}",
        )
    declared = _declared(module)
    # A file's references to its own declarations need no dependency.
    referenced = _referenced(module) - declared
    return FileSymbols(
        path=path,
        kind=module.kind,
        declares=sorted(declared),
        references=sorted(referenced),
        may_depend_on=list(ALLOWED[module.kind]),
    )


def symbols_json(files: Iterable[Tuple[str, str]]) -> bytes:
    """The symbols of (path, text) pairs as deterministic JSON, sorted by path."""
    return msgspec.json.encode(sorted((file_symbols(p, t) for p, t in files), key=lambda f: f.path))
