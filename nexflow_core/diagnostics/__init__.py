"""Diagnostics: locations (Span), findings (Diagnostic), the NexflowError exception, the
catalogue of stable codes and renderers (human text and JSON)."""

from nexflow_core.diagnostics.catalogue import CODES, title
from nexflow_core.diagnostics.diagnostic import (
    ERROR,
    WARNING,
    Diagnostic,
    NexflowError,
    sort_key,
)
from nexflow_core.diagnostics.render import render_json, render_one, render_text
from nexflow_core.diagnostics.span import Span, file_span

__all__ = [
    "CODES",
    "ERROR",
    "WARNING",
    "Diagnostic",
    "NexflowError",
    "Span",
    "file_span",
    "render_json",
    "render_one",
    "render_text",
    "sort_key",
    "title",
]
