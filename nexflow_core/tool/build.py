"""`nexflow build`: compile a project's DSL files unit by unit, in layer order, incrementally.

Every DSL file is one unit, compiled the way a build system compiles it (`nexflow compile`):
checked against the interface files of the units it depends on (never their sources), then its
interface file and its Java are written. Units go in layer order — L2 schema, L3 transform,
L4 rules, L1 proc — each after the units it refers to; the L5 .infra files are then checked
together against the procs' interfaces (an environment may be split over several files) and
the selected environment's bindings are written as job arguments.

The build state (`<output>/.nexflow/`) keeps every unit's interface file and a fingerprint of
its inputs: the toolchain, the unit's text and package, and the interface bytes of everything
it depends on. A unit whose fingerprint is unchanged, and whose generated files are intact, is
not compiled again. Because a body-only edit leaves a unit's interface bytes unchanged, such an
edit recompiles that unit alone (early cutoff).

Layout of the output directory (a Maven-style tree, so `--verify` can compile it in place):

    src/main/java/...              generated Java (the L0 runtime under nexflow/runtime)
    environments/<env>/<Proc>.args the selected environment's program arguments, one per line
    environments/<env>/<Proc>.state.json  what the job keeps in a savepoint (docs/upgrades.md;
                                   under state/ when no environment is selected)
    pom.xml                        written by --verify
    .nexflow/                      build state
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, TextIO, Tuple

import msgspec

from nexflow_core import __version__
from nexflow_core.buildgraph import ENVIRONMENT, FileSymbols, Name, file_symbols
from nexflow_core.check.infra_check import nearest_scope
from nexflow_core.compat.state import describe_jobs, project_types
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span, render_one, sort_key
from nexflow_core.generate import TARGETS
from nexflow_core.generate.core import job_models
from nexflow_core.generate.unit_compile import compile_unit
from nexflow_core.interface import load_interface
from nexflow_core.project import check_project, discover
from nexflow_core.syntax import kind_of
from nexflow_core.tool.config import ProjectConfig
from nexflow_core.tool.progress import Progress

JAVA_ROOT = "src/main/java"
STATE_DIR = ".nexflow"
STATE_FORMAT = 1
LAYER_RANK = {"schema": 0, "transform": 1, "rules": 2, "proc": 3, "infra": 4}
INFRA_UNIT = "(environments)"
RUNTIME_UNIT = "(L0 runtime)"

_DECLARATION_WORDS = {
    "type": ("schema", "enum", "transform", "ruleset", "decision_table", "proc"),
    "stream": ("stream",),
    "store": ("store",),
}


# --- build state --------------------------------------------------------------------------------


class OutputRecord(msgspec.Struct, frozen=True):
    path: str  # relative to the output directory, POSIX
    sha256: str


class UnitState(msgspec.Struct, frozen=True):
    fingerprint: str
    outputs: List[OutputRecord] = []
    interface_sha256: Optional[str] = None


class EnvironmentState(msgspec.Struct, frozen=True):
    """What a build needs of one environment without checking the .infra files again."""

    name: str
    deployable: bool
    files: List[str]


class CachedSymbols(msgspec.Struct, frozen=True):
    """What a file declares and refers to, for the text with this hash: a build with nothing
    changed does not parse anything."""

    text_sha256: str
    symbols: FileSymbols


class BuildState(msgspec.Struct):
    format: int = STATE_FORMAT
    toolchain: str = ""
    symbols: Dict[str, CachedSymbols] = {}
    units: Dict[str, UnitState] = {}
    runtime: Optional[UnitState] = None
    infra: Optional[UnitState] = None
    environments: List[EnvironmentState] = []
    environment_outputs: List[OutputRecord] = []


_STATE_ENCODER = msgspec.json.Encoder(order="sorted")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class StateStore:
    """`<output>/.nexflow/`: state.json and one interface file per unit."""

    def __init__(self, output: Path) -> None:
        self.dir = output / STATE_DIR
        self.path = self.dir / "state.json"

    def load(self) -> BuildState:
        try:
            state = msgspec.json.decode(self.path.read_bytes(), type=BuildState)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return BuildState()
        return state if state.format == STATE_FORMAT else BuildState()

    def save(self, state: BuildState) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(_STATE_ENCODER.encode(state) + b"\n")
        os.replace(tmp, self.path)

    def interface_path(self, unit: str) -> Path:
        return self.dir / "interfaces" / (unit + ".nxi")

    def read_interface(self, unit: str) -> Optional[bytes]:
        try:
            return self.interface_path(unit).read_bytes()
        except OSError:
            return None

    def write_interface(self, unit: str, data: bytes) -> None:
        path = self.interface_path(unit)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)

    def remove_interface(self, unit: str) -> None:
        path = self.interface_path(unit)
        if path.is_file():
            path.unlink()
            _prune_empty_dirs(path.parent, self.dir)


def _prune_empty_dirs(directory: Path, stop: Path) -> None:
    d = directory
    while d != stop and stop in d.parents:
        try:
            d.rmdir()
        except OSError:
            return
        d = d.parent


_TOOLCHAIN: Optional[str] = None


def toolchain_fingerprint() -> str:
    """A hash of the compiler itself (every source, grammar and template of nexflow_core), so
    that a different compiler never reuses another one's results."""
    global _TOOLCHAIN
    if _TOOLCHAIN is None:
        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256(f"nexflow {__version__}\n".encode())
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for fn in filenames:
                if fn.endswith((".py", ".lark", ".j2")):
                    files.append(Path(dirpath) / fn)
        for f in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
            h.update(f.relative_to(root).as_posix().encode() + b"\0")
            h.update(_sha(f.read_bytes()).encode() + b"\n")
        _TOOLCHAIN = h.hexdigest()
    return _TOOLCHAIN


