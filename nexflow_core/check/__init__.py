"""The check stage: name resolution across files and layers, type flow, layering, decision
table analysis and L5 binding validation.

Entry point: `nexflow_core.check.checker.check_modules(modules, upstream_interfaces)`; most
callers use `nexflow_core.project.check_project` instead. This package's __init__ stays
light so that `nexflow_core.interface` can import `check.types` without a cycle."""
