/**
 * Why a rule did or did not fire on a trace: the clause tree with each clause's outcome,
 * the spans each selector matched and the values counts and aggregates computed. It re-runs
 * the very closures evaluation runs (compile.ts keeps them per AST node), so the explanation
 * cannot disagree with evaluateTrace.
 */
import type { TraceExpr, TraceValue } from './ast';
import { Budget, BudgetExceeded, BudgetOptions } from './budget';
import type { CompiledRuleImpl, Ctx } from './compile';
import { evaluateRule } from './evaluate';
import type { Trace } from './model';
import { LineMap } from './positions';
import { TraceIndex } from './traceIndex';
import type { BindingExplanation, ClauseExplanation, CompiledRule, Explanation, Violation } from './types';
import type { Value } from './values';

/**
 * Explains one rule on one trace. Evaluation and explanation each get the rule's step budget
 * (`options` as for evaluateTrace; the time budget spans both): when one runs out, the answer says
 * so in `incomplete` instead of running on.
 */
export function explainRule(rule: CompiledRule, trace: Trace, options?: BudgetOptions): Explanation {
  const impl = rule as CompiledRuleImpl;
  const ix = new TraceIndex(trace);
  const budget = new Budget(options);
  const violations: Violation[] = [];
  const base: Explanation = {
    ruleId: impl.definition.id,
    traceId: trace.traceId,
    fired: false,
    violations,
    clauses: [],
  };
  try {
    evaluateRule(impl, { ix, bound: undefined, budget }, violations);
  } catch (e) {
    if (e instanceof BudgetExceeded) {
      return { ...base, fired: violations.length > 0, incomplete: { stage: 'evaluation', reason: e.reason } };
    }
    throw e;
  }
  base.fired = violations.length > 0;
  try {
    budget.startRule();
    explainClauses(impl, ix, budget, violations, base);
  } catch (e) {
    if (e instanceof BudgetExceeded) {
      delete base.bindings;
      return { ...base, clauses: [], incomplete: { stage: 'explanation', reason: e.reason } };
    }
    throw e;
  }
  return base;
}

function explainClauses(impl: CompiledRuleImpl, ix: TraceIndex, budget: Budget, violations: Violation[], base: Explanation): void {
  const lines = new LineMap(impl.definition.condition);
  const explainer = new Explainer(impl, lines);
  const ast = impl.ast;
  const ctx: Ctx = { ix, bound: undefined, budget };
  if (ast.type === 'expression') {
    base.clauses = [explainer.clause(ast.body, ctx, 'expression')];
    return;
  }
  if (ast.binding === undefined) {
    base.clauses = explainer.whenClauses(ctx);
    return;
  }
  const selector = impl.parts.bindingSelector!;
  const candidates = selector.list(ctx);
  base.clauses = [
    {
      ...explainer.position(ast.binding.loc),
      kind: 'binding',
      text: lines.text(ast.binding.loc),
      held: candidates.length > 0,
      matchedSpanIds: candidates.map((s) => s.spanId).sort(),
      value: `${candidates.length} span(s) bound to ${ast.binding.name}`,
    },
  ];
  const firedIds = new Set(violations.map((v) => v.boundSpanId));
  base.bindings = candidates.map(
    (span): BindingExplanation => ({
      spanId: span.spanId,
      spanName: span.name,
      fired: firedIds.has(span.spanId),
      clauses: explainer.whenClauses({ ix, bound: span, budget }),
    }),
  );
}

class Explainer {
  constructor(
    private readonly rule: CompiledRuleImpl,
    private readonly lines: LineMap,
  ) {}

  position(loc: { start: number; end: number }) {
    const start = this.lines.position(loc.start);
    const end = this.lines.position(loc.end);
    return { startLine: start.line, startColumn: start.column, endLine: end.line, endColumn: end.column };
  }

  whenClauses(ctx: Ctx): ClauseExplanation[] {
    const ast = this.rule.ast;
    if (ast.type !== 'when') {
      return [];
    }
    const out: ClauseExplanation[] = [];
    if (ast.when) {
      out.push(this.clause(ast.when, ctx, 'when'));
    }
    if (ast.always) {
      out.push(this.clause(ast.always, ctx, 'always'));
    }
    if (ast.never) {
      out.push(this.clause(ast.never, ctx, 'never'));
    }
    return out;
  }

  clause(e: TraceExpr, ctx: Ctx, kind?: string): ClauseExplanation {
    const holds = this.rule.parts.traceExprs.get(e);
    const c: ClauseExplanation = {
      ...this.position(e.loc),
      kind: kind ?? e.type,
      text: this.lines.text(e.loc),
      held: holds !== undefined && holds(ctx),
    };
    switch (e.type) {
      case 'and':
      case 'or':
        c.children = [this.clause(e.left, ctx), this.clause(e.right, ctx)];
        break;
      case 'not':
        c.children = [this.clause(e.operand, ctx)];
        break;
      case 'exists':
      case 'all': {
        const s = this.rule.parts.selectors.get(e.selector);
        if (s) {
          c.matchedSpanIds = s
            .list(ctx)
            .map((x) => x.spanId)
            .sort();
        }
        break;
      }
      case 'compare': {
        c.value = `${this.value(e.left, ctx)} ${e.op} ${this.value(e.right, ctx)}`;
        const ids: string[] = [];
        for (const v of [e.left, e.right]) {
          if (v.type === 'count' || v.type === 'aggregate') {
            const s = this.rule.parts.selectors.get(v.selector);
            s?.list(ctx).forEach((x) => ids.push(x.spanId));
          }
        }
        if (ids.length > 0) {
          c.matchedSpanIds = [...new Set(ids)].sort();
        }
        break;
      }
      case 'bool':
        c.value = show(this.rule.parts.values.get(e.value)?.(ctx));
        break;
    }
    if (kind !== undefined && kind !== e.type && c.children === undefined) {
      // A top-level clause that is a single term: keep its own kind visible as a child.
      c.children = [{ ...c, kind: e.type }];
    }
    return c;
  }

  private value(v: TraceValue, ctx: Ctx): string {
    const get = this.rule.parts.values.get(v);
    return get ? show(get(ctx)) : this.lines.text(v.loc);
  }
}

function show(v: Value): string {
  if (v === undefined) {
    return '(no value)';
  }
  if (typeof v === 'string') {
    return JSON.stringify(v);
  }
  if (typeof v === 'bigint') {
    return v.toString();
  }
  if (Array.isArray(v)) {
    return `[${v.map((x) => show(x)).join(', ')}]`;
  }
  return String(v);
}
