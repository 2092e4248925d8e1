/**
 * Rule health over time: per tenant, rule and UTC hour, the traces a rule was evaluated on, those
 * its trigger held on, its violations, skips and sampled cost (table `rule_health`, store.ts).
 * Read side of the issue-15 contract; the sidecar's evaluation loop fills the table.
 */
import type Database from 'better-sqlite3';

export const HEALTH_BUCKET_MS = 3_600_000;

export interface RuleHealthTotals {
  evaluated: number;
  triggered: number;
  violations: number;
  skipped: number;
  costUs: number;
  costSamples: number;
}

const SUMS = `COALESCE(SUM(evaluated), 0) AS evaluated, COALESCE(SUM(triggered), 0) AS triggered, COALESCE(SUM(violations), 0) AS violations,
  COALESCE(SUM(skipped), 0) AS skipped, COALESCE(SUM(cost_us), 0) AS costUs, COALESCE(SUM(cost_samples), 0) AS costSamples`;

export class RuleHealthStore {
  private readonly totalsStmt: Database.Statement;
  private readonly seriesStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.totalsStmt = db.prepare(`SELECT ${SUMS} FROM rule_health WHERE tenant = ? AND rule_id = ? AND bucket_start >= ? AND bucket_start < ?`);
    this.seriesStmt = db.prepare(
      `SELECT bucket_start AS bucketStart, ${SUMS} FROM rule_health WHERE tenant = ? AND rule_id = ? AND bucket_start >= ? AND bucket_start < ?
       GROUP BY bucket_start ORDER BY bucket_start`,
    );
  }

  /** Sums over buckets with bucket_start in [from, to). */
  totals(tenant: string, ruleId: string, from: number, to: number): RuleHealthTotals {
    return this.totalsStmt.get(tenant, ruleId, from, to) as RuleHealthTotals;
  }

  /** Per bucket (hour) in [from, to), oldest first. */
  series(tenant: string, ruleId: string, from: number, to: number): Array<{ bucketStart: number } & RuleHealthTotals> {
    return this.seriesStmt.all(tenant, ruleId, from, to) as Array<{ bucketStart: number } & RuleHealthTotals>;
  }
}
