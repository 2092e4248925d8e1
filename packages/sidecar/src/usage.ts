/**
 * Per-tenant usage (spans, bytes, traces evaluated, signals, evidence records) as daily totals in
 * the store. Counting happens on the hot path (every request, every trace), so counts are summed
 * in memory per tenant and UTC day and written by `flush()` (the sidecar's tick, the usage API
 * before it reads, and stop): one upsert per tenant and day instead of one per trace.
 */
import { Store, USAGE_FIELDS, UsageCounts } from './store';

const DAY_MS = 86_400_000;

export class UsageMeter {
  private readonly pending = new Map<string, { tenant: string; dayStart: number; counts: Required<UsageCounts> }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  count(tenant: string, counts: UsageCounts): void {
    const dayStart = Math.floor(this.now() / DAY_MS) * DAY_MS;
    const key = `${tenant}\u0000${dayStart}`;
    let p = this.pending.get(key);
    if (p === undefined) {
      p = { tenant, dayStart, counts: { spans: 0, bytes: 0, traces: 0, signals: 0, evidence: 0 } };
      this.pending.set(key, p);
    }
    for (const f of USAGE_FIELDS) {
      p.counts[f] += counts[f] ?? 0;
    }
  }

  /** Writes what was counted since the last flush; each day's counts go to that day. */
  flush(): void {
    if (this.pending.size === 0 || !this.store.db.open) {
      return;
    }
    const batch = [...this.pending.values()];
    this.store.db.transaction(() => {
      for (const p of batch) {
        this.store.addUsage(p.tenant, p.dayStart, p.counts);
      }
    })();
    // Only once they are committed: a failed write (SQLITE_BUSY, a full disk) keeps the counts for
    // the next flush instead of losing them.
    this.pending.clear();
  }
}
