"""Test files (.nxtest, docs/language/tests.md): parse them and type their values against the
subjects they test (a ruleset, a decision table or a transform of a checked project).

Parsing and checking give diagnostics NX701-NX706 with file:line:col; a checked case holds
its input as JSON (what the generated records' Jackson contract reads) and its expectation as
a typed value tree the comparison in `run` walks."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Optional, Union, cast

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from nexflow_core import ast
from nexflow_core.check.declare import proc_streams
from nexflow_core.diagnostics import Diagnostic, Span
from nexflow_core.project import CheckedProject
from nexflow_core.typemodel import Type, list_of, scalar

EXTENSION = ".nxtest"
KINDS = ("table", "rules", "transform", "proc")
_GRAMMAR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "syntax", "nxtest.lark")
_PARSER: Optional[Lark] = None
_INT_RANGE = {"int": 2**31, "long": 2**63}


@dataclass
class Value:
    """A literal of a test: kind is string, number, true, false, null, word, list or block."""

    kind: str
    span: Span
    text: str = ""
    items: list[Value] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)


@dataclass
class Field:
    name: str
    value: Value
    span: Span


@dataclass
class Step:
    """One step of a proc's test: `given` (records, JSON written by the checker), `line` (a
    raw input line), `watermark`, `expect` (the records written to a stream since the previous
    `expect` of that stream), `store` (documents by key) or `unavailable` (a store that is
    down for the whole test)."""

    kind: str
    span: Span
    stream: str = ""
    stream_span: Optional[Span] = None
    value: Optional[Value] = None
    text: str = ""
    exact: bool = False
    entries: list[tuple[str, Value, Span]] = field(default_factory=list)
    # Filled by the checker: the lines given, the watermark (epoch ms, None: the strategy's),
    # the streams it moves, the expected records' type, the documents as JSON.
    lines: list[str] = field(default_factory=list)
    millis: Optional[int] = None
    streams: list[str] = field(default_factory=list)
    record_type: Optional[Type] = None
    documents: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    """One `test "name" for <kind> <Subject> { given {...} expect ... }`, or for a proc
    `test "name" for proc P { step* }`."""

    name: str
    kind: str
    subject: str
    span: Span
    subject_span: Span
    # A test of a table, ruleset or transform: its input and expected result.
    given: list[Field] = field(default_factory=list)
    expect: Optional[Value] = None
    exact: bool = False
    # A test of a proc: its script (its expectations are `expect` steps).
    steps: list[Step] = field(default_factory=list)
    # Filled by the checker: the JSON sent to the runner, the expected value's type.
    input_json: Any = None
    expect_type: Optional[Type] = None
    # Proc tests: the proc's sources, sinks (dead letters included) and stores.
    sources: list[str] = field(default_factory=list)
    sinks: list[str] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        with open(_GRAMMAR, encoding="utf-8") as f:
            _PARSER = Lark(f.read(), parser="lalr", propagate_positions=True, start="start")
    return _PARSER


def _token_span(path: str, tok: Token) -> Span:
    return Span(path, tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 1)


def _tree_span(path: str, tree: Tree) -> Span:
    m = tree.meta
    if getattr(m, "empty", True):
        return Span(path, 1, 1, 1, 1)
    return Span(path, m.line, m.column, m.end_line, m.end_column)


def _syntax_error(path: str, text: str, e: UnexpectedInput) -> Diagnostic:
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        lines = text.splitlines() or [""]
        line, col, message = len(lines), len(lines[-1]) + 1, "the test file ends inside a test"
    elif isinstance(e, UnexpectedToken):
        line, col = e.line, e.column
        message = f"unexpected {str(e.token)!r}"
    elif isinstance(e, UnexpectedCharacters):
        line, col = e.line, e.column
        message = f"unexpected character {text[e.pos_in_stream or 0]!r}"
    else:  # pragma: no cover - lark's other errors carry a position too
        line, col, message = getattr(e, "line", 1), getattr(e, "column", 1), str(e)
    expected = sorted(getattr(e, "expected", None) or getattr(e, "allowed", None) or [])
    return Diagnostic(
        "NX701",
        "error",
        message,
        Span(path, max(line, 1), max(col, 1), max(line, 1), max(col, 1) + 1),
        expected=", ".join(expected[:8]) or None,
        hint='a test reads: test "name" for table|rules|transform Name '
        "{ given { field = value … } expect [exactly] value }, or for proc P "
        "{ given <stream> { … } … watermark … expect <stream> [ … ] … }",
    )


def parse_tests(text: str, path: str) -> tuple[list[Case], list[Diagnostic]]:
    """The cases of one test file, or the NX701 of its first syntax error."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        return [], [_syntax_error(path, text, e)]
    return [_case(path, t) for t in tree.children if isinstance(t, Tree)], []


