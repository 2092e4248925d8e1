/**
 * Rule evaluations that did not complete on a trace: the evaluator's budget stopped them
 * (`onRuleSkipped`) or the rule threw (`onRuleError`). Such a rule is *not evaluated* on that
 * trace — never a pass — and says so: a counter, and per tenant and rule a count by reason and the
 * latest skipped trace, kept in the store (the `rule_skips` table of its migrations) so a restart
 * keeps the marker the API and the plugin show.
 */
import type { SqlDatabase, SqlStatement } from './db/sql';
import type { Metrics } from './metrics';

export type RuleSkipReason = 'step-budget' | 'time-budget' | 'error';

/** Every reason, so that each rule's series can start at 0 (an `increase()` alert then sees the first skip). */
export const RULE_SKIP_REASONS: readonly RuleSkipReason[] = ['step-budget', 'time-budget', 'error'];

/** One rule's skipped evaluations, as the API returns them (`skipped` of a rule). */
export interface RuleSkipView {
  /** Traces on which the rule was not evaluated, all reasons together. */
  count: number;
  byReason: Partial<Record<RuleSkipReason, number>>;
  /** The latest skip (ISO 8601), its reason and its trace; absent while count is 0. */
  lastSkippedAt?: string;
  lastReason?: RuleSkipReason;
  lastTraceId?: string;
}

interface SkipRow {
  rule_id: string;
  reason: RuleSkipReason;
  count: number;
  last_at: number;
  last_trace_id: string;
}

const COLUMNS = 'rule_id, reason, count, last_at, last_trace_id';

export class RuleSkips {
  private readonly upsert: SqlStatement;
  private readonly ofRule: SqlStatement;
  private readonly ofTenant: SqlStatement;

  constructor(
    db: SqlDatabase,
    private readonly counter: Metrics['ruleSkipped'],
  ) {
    // The latest trace moves only forward in time: a record with an older `at` (a replay of old
    // traces) counts, but does not replace a newer last skip.
    this.upsert = db.prepare(
      `INSERT INTO rule_skips (tenant, rule_id, reason, count, last_at, last_trace_id) VALUES (@tenant, @ruleId, @reason, 1, @at, @traceId)
       ON CONFLICT (tenant, rule_id, reason) DO UPDATE SET
         count = rule_skips.count + 1,
         last_trace_id = CASE WHEN excluded.last_at >= rule_skips.last_at THEN excluded.last_trace_id ELSE rule_skips.last_trace_id END,
         last_at = MAX(rule_skips.last_at, excluded.last_at)`,
    );
    this.ofRule = db.prepare(`SELECT ${COLUMNS} FROM rule_skips WHERE tenant = ? AND rule_id = ?`);
    this.ofTenant = db.prepare(`SELECT ${COLUMNS} FROM rule_skips WHERE tenant = ?`);
  }

  /**
   * Records that `ruleId` was not evaluated on `traceId` (at: epoch ms). Plain statements: the
   * caller holds the evaluation's transaction, so a trace evaluated again after a crash is not
   * counted twice. The counter counts at once; it does not survive a restart anyway.
   */
  record(tenant: string, ruleId: string, reason: RuleSkipReason, traceId: string, at: number): void {
    this.upsert.run({ tenant, ruleId, reason, at, traceId });
    this.counter.inc({ tenant, rule: ruleId, reason });
  }

  /** One rule's skips; `{ count: 0, byReason: {} }` for a rule never skipped (or another tenant's). */
  of(tenant: string, ruleId: string): RuleSkipView {
    return toView(this.ofRule.all(tenant, ruleId) as SkipRow[]);
  }

  /** Every skipped rule of a tenant in one query, by rule id (the rules list). */
  ofAll(tenant: string): Map<string, RuleSkipView> {
    const byRule = new Map<string, SkipRow[]>();
    for (const row of this.ofTenant.all(tenant) as SkipRow[]) {
      const rows = byRule.get(row.rule_id) ?? [];
      rows.push(row);
      byRule.set(row.rule_id, rows);
    }
    return new Map([...byRule].map(([id, rows]) => [id, toView(rows)]));
  }
}

function toView(rows: readonly SkipRow[]): RuleSkipView {
  const view: RuleSkipView = { count: 0, byReason: {} };
  let last: SkipRow | undefined;
  for (const row of rows) {
    view.count += row.count;
    view.byReason[row.reason] = row.count;
    if (last === undefined || row.last_at > last.last_at) {
      last = row;
    }
  }
  if (last !== undefined) {
    view.lastSkippedAt = new Date(last.last_at).toISOString();
    view.lastReason = last.reason;
    view.lastTraceId = last.last_trace_id;
  }
  return view;
}
