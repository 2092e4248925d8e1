/**
 * Leases in the store (issue 12): replicas that share one database share pull-mode windows and
 * replay jobs by leasing them. A lease is a row (key, holder, expiry in epoch ms); taking one is a
 * single upsert that succeeds only when the row is absent, expired, or already ours, so two
 * replicas never hold the same key at once, and a dead replica's keys are free again one lease
 * period after its last renewal. Every statement here is portable between SQLite (≥ 3.35, for
 * RETURNING) and PostgreSQL: `?` parameters, ON CONFLICT, integer epoch-ms times.
 *
 * Times come from the replicas' clocks: they must agree to well within a lease period (NTP does).
 */
import { hostname } from 'os';
import { randomBytes } from 'crypto';
import type { SqlDatabase } from './db/sql';

/** The part of the store's database a lease needs (better-sqlite3, or the PostgreSQL facade of the same shape). */
export type LeaseDb = Pick<SqlDatabase, 'prepare' | 'transaction'>;

export interface LeaseRow {
  key: string;
  tenant: string;
  holder: string;
  /** When this holder took the key (epoch ms); renewals keep it. */
  since: number;
  expiresAt: number;
}

/** This process's replica id when REPLICA_ID is not set: host name and pid, so two processes on one host differ. */
export function defaultReplicaId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100) || `replica-${randomBytes(4).toString('hex')}`;
  return `${host}-${process.pid}`;
}

export class Leases {
  constructor(
    private readonly db: LeaseDb,
    /** This replica's id: the holder written into the leases it takes. */
    readonly holder: string,
  ) {}

  /** Takes (or renews) `key` until now + ttl when it is free, expired or ours; true when we hold it. */
  acquire(key: string, tenant: string, now: number, ttlMs: number): boolean {
    const row = this.db
      .prepare(
        `INSERT INTO leases (key, tenant, holder, since, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET holder = ?, since = CASE WHEN leases.holder = ? THEN leases.since ELSE ? END, expires_at = ?
         WHERE leases.expires_at <= ? OR leases.holder = ?
         RETURNING holder`,
      )
      .get(key, tenant, this.holder, now, now + ttlMs, this.holder, this.holder, now, now + ttlMs, now, this.holder) as { holder: string } | undefined;
    return row?.holder === this.holder;
  }

  /**
   * Extends a lease we still hold (expired or not: as long as nobody took it over, nobody else
   * worked on it). False when it was taken over or released: the caller must stop its work.
   */
  renew(key: string, now: number, ttlMs: number): boolean {
    return this.db.prepare('UPDATE leases SET expires_at = ? WHERE key = ? AND holder = ?').run(now + ttlMs, key, this.holder).changes === 1;
  }

  /** Gives a lease up (only ours): another replica may take the key at once. */
  release(key: string): void {
    this.db.prepare('DELETE FROM leases WHERE key = ? AND holder = ?').run(key, this.holder);
  }

  /** Who holds `key` now (an expired lease is nobody's). */
  holderOf(key: string, now: number): string | undefined {
    return (this.db.prepare('SELECT holder FROM leases WHERE key = ? AND expires_at > ?').get(key, now) as { holder: string } | undefined)?.holder;
  }

  /** A tenant's leases, expired ones included (until someone takes or clears them), by key. */
  list(tenant: string): LeaseRow[] {
    const rows = this.db.prepare('SELECT key, tenant, holder, since, expires_at FROM leases WHERE tenant = ? ORDER BY key').all(tenant) as Array<{
      key: string;
      tenant: string;
      holder: string;
      since: number;
      expires_at: number;
    }>;
    return rows.map((r) => ({ key: r.key, tenant: r.tenant, holder: r.holder, since: Number(r.since), expiresAt: Number(r.expires_at) }));
  }
}

/**
 * One lease while its work runs: `held()` answers whether the work may go on, renewing the lease
 * when a third of its period has passed (so a live holder never lets it lapse between two of its
 * checks), and a timer renews it too while the work waits on something slow (one long search).
 */
export class HeldLease {
  private expiresAt: number;
  private renewedAt: number;
  private lost = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly leases: Leases,
    readonly key: string,
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {
    this.renewedAt = now();
    this.expiresAt = this.renewedAt + ttlMs;
  }

  /** The lease on `key` when we could take it; undefined when another replica holds it. */
  static take(leases: Leases, key: string, tenant: string, now: () => number, ttlMs: number, renewTimerMs: number): HeldLease | undefined {
    if (!leases.acquire(key, tenant, now(), ttlMs)) {
      return undefined;
    }
    const held = new HeldLease(leases, key, now, ttlMs);
    if (renewTimerMs > 0) {
      held.timer = setInterval(() => held.held(), renewTimerMs);
      held.timer.unref();
    }
    return held;
  }

