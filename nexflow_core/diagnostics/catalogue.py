"""The one table of diagnostic codes. NX1xx syntax, NX2xx names/layering, NX3xx types,
NX4xx domain rules (decision tables, rules, proc structure, schemas), NX5xx infra, NX9xx
generation (a construct the target cannot render faithfully: refused, never wrong code).

docs/diagnostics.md documents every code here with a minimal trigger and the fix; a test
checks both lists agree."""

from __future__ import annotations

CODES: dict[str, str] = {
    # syntax
    "NX101": "unexpected input",
    "NX102": "unexpected end of file",
    "NX103": "unexpected character",
    "NX104": "malformed construct",
    "NX105": "unknown file kind",
    "NX106": "invalid word or value",
    "NX107": "errors held back by a file with syntax errors",
    # names and layering
    "NX201": "unknown type or schema",
    "NX202": "duplicate definition",
    "NX203": "layering violation",
    "NX204": "unknown field",
    "NX205": "unknown stream",
    "NX206": "unknown store",
    "NX207": "unknown transform",
    "NX208": "unknown ruleset or decision table",
    "NX209": "unknown function",
    "NX210": "record name cannot be bound",
    "NX211": "unknown name in expression",
    "NX212": "unknown environment",
    "NX213": "secret reference names no variable or absolute file",
    # types
    "NX301": "operand types do not fit the operator",
    "NX302": "condition is not a boolean",
    "NX303": "exact decimal mixed with approximate number",
    "NX304": "record type does not match the stream",
    "NX305": "value does not fit the field type",
    "NX306": "field not produced or not declared",
    "NX307": "wrong function arguments",
    "NX308": "input record type does not match",
    "NX309": "value may be null where a value is required",
    "NX310": "invalid type parameters",
    # domain
    "NX401": "decision table rows overlap",
    "NX402": "decision table does not cover every input",
    "NX403": "unreachable rule",
    "NX404": "decision table row has the wrong number of cells",
    "NX405": "hit policy needs more information",
    "NX406": "invalid annotation",
    "NX407": "incompatible schema evolution",
    "NX408": "statement before what it needs",
    "NX409": "route target not handled",
    "NX410": "rows disagree under the any hit policy",
    "NX411": "invalid decision table cell",
    "NX412": "transform lookup key is not an input field",
    "NX414": "two operators with one uid",
    "NX417": "lookup fallback declared twice",
    "NX418": "lookup fallback without a lookup",
    "NX419": "a second handler of one event for one statement",
    "NX420": "correlation that cannot pair",
    "NX421": "name read beyond the operator that has it",
    "NX422": "statement no record reaches",
    "NX423": "partner stream read twice",
    "NX424": "one stream emitted two ways",
    "NX425": "persist fallback declared twice",
    "NX426": "persist fallback without a persist",
    "NX430": "keyed statement without a key",
    "NX431": "proc without exactly one source",
    "NX432": "statement without a part it needs",
    "NX433": "sliding window that slides further than its size",
    "NX434": "event time not from a field of the source's records",
    "NX435": "field read outside an aggregation",
    "NX436": "transform named like a built-in function",
    "NX413": "windows or rolling aggregates with no watermark delay",
    # infra
    "NX501": "stream not bound in environment",
    "NX502": "store not bound in environment",
    "NX503": "secret written as a literal value",
    "NX504": "binding for an undeclared name",
    "NX505": "invalid infrastructure setting",
    "NX506": "environment inheritance cycle",
    "NX507": "unknown delivery guarantee",
    "NX508": "idempotency key is not a field of the stream",
    "NX509": "exactly-once sink without checkpoints",
    "NX511": "exactly-once sink with at-least-once checkpoints",
    "NX512": "invalid idle timeout",
    "NX513": "invalid start position",
    "NX514": "invalid transactional id prefix",
    "NX510": "environment declared in several directories",
    "NX521": "invalid store timeout",
    "NX522": "invalid store cache size",
    "NX523": "password written inside a URI",
    "NX524": "credential written inside a text",
    "NX525": "invalid TLS setting",
    "NX516": "dead letters unbound in a deployable environment",
    "NX517": "malformed dead_letters setting",
    "NX526": "checkpoints without durable storage",
    "NX527": "invalid max parallelism",
    "NX528": "invalid event-time bound",
    # generation
    "NX901": "construct not supported by the target yet",
    "NX902": "transform with lookups called where its lookups cannot run",
}


def title(code: str) -> str:
    """The one-line title of a code (for renderers and docs)."""
    return CODES.get(code, "diagnostic")
