/**
 * The words of the BeTrace rule language, as the grammar (packages/evaluator/src/grammar/betrace.ohm)
 * and the resolver define them: what the tokenizer colours, completion offers and hover explains.
 */

/** The grammar's reserved words. */
export const KEYWORDS = [
  'when',
  'always',
  'never',
  'and',
  'or',
  'not',
  'in',
  'matches',
  'contains',
  'within',
  'true',
  'false',
  'null',
] as const;

/** Span fields usable inside `where(…)`; an intrinsic wins over an attribute of the same name. */
export const INTRINSICS = ['name', 'duration', 'status', 'status_message', 'kind', 'service'] as const;

/** Selector methods: `S.where(…)`, relations and ordering. */
export const METHODS = [
  'where',
  'child_of',
  'parent_of',
  'descendant_of',
  'ancestor_of',
  'sibling_of',
  'before',
  'after',
] as const;

/** Trace-level functions (and `span("…")`, the selector for names that are not identifiers). */
export const FUNCTIONS = ['count', 'min', 'max', 'sum', 'avg', 'all', 'exists', 'span'] as const;

/** Trace fields. */
export const TRACE_FIELDS = [
  'trace.duration',
  'trace.span_count',
  'trace.root.name',
  'trace.root.service',
  'trace.has_error',
] as const;

/** Values of the `status` and `kind` intrinsics. */
export const STATUS_VALUES = ['ok', 'error', 'unset'] as const;
export const KIND_VALUES = ['server', 'client', 'producer', 'consumer', 'internal', 'unspecified'] as const;

/** Attribute scopes: `span.http.status_code`, `resource.deployment.environment`. */
export const SCOPES = ['span', 'resource'] as const;

/** One line of help per keyword, intrinsic, method and function, shown on hover and in completion. */
export const HELP: Record<string, string> = {
  when: '`when { … }` — the trigger: the rule is checked on traces where this holds. May bind a span: `when { p: payment.charge }`.',
  always: '`always { … }` — must hold whenever `when` holds; the rule fires when it does not.',
  never: '`never { … }` — must not hold whenever `when` holds; the rule fires when it does.',
  and: 'Both sides hold (also `&&`).',
  or: 'Either side holds (also `||`).',
  not: 'Negation (also `!`); `not in` tests that a value is absent from a list.',
  in: '`value in [a, b]` — the value is one of the list.',
  matches: '`value matches "re"` (also `=~`) — a linear-time regular expression match.',
  contains: '`value contains "text"` — a substring (or list element) test.',
  within: '`S.before(T, within 5s)` — no more than this duration apart, start to start.',
  true: 'The boolean true.',
  false: 'The boolean false.',
  null: 'No value.',
  name: 'The span name (intrinsic).',
  duration: 'The span duration (intrinsic), compared with durations such as `250ms` or `2s`.',
  status: 'The span status (intrinsic): `ok`, `error` or `unset`. Write `span.status` for an attribute named status.',
  status_message: 'The span status message (intrinsic).',
  kind: 'The span kind (intrinsic): `server`, `client`, `producer`, `consumer`, `internal`.',
  service: 'The resource attribute `service.name` of the span (intrinsic).',
  where: '`S.where(cond)` — spans of S for which cond holds.',
  child_of: '`S.child_of(T)` — spans of S whose parent is in T.',
  parent_of: '`S.parent_of(T)` — spans of S with a child in T.',
  descendant_of: '`S.descendant_of(T)` — spans of S below some span of T.',
  ancestor_of: '`S.ancestor_of(T)` — spans of S above some span of T.',
  sibling_of: '`S.sibling_of(T)` — spans of S sharing a parent with a span of T.',
  before: '`S.before(T)` — spans of S starting before some span of T starts; `S.before(T, within 5s)` bounds the gap.',
  after: '`S.after(T)` — spans of S starting after some span of T starts.',
  count: '`count(S) > 3` — the number of spans of S.',
  min: '`min(S, duration)` — the smallest value of a span field over S.',
  max: '`max(S, duration) > 2s` — the largest value of a span field over S.',
  sum: '`sum(S, field)` — the sum of a span field over S.',
  avg: '`avg(S, field)` — the mean of a span field over S.',
  all: '`all(S).where(cond)` — every span of S satisfies cond (true when S is empty).',
  exists: '`exists(attr)` — the span has the attribute.',
  span: '`span("GET /api/users/{id}")` — spans with a name that is not an identifier.',
  trace:
    '`trace.duration`, `trace.span_count`, `trace.root.name`, `trace.root.service`, `trace.has_error`; v1: `trace.has(S)`, `trace.count(S)`.',
};

/** Span names and attribute names seen in Tempo, for completion. */
export interface TraceVocabulary {
  spanNames: string[];
  spanAttributes: string[];
  resourceAttributes: string[];
}

export const EMPTY_VOCABULARY: TraceVocabulary = { spanNames: [], spanAttributes: [], resourceAttributes: [] };