  /** True while we hold the lease; false for good once it was taken over (or lapsed and could not be renewed). */
  held(): boolean {
    if (this.lost) {
      return false;
    }
    const now = this.now();
    if (now - this.renewedAt >= this.ttlMs / 3 || now >= this.expiresAt) {
      if (this.leases.renew(this.key, now, this.ttlMs)) {
        this.renewedAt = now;
        this.expiresAt = now + this.ttlMs;
      } else {
        this.lost = true;
        this.stopTimer();
      }
    }
    return !this.lost;
  }

  /** Stops renewing and gives the lease up (when still ours). */
  release(): void {
    this.stopTimer();
    if (!this.lost) {
      this.leases.release(this.key);
    }
    this.lost = true;
  }

  /** Stops renewing without giving the lease up: it lapses after its period (what a crash does). */
  abandon(): void {
    this.stopTimer();
    this.lost = true;
  }

  private stopTimer(): void {
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** The lease key of a pull-mode window: one tenant, one window start. */
export const pullWindowKey = (tenant: string, startMs: number): string => `pull:${tenant}:${startMs}`;
/** The lease key of a replay job. */
export const replayKey = (tenant: string, jobId: string): string => `replay:${tenant}:${jobId}`;

export interface PullWindow {
  startMs: number;
  endMs: number;
  /** Scans so far that found a listed trace Tempo could not return (shared by the replicas). */
  attempts: number;
}

/**
 * Pull-mode windows shared by replicas: a row per window from its claim until the watermark
 * passes it. A window's end is fixed when it is first claimed (a replica taking it over scans the
 * same range), so windows tile time without gaps or overlaps. The watermark is the end of the
 * contiguous run of done windows from it: a window done ahead of an unfinished one waits.
 */
export class PullWindows {
  constructor(private readonly db: LeaseDb) {}

  /** Where a tenant's pull mode began: fixed by the first replica that asks, so every replica walks the same windows. */
  origin(tenant: string, proposed: number): number {
    const key = `pull.origin:${tenant}`;
    this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, String(proposed));
    return Number((this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string }).value);
  }

