/**
 * Turns evaluations of rules with `compliance` mappings into evidence. Summary mode (always on):
 * every evaluated trace is counted, once, into its rule's window (evaluation time, WINDOW long);
 * when a window has passed, one record per mapping states how many traces were checked, passed
 * and failed, with sample trace ids. Per-trace mode (on by default): a record per mapping for
 * each trace that newly fails, written into that trace. Open windows live in SQLite, so a restart
 * neither loses nor double-counts a window.
 */
import type { Trace, Violation } from '@betrace/evaluator';
import type { Logger } from 'pino';
import type { ActiveRule } from '../rules';
import type { Signal } from '../store';
import type { EvidenceDraft } from './record';
import { summaryTraceId } from './record';
import type { EvidenceStore } from './store';

export interface EvidenceOptions {
  /** Summary window length (default 1 min). */
  windowMs: number;
  /** Sample trace ids per summary record (failing ones first). */
  samples: number;
  /** A record per failing trace, besides the summaries. */
  perTraceFailures: boolean;
}

export const DEFAULT_EVIDENCE_OPTIONS: EvidenceOptions = { windowMs: 60_000, samples: 10, perTraceFailures: true };

export class EvidenceRecorder {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly store: EvidenceStore,
    /** Names of the writers evidence goes to (one outbox row each). */
    private readonly writers: readonly string[],
    private readonly options: EvidenceOptions,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Counts one evaluation; `added` are the signals it newly stored (per-trace records follow those, so a re-evaluation adds none). */
  observe(tenant: string, trace: Trace, active: readonly ActiveRule[], violations: readonly Violation[], added: readonly Signal[]): void {
    const mapped = active.filter((r) => r.version > 0 && (r.compiled.definition.compliance?.length ?? 0) > 0);
    if (mapped.length === 0) {
      return;
    }
    const now = this.now();
    const windowStart = Math.floor(now / this.options.windowMs) * this.options.windowMs;
    const failing = new Set(violations.map((v) => v.ruleId));
    this.store.db.transaction(() => {
      for (const r of mapped) {
        const { id, compliance } = r.compiled.definition;
        this.store.observe({ tenant, ruleId: id, windowStart, windowEnd: windowStart + this.options.windowMs, compliance: compliance! }, trace.traceId, failing.has(id));
      }
      if (!this.options.perTraceFailures) {
        return;
      }
      const drafts: EvidenceDraft[] = [];
      const newlyFailing = new Set(added.filter((s) => s.traceId === trace.traceId).map((s) => s.ruleId));
      for (const r of mapped) {
        const { id, compliance } = r.compiled.definition;
        if (!newlyFailing.has(id)) {
          continue;
        }
        for (const c of compliance!) {
          const d: EvidenceDraft = {
            framework: c.framework,
            control: c.control,
            ruleId: id,
            outcome: 'fail',
            evidenceType: 'trace',
            checkedTraces: 1,
            failedTraces: 1,
            windowStart: now,
            windowEnd: now,
            sampleTraceIds: [trace.traceId],
            traceId: trace.traceId,
          };
          if (trace.rootSpan !== undefined) {
            d.parentSpanId = trace.rootSpan.spanId;
          }
          drafts.push(d);
        }
      }
      this.store.append(tenant, drafts, this.writers, now);
    })();
  }

  /** Seals every window that has ended: one summary record per compliance mapping. Returns the records written. */
  seal(): number {
    const now = this.now();
    let written = 0;
    for (const w of this.store.dueWindows(now)) {
      this.store.db.transaction(() => {
        const { checked, failed, sampleTraceIds } = this.store.windowCounts(w, this.options.samples);
        const drafts: EvidenceDraft[] = w.compliance.map((c) => ({
          framework: c.framework,
          control: c.control,
          ruleId: w.ruleId,
          outcome: failed > 0 ? 'fail' : 'pass',
          evidenceType: 'summary',
          checkedTraces: checked,
          failedTraces: failed,
          windowStart: w.windowStart,
          windowEnd: w.windowEnd,
          sampleTraceIds,
          traceId: summaryTraceId(w.tenant, w.ruleId, w.windowStart),
        }));
        written += this.store.append(w.tenant, drafts, this.writers, now).length;
        this.store.closeWindow(w);
      })();
    }
    return written;
  }

  start(intervalMs: number): void {
    const loop = () => {
      try {
        this.seal();
      } catch (e) {
        this.log.error({ err: e }, 'sealing evidence windows failed; the next round retries');
      }
      this.timer = setTimeout(loop, intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(loop, intervalMs);
    this.timer.unref();
  }

  /** Stops the loop after sealing what is due; open windows stay in the store for the next start. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.store.db.open) {
      this.seal();
    }
  }
}
