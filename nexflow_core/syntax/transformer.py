"""Reductions to AST: the callbacks lark's LALR parser calls as it reduces (no parse tree).

Positions come from the tokens and child nodes of each reduction."""

from __future__ import annotations

import re
from typing import Any, Optional, cast

from lark import Token

from nexflow_core import ast
from nexflow_core.diagnostics import Diagnostic, NexflowError, Span

UNIT_MILLIS = {
    "ms": 1, "millis": 1, "millisecond": 1, "milliseconds": 1,
    "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
    "min": 60_000, "mins": 60_000, "minute": 60_000, "minutes": 60_000,
    "hour": 3_600_000, "hours": 3_600_000,
    "day": 86_400_000, "days": 86_400_000,
    "week": 604_800_000, "weeks": 604_800_000,
}  # fmt: skip

PRIORITY_WORDS = {"high": 3, "medium": 2, "low": 1}
HIT_POLICIES = ("unique", "first", "priority", "any", "collect")
AGGREGATIONS = ("sum", "min", "max", "count")
ERROR_BEHAVIOURS = ("skip", "fail", "dead_letter")
MAX_DIGITS = 40

_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "/": "/"}


def _unescape_match(m: re.Match[str]) -> str:
    s = m.group(1)
    if s[0] == "u" and len(s) == 5:
        return chr(int(s[1:], 16))
    return _SIMPLE.get(s, s)


