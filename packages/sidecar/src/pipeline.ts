/**
 * evaluate → signals → outbox: the one path every trace takes, whether it came in by push
 * (OTLP receiver), pull (Tempo poller) or replay. Rules with compliance mappings also produce
 * evidence here (replay dry runs never reach the pipeline, so they produce none).
 */
import type { Span, Trace, Violation } from '@betrace/evaluator';
import { CostSampler, evaluateOutcome, Outcome, RuleSkip } from './eval/outcome';
import type { RuleHealthStore } from './health/store';
import type { Logger } from 'pino';
import type { EvidenceRecorder } from './evidence/recorder';
import type { Metrics, Tally } from './metrics';
import type { Redactor } from './redact';
import type { ActiveRule, RuleRegistry } from './rules';
import type { NewSignal, Signal, SignalSource, Store } from './store';
import type { UsageMeter } from './usage';

const NONE: ReadonlySet<string> = new Set();

/** A rule's per-trace counters, for one tenant. */
interface RuleTallies {
  evaluations: Tally;
  triggered: Tally;
  violations: Tally;
  costSeconds: Tally;
  costSamples: Tally;
}

export class Pipeline {
  /** Per tenant: its traces-evaluated tally, and its rules' tallies by rule id. */
  private readonly tallies = new Map<string, { traces: Tally; rules: Map<string, RuleTallies> }>();
  private readonly byIdCache = new WeakMap<readonly ActiveRule[], ReadonlyMap<string, ActiveRule>>();
  /** Which traces evaluated on this thread time which rules (shard workers have their own). */
  private readonly sampler = new CostSampler();

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
    /** The per-trace evaluation budget (EVAL_BUDGET), in milliseconds; undefined: only the evaluator's step limit. */
    private readonly budgetMs?: number,
    /** Called for each rule not evaluated to its end on a trace (the rule's marker and metric). */
    private readonly onSkipped?: (tenant: string, skip: RuleSkip, traceId: string) => void,
    /** Rule health over time: every evaluation's per-rule counts (flushed by the sidecar's tick). */
    private readonly health?: RuleHealthStore,
  ) {}

  /** A violation as it may leave the sidecar: its message redacted by the tenant's policy (`span`: the span its template read). */
  redacted(tenant: string, v: Violation, span?: Span): Violation {
    return { ...v, message: this.redactorOf(tenant).message(v.message, span ? [span.attrs, span.resource] : []) };
  }

  /** Evaluates a trace against the tenant's rules (or only those in `only`), storing new signals. */
  evaluate(tenant: string, trace: Trace, source: SignalSource, only?: ReadonlySet<string>): Signal[] {
    const all = this.rules.active(tenant);
    return this.evaluateWith(tenant, trace, source, only === undefined ? all : all.filter((r) => only.has(r.compiled.definition.id)));
  }

  /** Evaluates a trace against the given rules (replay's, which may be unsaved), storing new signals. */
  evaluateWith(tenant: string, trace: Trace, source: SignalSource, active: readonly ActiveRule[]): Signal[] {
    return this.record(tenant, evaluateOutcome(active, trace, this.budgetMs, this.sampler), source, active);
  }

  /**
   * Records one evaluation (made here or on a shard worker): metrics, skipped rules, new signals
   * (redacted, one outbox row per writer), usage and evidence. `active`: the rules it was made
   * with, by id; a violation of a rule no longer among them (deleted or disabled since) is dropped.
   * Push mode calls this inside the trace's decision transaction.
   */
  record(tenant: string, outcome: Outcome, source: SignalSource, active: readonly ActiveRule[] = this.rules.active(tenant)): Signal[] {
    const { trace } = outcome;
    this.metrics.evaluationSeconds.observe(outcome.seconds);
    this.talliesOf(tenant).traces.n++;
    const byId = this.byIdOf(active);
    let checked: readonly ActiveRule[] = active;
    // Usually every rule ran, at the version this thread knows: then they are `active` itself.
    let same = outcome.evaluated.length === active.length;
    for (let i = 0; same && i < active.length; i++) {
      same = outcome.evaluated[i].id === active[i].compiled.definition.id && outcome.evaluated[i].version === active[i].version;
    }
    if (!same) {
      const list: ActiveRule[] = [];
      for (const e of outcome.evaluated) {
        const rule = byId.get(e.id);
        if (rule !== undefined) {
          list.push(rule.version === e.version ? rule : { ...rule, version: e.version });
        }
      }
      checked = list;
    }
    const violations = outcome.violations.filter((v) => byId.has(v.ruleId));
    this.recordHealth(tenant, outcome, checked, byId, violations);
    for (const s of outcome.skipped) {
      this.onSkipped?.(tenant, s, trace.traceId);
      if (s.reason === 'error') {
        this.log.error({ tenant, ruleId: s.ruleId, traceId: trace.traceId, err: s.detail }, 'rule failed at run time');
      } else {
        this.log.warn({ tenant, ruleId: s.ruleId, traceId: trace.traceId, reason: s.reason }, 'rule not evaluated on a trace: its evaluation budget ran out');
      }
    }
    if (violations.length === 0) {
      this.usage?.count(tenant, { traces: 1 });
      this.recordEvidence(tenant, trace, checked, outcome.applicable, violations, []);
      return [];
    }
    const spansById = new Map(trace.spans.map((s) => [s.spanId, s]));
    const pending: NewSignal[] = violations.map((v) => {
      const rule = byId.get(v.ruleId)!;
      const span = spansById.get(v.boundSpanId ?? v.matchedSpanIds[0] ?? '') ?? trace.rootSpan;
      const s: NewSignal = { violation: this.redacted(tenant, v, spansById.get(v.boundSpanId ?? '')), ruleVersion: outcome.evaluated.find((e) => e.id === v.ruleId)?.version ?? rule.version, ruleName: this.redactorOf(tenant).text(rule.compiled.definition.name), source };
      // The signal span's place in the trace: where the span it points at ends (else the trace's end).
      const anchor = span?.endNs ?? (trace.endNs > 0n ? trace.endNs : undefined);
      if (anchor !== undefined && anchor > 0n) {
        s.anchorNs = anchor;
      }
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
    this.recordEvidence(tenant, trace, checked, outcome.applicable, violations, added);
    return added;
  }

  /**
   * Rule health of one evaluation: per rule evaluated to its end, evaluated, triggered (its
   * trigger held; a violated rule always), violated; per rule the budget stopped, skipped; the
   * sampled costs. Metrics at once, the store's hourly counts at its next flush.
   */
  private recordHealth(tenant: string, outcome: Outcome, checked: readonly ActiveRule[], byId: ReadonlyMap<string, ActiveRule>, violations: readonly Violation[]): void {
    const at = this.now();
    const violated = violations.length === 0 ? NONE : new Set(violations.map((v) => v.ruleId));
    const triggered = outcome.triggered.length === 0 ? NONE : new Set(outcome.triggered);
    const tallies = this.talliesOf(tenant);
    for (const r of checked) {
      const rule = r.compiled.definition.id;
      const t = this.ruleTallies(tenant, tallies.rules, rule);
      t.evaluations.n++;
      const fired = violated.has(rule);
      const held = fired || triggered.has(rule);
      if (held) {
        t.triggered.n++;
      }
      if (fired) {
        t.violations.n++;
      }
      this.health?.count(tenant, rule, at, { evaluated: 1, triggered: held ? 1 : 0, violations: fired ? 1 : 0 });
    }
    for (const s of outcome.skipped) {
      if (s.reason !== 'error') {
        this.health?.count(tenant, s.ruleId, at, { skipped: 1 });
      }
    }
    for (const [rule, micros] of outcome.costs) {
      if (!byId.has(rule)) {
        continue; // deleted or disabled since
      }
      const t = this.ruleTallies(tenant, tallies.rules, rule);
      t.costSeconds.n += micros / 1e6;
      t.costSamples.n++;
      this.health?.count(tenant, rule, at, { costUs: micros, costSamples: 1 });
    }
  }

  /** The rules by id, made once per rule list (the registry hands out the same array until the rules change). */
  private byIdOf(active: readonly ActiveRule[]): ReadonlyMap<string, ActiveRule> {
    let m = this.byIdCache.get(active);
    if (m === undefined) {
      m = new Map(active.map((r) => [r.compiled.definition.id, r]));
      this.byIdCache.set(active, m);
    }
    return m;
  }

  private talliesOf(tenant: string): { traces: Tally; rules: Map<string, RuleTallies> } {
    let t = this.tallies.get(tenant);
    if (t === undefined) {
      t = { traces: this.metrics.tracesEvaluatedTallies.of(tenant, { tenant }), rules: new Map() };
      this.tallies.set(tenant, t);
    }
    return t;
  }

  /** A rule's tallies, made once per tenant and rule (the label key is built only then). */
  private ruleTallies(tenant: string, rules: Map<string, RuleTallies>, rule: string): RuleTallies {
    let t = rules.get(rule);
    if (t === undefined) {
      const key = `${tenant}\u0000${rule}`;
      const labels = { tenant, rule };
      const m = this.metrics;
      t = {
        evaluations: m.ruleEvaluationsTallies.of(key, labels),
        triggered: m.ruleTriggeredTallies.of(key, labels),
        violations: m.ruleViolationsTallies.of(key, labels),
        costSeconds: m.ruleCostSecondsTallies.of(key, labels),
        costSamples: m.ruleCostSamplesTallies.of(key, labels),
      };
      rules.set(rule, t);
    }
    return t;
  }

  /** Evidence never stops signals: a failure here is logged, and the signals stand. */
  private recordEvidence(tenant: string, trace: Trace, active: readonly ActiveRule[], applicable: readonly string[], violations: Violation[], added: Signal[]): void {
    try {
      this.evidence?.observe(tenant, trace, active, applicable, violations, added);
    } catch (e) {
      this.log.error({ err: e, tenant, traceId: trace.traceId }, 'recording evidence failed');
    }
  }
}
