"""The Java of a record contract's field constraints: one method per constraint kind the model
carries (`model.Constraint.kind`), naming the macros of contract.java.j2 that write its
constant (a compiled pattern, the allowed texts) and its check; any other kind is an error,
never a constraint that is silently not checked. Likewise for the kind of a field's type: which
macros check, normalize and mask it (nested records, lists and maps of them, decimals)."""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from nexflow_core.generate import model
from nexflow_core.typemodel import Type


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


class FieldJava(NamedTuple):
    # The macro of contract.java.j2 checking the value by its type in violations(), after the
    # field's constraints ("check_plain": the constraints are the whole of it).
    check: str
    # The macro putting the value in normal form in normalize() ("normalize_plain": nothing).
    normalize: str
    # The macro masking the field in mask() ("mask_plain": nothing to mask).
    mask: str
    # The record whose contract the field's value (or items) are handed to: its sensitive()
    # decides this one's.
    nested: Optional[str] = None
    # Its items are records in a JSON array: the mask walks an ArrayNode.
    array_of_records: bool = False


_PLAIN = FieldJava("check_plain", "normalize_plain", "mask_plain")


class FieldTypes:
    """What a record contract does with a field by the kind of its type (typemodel.Type.kind):
    one method per kind a record field can have; any other kind is an error, never a field that
    is silently not checked or not masked."""

    def java(self, field: model.RecordField) -> FieldJava:
        method: Optional[Callable[[Type], FieldJava]] = getattr(
            self, "type_" + field.type.kind, None
        )
        if method is None:
            raise ValueError(f"no contract Java for a field of kind {field.type.kind!r}")
        java = method(field.type)
        # A sensitive field is masked whole, whatever its type.
        return java._replace(mask="mask_sensitive") if field.sensitive else java

    def type_decimal(self, t: Type) -> FieldJava:
        return FieldJava("check_decimal", "normalize_decimal", "mask_plain")

    def type_record(self, t: Type) -> FieldJava:
        return FieldJava("check_record", "normalize_record", "mask_record", t.name)

    def type_list(self, t: Type) -> FieldJava:
        item = t.args[0]
        if item.kind == "record":
            return FieldJava(
                "check_list_of_records",
                "normalize_list_of_records",
                "mask_list_of_records",
                item.name,
                True,
            )
        if item.kind == "decimal":
            return FieldJava("check_list_of_decimals", "normalize_list_of_decimals", "mask_plain")
        return _PLAIN

    def type_map(self, t: Type) -> FieldJava:
        value = t.args[1]
        if value.kind == "record":
            return FieldJava(
                "check_map_of_records", "normalize_plain", "mask_map_of_records", value.name
            )
        return _PLAIN

    # The other kinds: the constraints are the whole check, and nothing is nested.
    def type_string(self, t: Type) -> FieldJava:
        return _PLAIN

    def type_int(self, t: Type) -> FieldJava:
        return _PLAIN

    def type_long(self, t: Type) -> FieldJava:
        return _PLAIN

    def type_double(self, t: Type) -> FieldJava:
        return _PLAIN

    def type_boolean(self, t: Type) -> FieldJava:
        return _PLAIN

    def type_date(self, t: Type) -> FieldJava:
        return _PLAIN

    def type_datetime(self, t: Type) -> FieldJava:
        return _PLAIN

    def type_uuid(self, t: Type) -> FieldJava:
        return _PLAIN

    def type_bytes(self, t: Type) -> FieldJava:
        return _PLAIN

    def type_enum(self, t: Type) -> FieldJava:
        return _PLAIN


field_java = FieldTypes().java


class RecordJava(NamedTuple):
    # What each field's type needs, in field order.
    fields: list[FieldJava]
    # The records whose contracts this one hands fields to, each once, in field order.
    nested: list[str]
    # The macro of mask(): "mask_fields" (a sensitive field, or a nested record that could have
    # one) or "mask_nothing".
    mask: str
    # The macro of sensitive(): "sensitive_always", "sensitive_if_nested" (as its nested
    # records' contracts answer) or "sensitive_never".
    sensitive: str
    # The macro of correlationId(): "correlation_token" (a @sensitive key: its token, never its
    # value), "correlation_keys" or "correlation_none" (no key).
    correlation_id: str
    # mask() walks JSON arrays (a list of records).
    array_nodes: bool


def record_java(record: model.Record) -> RecordJava:
    """What a record's contract does as a whole, from its fields."""
    fields = [field_java(f) for f in record.fields]
    nested = list(dict.fromkeys(f.nested for f in fields if f.nested))
    sensitive = any(f.sensitive for f in record.fields)
    keys = [f for f in record.fields if f.is_key]
    if any(k.sensitive for k in keys):
        correlation_id = "correlation_token"
    else:
        correlation_id = "correlation_keys" if keys else "correlation_none"
    return RecordJava(
        fields=fields,
        nested=nested,
        mask="mask_fields" if sensitive or nested else "mask_nothing",
        sensitive=(
            "sensitive_always"
            if sensitive
            else "sensitive_if_nested" if nested else "sensitive_never"
        ),
        correlation_id=correlation_id,
        array_nodes=any(f.array_of_records for f in fields),
    )
