"""`nexflow init NAME`: a new project directory with a nexflow.toml, one DSL file per layer
forming a small working pipeline, sample input and a README.

The files come from `templates/init/` (package data); `*.j2` files are rendered with the
project's name and Java package, the rest are copied as they are.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional, Tuple

import jinja2

from nexflow_core.generate.java_package import is_java_package, java_package_part
from nexflow_core.tool.config import CONFIG_FILE
from nexflow_core.versions import FLINK_VERSION

TEMPLATES = Path(__file__).resolve().parent / "templates" / "init"
# Files whose name in the package differs from the name in the project.
_RENAMES = {"gitignore": ".gitignore"}


class InitError(Exception):
    pass


def default_package(name: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name.lower()) if w]
    return "com.example." + java_package_part("_".join(words) or "app")


def scaffold_files(name: str, java_package: str) -> List[Tuple[str, bytes]]:
    """The files of a new project (relative POSIX path, bytes), sorted by path."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    context = {"name": name, "java_package": java_package, "flink_version": FLINK_VERSION}
    files = []
    for path in sorted(p for p in TEMPLATES.rglob("*") if p.is_file()):
        rel = path.relative_to(TEMPLATES).as_posix()
        if "__pycache__" in rel:
            continue
        if rel.endswith(".j2"):
            data = env.get_template(rel).render(**context).encode("utf-8")
            rel = rel[: -len(".j2")]
        else:
            data = path.read_bytes()
        rel = _RENAMES.get(rel, rel)
        files.append((rel, data))
    return sorted(files)


def init_project(
    directory: Path, name: Optional[str] = None, java_package: Optional[str] = None
) -> List[str]:
    """Creates the project in `directory` (which must not exist or be empty). Returns the
    paths written, relative to it."""
    project_name = name or directory.resolve().name
    if not project_name or not re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z", project_name):
        raise InitError(
            f"'{project_name}' is not a usable project name "
            "(letters, digits, '.', '_' and '-', starting with a letter or digit)"
        )
    package = java_package or default_package(project_name)
    if not is_java_package(package):
        raise InitError(f"'{package}' is not a Java package name (e.g. com.example.demo)")
    if directory.exists():
        if not directory.is_dir():
            raise InitError(f"'{directory}' exists and is not a directory")
        if any(directory.iterdir()):
            existing = CONFIG_FILE if (directory / CONFIG_FILE).exists() else "files"
            raise InitError(f"'{directory}' already has {existing} in it; choose a new directory")
    written = []
    for rel, data in scaffold_files(project_name, package):
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(rel)
    return written
