/**
 * Compiles a rule's AST to closures, once per rule version. The hot path (evaluate.ts) then does
 * no parsing, no regex compilation and, for the common shapes (a name selector with a where
 * condition, exists, count), no allocation: selectors answer "first match", "count" and
 * "is this span a member" directly from the shared per-trace index. Structural and ordering
 * refinements prepare the other side once per evaluation (relations.ts), so every selector is
 * near-linear in the trace; every loop over spans spends the evaluation budget (budget.ts).
 */
import { RE2JS } from 're2js';
import type {
  AllSpans,
  BoundField,
  CompareOp,
  Cond,
  FieldRef,
  Literal,
  Operand,
  Relation,
  RuleAst,
  Selector,
  TraceExpr,
  TraceValue,
} from './ast';
import type { Budget } from './budget';
import { REGEX_CHARS_PER_STEP, REGEX_MEMO_MAX_KEY, REGEX_MEMO_SIZE } from './limits';
import type { AttrValue, Span } from './model';
import { compileMessage, MessageTemplate } from './message';
import { parseRule } from './parse';
import { pushdownRule } from './pushdown';
import { ancestorOfTest, childOfTest, descendantOfTest, orderTest, parentOfTest, siblingOfTest, SpanTest } from './relations';
import type { TraceIndex } from './traceIndex';
import type { CompiledRule, CompileResult, Pushdown, RuleDefinition } from './types';
import { compareValues, numericString, Value } from './values';

/** The evaluation context of one rule on one trace (and one bound span). */
export interface Ctx {
  ix: TraceIndex;
  bound: Span | undefined;
  /** The work the rule may still do on this trace; loops over spans spend it. */
  budget: Budget;
}

export type SpanPred = (span: Span, ctx: Ctx) => boolean;
export type TracePred = (ctx: Ctx) => boolean;
export type TraceGetter = (ctx: Ctx) => Value;

/** A compiled selector: candidate spans plus a predicate, so existence and counts need no list. */
export interface CompiledSelector {
  /** Spans the selector could pick before its predicate: by name, all spans, or the bound span. */
  candidates(ctx: Ctx): readonly Span[];
  /** What a candidate must also satisfy (the where/relation refinements); undefined: every candidate. */
  readonly candidatePred: SpanPred | undefined;
  first(ctx: Ctx): Span | undefined;
  count(ctx: Ctx): number;
  list(ctx: Ctx): Span[];
}

const NO_SPANS: readonly Span[] = Object.freeze([]);

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** A getter for a span field. Names that exist on Object.prototype are read with an own-property check. */
export function fieldGetter(field: FieldRef): (span: Span) => Value {
  if (field.scope === 'intrinsic') {
    switch (field.name) {
      case 'name':
        return (s) => s.name;
      case 'duration':
        return (s) => s.durationNs;
      case 'status':
        return (s) => s.status;
      case 'status_message':
        return (s) => s.statusMessage;
      case 'kind':
        return (s) => s.kind;
      case 'service':
        return (s) => s.service;
    }
  }
  const key = field.name;
  const risky = key in Object.prototype;
  if (field.scope === 'resource') {
    return risky ? (s) => (hasOwn(s.resource, key) ? s.resource[key] : undefined) : (s) => s.resource[key];
  }
  // A wire span finds one attribute without building the map (Span.attr).
  if (risky) {
    return (s) => (s.attr !== undefined ? s.attr(key) : hasOwn(s.attrs, key) ? s.attrs[key] : undefined);
  }
  return (s) => (s.attr !== undefined ? s.attr(key) : s.attrs[key]);
}

function literalValue(lit: Literal): AttrValue {
  if (lit.kind === 'list') {
    return lit.value.map(literalValue);
  }
  return lit.value;
}

/** Everything the explainer needs to re-run the pieces of a rule with the very closures evaluation uses. */
export interface RuleParts {
  traceExprs: Map<TraceExpr, TracePred>;
  selectors: Map<Selector, CompiledSelector>;
  values: Map<TraceValue, TraceGetter>;
  bindingSelector?: CompiledSelector;
}

class Compiler {
  readonly parts: RuleParts = { traceExprs: new Map(), selectors: new Map(), values: new Map() };

  /**
   * @param perBinding the rule has a binding, so its clauses run once per bound span: what does
   * not read the bound span is then worked out once per trace instead (kept in the trace index).
   */
  constructor(private readonly perBinding: boolean) {}

  // ------------------------------------------------------------ trace expressions

  traceExpr(e: TraceExpr): TracePred {
    let fn = this.traceExprInner(e);
    if (this.perBinding && (e.type === 'exists' || e.type === 'all' || e.type === 'compare') && !traceExprReadsBound(e)) {
      fn = oncePerTrace(fn);
    }
    this.parts.traceExprs.set(e, fn);
    return fn;
  }

  /** The spans a selector picks, as matchedSpanIds collects them: once per trace when that is the same for every binding. */
  spansOf(sel: Selector): (ctx: Ctx) => readonly Span[] {
    const s = this.parts.selectors.get(sel)!;
    const list = (ctx: Ctx): readonly Span[] => s.list(ctx);
    return this.perBinding && !selectorReadsBound(sel) ? oncePerTrace(list) : list;
  }

