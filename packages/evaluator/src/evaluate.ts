/**
 * Evaluates compiled rules over one normalized trace. The per-trace index is built once and
 * shared by every rule; rules whose trigger span names are absent are skipped without running.
 * Each rule runs within the evaluation budget (budget.ts); a rule that runs out is reported
 * through onRuleSkipped instead of holding up the others. On request (triggerRuleIds), it also
 * says which rules' triggers held: a trace is evidence for a rule's compliance controls only then.
 */
import { Budget, BudgetExceeded, BudgetOptions, RuleSkipReason } from './budget';
import type { CompiledRuleImpl, Ctx } from './compile';
import type { Span, Trace } from './model';
import { TraceIndex } from './traceIndex';
import type { CompiledRule, Violation } from './types';

export interface EvaluateOptions extends BudgetOptions {
  /** Called when a rule throws at run time (it should not); the other rules still run. */
  onRuleError?: (ruleId: string, error: unknown) => void;
  /**
   * Called when a rule was not evaluated to the end on this trace because it ran out of steps
   * (`step-budget`) or the trace's time budget ran out (`time-budget`, then for this and every
   * later rule). The rule's result on the trace is "not evaluated", not a pass: violations it
   * found before it stopped (for earlier bound spans) are returned, further ones may be missing.
   */
  onRuleSkipped?: (ruleId: string, reason: RuleSkipReason) => void;
  /**
   * Rules (by id) to report applicability for: whether the rule's trigger held on the trace (the
   * `when` clause, for some bound span with a binding; for an expression rule, its positive span
   * terms; see compile.ts compileTrigger). Only these pay for it: others run as without it.
   */
  triggerRuleIds?: ReadonlySet<string>;
  /**
   * Called once per rule of triggerRuleIds evaluated to its end whose trigger held on the trace
   * (always for a rule that fired). Not called for the others: the trace is "not applicable" to them.
   */
  onTriggered?: (ruleId: string) => void;
  /**
   * Times some rules on this trace (rule health's sampled cost). The evaluator has no clock of its
   * own (it runs in browsers too): `clock` is the caller's, in any unit, and `onCost` gets the
   * difference. `sampled(i)` says whether the rule at index i of `rules` is timed; only rules
   * evaluated to their end report a cost (a rule the budget stopped reports its skip instead).
   */
  cost?: RuleCostSampling;
}

export interface RuleCostSampling {
  sampled: (index: number) => boolean;
  clock: () => number;
  onCost: (ruleId: string, elapsed: number) => void;
}

export function evaluateTrace(rules: readonly CompiledRule[], trace: Trace, options?: EvaluateOptions): Violation[] {
  const ix = new TraceIndex(trace);
  const budget = new Budget(options);
  const ctx: Ctx = { ix, bound: undefined, budget };
  const out: Violation[] = [];
  const wanted = options?.onTriggered === undefined ? undefined : options.triggerRuleIds;
  const cost = options?.cost;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const started = cost !== undefined && cost.sampled(i) ? cost.clock() : undefined;
    if (!canFire(rule, ix)) {
      // It cannot trigger either (its trigger needs the same span names), unless it applies to every trace.
      if (wanted !== undefined && wanted.has(rule.definition.id) && (rule as CompiledRuleImpl).trigger === undefined) {
        options!.onTriggered!(rule.definition.id);
      }
      if (started !== undefined) {
        cost!.onCost(rule.definition.id, cost!.clock() - started);
      }
      continue;
    }
    try {
      budget.startRule();
      const before = out.length;
      evaluateRule(rule as CompiledRuleImpl, ctx, out);
      if (wanted !== undefined && wanted.has(rule.definition.id) && (out.length > before || triggered(rule as CompiledRuleImpl, ctx))) {
        options!.onTriggered!(rule.definition.id);
      }
      if (started !== undefined) {
        cost!.onCost(rule.definition.id, cost!.clock() - started);
      }
    } catch (e) {
      if (e instanceof BudgetExceeded) {
        options?.onRuleSkipped?.(rule.definition.id, e.reason);
      } else {
        options?.onRuleError?.(rule.definition.id, e);
      }
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

/** Whether the rule's trigger holds on the indexed trace (within the rule's budget). */
export function triggered(rule: CompiledRuleImpl, ctx: Ctx): boolean {
  const trigger = rule.trigger;
  ctx.bound = undefined;
  return trigger === undefined || trigger(ctx);
}

/** Appends the rule's violations on the indexed trace to `out`. `ctx` is reused across rules. */
export function evaluateRule(rule: CompiledRuleImpl, ctx: Ctx, out: Violation[]): void {
  const program = rule.program;
  const ix = ctx.ix;
  ctx.bound = undefined;
  if (program.binding === undefined) {
    if (program.fires!(ctx)) {
      out.push(violation(rule, ctx, undefined));
    }
    return;
  }
  const { selector, fires } = program.binding;
  const pred = selector.candidatePred;
  for (const span of selector.candidates(ctx)) {
    ctx.budget.spend(1);
    ctx.bound = undefined;
    if (pred !== undefined && !pred(span, ctx)) {
      continue;
    }
    ctx.bound = span;
    if (fires(ctx)) {
      out.push(violation(rule, { ix, bound: span, budget: ctx.budget }, span));
    }
  }
  ctx.bound = undefined;
}

function violation(rule: CompiledRuleImpl, ctx: Ctx, bound: Span | undefined): Violation {
  const def = rule.definition;
  const ids = rule.program.matched(ctx).map((s) => s.spanId);
  ids.sort();
  let unique = 0;
  for (let i = 0; i < ids.length; i++) {
    if (i === 0 || ids[i] !== ids[i - 1]) {
      ids[unique++] = ids[i];
    }
  }
  ids.length = unique;
  const v: Violation = {
    ruleId: def.id,
    traceId: ctx.ix.trace.traceId,
    matchedSpanIds: ids,
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
