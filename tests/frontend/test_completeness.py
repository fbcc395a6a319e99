"""Every proc statement is complete: the checker has a handler for it (its semantics and flow),
the job builder has one (its operators), the language reference shows it in an example, and
the generated-program property test (tests/generate/test_check_implies_build_generated.py)
can write it. Adding a statement without one of these fails here, naming what is missing
(docs/architecture.md, "Checklist: adding a proc statement").

Every AST node is complete too: each string field either declares in `Node.refs` what it names
(a stream, a store, a schema, …; the checker, the graph and dependency inference read only
that) or is listed below with the reason it names nothing declared elsewhere; and `ast.walk`
reaches every field that can hold a node, in pre-order and declaration order."""

from __future__ import annotations

import inspect
import typing
from typing import Any, Iterator

from conftest import example_sources, fenced_blocks, read  # pants: no-infer-dep

from nexflow_core import ast
from nexflow_core.ast import proc as proc_ast
from nexflow_core.ast.traversal import node_fields
from nexflow_core.check.proc_check import ProcChecker
from nexflow_core.diagnostics.span import Span
from nexflow_core.generate.jobs import JobBuilder
from nexflow_core.syntax import parse_source
from tests.generate.program_menu import MENU

STATEMENTS = sorted(
    name
    for name, cls in inspect.getmembers(proc_ast, inspect.isclass)
    if name.endswith("Stmt") and cls.__module__ == proc_ast.__name__
)


def _statements_in(text: str, path: str) -> set[str]:
    module = parse_source(text, path)
    return {
        type(s).__name__ for d in module.decls if isinstance(d, ast.ProcDecl) for s in d.statements
    }


def test_there_are_statements() -> None:
    assert len(STATEMENTS) >= 20 and "FromStmt" in STATEMENTS


def test_the_checker_and_the_job_builder_handle_every_statement() -> None:
    missing = [
        f"{who.__name__}.on_{name}"
        for name in STATEMENTS
        for who in (ProcChecker, JobBuilder)
        if not hasattr(who, f"on_{name}")
    ]
    assert not missing, missing


def test_the_language_reference_shows_every_statement() -> None:
    shown: set[str] = set()
    for tag, body, line in fenced_blocks(read("docs/language/proc.md")):
        if tag == "proc":
            shown |= _statements_in(body, f"proc.md:{line}.proc")
    assert not set(STATEMENTS) - shown, sorted(set(STATEMENTS) - shown)


def test_the_generated_programs_can_write_every_statement() -> None:
    body = "\n".join("    " + m.format(n=k) for k, m in enumerate(MENU))
    written = _statements_in(f"proc P {{\n    from auths\n{body}\n}}\n", "menu.proc")
    # Settings that no program needs varied: they change no operator.
    settings = {"ParallelismStmt", "CheckpointStmt", "OnLookupErrorStmt"}
    assert not set(STATEMENTS) - written - settings, sorted(set(STATEMENTS) - written - settings)


# --- AST references and walk() -------------------------------------------------------------------


def _node_classes() -> list[type]:
    found: list[type] = []
    todo = [ast.Node]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("nexflow_core.ast.") and sub not in found:
                found.append(sub)
                todo.append(sub)
    return sorted(found, key=lambda c: c.__name__)


NODE_CLASSES = _node_classes()

DECLARES = "the name this declaration introduces"
LOCAL = "a name bound and used inside one declaration (an alias, a variable, a state, a column)"
WORD = "a keyword or an option from a fixed set"
TEXT = "text as written: a message, a reason, a literal"