  private traceExprInner(e: TraceExpr): TracePred {
    switch (e.type) {
      case 'and': {
        const l = this.traceExpr(e.left);
        const r = this.traceExpr(e.right);
        return (ctx) => l(ctx) && r(ctx);
      }
      case 'or': {
        const l = this.traceExpr(e.left);
        const r = this.traceExpr(e.right);
        return (ctx) => l(ctx) || r(ctx);
      }
      case 'not': {
        const o = this.traceExpr(e.operand);
        return (ctx) => !o(ctx);
      }
      case 'exists': {
        const s = this.selector(e.selector);
        return (ctx) => s.first(ctx) !== undefined;
      }
      case 'all':
        return this.allSpans(e);
      case 'bool': {
        const g = this.traceValue(e.value);
        return (ctx) => g(ctx) === true;
      }
      case 'compare': {
        const op = e.op;
        // count(S) > n is the most common trace term: compare the count without boxing.
        if (e.left.type === 'count' && e.right.type === 'literal' && e.right.kind === 'number') {
          const s = this.selector(e.left.selector);
          this.parts.values.set(e.left, (ctx) => s.count(ctx));
          const n = e.right.value;
          this.parts.values.set(e.right, () => n);
          switch (op) {
            case '>':
              return (ctx) => s.count(ctx) > n;
            case '>=':
              return (ctx) => s.count(ctx) >= n;
            case '<':
              return (ctx) => s.count(ctx) < n;
            case '<=':
              return (ctx) => s.count(ctx) <= n;
            case '==':
              return (ctx) => s.count(ctx) === n;
            case '!=':
              return (ctx) => s.count(ctx) !== n;
          }
        }
        const l = this.traceValue(e.left);
        const r = this.traceValue(e.right);
        return this.comparison(op, l, r, e.right);
      }
    }
  }

  private comparison(
    op: CompareOp,
    l: (ctx: Ctx) => Value,
    r: (ctx: Ctx) => Value,
    right: TraceValue | Operand,
  ): TracePred {
    if (op === 'matches' || op === '!~') {
      const re = compileRegex(right);
      const negate = op === '!~';
      return (ctx) => {
        const v = l(ctx);
        return typeof v === 'string' ? re.test(v, ctx.budget) !== negate : false;
      };
    }
    if (right.type === 'literal' && right.kind === 'null' && (op === '==' || op === '!=')) {
      const absent = op === '==';
      return (ctx) => {
        const v = l(ctx);
        return (v === undefined || v === null) === absent;
      };
    }
    return (ctx) => compareValues(op, l(ctx), r(ctx));
  }

  private allSpans(e: AllSpans): TracePred {
    const s = this.selector(e.selector);
    const c = this.cond(e.cond);
    return (ctx) => {
      const p = s.candidatePred;
      const list = s.candidates(ctx);
      for (let i = 0; i < list.length; i++) {
        const span = list[i];
        if ((p === undefined || p(span, ctx)) && !c(span, ctx)) {
          ctx.budget.spend(i + 1);
          return false;
        }
      }
      ctx.budget.spend(list.length);
      return true;
    };
  }

  traceValue(v: TraceValue): TraceGetter {
    const fn = this.traceValueInner(v);
    this.parts.values.set(v, fn);
    return fn;
  }

  private traceValueInner(v: TraceValue): TraceGetter {
    switch (v.type) {
      case 'literal': {
        const value = literalValue(v);
        return () => value;
      }
      case 'count': {
        const s = this.selector(v.selector);
        return (ctx) => s.count(ctx);
      }
      case 'aggregate': {
        const s = this.selector(v.selector);
        const get = fieldGetter(v.field);
        const fn = v.fn;
        return (ctx) => {
          let n = 0;
          let acc = 0;
          const list = s.candidates(ctx);
          ctx.budget.spend(list.length);
          for (const span of list) {
            if (s.candidatePred !== undefined && !s.candidatePred(span, ctx)) {
              continue;
            }
            const raw = get(span);
            const x = typeof raw === 'number' ? raw : typeof raw === 'bigint' ? Number(raw) : typeof raw === 'string' ? numericString(raw) : undefined;
            if (x === undefined || Number.isNaN(x)) {
              continue;
            }
            if (n === 0) {
              acc = x;
            } else if (fn === 'min') {
              acc = x < acc ? x : acc;
            } else if (fn === 'max') {
              acc = x > acc ? x : acc;
            } else {
              acc += x;
            }
            n++;
          }
          if (n === 0) {
            return undefined;
          }
          return fn === 'avg' ? acc / n : acc;
        };
      }
      case 'traceField':
        switch (v.field) {
          case 'duration':
            return (ctx) => Number(ctx.ix.trace.endNs - ctx.ix.trace.startNs);
          case 'span_count':
            return (ctx) => ctx.ix.spans.length;
          case 'root.name':
            return (ctx) => ctx.ix.root?.name;
          case 'root.service':
            return (ctx) => ctx.ix.root?.service;
          case 'has_error':
            return (ctx) => ctx.ix.hasError;
        }
        break;
      case 'boundField': {
        const get = fieldGetter(v.field);
        return (ctx) => (ctx.bound === undefined ? undefined : get(ctx.bound));
      }
    }
    return () => undefined;
  }

