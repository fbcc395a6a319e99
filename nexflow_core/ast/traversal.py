"""One traversal of the AST for every pass that looks for nodes or names anywhere in a tree.

- `walk(root)` yields every Node of a subtree (or of a sequence of them) in pre-order: a node,
  then its children field by field in declaration order, the items of a list field in list
  order. The order is part of the contract: passes that report or collect in walk order are
  deterministic.
- `nodes_of(root, Kind)`: the nodes of one class (or tuple of classes), in walk order.
- `references(root)`: every name a node's `refs` declares (see `Node.refs`), in walk order and,
  within a node, in field order.

Which fields can hold nodes is read once per class from its type hints: a field whose type
mentions no Node class (str, int, bool, list[str], the Span) is never looked into.
"""

from __future__ import annotations

import typing
from typing import Dict, Iterator, List, NamedTuple, Sequence, Tuple, Type, TypeVar, Union

from nexflow_core.ast.base import Node, Ref
from nexflow_core.diagnostics.span import Span

N = TypeVar("N", bound=Node)


class Reference(NamedTuple):
    """A name one node refers to: what kind of thing it names (Ref.kind), the name as written,
    the span of the node that holds it, and for streams and stores whether it is read or
    written (Ref.role)."""

    kind: str
    name: str
    span: Span
    role: str = ""


# Per node class: the fields that can hold nodes, in declaration order, reversed (the order
# walk pushes them), and the (field, Ref) pairs it declares, in declaration order.
_CHILDREN: Dict[type, Tuple[str, ...]] = {}
_REFS: Dict[type, Tuple[Tuple[str, Ref], ...]] = {}


def _mentions_node(hint: object) -> bool:
    # `__args__`, not typing.get_args: Python 3.9's get_args sees nothing in `list[X]` (a
    # types.GenericAlias), which also passes for a type there.
    args = getattr(hint, "__args__", None)
    if args is not None:
        return any(_mentions_node(arg) for arg in args)
    return isinstance(hint, type) and issubclass(hint, Node)


def node_fields(cls: type) -> Tuple[str, ...]:
    """The fields of a node class that can hold a Node or a list of them, in declaration
    order."""
    hints = typing.get_type_hints(cls)
    return tuple(
        f
        for f in cls.__struct_fields__  # type: ignore[attr-defined]
        if f != "span" and _mentions_node(hints[f])
    )


def _children(cls: type) -> Tuple[str, ...]:
    fields = _CHILDREN.get(cls)
    if fields is None:
        fields = _CHILDREN[cls] = tuple(reversed(node_fields(cls)))
    return fields


def walk(root: Union[Node, Sequence[Node]]) -> Iterator[Node]:
    """Every node of `root` (a node or a sequence of nodes), root first, in pre-order with
    fields in declaration order."""
    stack: List[Node] = [root] if isinstance(root, Node) else list(reversed(root))
    pop, push, extend = stack.pop, stack.append, stack.extend
    children = _CHILDREN
    while stack:
        node = pop()
        yield node
        cls = type(node)
        fields = children.get(cls)
        if fields is None:
            fields = _children(cls)
        for f in fields:
            value = getattr(node, f)
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                extend(reversed(value))
            else:
                push(value)


def nodes_of(
    root: Union[Node, Sequence[Node]], kind: Union[Type[N], Tuple[Type[N], ...]]
) -> List[N]:
    """The nodes of `root` that are instances of `kind`, in walk order."""
    return [n for n in walk(root) if isinstance(n, kind)]  # type: ignore[misc]


def _refs(cls: type) -> Tuple[Tuple[str, Ref], ...]:
    pairs = _REFS.get(cls)
    if pairs is None:
        declared: typing.Mapping[str, Ref] = getattr(cls, "refs", {})
        pairs = _REFS[cls] = tuple(
            (f, declared[f])
            for f in cls.__struct_fields__  # type: ignore[attr-defined]
            if f in declared
        )
    return pairs


def references(root: Union[Node, Sequence[Node]]) -> Iterator[Reference]:
    """Every name the nodes of `root` refer to, as their classes declare in `refs` (an absent
    optional name is no reference), in walk order."""
    for node in walk(root):
        pairs = _REFS.get(type(node))
        if pairs is None:
            pairs = _refs(type(node))
        for f, ref in pairs:
            name = getattr(node, f)
            if name is not None:
                yield Reference(ref.kind, name, node.span, ref.role)
