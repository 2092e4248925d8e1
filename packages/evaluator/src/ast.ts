/**
 * The rule AST: plain, typed, serializable data (no classes, no functions, no bigint),
 * produced by the parser (parse.ts) after name resolution, consumed by the checker,
 * the compiler, the explainer and the TraceQL pushdown.
 *
 * Both surface forms (BeTrace v1 expressions and v2 when/always/never) map to this one AST.
 * Every node carries `loc`: half-open character offsets into the rule source.
 */

export interface Loc {
  /** Offset of the first character. */
  start: number;
  /** Offset one past the last character. */
  end: number;
}

// ---------------------------------------------------------------- rule

export type RuleAst = ExpressionRule | WhenRule;

/** v1: `trace.has(a).where(x > 1) and not trace.has(b)` — fires when the expression is true. */
export interface ExpressionRule {
  type: 'expression';
  body: TraceExpr;
  loc: Loc;
}

/**
 * v2: `when { … } always { … } never { … }` — fires when `when` holds and
 * (`always` does not hold, or `never` holds). At least one of always/never is present
 * in a valid rule (the checker reports it otherwise).
 *
 * With a binding (`when { p: payment.charge.where(amount > 1000) }`), the rule is checked
 * once per span bound to `p`: `when` holds for a candidate span when the span is in the
 * binding's selector and the rest of `when` (if any) holds.
 */
export interface WhenRule {
  type: 'when';
  /** `p: selector`, written as the whole when clause or as its first conjunct (`p: S and count(x) > 2`). */
  binding?: Binding;
  /** The when clause without the binding; absent when the clause is only the binding. */
  when?: TraceExpr;
  always?: TraceExpr;
  never?: TraceExpr;
  loc: Loc;
}

export interface Binding {
  /** The variable name, e.g. `p`. */
  name: string;
  selector: Selector;
  loc: Loc;
}

// ---------------------------------------------------------------- trace-level expressions

export type TraceExpr = TraceLogical | TraceNot | SpanExists | TraceComparison | AllSpans | TraceBool;

export interface TraceLogical {
  type: 'and' | 'or';
  left: TraceExpr;
  right: TraceExpr;
  loc: Loc;
}

export interface TraceNot {
  type: 'not';
  operand: TraceExpr;
  loc: Loc;
}

/** `S`, `trace.has(S)`, `trace.has(S).where(c)` (the where folds into the selector): some span of S exists. */
export interface SpanExists {
  type: 'exists';
  selector: Selector;
  loc: Loc;
}

/** `count(S) > 3`, `count(S) != count(T)`, `max(S, duration) > 2s`, `trace.duration > 1s`, `p.amount > 1000`. */
export interface TraceComparison {
  type: 'compare';
  op: CompareOp;
  left: TraceValue;
  right: TraceValue;
  loc: Loc;
}

/** `all(S).where(cond)`: every span of S satisfies cond (true when S is empty). */
export interface AllSpans {
  type: 'all';
  selector: Selector;
  cond: Cond;
  loc: Loc;
}

/** A boolean-valued trace term used alone: `trace.has_error`, `p.verified`. */
export interface TraceBool {
  type: 'bool';
  value: TraceField | BoundField;
  loc: Loc;
}

export type TraceValue = CountOf | Aggregate | TraceField | BoundField | Literal;

/** `count(S)` / `trace.count(S)`. */
export interface CountOf {
  type: 'count';
  selector: Selector;
  loc: Loc;
}

/** `max(S, duration)`: the aggregate of a span field over the spans of S (no value when S is empty: comparisons are false). */
export interface Aggregate {
  type: 'aggregate';
  fn: 'min' | 'max' | 'sum' | 'avg';
  selector: Selector;
  field: FieldRef;
  loc: Loc;
}

export type TraceFieldName = 'duration' | 'span_count' | 'root.name' | 'root.service' | 'has_error';

/** `trace.duration` (ns), `trace.span_count`, `trace.root.name`, `trace.root.service`, `trace.has_error`. */
export interface TraceField {
  type: 'traceField';
  field: TraceFieldName;
  loc: Loc;
}

// ---------------------------------------------------------------- selectors

export type Selector = NameSelector | AnySelector | BoundSelector | WhereSelector | RelationSelector | OrderSelector;

