"""Interface files: what one compilation unit offers downstream (types, signatures, names),
msgspec-encoded and deterministic to the byte. A body-only edit (a rule threshold, a filter)
leaves the bytes unchanged, so downstream work can be skipped (early cutoff).

- `build_interface(checked_project, path)` or `build_interface(unit_interface)` -> bytes
- `load_interface(bytes)` -> UnitInterface
"""

from __future__ import annotations

from typing import Any, Optional

import msgspec

from nexflow_core import ast
from nexflow_core.interface.codec import encode_interface, load_interface
from nexflow_core.interface.model import EnvironmentSig, UnitInterface


def build_interface(
    source: Any, path: Optional[str] = None, package: Optional[str] = None
) -> bytes:
    """The interface bytes of one unit. `source` is a UnitInterface, or a CheckedProject
    together with the `path` of one of its units (if the project has a single unit, `path`
    may be omitted). `package`: the Java package the unit's code is generated into."""
    if isinstance(source, UnitInterface):
        return encode_interface(source)
    interfaces = source.interfaces
    if path is None:
        if len(interfaces) != 1:
            raise ValueError("build_interface needs `path` for a project of several units")
        path = next(iter(interfaces))
    interface = interfaces[path]
    module = source.modules.get(path)
    if interface.environments and module is not None and path in source.sources:
        interface = with_environment_settings(interface, module, source.sources[path])
    if package is not None:
        interface = msgspec.structs.replace(interface, package=package)
    return encode_interface(interface)


def with_environment_settings(
    interface: UnitInterface, module: ast.Module, text: str
) -> UnitInterface:
    """The interface with each environment block's settings and source lines: what a proc
    compiled against it needs to bake the environment into its job, as whole-project
    generation does from the .infra sources."""
    lines = text.splitlines()
    sigs = iter(interface.environments)
    decls = sorted(
        (d for d in module.decls if isinstance(d, ast.EnvironmentDecl)), key=lambda d: d.name
    )
    enriched = []
    for decl, sig in zip(decls, sigs):
        # The interface lists blocks sorted by name, stably: the same order as `decls`.
        assert sig.name == decl.name, (sig.name, decl.name)
        first, last = decl.span.line, decl.span.end_line
        enriched.append(
            msgspec.structs.replace(
                sig, entries=list(decl.entries), first_line=first, lines=lines[first - 1 : last]
            )
        )
    return msgspec.structs.replace(interface, environments=enriched)


__all__ = [
    "EnvironmentSig",
    "UnitInterface",
    "build_interface",
    "encode_interface",
    "load_interface",
    "with_environment_settings",
]