# Every string field that names nothing declared elsewhere, and why. A new string field must be
# declared in its class's `refs` or added here with its reason.
NOT_REFERENCES = {
    ("AlertAction", "message"): TEXT,
    ("AlertAction", "severity"): WORD,
    ("Annotation", "name"): "a built-in annotation (@key, @enum, …)",
    ("ApplyStmt", "kind"): WORD,
    ("ApplyStmt", "alias"): LOCAL,
    ("Binary", "op"): WORD,
    ("Binding", "name"): LOCAL,
    ("Block", "name"): "an infra section, or what it binds: under `streams`/`stores` a stream or"
    " store (buildgraph._environment_bindings reads those by section)",
    ("Cell", "kind"): WORD,
    ("CheckpointStmt", "mode"): WORD,
    ("Compatibility", "mode"): WORD,
    ("DecimalLit", "text"): TEXT,
    ("DecisionTableDecl", "name"): DECLARES,
    ("DecisionTableDecl", "hit_policy"): WORD,
    ("DecisionTableDecl", "aggregation"): WORD,
    ("DurationLit", "unit"): WORD,
    ("EmitStmt", "delivery"): WORD,
    ("EnumDecl", "name"): DECLARES,
    ("EnumMember", "name"): DECLARES,
    ("EnvironmentDecl", "name"): DECLARES,
    ("Field", "name"): DECLARES,
    ("FlagAction", "reason"): TEXT,
    ("JoinStmt", "alias"): LOCAL,
    ("Let", "name"): LOCAL,
    ("LookupStmt", "alias"): LOCAL,
    ("Mapping", "field"): "a field of the record being built, checked against its schema",
    ("Module", "path"): "the file itself",
    ("Module", "kind"): WORD,
    ("OnLookupErrorStmt", "action"): WORD,
    ("OnPersistErrorStmt", "action"): WORD,
    ("OnStmt", "event"): WORD,
    ("OnStmt", "label"): "a route label, which the applied rules name with `route to`",
    ("Param", "name"): LOCAL,
    ("Path", "parts"): "a field path: its root is a local name (an input, alias or field)",
    ("Priority", "word"): WORD,
    ("ProcDecl", "name"): DECLARES,
    ("Property", "name"): WORD,
    ("RejectAction", "reason"): TEXT,
    ("RouteAction", "target"): "a route label, mapped to a stream by the proc's `on route`",
    ("Rule", "name"): DECLARES,
    ("RulesetDecl", "name"): DECLARES,
    ("RulesetDecl", "mode"): WORD,
    ("SchemaDecl", "name"): DECLARES,
    ("SecretRef", "kind"): WORD,
    ("SecretRef", "ref"): "an environment variable or a file, read when the job starts",
    ("StateStmt", "name"): LOCAL,
    ("StoreDecl", "name"): DECLARES,
    ("StoreDecl", "key"): "a field of the store's schema",
    ("StreamDecl", "name"): DECLARES,
    ("StringLit", "value"): TEXT,
    ("Symbol", "name"): WORD,
    ("TableInput", "name"): LOCAL,
    ("TableOutput", "name"): LOCAL,
    ("TableRow", "label"): TEXT,
    ("TransformDecl", "name"): DECLARES,
    ("TransformDecl", "on_error"): WORD,
    ("TransformLookup", "alias"): LOCAL,
    ("TransformValidate", "phase"): WORD,
    ("TransformValidate", "message"): TEXT,
    ("Unary", "op"): WORD,
    ("UpdateStmt", "name"): LOCAL,
    ("Validate", "message"): TEXT,
    ("WindowStmt", "kind"): WORD,
}

# The kinds of name a `Ref` may declare. A new kind must also get its namespace in
# buildgraph._NAMESPACE_OF_KIND (else dependency inference files it under "type").
KINDS = {"stream", "store", "schema", "type", "transform", "rules", "function", "environment"}


def _mentions_str(hint: object) -> bool:
    return hint is str or any(_mentions_str(a) for a in typing.get_args(hint))


def _struct_fields(cls: Any) -> tuple[str, ...]:
    return tuple(cls.__struct_fields__)


def _refs(cls: Any) -> typing.Mapping[str, ast.Ref]:
    return dict(cls.refs)


def _string_fields(cls: type) -> list[str]:
    hints = typing.get_type_hints(cls)
    return [f for f in _struct_fields(cls) if _mentions_str(hints[f])]


def test_every_string_field_is_a_declared_reference_or_says_why_not() -> None:
    undeclared = [
        f"{cls.__name__}.{f}"
        for cls in NODE_CLASSES
        for f in _string_fields(cls)
        if f not in _refs(cls) and (cls.__name__, f) not in NOT_REFERENCES
    ]
    assert not undeclared, f"declare these in the class's `refs` or in NOT_REFERENCES: {undeclared}"