def _case(path: str, t: Tree) -> Case:
    name_tok, kind_tok, subject_tok, *body = t.children
    name_span = _token_span(path, cast(Token, name_tok))
    common = dict(
        name=json.loads(str(name_tok)),
        kind=str(kind_tok),
        subject=str(subject_tok),
        span=name_span,
        subject_span=_token_span(path, cast(Token, subject_tok)),
    )
    if body and isinstance(body[0], Tree) and body[0].data == "unit_body":
        given, expect = body[0].children
        exactly = expect.children[0] if len(expect.children) == 2 else None
        return Case(
            given=[_field(path, f) for f in given.children if isinstance(f, Tree)],
            expect=_value(path, expect.children[-1]),
            exact=exactly is not None,
            **common,
        )
    return Case(steps=[_step(path, b) for b in body if isinstance(b, Tree)], **common)


def _step(path: str, t: Tree) -> Step:
    span = _tree_span(path, t)
    c = t.children

    def at(tok: object) -> Span:
        return _token_span(path, cast(Token, tok))

    if t.data == "given_records":
        return Step("given", span, str(c[0]), at(c[0]), value=_value(path, c[1]))
    if t.data == "given_line":
        return Step("line", span, str(c[0]), at(c[0]), text=json.loads(str(c[1])))
    if t.data == "watermark":
        stream, when = c
        return Step(
            "watermark",
            span,
            str(stream) if stream is not None else "",
            at(stream) if stream is not None else None,
            text=json.loads(str(when)) if when is not None else "",
        )
    if t.data == "expect_stream":
        exact = len(c) == 3
        return Step("expect", span, str(c[0]), at(c[0]), value=_value(path, c[-1]), exact=exact)
    if t.data == "store_unavailable":
        return Step("unavailable", span, str(c[0]), at(c[0]))
    entries = [
        (json.loads(str(e.children[0])), _value(path, e.children[1]), at(e.children[0]))
        for e in c[1:]
        if isinstance(e, Tree)
    ]
    return Step("store", span, str(c[0]), at(c[0]), entries=entries)


def _field(path: str, t: Tree) -> Field:
    name, value = t.children
    return Field(str(name), _value(path, value), _token_span(path, cast(Token, name)))


def _value(path: str, t: Union[Tree, Token]) -> Value:
    assert isinstance(t, Tree)
    span = _tree_span(path, t)
    if t.data in ("string", "number", "word"):
        return Value(str(t.data), span, text=str(t.children[0]))
    if t.data == "list":
        return Value("list", span, items=[_value(path, c) for c in t.children if c is not None])
    if t.data == "block":
        return Value("block", span, fields=[_field(path, f) for f in t.children])
    return Value(str(t.data), span)


# --- checking -------------------------------------------------------------------------------

# What a ruleset's evaluation gives (RuleOutcome.Result, plus the record after `set` actions).
_OUTCOME = {
    "flagged": scalar("boolean"),
    "rejected": scalar("boolean"),
    "reason": Type("string", nullable=True),
    "route": Type("string", nullable=True),
    "alerts": list_of(scalar("string")),
    "fired": list_of(scalar("string")),
}


