"""Projects: load DSL files (by extension) and run parse + check over them.

- `check_project(paths_or_sources, upstream=None) -> CheckedProject`: whole-project mode.
- `check_unit(text, path, upstream_interfaces) -> CheckedProject`: build-system mode; one
  unit is checked against the interface files of its dependencies, never their sources.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterable, Mapping
from typing import Optional, Union

from nexflow_core import ast
from nexflow_core.check.checker import CheckResult, check_modules
from nexflow_core.check.infra_check import ResolvedEnvironment
from nexflow_core.check.proc_check import ProcFlow
from nexflow_core.check.symbols import Symbols
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span, file_span, sort_key
from nexflow_core.interface import load_interface
from nexflow_core.interface.model import (
    EnumSig,
    RulesetSig,
    SchemaSig,
    StoreSig,
    StreamSig,
    TableSig,
    TransformSig,
    UnitInterface,
)
from nexflow_core.syntax import EXTENSIONS, parse_source
from nexflow_core.typemodel import Type


class CheckedProject:
    """The result of checking: ASTs, symbols, per-unit interfaces, proc type flows, resolved
    environments and diagnostics (sorted by file, line, column).

    Lookups for the generator: `schema(name)`, `stream(name)`, `store(name)`,
    `transform(name)`, `ruleset(name)`, `table(name)`, `enum(name)`, `proc_flow(name)`,
    `environment(name)`, `type_of(expr)` and `resolve(type)` (ref -> record/enum)."""

    def __init__(
        self,
        modules: dict[str, ast.Module],
        sources: dict[str, str],
        res: CheckResult,
        parse_diagnostics: list[Diagnostic],
    ) -> None:
        self.modules = modules
        self.sources = sources
        self.symbols: Symbols = res.symbols
        self.interfaces: dict[str, UnitInterface] = res.interfaces
        self.procs: dict[str, ProcFlow] = res.procs
        self.environments: dict[str, ResolvedEnvironment] = res.environments
        self._expr_types = res.expr_types
        self.diagnostics: list[Diagnostic] = sorted(
            parse_diagnostics + res.diagnostics, key=sort_key
        )

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def raise_on_error(self) -> None:
        if self.errors:
            raise NexflowError(self.errors)

    # lookups -----------------------------------------------------------------------
    def schema(self, name: str) -> Optional[SchemaSig]:
        return self.symbols.schema(name)

    def enum(self, name: str) -> Optional[EnumSig]:
        return self.symbols.enum(name)

    def stream(self, name: str) -> Optional[StreamSig]:
        return self.symbols.stream(name)

    def store(self, name: str) -> Optional[StoreSig]:
        return self.symbols.store(name)

    def transform(self, name: str) -> Optional[TransformSig]:
        return self.symbols.transform(name)

    def ruleset(self, name: str) -> Optional[RulesetSig]:
        e = self.symbols.types.get(name)
        return e.sig if e is not None and e.what == "ruleset" else None

    def table(self, name: str) -> Optional[TableSig]:
        return self.symbols.table(name)

    def proc_flow(self, name: str) -> Optional[ProcFlow]:
        return self.procs.get(name)

    def environment(self, name: str) -> Optional[ResolvedEnvironment]:
        return self.environments.get(name)

    def resolve(self, t: Type) -> Type:
        return self.symbols.resolve(t)

    def type_of(self, expr: object) -> Optional[Type]:
        """The type the checker inferred for an expression node of one of the ASTs."""
        t = self._expr_types.get(id(expr))
        return t if isinstance(t, Type) else None

    def decls(self, kind: Optional[type] = None) -> list[object]:
        """All declarations of the local modules (optionally of one AST class), by path."""
        out: list[object] = []
        for path in sorted(self.modules):
            for d in self.modules[path].decls:
                if kind is None or isinstance(d, kind):
                    out.append(d)
        return out


def discover(paths: Iterable[str]) -> list[str]:
    """The DSL files among `paths` (files, or directories searched recursively), sorted."""
    out: set = set()
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for fn in files:
                    if os.path.splitext(fn)[1] in EXTENSIONS:
                        out.add(os.path.join(root, fn))
        else:
            out.add(p)
    return sorted(out)


def read_sources(paths: Iterable[str]) -> tuple[dict[str, str], list[Diagnostic]]:
    sources: dict[str, str] = {}
    diags: list[Diagnostic] = []
    for p in discover(paths):
        try:
            with open(p, encoding="utf-8", newline="") as f:
                sources[p] = f.read()
        except UnicodeDecodeError as e:
            diags.append(
                Diagnostic(
                    "NX103",
                    "error",
                    f"the file is not UTF-8 text ({e.reason})",
                    Span(p, 1, 1, 1, 2),
                    expected="a UTF-8 text file",
                )
            )
        except OSError as e:
            diags.append(
                Diagnostic(
                    "NX105",
                    "error",
                    f"cannot read the file ({e.strerror})",
                    Span(p, 1, 1, 1, 2),
                    expected="an existing, readable file",
                )
            )
    return sources, diags


def _as_interfaces(
    upstream: Optional[Iterable[Union[bytes, UnitInterface]]],
) -> list[UnitInterface]:
    out = []
    for u in upstream or []:
        out.append(u if isinstance(u, UnitInterface) else load_interface(u))
    return out


def check_sources(
    sources: Mapping[str, str],
    upstream: Optional[Iterable[Union[bytes, UnitInterface]]] = None,
    extra_diagnostics: Optional[list[Diagnostic]] = None,
) -> CheckedProject:
    """Parse and check in-memory sources (path -> text)."""
    # The front end allocates many small, long-lived objects and no reference cycles worth
    # collecting mid-run; pausing the cyclic GC saves ~15% and keeps the cost linear in N.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check_sources(sources, upstream, extra_diagnostics)
    finally:
        if enabled:
            gc.enable()


def _check_sources(
    sources: Mapping[str, str],
    upstream: Optional[Iterable[Union[bytes, UnitInterface]]],
    extra_diagnostics: Optional[list[Diagnostic]],
) -> CheckedProject:
    modules: dict[str, ast.Module] = {}
    diags = list(extra_diagnostics or [])
    unparsed: dict[str, set[str]] = {}
    for path in sorted(sources):
        try:
            modules[path] = parse_source(sources[path], path)
        except NexflowError as e:
            diags.extend(e.diagnostics)
            unparsed[path] = _declared_names(sources[path])
    res = check_modules(list(modules.values()), _as_interfaces(upstream))
    if unparsed:
        res.diagnostics = _without_follow_on_errors(res.diagnostics, unparsed)
    return CheckedProject(modules, dict(sources), res, diags)


# What a file declares, read from its text even when it does not parse.
_DECLARATION = re.compile(
    r"^\s*(?:schema|enum|stream|store|transform|ruleset|decision_table|proc)\s+([A-Za-z_]\w*)",
    re.M,
)
# Errors about a name that may be one a file with syntax errors declares.
_NAME_CODES = {"NX201", "NX205", "NX206", "NX207", "NX208", "NX209", "NX504"}


def _declared_names(text: str) -> set[str]:
    return set(_DECLARATION.findall(text))


def _without_follow_on_errors(
    diagnostics: list[Diagnostic], unparsed: dict[str, set[str]]
) -> list[Diagnostic]:
    """The diagnostics without those a syntax error elsewhere causes: a name another file
    would declare (were it to parse) is unknown, and so are the fields and enum members of its
    types. One NX107 warning per file says how many were held back and which file to fix."""
    names = {n: path for path, declared in unparsed.items() for n in declared}
    held: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        if d.code in _NAME_CODES and any(f"'{n}'" in d.message for n in names):
            held.setdefault(d.span.file, []).append(d)
    kept = []
    for d in diagnostics:
        if any(d is h for h in held.get(d.span.file, [])):
            continue
        # In a file that uses them, an unknown field or bare name may be one of the broken
        # file's fields or enum members: held back too.
        if d.span.file in held and d.code in ("NX204", "NX211"):
            held[d.span.file].append(d)
            continue
        kept.append(d)
    for path, ds in sorted(held.items()):
        causes = sorted(
            {names[n] for d in ds for n in names if f"'{n}'" in d.message} or set(unparsed)
        )
        kept.append(
            Diagnostic(
                "NX107",
                "warning",
                f"{len(ds)} error(s) about unknown names not shown: this file uses names that "
                f"{', '.join(causes)} {'declares' if len(causes) == 1 else 'declare'}, which "
                f"{'has' if len(causes) == 1 else 'have'} syntax errors",
                file_span(path),
                expected="the syntax errors fixed first",
            )
        )
    return kept


def check_project(
    paths_or_sources: Union[Iterable[str], Mapping[str, str]],
    upstream: Optional[Iterable[Union[bytes, UnitInterface]]] = None,
) -> CheckedProject:
    """Parse and check a project.

    `paths_or_sources` is either a mapping path -> source text, or an iterable of file and
    directory paths (directories are searched recursively for .schema, .transform, .rules,
    .proc and .infra files). `upstream` adds interface files (bytes or UnitInterface) of units
    that are not part of this check. Never raises for problems in the input: they are in
    `.diagnostics`."""
    if isinstance(paths_or_sources, Mapping):
        return check_sources(paths_or_sources, upstream)
    sources, diags = read_sources(paths_or_sources)
    return check_sources(sources, upstream, diags)


def check_unit(
    text: str, path: str, upstream: Iterable[Union[bytes, UnitInterface]]
) -> CheckedProject:
    """Check one unit against the interface files of its dependencies (build-system mode).
    For an .infra unit, pass the interfaces of the procs whose streams it must bind."""
    return check_sources({path: text}, upstream)
