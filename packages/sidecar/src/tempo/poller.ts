/**
 * Pull mode: per tenant, walks time windows [watermark, now − settle] over Tempo. For each window,
 * each enabled rule's TraceQL pushdown runs as a search; a search that returns `limit` hits may be
 * truncated (Tempo has no pagination), so its window is split and searched again until no search
 * is saturated. Each candidate trace is fetched once per window and evaluated against the rules
 * whose pushdown matched it. The watermark moves only after the window's signals are stored, so
 * a Tempo outage stops it and nothing is skipped; catching up goes in bounded chunks.
 */
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';
import type { Pipeline } from '../pipeline';
import type { RuleRegistry } from '../rules';
import type { Store } from '../store';
import type { TempoClient } from './client';

export interface PollerOptions {
  tenant: string;
  client: TempoClient;
  store: Store;
  rules: RuleRegistry;
  pipeline: Pipeline;
  log: Logger;
  lag: Gauge<'tenant'>;
  now: () => number;
  /** Tempo flushes a trace ~10 s after its last span and cuts the newest ~30 s of a search. */
  settleMs: number;
  /** Where a fresh install begins, before now. */
  startMs: number;
  /** Largest window per search, so catching up goes in bounded chunks. */
  maxWindowMs?: number;
  /** Search limit; a search with this many hits is split. */
  limit?: number;
}

export interface PollResult {
  windows: number;
  searches: number;
  tracesFetched: number;
  signals: number;
}

export class TempoPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PollResult> | undefined;
  private stopped = false;

  constructor(private readonly o: PollerOptions) {}

  /** Evaluates every settled window since the watermark. Throws (watermark unchanged) when Tempo fails. */
  pollOnce(): Promise<PollResult> {
    if (this.running === undefined) {
      this.running = this.poll().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async poll(): Promise<PollResult> {
    const { tenant, store, now } = this.o;
    const result: PollResult = { windows: 0, searches: 0, tracesFetched: 0, signals: 0 };
    let from = store.getWatermark(tenant) ?? now() - this.o.startMs;
    const target = now() - this.o.settleMs;
    const maxWindow = this.o.maxWindowMs ?? 5 * 60_000;
    while (from < target && !this.stopped) {
      const to = Math.min(from + maxWindow, target);
      await this.window(from, to, result);
      store.setWatermark(tenant, to, now());
      result.windows++;
      from = to;
      this.o.lag.set({ tenant }, Math.max(0, (now() - from) / 1000));
    }
    this.o.lag.set({ tenant }, Math.max(0, (now() - from) / 1000));
    return result;
  }

  private async window(fromMs: number, toMs: number, result: PollResult): Promise<void> {
    const rules = this.o.rules.active(this.o.tenant);
    // Rules with the same pushdown share one search.
    const byQuery = new Map<string, string[]>();
    for (const r of rules) {
      const q = r.compiled.pushdown.query;
      byQuery.set(q, [...(byQuery.get(q) ?? []), r.compiled.definition.id]);
    }
    const candidates = new Map<string, Set<string>>();
    for (const [q, ruleIds] of byQuery) {
      for (const traceId of await this.searchAll(q, fromMs, toMs, result)) {
        const set = candidates.get(traceId) ?? new Set<string>();
        ruleIds.forEach((id) => set.add(id));
        candidates.set(traceId, set);
      }
    }
    for (const [traceId, ruleIds] of candidates) {
      const trace = await this.o.client.trace(traceId);
      result.tracesFetched++;
      if (trace === undefined) {
        continue; // listed by search but not (yet) retrievable: a later overlapping window retries
      }
      result.signals += this.o.pipeline.evaluate(this.o.tenant, trace, 'pull', ruleIds).length;
    }
  }

  /** Every trace a query matches in [from, to): splits saturated windows until none is. */
  private async searchAll(q: string, fromMs: number, toMs: number, result: PollResult): Promise<string[]> {
    const limit = this.o.limit ?? 200;
    const hits = await this.o.client.search({ q, start: Math.floor(fromMs / 1000), end: Math.ceil(toMs / 1000), limit });
    result.searches++;
    if (hits.length < limit) {
      return hits.map((h) => h.traceId);
    }
    if (toMs - fromMs <= 1000) {
      // One second cannot be split further (Tempo takes whole seconds): ask for more at once.
      const more = await this.o.client.search({ q, start: Math.floor(fromMs / 1000), end: Math.ceil(toMs / 1000), limit: limit * 50 });
      result.searches++;
      if (more.length >= limit * 50) {
        this.o.log.warn({ q, fromMs, toMs, hits: more.length }, 'search saturated within one second; some traces may be missed');
      }
      return more.map((h) => h.traceId);
    }
    const mid = fromMs + Math.floor((toMs - fromMs) / 2);
    const [a, b] = [await this.searchAll(q, fromMs, mid, result), await this.searchAll(q, mid, toMs, result)];
    return [...new Set([...a, ...b])];
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
