"""One build unit's work, the single entry point every build uses: `nexflow compile` (what the
Pants backend runs per DSL file), `nexflow build` (per unit, incrementally) and the tests.

A unit is one DSL file checked against the interface files of the units it depends on (never
their sources); if it checks, its own interface file and its generated files follow. The same
inputs give the same bytes whichever build calls it.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple, Optional, Sequence

from nexflow_core.diagnostics import Diagnostic, NexflowError
from nexflow_core.generate.core import generate_checked, job_models
from nexflow_core.generate.model import GeneratedFile, Job
from nexflow_core.generate.target import Target
from nexflow_core.interface import UnitInterface, build_interface
from nexflow_core.project import CheckedProject, check_unit


class CompiledUnit(NamedTuple):
    """What compiling one unit gave. `interface` is None when the unit does not check;
    `generated` says whether its files were generated (False when generation refused it:
    see `diagnostics`, or when generation was not asked for). `jobs` are the job models of its
    procs, bound to the environment the files were generated for (none without one)."""

    project: CheckedProject
    interface: Optional[bytes]
    files: list[GeneratedFile]
    diagnostics: list[Diagnostic]
    generated: bool
    jobs: list[Job] = []

    @property
    def ok(self) -> bool:
        return self.interface is not None and not any(d.is_error for d in self.diagnostics)


def compile_unit(
    path: str,
    text: str,
    package: str,
    upstream: Sequence[UnitInterface],
    packages: Mapping[str, str],
    target: Optional[Target],
    environment: Optional[str] = None,
) -> CompiledUnit:
    """Checks the unit at `path` (its `text`, Java package `package`) against the `upstream`
    interfaces (`packages` gives each upstream unit's package), writes its interface and, with
    a `target`, generates its files (procs bound to `environment`)."""
    project = check_unit(text, path, upstream)
    diagnostics = list(project.diagnostics)
    if not project.ok:
        return CompiledUnit(project, None, [], diagnostics, False)
    interface = build_interface(project, path, package)
    if target is None:
        return CompiledUnit(project, interface, [], diagnostics, False)
    every_package = {**packages, path: package}
    try:
        files = generate_checked(project, every_package, target, environment, upstream)
        jobs = job_models(project, every_package, environment, upstream) if environment else []
    except NexflowError as error:
        return CompiledUnit(project, interface, [], diagnostics + error.diagnostics, False)
    return CompiledUnit(project, interface, files, diagnostics, True, jobs)
