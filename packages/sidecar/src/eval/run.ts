/**
 * One trace against a list of compiled rules, under the per-trace evaluation budget. The same
 * code runs on an evaluation worker and, with EVAL_WORKERS=0, on the main thread.
 *
 * JavaScript cannot interrupt a running function, so the budget is a wall-clock deadline checked
 * between rules: a rule not started before the deadline is skipped (reason `time-budget`); a rule that
 * runs past it finishes and counts. A rule that never finishes is the pool's business: `onRule`
 * reports which rule is running, and the pool terminates a worker stuck in one past the hard limit.
 */
import { CompiledRule, evaluateTrace, Trace, Violation } from '@betrace/evaluator';

/**
 * Why a rule was not evaluated on a trace: the trace's time budget was spent before it started
 * (`time-budget`; `step-budget` is the evaluator's own step limit, the same names as its
 * RuleSkipReason), it held its worker past the hard limit (`hard-limit`), it threw (`error`), or
 * its worker crashed on the trace twice (`worker-crash`).
 */
export type SkipReason = 'time-budget' | 'step-budget' | 'hard-limit' | 'error' | 'worker-crash';

export interface SkippedRule {
  ruleId: string;
  reason: SkipReason;
  /** The error's message (reason `error`). */
  detail?: string;
}

export interface RuleRun {
  violations: Violation[];
  /** Ids of the rules that ran to their end: only these count as checked (evidence, metrics). */
  evaluated: string[];
  skipped: SkippedRule[];
  durationMs: number;
}

export function runRules(
  rules: readonly CompiledRule[],
  trace: Trace,
  budgetMs: number,
  onRule?: (index: number) => void,
  clock: () => number = () => performance.now(),
): RuleRun {
  const start = clock();
  const run: RuleRun = { violations: [], evaluated: [], skipped: [], durationMs: 0 };
  for (let i = 0; i < rules.length; i++) {
    const ruleId = rules[i].definition.id;
    if (clock() - start >= budgetMs) {
      run.skipped.push({ ruleId, reason: 'time-budget' });
      continue;
    }
    onRule?.(i);
    let failed: unknown;
    let threw = false;
    // One rule per call, so the deadline can be checked between rules. The per-trace name index
    // is rebuilt per call (one pass over the spans); an evaluator-side budget would remove that.
    const found = evaluateTrace([rules[i]], trace, {
      onRuleError: (_id, e) => {
        threw = true;
        failed = e;
      },
    });
    if (threw) {
      run.skipped.push({ ruleId, reason: 'error', detail: failed instanceof Error ? failed.message : String(failed) });
      continue;
    }
    run.violations.push(...found);
    run.evaluated.push(ruleId);
  }
  run.durationMs = clock() - start;
  return run;
}
