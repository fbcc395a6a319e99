"""Nexflow's Pants backend: DSL targets whose sources generate Flink Java."""

from __future__ import annotations

from pants.backend.experimental.java.register import rules as java_backend_rules
from pants.backend.python.util_rules import pex_from_targets
from pants.engine.rules import Rule
from pants.engine.target import Target
from pants.engine.unions import UnionRule
from pants.jvm.target_types import PrefixedJvmJdkField, PrefixedJvmResolveField

from nexflow import (
    check,
    codegen,
    dependency_inference,
    local_run,
    nxtest,
    package,
    symbol_map,
    tailor,
)
from nexflow.local_run import NexflowLocalRunTarget
from nexflow.package import NexflowFlinkJobTarget
from nexflow.target_types import ALL_TARGET_TYPES, TEST_TARGET_TYPES


def target_types() -> list[type[Target]]:
    return [*ALL_TARGET_TYPES, *TEST_TARGET_TYPES, NexflowFlinkJobTarget, NexflowLocalRunTarget]


def rules() -> list[Rule | UnionRule]:
    return [
        *codegen.rules(),
        *dependency_inference.rules(),
        *tailor.rules(),
        *symbol_map.rules(),
        *check.rules(),
        *package.rules(),
        *local_run.rules(),
        *nxtest.rules(),
        *pex_from_targets.rules(),
        # Generated Java compiles in a JVM resolve with a JDK, like protobuf's Java codegen.
        *(tgt.register_plugin_field(PrefixedJvmResolveField) for tgt in ALL_TARGET_TYPES),
        *(tgt.register_plugin_field(PrefixedJvmJdkField) for tgt in ALL_TARGET_TYPES),
        *java_backend_rules(),
    ]