/** `payment.charge` or `span("GET /api/users/{id}")`: spans whose name is exactly `name`. */
export interface NameSelector {
  type: 'name';
  name: string;
  loc: Loc;
}

/** `*`: every span. */
export interface AnySelector {
  type: 'any';
  loc: Loc;
}

/** The bound variable used as a selector (`before(p)`): exactly the bound span. */
export interface BoundSelector {
  type: 'bound';
  name: string;
  loc: Loc;
}

/** `S.where(cond)`. */
export interface WhereSelector {
  type: 'where';
  base: Selector;
  cond: Cond;
  loc: Loc;
}

export type Relation = 'child_of' | 'parent_of' | 'descendant_of' | 'ancestor_of' | 'sibling_of';

/** `S.child_of(T)` etc.: spans of S that stand in the relation to some span of T. */
export interface RelationSelector {
  type: 'relation';
  relation: Relation;
  base: Selector;
  other: Selector;
  loc: Loc;
}

/** `S.before(T)` / `S.after(T, within 5s)`: spans of S starting before/after some span of T starts (start to start, within the bound). */
export interface OrderSelector {
  type: 'order';
  order: 'before' | 'after';
  base: Selector;
  other: Selector;
  /** The `within` bound in nanoseconds, if any. */
  withinNs?: number;
  loc: Loc;
}

// ---------------------------------------------------------------- span-level conditions (inside where / all)

export type Cond = CondLogical | CondNot | Comparison | FieldExists | FieldTruthy;

export interface CondLogical {
  type: 'and' | 'or';
  left: Cond;
  right: Cond;
  loc: Loc;
}

export interface CondNot {
  type: 'not';
  operand: Cond;
  loc: Loc;
}

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'matches' | '!~' | 'contains';

/** `amount > 1000`, `name matches "^GET "`, `currency in [USD, "EUR"]`, `order_id == p.order_id`. */
export interface Comparison {
  type: 'compare';
  op: CompareOp;
  left: Operand;
  right: Operand;
  loc: Loc;
}

/** `exists(attr)`. */
export interface FieldExists {
  type: 'fieldExists';
  field: FieldRef;
  loc: Loc;
}

/** A bare attribute used as a boolean (`where(not verified)`): true when the value is `true`. */
export interface FieldTruthy {
  type: 'truthy';
  field: FieldRef | BoundField;
  loc: Loc;
}

export type Operand = FieldRef | BoundField | Literal;

export type Intrinsic = 'name' | 'duration' | 'status' | 'status_message' | 'kind' | 'service';

/**
 * A field of the span under test.
 * - `intrinsic`: a span field (an intrinsic name wins over an attribute of the same name);
 * - `span`: a span attribute (bare identifier, quoted name, or `span.x`);
 * - `resource`: a resource attribute (`resource.x`).
 */
export type FieldRef =
  | { type: 'field'; scope: 'intrinsic'; name: Intrinsic; loc: Loc }
  | { type: 'field'; scope: 'span' | 'resource'; name: string; loc: Loc };

/** `p.order_id`, `p.duration`: a field of the bound span. */
export interface BoundField {
  type: 'boundField';
  variable: string;
  field: FieldRef;
  loc: Loc;
}

/**
 * A literal. Durations are numbers of nanoseconds with kind 'duration';
 * a bare identifier on the right of a comparison (`currency == USD`, `status == error`)
 * is a string with kind 'enum'.
 */
export type Literal =
  | { type: 'literal'; kind: 'string' | 'enum'; value: string; loc: Loc }
  | { type: 'literal'; kind: 'number' | 'duration'; value: number; loc: Loc }
  | { type: 'literal'; kind: 'bool'; value: boolean; loc: Loc }
  | { type: 'literal'; kind: 'null'; value: null; loc: Loc }
  | { type: 'literal'; kind: 'list'; value: Literal[]; loc: Loc };

export const INTRINSICS: readonly Intrinsic[] = ['name', 'duration', 'status', 'status_message', 'kind', 'service'];
export const TRACE_FIELDS: readonly TraceFieldName[] = ['duration', 'span_count', 'root.name', 'root.service', 'has_error'];
export const RELATIONS: readonly Relation[] = ['child_of', 'parent_of', 'descendant_of', 'ancestor_of', 'sibling_of'];