# --- units and their order ----------------------------------------------------------------------


class SourceUnit:
    """One DSL file of the project."""

    def __init__(self, path: str, text: str, package: str, symbols: FileSymbols) -> None:
        self.path = path
        self.text = text
        self.package = package
        self.symbols = symbols
        self.kind = symbols.kind or kind_of(path) or ""
        self.deps: Set[str] = set()
        self.unresolved: List[Name] = []

    @property
    def rank(self) -> int:
        return LAYER_RANK.get(self.kind, 5)


class BuildOptions:
    def __init__(
        self,
        environment: Optional[str] = None,
        output_dir: Optional[str] = None,
        verify: bool = False,
        progress: str = "auto",
        verbose: bool = False,
    ) -> None:
        self.environment = environment
        self.output_dir = output_dir
        self.verify = verify
        self.progress = progress
        self.verbose = verbose


class BuildResult:
    def __init__(self, output: Path) -> None:
        self.output = output
        self.compiled: List[str] = []
        self.up_to_date: List[str] = []
        self.failed: List[str] = []
        self.skipped: List[str] = []
        self.diagnostics: List[Diagnostic] = []
        self.environment: Optional[str] = None
        self.errors: List[str] = []  # problems that are not about one DSL location
        self.internal_errors = False  # one of `errors` is a bug in the compiler (exit 2)
        self.verified: Optional[bool] = None

    @property
    def ok(self) -> bool:
        return (
            not self.failed
            and not self.skipped
            and not self.errors
            and not any(d.is_error for d in self.diagnostics)
            and self.verified is not False
        )


def _declaration_span(unit: SourceUnit, name: Name) -> Span:
    words = _DECLARATION_WORDS.get(name.namespace, ())
    pattern = re.compile(r"\b(?:%s)\s+(%s)\b" % ("|".join(words) or "$^", re.escape(name.name)))
    m = pattern.search(unit.text)
    if not m:
        return Span(unit.path, 1, 1, 1, 1)
    start = m.start(1)
    line = unit.text.count("\n", 0, start) + 1
    column = start - (unit.text.rfind("\n", 0, start) + 1) + 1
    return Span(unit.path, line, column, line, column + len(name.name))