  // ------------------------------------------------------------ selectors

  selector(sel: Selector): CompiledSelector {
    const existing = this.parts.selectors.get(sel);
    if (existing) {
      return existing;
    }
    const compiled = this.selectorInner(sel);
    this.parts.selectors.set(sel, compiled);
    return compiled;
  }

  private selectorInner(sel: Selector): CompiledSelector {
    switch (sel.type) {
      case 'name': {
        const name = sel.name;
        return makeSelector((ctx) => ctx.ix.named(name), undefined);
      }
      case 'any':
        return makeSelector((ctx) => ctx.ix.spans, undefined);
      case 'bound':
        return makeSelector((ctx) => (ctx.bound === undefined ? NO_SPANS : [ctx.bound]), undefined);
      default: {
        // Refinements keep the base's candidates and add a predicate.
        const base = this.selector(sel.base);
        const pred = this.refinement(sel);
        const basePred = base.candidatePred;
        if (basePred !== undefined && this.perBinding && !selectorReadsBound(sel.base) && selectorReadsBound(sel)) {
          // `S.where(…).before(p)`: S's spans are the same for every binding, so they are picked
          // once per trace and each binding tests only what reads it.
          const baseSpans = oncePerTrace((ctx: Ctx): readonly Span[] => base.list(ctx));
          return makeSelector(baseSpans, pred);
        }
        return makeSelector(base.candidates, basePred === undefined ? pred : (span, ctx) => basePred(span, ctx) && pred(span, ctx));
      }
    }
  }

  private refinement(sel: Exclude<Selector, { type: 'name' | 'any' | 'bound' }>): SpanPred {
    switch (sel.type) {
      case 'where':
        return this.cond(sel.cond);
      case 'relation': {
        const other = this.selector(sel.other);
        const direct = sel.other.type === 'bound' ? boundRelation(sel.relation) : undefined;
        if (direct !== undefined) {
          return direct;
        }
        let build: (members: readonly Span[], ctx: Ctx) => SpanTest;
        switch (sel.relation) {
          case 'child_of':
            if (sel.other.type === 'any') {
              return (span, ctx) => ctx.ix.parent(span) !== undefined;
            }
            build = (members, ctx) => childOfTest(members, ctx.budget);
            break;
          case 'parent_of':
            build = (members, ctx) => parentOfTest(members, ctx.budget);
            break;
          case 'descendant_of':
            build = (members, ctx) => descendantOfTest(members, ctx.ix, ctx.budget);
            break;
          case 'ancestor_of':
            build = (members, ctx) => ancestorOfTest(members, ctx.ix, ctx.budget);
            break;
          case 'sibling_of':
            build = (members, ctx) => siblingOfTest(members, ctx.ix, ctx.budget);
            break;
        }
        const prepared = preparedOther(sel.other, other, build);
        return (span, ctx) => prepared(ctx).test(span);
      }
      case 'order': {
        const other = this.selector(sel.other);
        const within = sel.withinNs === undefined ? undefined : BigInt(sel.withinNs);
        const before = sel.order === 'before';
        if (sel.other.type === 'bound') {
          // `before(p)`, the commonest order test: against the one bound span, nothing to prepare.
          return (span, ctx) => {
            const b = ctx.bound;
            if (b === undefined) {
              return false;
            }
            const gap = before ? b.startNs - span.startNs : span.startNs - b.startNs;
            return gap > 0n && (within === undefined || gap <= within);
          };
        }
        const prepared = preparedOther(sel.other, other, (members, ctx) => orderTest(members, before, within, ctx.budget));
        return (span, ctx) => prepared(ctx).test(span);
      }
    }
    return () => false;
  }

  // ------------------------------------------------------------ span conditions

  cond(c: Cond): SpanPred {
    switch (c.type) {
      case 'and': {
        const l = this.cond(c.left);
        const r = this.cond(c.right);
        return (s, ctx) => l(s, ctx) && r(s, ctx);
      }
      case 'or': {
        const l = this.cond(c.left);
        const r = this.cond(c.right);
        return (s, ctx) => l(s, ctx) || r(s, ctx);
      }
      case 'not': {
        const o = this.cond(c.operand);
        return (s, ctx) => !o(s, ctx);
      }
      case 'fieldExists': {
        const get = fieldGetter(c.field);
        return (s) => {
          const v = get(s);
          return v !== undefined && v !== null;
        };
      }
      case 'truthy': {
        const get = this.operandGetter(c.field);
        return (s, ctx) => get(s, ctx) === true;
      }
      case 'compare':
        return this.spanComparison(c.op, c.left, c.right);
    }
  }

  private operandGetter(o: Operand): (span: Span, ctx: Ctx) => Value {
    switch (o.type) {
      case 'literal': {
        const value = literalValue(o);
        return () => value;
      }
      case 'field': {
        const get = fieldGetter(o);
        return (s) => get(s);
      }
      case 'boundField':
        return boundGetter(o);
    }
  }

