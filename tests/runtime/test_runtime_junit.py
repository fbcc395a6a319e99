"""The L0 runtime's own JUnit tests (tests/runtime/java): the runtime as the compiler ships it
and the test classes compiled in one javac, then run with the JUnit console. Every test of
every class must run and pass.

Outside Pants, besides tests/generate's NEXFLOW_TEST_CLASSPATH and JAVA_HOME, set
NEXFLOW_JUNIT_JAR to a junit-platform-console-standalone jar (`pants package
tests/runtime:junit-console` builds one in dist/tests.runtime/).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from nexflow_core.generate import TARGETS
from nexflow_core.generate.command import write_files
from tests.generate import javatools

HERE = Path(__file__).resolve().parent
PANTS_JAR = Path("tests.runtime/junit-console.jar")


def _junit_jar() -> str:
    value = os.environ.get("NEXFLOW_JUNIT_JAR")
    if value:
        return value
    assert PANTS_JAR.is_file(), f"{PANTS_JAR} missing: use ./pants or set NEXFLOW_JUNIT_JAR"
    return str(PANTS_JAR.resolve())


def test_runtime_junit_tests_pass(tmp_path: Path) -> None:
    runtime = write_files(tmp_path / "runtime", TARGETS["flink"].render_runtime())
    tests = sorted((HERE / "java").rglob("*Test.java"))
    assert len(tests) >= 4, tests
    classpath = os.pathsep.join([javatools.classpath(), _junit_jar()])
    classes = tmp_path / "classes"
    argfile = tmp_path / "javac-files.txt"
    argfile.write_text("\n".join(str(p) for p in [*runtime, *tests]), "utf-8")
    home = javatools.java_home()
    javac = subprocess.run(
        [str(home / "bin" / "javac"), "-nowarn", "-proc:none", "-encoding", "UTF-8",
         "-d", str(classes), "-cp", classpath, f"@{argfile}"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert javac.returncode == 0, javac.stdout[-6000:] + javac.stderr[-6000:]
    run = subprocess.run(
        [str(home / "bin" / "java"), "-cp", os.pathsep.join([str(classes), classpath]),
         "org.junit.platform.console.ConsoleLauncher", "execute", "--disable-banner",
         "--disable-ansi-colors", "--details=tree", "--fail-if-no-tests",
         "--select-package=nexflow.runtime"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-12000:]
    # Every @Test of the sources ran (a class the console could not find would not fail it).
    declared = sum(len(re.findall(r"^\s*@Test\b", p.read_text("utf-8"), re.M)) for p in tests)
    found = re.search(r"\[\s*(\d+) tests successful\s*\]", out)
    assert found and int(found.group(1)) == declared, out[-4000:]
    print(out[-3000:])