class Checker:
    """Types the cases of test files against a checked project."""

    def __init__(self, project: CheckedProject) -> None:
        self.project = project
        self.diagnostics: list[Diagnostic] = []

    def _errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    def _error(self, code: str, message: str, span: Span, hint: Optional[str] = None) -> None:
        self.diagnostics.append(Diagnostic(code, "error", message, span, hint=hint))

    def check(self, cases: list[Case]) -> list[Case]:
        """The cases that check clean (their input_json and expect_type set)."""
        seen: dict[tuple[str, str], Case] = {}
        ok: list[Case] = []
        for case in cases:
            before = self._errors()
            key = (case.span.file, case.name)
            if key in seen:
                self.diagnostics.append(
                    Diagnostic(
                        "NX705",
                        "error",
                        f"a second test named {case.name!r} in this file",
                        case.span,
                        related=seen[key].span,
                    )
                )
            seen.setdefault(key, case)
            self._check_case(case)
            if self._errors() == before:
                ok.append(case)
        return ok

    def _check_case(self, case: Case) -> None:
        p = self.project
        if case.kind not in KINDS:
            self._error(
                "NX702",
                f"a test is for table, rules, transform or proc, not {case.kind!r}",
                case.subject_span,
            )
            return
        if case.kind == "proc":
            self._check_proc(case)
            return
        if case.steps:
            self._error(
                "NX702",
                f"a test of a {case.kind} gives one input and expects one result: "
                "given { … } expect …",
                case.steps[0].span,
            )
            return
        if case.kind == "transform":
            t = p.transform(case.subject)
            if t is None:
                self._unknown_subject(case, "transform")
                return
            if t.lookups:
                self._error(
                    "NX706",
                    f"transform {case.subject} looks up stores: it cannot be tested without "
                    "its stores yet",
                    case.subject_span,
                    hint="test the transforms it calls, or the proc that runs it",
                )
                return
            params = {prm.name: prm.type for prm in t.inputs}
            given = self._fields(case.given, params, f"transform {case.subject}'s inputs")
            case.input_json = [given.get(prm.name) for prm in t.inputs]
            case.expect_type = t.output
        else:
            sig = p.table(case.subject) if case.kind == "table" else p.ruleset(case.subject)
            if sig is None or sig.input is None:
                self._unknown_subject(case, "decision table" if case.kind == "table" else "ruleset")
                return
            record = p.resolve(sig.input.type)
            case.input_json = self._record(case.given, record, case.subject_span)
            if case.kind == "table":
                assert hasattr(sig, "result")
                case.expect_type = sig.result
            else:
                fields = dict(_OUTCOME, record=record)
                case.expect_type = Type(
                    "struct",
                    name=f"{case.subject} outcome",
                    fields=tuple(_field_type(n, t) for n, t in fields.items()),
                )
        assert case.expect_type is not None
        assert case.expect is not None
        self._expect(case.expect, case.expect_type)

    # --- procs ---------------------------------------------------------------------------

    def _check_proc(self, case: Case) -> None:
        p = self.project
        proc = next(
            (d for d in p.decls(ast.ProcDecl) if cast(ast.ProcDecl, d).name == case.subject), None
        )
        if proc is None:
            self._unknown_subject(case, "proc")
            return
        if not case.steps:
            self._error(
                "NX702",
                f"a test of proc {case.subject} is a script of steps: given <stream> {{ … }}, "
                "watermark, expect <stream> [ … ], store <store> { … }",
                case.subject_span,
            )
            return
        proc = cast(ast.ProcDecl, proc)
        sources, sinks, stores = proc_streams(proc)
        flow = p.proc_flow(proc.name)
        timed = flow is not None and (
            flow.event_time is not None or any(st.partner for st in flow.steps)
        )
        case.sources, case.sinks, case.stores = sources, sinks, stores
        clocked = [
            st
            for st in proc.statements
            if isinstance(st, (ast.CorrelateStmt, ast.RollingStmt, ast.WindowStmt, ast.DedupStmt))
        ]
        if not timed and clocked:
            what = clocked[0].span
            self.diagnostics.append(
                Diagnostic(
                    "NX709",
                    "warning",
                    f"proc {proc.name} has no event time: its "
                    f"{_statement_word(clocked[0])} runs on the machine's clock, which a "
                    "test cannot move; what it does in the test depends on how long the "
                    "test takes",
                    case.subject_span,
                    related=what,
                    hint="give the proc event time (`event_time <field> …` or an @event_time "
                    "field) to test its time with watermark steps",
                )
            )
        for step in case.steps:
            if step.kind in ("given", "line"):
                if self._member(step, sources, f"proc {proc.name} reads no stream", "reads"):
                    self._given(step)
            elif step.kind == "watermark":
                self._watermark(step, proc.name, sources, timed)
            elif step.kind == "expect":
                if self._member(step, sinks, f"proc {proc.name} writes no stream", "writes"):
                    self._expect_records(step)
            elif self._member(step, stores, f"proc {proc.name} uses no store", "uses"):
                if step.kind == "store":
                    self._documents(step)

    def _member(self, step: Step, known: list[str], what: str, verb: str) -> bool:
        if step.stream in known:
            return True
        self._error(
            "NX707",
            f"{what} {step.stream!r}",
            step.stream_span or step.span,
            hint=f"it {verb}: " + ", ".join(known) if known else f"it {verb} none",
        )
        return False

    def _stream_record(self, stream: str) -> Type:
        sig = self.project.stream(stream)
        return Type("record", name=sig.schema if sig else stream)

    def _records(self, v: Value, t: Type) -> list[Any]:
        """The records of a `{ … }` or a `[ { … } … ]` (each typed against `t`)."""
        items = v.items if v.kind == "list" else [v]
        out: list[Any] = []
        for item in items:
            if item.kind != "block":
                self._error(
                    "NX704", f"{_describe(item)} is not a record {{ … }} of {t.name}", item.span
                )
                continue
            out.append(self._record(item.fields, t, item.span))
        return out

    def _given(self, step: Step) -> None:
        if step.kind == "line":
            step.lines = [step.text]
            return
        assert step.value is not None
        step.lines = self._records(step.value, self._stream_record(step.stream))

    def _watermark(self, step: Step, proc: str, sources: list[str], timed: bool) -> None:
        if not timed:
            self._error(
                "NX708",
                f"proc {proc} has no event time: a watermark step means nothing to it",
                step.span,
                hint="give the proc an `event_time` statement, or leave the step out",
            )
            return
        if step.stream:
            if not self._member(step, sources, f"proc {proc} reads no stream", "reads"):
                return
            step.streams = [step.stream]
        else:
            step.streams = list(sources)
        if step.text:
            instant = _instant(step.text)
            if instant is None:
                self._error(
                    "NX704",
                    f'"{step.text}" is not an instant: write "2026-01-31T09:30:00Z"',
                    step.span,
                )
                return
            at = datetime.fromisoformat(instant.replace("Z", "+00:00"))
            step.millis = int(at.timestamp() * 1000)

    def _expect_records(self, step: Step) -> None:
        assert step.value is not None
        record = self._stream_record(step.stream)
        self._records(step.value, record)
        # The comparison walks the expectation with the fields' types (a struct of them).
        fields = self._record_fields(record)
        step.record_type = Type(
            "struct", name=record.name, fields=tuple(_field_type(n, t) for n, t in fields.items())
        )

    def _documents(self, step: Step) -> None:
        sig = self.project.store(step.stream)
        t = Type("record", name=sig.schema if sig else step.stream)
        for key, value, span in step.entries:
            if key in step.documents:
                self._error("NX705", f"document {key!r} given twice", span)
                continue
            records = self._records(value, t) if value.kind == "block" else []
            if value.kind != "block":
                self._error(
                    "NX704", f"{_describe(value)} is not a record {{ … }} of {t.name}", value.span
                )
            if records:
                step.documents[key] = records[0]

    def _unknown_subject(self, case: Case, what: str) -> None:
        self._error("NX702", f"no {what} named {case.subject}", case.subject_span)

    def _fields(self, fields: list[Field], types: dict[str, Type], what: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields:
            t = types.get(f.name)
            if t is None:
                self._error(
                    "NX703",
                    f"{what} have no field {f.name!r}",
                    f.span,
                    hint="known: " + ", ".join(types) if types else None,
                )
                continue
            if f.name in out:
                self._error("NX705", f"field {f.name!r} given twice", f.span)
                continue
            out[f.name] = self._typed(f.value, t)
        return out

    def _record_fields(self, t: Type) -> dict[str, Type]:
        if t.kind == "struct":
            return {f.name: f.type for f in t.fields}
        schema = self.project.schema(t.name or "")
        return {f.name: f.type for f in schema.fields} if schema else {}

    def _record(self, fields: list[Field], t: Type, span: Span) -> Any:
        return self._fields(fields, self._record_fields(t), f"{t.name or 'the record'}'s fields")

    def _typed(self, v: Value, t: Type) -> Any:
        """The JSON value of `v` as type `t` (a diagnostic, and None, where it does not fit)."""
        if t.kind == "ref":
            t = self.project.resolve(t)
        if v.kind == "null" or t.kind == "any":
            return None
        k = t.kind
        bad = f"{_describe(v)} does not fit {t.display()}"
        if k in ("string", "uuid", "bytes", "duration") and v.kind == "string":
            return json.loads(v.text)
        if k == "boolean" and v.kind in ("true", "false"):
            return v.kind == "true"
        if k in ("int", "long") and v.kind == "number":
            if "." in v.text or not -_INT_RANGE[k] <= int(v.text) < _INT_RANGE[k]:
                self._error("NX704", f"{bad}: a whole number in {k}'s range", v.span)
                return None
            return int(v.text)
        if k in ("double", "decimal") and v.kind == "number":
            d = Decimal(v.text)
            if k == "decimal":
                exp = d.as_tuple().exponent
                scale = -exp if isinstance(exp, int) and exp < 0 else 0
                whole = len(d.as_tuple().digits) - scale
                if scale > (t.scale or 0) or whole > (t.precision or 38) - (t.scale or 0):
                    self._error("NX704", f"{bad}: too many digits", v.span)
                    return None
            return d
        if k == "date" and v.kind == "string":
            try:
                return date.fromisoformat(json.loads(v.text)).isoformat()
            except ValueError:
                pass
            self._error("NX704", f'{bad}: write a date as "2026-01-31"', v.span)
            return None
        if k == "datetime" and v.kind == "string":
            instant = _instant(json.loads(v.text))
            if instant is None:
                self._error("NX704", f'{bad}: write an instant as "2026-01-31T09:30:00Z"', v.span)
            return instant
        if k == "enum" and v.kind == "word":
            members = (self.project.enum(t.name or "") or _NO_ENUM).members
            if v.text in members:
                return v.text
            self._error("NX704", f"{v.text} is no member of {t.name}", v.span,
                        hint="members: " + ", ".join(members))  # fmt: skip
            return None
        if k == "list" and v.kind == "list":
            return [self._typed(i, t.args[0]) for i in v.items]
        if k == "map" and v.kind == "block":
            return {f.name: self._typed(f.value, t.args[1]) for f in v.fields}
        if k in ("record", "struct") and v.kind == "block":
            return self._record(v.fields, t, v.span)
        self._error("NX704", bad, v.span)
        return None

    def _expect(self, v: Value, t: Type) -> None:
        # Typing the expectation reports its misfits; the comparison re-walks the Value.
        self._typed(v, t)


class _NoEnum:
    members: list[str] = []


_NO_ENUM = _NoEnum()


def _field_type(name: str, t: Type) -> Any:
    from nexflow_core.typemodel import FieldType

    return FieldType(name, t)


def _statement_word(st: object) -> str:
    return {
        "CorrelateStmt": "correlate",
        "RollingStmt": "rolling",
        "WindowStmt": "window",
        "DedupStmt": "deduplicate",
    }[type(st).__name__]


def _describe(v: Value) -> str:
    if v.kind in ("string", "number", "word"):
        return v.text
    return {"list": "a list", "block": "a record { … }"}.get(v.kind, v.kind)


_TZ = re.compile(r"(Z|[+-]\d\d:\d\d)\Z")


def _instant(text: str) -> Optional[str]:
    """An ISO-8601 instant with its offset, as UTC text (what Jackson's Instant reads)."""
    if not _TZ.search(text):
        return None
    try:
        at = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    from datetime import timezone

    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_decimal(text: str) -> Optional[Decimal]:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