  private spanComparison(op: CompareOp, left: Operand, right: Operand): SpanPred {
    // Span fields against literals are the most common tests: one closure reading the field.
    if (left.type === 'field' && left.scope === 'intrinsic' && right.type === 'literal') {
      const fast = intrinsicTest(left.name, op, right);
      if (fast !== undefined) {
        return fast;
      }
    }
    // Specialize the common `attribute op literal` shapes: no per-span dispatch on the literal.
    if (left.type === 'field' && right.type === 'literal') {
      const get = fieldGetter(left);
      if (op === 'matches' || op === '!~') {
        const re = compileRegex(right);
        const negate = op === '!~';
        return (s, ctx) => {
          const v = get(s);
          return typeof v === 'string' ? re.test(v, ctx.budget) !== negate : false;
        };
      }
      if (right.kind === 'null' && (op === '==' || op === '!=')) {
        const absent = op === '==';
        return (s) => {
          const v = get(s);
          return (v === undefined || v === null) === absent;
        };
      }
      if ((right.kind === 'string' || right.kind === 'enum') && (op === '==' || op === '!=')) {
        const lit = right.value;
        const eq = op === '==';
        const litNumber = numericString(lit);
        return (s) => {
          const v = get(s);
          if (typeof v === 'string') {
            return (v === lit) === eq;
          }
          if (litNumber !== undefined && (typeof v === 'number' || typeof v === 'bigint')) {
            return (v == litNumber) === eq; // eslint-disable-line eqeqeq -- exact number/bigint equality
          }
          return false;
        };
      }
      if ((right.kind === 'number' || right.kind === 'duration') && op !== 'in' && op !== 'not in' && op !== 'contains') {
        const n = right.value;
        const test = numberTest(op, n);
        return (s) => {
          const v = get(s);
          if (typeof v === 'number' || typeof v === 'bigint') {
            return test(v);
          }
          if (typeof v === 'string') {
            const x = numericString(v);
            return x !== undefined && test(x);
          }
          return false;
        };
      }
      const value = literalValue(right);
      return (s) => compareValues(op, get(s), value);
    }
    const l = this.operandGetter(left);
    if (op === 'matches' || op === '!~') {
      const re = compileRegex(right);
      const negate = op === '!~';
      return (s, ctx) => {
        const v = l(s, ctx);
        return typeof v === 'string' ? re.test(v, ctx.budget) !== negate : false;
      };
    }
    const r = this.operandGetter(right);
    return (s, ctx) => compareValues(op, l(s, ctx), r(s, ctx));
  }
}

/** Direct tests of string span fields (==, !=) and of duration (any ordering) against a literal. */
function intrinsicTest(name: string, op: CompareOp, lit: Literal): SpanPred | undefined {
  if ((lit.kind === 'string' || lit.kind === 'enum') && (op === '==' || op === '!=')) {
    const v = lit.value;
    const eq = op === '==';
    switch (name) {
      case 'name':
        return eq ? (s) => s.name === v : (s) => s.name !== v;
      case 'kind':
        return eq ? (s) => s.kind === v : (s) => s.kind !== v;
      case 'status':
        return eq ? (s) => s.status === v : (s) => s.status !== v;
      case 'service':
        return eq ? (s) => s.service === v : (s) => s.service !== v;
      case 'status_message':
        return eq ? (s) => s.statusMessage === v : (s) => s.statusMessage !== v;
    }
    return undefined;
  }
  if (name === 'duration' && (lit.kind === 'duration' || lit.kind === 'number')) {
    const n = lit.value;
    switch (op) {
      case '>':
        return (s) => s.durationNs > n;
      case '>=':
        return (s) => s.durationNs >= n;
      case '<':
        return (s) => s.durationNs < n;
      case '<=':
        return (s) => s.durationNs <= n;
      case '==':
        return (s) => s.durationNs === n;
      case '!=':
        return (s) => s.durationNs !== n;
    }
  }
  return undefined;
}

function boundGetter(o: BoundField): (span: Span, ctx: Ctx) => Value {
  const get = fieldGetter(o.field);
  return (_s, ctx) => (ctx.bound === undefined ? undefined : get(ctx.bound));
}

function numberTest(op: string, n: number): (v: number | bigint) => boolean {
  switch (op) {
    case '==':
      return (v) => v == n; // eslint-disable-line eqeqeq -- exact number/bigint equality
    case '!=':
      return (v) => v != n; // eslint-disable-line eqeqeq -- exact number/bigint equality
    case '<':
      return (v) => v < n;
    case '<=':
      return (v) => v <= n;
    case '>':
      return (v) => v > n;
    case '>=':
      return (v) => v >= n;
    default:
      return () => false;
  }
}

interface CompiledRegex {
  /** Whether the pattern matches `input`; spends one step per REGEX_CHARS_PER_STEP characters read. */
  test(input: string, budget: Budget): boolean;
}

/**
 * A linear-time regular expression (RE2 semantics): no input can make a rule backtrack for ever.
 * re2js is slower per call than V8's backtracking engine, and attribute values repeat heavily
 * (statements, routes, URLs), so results are remembered per distinct value, boundedly. The budget
 * is charged by input length whether or not the memo answers, so a rule's step count does not
 * depend on which traces came before.
 */
