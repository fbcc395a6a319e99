"""The one rule for the Java package of a unit's generated code.

A package is a base (the project's `java_package`, or `nexflow` when Pants derives it from a
BUILD directory) followed by one component per directory, each made a valid Java identifier:
`flows/2024` under base `nexflow` is `nexflow.flows._2024`. `nexflow build`, `nexflow compile
--package-directory` (what the Pants plugin passes) and `nexflow init` all use this module, so
the same directory gets the same package from every entry point.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Sequence

# The base Pants uses for a target without an explicit `java_package`.
DEFAULT_BASE = "nexflow"

JAVA_KEYWORDS = frozenset(
    """abstract assert boolean break byte case catch char class const continue default do double
    else enum extends final finally float for goto if implements import instanceof int interface
    long native new package private protected public return short static strictfp super switch
    synchronized this throw throws transient try void volatile while true false null var yield
    record sealed permits non-sealed _""".split()
)
_JAVA_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")


def java_package_part(name: str) -> str:
    """A directory name as one component of a Java package name."""
    safe = "".join(c if c.isalnum() and c.isascii() or c == "_" else "_" for c in name)
    if not safe or safe[0].isdigit():
        safe = "_" + safe
    if safe in JAVA_KEYWORDS:
        safe += "_"
    return safe


def is_java_package(name: str) -> bool:
    parts = name.split(".")
    return all(_JAVA_IDENTIFIER.match(p) and p not in JAVA_KEYWORDS for p in parts)


def package_under(base: str, directories: Sequence[str]) -> str:
    """`base` followed by one component per directory name."""
    return ".".join([base, *(java_package_part(d) for d in directories if d not in ("", "."))])


def package_for_directory(directory: str, base: str = DEFAULT_BASE) -> str:
    """The package of the units in `directory` (a path relative to the build root)."""
    return package_under(base, PurePosixPath(directory).parts)
