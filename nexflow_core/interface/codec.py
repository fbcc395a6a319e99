"""Deterministic encoding of unit interfaces: JSON via msgspec with struct fields and map keys
in sorted order, lists in the order the model fixes (sorted by name), no spans, no bodies."""

from __future__ import annotations

import msgspec

from nexflow_core.diagnostics import Diagnostic, NexflowError, Span
from nexflow_core.interface.model import UnitInterface

_ENCODER = msgspec.json.Encoder(order="sorted")
_DECODER = msgspec.json.Decoder(UnitInterface)


def encode_interface(unit: UnitInterface) -> bytes:
    """The bytes of one interface; equal meaning gives equal bytes on every machine/run."""
    return _ENCODER.encode(unit) + b"\n"


def load_interface(data: bytes, origin: str = "<interface>") -> UnitInterface:
    """Decode interface bytes (raises NexflowError if they are not a valid interface)."""
    try:
        return _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise NexflowError(
            [
                Diagnostic(
                    "NX104",
                    "error",
                    f"not a Nexflow interface file ({e})",
                    Span(origin, 1, 1, 1, 2),
                    expected="a file written by `build_interface`",
                )
            ]
        ) from None