def unquote(token: str) -> str:
    """The value of a "…" literal (escapes: \\n \\t \\r \\" \\\\ \\uXXXX)."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    return _ESCAPE.sub(_unescape_match, body)


def _is(x: Any, cls: Any) -> bool:
    return isinstance(x, cls)


# Named terminals (kept in the parse); every other token is a keyword or punctuation.
KEPT = frozenset({
    "NAME", "NUMBER", "STRING", "UNIT", "OPT", "APPLY_KIND", "ON_EVENT", "CHECKPOINT_MODE",
    "FIRST_MATCH", "ASYNC", "LOOKUP_FALLBACK", "PERSIST_FALLBACK", "TRUE", "FALSE", "NULL",
    "EVENT_TIME",
})  # fmt: skip

# Rules written with `!` in the grammars (all their tokens are kept so that the span starts at
# the keyword); their callbacks receive the children without keywords and punctuation.
BANG_RULES = (
    "schema_decl", "enum_decl", "stream_decl", "store_decl", "compatibility", "validate",
    "annotation",
    "transform_decl", "input_decl", "output_decl", "lookup_decl", "let_decl", "compute",
    "validate_input", "validate_output", "on_error",
    "ruleset", "rule", "binding", "when", "then", "priority", "flag", "reject", "route", "set",
    "alert", "decision_table", "cell_any", "cell_eq", "cell_ne", "cell_lt", "cell_le", "cell_gt",
    "cell_ge", "cell_in", "cell_not_in", "cell_range_cc", "cell_range_co", "cell_range_oc",
    "cell_range_oo", "table_output_priority",
    "proc_decl", "from_stmt", "event_time_stmt", "filter_stmt", "transform_stmt", "apply_stmt",
    "correlate_stmt", "on_stmt", "on_route", "emit_stmt", "persist", "route_stmt", "route_case",
    "route_otherwise", "key_stmt", "state_stmt", "update_stmt", "rolling_stmt", "window_tumbling",
    "window_sliding", "window_session", "aggregate_stmt", "map_stmt", "join_interval",
    "join_window", "lookup_stmt", "on_lookup_error", "on_persist_error", "dedup_stmt",
    "parallelism_stmt", "checkpoint_stmt",
    "environment", "list_lit", "list_value",
)  # fmt: skip


def _start(x: Any) -> Optional[tuple[int, int]]:
    if isinstance(x, Token):
        # lark types token positions Optional; the lexer sets them on every token it makes.
        return cast("tuple[int, int]", (x.line, x.column))
    if isinstance(x, ast.Node):
        return (x.span.line, x.span.column)
    if isinstance(x, (list, tuple)):
        for y in x:
            r = _start(y)
            if r is not None:
                return r
    return None


def _end(x: Any) -> Optional[tuple[int, int]]:
    if isinstance(x, Token):
        # lark types token positions Optional; the lexer sets them on every token it makes.
        return cast("tuple[int, int]", (x.end_line, x.end_column))
    if isinstance(x, ast.Node):
        return (x.span.end_line, x.span.end_column)
    if isinstance(x, (list, tuple)):
        for y in reversed(x):
            r = _end(y)
            if r is not None:
                return r
    return None


class ToAst:
    """Builds AST nodes directly from LALR reductions (lark's inline transformer: no parse
    tree is built). One instance per grammar, reused across files; `reset(path)` before each
    parse. Spans come from the tokens and child nodes of each reduction."""

    def __init__(self, path: str, kind: str) -> None:
        self._file = path
        self._kind = kind
        self._override: Optional[Span] = None
        for name in BANG_RULES:
            setattr(self, name, self._bang(getattr(self, name)))

    def reset(self, path: str) -> None:
        self._file = path
        self._override = None

    def _bang(self, method: Any) -> Any:
        def callback(c: list[Any]) -> Any:
            self._override = self.sp(c)
            try:
                return method([x for x in c if not (type(x) is Token and x.type not in KEPT)])
            finally:
                self._override = None

        return callback

    # --- positions -------------------------------------------------------------------
    def sp(self, c: list[Any]) -> Span:
        if self._override is not None:
            return self._override
        if c:
            first, last = c[0], c[-1]
            tf, tl = type(first), type(last)
            if tf is Token:
                start: Optional[tuple[int, int]] = (first.line, first.column)
            elif isinstance(first, ast.Node):
                fs = first.span
                start = (fs.line, fs.column)
            else:
                start = _start(c)
            if tl is Token:
                end: Optional[tuple[int, int]] = (last.end_line, last.end_column)
            elif isinstance(last, ast.Node):
                ls = last.span
                end = (ls.end_line, ls.end_column)
            else:
                end = _end(c)
        else:
            start = end = None
        if start is None or end is None:
            return Span(self._file, 1, 1, 1, 1)
        return Span(self._file, start[0], start[1], end[0], end[1])

    def tsp(self, tok: Token) -> Span:
        return Span(
            self._file,
            tok.line or 1,
            tok.column or 1,
            tok.end_line or tok.line or 1,
            tok.end_column or tok.column or 1,
        )

    def fail(self, span: Span, code: str, message: str, expected: Optional[str] = None) -> None:
        raise NexflowError([Diagnostic(code, "error", message, span, expected=expected)])

    def whole(self, text: str, c: list[Any]) -> int:
        """A whole number from its digits; absurdly long ones are a diagnostic (Python also
        refuses to convert more than 4300 digits)."""
        digits = text.lstrip("-")
        if len(digits) > MAX_DIGITS:
            self.fail(
                self.sp(c),
                "NX106",
                f"this number has {len(digits)} digits",
                expected=f"at most {MAX_DIGITS} digits",
            )
        return int(text)

    # --- literals ----------------------------------------------------------------------
    def number(self, c: list[Any]) -> Any:
        tok = c[0]
        text = str(tok)
        if "." in text:
            return ast.DecimalLit(span=self.sp(c), text=text)
        return ast.IntLit(span=self.sp(c), value=self.whole(text, c))

    def neg_number(self, c: list[Any]) -> Any:
        text = str(c[0])
        if "." in text:
            return ast.DecimalLit(span=self.sp(c), text="-" + text)
        return ast.IntLit(span=self.sp(c), value=-self.whole(text, c))

    def duration(self, c: list[Any]) -> ast.DurationLit:
        num, unit = str(c[0]), str(c[1])
        span = self.sp(c)
        if "." in num:
            self.fail(
                span,
                "NX106",
                f"a duration needs a whole number, not {num}",
                expected="a whole number followed by a unit, such as 90 seconds",
            )
        amount = self.whole(num, c)
        return ast.DurationLit(
            span=span, amount=amount, unit=unit, millis=amount * UNIT_MILLIS[unit]
        )

    def string(self, c: list[Any]) -> ast.StringLit:
        return ast.StringLit(span=self.sp(c), value=unquote(str(c[0])))

    def true(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(span=self.sp(c), value=True)

    def false(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(span=self.sp(c), value=False)

    def null(self, c: list[Any]) -> ast.NullLit:
        return ast.NullLit(span=self.sp(c))

    def list_lit(self, c: list[Any]) -> ast.ListLit:
        return ast.ListLit(span=self.sp(c), items=[x for x in c if x is not None])

    def path(self, c: list[Any]) -> ast.Path:
        return ast.Path(span=self.sp(c), parts=[str(t) for t in c])

    def call(self, c: list[Any]) -> ast.Call:
        return ast.Call(span=self.sp(c), name=str(c[0]), args=[x for x in c[1:] if x is not None])

    # --- operators ---------------------------------------------------------------------
    def _bin(self, op: str, meta: list[Any], c: list[Any]) -> ast.Binary:
        return ast.Binary(span=self.sp(c), op=op, left=c[0], right=c[1])

    def or_op(self, c: list[Any]) -> ast.Binary:
        return self._bin("or", c, c)

    def and_op(self, c: list[Any]) -> ast.Binary:
        return self._bin("and", c, c)

    def eq(self, c: list[Any]) -> ast.Binary:
        return self._bin("==", c, c)

    def ne(self, c: list[Any]) -> ast.Binary:
        return self._bin("!=", c, c)

    def lt(self, c: list[Any]) -> ast.Binary:
        return self._bin("<", c, c)

    def le(self, c: list[Any]) -> ast.Binary:
        return self._bin("<=", c, c)

    def gt(self, c: list[Any]) -> ast.Binary:
        return self._bin(">", c, c)

    def ge(self, c: list[Any]) -> ast.Binary:
        return self._bin(">=", c, c)

    def add(self, c: list[Any]) -> ast.Binary:
        return self._bin("+", c, c)

    def sub(self, c: list[Any]) -> ast.Binary:
        return self._bin("-", c, c)

    def mul(self, c: list[Any]) -> ast.Binary:
        return self._bin("*", c, c)

    def div(self, c: list[Any]) -> ast.Binary:
        return self._bin("/", c, c)

    def mod(self, c: list[Any]) -> ast.Binary:
        return self._bin("%", c, c)

    def not_op(self, c: list[Any]) -> ast.Unary:
        return ast.Unary(span=self.sp(c), op="not", operand=c[0])

    def neg(self, c: list[Any]) -> Any:
        inner = c[0]
        span = self.sp(c)
        if _is(inner, ast.IntLit):
            return ast.IntLit(span=span, value=-inner.value)
        if _is(inner, ast.DecimalLit) and not inner.text.startswith("-"):
            return ast.DecimalLit(span=span, text="-" + inner.text)
        return ast.Unary(span=span, op="-", operand=inner)

    def in_op(self, c: list[Any]) -> ast.InList:
        return ast.InList(span=self.sp(c), operand=c[0], items=c[1], negated=False)

    def not_in_op(self, c: list[Any]) -> ast.InList:
        return ast.InList(span=self.sp(c), operand=c[0], items=c[1], negated=True)

    def is_null(self, c: list[Any]) -> ast.IsNull:
        return ast.IsNull(span=self.sp(c), operand=c[0], negated=False)

    def is_not_null(self, c: list[Any]) -> ast.IsNull:
        return ast.IsNull(span=self.sp(c), operand=c[0], negated=True)

    def if_expr(self, c: list[Any]) -> ast.IfExpr:
        return ast.IfExpr(span=self.sp(c), cond=c[0], then=c[1], otherwise=c[2])

    # --- types -------------------------------------------------------------------------
    def type(self, c: list[Any]) -> ast.TypeRef:
        t: ast.TypeRef = c[0]
        if len(c) > 1:
            return ast.TypeRef(
                span=self.sp(c), name=t.name, params=t.params, args=t.args, optional=True
            )
        return t

    def named_type(self, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef(span=self.sp(c), name=str(c[0]))

    def param_type(self, c: list[Any]) -> ast.TypeRef:
        span = self.sp(c)
        params: list[int] = []
        for tok in c[1:]:
            if "." in str(tok):
                self.fail(
                    self.tsp(tok),
                    "NX310",
                    f"a type parameter must be a whole number, not {tok}",
                    expected="whole numbers, as in decimal(10,2)",
                )
            params.append(self.whole(str(tok), [tok]))
        return ast.TypeRef(span=span, name=str(c[0]), params=params)

    def generic_type(self, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef(span=self.sp(c), name=str(c[0]), args=list(c[1:]))

    # --- module ------------------------------------------------------------------------
    def start(self, c: list[Any]) -> ast.Module:
        return ast.Module(span=self.sp(c), path=self._file, kind=self._kind, decls=list(c))

    # --- schema ------------------------------------------------------------------------
    def schema_decl(self, c: list[Any]) -> ast.SchemaDecl:
        name = str(c[0])
        version: Optional[int] = None
        rest = c[1:]
        if rest and _is(rest[0], Token):
            if "." in str(rest[0]):
                self.fail(
                    self.tsp(rest[0]),
                    "NX106",
                    "a schema version is a whole number",
                    expected="a whole number such as 2",
                )
            version = self.whole(str(rest[0]), [rest[0]])
            rest = rest[1:]
        fields = [x for x in rest if _is(x, ast.Field)]
        vals = [x for x in rest if _is(x, ast.Validate)]
        return ast.SchemaDecl(
            span=self.sp(c), name=name, version=version, fields=fields, validations=vals
        )

    def field(self, c: list[Any]) -> ast.Field:
        default = None
        anns = []
        for x in c[2:]:
            if _is(x, ast.Annotation):
                anns.append(x)
            else:
                default = x
        return ast.Field(
            span=self.sp(c), name=str(c[0]), type=c[1], default=default, annotations=anns
        )

    def annotation(self, c: list[Any]) -> ast.Annotation:
        args = c[1] if len(c) > 1 and c[1] is not None else []
        return ast.Annotation(span=self.sp(c), name=str(c[0]), args=args)

    def ann_args(self, c: list[Any]) -> list[Any]:
        return [x for x in c if x is not None]

    def validate(self, c: list[Any]) -> ast.Validate:
        msg = unquote(str(c[1])) if len(c) > 1 else None
        return ast.Validate(span=self.sp(c), expr=c[0], message=msg)

    def enum_decl(self, c: list[Any]) -> ast.EnumDecl:
        return ast.EnumDecl(span=self.sp(c), name=str(c[0]), members=list(c[1:]))

    def enum_member(self, c: list[Any]) -> ast.EnumMember:
        return ast.EnumMember(span=self.sp(c), name=str(c[0]))

    def compatibility(self, c: list[Any]) -> ast.Compatibility:
        return ast.Compatibility(span=self.sp(c), mode=str(c[0]))

    def stream_decl(self, c: list[Any]) -> ast.StreamDecl:
        compat = c[2] if len(c) > 2 else None
        return ast.StreamDecl(
            span=self.sp(c), name=str(c[0]), schema=str(c[1]), compatibility=compat
        )

    def store_decl(self, c: list[Any]) -> ast.StoreDecl:
        rest = c[2:]
        compat = rest.pop() if rest and isinstance(rest[-1], ast.Compatibility) else None
        key = str(rest[0]) if rest else None
        return ast.StoreDecl(
            span=self.sp(c), name=str(c[0]), schema=str(c[1]), key=key, compatibility=compat
        )

    # --- transform ---------------------------------------------------------------------
    def transform_decl(self, c: list[Any]) -> ast.TransformDecl:
        span = self.sp(c)
        inputs, lookups, lets, mappings, vals = [], [], [], [], []
        output = None
        compute = None
        on_error = None
        for x in c[1:]:
            tag, val = x
            if tag == "input":
                inputs.append(val)
            elif tag == "output":
                if output is not None:
                    self.fail(
                        val.span,
                        "NX104",
                        "a transform has exactly one output",
                        expected="a single `output <type>` line",
                    )
                output = val
            elif tag == "lookup":
                lookups.append(val)
            elif tag == "let":
                lets.append(val)
            elif tag == "map":
                mappings.extend(val)
            elif tag == "compute":
                if compute is not None:
                    self.fail(val.span, "NX104", "a transform has at most one compute line")
                compute = val
            elif tag == "validate":
                vals.append(val)
            elif tag == "on_error":
                on_error = val
        return ast.TransformDecl(
            span=span,
            name=str(c[0]),
            inputs=inputs,
            output=output,
            lookups=lookups,
            lets=lets,
            mappings=mappings,
            compute=compute,
            validations=vals,
            on_error=on_error,
        )

    def input_decl(self, c: list[Any]) -> Any:
        return ("input", ast.Param(span=self.sp(c), name=str(c[0]), type=c[1]))

    def output_decl(self, c: list[Any]) -> Any:
        return ("output", c[0])

    def lookup_decl(self, c: list[Any]) -> Any:
        return (
            "lookup",
            ast.TransformLookup(span=self.sp(c), alias=str(c[0]), store=str(c[1]), key=c[2]),
        )

    def let_decl(self, c: list[Any]) -> Any:
        return ("let", ast.Let(span=self.sp(c), name=str(c[0]), expr=c[1]))

    def map_block(self, c: list[Any]) -> Any:
        return ("map", list(c))

    def mapping(self, c: list[Any]) -> ast.Mapping:
        return ast.Mapping(span=self.sp(c), field=str(c[0]), expr=c[1])

    def compute(self, c: list[Any]) -> Any:
        return ("compute", c[0])

    def _tval(self, phase: str, meta: list[Any], c: list[Any]) -> Any:
        msg = unquote(str(c[1])) if len(c) > 1 else None
        return (
            "validate",
            ast.TransformValidate(span=self.sp(c), phase=phase, expr=c[0], message=msg),
        )

    def validate_input(self, c: list[Any]) -> Any:
        return self._tval("input", c, c)

    def validate_output(self, c: list[Any]) -> Any:
        return self._tval("output", c, c)

    def on_error(self, c: list[Any]) -> Any:
        word = str(c[0])
        if word not in ERROR_BEHAVIOURS:
            self.fail(
                self.tsp(c[0]),
                "NX106",
                f"unknown error behaviour '{word}'",
                expected="skip, fail or dead_letter",
            )
        return ("on_error", word)

    # --- rules -------------------------------------------------------------------------
    def binding(self, c: list[Any]) -> ast.Binding:
        return ast.Binding(span=self.sp(c), name=str(c[0]), schema=str(c[1]))

    def ruleset(self, c: list[Any]) -> ast.RulesetDecl:
        binding = None
        mode = "all"
        rules = []
        for x in c[1:]:
            if _is(x, ast.Binding):
                binding = x
            elif _is(x, Token):
                mode = "first"
            else:
                rules.append(x)
        return ast.RulesetDecl(
            span=self.sp(c), name=str(c[0]), binding=binding, mode=mode, rules=rules
        )

    def rule(self, c: list[Any]) -> ast.Rule:
        span = self.sp(c)
        when = None
        actions: Optional[list[Any]] = None
        prio = None
        for tag, val, vspan in c[1:]:
            if tag == "when":
                if when is not None:
                    self.fail(vspan, "NX104", "a rule has at most one `when`")
                when = val
            elif tag == "then":
                if actions is not None:
                    self.fail(
                        vspan,
                        "NX104",
                        "a rule has one `then`; list several actions after it",
                        expected='then flag_for_review, emit alert "…"',
                    )
                actions = val
            else:
                if prio is not None:
                    self.fail(vspan, "NX104", "a rule has at most one `priority`")
                prio = val
        if actions is None:
            self.fail(
                span,
                "NX104",
                f"rule '{c[0]}' has no `then` actions",
                expected="then followed by an action such as flag_for_review",
            )
        return ast.Rule(span=span, name=str(c[0]), when=when, actions=actions or [], priority=prio)

    def when(self, c: list[Any]) -> Any:
        return ("when", c[0], self.sp(c))

    def then(self, c: list[Any]) -> Any:
        return ("then", list(c), self.sp(c))

    def priority(self, c: list[Any]) -> Any:
        tok = c[0]
        span = self.sp(c)
        text = str(tok)
        if tok.type == "NUMBER":
            if "." in text:
                self.fail(span, "NX106", "a priority number is a whole number")
            return ("priority", ast.Priority(span=span, word=None, rank=self.whole(text, c)), span)
        if text not in PRIORITY_WORDS:
            self.fail(
                self.tsp(tok),
                "NX106",
                f"unknown priority '{text}'",
                expected="high, medium, low or a whole number",
            )
        return ("priority", ast.Priority(span=span, word=text, rank=PRIORITY_WORDS[text]), span)

    def flag(self, c: list[Any]) -> ast.FlagAction:
        reason = unquote(str(c[0])) if c else None
        return ast.FlagAction(span=self.sp(c), reason=reason)

    def reject(self, c: list[Any]) -> ast.RejectAction:
        return ast.RejectAction(span=self.sp(c), reason=unquote(str(c[0])))

    def route(self, c: list[Any]) -> ast.RouteAction:
        return ast.RouteAction(span=self.sp(c), target=str(c[0]))

    def set(self, c: list[Any]) -> ast.SetAction:
        return ast.SetAction(span=self.sp(c), target=c[0], expr=c[1])

    def alert(self, c: list[Any]) -> ast.AlertAction:
        sev = str(c[1]) if len(c) > 1 else None
        if sev is not None and sev not in PRIORITY_WORDS and sev != "critical":
            self.fail(
                self.tsp(c[1]),
                "NX106",
                f"unknown alert severity '{sev}'",
                expected="critical, high, medium or low",
            )
        return ast.AlertAction(span=self.sp(c), message=unquote(str(c[0])), severity=sev)

    def decision_table(self, c: list[Any]) -> ast.DecisionTableDecl:
        span = self.sp(c)
        name = str(c[0])
        i = 1
        binding = None
        if _is(c[i], ast.Binding):
            binding = c[i]
            i += 1
        policy_tok = c[i]
        i += 1
        agg_tok = None
        if _is(c[i], Token):
            agg_tok = c[i]
            i += 1
        policy = str(policy_tok)
        if policy not in HIT_POLICIES:
            self.fail(
                self.tsp(policy_tok),
                "NX106",
                f"unknown hit policy '{policy}'",
                expected="unique, first, priority, any or collect",
            )
        agg = None
        if agg_tok is not None:
            agg = str(agg_tok)
            if policy != "collect" or agg not in AGGREGATIONS:
                self.fail(
                    self.tsp(agg_tok),
                    "NX106",
                    f"unexpected '{agg}' after hit_policy {policy}",
                    expected="an aggregation (sum, min, max, count) only after collect",
                )
        inputs, outputs, rows = c[i], c[i + 1], c[i + 2]
        return ast.DecisionTableDecl(
            span=span,
            name=name,
            binding=binding,
            hit_policy=policy,
            aggregation=agg,
            inputs=inputs,
            outputs=outputs,
            rows=rows,
        )

    def table_inputs(self, c: list[Any]) -> list[Any]:
        return list(c)

    def table_input(self, c: list[Any]) -> ast.TableInput:
        return ast.TableInput(span=self.sp(c), name=str(c[0]), expr=c[1])

    def table_input_path(self, c: list[Any]) -> ast.TableInput:
        p: ast.Path = c[0]
        return ast.TableInput(span=self.sp(c), name=p.parts[-1], expr=p)

    def table_outputs(self, c: list[Any]) -> list[Any]:
        out: list[ast.TableOutput] = []
        for item in c:
            if isinstance(item, ast.TableOutput):
                out.append(item)
                continue
            span, order = item
            if not out or out[-1].order:
                self.fail(
                    span,
                    "NX106",
                    "a priority order belongs right after an output's type",
                    expected='name: type priority ["HIGH", "LOW"]',
                )
            head = out[-1].span
            out[-1] = ast.TableOutput(
                span=Span(head.file, head.line, head.column, span.end_line, span.end_column),
                name=out[-1].name,
                type=out[-1].type,
                order=order,
            )
        return out

    def table_output(self, c: list[Any]) -> ast.TableOutput:
        return ast.TableOutput(span=self.sp(c), name=str(c[0]), type=c[1])

    def table_output_priority(self, c: list[Any]) -> ast.TableOutput:
        # An output named `priority` (the word is also the keyword of an order).
        return ast.TableOutput(span=self.sp(c), name="priority", type=c[0])

    def table_order(self, c: list[Any]) -> tuple[Span, list[Any]]:
        return self.sp(c), list(c[0].items)

    def table_rows(self, c: list[Any]) -> list[Any]:
        rows = []
        for n, (label, cells, results, span) in enumerate(c, start=1):
            rows.append(
                ast.TableRow(span=span, label=label or f"row {n}", cells=cells, results=results)
            )
        return rows

    def table_row(self, c: list[Any]) -> Any:
        label = None
        rest = c
        if _is(c[0], Token):
            label = str(c[0])
            rest = c[1:]
        cells = [x for x in rest if _is(x, ast.Cell)]
        results = [x for x in rest if not _is(x, ast.Cell)]
        return (label, cells, results, self.sp(c))

    def _cell(
        self, kind: str, meta: list[Any], c: list[Any], lo: bool = True, hi: bool = True
    ) -> Any:
        return ast.Cell(span=self.sp(c), kind=kind, values=list(c), low_closed=lo, high_closed=hi)

    def cell_any(self, c: list[Any]) -> ast.Cell:
        return self._cell("any", c, [])

    def cell_eq(self, c: list[Any]) -> ast.Cell:
        return self._cell("eq", c, c)

    def cell_ne(self, c: list[Any]) -> ast.Cell:
        return self._cell("ne", c, c)

    def cell_lt(self, c: list[Any]) -> ast.Cell:
        return self._cell("lt", c, c)

    def cell_le(self, c: list[Any]) -> ast.Cell:
        return self._cell("le", c, c)

    def cell_gt(self, c: list[Any]) -> ast.Cell:
        return self._cell("gt", c, c)

    def cell_ge(self, c: list[Any]) -> ast.Cell:
        return self._cell("ge", c, c)

    def cell_in(self, c: list[Any]) -> ast.Cell:
        return self._cell("in", c, c[0].items)

    def cell_not_in(self, c: list[Any]) -> ast.Cell:
        return self._cell("not_in", c, c[0].items)

    def cell_range_cc(self, c: list[Any]) -> ast.Cell:
        return self._cell("range", c, c, True, True)

    def cell_range_co(self, c: list[Any]) -> ast.Cell:
        return self._cell("range", c, c, True, False)

    def cell_range_oc(self, c: list[Any]) -> ast.Cell:
        return self._cell("range", c, c, False, True)

    def cell_range_oo(self, c: list[Any]) -> ast.Cell:
        return self._cell("range", c, c, False, False)

    def cell_name(self, c: list[Any]) -> ast.Path:
        return ast.Path(span=self.sp(c), parts=[str(c[0])])

    # --- proc --------------------------------------------------------------------------
    def proc_decl(self, c: list[Any]) -> ast.ProcDecl:
        return ast.ProcDecl(span=self.sp(c), name=str(c[0]), statements=list(c[1:]))

    def from_stmt(self, c: list[Any]) -> ast.FromStmt:
        return ast.FromStmt(span=self.sp(c), stream=str(c[0]))

    def event_time_stmt(self, c: list[Any]) -> ast.EventTimeStmt:
        c = [x for x in c if not (_is(x, Token) and x.type == "EVENT_TIME")]
        wm = c[1] if len(c) > 1 else None
        return ast.EventTimeStmt(span=self.sp(c), field=c[0], watermark=wm)

    def filter_stmt(self, c: list[Any]) -> ast.FilterStmt:
        return ast.FilterStmt(span=self.sp(c), condition=c[0])

    def transform_stmt(self, c: list[Any]) -> ast.TransformStmt:
        return ast.TransformStmt(span=self.sp(c), transform=str(c[-1]))

    def apply_stmt(self, c: list[Any]) -> ast.ApplyStmt:
        kind = None
        alias = None
        for tok in c[1:]:
            if tok.type == "APPLY_KIND":
                kind = str(tok)
            else:
                alias = str(tok)
        return ast.ApplyStmt(span=self.sp(c), target=str(c[0]), kind=kind, alias=alias)

    def correlate_stmt(self, c: list[Any]) -> ast.CorrelateStmt:
        partner = str(c[0]) if _is(c[0], Token) else None
        rest = c[1:] if partner is not None else c
        return ast.CorrelateStmt(span=self.sp(c), key=rest[0], within=rest[1], partner=partner)

    def on_stmt(self, c: list[Any]) -> ast.OnStmt:
        return ast.OnStmt(span=self.sp(c), event=str(c[0]), stream=str(c[1]))

    def on_route(self, c: list[Any]) -> ast.OnStmt:
        return ast.OnStmt(span=self.sp(c), event="route", label=str(c[0]), stream=str(c[1]))

    def on_lookup_error(self, c: list[Any]) -> ast.OnLookupErrorStmt:
        return ast.OnLookupErrorStmt(span=self.sp(c), action=str(c[0]))

    def on_persist_error(self, c: list[Any]) -> ast.OnPersistErrorStmt:
        return ast.OnPersistErrorStmt(span=self.sp(c), action=str(c[0]))

    def emit_stmt(self, c: list[Any]) -> ast.EmitStmt:
        persist = None
        delivery = None
        key = None
        for x in c[1:]:
            if _is(x, ast.Persist):
                persist = x
            elif x is not None:
                delivery, key = x
        return ast.EmitStmt(
            span=self.sp(c),
            stream=str(c[0]),
            persist=persist,
            delivery=delivery,
            idempotency_key=key,
        )

    def persist(self, c: list[Any]) -> ast.Persist:
        return ast.Persist(span=self.sp(c), store=str(c[0]), is_async=len(c) > 1)

    def exactly_once(self, c: list[Any]) -> Any:
        return ("exactly_once", None)

    def at_least_once(self, c: list[Any]) -> Any:
        return ("at_least_once", c[0] if c else None)

    def route_stmt(self, c: list[Any]) -> ast.RouteStmt:
        return ast.RouteStmt(span=self.sp(c), cases=list(c))

    def route_case(self, c: list[Any]) -> ast.RouteCase:
        return ast.RouteCase(span=self.sp(c), condition=c[0], stream=str(c[1]))

    def route_otherwise(self, c: list[Any]) -> ast.RouteCase:
        return ast.RouteCase(span=self.sp(c), condition=None, stream=str(c[0]))

    def key_stmt(self, c: list[Any]) -> ast.KeyByStmt:
        return ast.KeyByStmt(span=self.sp(c), keys=list(c))

    def state_stmt(self, c: list[Any]) -> ast.StateStmt:
        return ast.StateStmt(span=self.sp(c), name=str(c[0]), type=c[1], ttl=c[2])

    def update_stmt(self, c: list[Any]) -> ast.UpdateStmt:
        return ast.UpdateStmt(span=self.sp(c), name=str(c[0]), expr=c[1])

    def rolling_stmt(self, c: list[Any]) -> ast.RollingStmt:
        return ast.RollingStmt(span=self.sp(c), within=c[0], mappings=list(c[1:]))

    def lateness(self, c: list[Any]) -> Any:
        return ("lateness", c[0])

    def _window(self, kind: str, meta: list[Any], c: list[Any]) -> ast.WindowStmt:
        late = None
        durs = []
        for x in c:
            if _is(x, tuple):
                late = x[1]
            else:
                durs.append(x)
        slide = durs[1] if len(durs) > 1 else None
        return ast.WindowStmt(
            span=self.sp(c), kind=kind, size=durs[0], slide=slide, allowed_lateness=late
        )

    def window_tumbling(self, c: list[Any]) -> ast.WindowStmt:
        return self._window("tumbling", c, c)

    def window_sliding(self, c: list[Any]) -> ast.WindowStmt:
        return self._window("sliding", c, c)

    def window_session(self, c: list[Any]) -> ast.WindowStmt:
        return self._window("session", c, c)

    def aggregate_stmt(self, c: list[Any]) -> ast.AggregateStmt:
        return ast.AggregateStmt(span=self.sp(c), schema=str(c[0]), mappings=list(c[1:]))

    def map_stmt(self, c: list[Any]) -> ast.MapStmt:
        return ast.MapStmt(span=self.sp(c), schema=str(c[0]), mappings=list(c[1:]))

    def join_interval(self, c: list[Any]) -> ast.JoinStmt:
        return ast.JoinStmt(
            span=self.sp(c), stream=str(c[0]), alias=str(c[1]), condition=c[2], within=c[3]
        )

    def join_window(self, c: list[Any]) -> ast.JoinStmt:
        return ast.JoinStmt(
            span=self.sp(c), stream=str(c[0]), alias=str(c[1]), condition=c[2], window=c[3]
        )

    def lookup_stmt(self, c: list[Any]) -> ast.LookupStmt:
        cache = c[3] if len(c) > 3 else None
        return ast.LookupStmt(
            span=self.sp(c), store=str(c[0]), key=c[1], alias=str(c[2]), cache=cache
        )

    def dedup_stmt(self, c: list[Any]) -> ast.DedupStmt:
        return ast.DedupStmt(span=self.sp(c), key=c[0], within=c[1])

    def parallelism_stmt(self, c: list[Any]) -> ast.ParallelismStmt:
        text = str(c[0])
        if "." in text or self.whole(text, c) < 1:
            self.fail(
                self.tsp(c[0]),
                "NX106",
                f"parallelism must be a whole number of at least 1, not {text}",
                expected="a whole number such as 4",
            )
        return ast.ParallelismStmt(span=self.sp(c), value=self.whole(text, c))

    def checkpoint_stmt(self, c: list[Any]) -> ast.CheckpointStmt:
        mode = str(c[1]) if len(c) > 1 else None
        return ast.CheckpointStmt(span=self.sp(c), every=c[0], mode=mode)

    # --- infra -------------------------------------------------------------------------
    def environment(self, c: list[Any]) -> ast.EnvironmentDecl:
        ext = None
        rest = c[1:]
        if rest and _is(rest[0], Token):
            ext = str(rest[0])
            rest = rest[1:]
        return ast.EnvironmentDecl(span=self.sp(c), name=str(c[0]), extends=ext, entries=list(rest))

    def prop(self, c: list[Any]) -> ast.Property:
        return ast.Property(span=self.sp(c), name=str(c[0]), value=c[1])

    def block(self, c: list[Any]) -> ast.Block:
        return ast.Block(span=self.sp(c), name=str(c[0]), entries=list(c[1:]))

    def symbol(self, c: list[Any]) -> ast.Symbol:
        return ast.Symbol(span=self.sp(c), name=str(c[0]))

    def secret_ref(self, c: list[Any]) -> ast.SecretRef:
        kind = str(c[0])
        if kind not in ("env", "file"):
            self.fail(
                self.tsp(c[0]),
                "NX106",
                f"unknown reference '{kind}(…)'",
                expected='env("VARIABLE") or file("/path/to/secret")',
            )
        return ast.SecretRef(span=self.sp(c), kind=kind, ref=unquote(str(c[1])))

    def list_value(self, c: list[Any]) -> ast.ListValue:
        return ast.ListValue(span=self.sp(c), items=[x for x in c if x is not None])
