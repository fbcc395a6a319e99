"""nexflow.toml: the TOML subset reader, validation with located errors, Java packages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexflow_core.tool.config import (
    ConfigError,
    ProjectConfig,
    find_project,
    load_config,
    parse_toml,
)

GOOD = """\
# a comment
[project]
name = "demo"   # trailing comment
java_package = 'com.example.demo'

[build]
sources = [
    "src",      # main
    "shared",
]
output_dir = "out/java"
default_environment = "local"
"""


def test_reads_the_subset() -> None:
    assert parse_toml(GOOD) == {
        "project": {"name": "demo", "java_package": "com.example.demo"},
        "build": {
            "sources": ["src", "shared"],
            "output_dir": "out/java",
            "default_environment": "local",
        },
    }
    assert parse_toml('a.b = 1\nc = true\nd = "x\\ty\\u00e9"\ne = -3_000\n') == {
        "a": {"b": 1},
        "c": True,
        "d": "x\ty\u00e9",
        "e": -3000,
    }
    assert parse_toml("[t]\r\nk = []\r\n") == {"t": {"k": []}}


@pytest.mark.parametrize(
    ("text", "line", "col", "words"),
    [
        ('[project]\nname = "x\n', 2, 8, "no closing quote"),
        ("[project]\nname demo\n", 2, 6, "expected '='"),
        ("[project]\n[project]\n", 2, 1, "defined twice"),
        ("a = 1\na = 2\n", 2, 1, "set twice"),
        ("a = [1, 2\n", 2, 1, "expected ',' or ']'"),
        ("a = 1 2\n", 1, 7, "end of the line"),
        ('a = "\\q"\n', 1, 6, "unknown escape"),
        ("a = 1.5\n", 1, 5, "expected a value"),
        ("[[x]]\n", 1, 1, "not supported"),
    ],
)
def test_syntax_errors_are_located(text: str, line: int, col: int, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_toml(text)
    assert (e.value.line, e.value.column) == (line, col), str(e.value)
    assert words in e.value.message
    assert str(e.value).startswith(f"nexflow.toml:{line}:{col}: error: ")


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="tomllib is in the standard library from 3.11"
)
@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True),
        st.one_of(
            st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
            st.integers(-(10**9), 10**9),
            st.booleans(),
            st.lists(st.text(alphabet="abc xyz_", max_size=5), max_size=4),
        ),
        max_size=6,
    )
)
def test_agrees_with_tomllib(table: dict) -> None:  # pragma: no cover - 3.11+ only
    import json

    import tomllib

    lines = ["[t]"]
    for k, v in table.items():
        lines.append(f"{k} = {json.dumps(v, ensure_ascii=False)}")
    text = "\n".join(lines) + "\n"
    assert parse_toml(text) == tomllib.loads(text)


def write(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "nexflow.toml").write_text(text, encoding="utf-8")
    return root


def test_load_config_defaults_and_packages(tmp_path: Path) -> None:
    root = write(tmp_path / "p", '[project]\nname = "p"\njava_package = "com.acme.p"\n')
    c = load_config(root)
    assert (c.sources, c.output_dir, c.default_environment) == (["src"], "build/nexflow", None)
    assert c.package_for("src/a.schema") == "com.acme.p"
    assert c.package_for("src/fraud/rules.rules") == "com.acme.p.fraud"
    assert c.package_for("src/2fa/x-y/class/a.proc") == "com.acme.p._2fa.x_y.class_"
    assert c.output_path() == root / "build" / "nexflow"
    assert c.relative(root / "src" / "a.schema") == "src/a.schema"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[project]\nname = "p"\n', "needs java_package"),
        ('[project]\nname = "p"\njava_package = "com.class.x"\n', "not a Java package"),
        (
            '[project]\nname = "p"\njava_package = "a.b"\n[build]\noutput = "x"\n',
            "unknown setting 'output'",
        ),
        ('[project]\nname = "p"\njava_package = "a.b"\n[tool]\n', "unknown table [tool]"),
        (
            '[project]\nname = "p"\njava_package = "a.b"\n[build]\nsources = "src"\n',
            "list of directories",
        ),
        (
            '[project]\nname = "p"\njava_package = "a.b"\n[build]\nsources = ["../x"]\n',
            "inside the project",
        ),
        ("[build]\n", "[project] table is missing"),
    ],
)
def test_invalid_configs_name_the_problem(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path / "p", text))
    assert words in str(e.value)


def test_find_project_walks_up(tmp_path: Path) -> None:
    root = write(tmp_path / "p", '[project]\nname = "p"\njava_package = "a.b"\n')
    (root / "src" / "deep").mkdir(parents=True)
    assert find_project(root / "src" / "deep") == root.resolve()
    assert find_project(tmp_path) is None or find_project(tmp_path) != root


def test_project_config_is_plain(tmp_path: Path) -> None:
    c = ProjectConfig(tmp_path, "n", "a.b", ["."], "out", None)
    assert c.package_for("x/y.proc") == "a.b.x"
