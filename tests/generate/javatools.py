"""Generate, compile and run Java from tests: one javac per test module, one JVM per run.

Outside Pants, set NEXFLOW_TEST_CLASSPATH to a classpath with Flink, Jackson and log4j (or a
file holding one) and JAVA_HOME (or have javac on PATH). Under Pants the classpath is the jar
of tests/generate/jvm:flink-classpath and the JDK is the one ./pants found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from nexflow_core.generate import TARGETS, Unit, generate
from nexflow_core.generate.command import write_files
from nexflow_core.syntax import parse_source

PANTS_JAR = Path("tests.generate.jvm/flink-classpath.jar")


def java_home() -> Path:
    for var in ("NEXFLOW_JAVA_HOME", "JAVA_HOME"):
        value = os.environ.get(var)
        if value and (Path(value) / "bin" / "javac").exists():
            return Path(value)
    javac = shutil.which("javac")
    assert javac, "no JDK: set JAVA_HOME (./pants sets NEXFLOW_JAVA_HOME)"
    return Path(os.path.realpath(javac)).parent.parent


def classpath() -> str:
    value = os.environ.get("NEXFLOW_TEST_CLASSPATH")
    if value:
        path = Path(value)
        return path.read_text("utf-8").strip() if path.is_file() else value
    assert PANTS_JAR.is_file(), f"{PANTS_JAR} missing: use ./pants or set NEXFLOW_TEST_CLASSPATH"
    return str(PANTS_JAR.resolve())


def dsl_sources(directory: Path) -> dict[str, str]:
    """The DSL files of `directory` (name -> text); its test files (.nxtest) and others left out."""
    from nexflow_core.syntax.parser import EXTENSIONS

    return {
        p.name: p.read_text("utf-8") for p in sorted(directory.iterdir()) if p.suffix in EXTENSIONS
    }


def generate_sources(
    sources: dict[str, str],
    package: str,
    out: Path,
    upstream: Optional[dict[str, str]] = None,
    environment: Optional[str] = None,
) -> list[Path]:
    """Write the DSL `sources` (name -> text) under out/dsl, generate Java for them into
    out/java (plus the L0 runtime; procs bound to `environment` if named) and return the Java
    files."""
    dsl = out / "dsl"
    dsl.mkdir(parents=True, exist_ok=True)
    units = []
    for name, text in sorted(sources.items()):
        (dsl / name).write_text(text, "utf-8")
        units.append(Unit(parse_source(text, name), package, text))
    ups = [
        Unit(parse_source(text, name), package + ".upstream", text)
        for name, text in sorted((upstream or {}).items())
    ]
    target = TARGETS["flink"]
    files = generate(units, ups, target, environment)
    java = out / "java"
    written = write_files(java, files)
    written += write_files(java, target.render_runtime())
    return sorted(written)


def javac(java_files: Sequence[Path], classes: Path, extra: Sequence[Path] = ()) -> None:
    classes.mkdir(parents=True, exist_ok=True)
    argfile = classes.parent / "javac-files.txt"
    argfile.write_text("\n".join(str(p) for p in [*java_files, *extra]), "utf-8")
    result = subprocess.run(
        [
            str(java_home() / "bin" / "javac"),
            "-nowarn",
            "-proc:none",
            "-encoding",
            "UTF-8",
            "-d",
            str(classes),
            "-cp",
            classpath(),
            f"@{argfile}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]


def java(main: str, classes: Path, args: Sequence[str] = (), timeout: int = 600) -> str:
    """Run `main` with the compiled classes; return its standard output."""
    result = subprocess.run(
        [
            str(java_home() / "bin" / "java"),
            "-Xss4m",
            "-cp",
            f"{classes}{os.pathsep}{classpath()}",
            main,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    return result.stdout
