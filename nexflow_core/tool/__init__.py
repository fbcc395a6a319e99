"""The `nexflow` tool for projects built without Pants: one module per command.

- `config`: `nexflow.toml` (a small TOML subset, read without a TOML library so that the tool
  needs nothing beyond nexflow_core's own requirements on Python 3.9)
- `init`: scaffold a project
- `build`: incremental, layer-ordered compilation into a Maven-style source tree
- `verify`: the Maven project and javac errors mapped back to DSL lines
- `graph`: a proc's operator graph as Mermaid or SVG
- `fmt`: canonical formatting of DSL files
- `progress`: per-unit progress lines and timings
"""