def read_units(
    config: ProjectConfig, cache: Optional[Dict[str, CachedSymbols]] = None
) -> Tuple[List[SourceUnit], List[Diagnostic], List[str]]:
    """The project's DSL files as units (sorted by path), diagnostics for files that cannot be
    read, and configuration problems (a missing source directory). `cache` holds symbols of
    earlier builds by path; a file whose text hash matches is not parsed again."""
    problems: List[str] = []
    roots = []
    for source, directory in zip(config.sources, config.source_dirs()):
        if not directory.is_dir():
            problems.append(f"the source directory '{source}' does not exist")
        else:
            roots.append(str(directory))
    units: List[SourceUnit] = []
    diagnostics: List[Diagnostic] = []
    seen: Set[str] = set()
    for file in discover(roots):
        rel = config.relative(Path(file))
        if rel in seen:
            continue
        seen.add(rel)
        try:
            text = Path(file).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as e:
            diagnostics.append(
                Diagnostic(
                    "NX103",
                    "error",
                    f"the file is not UTF-8 text ({e.reason} at byte {e.start})",
                    Span(rel, 1, 1, 1, 2),
                )
            )
            continue
        except OSError as e:
            diagnostics.append(
                Diagnostic(
                    "NX105", "error", f"cannot read the file ({e.strerror})", Span(rel, 1, 1, 1, 2)
                )
            )
            continue
        cached = (cache or {}).get(rel)
        sha = _sha(text.encode("utf-8"))
        if cached is not None and cached.text_sha256 == sha:
            symbols = cached.symbols
        else:
            symbols = file_symbols(rel, text)
        units.append(SourceUnit(rel, text, config.package_for(rel), symbols))
    return sorted(units, key=lambda u: u.path), diagnostics, problems


def link_units(units: Sequence[SourceUnit]) -> List[Diagnostic]:
    """Resolves every unit's references to the units that declare them, and reports names
    declared in more than one file (environments excepted: their blocks merge)."""
    declared: Dict[Name, List[SourceUnit]] = {}
    for u in units:
        for name in u.symbols.declares:
            declared.setdefault(name, []).append(u)
    diagnostics = []
    for name, owners in sorted(declared.items()):
        if name.namespace == ENVIRONMENT or len(owners) < 2:
            continue
        first = _declaration_span(owners[0], name)
        for other in owners[1:]:
            diagnostics.append(
                Diagnostic(
                    "NX202",
                    "error",
                    f"{name.namespace} '{name.name}' is also declared in {owners[0].path}",
                    _declaration_span(other, name),
                    hint="every name is declared once per project; rename or remove one",
                    related=first,
                )
            )
    for u in units:
        for name in u.symbols.references:
            declarers = declared.get(name)
            if not declarers:
                u.unresolved.append(name)
            for owner in declarers or []:
                if owner is not u:
                    u.deps.add(owner.path)
    return diagnostics


def layer_order(units: Sequence[SourceUnit]) -> Tuple[List[SourceUnit], List[List[str]]]:
    """Units in layer order (schema, transform, rules, proc; infra last), every unit after the
    units it depends on; ties by path. Returns the order and any dependency cycles."""
    by_path = {u.path: u for u in units}
    waiting = {u.path: len(u.deps) for u in units}
    users: Dict[str, List[str]] = {u.path: [] for u in units}
    for u in units:
        for d in u.deps:
            users[d].append(u.path)
    ready = sorted((u.rank, u.path) for u in units if not u.deps)
    order: List[SourceUnit] = []
    while ready:
        _, path = ready.pop(0)
        order.append(by_path[path])
        for user in users[path]:
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append((by_path[user].rank, user))
                ready.sort()
    cycles: List[List[str]] = []
    left = sorted(p for p, n in waiting.items() if n > 0)
    if left:
        cycles.append(left)
    return order, cycles


def transitive_deps(units: Sequence[SourceUnit]) -> Dict[str, List[str]]:
    by_path = {u.path: u for u in units}
    memo: Dict[str, Set[str]] = {}

    def visit(path: str, trail: Set[str]) -> Set[str]:
        if path in memo:
            return memo[path]
        out: Set[str] = set()
        for d in by_path[path].deps:
            if d in trail:
                continue
            out.add(d)
            out |= visit(d, trail | {d})
        memo[path] = out
        return out

    return {u.path: sorted(visit(u.path, {u.path})) for u in units}


def bind_environment(units: Sequence[SourceUnit], environment: str) -> List[str]:
    """Makes every proc depend on the .infra units that declare `environment` in its directory
    or the nearest directory above it (the rule the Pants backend infers a proc's environment
    dependencies by), so that it is compiled against their interface files. Returns the procs
    for which no directory in scope declares the environment."""
    wanted = Name(ENVIRONMENT, environment)
    declaring: Dict[str, List[str]] = {}
    for u in units:
        if u.kind == "infra" and wanted in u.symbols.declares:
            declaring.setdefault(posixpath.dirname(u.path), []).append(u.path)
    unbound = []
    for u in units:
        if u.kind != "proc":
            continue
        scope = nearest_scope(posixpath.dirname(u.path), declaring)
        if scope is None:
            unbound.append(u.path)
            continue
        u.deps.update(declaring[scope])
    return unbound


