"""`nexflow.toml`: where a project's DSL files are, what Java package its code goes to, where the
generated sources go and which environment a build binds by default.

```toml
[project]
name = "demo"
java_package = "com.example.demo"

[build]
sources = ["src"]              # directories searched for DSL files (default: ["src"])
output_dir = "build/nexflow"   # the generated Maven-style source tree (default)
default_environment = "local"  # the L5 environment `nexflow build` binds (optional)
```

The file is read by a small parser for the subset of TOML this file needs (tables, strings,
integers, booleans and arrays of them, comments), so that the tool has no requirement beyond
nexflow_core's own on Python 3.9, where the standard library has no TOML reader.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Tuple, Union

from nexflow_core.generate.java_package import is_java_package, package_under

CONFIG_FILE = "nexflow.toml"
DEFAULT_SOURCES = ("src",)
DEFAULT_OUTPUT_DIR = "build/nexflow"

TomlValue = Union[str, int, bool, List["TomlValue"]]



class ConfigError(Exception):
    """A problem with nexflow.toml, located as `file:line:col` when the position is known."""

    def __init__(self, path: str, message: str, line: int = 0, column: int = 0) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        where = path if not line else f"{path}:{line}:{column or 1}"
        super().__init__(f"{where}: error: {message}")


# --- the TOML subset ---------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_INTEGER = re.compile(r"[+-]?(0|[1-9](_?[0-9])*)")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class _Reader:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.pos = 0

    def error(self, message: str, pos: Optional[int] = None) -> ConfigError:
        p = self.pos if pos is None else pos
        line = self.text.count("\n", 0, p) + 1
        column = p - (self.text.rfind("\n", 0, p) + 1) + 1
        return ConfigError(self.path, message, line, column)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_blanks(self, newlines: bool = False) -> None:
        """Skips spaces and tabs (and newlines and comments when `newlines`)."""
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch in " \t" or (newlines and ch in "\r\n"):
                self.pos += 1
            elif newlines and ch == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def end_of_line(self) -> None:
        self.skip_blanks()
        if self.peek() == "#":
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end < 0 else end
        if self.text.startswith("\r\n", self.pos):
            self.pos += 2
        elif self.peek() == "\n":
            self.pos += 1
        elif self.pos < len(self.text):
            raise self.error(f"unexpected {self.peek()!r}; expected the end of the line")

    def key(self) -> str:
        if self.peek() == '"':
            return self.basic_string()
        m = _BARE_KEY.match(self.text, self.pos)
        if not m:
            raise self.error("expected a key (letters, digits, '_' or '-')")
        self.pos = m.end()
        return m.group()

    def dotted_key(self) -> List[str]:
        parts = [self.key()]
        self.skip_blanks()
        while self.peek() == ".":
            self.pos += 1
            self.skip_blanks()
            parts.append(self.key())
            self.skip_blanks()
        return parts

    def basic_string(self) -> str:
        start = self.pos
        self.pos += 1  # the opening quote
        out: list[str] = []
        while True:
            if self.pos >= len(self.text) or self.peek() in "\r\n":
                raise self.error("this string has no closing quote", start)
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                esc = self.text[self.pos + 1 : self.pos + 2]
                if esc in _ESCAPES:
                    out.append(_ESCAPES[esc])
                    self.pos += 2
                elif esc in ("u", "U"):
                    width = 4 if esc == "u" else 8
                    digits = self.text[self.pos + 2 : self.pos + 2 + width]
                    if len(digits) != width or not all(
                        c in "0123456789abcdefABCDEF" for c in digits
                    ):
                        raise self.error(f"\\{esc} needs {width} hexadecimal digits")
                    code = int(digits, 16)
                    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                        raise self.error(f"\\{esc}{digits} is not a character")
                    out.append(chr(code))
                    self.pos += 2 + width
                else:
                    raise self.error(f"unknown escape \\{esc}")
            else:
                out.append(ch)
                self.pos += 1

    def literal_string(self) -> str:
        start = self.pos
        end = self.pos + 1
        while end < len(self.text) and self.text[end] not in "'\r\n":
            end += 1
        if end >= len(self.text) or self.text[end] != "'":
            raise self.error("this string has no closing quote", start)
        self.pos = end + 1
        return self.text[start + 1 : end]

    def value(self) -> TomlValue:
        ch = self.peek()
        if ch == '"':
            if self.text.startswith('"""', self.pos):
                raise self.error("multi-line strings are not supported in nexflow.toml")
            return self.basic_string()
        if ch == "'":
            if self.text.startswith("'''", self.pos):
                raise self.error("multi-line strings are not supported in nexflow.toml")
            return self.literal_string()
        if ch == "[":
            return self.array()
        for word, val in (("true", True), ("false", False)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return val
        m = _INTEGER.match(self.text, self.pos)
        if m and not re.match(r"[A-Za-z0-9_.:-]", self.text[m.end() : m.end() + 1]):
            self.pos = m.end()
            return int(m.group().replace("_", ""))
        raise self.error('expected a value: a "string", a whole number, true, false or [a, list]')

    def array(self) -> List[TomlValue]:
        self.pos += 1  # [
        items: List[TomlValue] = []
        while True:
            self.skip_blanks(newlines=True)
            if self.peek() == "]":
                self.pos += 1
                return items
            items.append(self.value())
            self.skip_blanks(newlines=True)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() == "]":
                self.pos += 1
                return items
            else:
                raise self.error("expected ',' or ']' in this list")


def parse_toml(text: str, path: str = CONFIG_FILE) -> Dict[str, object]:
    """Parses the TOML subset described in the module docstring into nested dicts."""
    if text.startswith("\ufeff"):
        text = text[1:]
    r = _Reader(text, path)
    root: Dict[str, object] = {}
    table = root
    defined: Dict[Tuple[str, ...], int] = {}
    while True:
        r.skip_blanks(newlines=True)
        if r.pos >= len(text):
            return root
        start = r.pos
        if r.peek() == "[":
            if text.startswith("[[", r.pos):
                raise r.error("arrays of tables ([[…]]) are not supported in nexflow.toml")
            r.pos += 1
            r.skip_blanks()
            name = r.dotted_key()
            if r.peek() != "]":
                raise r.error("expected ']' to close the table name")
            r.pos += 1
            key = tuple(name)
            if key in defined:
                raise r.error(f"the table [{'.'.join(name)}] is defined twice", start)
            defined[key] = start
            table = root
            for part in name:
                nxt = table.setdefault(part, {})
                if not isinstance(nxt, dict):
                    raise r.error(f"'{part}' is already a value, not a table", start)
                table = nxt
            r.end_of_line()
            continue
        keys = r.dotted_key()
        r.skip_blanks()
        if r.peek() != "=":
            raise r.error("expected '=' after the key")
        r.pos += 1
        r.skip_blanks()
        value = r.value()
        target = table
        for part in keys[:-1]:
            nxt = target.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise r.error(f"'{part}' is already a value, not a table", start)
            target = nxt
        if keys[-1] in target:
            raise r.error(f"'{'.'.join(keys)}' is set twice", start)
        target[keys[-1]] = value
        r.end_of_line()


# --- the project configuration -----------------------------------------------------------------


class ProjectConfig:
    """A loaded nexflow.toml. Paths are absolute; `relative(path)` gives the POSIX path relative
    to the project root that generated code and diagnostics use."""

    def __init__(
        self,
        root: Path,
        name: str,
        java_package: str,
        sources: List[str],
        output_dir: str,
        default_environment: Optional[str],
        target: str = "flink",
    ) -> None:
        self.root = root
        self.name = name
        self.java_package = java_package
        self.sources = sources
        self.output_dir = output_dir
        self.default_environment = default_environment
        self.target = target

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    def source_dirs(self) -> List[Path]:
        return [self.root / s for s in self.sources]

    def output_path(self, override: Optional[str] = None) -> Path:
        out = Path(override) if override else Path(self.output_dir)
        return out if out.is_absolute() else self.root / out

    def relative(self, path: Path) -> str:
        return PurePosixPath(Path(os.path.relpath(path, self.root))).as_posix()

    def package_for(self, relative_path: str) -> str:
        """The Java package of a unit: the project's package plus the unit's directories below
        the source directory that holds it (`src/fraud/rules.rules` → `<package>.fraud`)."""
        parts = PurePosixPath(relative_path).parts
        for source in sorted(self.sources, key=lambda s: -len(PurePosixPath(s).parts)):
            sparts = PurePosixPath(source).parts
            if sparts == (".",):
                sparts = ()
            if parts[: len(sparts)] == sparts:
                below = parts[len(sparts) : -1]
                return package_under(self.java_package, below)
        return self.java_package


_KNOWN = {
    "project": {"name", "java_package"},
    "build": {"sources", "output_dir", "default_environment", "target"},
}


def _string(
    data: Dict[str, object], table: str, key: str, path: str, required: bool = False
) -> Optional[str]:
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigError(path, f'[{table}] needs {key} = "…"')
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, f"[{table}] {key} must be a non-empty text in double quotes")
    return value


