/**
 * Rule health over time (docs/rule-health.md): per tenant, rule and UTC hour, the traces each
 * rule was evaluated on to their end, those its trigger held on, those it violated, those the
 * budget stopped it on, and its sampled cost. Counting is on the hot path (every rule of every
 * trace), so counts are summed in memory and written by `flush()` in one transaction (the
 * sidecar's tick, about once a second, before the health API reads, and at stop).
 */
import type { SqlDatabase, SqlStatement } from '../db/sql';

export const HOUR_MS = 3_600_000;
/** The length of a bucket (what GET /api/v1/rules/{id}/slo computes burn rates from). */
export const HEALTH_BUCKET_MS = HOUR_MS;

export interface RuleHealthTotals {
  evaluated: number;
  triggered: number;
  violations: number;
  skipped: number;
  /** Microseconds over the sampled evaluations, and how many were sampled. */
  costUs: number;
  costSamples: number;
}

/** What one evaluation (or several) adds to a rule's counts; absent fields add nothing. */
export type RuleHealthDelta = Partial<RuleHealthTotals>;

interface PendingCounts {
  tenant: string;
  ruleId: string;
  bucketStart: number;
  counts: RuleHealthTotals;
}

interface HealthRow {
  rule_id?: string;
  bucket_start?: number;
  evaluated: number;
  triggered: number;
  violations: number;
  skipped: number;
  cost_us: number;
  cost_samples: number;
}

const SUMS =
  'coalesce(sum(evaluated), 0) AS evaluated, coalesce(sum(triggered), 0) AS triggered, coalesce(sum(violations), 0) AS violations, ' +
  'coalesce(sum(skipped), 0) AS skipped, coalesce(sum(cost_us), 0) AS cost_us, coalesce(sum(cost_samples), 0) AS cost_samples';

export function emptyTotals(): RuleHealthTotals {
  return { evaluated: 0, triggered: 0, violations: 0, skipped: 0, costUs: 0, costSamples: 0 };
}

function toTotals(row: HealthRow): RuleHealthTotals {
  return { evaluated: row.evaluated, triggered: row.triggered, violations: row.violations, skipped: row.skipped, costUs: row.cost_us, costSamples: row.cost_samples };
}

export class RuleHealthStore {
  /** Counts not yet written: the current hour's per tenant and rule, and hours already closed. */
  private readonly pending = new Map<string, Map<string, PendingCounts>>();
  private closed: PendingCounts[] = [];
  /** Fractions of a microsecond not yet written, per tenant and rule (cost_us is an integer; a sample is often under 1 µs). */
  private readonly carry = new Map<string, number>();
  private readonly upsert: SqlStatement;
  private readonly totalsStmt: SqlStatement;
  private readonly byRuleStmt: SqlStatement;
  private readonly seriesStmt: SqlStatement;

  constructor(private readonly db: SqlDatabase) {
    this.upsert = db.prepare(
      `INSERT INTO rule_health (tenant, rule_id, bucket_start, evaluated, triggered, violations, skipped, cost_us, cost_samples)
       VALUES (@tenant, @ruleId, @bucketStart, @evaluated, @triggered, @violations, @skipped, @costUs, @costSamples)
       ON CONFLICT (tenant, rule_id, bucket_start) DO UPDATE SET
         evaluated = rule_health.evaluated + excluded.evaluated, triggered = rule_health.triggered + excluded.triggered,
         violations = rule_health.violations + excluded.violations, skipped = rule_health.skipped + excluded.skipped,
         cost_us = rule_health.cost_us + excluded.cost_us, cost_samples = rule_health.cost_samples + excluded.cost_samples`,
    );
    const range = 'tenant = ? AND bucket_start >= ? AND bucket_start < ?';
    this.totalsStmt = db.prepare(`SELECT ${SUMS} FROM rule_health WHERE ${range} AND rule_id = ?`);
    this.byRuleStmt = db.prepare(`SELECT rule_id, ${SUMS} FROM rule_health WHERE ${range} GROUP BY rule_id ORDER BY rule_id`);
    this.seriesStmt = db.prepare(
      `SELECT bucket_start, evaluated, triggered, violations, skipped, cost_us, cost_samples FROM rule_health WHERE ${range} AND rule_id = ? ORDER BY bucket_start`,
    );
  }

  /**
   * Adds to a rule's counts of the hour holding `at` (epoch ms); written at the next flush. No
   * string is built per call (it runs for every rule of every trace).
   */
  count(tenant: string, ruleId: string, at: number, delta: RuleHealthDelta): void {
    const bucketStart = Math.floor(at / HOUR_MS) * HOUR_MS;
    let byRule = this.pending.get(tenant);
    if (byRule === undefined) {
      byRule = new Map();
      this.pending.set(tenant, byRule);
    }
    let p = byRule.get(ruleId);
    if (p === undefined || p.bucketStart !== bucketStart) {
      if (p !== undefined) {
        this.closed.push(p); // another hour (or a replay's clock): the old one is written as it is
      }
      p = { tenant, ruleId, bucketStart, counts: emptyTotals() };
      byRule.set(ruleId, p);
    }
    const c = p.counts;
    c.evaluated += delta.evaluated ?? 0;
    c.triggered += delta.triggered ?? 0;
    c.violations += delta.violations ?? 0;
    c.skipped += delta.skipped ?? 0;
    c.costUs += delta.costUs ?? 0;
    c.costSamples += delta.costSamples ?? 0;
  }

  /** Writes what was counted since the last flush, in one transaction. */
  flush(): void {
    if ((this.pending.size === 0 && this.closed.length === 0) || !this.db.open) {
      return;
    }
    const batch = [...this.closed];
    for (const byRule of this.pending.values()) {
      batch.push(...byRule.values());
    }
    const carried = new Map(this.carry);
    const rows = batch.map((p) => {
      const key = `${p.tenant}\u0000${p.ruleId}`;
      const us = p.counts.costUs + (carried.get(key) ?? 0);
      const whole = Math.floor(us);
      carried.set(key, us - whole);
      return { tenant: p.tenant, ruleId: p.ruleId, bucketStart: p.bucketStart, ...p.counts, costUs: whole };
    });
    this.db.transaction(() => {
      for (const r of rows) {
        this.upsert.run(r);
      }
    })();
    // Only once committed: a failed write keeps the counts for the next flush instead of losing them.
    this.pending.clear();
    this.closed = [];
    for (const [k, v] of carried) {
      this.carry.set(k, v);
    }
  }

  /** Sums over buckets with bucket_start in [from, to). */
  totals(tenant: string, ruleId: string, from: number, to: number): RuleHealthTotals {
    return toTotals(this.totalsStmt.get(tenant, from, to, ruleId) as HealthRow);
  }

  /** Every rule of the tenant with counts in [from, to), by rule id (the list route, one query). */
  totalsByRule(tenant: string, from: number, to: number): Map<string, RuleHealthTotals> {
    return new Map((this.byRuleStmt.all(tenant, from, to) as HealthRow[]).map((r) => [r.rule_id!, toTotals(r)]));
  }

  /** Per bucket (hour) in [from, to), oldest first; hours without counts are absent. */
  series(tenant: string, ruleId: string, from: number, to: number): Array<{ bucketStart: number } & RuleHealthTotals> {
    return (this.seriesStmt.all(tenant, from, to, ruleId) as HealthRow[]).map((r) => ({ bucketStart: r.bucket_start!, ...toTotals(r) }));
  }
}