# --- the build ----------------------------------------------------------------------------------


class Builder:
    def __init__(
        self,
        config: ProjectConfig,
        options: BuildOptions,
        out: Optional[TextIO] = None,
        err: Optional[TextIO] = None,
    ) -> None:
        self.config = config
        self.options = options
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.output = config.output_path(options.output_dir)
        self.store = StateStore(self.output)
        self.progress = Progress(self.out, options.progress)
        self.result = BuildResult(self.output)
        self.target = TARGETS.get(config.target)
        self.sources: Dict[str, str] = {}
        self._claimed: Dict[str, Set[str]] = {}

    # -- reporting ------------------------------------------------------------------------------
    def report(self, diagnostics: Iterable[Diagnostic]) -> None:
        ds = sorted(diagnostics, key=sort_key)
        if not ds:
            return
        self.result.diagnostics.extend(ds)
        self.progress.clear()
        for d in ds:
            self.err.write(render_one(d, self.sources) + "\n\n")
        self.err.flush()

    def internal(self, message: str) -> None:
        """A bug in the compiler (not in the input): reported, and the build exits 2."""
        self.result.internal_errors = True
        self.problem(f"internal error {message} (a bug in Nexflow: please report it)")

    def problem(self, message: str) -> None:
        self.result.errors.append(message)
        self.progress.clear()
        self.err.write(f"nexflow build: error: {message}\n")
        self.err.flush()

    # -- files ------------------------------------------------------------------------------------
    def _write_outputs(
        self, files: Sequence[Tuple[str, bytes]], previous: Sequence[OutputRecord]
    ) -> List[OutputRecord]:
        """Writes files (path relative to the output directory) whose bytes changed; removes
        the previous outputs that are no longer produced."""
        records = []
        for rel, data in files:
            path = self.output / rel
            if not (path.is_file() and path.read_bytes() == data):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            records.append(OutputRecord(rel, _sha(data)))
        keep = {r.path for r in records}
        self._remove_outputs([r for r in previous if r.path not in keep])
        return sorted(records, key=lambda r: r.path)

    def _remove_outputs(self, records: Iterable[OutputRecord]) -> None:
        for r in records:
            path = self.output / r.path
            if path.is_file():
                path.unlink()
                _prune_empty_dirs(path.parent, self.output)

    def _intact(self, records: Sequence[OutputRecord]) -> bool:
        for r in records:
            try:
                if _sha((self.output / r.path).read_bytes()) != r.sha256:
                    return False
            except OSError:
                return False
        return True

    # -- the steps --------------------------------------------------------------------------------
    def run(self) -> BuildResult:
        config = self.config
        if self.target is None:
            self.problem(f"unknown target '{config.target}' in nexflow.toml; known: flink")
            return self.result
        unsafe = unsafe_output(config, self.output)
        if unsafe:
            self.problem(unsafe)
            return self.result
        toolchain = toolchain_fingerprint()
        state = self.store.load()
        if state.toolchain != toolchain:
            state.symbols = {}
        units, read_diagnostics, problems = read_units(config, state.symbols)
        for p in problems:
            self.problem(p)
        self.sources = {u.path: u.text for u in units}
        self.report(read_diagnostics)
        if problems:
            return self.result
        new_state = BuildState(toolchain=toolchain)
        new_state.symbols = {
            u.path: CachedSymbols(_sha(u.text.encode("utf-8")), u.symbols) for u in units
        }
        self._remove_outputs_of_removed_units(state, {u.path for u in units})

        duplicates = link_units(units)
        environment = self.options.environment or config.default_environment
        unbound = bind_environment(units, environment) if environment else []
        for proc in unbound:
            self.problem(
                f"{proc}: no .infra file in its directory or above declares the environment "
                f"'{environment}'"
            )
        order, cycles = layer_order(units)
        for cycle in cycles:
            self.problem("these files depend on each other in a circle: " + ", ".join(cycle))
        if cycles:
            return self.result
        broken_by_duplicates = {d.span.file for d in duplicates}
        self.report(duplicates)
        closure = transitive_deps(units)
        packages = {u.path: u.package for u in units}
        by_path = {u.path: u for u in units}
        unparsed = sorted(u.path for u in units if u.symbols.error)

        interfaces: Dict[str, bytes] = {}
        failed: Set[str] = set(broken_by_duplicates)
        infra = [u for u in order if u.kind == "infra"]
        # The .infra files a proc is bound through come before it: their interface files carry
        # the settings its job bakes in, as under Pants. The others are checked together below.
        used_by_procs = {d for u in units if u.kind == "proc" for d in closure[u.path]}
        compiled_units = [u for u in order if u.kind != "infra" or u.path in used_by_procs]
        self.progress.begin(
            sum(1 for u in compiled_units if u.kind != "infra") + (1 if infra else 0) + 1
        )

        for unit in compiled_units:
            label = unit.path
            blocked = sorted(d for d in closure[unit.path] if d in failed)
            if unit.kind == "infra":
                # Part of the environments unit below (which reports its diagnostics): here only
                # its interface file, which the procs bound through it are compiled against.
                binding = None
                if not blocked:
                    binding = self._binding_interface(
                        unit, closure, interfaces, packages, toolchain, state, new_state
                    )
                if binding is None:
                    failed.add(unit.path)
                else:
                    interfaces[unit.path] = binding
                continue
            if unit.path in broken_by_duplicates:
                self.result.failed.append(label)
                self.progress.line(f"{self.progress.paint('failed    ', 'red')} {label}")
                continue
            if blocked or (unparsed and unit.unresolved and unit.path not in unparsed):
                why = blocked[0] if blocked else unparsed[0]
                failed.add(unit.path)
                self.result.skipped.append(label)
                self.progress.line(
                    f"{self.progress.paint('skipped   ', 'yellow')} {label}  "
                    f"(it depends on {why}, which has errors)"
                )
                continue
            upstream = [(d, interfaces[d]) for d in closure[unit.path]]
            unit_environment = environment if unit.kind == "proc" else None
            fingerprint = self._fingerprint(
                toolchain,
                unit.path,
                packages[unit.path],
                unit.text,
                upstream,
                packages,
                unit_environment,
            )
            old = state.units.get(unit.path)
            cached = self.store.read_interface(unit.path) if old else None
            if (
                old is not None
                and old.fingerprint == fingerprint
                and cached is not None
                and _sha(cached) == old.interface_sha256
                and self._intact(old.outputs)
            ):
                interfaces[unit.path] = cached
                new_state.units[unit.path] = old
                self._claimed[unit.path] = {r.path for r in old.outputs}
                self.result.up_to_date.append(label)
                if self.options.verbose:
                    self.progress.line(f"{self.progress.paint('up to date', 'dim')} {label}")
                continue
            started = self.progress.unit_started("compiling", label)
            outcome = self._compile(unit, upstream, packages, old, unit_environment)
            if outcome is None:
                failed.add(unit.path)
                self.result.failed.append(label)
                self.progress.unit_done("failed", label, started, colour="red")
                continue
            interface, records, generation_ok = outcome
            interfaces[unit.path] = interface
            self.store.write_interface(unit.path, interface)
            if generation_ok:
                new_state.units[unit.path] = UnitState(fingerprint, records, _sha(interface))
                self.result.compiled.append(label)
                java = sum(1 for r in records if r.path.endswith(".java"))
                detail = f"{java} Java file{'s' if java != 1 else ''}" if java else "no Java"
                self.progress.unit_done("compiled", label, started, detail)
            else:
                # Checked but not generated: units using its classes are skipped, since their
                # Java would refer to classes that were not written. (A proc's classes are used
                # by no other unit; its environments are still checked and reported.)
                if unit.kind != "proc":
                    failed.add(unit.path)
                self.result.failed.append(label)
                self.progress.unit_done("failed", label, started, colour="red")
            self.store.save(self._merged(state, new_state, by_path, partial=True))

        if infra:
            self._infra(infra, by_path, closure, interfaces, failed, toolchain, state, new_state)
        self._runtime(toolchain, state, new_state)
        self._environment(state, new_state)
        self.store.save(self._merged(state, new_state, by_path, partial=False))
        self._summary()
        self.progress.finish()
        return self.result

    @staticmethod
    def _merged(
        old: BuildState, new: BuildState, current: Dict[str, SourceUnit], partial: bool
    ) -> BuildState:
        """The state to save: the units built (or found up to date), plus the old records of
        units that failed or were not reached, with no fingerprint, so that they compile next
        time and their old outputs are still known for clean-up. Mid-build (`partial`), the
        rest of the old state is kept as it was."""
        units = dict(new.units)
        for path, s in old.units.items():
            if path in current and path not in units:
                units[path] = UnitState("", s.outputs, s.interface_sha256)
        if partial:
            return BuildState(
                toolchain=old.toolchain,
                symbols=old.symbols,
                units=units,
                runtime=old.runtime,
                infra=old.infra,
                environments=old.environments,
                environment_outputs=old.environment_outputs,
            )
        return BuildState(
            toolchain=new.toolchain,
            symbols=new.symbols,
            units=units,
            runtime=new.runtime,
            infra=new.infra,
            environments=new.environments,
            environment_outputs=new.environment_outputs,
        )

    def _remove_outputs_of_removed_units(self, state: BuildState, present: Set[str]) -> None:
        for path in sorted(set(state.units) - present):
            self._remove_outputs(state.units[path].outputs)
            self.store.remove_interface(path)
            self.progress.line(f"{self.progress.paint('removed   ', 'yellow')} {path}")

    @staticmethod
    def _fingerprint(
        toolchain: str,
        path: str,
        package: str,
        text: str,
        upstream: Sequence[Tuple[str, bytes]],
        packages: Dict[str, str],
        environment: Optional[str] = None,
    ) -> str:
        h = hashlib.sha256()
        for part in (toolchain, path, package, _sha(text.encode("utf-8")), environment or ""):
            h.update(part.encode("utf-8") + b"\0")
        for dep, data in upstream:
            h.update(f"{dep}\0{packages.get(dep, '')}\0{_sha(data)}\n".encode())
        return h.hexdigest()

    def _compile(
        self,
        unit: SourceUnit,
        upstream: Sequence[Tuple[str, bytes]],
        packages: Dict[str, str],
        old: Optional[UnitState],
        environment: Optional[str] = None,
    ) -> Optional[Tuple[bytes, List[OutputRecord], bool]]:
        """Checks and generates one unit (a proc bound to `environment`, whose .infra units
        are among `upstream`). None when it does not check; otherwise its interface, its outputs
        and whether generation succeeded."""
        try:
            loaded = [load_interface(data, origin=dep) for dep, data in upstream]
        except NexflowError as e:
            self.report(e.diagnostics)
            return None
        assert self.target is not None
        try:
            compiled = compile_unit(
                unit.path,
                unit.text,
                packages[unit.path],
                loaded,
                packages,
                self.target,
                environment,
            )
        except Exception as e:  # a bug in the compiler: report it, go on with other units
            self.internal(f"while compiling {unit.path}: {type(e).__name__}: {e}")
            return None
        self.report(compiled.diagnostics)
        interface = compiled.interface
        if interface is None:
            return None
        if not compiled.generated:
            return interface, list(old.outputs) if old else [], False
        outputs = [(f"{JAVA_ROOT}/{f.path}", f.content.encode("utf-8")) for f in compiled.files]
        for job in compiled.jobs:
            # The job's program arguments in its environment: every setting its class starts
            # from, the environment's name among them (a class bound to another refuses them).
            settings = self.target.start_settings(job)
            args = "".join(f"--{key}={value}\n" for key, value in settings.items())
            outputs.append((f"environments/{environment}/{job.name}.args", args.encode("utf-8")))
        if unit.kind == "proc":
            # What each job keeps in a savepoint (docs/upgrades.md): beside its arguments, or
            # under state/ when no environment is bound.
            try:
                jobs = compiled.jobs or job_models(compiled.project, packages, None, loaded)
            except NexflowError as e:  # generated without an environment: not expected
                self.report(e.diagnostics)
                return interface, list(old.outputs) if old else [], False
            where = f"environments/{environment}" if environment and compiled.jobs else "state"
            types = project_types(compiled.project, packages)
            for name, data in sorted(describe_jobs(jobs, types).items()):
                outputs.append((f"{where}/{name}", data))
        clash = self._clashes(unit.path, [p for p, _ in outputs])
        if clash:
            self.problem(f"{unit.path} generates {clash[0]}, which {clash[1]} generates too")
            return interface, list(old.outputs) if old else [], False
        records = self._write_outputs(outputs, old.outputs if old else [])
        return interface, records, True

    def _binding_interface(
        self,
        unit: SourceUnit,
        closure: Dict[str, List[str]],
        interfaces: Dict[str, bytes],
        packages: Dict[str, str],
        toolchain: str,
        state: BuildState,
        new_state: BuildState,
    ) -> Optional[bytes]:
        """The interface file of an .infra unit a proc is bound through (from the build state
        when its inputs are unchanged), or None when it does not check on its own."""
        upstream = [(d, interfaces[d]) for d in closure[unit.path] if d in interfaces]
        if len(upstream) < len(closure[unit.path]):
            return None
        fingerprint = self._fingerprint(
            toolchain, unit.path, packages[unit.path], unit.text, upstream, packages
        )
        old = state.units.get(unit.path)
        cached = self.store.read_interface(unit.path) if old else None
        if old is not None and old.fingerprint == fingerprint and cached is not None:
            if _sha(cached) == old.interface_sha256:
                new_state.units[unit.path] = old
                return cached
        try:
            loaded = [load_interface(data, origin=d) for d, data in upstream]
            compiled = compile_unit(
                unit.path, unit.text, packages[unit.path], loaded, packages, target=None
            )
        except NexflowError:
            return None
        interface = compiled.interface
        if interface is None:
            return None
        self.store.write_interface(unit.path, interface)
        new_state.units[unit.path] = UnitState(fingerprint, [], _sha(interface))
        return interface

    def _clashes(self, unit: str, paths: Sequence[str]) -> Optional[Tuple[str, str]]:
        wanted = set(paths)
        for other, records in self._claimed.items():
            if other == unit:
                continue
            for r in records:
                if r in wanted:
                    return r, other
        self._claimed[unit] = wanted
        return None

    def _infra(
        self,
        infra: Sequence[SourceUnit],
        by_path: Dict[str, SourceUnit],
        closure: Dict[str, List[str]],
        interfaces: Dict[str, bytes],
        failed: Set[str],
        toolchain: str,
        state: BuildState,
        new_state: BuildState,
    ) -> None:
        """Checks all .infra files together against the interfaces of the procs (what they must
        bind) and of the schema files they refer to."""
        label = f"{INFRA_UNIT[1:-1]}: " + ", ".join(u.path for u in infra)
        needed: Set[str] = set()
        for u in by_path.values():
            if u.kind == "proc":
                needed.add(u.path)
                needed.update(closure[u.path])
        for u in infra:
            needed.update(closure[u.path])
        needed -= {u.path for u in infra}
        blocked = sorted(p for p in needed if p in failed or p not in interfaces)
        if blocked:
            self.result.skipped.append(INFRA_UNIT)
            self.progress.line(
                f"{self.progress.paint('skipped   ', 'yellow')} {label}  "
                f"(they depend on {blocked[0]}, which has errors)"
            )
            return
        upstream = [(p, interfaces[p]) for p in sorted(needed)]
        h = hashlib.sha256(toolchain.encode())
        for u in infra:
            h.update(f"{u.path}\0{_sha(u.text.encode('utf-8'))}\n".encode())
        for p, data in upstream:
            h.update(f"{p}\0{_sha(data)}\n".encode())
        fingerprint = h.hexdigest()
        if state.infra is not None and state.infra.fingerprint == fingerprint:
            new_state.infra = state.infra
            new_state.environments = state.environments
            self.result.up_to_date.append(INFRA_UNIT)
            if self.options.verbose:
                self.progress.line(f"{self.progress.paint('up to date', 'dim')} {label}")
            return
        started = self.progress.unit_started("checking", label)
        loaded = [load_interface(data, origin=p) for p, data in upstream]
        project = check_project({u.path: u.text for u in infra}, loaded)
        self.report(project.diagnostics)
        if not project.ok:
            self.result.failed.append(INFRA_UNIT)
            self.progress.unit_done("failed", label, started, colour="red")
            return
        parents = {e.extends for e in project.environments.values() if e.extends}
        envs = []
        for name in sorted(project.environments):
            env = project.environments[name]
            envs.append(EnvironmentState(name, name not in parents, list(env.files)))
        new_state.infra = UnitState(fingerprint)
        new_state.environments = envs
        self.result.compiled.append(INFRA_UNIT)
        n = len(envs)
        self.progress.unit_done(
            "checked", label, started, f"{n} environment{'s' if n != 1 else ''}"
        )

    def _runtime(self, toolchain: str, state: BuildState, new_state: BuildState) -> None:
        assert self.target is not None
        fingerprint = _sha(f"{toolchain}\0{self.target.name}".encode())
        old = state.runtime
        if old is not None and old.fingerprint == fingerprint and self._intact(old.outputs):
            new_state.runtime = old
            self.result.up_to_date.append(RUNTIME_UNIT)
            return
        started = self.progress.unit_started("writing", "the L0 runtime")
        files = [
            (f"{JAVA_ROOT}/{f.path}", f.content.encode("utf-8"))
            for f in self.target.render_runtime()
        ]
        records = self._write_outputs(files, old.outputs if old else [])
        new_state.runtime = UnitState(fingerprint, records)
        self.result.compiled.append(RUNTIME_UNIT)
        self.progress.unit_done("wrote", "the L0 runtime", started, f"{len(records)} Java files")

    def _environment(self, state: BuildState, new_state: BuildState) -> None:
        """Checks the selected environment's name. Its job arguments are outputs of the proc
        units (compiled bound to it); argument files that builds before this one wrote here,
        and no unit writes now, are removed."""
        requested = self.options.environment
        name = requested or self.config.default_environment
        envs = {e.name: e for e in new_state.environments}
        if name is not None and INFRA_UNIT in self.result.failed + self.result.skipped:
            new_state.environment_outputs = state.environment_outputs
            return
        if name is not None:
            env = envs.get(name)
            if env is None:
                where = "--environment" if requested else "default_environment in nexflow.toml"
                if envs:
                    known = ", ".join(sorted(envs))
                    self.problem(f"unknown environment '{name}' ({where}); known: {known}")
                else:
                    self.problem(
                        f"unknown environment '{name}' ({where}): the project declares no "
                        "environment (no .infra file)"
                    )
                new_state.environment_outputs = state.environment_outputs
                return
            self.result.environment = name
        claimed = {path for paths in self._claimed.values() for path in paths}
        earlier = [r for r in state.environment_outputs if r.path not in claimed]
        new_state.environment_outputs = self._write_outputs([], earlier)

    def _summary(self) -> None:
        r = self.result
        units = len(r.compiled) + len(r.up_to_date) + len(r.failed) + len(r.skipped)
        parts = [f"{len(r.compiled)} compiled", f"{len(r.up_to_date)} up to date"]
        if r.failed:
            parts.append(f"{len(r.failed)} failed")
        if r.skipped:
            parts.append(f"{len(r.skipped)} skipped")
        errors = sum(1 for d in r.diagnostics if d.is_error) + len(r.errors)
        warnings = sum(1 for d in r.diagnostics if not d.is_error)
        if errors or warnings:
            parts.append(f"{errors} error(s), {warnings} warning(s)")
        env = f", environment {r.environment}" if r.environment else ""
        out = self.config.relative(self.output)
        verb = "built" if r.ok else "build failed:"
        self.progress.summary(f"{verb} {units} units ({', '.join(parts)}) into {out}{env}", ok=r.ok)


