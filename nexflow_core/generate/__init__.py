"""Generate: render checked DSL units into target code (Flink Java first).

`generate(units, upstream, target)` (whole project) and `generate_checked(project, packages,
target)` (one unit checked against upstream interface files) build the target-independent
model (core.py) and hand it to a target adapter; `TARGETS` names the adapters that exist.
"""

from __future__ import annotations

from nexflow_core.generate.core import Unit, generate, generate_checked
from nexflow_core.generate.flink import FlinkTarget
from nexflow_core.generate.target import Target

TARGETS: dict[str, Target] = {"flink": FlinkTarget()}

__all__ = ["TARGETS", "Target", "Unit", "generate", "generate_checked"]
