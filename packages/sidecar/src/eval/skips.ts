/**
 * Per rule: how often it was not evaluated on a trace, and why (time-budget, hard-limit, error, worker-crash), so
 * GET /api/v1/rules shows a rule that is too slow for its traces next to the rule itself. Kept in
 * memory since the start (as the betrace_rule_skipped_total counter is); the counter is the history.
 */
import type { SkipReason } from './run';

export interface RuleSkipView {
  count: number;
  byReason: Partial<Record<SkipReason, number>>;
  lastSkippedAt?: string;
  lastReason?: SkipReason;
}

interface Entry {
  count: number;
  byReason: Partial<Record<SkipReason, number>>;
  lastAt: number;
  lastReason: SkipReason;
}

export class RuleSkips {
  private readonly entries = new Map<string, Entry>();

  record(tenant: string, ruleId: string, reason: SkipReason, at: number): void {
    const key = `${tenant}\u0000${ruleId}`;
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { count: 0, byReason: {}, lastAt: at, lastReason: reason };
      this.entries.set(key, e);
    }
    e.count++;
    e.byReason[reason] = (e.byReason[reason] ?? 0) + 1;
    e.lastAt = at;
    e.lastReason = reason;
  }

  /** The rule's skips since the start; `{ count: 0, byReason: {} }` for a rule never skipped. */
  of(tenant: string, ruleId: string): RuleSkipView {
    const e = this.entries.get(`${tenant}\u0000${ruleId}`);
    if (e === undefined) {
      return { count: 0, byReason: {} };
    }
    return { count: e.count, byReason: { ...e.byReason }, lastSkippedAt: new Date(e.lastAt).toISOString(), lastReason: e.lastReason };
  }
}
