"""The target-independent render model: what a target needs to know to write code.

The generator core (core.py, lower.py) fills these from the checked AST; target adapters (flink/,
…) render them. Nothing here names a Java or Flink type: values carry the checker's `Type`
(nexflow_core.typemodel), resolved (no `ref` kinds), and each target decides how a type is
spelled. Expressions are fully typed and explicit: every implicit widening the checker allows
(int → long, int → decimal, date → datetime, …) is a `Convert` node, so a target never has to
infer a type.
"""

from __future__ import annotations

from typing import Optional, Union

import msgspec

from nexflow_core.typemodel import Type


class Origin(msgspec.Struct, frozen=True):
    """Where a piece of generated code came from: DSL file and line, and the text that was there."""

    file: str
    line: int
    text: str


# --- expressions (typed) ----------------------------------------------------------------------


class This(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """The record an expression is about (a schema's `validate`, a proc filter's input)."""

    type: Type


class Var(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """A named value in scope: a ruleset's record, a transform input, a `let`, a state, an
    alias. `name` is the DSL name; targets spell it safely. `nullable`: the value may be null
    (an optional input, a state not yet written, a table result with no matching row), so
    reading a field of it must be null-safe."""

    name: str
    type: Type
    nullable: bool = False


class Field(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`obj.name`; null when `obj` is null."""

    obj: Expr
    name: str
    type: Type


class EnumValue(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`Color.RED`: a member of a declared enum (type.kind == "enum")."""

    member: str
    type: Type


class Lit(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """A literal of `type`. Decimals are their exact text, durations milliseconds, null is
    None (typed, so a target can spell a typed null)."""

    value: Union[str, int, bool, None]
    type: Type


class ListOf(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    items: list[Expr]
    type: Type


class Convert(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """A widening the language does implicitly: int→long/double/decimal, long→double/decimal,
    date→datetime (start of the day, UTC), enum→string (the member name), and any value to
    its nullable form. `operand.type` is the source type."""

    operand: Expr
    type: Type


class Unary(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """op: `neg` (type is the operand's) or `not` (boolean; null counts as false)."""

    op: str
    operand: Expr
    type: Type


class Arith(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`left op right`, op in + - * / %. Both operands already have the operation type
    `operand_type` (decimal, double, int, long, string for +, or a time type); `type` is the
    result type (for decimal division its scale is the division's scale)."""

    op: str
    left: Expr
    right: Expr
    operand_type: Type
    type: Type


class Compare(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`left op right`, op in == != < <= > >=, operands converted to one common type;
    false when either side is null."""

    op: str
    left: Expr
    right: Expr
    type: Type


class Logical(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`and` / `or` over two or more operands; a null operand counts as false."""

    op: str
    operands: list[Expr]
    type: Type


class InList(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`operand [not] in items`; false when the operand is null (for `not in` too)."""

    operand: Expr
    items: Expr
    negated: bool
    type: Type


class IsNull(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    operand: Expr
    negated: bool
    type: Type


class If(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`if cond then a else b`; a null condition takes the else branch; only the chosen
    branch is evaluated."""

    cond: Expr
    then: Expr
    otherwise: Expr
    type: Type


class Call(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """A catalogue function (docs/language/expressions.md), arguments converted to the types
    the function works on. `transform` names a transform when the call is one (then `package`
    is where its class lives)."""

    name: str
    args: list[Expr]
    type: Type
    transform: bool = False
    package: Optional[str] = None


class Fit(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """Store a decimal into decimal(precision, scale): round half-even to the scale, fail
    (a data error) when the digits left of the point do not fit."""

    operand: Expr
    type: Type


Expr = Union[
    This,
    Var,
    Field,
    EnumValue,
    Lit,
    ListOf,
    Convert,
    Unary,
    Arith,
    Compare,
    Logical,
    InList,
    IsNull,
    If,
    Call,
    Fit,
]


# --- schemas ----------------------------------------------------------------------------------


class Constraint(msgspec.Struct, frozen=True):
    """A field constraint checked on every record: kind is `range` (low/high exact decimal
    text), `length` (low/high whole numbers), `pattern` (a regex, whole value must match),
    `allowed` (the texts of @enum[…]), `uuid` (canonical UUID text) or `required` (not null)."""

    kind: str
    low: Optional[str] = None
    high: Optional[str] = None
    pattern: Optional[str] = None
    allowed: list[str] = []


class RecordField(msgspec.Struct, frozen=True):
    name: str
    type: Type
    optional: bool
    is_key: bool
    is_event_time: bool
    sensitive: bool
    origin: Origin
    default: Optional[Expr] = None
    constraints: list[Constraint] = []


class Validation(msgspec.Struct, frozen=True):
    """A schema's `validate <condition> [message "…"]`; the record is `This`."""

    condition: Expr
    message: str
    origin: Origin


class Record(msgspec.Struct, frozen=True):
    """One schema: a value class in the target language."""

    name: str
    package: str
    fields: list[RecordField]
    validations: list[Validation]
    origin: Origin
    version: Optional[int] = None


class Enum(msgspec.Struct, frozen=True):
    name: str
    package: str
    members: list[str]
    origin: Origin


# --- rules ------------------------------------------------------------------------------------


class Action(msgspec.Struct, frozen=True):
    """kind: flag (text = reason or None), reject (text = reason), route (text = label),
    set (field path `target`, `value`), alert (text = message, severity)."""

    kind: str
    origin: Origin
    text: Optional[str] = None
    target: list[str] = []
    value: Optional[Expr] = None
    severity: Optional[str] = None


class RuleModel(msgspec.Struct, frozen=True):
    name: str
    condition: Optional[Expr]
    actions: list[Action]
    priority: int
    origin: Origin


class Ruleset(msgspec.Struct, frozen=True):
    """Rules in firing order (priority descending, then as written). mode: all | first."""

    name: str
    package: str
    input_name: str
    input_type: Type
    mode: str
    rules: list[RuleModel]
    origin: Origin


class CellTest(msgspec.Struct, frozen=True):
    """One input test of a row: kind any, eq, ne, lt, le, gt, ge, in, not_in, range; values
    are expressions of the input column's type."""

    kind: str
    values: list[Expr] = []
    low_closed: bool = True
    high_closed: bool = True


class TableRowModel(msgspec.Struct, frozen=True):
    label: str
    cells: list[CellTest]
    results: list[Expr]
    origin: Origin


class TableColumn(msgspec.Struct, frozen=True):
    name: str
    type: Type
    expr: Optional[Expr] = None
    order: list[Expr] = []


class DecisionTable(msgspec.Struct, frozen=True):
    """hit_policy: unique | first | priority | any | collect; aggregation (collect only):
    sum | min | max | count or None (the list of all matches)."""

    name: str
    package: str
    input_name: str
    input_type: Type
    hit_policy: str
    aggregation: Optional[str]
    inputs: list[TableColumn]
    outputs: list[TableColumn]
    rows: list[TableRowModel]
    result_type: Type
    origin: Origin


# --- transforms -------------------------------------------------------------------------------


class Param(msgspec.Struct, frozen=True):
    """A transform input: `optional` inputs may be null; a null for any other input makes the
    transform's result null (like a catalogue function's)."""

    name: str
    type: Type
    optional: bool


class Let(msgspec.Struct, frozen=True):
    name: str
    expr: Expr
    origin: Origin


class FieldValue(msgspec.Struct, frozen=True):
    """`field = expression` of a mapping: the value already fitted to the field's type."""

    field: str
    expr: Expr
    origin: Origin


class LookupParam(msgspec.Struct, frozen=True):
    """`lookup <name> from <store> by <key>` of a transform: the record found (`type`, null
    when there is none) is a parameter of the function after the inputs; the proc calling the
    transform reads it (see jobs.py) with the key `key_text` from the call's arguments."""

    name: str
    store: str
    type: Type
    key_text: str
    origin: Origin


class Transform(msgspec.Struct, frozen=True):
    """One transform: a pure function. Exactly one of `mappings` (record output) or `compute`
    (value output) gives the result. on_error: skip | fail | dead_letter; `on_error_declared`:
    the transform says so (else dead_letter is the default, and a calling transform's declared
    behaviour applies to its failures). `lookups` are parameters after `inputs`, in declaration
    order."""

    name: str
    package: str
    inputs: list[Param]
    output: Type
    validate_input: list[Validation]
    lets: list[Let]
    mappings: list[FieldValue]
    compute: Optional[Expr]
    validate_output: list[Validation]
    on_error: str
    origin: Origin
    lookups: list[LookupParam] = []
    on_error_declared: bool = False


# --- jobs -------------------------------------------------------------------------------------
#
# A proc is a pipeline of operators (one Flink operator each). Consecutive statements that need
# no state of their own (filter, transform, map, apply, route, emit, update of keyed state) are
# one `Segment`: one process function whose Java runs the statements in the order written, with
# the record, table results and keyed state as local variables. Correlation, deduplication and
# windows are operators of their own. Each operator sends records for other streams (emits,
# routes, rejects, timeouts, late records) to side outputs named after the stream; the job
# writes each stream once, from the union of everything sent to it.


class Source(msgspec.Struct, frozen=True):
    stream: str
    record: Type
    origin: Origin


class EventTime(msgspec.Struct, frozen=True):
    """Timestamps from `field` (datetime, or long epoch milliseconds) of the records leaving the
    source, with watermarks `watermark_ms` behind the largest timestamp seen."""

    field: str
    kind: str
    watermark_ms: int
    origin: Optional[Origin] = None


class Key(msgspec.Struct, frozen=True):
    """A key: expressions over the keyed record (`text` is the DSL, for names and uids)."""

    exprs: list[Expr]
    record: Type
    text: str


class State(msgspec.Struct, frozen=True):
    name: str
    type: Type
    ttl_ms: int
    origin: Origin


class FilterStep(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    condition: Expr
    var: str
    origin: Origin


class TransformStep(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`transform using name`: `out_var = name.apply(var, *inputs, *lookups)`; `inputs` are the
    transform's further inputs, read from the names of that name earlier statements made (a
    `lookup … as`, a `join … as`, a `rolling` name); `lookups` name the values the proc looked
    up for the transform's own lookups (carried from the lookup before)."""

    transform: str
    var: str
    out_var: str
    record: Type
    output: Type
    origin: Origin
    inputs: list[Expr] = []
    lookups: list[str] = []


class MapStep(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`map into Schema { … }`: a new record of `output`."""

    output: Type
    values: list[FieldValue]
    var: str
    out_var: str
    origin: Origin


class RulesStep(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`apply R rules`: rejected records go to `on_reject` (None: the dead-letter output),
    routed ones to `routes[label]`, flagged ones to `on_flag` (None: they continue), alerts to
    the alert output; the rest continue as `out_var` (a copy when a rule set a field)."""

    ruleset: str
    record: Type
    var: str
    out_var: str
    on_reject: Optional[str]
    on_flag: Optional[str]
    routes: dict[str, str]
    origin: Origin
    alias: Optional[str] = None


class TableStep(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`apply T table as alias`: the table's result (null when no row matches)."""

    table: str
    alias: str
    result: Type
    var: str
    origin: Origin


class RouteCase(msgspec.Struct, frozen=True):
    condition: Optional[Expr]
    stream: str
    origin: Origin


class RouteStep(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """The first case whose condition holds sends the record to its stream, and the record
    goes no further; a record no case takes continues."""

    cases: list[RouteCase]
    var: str
    origin: Origin


class EmitStep(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`emit to stream`: a copy to the stream; the record continues."""

    stream: str
    var: str
    origin: Origin


class UpdateStep(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    state: str
    value: Expr
    var: str
    origin: Origin


class RollingStep(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`rolling D { name = agg … }`: per record, the aggregations (fn count, sum, min or max,
    typed like window aggregations; `slot` is the DSL name they are bound to) over the records
    of the key whose time is in (t - D, t], t the record's own time, itself included. The key's
    records are kept in a list state `state` (TTL `ttl_ms`) until no record still to come can
    reach them: older than the watermark minus D (event time) or now minus D (processing
    time). With event time, a record at or behind the watermark is late: it goes to
    `late_stream` (None: dropped and counted) and is not counted."""

    state: str
    within_ms: int
    ttl_ms: int
    values: list[Aggregation]
    event_time: bool
    late_stream: Optional[str]
    var: str
    origin: Origin


Step = Union[FilterStep, TransformStep, MapStep, RulesStep, TableStep, RouteStep, EmitStep,
             UpdateStep, RollingStep]  # fmt: skip


class Segment(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """Statements run by one process function, keyed when `key` is set (then `states` are its
    keyed state, each with its TTL). `output` is the record type that continues to the next
    operator (None when nothing follows)."""

    uid: str
    name: str
    index: int
    input: Type
    input_var: str
    output: Optional[Type]
    output_var: str
    steps: list[Step]
    origin: Origin
    key: Optional[Key] = None
    states: list[State] = []
    sends: list[str] = []
    carried: Optional[Carried] = None
    # What chained lookups before `carried` found (the record is inside all their envelopes).
    also: list[Carried] = []


class Carried(msgspec.Struct, frozen=True):
    """A value an operator hands to the segment after it, with the record: the `found`
    field of the envelope class of operator `index` (`kind` Lookup or Join), read as `name`
    (`hops` envelopes inside the one the segment receives)."""

    index: int
    name: str
    type: Type
    kind: str = "Lookup"
    # Envelopes to open before reading `found` (chained lookups: the outermost is 0).
    hops: int = 0


class Join(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`join <stream> as <alias> on <condition> within D` (an interval join: partner records
    of the same key at most D earlier or later, by event time) or `… window tumbling D` (both
    in the same window). Keys: `left` over the record, `right` over the partner (a Var named
    after the alias). Each matching pair goes on (record and partner) to the next segment,
    which checks the whole condition."""

    uid: str
    index: int
    stream: str
    alias: str
    partner: Type
    partner_time: EventTime
    left: Key
    right: Key
    within_ms: Optional[int]
    window_ms: Optional[int]
    record: Type
    origin: Origin


# What a lookup does with a record when its store fails or gives no answer in time, without an
# `on lookup_error` in the proc: it goes on with a null answer (counted and logged).
DEFAULT_LOOKUP_ERROR = "continue"


class Lookup(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`lookup <store> by <key> as <alias> [cache D]`: the record of that key from the store
    (null when there is none), read asynchronously in record order, answers kept `cache_ms`
    (0: not cached). The record and the answer go on together to the next segment.
    `on_error` (the proc's `on lookup_error`): continue (a null answer), dead_letter (the
    record goes to the dead-letter output) or fail (the job restarts)."""

    uid: str
    index: int
    store: str
    key: Key
    alias: str
    found: Type
    cache_ms: int
    record: Type
    origin: Origin
    # Chained (the lookups of one statement's transforms): the input is the envelope of lookup
    # `after`, `depth` envelopes deep around the record; this one's envelope wraps it whole.
    after: Optional[int] = None
    depth: int = 0
    on_error: str = DEFAULT_LOOKUP_ERROR
    # Where `on lookup_error` was declared (None: the default).
    on_error_origin: Optional[Origin] = None


class Correlate(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`correlate by key within D`: the first record of a key waits (keyed state owned by its
    timer, no TTL); a later record of that key whose time is within D of it completes the pair and
    the waiting record continues; when D passes first, it goes to `timeout_stream` (or is
    dropped and counted when there is none).

    With `partner` (`correlate with <stream>`): a record of the flow waits for a record of
    `partner.stream` with the same key (and the other way round); see CorrelatePartner."""

    uid: str
    index: int
    key: Key
    within_ms: int
    record: Type
    event_time: bool
    timeout_stream: Optional[str]
    origin: Origin
    partner: Optional["CorrelatePartner"] = None


class CorrelatePartner(msgspec.Struct, frozen=True):
    """The other stream of `correlate with <stream> by key`: its records (`record`), keyed by
    `key` over them, with event time from `time`."""

    stream: str
    record: Type
    key: Key
    time: EventTime


class Dedup(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`deduplicate by key within D`: a record is dropped when a record of the same key was
    kept at most D before or after it. The time kept is owned by a timer at that time plus D
    (no TTL), in event time when `event_time`, else processing time."""

    uid: str
    index: int
    key: Key
    within_ms: int
    record: Type
    event_time: bool
    origin: Origin


class Aggregation(msgspec.Struct, frozen=True):
    """One aggregation call of an `aggregate into`: `fn` over `arg` (None for count()), typed
    `type` (the result) with `arg_type` (the argument's)."""

    slot: str
    fn: str
    arg: Optional[Expr]
    arg_type: Optional[Type]
    type: Type


class Window(msgspec.Struct, frozen=True, tag=True, tag_field="node"):
    """`window …` + `aggregate into Schema { … }` over the keyed records. kind: tumbling,
    sliding (size, slide) or session (gap = size). `values` are expressions over the
    aggregation slots (model Vars named after `Aggregation.slot`)."""

    uid: str
    index: int
    key: Key
    kind: str
    size_ms: int
    slide_ms: Optional[int]
    lateness_ms: int
    late_stream: Optional[str]
    record: Type
    output: Type
    aggregations: list[Aggregation]
    values: list[FieldValue]
    event_time: Optional[EventTime]
    origin: Origin
    aggregate_origin: Origin


Operator = Union[Segment, Correlate, Dedup, Window, Lookup, Join]


# What a persist does with a record whose write failed after its retries (or was not
# acknowledged in time), without an `on persist_error` in the proc: a dead letter, not a
# restart that would fail again as long as the store does.
DEFAULT_PERSIST_ERROR = "dead_letter"


class Persist(msgspec.Struct, frozen=True):
    """`persist to <store> [async]` of an `emit to <stream>`; `uid` names the stream and the
    store, so two streams persisting to one store get two operators. `on_error` (the proc's
    `on persist_error`): dead_letter or fail (the job restarts)."""

    uid: str
    store: str
    key_field: Optional[str]
    is_async: bool
    origin: Origin
    on_error: str = DEFAULT_PERSIST_ERROR
    # Where `on persist_error` was declared (None: the default).
    on_error_origin: Optional[Origin] = None


class Output(msgspec.Struct, frozen=True):
    """A stream the job writes, once: `delivery` is exactly_once, at_least_once or None (the
    binding's default), `idempotency_key` the field whose value is the Kafka record key."""

    stream: str
    record: Type
    delivery: Optional[str] = None
    idempotency_key: Optional[Expr] = None
    # The idempotency key is a sensitive field (@sensitive): the Kafka key is its token.
    idempotency_sensitive: bool = False
    persist: Optional[Persist] = None
    # Where `delivery` was chosen (a binding, the proc's emit, an environment's default).
    delivery_source: Optional[str] = None
    origin: Optional[Origin] = None


class Setting(msgspec.Struct, frozen=True):
    """One configuration value of an environment: a literal text, or a secret reference
    (`kind` env or file) read at run time."""

    key: str
    value: str
    kind: str = "literal"
    origin: Optional[Origin] = None


class Count(msgspec.Struct, frozen=True):
    """A whole number the DSL declared (`parallelism: 6`); `origin` None when it is a default
    the compiler chose."""

    value: int
    origin: Optional[Origin] = None


class Duration(msgspec.Struct, frozen=True):
    """A duration the DSL declared, in milliseconds."""

    millis: int
    origin: Optional[Origin] = None


class Choice(msgspec.Struct, frozen=True):
    """One of a closed set of names, as the DSL spells it (`exactly_once`, `rocksdb`)."""

    name: str
    origin: Optional[Origin] = None


class Text(msgspec.Struct, frozen=True):
    """A text the DSL declared (a URI)."""

    value: str
    origin: Optional[Origin] = None


class Flag(msgspec.Struct, frozen=True):
    """A yes/no the compiler decided for the DSL line at `origin`."""

    value: bool
    origin: Optional[Origin] = None


class Checkpointing(msgspec.Struct, frozen=True):
    """How a job checkpoints; a part left None is the target's (or its cluster's) default.
    `interval`: how often (None: no checkpoints unless the cluster takes them); `mode`:
    exactly_once or at_least_once; `timeout`: how long one checkpoint may take; `min_pause`:
    the least time from the end of one to the start of the next; `storage`: the URI of the
    durable storage checkpoints go to (None also for `storage: cluster`, where the cluster's
    configuration says); `incremental`: each checkpoint writes only what changed since the
    last one (the environment's state backend keeps state on disk); `retain_on_cancel`: the
    last checkpoints stay when the job is cancelled (False: only when it fails);
    `tolerable_failures`: how many checkpoints in a row may fail before the job restarts."""

    interval: Optional[Duration] = None
    mode: Optional[Choice] = None
    timeout: Optional[Duration] = None
    min_pause: Optional[Duration] = None
    storage: Optional[Text] = None
    incremental: Optional[Flag] = None
    retain_on_cancel: Optional[Flag] = None
    tolerable_failures: Optional[Count] = None


class Execution(msgspec.Struct, frozen=True):
    """How a job runs, as the DSL means it (the proc's `parallelism` and `checkpoint every`, or
    an environment's settings); each target maps it to its own options (the Flink adapter in
    flink/options.py). `parallelism`: parallel instances of each operator unless a stream says
    otherwise; `max_parallelism`: the key groups keyed state is split into (fixed for the life
    of the state); `state_backend`: where keyed state lives, rocksdb (on local disk) or hashmap
    (on the heap); `buffer_timeout`: how long a record may wait in a network buffer."""

    parallelism: Optional[Count] = None
    max_parallelism: Optional[Count] = None
    checkpointing: Checkpointing = msgspec.field(default_factory=Checkpointing)
    state_backend: Optional[Choice] = None
    buffer_timeout: Optional[Duration] = None


class KafkaClient(msgspec.Struct, frozen=True):
    """How an environment's jobs connect to Kafka, as its `kafka { … }` block says it; each
    target spells it as its Kafka client's properties (the Flink adapter in flink/kafka.py).
    `settings`: the block's settings keyed by their DSL name (`brokers`, `security_protocol`,
    `truststore`, `truststore_password`, …, or any other client setting as written, `acks`,
    `group_id`), in name order; a secret is a reference (`kind` secret), a `truststore` or
    `keystore` given as `file("…")` is its path. `sasl_mechanism`: the login mechanism as the
    DSL names it (`PLAIN`, `SCRAM_SHA_256`, `SCRAM_SHA_512`, `GSSAPI`, `OAUTHBEARER`);
    `username`, `password`: its login."""

    settings: list[Setting] = []
    sasl_mechanism: Optional[Choice] = None
    username: Optional[Setting] = None
    password: Optional[Setting] = None


class Environment(msgspec.Struct, frozen=True):
    """The L5 environment a job is bound to: how its jobs run (`execution`), how they connect
    to Kafka (`kafka`), and the settings the L0 runtime reads at start (JobArgs): stream
    bindings (`stream.<name>` → URI, `stream.<name>.parallelism`, …) and store bindings
    (`store.<name>.<setting>`)."""

    name: str
    streams: list[Setting]
    execution: Execution
    kafka: KafkaClient
    stores: list[Setting]
    files: list[str]
    # Settings of the job itself (`tokens.require_key`).
    job: list[Setting] = []


class Job(msgspec.Struct, frozen=True):
    """One proc: a source, operators in order, the streams it writes."""

    name: str
    package: str
    origin: Origin
    source: Source
    operators: list[Operator]
    outputs: list[Output]
    dead_letter: Optional[str] = None
    event_time: Optional[EventTime] = None
    # The proc's own `parallelism` and `checkpoint every` (the environment's win over them).
    execution: Execution = msgspec.field(default_factory=Execution)
    environment: Optional[Environment] = None
    uses_kafka: bool = False
    # Delivery guarantees of the text-line sinks (dead letters, alerts) in the environment.
    dead_letter_delivery: str = "at_least_once"
    alert_delivery: str = "at_least_once"


class TypeIndex(msgspec.Struct, frozen=True):
    """Where each declared name (schema, enum, transform, ruleset, table, proc) is generated:
    name -> package. Targets use it to spell references to other units' classes."""

    packages: dict[str, str]


class GeneratedFile(msgspec.Struct, frozen=True):
    """A file a target wrote: its path relative to the output root, and its text."""

    path: str
    content: str
