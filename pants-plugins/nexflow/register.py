"""Nexflow's Pants backend: DSL targets whose sources generate Flink Java."""


def rules():
    return []


def target_types():
    return []