function compileRegex(right: TraceValue | Operand): CompiledRegex {
  if (right.type === 'literal' && (right.kind === 'string' || right.kind === 'enum')) {
    let re: RE2JS;
    try {
      re = RE2JS.compile(right.value);
    } catch {
      // parseRule reports invalid patterns; a compiled rule never gets here with one.
      return { test: () => false };
    }
    const memo = new Map<string, boolean>();
    return {
      test(input: string, budget: Budget): boolean {
        if (input.length >= REGEX_CHARS_PER_STEP) {
          budget.spend(Math.floor(input.length / REGEX_CHARS_PER_STEP));
        }
        if (input.length > REGEX_MEMO_MAX_KEY) {
          return re.test(input);
        }
        let hit = memo.get(input);
        if (hit === undefined) {
          hit = re.test(input);
          if (memo.size >= REGEX_MEMO_SIZE) {
            memo.clear();
          }
          memo.set(input, hit);
        }
        return hit;
      },
    };
  }
  return { test: () => false };
}

/**
 * `child_of(p)`, `parent_of(p)`, `sibling_of(p)` against the one bound span: a comparison of ids,
 * nothing to prepare per binding. (descendant_of / ancestor_of need the trace's ancestry.)
 */
function boundRelation(relation: Relation): SpanPred | undefined {
  switch (relation) {
    case 'child_of':
      return (span, ctx) => ctx.bound !== undefined && span.parentSpanId === ctx.bound.spanId;
    case 'parent_of':
      return (span, ctx) => ctx.bound !== undefined && ctx.bound.parentSpanId === span.spanId;
    case 'sibling_of':
      return (span, ctx) => {
        const b = ctx.bound;
        const id = span.parentSpanId;
        return b !== undefined && b !== span && id !== undefined && b.parentSpanId === id && ctx.ix.span(id) !== undefined;
      };
    default:
      return undefined;
  }
}

/** A function of the trace alone, computed on first use per trace and kept in the trace index. */
function oncePerTrace<T>(fn: (ctx: Ctx) => T): (ctx: Ctx) => T {
  const key = {};
  return (ctx) => ctx.ix.prepared(key, undefined, fn, ctx);
}

function traceExprReadsBound(e: TraceExpr): boolean {
  switch (e.type) {
    case 'and':
    case 'or':
      return traceExprReadsBound(e.left) || traceExprReadsBound(e.right);
    case 'not':
      return traceExprReadsBound(e.operand);
    case 'exists':
      return selectorReadsBound(e.selector);
    case 'all':
      return selectorReadsBound(e.selector) || condReadsBound(e.cond);
    case 'bool':
      return e.value.type === 'boundField';
    case 'compare':
      return traceValueReadsBound(e.left) || traceValueReadsBound(e.right);
  }
}

function traceValueReadsBound(v: TraceValue): boolean {
  switch (v.type) {
    case 'boundField':
      return true;
    case 'count':
    case 'aggregate':
      return selectorReadsBound(v.selector);
    default:
      return false;
  }
}

/** Whether a selector's spans depend on the bound span (then what is prepared from it is per binding). */
function selectorReadsBound(sel: Selector): boolean {
  switch (sel.type) {
    case 'name':
    case 'any':
      return false;
    case 'bound':
      return true;
    case 'where':
      return selectorReadsBound(sel.base) || condReadsBound(sel.cond);
    case 'relation':
    case 'order':
      return selectorReadsBound(sel.base) || selectorReadsBound(sel.other);
  }
}

function condReadsBound(c: Cond): boolean {
  switch (c.type) {
    case 'and':
    case 'or':
      return condReadsBound(c.left) || condReadsBound(c.right);
    case 'not':
      return condReadsBound(c.operand);
    case 'fieldExists':
      return false;
    case 'truthy':
      return c.field.type === 'boundField';
    case 'compare':
      return c.left.type === 'boundField' || c.right.type === 'boundField';
  }
}

/**
 * The other side of a relation, prepared once per evaluation of the trace (per bound span when it
 * reads the binding) and kept in the trace index: the per-span test then costs O(1) or O(log n).
 */
function preparedOther(otherAst: Selector, other: CompiledSelector, build: (members: readonly Span[], ctx: Ctx) => SpanTest): (ctx: Ctx) => SpanTest {
  const key = {};
  const readsBound = selectorReadsBound(otherAst);
  // A selector without refinements is its candidate list: no copy needed (the tests only read it).
  const make = (ctx: Ctx): SpanTest => build(other.candidatePred === undefined ? other.candidates(ctx) : other.list(ctx), ctx);
  return (ctx) => ctx.ix.prepared(key, readsBound ? ctx.bound : undefined, make, ctx);
}

