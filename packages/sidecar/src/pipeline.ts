/**
 * evaluate → signals → outbox: the one path every trace takes, whether it came in by push
 * (OTLP receiver), pull (Tempo poller) or replay. Rules with compliance mappings also produce
 * evidence here (replay dry runs never reach the pipeline, so they produce none).
 */
import type { Span, Trace, Violation } from '@betrace/evaluator';
import type { Logger } from 'pino';
import { RuleRun, runRules } from './eval/run';
import type { RuleSkips } from './eval/skips';
import type { EvidenceRecorder } from './evidence/recorder';
import type { Metrics } from './metrics';
import type { Redactor } from './redact';
import type { ActiveRule, RuleRegistry } from './rules';
import type { NewSignal, Signal, SignalSource, Store } from './store';
import type { UsageMeter } from './usage';

export interface PipelineLimits {
  budgetMs: number;
  skips?: RuleSkips;
}

/** What an evaluation's caller knows about the trace beyond its spans. */
export interface EvaluationMarks {
  /** Spans of the trace left out at MAX_SPANS_PER_TRACE (0 or absent: the trace is whole). */
  truncatedSpans?: number;
}

/** The marker a signal found on a truncated trace carries at the end of its message. */
export function truncationNote(kept: number, truncated: number): string {
  return `[trace truncated: evaluated on ${kept} spans, ${truncated} over MAX_SPANS_PER_TRACE not evaluated]`;
}

export class Pipeline {
  constructor(
    private readonly store: Store,
    private readonly rules: RuleRegistry,
    private readonly metrics: Metrics,
    /** Names of the writers that are on; each new signal gets one outbox row per writer. */
    private readonly writers: readonly string[],
    private readonly log: Logger,
    private readonly now: () => number,
    /** The tenant's redactor: a message template can render span attributes, so messages are redacted before they are stored. */
    private readonly redactorOf: (tenant: string) => Redactor,
    /** Per-tenant usage: traces evaluated and signals raised. */
    private readonly usage?: UsageMeter,
    private readonly evidence?: EvidenceRecorder,
    /** EVAL_BUDGET for in-process evaluation, and where skipped rules are kept for the rules API. */
    private readonly limits: PipelineLimits = { budgetMs: Infinity },
  ) {}

  /** A violation as it may leave the sidecar: its message redacted by the tenant's policy (`span`: the span its template read). */
  redacted(tenant: string, v: Violation, span?: Span): Violation {
    return { ...v, message: this.redactorOf(tenant).message(v.message, span ? [span.attrs, span.resource] : []) };
  }

  /**
   * Evaluates a trace on this thread against the tenant's rules (or only those in `only`), storing
   * new signals. The sidecar evaluates through its EvalPool (worker threads); this is the pool's
   * in-process path (EVAL_WORKERS=0) and the one for tools and tests.
   */
  evaluate(tenant: string, trace: Trace, source: SignalSource, only?: ReadonlySet<string>): Signal[] {
    return this.evaluateWith(tenant, trace, source, this.select(tenant, only));
  }

  /** Evaluates a trace on this thread against the given rules (replay's, which may be unsaved), storing new signals. */
  evaluateWith(tenant: string, trace: Trace, source: SignalSource, active: readonly ActiveRule[], marks: EvaluationMarks = {}): Signal[] {
    return this.record(tenant, trace, source, active, this.dryRun(trace, active), marks);
  }

  /** Runs the rules on this thread under EVAL_BUDGET; nothing is stored. */
  dryRun(trace: Trace, active: readonly ActiveRule[]): RuleRun {
    return runRules(
      active.map((r) => r.compiled),
      trace,
      this.limits.budgetMs,
    );
  }

  /** A trace that could not be evaluated at all (its worker crashed on it, or the sidecar stopped first): counted and logged, never silent. */
  recordNotEvaluated(tenant: string, trace: Trace, active: readonly ActiveRule[], reason: 'worker-crash' | 'shutdown'): void {
    this.metrics.tracesNotEvaluated.inc({ tenant, reason });
    if (reason === 'worker-crash') {
      for (const r of active) {
        this.metrics.ruleSkipped.inc({ tenant, rule: r.compiled.definition.id, reason });
        this.limits.skips?.record(tenant, r.compiled.definition.id, reason, this.now());
      }
    }
    this.log.error({ tenant, traceId: trace.traceId, spans: trace.spans.length, reason }, 'trace not evaluated');
  }

