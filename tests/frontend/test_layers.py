"""The compiler is a one-way pipeline: each package imports only from the layers below it (never
up, never sideways into a package of its own layer), and nothing in it imports Pants. The
layers are those of docs/architecture.md; an import that goes up fails here with the file and
line.
"""

from __future__ import annotations

import ast
import os

from conftest import ROOT  # pants: no-infer-dep

# Lowest first. A package may import its own modules and those of lower layers.
LAYERS: list[set[str]] = [
    {"__init__", "diagnostics"},  # the version; spans and diagnostics
    {"ast", "typemodel", "versions"},  # syntax trees; the type model; toolchain versions
    {"syntax", "interface"},  # text -> AST; the interface file format
    {"check"},  # the language's semantics: symbols, types, each proc's flow
    {"project", "buildgraph"},  # checking a set of files; the unit graph
    {"generate"},  # job models and target code
    {"compat"},  # the upgrade gate: state descriptions, baselines, verdicts
    {"tool"},  # nexflow build, graph, fmt, init
    {"dsltest"},  # nexflow test: .nxtest files run against the generated Java
    {"cli"},  # the command line
    {"__main__"},  # python -m nexflow_core
]
RANK = {package: i for i, layer in enumerate(LAYERS) for package in layer}
CORE = os.path.join(ROOT, "nexflow_core")


def _package_of(module: str) -> str:
    """`nexflow_core.check.types` -> `check`; `nexflow_core` -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: str) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, also those inside functions."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "nexflow_core":
                # `from nexflow_core import typemodel`: the names are modules (or __version__).
                out += [(node.lineno, f"nexflow_core.{alias.name}") for alias in node.names]
            else:
                out.append((node.lineno, node.module))
    return out


def _core_files() -> list[str]:
    files = []
    for directory, _, names in os.walk(CORE):
        files += [os.path.join(directory, n) for n in names if n.endswith(".py")]
    return sorted(files)


def test_every_package_has_a_layer() -> None:
    packages = {
        _package_of(os.path.relpath(f, ROOT)[:-3].replace(os.sep, ".")) for f in _core_files()
    }
    assert packages <= set(RANK), sorted(packages - set(RANK))


def test_no_import_goes_up_or_sideways() -> None:
    wrong = []
    for path in _core_files():
        own = _package_of(os.path.relpath(path, ROOT)[:-3].replace(os.sep, "."))
        for line, module in _imports(path):
            if not module.startswith("nexflow_core"):
                continue
            target = _package_of(module)
            if module == "nexflow_core.__version__":
                target = "__init__"
            if target != own and RANK.get(target, 99) >= RANK[own]:
                wrong.append(f"{os.path.relpath(path, ROOT)}:{line}: {own} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_compiler_never_imports_pants() -> None:
    found = [
        f"{os.path.relpath(path, ROOT)}:{line}: {module}"
        for path in _core_files()
        for line, module in _imports(path)
        if module == "pants" or module.startswith("pants.")
    ]
    assert not found, "\n".join(found)
