"""A release's baseline: what the gate compares a change with.

A baseline directory (`nexflow baseline --output-dir DIR`) holds

    baseline.json               {"format": 1, "environment": <name or null>, "jobs": [...]}
    interfaces/<unit>.nxi       every unit's interface file (the contract gate reads these)
    <JobName>.state.json        each job's state description (compat/state.py)

all deterministic. A job jar built by Pants (`nexflow_flink_job`) carries the same files under
`META-INF/nexflow/baseline/` (JAR_DIR): the baseline of the units it is built from, kept with
the release; `read_jar_baseline` reads it and `merge_baselines` joins the jars of one release.
A git revision is a baseline too: `sources_at` extracts the project's files
at that revision (git archive) into a directory, and the gate compiles them there.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

from nexflow_core.compat import state
from nexflow_core.interface import UnitInterface, load_interface

FORMAT = 1
INDEX = "baseline.json"
INTERFACES = "interfaces"
STATE_SUFFIX = ".state.json"
# Where a job jar keeps its baseline (the layout of a baseline directory below it).
JAR_DIR = "META-INF/nexflow/baseline/"


class BaselineError(Exception):
    """A baseline that cannot be read or made (said in plain words, no traceback)."""


class Baseline:
    """Job name -> state description, unit path -> interface file bytes."""

    def __init__(
        self,
        states: Mapping[str, Dict[str, Any]],
        interfaces: Mapping[str, bytes],
        environment: Optional[str] = None,
    ) -> None:
        self.states = dict(states)
        self.interfaces = dict(interfaces)
        self.environment = environment

    def loaded_interfaces(self) -> Dict[str, UnitInterface]:
        """Unit path -> its interface (what `contract_findings` reads)."""
        return {
            path: load_interface(data, origin=path)
            for path, data in sorted(self.interfaces.items())
        }


def write_baseline(baseline: Baseline, directory: Path) -> list:
    """Writes `baseline` into `directory` (replacing a baseline there); returns the files."""
    if (directory / INDEX).is_file():
        # Only a directory a baseline was written to is emptied: a wrong --output-dir must not
        # remove someone's files.
        for child in directory.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path, data in sorted(baseline.interfaces.items()):
        out = directory / INTERFACES / (path + ".nxi")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        written.append(out)
    for job, description in sorted(baseline.states.items()):
        out = directory / (job + STATE_SUFFIX)
        out.write_bytes(state.encode(description))
        written.append(out)
    index = {"format": FORMAT, "environment": baseline.environment, "jobs": sorted(baseline.states)}
    (directory / INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", "utf-8")
    written.append(directory / INDEX)
    return written


def read_baseline(directory: Path, states: bool = True) -> Baseline:
    """The baseline in `directory`; without `states`, its interfaces only (the jobs' files are
    not read: a build unit without jobs is given none of them)."""
    index_path = directory / INDEX
    if not index_path.is_file():
        raise BaselineError(
            f"{directory} is not a baseline (no {INDEX}); write one with "
            "`nexflow baseline --output-dir DIR`, or pass a git revision"
        )
    try:
        index = json.loads(index_path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise BaselineError(f"{index_path} cannot be read: {e}") from None
    if index.get("format") != FORMAT:
        raise BaselineError(f"{index_path} is of another format ({index.get('format')})")
    descriptions: Dict[str, Dict[str, Any]] = {}
    for job in index.get("jobs", []) if states else []:
        path = directory / (job + STATE_SUFFIX)
        try:
            descriptions[job] = state.decode(path.read_bytes())
        except (OSError, ValueError) as e:
            raise BaselineError(f"{path} cannot be read: {e}") from None
    interfaces: Dict[str, bytes] = {}
    root = directory / INTERFACES
    if root.is_dir():
        for path in sorted(root.rglob("*.nxi")):
            interfaces[path.relative_to(root).as_posix()[: -len(".nxi")]] = path.read_bytes()
    return Baseline(descriptions, interfaces, index.get("environment"))


def read_jar_baseline(jar: Path) -> Baseline:
    """The baseline a job jar carries under JAR_DIR (read as the directory it was made from)."""
    try:
        with zipfile.ZipFile(jar) as archive, tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            found = False
            for member in archive.infolist():
                name = member.filename
                if not name.startswith(JAR_DIR) or member.is_dir():
                    continue
                relative = Path(name[len(JAR_DIR) :])
                # Entries of the jar, not paths to trust: nothing outside the directory.
                if relative.is_absolute() or ".." in relative.parts or not relative.parts:
                    continue
                target = root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member))
                found = found or relative.as_posix() == INDEX
            if not found:
                raise BaselineError(
                    f"{jar} carries no baseline ({JAR_DIR}{INDEX}): it was not built by a "
                    "`nexflow_flink_job` target of this version"
                )
            return read_baseline(root)
    except (OSError, zipfile.BadZipFile) as e:
        raise BaselineError(f"{jar} cannot be read as a jar: {e}") from None


def merge_baselines(baselines: Sequence[Baseline], origins: Sequence[str]) -> Baseline:
    """One baseline of several (the job jars of one release). A job or a unit interface two of
    them hold must be the same in both; so must their environments (a jar without jobs has
    none and binds nothing)."""
    states: Dict[str, Dict[str, Any]] = {}
    interfaces: Dict[str, bytes] = {}
    environment: Optional[str] = None
    source: Dict[str, str] = {}
    for baseline, origin in zip(baselines, origins):
        if baseline.environment is not None:
            if environment is not None and environment != baseline.environment:
                raise BaselineError(
                    f"{origin} is of environment {baseline.environment}, "
                    f"{source['environment']} of {environment}: one baseline binds one environment"
                )
            environment = baseline.environment
            source["environment"] = origin
        for job, description in baseline.states.items():
            _merge_one(states, source, job, description, origin, f"job {job}")
        for path, data in baseline.interfaces.items():
            _merge_one(interfaces, source, path, data, origin, f"the interface of {path}")
    return Baseline(states, interfaces, environment)


def _merge_one(
    into: Dict[str, Any], source: Dict[str, str], key: str, value: Any, origin: str, what: str
) -> None:
    """`value` under `key`, unless an earlier jar (named in `source`) held another one."""
    if key in into and into[key] != value:
        raise BaselineError(
            f"{what} differs in {source[what]} and {origin}: are they of the same release?"
        )
    into[key] = value
    source.setdefault(what, origin)


def _git(args: list, cwd: Path) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False
        )
    except OSError as e:
        raise BaselineError(f"git cannot be run: {e}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BaselineError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return done.stdout


def sources_at(revision: str, project: Path, into: Path) -> Path:
    """Extracts the project directory's files at git `revision` into `into`; returns the
    project's directory there (the same path below the repository's top as `project`)."""
    top = Path(_git(["rev-parse", "--show-toplevel"], project).decode().strip())
    below = project.resolve().relative_to(top.resolve()).as_posix()
    _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], project)
    spec = f"{revision}:{below}" if below not in ("", ".") else revision
    data = _git(["archive", "--format=tar", spec], top)
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            # Only plain files and directories, inside `into` (a tree from git, but still).
            name = Path(member.name)
            if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
                continue
            archive.extract(member, into)
    return into
