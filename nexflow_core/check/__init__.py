"""The check stage: name resolution across files and layers, type flow, layering, decision
table analysis and L5 binding validation. It owns the language's semantics: each proc's flow
(`proc_check.ProcFlow`) is computed here once, and the generator reads it.

Entry point: `nexflow_core.check.checker.check_modules(modules, upstream_interfaces)`; most
callers use `nexflow_core.project.check_project` instead. The types it computes are
`nexflow_core.typemodel`'s, a layer below both this package and `nexflow_core.interface`."""
