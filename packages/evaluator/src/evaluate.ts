/**
 * Evaluates compiled rules over one normalized trace. The per-trace index is built once and
 * shared by every rule; rules whose trigger span names are absent are skipped without running.
 */
import type { CompiledRuleImpl, Ctx } from './compile';
import type { Span, Trace } from './model';
import { indexOf, TraceIndex } from './traceIndex';
import type { CompiledRule, Violation } from './types';

export interface EvaluateOptions {
  /** Called when a rule throws at run time (it should not); the other rules still run. */
  onRuleError?: (ruleId: string, error: unknown) => void;
}

export function evaluateTrace(rules: readonly CompiledRule[], trace: Trace, options?: EvaluateOptions): Violation[] {
  const ix = indexOf(trace);
  const out: Violation[] = [];
  for (const rule of rules) {
    if (!canFire(rule, ix)) {
      continue;
    }
    try {
      evaluateRule(rule as CompiledRuleImpl, ix, out);
    } catch (e) {
      options?.onRuleError?.(rule.definition.id, e);
    }
  }
  return out;
}

export function canFire(rule: CompiledRule, ix: TraceIndex): boolean {
  const names = rule.triggerNames;
  if (names === undefined) {
    return true;
  }
  for (let i = 0; i < names.length; i++) {
    if (ix.byName.has(names[i])) {
      return true;
    }
  }
  return false;
}

/** Appends the rule's violations on the indexed trace to `out`. */
export function evaluateRule(rule: CompiledRuleImpl, ix: TraceIndex, out: Violation[]): void {
  const program = rule.program;
  if (program.binding === undefined) {
    const ctx: Ctx = { ix, bound: undefined };
    if (program.fires!(ctx)) {
      out.push(violation(rule, ctx, undefined));
    }
    return;
  }
  const { selector, fires } = program.binding;
  const ctx: Ctx = { ix, bound: undefined };
  for (const span of selector.candidates(ctx)) {
    ctx.bound = undefined;
    if (!selector.member(span, ctx)) {
      continue;
    }
    ctx.bound = span;
    if (fires(ctx)) {
      out.push(violation(rule, { ix, bound: span }, span));
    }
  }
}

function violation(rule: CompiledRuleImpl, ctx: Ctx, bound: Span | undefined): Violation {
  const def = rule.definition;
  const ids = new Set<string>();
  for (const span of rule.program.matched(ctx)) {
    ids.add(span.spanId);
  }
  const v: Violation = {
    ruleId: def.id,
    traceId: ctx.ix.trace.traceId,
    matchedSpanIds: [...ids].sort(),
    message: rule.program.message({
      trace: ctx.ix.trace,
      root: ctx.ix.root,
      bound,
      variable: rule.ast.type === 'when' ? rule.ast.binding?.name : undefined,
    }),
    severity: def.severity,
  };
  if (bound !== undefined) {
    v.boundSpanId = bound.spanId;
  }
  return v;
}
