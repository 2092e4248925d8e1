/**
 * Pull mode: per tenant, walks time windows [watermark, now − settle] over Tempo. For each window,
 * each enabled rule's TraceQL pushdown runs as a search; a search that returns `limit` hits may be
 * truncated (Tempo has no pagination), so its window is split and searched again until no search
 * is saturated. Each candidate trace is fetched once per window and evaluated against the rules
 * whose pushdown matched it. The watermark moves only after the window's signals are stored, so
 * a Tempo outage stops it and nothing is skipped; catching up goes in bounded chunks.
 *
 * Replicas sharing one store share the windows (issue 12): a replica scans a window only while it
 * holds the window's lease (src/leases.ts), so no window is scanned by two at once and several
 * replicas work through one tenant's backlog side by side; the watermark is the end of the
 * contiguous done windows, so it never passes a window whose signals are not stored. A replica
 * that dies mid-window stops renewing; its lease lapses and another takes the window over.
 */
import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import type { Pipeline } from '../pipeline';
import type { RuleRegistry } from '../rules';
import type { Store } from '../store';
import { defaultReplicaId, Leases, PullWindows } from '../leases';
import type { TempoClient } from './client';
import { scanWindow } from './scan';

export interface PollerOptions {
  tenant: string;
  client: TempoClient;
  store: Store;
  rules: RuleRegistry;
  pipeline: Pipeline;
  log: Logger;
  lag: Gauge<'tenant'>;
  /** Traces search listed that could not be fetched after every retry of their window. */
  unavailable?: Counter<'tenant'>;
  now: () => number;
  /** Tempo flushes a trace ~10 s after its last span and cuts the newest ~30 s of a search. */
  settleMs: number;
  /** Where a fresh install begins, before now. */
  startMs: number;
  /** Largest window per search, so catching up goes in bounded chunks. */
  maxWindowMs?: number;
  /** Search limit; a search with this many hits is split. */
  limit?: number;
  /** Polls that scan a window again while a trace it lists cannot be fetched (default 5). */
  unavailableRetries?: number;
  /** This replica's id, the holder of its leases (REPLICA_ID; default host name and pid). */
  replica?: string;
  /** How long a window's lease lasts without renewal (PULL_LEASE, default 30 s): a dead replica's window is taken over after it. */
  leaseMs?: number;
  /** Renew the lease on this timer too while a window waits on Tempo (default a third of leaseMs; 0: only between traces). */
  renewTimerMs?: number;
}

export interface PollResult {
  windows: number;
  searches: number;
  tracesFetched: number;
  signals: number;
  /** Windows given up because another replica took their lease over (this one was too slow to renew). */
  leasesLost: number;
}

export class TempoPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PollResult> | undefined;
  private stopped = false;
  readonly leases: Leases;
  private readonly windows: PullWindows;

  constructor(private readonly o: PollerOptions) {
    this.leases = new Leases(o.store.db, o.replica ?? defaultReplicaId());
    this.windows = new PullWindows(o.store.db);
  }

  /** Evaluates every settled window since the watermark that no other replica holds. Throws (the window stays for the next poll) when Tempo fails. */
  pollOnce(): Promise<PollResult> {
    if (this.running === undefined) {
      this.running = this.poll().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async poll(): Promise<PollResult> {
    const { tenant, now } = this.o;
    const result: PollResult = { windows: 0, searches: 0, tracesFetched: 0, signals: 0, leasesLost: 0 };
    // Fixed by the first replica to poll, so all walk the same windows from the same start.
    const origin = this.windows.origin(tenant, now() - this.o.startMs);
    const target = now() - this.o.settleMs;
    const maxWindow = this.o.maxWindowMs ?? 5 * 60_000;
    const leaseMs = this.o.leaseMs ?? 30_000;
    // Windows this poll scanned and gave back for a retry: the next poll (of any replica) takes them.
    const retried = new Set<number>();
    try {
      while (!this.stopped) {
        const claimed = this.windows.claim(this.leases, tenant, origin, target, maxWindow, retried, now, leaseMs, this.o.renewTimerMs ?? Math.floor(leaseMs / 3));
        if (claimed === undefined) {
          break;
        }
        const { window, lease } = claimed;
        let unavailable: string[];
        try {
          unavailable = await this.window(window.startMs, window.endMs, result, () => lease.held());
        } catch (e) {
          // Tempo failed: the window goes back at once, for this replica's next poll or another's.
          lease.release();
          throw e;
        }
        if (!lease.held()) {
          result.leasesLost++;
          this.o.log.warn({ tenant, from: window.startMs, to: window.endMs, replica: this.leases.holder }, 'the lease on a pull window was taken over by another replica (this one renewed too late); the replica holding it now scans the window, this one records nothing of it');
          lease.abandon();
          continue;
        }
        if (unavailable.length > 0) {
          // Listed by search, not yet returned by trace-by-id (Tempo still flushing it): the
          // window stays, so the next poll scans it again (signal ids make that idempotent);
          // after the last retry the window is passed and the traces counted. Attempts are in the
          // store: whichever replica scans it next continues the count.
          const attempts = this.windows.retry(tenant, window.startMs);
          if (attempts < (this.o.unavailableRetries ?? 5)) {
            this.o.log.info({ tenant, from: window.startMs, to: window.endMs, traces: unavailable, attempt: attempts }, 'traces listed by search are not retrievable yet; the window is scanned again next poll');
            retried.add(window.startMs);
            lease.release();
            continue;
          }
          this.o.unavailable?.inc({ tenant }, unavailable.length);
          this.o.log.warn({ tenant, from: window.startMs, to: window.endMs, traces: unavailable }, 'traces listed by search could not be fetched after every retry; moving on');
        }
        if (this.windows.complete(tenant, window, lease, origin, now()) === undefined) {
          result.leasesLost++;
          continue;
        }
        result.windows++;
        this.lag(origin);
      }
    } finally {
      this.lag(origin);
    }
    return result;
  }

  /** The cluster's lag: from the shared watermark, whichever replica moved it. */
  private lag(origin: number): void {
    this.o.lag.set({ tenant: this.o.tenant }, Math.max(0, (this.o.now() - (this.windows.watermark(this.o.tenant) ?? origin)) / 1000));
  }

  /**
   * Sets betrace_poll_lag_seconds from the shared watermark now (each scrape of /metrics does):
   * another replica may have moved it since this one's last poll. Before any poll, nothing.
   */
  refreshLag(): void {
    const origin = this.windows.originOf(this.o.tenant);
    if (origin !== undefined) {
      this.lag(origin);
    }
  }

  private async window(fromMs: number, toMs: number, result: PollResult, held: () => boolean): Promise<string[]> {
    const rules = this.o.rules.active(this.o.tenant).map((r) => r.compiled);
    return scanWindow(
      this.o.client,
      rules,
      fromMs,
      toMs,
      this.o.limit ?? 200,
      this.o.log,
      result,
      (trace, ruleIds) => {
        // Checked again after the fetch: a replica that lost its lease while waiting evaluates nothing.
        if (held()) {
          result.signals += this.o.pipeline.evaluate(this.o.tenant, trace, 'pull', ruleIds).length;
        }
      },
      () => !held(),
    );
  }

  start(intervalMs: number): void {
    const loop = () => {
      this.pollOnce()
        .catch((e: unknown) => this.o.log.warn({ err: e, tenant: this.o.tenant }, 'Tempo poll failed; the watermark stays and the next poll retries'))
        .finally(() => {
          if (!this.stopped) {
            this.timer = setTimeout(loop, intervalMs);
            this.timer.unref();
          }
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