function makeSelector(
  candidates: (ctx: Ctx) => readonly Span[],
  candidatePred: SpanPred | undefined,
): CompiledSelector {
  // Candidates come from the name index, or are all spans, or the bound span, so the hot loops
  // test only the refinements.
  if (candidatePred === undefined) {
    return {
      candidates,
      candidatePred,
      first: (ctx) => candidates(ctx)[0],
      count: (ctx) => candidates(ctx).length,
      list(ctx) {
        const list = candidates(ctx);
        ctx.budget.spend(list.length);
        return list.slice();
      },
    };
  }
  const pred = candidatePred;
  return {
    candidates,
    candidatePred,
    // Steps are spent when a loop ends (or returns): the same count as step by step, without
    // a call per span; a loop over spans whose predicate does no loop of its own is short anyway.
    first(ctx) {
      const list = candidates(ctx);
      for (let i = 0; i < list.length; i++) {
        if (pred(list[i], ctx)) {
          ctx.budget.spend(i + 1);
          return list[i];
        }
      }
      ctx.budget.spend(list.length);
      return undefined;
    },
    count(ctx) {
      const list = candidates(ctx);
      let n = 0;
      for (let i = 0; i < list.length; i++) {
        if (pred(list[i], ctx)) {
          n++;
        }
      }
      ctx.budget.spend(list.length);
      return n;
    },
    list(ctx) {
      const list = candidates(ctx);
      const out: Span[] = [];
      for (let i = 0; i < list.length; i++) {
        if (pred(list[i], ctx)) {
          out.push(list[i]);
        }
      }
      ctx.budget.spend(list.length);
      return out;
    },
  };
}

// ------------------------------------------------------------ trigger names

/**
 * Span names of which one must occur for `e` to hold, or undefined when none can be derived.
 * Sound by construction: only positive existence (exists, count ≥ 1, aggregates, which have no
 * value over an empty set) contributes.
 */
function requiredNames(e: TraceExpr): string[] | undefined {
  switch (e.type) {
    case 'and':
      return shortest(requiredNames(e.left), requiredNames(e.right));
    case 'or': {
      const l = requiredNames(e.left);
      const r = requiredNames(e.right);
      return l && r ? [...new Set([...l, ...r])] : undefined;
    }
    case 'exists':
      return selectorNames(e.selector);
    case 'compare': {
      const fromValue = (v: TraceValue): string[] | undefined => (v.type === 'aggregate' ? selectorNames(v.selector) : undefined);
      let names = shortest(fromValue(e.left), fromValue(e.right));
      if (e.left.type === 'count' && e.right.type === 'literal' && e.right.kind === 'number' && countImpliesPresence(e.op, e.right.value)) {
        names = shortest(names, selectorNames(e.left.selector));
      }
      return names;
    }
    default:
      return undefined;
  }
}

function countImpliesPresence(op: string, n: number): boolean {
  return (op === '>' && n >= 0) || (op === '>=' && n >= 1) || (op === '==' && n >= 1);
}

function selectorNames(sel: Selector): string[] | undefined {
  switch (sel.type) {
    case 'name':
      return [sel.name];
    case 'any':
    case 'bound':
      return undefined;
    default:
      return selectorNames(sel.base);
  }
}

function shortest(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (a === undefined) {
    return b;
  }
  if (b === undefined) {
    return a;
  }
  return b.length < a.length ? b : a;
}

function ruleTriggerNames(ast: RuleAst): string[] | undefined {
  if (ast.type === 'expression') {
    return requiredNames(ast.body);
  }
  const fromBinding = ast.binding ? selectorNames(ast.binding.selector) : undefined;
  const fromWhen = ast.when ? requiredNames(ast.when) : undefined;
  return shortest(fromBinding, fromWhen);
}

// ------------------------------------------------------------ the trigger (applicability)

/** A clause with its negative parts dropped, and whether anything was dropped or weakened. */
interface Positive<T> {
  node: T | undefined;
  weakened: boolean;
}

/** A span condition's positive part: `not …` dropped, `and` keeps what is left, `or` needs both sides. */
function positiveCond(c: Cond): Positive<Cond> {
  switch (c.type) {
    case 'and': {
      const l = positiveCond(c.left);
      const r = positiveCond(c.right);
      if (l.node && r.node) {
        return l.weakened || r.weakened ? { node: { ...c, left: l.node, right: r.node }, weakened: true } : { node: c, weakened: false };
      }
      return { node: l.node ?? r.node, weakened: true };
    }
    case 'or': {
      const l = positiveCond(c.left);
      const r = positiveCond(c.right);
      if (l.node && r.node) {
        return l.weakened || r.weakened ? { node: { ...c, left: l.node, right: r.node }, weakened: true } : { node: c, weakened: false };
      }
      return { node: undefined, weakened: true };
    }
    case 'not':
      return { node: undefined, weakened: true };
    default:
      return { node: c, weakened: false };
  }
}

/** A selector with the positive part of each `where` along its base chain (relations are kept as written). */
function positiveSelector(sel: Selector): Positive<Selector> & { node: Selector } {
  switch (sel.type) {
    case 'where': {
      const base = positiveSelector(sel.base);
      const cond = positiveCond(sel.cond);
      if (cond.node === undefined) {
        return { node: base.node, weakened: true };
      }
      return base.weakened || cond.weakened ? { node: { ...sel, base: base.node, cond: cond.node }, weakened: true } : { node: sel, weakened: false };
    }
    case 'relation':
    case 'order': {
      const base = positiveSelector(sel.base);
      return base.weakened ? { node: { ...sel, base: base.node }, weakened: true } : { node: sel, weakened: false };
    }
    default:
      return { node: sel, weakened: false };
  }
}

