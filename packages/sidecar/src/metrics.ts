/**
 * The sidecar's Prometheus metrics, with the names of the telemetry contract. One registry per
 * sidecar instance (no global registry), so tests can run several sidecars in one process.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, LabelValues, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly spansReceived = new Counter({ name: 'betrace_spans_received_total', help: 'Spans received, by tenant and source.', labelNames: ['tenant', 'source'], registers: [this.registry] });
  readonly ingestBytes = new Counter({ name: 'betrace_ingest_bytes_total', help: 'Bytes of trace data received, by tenant.', labelNames: ['tenant'], registers: [this.registry] });
  readonly tracesEvaluated = new Counter({ name: 'betrace_traces_evaluated_total', help: 'Traces evaluated, by tenant.', labelNames: ['tenant'], registers: [this.registry] });
  readonly ruleEvaluations = new Counter({ name: 'betrace_rule_evaluations_total', help: 'Rule evaluations, by tenant and rule.', labelNames: ['tenant', 'rule'], registers: [this.registry] });
  readonly ruleSkipped = new Counter({ name: 'betrace_rule_skipped_total', help: 'Rule evaluations not completed on a trace, by tenant, rule and reason (step-budget, time-budget, error).', labelNames: ['tenant', 'rule', 'reason'], registers: [this.registry] });
  readonly ruleTriggered = new Counter({
    name: 'betrace_rule_triggered_total',
    help: 'Traces evaluated to their end on which the rule’s trigger held (its when clause; a violating trace always counts), by tenant and rule.',
    labelNames: ['tenant', 'rule'],
    registers: [this.registry],
  });
  readonly ruleViolations = new Counter({
    name: 'betrace_rule_violations_total',
    help: 'Traces evaluated to their end that violated the rule (each evaluation, whether or not a new signal was stored), by tenant and rule.',
    labelNames: ['tenant', 'rule'],
    registers: [this.registry],
  });
  readonly ruleCostSeconds = new Counter({
    name: 'betrace_rule_cost_seconds_total',
    help: 'Evaluation time of the rule on the sampled traces (1 trace in 16 per rule), by tenant and rule.',
    labelNames: ['tenant', 'rule'],
    registers: [this.registry],
  });
  readonly ruleCostSamples = new Counter({
    name: 'betrace_rule_cost_samples_total',
    help: 'Traces the rule’s evaluation was timed on (betrace_rule_cost_seconds_total ÷ this: seconds per trace), by tenant and rule.',
    labelNames: ['tenant', 'rule'],
    registers: [this.registry],
  });
  readonly signals = new Counter({ name: 'betrace_signals_total', help: 'Signals raised (new ones only), by tenant, rule and severity.', labelNames: ['tenant', 'rule', 'severity'], registers: [this.registry] });
  readonly evaluationSeconds = new Histogram({
    name: 'betrace_evaluation_seconds',
    help: 'Time to evaluate one trace against its tenant’s rules.',
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1],
    registers: [this.registry],
  });
  readonly bufferSpans = new Gauge({ name: 'betrace_buffer_spans', help: 'Spans held by trace assembly.', registers: [this.registry] });
  readonly bufferBytes = new Gauge({ name: 'betrace_buffer_bytes', help: 'Bytes held by trace assembly as MAX_BUFFER_BYTES counts them (wire bytes plus a measured per-span overhead).', registers: [this.registry] });
  readonly tracesDropped = new Counter({ name: 'betrace_traces_dropped_total', help: 'Spans dropped or refused, by reason.', labelNames: ['reason'], registers: [this.registry] });
  readonly spansDuplicate = new Counter({
    name: 'betrace_spans_duplicate_total',
    help: 'Spans received again while their trace was still buffered (same trace id and span id: a sender’s retry, a batch read back from the ingest log and then resent) and so not counted twice; the copy first buffered is kept, by tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  readonly pollUnavailable = new Counter({ name: 'betrace_poll_unavailable_traces_total', help: 'Traces Tempo search listed but trace-by-id never returned, after every retry of their window, by tenant.', labelNames: ['tenant'], registers: [this.registry] });
  readonly pollLag = new Gauge({ name: 'betrace_poll_lag_seconds', help: 'How far behind real time pull mode is, by tenant.', labelNames: ['tenant'], registers: [this.registry] });
  readonly evidenceRecords = new Counter({ name: 'betrace_evidence_records_total', help: 'Compliance evidence records written, by tenant (usage).', labelNames: ['tenant'], registers: [this.registry] });
  readonly evidenceRecordsCut = new Counter({
    name: 'betrace_evidence_records_cut_total',
    help: 'Per-trace evidence records not written because one trace would add more than EVIDENCE_MAX_RECORDS_PER_TRACE (the summaries still count the trace), by tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  readonly evidenceAnchors = new Counter({ name: 'betrace_evidence_anchors_total', help: 'Chain-head anchors published (anchor log, and spans with OTLP_EXPORT_URL), by tenant.', labelNames: ['tenant'], registers: [this.registry] });
  readonly rulesRevision = new Gauge({
    name: 'betrace_rules_revision',
    help: 'The store’s rules revision the tenant’s rules in force on this replica were compiled at (it moves with every rule change; replicas sharing a store converge on one value), by tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  readonly ruleSync = new Counter({
    name: 'betrace_rule_sync_total',
    help: 'Reloads of a tenant’s rules after another replica changed them (RULE_SYNC_MS), by tenant and result (reloaded; failed: the store could not be read, the rules in force stay).',
    labelNames: ['tenant', 'result'],
    registers: [this.registry],
  });
  readonly ruleCompileFailures = new Gauge({
    name: 'betrace_rule_compile_failures',
    help: 'Stored, enabled rules whose current version does not compile on this replica (its last version that compiled stays in force, if any; the log names the rule), by tenant.',
    labelNames: ['tenant'],
    registers: [this.registry],
  });
  readonly writerQueue = new Gauge({ name: 'betrace_writer_queue', help: 'Signals waiting in a writer’s outbox (configured writers only).', labelNames: ['writer'], registers: [this.registry] });

  /** The counters bumped per trace and per rule of a trace, as tallies (see Tallies). */
  readonly tracesEvaluatedTallies = new Tallies(this.tracesEvaluated);
  readonly ruleEvaluationsTallies = new Tallies(this.ruleEvaluations);
  readonly ruleTriggeredTallies = new Tallies(this.ruleTriggered);
  readonly ruleViolationsTallies = new Tallies(this.ruleViolations);
  readonly ruleCostSecondsTallies = new Tallies(this.ruleCostSeconds);
  readonly ruleCostSamplesTallies = new Tallies(this.ruleCostSamples);

  constructor() {
    // The standard process and Node.js runtime series every Prometheus user expects
    // (process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_seconds, …).
    collectDefaultMetrics({ register: this.registry });
  }
}