def unsafe_output(config: ProjectConfig, output: Path) -> Optional[str]:
    """Why `output` cannot be the output directory (it holds the project or its sources)."""
    out = output.resolve()
    root = config.root.resolve()
    if out == root or out in root.parents:
        return f"the output directory {output} holds the whole project; choose a directory in it"
    for source, directory in zip(config.sources, config.source_dirs()):
        d = directory.resolve()
        if out == d or out in d.parents or d in out.parents:
            return f"the output directory {output} overlaps the source directory '{source}'"
    return None


def clean(output: Path) -> Optional[str]:
    """Removes a build's outputs and state (what `nexflow build --clean` starts from). Only a
    directory a build wrote (it has build state) is removed; returns why not otherwise."""
    if not output.exists():
        return None
    if not (output / STATE_DIR).is_dir():
        return f"{output} has no Nexflow build state; it is not removed (remove it yourself)"
    shutil.rmtree(output)
    return None


def build(
    config: ProjectConfig,
    options: BuildOptions,
    out: Optional[TextIO] = None,
    err: Optional[TextIO] = None,
) -> BuildResult:
    """Runs one build (and `--verify` when asked). Never raises for problems in the input."""
    builder = Builder(config, options, out, err)
    result = builder.run()
    if options.verify and result.ok:
        from nexflow_core.tool.verify import verify

        result.verified = verify(
            config,
            result.output,
            builder.sources,
            builder.out,
            builder.err,
            progress=builder.progress,
        )
    return result