/** The positive span terms of a trace expression (see compileTrigger). */
function positiveExpr(e: TraceExpr): Positive<TraceExpr> {
  switch (e.type) {
    case 'and': {
      const l = positiveExpr(e.left);
      const r = positiveExpr(e.right);
      if (l.node && r.node) {
        return l.weakened || r.weakened ? { node: { ...e, left: l.node, right: r.node }, weakened: true } : { node: e, weakened: false };
      }
      return { node: l.node ?? r.node, weakened: true };
    }
    case 'or': {
      const l = positiveExpr(e.left);
      const r = positiveExpr(e.right);
      if (l.node && r.node) {
        return l.weakened || r.weakened ? { node: { ...e, left: l.node, right: r.node }, weakened: true } : { node: e, weakened: false };
      }
      return { node: undefined, weakened: true };
    }
    case 'exists': {
      const sel = positiveSelector(e.selector);
      return sel.weakened ? { node: { ...e, selector: sel.node }, weakened: true } : { node: e, weakened: false };
    }
    case 'compare': {
      // The spans a comparison aggregates, or counts when the count implies one: they must exist.
      const present: Selector[] = [];
      for (const v of [e.left, e.right]) {
        if (v.type === 'aggregate') {
          present.push(positiveSelector(v.selector).node);
        }
      }
      if (e.left.type === 'count' && e.right.type === 'literal' && e.right.kind === 'number' && countImpliesPresence(e.op, e.right.value)) {
        present.push(positiveSelector(e.left.selector).node);
      }
      let node: TraceExpr | undefined;
      for (const selector of present) {
        const exists: TraceExpr = { type: 'exists', selector, loc: e.loc };
        node = node === undefined ? exists : { type: 'and', left: node, right: exists, loc: e.loc };
      }
      return { node, weakened: true };
    }
    default:
      return { node: undefined, weakened: true };
  }
}

/** A predicate for a trigger clause, reusing the closures already compiled for the nodes it shares with the rule. */
function compileReusing(e: TraceExpr, c: Compiler): TracePred {
  const compiled = c.parts.traceExprs.get(e);
  if (compiled !== undefined) {
    return compiled;
  }
  switch (e.type) {
    case 'and': {
      const l = compileReusing(e.left, c);
      const r = compileReusing(e.right, c);
      return (ctx) => l(ctx) && r(ctx);
    }
    case 'or': {
      const l = compileReusing(e.left, c);
      const r = compileReusing(e.right, c);
      return (ctx) => l(ctx) || r(ctx);
    }
    case 'exists': {
      const s = c.selector(e.selector);
      return (ctx) => s.first(ctx) !== undefined;
    }
    default:
      return c.traceExpr(e);
  }
}

/**
 * Whether the rule's trigger holds on the trace (whether the trace is evidence for the rule's
 * compliance controls). Undefined: it holds on every trace.
 *
 * - A `when` rule: its when clause as written, negations included; with a binding, for some span
 *   of the binding's selector (refinements included).
 * - An expression rule: its positive span terms. Each `trace.has(S)` term is kept with the
 *   positive part of S's `where` conditions (`not …` dropped, `and` keeps what is left, an `or`
 *   needs both sides); terms are joined as the body joins them, an `or` needing both sides; a
 *   comparison contributes the existence of the spans it aggregates, or counts when the count
 *   implies one (`count(S) > 0`, `>= 1`, `== 2`). Terms under `not`, `all(…)` (true without
 *   spans), trace fields and counts that hold at zero contribute nothing. So
 *   `trace.has(A).where(x > 1) and not trace.has(B)` triggers on `trace.has(A).where(x > 1)`,
 *   `S.where(c and not d)` on `S.where(c)`, `count(S) > 3` on `trace.has(S)`.
 * - An expression rule with no positive span term, or whose positive terms are the whole body
 *   (`trace.has(error.span)`, a pure prohibition: nothing separates "applies" from "fails"),
 *   applies to every trace.
 *
 * Whenever a rule fires its trigger holds, so a trace a rule fires on is always one it applies to.
 */
function compileTrigger(ast: RuleAst, c: Compiler, when: TracePred | undefined): TracePred | undefined {
  if (ast.type === 'expression') {
    const positive = positiveExpr(ast.body);
    return positive.node === undefined || !positive.weakened ? undefined : compileReusing(positive.node, c);
  }
  const binding = c.parts.bindingSelector;
  if (binding === undefined) {
    return when;
  }
  const pred = binding.candidatePred;
  return (ctx) => {
    try {
      for (const span of binding.candidates(ctx)) {
        ctx.budget.spend(1);
        ctx.bound = undefined;
        if (pred !== undefined && !pred(span, ctx)) {
          continue;
        }
        ctx.bound = span;
        if (when === undefined || when(ctx)) {
          return true;
        }
      }
      return false;
    } finally {
      ctx.bound = undefined;
    }
  };
}

// ------------------------------------------------------------ the compiled rule

