"""The Flink target: renders the generator's model as Flink 2.x DataStream Java via jinja2."""

from nexflow_core.generate.flink.adapter import FlinkTarget

__all__ = ["FlinkTarget"]
