"""Nexflow compiler core: parse, check and (later) generate layered stream-processing DSLs."""

__version__ = "0.1.0"
