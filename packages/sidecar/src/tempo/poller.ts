/**
 * Pull mode: per tenant, walks time windows [watermark, now − settle] over Tempo. For each window,
 * each enabled rule's TraceQL pushdown runs as a search; a search that returns `limit` hits may be
 * truncated (Tempo has no pagination), so its window is split and searched again until no search
 * is saturated. Each candidate trace is fetched once per window and evaluated against the rules
 * whose pushdown matched it. The watermark moves only after the window's signals are stored, so
 * a Tempo outage stops it and nothing is skipped; catching up goes in bounded chunks.
 */
import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import type { RuleRegistry } from '../rules';
import type { Trace } from '@betrace/evaluator';
import type { Signal, SignalSource, Store } from '../store';
import type { TempoClient } from './client';
import { scanWindow } from './scan';

export interface PollerOptions {
  tenant: string;
  client: TempoClient;
  store: Store;
  rules: RuleRegistry;
  /** The sidecar's EvalPool (evaluation off the HTTP thread), or a Pipeline (in-process). */
  pipeline: { evaluate(tenant: string, trace: Trace, source: SignalSource, only?: ReadonlySet<string>): Signal[] | Promise<Signal[]> };
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
  /** Window start → polls so far that found a listed trace Tempo could not return. */
  private readonly retries = new Map<number, number>();

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
      const unavailable = await this.window(from, to, result);
      if (unavailable.length > 0) {
        // Listed by search, not yet returned by trace-by-id (Tempo still flushing it): the
        // watermark stays, so the next poll scans this window again (signal ids make that
        // idempotent); after the last retry the window is passed and the traces counted.
        const attempts = (this.retries.get(from) ?? 0) + 1;
        if (attempts < (this.o.unavailableRetries ?? 5)) {
          this.retries.set(from, attempts);
          this.o.log.info({ tenant, from, to, traces: unavailable, attempt: attempts }, 'traces listed by search are not retrievable yet; the window is scanned again next poll');
          break;
        }
        this.o.unavailable?.inc({ tenant }, unavailable.length);
        this.o.log.warn({ tenant, from, to, traces: unavailable }, 'traces listed by search could not be fetched after every retry; moving on');
      }
      this.retries.delete(from);
      store.setWatermark(tenant, to, now());
      result.windows++;
      from = to;
      this.o.lag.set({ tenant }, Math.max(0, (now() - from) / 1000));
    }
    this.o.lag.set({ tenant }, Math.max(0, (now() - from) / 1000));
    return result;
  }

  private async window(fromMs: number, toMs: number, result: PollResult): Promise<string[]> {
    const rules = this.o.rules.active(this.o.tenant).map((r) => r.compiled);
    return scanWindow(this.o.client, rules, fromMs, toMs, this.o.limit ?? 200, this.o.log, result, async (trace, ruleIds) => {
      result.signals += (await this.o.pipeline.evaluate(this.o.tenant, trace, 'pull', ruleIds)).length;
    });
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