/** One labelled series' count, bumped in a hot path as a plain number (`tally.n += k`). */
export interface Tally {
  n: number;
}

/**
 * Counts for a labelled counter that the hot paths bump per rule per trace. prom-client hashes
 * the label values on every inc (a child's too), about 2 µs a call, which made metrics a fifth of
 * the receiving thread's time; a tally is a number, handed to the counter whenever the counter
 * is collected (every scrape, every registry read), so what is read is always whole.
 */
export class Tallies<L extends string> {
  private readonly cells: Array<{ labels: LabelValues<L>; tally: Tally }> = [];
  private readonly byKey = new Map<string, Tally>();

  constructor(private readonly counter: Counter<L>) {
    const flush = () => this.flush();
    const holder = counter as unknown as { collect?: (this: Counter<L>) => unknown };
    const own = holder.collect;
    holder.collect = function (this: Counter<L>) {
      flush();
      return own?.call(this);
    };
  }

  /** The tally of these label values; `key` names them (the caller keeps the tally, so this runs once per series). */
  of(key: string, labels: LabelValues<L>): Tally {
    let t = this.byKey.get(key);
    if (t === undefined) {
      t = { n: 0 };
      this.byKey.set(key, t);
      this.cells.push({ labels, tally: t });
    }
    return t;
  }

  /** Adds every tally to its counter. */
  flush(): void {
    for (const c of this.cells) {
      if (c.tally.n !== 0) {
        this.counter.inc(c.labels, c.tally.n);
        c.tally.n = 0;
      }
    }
  }
}
