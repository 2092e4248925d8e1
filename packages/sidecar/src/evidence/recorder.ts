/**
 * Turns evaluations of rules with `compliance` mappings into evidence. Summary mode (always on):
 * every evaluated trace the rule applies to (its trigger held: the `when` clause, or an expression
 * rule's positive span terms) is counted, once, into its rule's window (evaluation time, WINDOW
 * long); a trace the rule does not apply to is not counted at all. When a window has passed, one
 * record per mapping states how many traces were checked, passed and failed, with sample trace ids. Per-trace mode (on by default): a record per mapping for
 * each trace that newly fails, written into that trace at once.
 *
 * Counting is on the hot path of every trace, so observations collect in memory and are flushed
 * to SQLite in one transaction per round (≤ 1 s) and before every seal and stop: open windows
 * survive a restart, and a crash loses at most one round of counts (push mode's assembler
 * holds traces in memory for longer than that anyway).
 */
import type { Trace, Violation } from '@betrace/evaluator';
import type { Logger } from 'pino';
import type { ActiveRule } from '../rules';
import type { Signal } from '../store';
import type { EvidenceDraft } from './record';
import { summaryTraceId } from './record';
import type { Anchor, AnchorLog } from './anchor';
import type { EvidenceStore, OpenWindow } from './store';

export interface EvidenceOptions {
  /** Summary window length (default 1 min). */
  windowMs: number;
  /** Sample trace ids per summary record (failing ones first). */
  samples: number;
  /** A record per failing trace, besides the summaries. */
  perTraceFailures: boolean;
  /** Per-trace records one trace may add (rules × mappings); the rest are cut, counted and logged. */
  maxRecordsPerTrace: number;
  /** How often each tenant's head is anchored when it moved. */
  anchorIntervalMs: number;
}

export const DEFAULT_EVIDENCE_OPTIONS: EvidenceOptions = { windowMs: 60_000, samples: 10, perTraceFailures: true, maxRecordsPerTrace: 64, anchorIntervalMs: 60_000 };

/** Where anchors go: the log outside the data folder, and the writers' outbox (the anchor span). */
export interface Anchoring {
  log: AnchorLog | undefined;
  writers: readonly string[];
  onAnchor?: (anchor: Anchor) => void;
}

export class EvidenceRecorder {
  private timer: NodeJS.Timeout | undefined;
  /** Observations not yet in SQLite: per tenant, rule and window, trace id → failed. */
  private pending = new Map<string, { window: OpenWindow; traces: Map<string, boolean> }>();
  private lastAnchorAt = -Infinity;
  /** Per-trace records cut by maxRecordsPerTrace, by tenant (the sidecar counts them in a metric). */
  onCut?: (tenant: string, records: number, traceId: string) => void;

  constructor(
    readonly store: EvidenceStore,
    /** Names of the writers evidence goes to (one outbox row each). */
    private readonly writers: readonly string[],
    private readonly options: EvidenceOptions,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly anchoring: Anchoring = { log: undefined, writers: [] },
  ) {}

  /**
   * Counts one evaluation. `active`: the rules evaluated to their end; `applicable`: those whose
   * trigger held on the trace (Outcome.applicable), the only ones that count it; `added`: the
   * signals it newly stored (per-trace records follow those, so a re-evaluation adds none).
   */
  observe(tenant: string, trace: Trace, active: readonly ActiveRule[], applicable: readonly string[], violations: readonly Violation[], added: readonly Signal[]): void {
    if (applicable.length === 0 && violations.length === 0) {
      return;
    }
    const failing = new Set(violations.map((v) => v.ruleId));
    // A rule that fired applies (the evaluator guarantees it; a violation is never left uncounted).
    const applies = new Set([...applicable, ...failing]);
    const mapped = active.filter((r) => r.version > 0 && (r.compiled.definition.compliance?.length ?? 0) > 0 && applies.has(r.compiled.definition.id));
    if (mapped.length === 0) {
      return;
    }
    const now = this.now();
    const windowStart = Math.floor(now / this.options.windowMs) * this.options.windowMs;
    for (const r of mapped) {
      const { id, compliance } = r.compiled.definition;
      const key = `${tenant}\u0000${id}\u0000${windowStart}`;
      let entry = this.pending.get(key);
      if (entry === undefined) {
        entry = { window: { tenant, ruleId: id, windowStart, windowEnd: windowStart + this.options.windowMs, compliance: compliance! }, traces: new Map() };
        this.pending.set(key, entry);
      }
      entry.traces.set(trace.traceId, (entry.traces.get(trace.traceId) ?? false) || failing.has(id));
    }
    if (!this.options.perTraceFailures || added.length === 0) {
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
    const max = this.options.maxRecordsPerTrace;
    if (drafts.length > max) {
      // A trace that violates many mapped rules would add rules × mappings records; the summaries count it as failed either way.
      const cut = drafts.length - max;
      drafts.length = max;
      this.log.warn({ tenant, traceId: trace.traceId, written: max, cut }, 'a trace would add more per-trace evidence records than EVIDENCE_MAX_RECORDS_PER_TRACE; the rest are not written (the summaries count the trace)');
      this.onCut?.(tenant, cut, trace.traceId);
    }
    this.store.append(tenant, drafts, this.writers, now);
  }

  /** Anchors every tenant's head that moved since its last anchor; returns how many anchors were published. */
  anchor(): number {
    const now = this.now();
    this.lastAnchorAt = now;
    let published = 0;
    for (const tenant of this.store.chainTenants()) {
      const a = this.store.anchorHead(tenant, now, this.anchoring.writers, this.anchoring.log);
      if (a !== undefined) {
        published++;
        this.anchoring.onAnchor?.(a);
      }
    }
    return published;
  }

  /** Writes the observations collected since the last flush to SQLite. */
  flush(): void {
    if (this.pending.size === 0) {
      return;
    }
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.store.observe(batch);
  }

  /** Seals every window that has ended: one summary record per compliance mapping. Returns the records written. */
  seal(): number {
    this.flush();
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
      if (this.now() - this.lastAnchorAt >= this.options.anchorIntervalMs) {
        try {
          this.anchor();
        } catch (e) {
          this.log.error({ err: e }, 'anchoring the evidence chain heads failed; the next round retries');
        }
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
      try {
        this.anchor();
      } catch (e) {
        this.log.error({ err: e }, 'anchoring the evidence chain heads at stop failed');
      }
    }
  }
}