  /** Where a tenant's pull mode began, when a replica has polled it. */
  originOf(tenant: string): number | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(`pull.origin:${tenant}`) as { value: string } | undefined;
    return row === undefined ? undefined : Number(row.value);
  }

  watermark(tenant: string): number | undefined {
    const row = this.db.prepare('SELECT until_ms FROM watermarks WHERE tenant = ?').get(tenant) as { until_ms: number } | undefined;
    return row === undefined ? undefined : Number(row.until_ms);
  }

  /**
   * Claims the first window from the watermark (or `origin`, before the first) that is neither
   * done, nor held by another replica, nor in `skip` (windows this poll already gave back), and
   * ends at or before `target`; a new window is at most `maxWindowMs` long. Undefined when there
   * is none.
   */
  claim(leases: Leases, tenant: string, origin: number, target: number, maxWindowMs: number, skip: ReadonlySet<number>, now: () => number, ttlMs: number, renewTimerMs: number): { window: PullWindow; lease: HeldLease } | undefined {
    // Another replica may move the watermark past the window this walk chose (and delete its row)
    // between the walk's read and its claim: the claim sees that and the walk starts over.
    for (let attempt = 0; attempt < 100; attempt++) {
      const claimed = this.walk(leases, tenant, this.watermark(tenant) ?? origin, origin, target, maxWindowMs, skip, now, ttlMs, renewTimerMs);
      if (claimed !== 'again') {
        return claimed;
      }
    }
    return undefined;
  }

  private walk(leases: Leases, tenant: string, from: number, origin: number, target: number, maxWindowMs: number, skip: ReadonlySet<number>, now: () => number, ttlMs: number, renewTimerMs: number): { window: PullWindow; lease: HeldLease } | undefined | 'again' {
    const rows = this.db.prepare('SELECT start_ms, end_ms, attempts, done_at FROM pull_windows WHERE tenant = ? AND start_ms >= ? ORDER BY start_ms').all(tenant, from) as Array<{
      start_ms: number;
      end_ms: number;
      attempts: number;
      done_at: number | null;
    }>;
    const byStart = new Map(rows.map((r) => [Number(r.start_ms), r]));
    const starts = rows.map((r) => Number(r.start_ms));
    let p = from;
    while (p < target) {
      const row = byStart.get(p);
      if (row !== undefined && (row.done_at !== null || skip.has(p))) {
        p = Number(row.end_ms);
        continue;
      }
      if (row === undefined && skip.has(p)) {
        return undefined;
      }
      // A new window ends at the next known window's start at the latest: no overlap even when
      // the watermark was set back over windows still in the table.
      const next = starts.find((s) => s > p);
      const end = row !== undefined ? Number(row.end_ms) : Math.min(p + maxWindowMs, target, next ?? Number.POSITIVE_INFINITY);
      if (end > target) {
        return undefined;
      }
      const claimed = this.db.transaction((): { done: number } | { window: PullWindow; lease: HeldLease } | 'again' | undefined => {
        const lease = HeldLease.take(leases, pullWindowKey(tenant, p), tenant, now, ttlMs, renewTimerMs);
        if (lease === undefined) {
          return undefined;
        }
        // Read after the lease is written, so on the newest state (SQLite: under the write lock).
        // Behind the watermark the window is done, even when its row (and lease) are gone.
        if (p < (this.watermark(tenant) ?? origin)) {
          lease.release();
          return 'again';
        }
        // Whoever claimed this start first fixed its end: a replica taking it over keeps it.
        this.db.prepare('INSERT INTO pull_windows (tenant, start_ms, end_ms, attempts) VALUES (?, ?, ?, 0) ON CONFLICT (tenant, start_ms) DO NOTHING').run(tenant, p, end);
        const stored = this.db.prepare('SELECT end_ms, attempts, done_at FROM pull_windows WHERE tenant = ? AND start_ms = ?').get(tenant, p) as { end_ms: number; attempts: number; done_at: number | null };
        if (stored.done_at !== null) {
          lease.release();
          return { done: Number(stored.end_ms) };
        }
        return { window: { startMs: p, endMs: Number(stored.end_ms), attempts: Number(stored.attempts) }, lease };
      })();
      if (claimed === 'again') {
        return 'again';
      }
      if (claimed === undefined) {
        // Held by another replica: its row says where it ends (written with its lease).
        const stored = this.db.prepare('SELECT end_ms FROM pull_windows WHERE tenant = ? AND start_ms = ?').get(tenant, p) as { end_ms: number } | undefined;
        if (stored === undefined) {
          return undefined;
        }
        p = Number(stored.end_ms);
        continue;
      }
      if ('done' in claimed) {
        p = claimed.done;
        continue;
      }
      if (claimed.window.endMs > target) {
        claimed.lease.release();
        return undefined;
      }
      return claimed;
    }
    return undefined;
  }

  /** Counts one more scan that found unavailable traces; the window stays to be scanned again. Returns the attempts so far. */
  retry(tenant: string, startMs: number): number {
    this.db.prepare('UPDATE pull_windows SET attempts = attempts + 1 WHERE tenant = ? AND start_ms = ?').run(tenant, startMs);
    return Number((this.db.prepare('SELECT attempts FROM pull_windows WHERE tenant = ? AND start_ms = ?').get(tenant, startMs) as { attempts: number }).attempts);
  }

  /**
   * Marks a window done (its signals are stored) and moves the watermark over the contiguous done
   * windows from it, in one transaction, only while `lease` is still ours: a replica whose lease
   * was taken over records nothing. Returns the watermark after, or undefined when fenced off.
   */
  complete(tenant: string, window: PullWindow, lease: HeldLease, origin: number, now: number): number | undefined {
    return this.db.transaction(() => {
      // One completion per tenant at a time: this write locks the tenant's origin row (PostgreSQL)
      // or the database (SQLite) first, so each completion sees the windows the others marked done
      // and the watermark never moves back over windows whose rows are already deleted.
      this.db.prepare('UPDATE settings SET value = value WHERE key = ?').run(`pull.origin:${tenant}`);
      if (!lease.held()) {
        return undefined;
      }
      this.db.prepare('UPDATE pull_windows SET done_at = ? WHERE tenant = ? AND start_ms = ?').run(now, tenant, window.startMs);
      let w = this.watermark(tenant) ?? origin;
      const before = w;
      const done = this.db.prepare('SELECT start_ms, end_ms FROM pull_windows WHERE tenant = ? AND start_ms >= ? AND done_at IS NOT NULL ORDER BY start_ms').all(tenant, w) as Array<{
        start_ms: number;
        end_ms: number;
      }>;
      const ends = new Map(done.map((r) => [Number(r.start_ms), Number(r.end_ms)]));
      while (ends.has(w)) {
        w = ends.get(w)!;
      }
      if (w > before) {
        this.db
          .prepare(
            `INSERT INTO watermarks (tenant, until_ms, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (tenant) DO UPDATE SET until_ms = excluded.until_ms, updated_at = excluded.updated_at WHERE watermarks.until_ms < excluded.until_ms`,
          )
          .run(tenant, w, now);
        // Windows behind the watermark are history: the table keeps only the frontier.
        this.db.prepare('DELETE FROM pull_windows WHERE tenant = ? AND end_ms <= ? AND done_at IS NOT NULL').run(tenant, w);
      }
      lease.release();
      return w;
    })();
  }

  /** A tenant's windows not yet passed by the watermark (for the status route). */
  pending(tenant: string): Array<{ startMs: number; endMs: number; attempts: number; done: boolean }> {
    return (this.db.prepare('SELECT start_ms, end_ms, attempts, done_at FROM pull_windows WHERE tenant = ? ORDER BY start_ms').all(tenant) as Array<{ start_ms: number; end_ms: number; attempts: number; done_at: number | null }>).map(
      (r) => ({ startMs: Number(r.start_ms), endMs: Number(r.end_ms), attempts: Number(r.attempts), done: r.done_at !== null }),
    );
  }
}
