"""Interface files: what one compilation unit offers downstream (types, signatures, names),
msgspec-encoded and deterministic to the byte. A body-only edit (a rule threshold, a filter)
leaves the bytes unchanged, so downstream work can be skipped (early cutoff).

- `build_interface(checked_project, path)` or `build_interface(unit_interface)` -> bytes
- `load_interface(bytes)` -> UnitInterface
"""

from __future__ import annotations

from typing import Any, Optional

from nexflow_core.interface.codec import encode_interface, load_interface
from nexflow_core.interface.model import UnitInterface


def build_interface(source: Any, path: Optional[str] = None) -> bytes:
    """The interface bytes of one unit. `source` is a UnitInterface, or a CheckedProject
    together with the `path` of one of its units (if the project has a single unit, `path`
    may be omitted)."""
    if isinstance(source, UnitInterface):
        return encode_interface(source)
    interfaces = source.interfaces
    if path is None:
        if len(interfaces) != 1:
            raise ValueError("build_interface needs `path` for a project of several units")
        path = next(iter(interfaces))
    return encode_interface(interfaces[path])


__all__ = ["UnitInterface", "build_interface", "encode_interface", "load_interface"]