def test_the_list_of_non_references_is_current() -> None:
    fields = {(c.__name__, f): c for c in NODE_CLASSES for f in _string_fields(c)}
    stale = [k for k in NOT_REFERENCES if k not in fields or k[1] in _refs(fields[k])]
    assert not stale, stale


def test_declared_references_are_string_fields_of_a_known_kind() -> None:
    wrong = []
    for cls in NODE_CLASSES:
        for f, ref in _refs(cls).items():
            roles = {"read", "write"} if ref.kind in ("stream", "store") else {""}
            if f not in _string_fields(cls) or ref.kind not in KINDS or ref.role not in roles:
                wrong.append(f"{cls.__name__}.{f}: {ref}")
    assert not wrong, wrong


def test_proc_streams_come_from_the_declared_references() -> None:
    from nexflow_core.check.declare import proc_streams

    text = """proc P {
    from a
    correlate with b by k within 1 minute
    join c as c on c.k == k within 1 minute
    lookup s1 by k as x
    on timeout emit to d
    route { when k > 1 to e otherwise to f }
    emit to g persist to s2
}
"""
    (proc,) = parse_source(text, "p.proc").decls
    assert isinstance(proc, ast.ProcDecl)
    assert proc_streams(proc) == (["a", "b", "c"], ["d", "e", "f", "g"], ["s1", "s2"])


_SPAN = Span("t", 1, 1, 1, 1)


def _example(hint: object, depth: int) -> object:
    """A value of a field type. At depth 0 every field is filled (lists of two, optionals
    present); deeper, the least that is valid (empty lists, no optionals, the first member of a
    union), so that recursive types end."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        present = [a for a in args if a is not type(None)]
        if depth > 0 and len(present) < len(args):
            return None
        return _example(present[0], depth)
    if origin is list:
        return [] if depth > 0 else [_example(args[0], 1), _example(args[0], 1)]
    if hint in (str, bool, int):
        return {str: "x", bool: False, int: 1}[hint]
    assert isinstance(hint, type) and issubclass(hint, ast.Node), hint
    return _instance(hint, depth + 1)


def _instance(cls: type, depth: int = 0) -> ast.Node:
    hints = typing.get_type_hints(cls)
    fields = [f for f in _struct_fields(cls) if f != "span"]
    node = cls(span=_SPAN, **{f: _example(hints[f], depth) for f in fields})
    assert isinstance(node, ast.Node)
    return node


def _every_node(value: object) -> Iterator[ast.Node]:
    """Pre-order over every field, with no knowledge of which ones hold nodes."""
    if isinstance(value, ast.Node):
        yield value
        for f in value.__struct_fields__:
            yield from _every_node(getattr(value, f))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _every_node(item)


def test_walk_reaches_every_node_of_every_field_in_pre_order() -> None:
    for cls in NODE_CLASSES:
        node = _instance(cls)
        expected = [id(n) for n in _every_node(node)]
        assert [id(n) for n in ast.walk(node)] == expected, cls.__name__
        # Each field that can hold a node was given one, so the check above covered it.
        hints = typing.get_type_hints(cls)
        for f in node_fields(cls):
            assert getattr(node, f) not in (None, []), f"{cls.__name__}.{f}: {hints[f]}"


def test_walk_visits_the_examples_as_a_full_traversal_would() -> None:
    for name in ("card-fraud", "payments", "hello"):
        for path, text in example_sources(name).items():
            module = parse_source(text, path)
            assert [id(n) for n in ast.walk(module)] == [id(n) for n in _every_node(module)], path
            calls = [n for n in _every_node(module) if isinstance(n, ast.Call)]
            assert ast.nodes_of(module, ast.Call) == calls


def test_references_come_in_walk_order_with_the_span_of_their_node() -> None:
    text = """proc P {
    from a
    transform using T
    apply R
    emit to g persist to s
}
"""
    (proc,) = parse_source(text, "p.proc").decls
    found = [(r.kind, r.name, r.role, r.span.line) for r in ast.references(proc)]
    assert found == [
        ("stream", "a", "read", 2),
        ("transform", "T", "", 3),
        ("rules", "R", "", 4),
        ("stream", "g", "write", 5),
        ("store", "s", "write", 5),
    ]