/** The compiled form evaluate.ts runs. */
export interface RuleProgram {
  /** Without a binding: does the rule fire on the trace? */
  fires?: TracePred;
  /** With a binding: the candidate spans and, per bound span, does the rule fire? */
  binding?: { selector: CompiledSelector; fires: TracePred };
  /** Spans that made the rule fire (called only when it fired). */
  matched(ctx: Ctx): Span[];
  message: MessageTemplate;
}

export class CompiledRuleImpl implements CompiledRule {
  readonly triggerNames?: readonly string[];
  private pushdownCache: Pushdown | undefined;

  constructor(
    readonly definition: RuleDefinition,
    readonly ast: RuleAst,
    readonly program: RuleProgram,
    readonly parts: RuleParts,
    /**
     * Does the rule's trigger hold on the trace (compileTrigger)? Undefined: on every trace. Run
     * only when asked; kept off `program` so every program keeps the shape the hot path reads.
     */
    readonly trigger: TracePred | undefined,
  ) {
    const names = ruleTriggerNames(ast);
    if (names !== undefined) {
      this.triggerNames = names;
    }
  }

  get pushdown(): Pushdown {
    if (this.pushdownCache === undefined) {
      this.pushdownCache = pushdownRule(this.ast);
    }
    return this.pushdownCache;
  }
}

/**
 * Spans behind a clause that held, for matchedSpanIds: positive `exists` terms, the spans counted
 * or aggregated, the spans of an `all(…)` that held. Terms under `not` made the rule fire by
 * their absence and contribute nothing.
 */
function matchedCollector(e: TraceExpr | undefined, c: Compiler): (ctx: Ctx, out: Set<Span>) => void {
  if (e === undefined) {
    return () => {};
  }
  switch (e.type) {
    case 'and':
    case 'or': {
      const l = matchedCollector(e.left, c);
      const r = matchedCollector(e.right, c);
      const lHolds = c.parts.traceExprs.get(e.left)!;
      const rHolds = c.parts.traceExprs.get(e.right)!;
      return (ctx, out) => {
        if (lHolds(ctx)) {
          l(ctx, out);
        }
        if (rHolds(ctx)) {
          r(ctx, out);
        }
      };
    }
    case 'exists':
    case 'all': {
      const spans = c.spansOf(e.selector);
      return (ctx, out) => {
        for (const span of spans(ctx)) {
          out.add(span);
        }
      };
    }
    case 'compare': {
      const sels: Array<(ctx: Ctx) => readonly Span[]> = [];
      for (const v of [e.left, e.right]) {
        if (v.type === 'count' || v.type === 'aggregate') {
          sels.push(c.spansOf(v.selector));
        }
      }
      return (ctx, out) => {
        for (const spans of sels) {
          for (const span of spans(ctx)) {
            out.add(span);
          }
        }
      };
    }
    default:
      return () => {};
  }
}

function compileProgram(definition: RuleDefinition, ast: RuleAst): CompiledRuleImpl {
  const c = new Compiler(ast.type === 'when' && ast.binding !== undefined);
  const message = compileMessage(definition);
  if (ast.type === 'expression') {
    const fires = c.traceExpr(ast.body);
    const collect = matchedCollector(ast.body, c);
    const program: RuleProgram = {
      fires,
      matched: (ctx) => {
        const out = new Set<Span>();
        collect(ctx, out);
        return [...out];
      },
      message,
    };
    return new CompiledRuleImpl(definition, ast, program, c.parts, compileTrigger(ast, c, undefined));
  }
  const when = ast.when ? c.traceExpr(ast.when) : undefined;
  const always = ast.always ? c.traceExpr(ast.always) : undefined;
  const never = ast.never ? c.traceExpr(ast.never) : undefined;
  // Fires when `when` holds and (`always` does not hold, or `never` holds).
  const fires: TracePred = (ctx) => {
    if (when !== undefined && !when(ctx)) {
      return false;
    }
    return (always !== undefined && !always(ctx)) || (never !== undefined && never(ctx));
  };
  const collectWhen = matchedCollector(ast.when, c);
  const collectNever = matchedCollector(ast.never, c);
  const matched = (ctx: Ctx): Span[] => {
    const out = new Set<Span>();
    if (ctx.bound !== undefined) {
      out.add(ctx.bound);
    }
    collectWhen(ctx, out);
    if (never !== undefined && never(ctx)) {
      collectNever(ctx, out);
    }
    return [...out];
  };
  const program: RuleProgram = { matched, message };
  if (ast.binding) {
    const selector = c.selector(ast.binding.selector);
    c.parts.bindingSelector = selector;
    program.binding = { selector, fires };
  } else {
    program.fires = fires;
  }
  return new CompiledRuleImpl(definition, ast, program, c.parts, compileTrigger(ast, c, when));
}

/** Compiles an already parsed AST (the parser has checked it). */
export function compileAst(definition: RuleDefinition, ast: RuleAst): CompiledRuleImpl {
  return compileProgram(definition, ast);
}

/** Parses, checks and compiles a rule. Diagnostics instead of a rule when the text has errors. */
export function compileRule(definition: RuleDefinition): CompileResult {
  const parsed = parseRule(definition.condition);
  if (parsed.ast === undefined) {
    return { diagnostics: parsed.diagnostics };
  }
  return { rule: compileProgram(definition, parsed.ast), diagnostics: parsed.diagnostics };
}