  /** The tenant's enabled rules, or only those in `only`. */
  select(tenant: string, only?: ReadonlySet<string>): readonly ActiveRule[] {
    const all = this.rules.active(tenant);
    return only === undefined ? all : all.filter((r) => only.has(r.compiled.definition.id));
  }

  /**
   * The one place an evaluation's outcome is stored, wherever it ran: counts it, records skipped
   * rules, stores new signals with their outbox rows, and feeds evidence with the rules that ran.
   * `active` are the rules the evaluation was given (as they were when it was dispatched).
   */
  record(tenant: string, trace: Trace, source: SignalSource, active: readonly ActiveRule[], run: RuleRun, marks: EvaluationMarks = {}): Signal[] {
    this.metrics.evaluationSeconds.observe(run.durationMs / 1000);
    this.metrics.tracesEvaluated.inc({ tenant });
    const truncated = (marks.truncatedSpans ?? 0) > 0;
    if (truncated) {
      this.metrics.tracesTruncated.inc({ tenant });
      this.log.warn({ tenant, traceId: trace.traceId, spans: trace.spans.length, truncatedSpans: marks.truncatedSpans }, 'trace over MAX_SPANS_PER_TRACE: evaluated on the spans it holds');
    }
    for (const skip of run.skipped) {
      this.metrics.ruleSkipped.inc({ tenant, rule: skip.ruleId, reason: skip.reason });
      this.limits.skips?.record(tenant, skip.ruleId, skip.reason, this.now());
      if (skip.reason === 'error') {
        this.log.error({ tenant, ruleId: skip.ruleId, traceId: trace.traceId, err: skip.detail }, 'rule failed at run time');
      } else {
        this.log.warn({ tenant, ruleId: skip.ruleId, traceId: trace.traceId, reason: skip.reason }, 'rule not evaluated on this trace');
      }
    }
    const ran = new Set(run.evaluated);
    const evaluated = run.skipped.length === 0 ? active : active.filter((r) => ran.has(r.compiled.definition.id));
    for (const r of evaluated) {
      this.metrics.ruleEvaluations.inc({ tenant, rule: r.compiled.definition.id });
    }
    const violations = run.violations;
    if (violations.length === 0) {
      this.usage?.count(tenant, { traces: 1 });
      this.recordEvidence(tenant, trace, evaluated, violations, []);
      return [];
    }
    const byId = new Map(active.map((r) => [r.compiled.definition.id, r]));
    const spansById = new Map(trace.spans.map((s) => [s.spanId, s]));
    const pending: NewSignal[] = violations.map((v) => {
      const rule = byId.get(v.ruleId)!;
      const span = spansById.get(v.boundSpanId ?? v.matchedSpanIds[0] ?? '') ?? trace.rootSpan;
      const redacted = this.redacted(tenant, v, spansById.get(v.boundSpanId ?? ''));
      if (truncated) {
        // The signal itself says it was found on part of the trace (its message reaches every writer).
        redacted.message = `${redacted.message} ${truncationNote(trace.spans.length, marks.truncatedSpans!)}`;
      }
      const s: NewSignal = { violation: redacted, ruleVersion: rule.version, ruleName: this.redactorOf(tenant).text(rule.compiled.definition.name), source };
      if (span !== undefined && span.service !== '') {
        s.service = span.service;
      }
      return s;
    });
    const added = this.store.addSignals(tenant, pending, this.writers, this.now());
    this.usage?.count(tenant, { traces: 1, signals: added.length });
    for (const s of added) {
      this.metrics.signals.inc({ tenant, rule: s.ruleId, severity: s.severity });
      this.log.info({ tenant, signalId: s.id, ruleId: s.ruleId, traceId: s.traceId, severity: s.severity }, `signal: ${s.ruleName}: ${s.message}`);
    }
    this.recordEvidence(tenant, trace, evaluated, violations, added);
    return added;
  }

  /** Evidence never stops signals: a failure here is logged, and the signals stand. */
  private recordEvidence(tenant: string, trace: Trace, active: readonly ActiveRule[], violations: Violation[], added: Signal[]): void {
    try {
      this.evidence?.observe(tenant, trace, active, violations, added);
    } catch (e) {
      this.log.error({ err: e, tenant, traceId: trace.traceId }, 'recording evidence failed');
    }
  }
}
