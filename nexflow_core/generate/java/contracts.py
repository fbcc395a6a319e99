"""The Java of a record contract's field constraints: one method per constraint kind the model
carries (`model.Constraint.kind`), naming the macros of contract.java.j2 that write its
constant (a compiled pattern, the allowed texts) and its check; any other kind is an error,
never a constraint that is silently not checked."""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from nexflow_core.generate import model


class ConstraintJava(NamedTuple):
    # The macro declaring the constant the check uses (None: it needs none).
    constant: Optional[str]
    # The macro writing the check inside violations() ("none": the field's own null check is
    # the whole of it).
    check: str


class Constraints:
    def java(self, c: model.Constraint) -> ConstraintJava:
        method: Optional[Callable[[model.Constraint], ConstraintJava]] = getattr(
            self, "kind_" + c.kind, None
        )
        if method is None:
            raise ValueError(f"no Java for the field constraint kind {c.kind!r}")
        return method(c)

    def kind_required(self, c: model.Constraint) -> ConstraintJava:
        # A required field's check is `field.optional` (the REQUIRED violation on null).
        return ConstraintJava(None, "check_none")

    def kind_range(self, c: model.Constraint) -> ConstraintJava:
        return ConstraintJava(None, "check_range")

    def kind_length(self, c: model.Constraint) -> ConstraintJava:
        return ConstraintJava(None, "check_length")

    def kind_pattern(self, c: model.Constraint) -> ConstraintJava:
        return ConstraintJava("pattern_constant", "check_pattern")

    def kind_allowed(self, c: model.Constraint) -> ConstraintJava:
        return ConstraintJava("allowed_constant", "check_allowed")

    def kind_uuid(self, c: model.Constraint) -> ConstraintJava:
        return ConstraintJava(None, "check_uuid")


constraint_java = Constraints().java