def load_config(root: Path) -> ProjectConfig:
    """Reads `<root>/nexflow.toml`. Raises ConfigError for anything wrong in it."""
    path = root / CONFIG_FILE
    shown = CONFIG_FILE
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise ConfigError(shown, f"cannot read the file ({e.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(shown, "the file is not UTF-8 text") from None
    data = parse_toml(text, shown)
    for table, value in sorted(data.items()):
        if table not in _KNOWN or not isinstance(value, dict):
            raise ConfigError(shown, f"unknown table [{table}]; expected [project] and [build]")
        for key in sorted(value):
            if key not in _KNOWN[table]:
                expected = ", ".join(sorted(_KNOWN[table]))
                raise ConfigError(
                    shown, f"unknown setting '{key}' in [{table}]; expected {expected}"
                )
    project = data.get("project")
    if not isinstance(project, dict):
        raise ConfigError(shown, "the [project] table is missing (name and java_package)")
    build = data.get("build", {})
    assert isinstance(build, dict)
    name = _string(project, "project", "name", shown, required=True)
    package = _string(project, "project", "java_package", shown, required=True)
    assert name is not None and package is not None
    if not is_java_package(package):
        raise ConfigError(
            shown,
            f"java_package '{package}' is not a Java package name "
            "(dot-separated identifiers that are not Java keywords, e.g. com.example.demo)",
        )
    sources_value = build.get("sources", list(DEFAULT_SOURCES))
    if (
        not isinstance(sources_value, list)
        or not sources_value
        or not all(isinstance(s, str) and s.strip() for s in sources_value)
    ):
        raise ConfigError(shown, '[build] sources must be a list of directories, e.g. ["src"]')
    sources: List[str] = []
    for s in sources_value:
        assert isinstance(s, str)
        p = PurePosixPath(s.replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts:
            raise ConfigError(shown, f"source directory '{s}' must be inside the project")
        sources.append(p.as_posix())
    output_dir = _string(build, "build", "output_dir", shown) or DEFAULT_OUTPUT_DIR
    default_env = _string(build, "build", "default_environment", shown)
    target = _string(build, "build", "target", shown) or "flink"
    return ProjectConfig(root, name, package, sources, output_dir, default_env, target)


def find_project(start: Path) -> Optional[Path]:
    """The nearest directory at or above `start` that holds a nexflow.toml."""
    here = start.resolve()
    for d in (here, *here.parents):
        if (d / CONFIG_FILE).is_file():
            return d
    return None
