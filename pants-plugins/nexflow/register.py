"""Nexflow's Pants backend: DSL targets whose sources generate Flink Java."""

from __future__ import annotations

from pants.backend.experimental.java.register import rules as java_backend_rules
from pants.backend.python.util_rules import pex_from_targets
from pants.jvm.target_types import PrefixedJvmJdkField, PrefixedJvmResolveField

from nexflow import codegen, dependency_inference
from nexflow.target_types import (
    NexflowProcsGeneratorTarget,
    NexflowProcTarget,
    NexflowRuntimeTarget,
    NexflowSchemasGeneratorTarget,
    NexflowSchemaTarget,
)

_TARGET_TYPES = (
    NexflowSchemaTarget,
    NexflowSchemasGeneratorTarget,
    NexflowProcTarget,
    NexflowProcsGeneratorTarget,
    NexflowRuntimeTarget,
)


def target_types():
    return list(_TARGET_TYPES)


def rules():
    return [
        *codegen.rules(),
        *dependency_inference.rules(),
        *pex_from_targets.rules(),
        # Generated Java compiles in a JVM resolve with a JDK, like protobuf's Java codegen.
        *(tgt.register_plugin_field(PrefixedJvmResolveField) for tgt in _TARGET_TYPES),
        *(tgt.register_plugin_field(PrefixedJvmJdkField) for tgt in _TARGET_TYPES),
        *java_backend_rules(),
    ]
