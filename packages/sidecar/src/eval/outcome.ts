/**
 * One trace against a tenant's rules, as pure computation: what fired, which rules ran to their
 * end, which were skipped (and why), and the few spans the signals and evidence will read. It
 * touches nothing else, so it runs on a shard worker thread as well as on the main thread; the
 * outcome is plain data that crosses a thread boundary by structured clone, and Pipeline.record
 * turns it into signals, evidence and metrics on the thread that owns the store.
 */
import { evaluateTrace, RuleDefinition, RuleSkipReason, Span, Trace, Violation } from '@betrace/evaluator';
import type { ActiveRule } from '../rules';

/** Why a rule's result on a trace is "not evaluated": the evaluator's budgets, or the rule threw. */
export type SkipReason = RuleSkipReason | 'error';

export interface RuleSkip {
  ruleId: string;
  reason: SkipReason;
  /** The error's message (reason `error`). */
  detail?: string;
}

export interface Outcome {
  traceId: string;
  violations: Violation[];
  /** The rules whose result on this trace counts (ran to their end), with the version that ran. */
  evaluated: ReadonlyArray<{ readonly id: string; readonly version: number }>;
  skipped: RuleSkip[];
  /**
   * The rules with compliance mappings that the trace is evidence for: evaluated to their end,
   * with their trigger held (the `when` clause; an expression rule's positive span terms). Only
   * these count the trace as checked; to the others it is "not applicable".
   */
  applicable: string[];
  /**
   * Every rule evaluated to its end whose trigger held on the trace (a superset of `applicable`;
   * a rule that fired is always here): rule health's "triggered" count.
   */
  triggered: string[];
  /** The rules timed on this trace (1 trace in COST_SAMPLE_EVERY per rule), with their time in microseconds. */
  costs: Array<[ruleId: string, micros: number]>;
  /**
   * The trace as signals and evidence need it (digestTrace): its id and bounds; with violations,
   * the spans they point at (bound span, else first matched span) copied to plain objects, and the
   * root's identity. Not the whole trace: that stays where it was assembled.
   */
  trace: Trace;
  /** Spans the trace held when it was evaluated. */
  spanCount: number;
  /** Wall-clock seconds the evaluation took. */
  seconds: number;
}

/** A rule as a shard worker receives it: its definition and stored version (compiled there). */
export interface RuleSpec {
  definition: RuleDefinition;
  version: number;
}

/** A span copied to plain data (the wire decoder's spans read attributes lazily from the body). */
export function plainSpan(s: Span): Span {
  const out: Span = { ...identity(s), attrs: { ...s.attrs }, resource: { ...s.resource }, events: [], links: [] };
  if (s.scope !== undefined) {
    out.scope = { ...s.scope };
  }
  return out;
}

/**
 * The trace cut down to what Pipeline.record reads: the spans the violations name (whole), and
 * the root (its identity and service only: a signal falls back to the root's service, per-trace
 * evidence names the root's span id). A trace without violations needs neither.
 */
export function digestTrace(trace: Trace, violations: readonly Violation[]): Trace {
  const digest: Trace = { traceId: trace.traceId, spans: [], startNs: trace.startNs, endNs: trace.endNs };
  if (trace.droppedSpanCount !== undefined) {
    digest.droppedSpanCount = trace.droppedSpanCount;
  }
  if (violations.length === 0) {
    return digest;
  }
  const wanted = new Set<string>();
  for (const v of violations) {
    const id = v.boundSpanId ?? v.matchedSpanIds[0];
    if (id !== undefined) {
      wanted.add(id);
    }
  }
  for (const s of trace.spans) {
    if (wanted.has(s.spanId)) {
      const copy = plainSpan(s);
      digest.spans.push(copy);
      wanted.delete(s.spanId);
      if (s === trace.rootSpan) {
        digest.rootSpan = copy;
      }
    }
  }
  const root = trace.rootSpan;
  if (root !== undefined && digest.rootSpan === undefined) {
    digest.rootSpan = { ...identity(root), attrs: {}, resource: {}, events: [], links: [] };
    digest.spans.push(digest.rootSpan);
  }
  return digest;
}

/** A span's fields other than its attributes, events and links (reading those of a wire span decodes them). */
function identity(s: Span): Omit<Span, 'attrs' | 'resource' | 'events' | 'links'> {
  const out: Omit<Span, 'attrs' | 'resource' | 'events' | 'links'> = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: s.kind,
    status: s.status,
    statusMessage: s.statusMessage,
    startNs: s.startNs,
    endNs: s.endNs,
    durationNs: s.durationNs,
    service: s.service,
  };
  if (s.parentSpanId !== undefined) {
    out.parentSpanId = s.parentSpanId;
  }
  return out;
}

/** Rule health times each rule on one trace in this many (rule i on trace n when (n + i) % 16 is 0: spread over traces). */
export const COST_SAMPLE_EVERY = 16;

/**
 * Which traces each rule is timed on: a count of traces per rule list (the registry hands out a
 * new list when the rules change, and the count starts again). One per thread that evaluates.
 */
export class CostSampler {
  private readonly counts = new WeakMap<readonly ActiveRule[], { n: number }>();

  /** This trace's number for the rule list (0, 1, 2, …). */
  next(rules: readonly ActiveRule[]): number {
    let c = this.counts.get(rules);
    if (c === undefined) {
      c = { n: 0 };
      this.counts.set(rules, c);
    }
    const n = c.n;
    c.n = (n + 1) % COST_SAMPLE_EVERY;
    return n;
  }
}

const idsCache = new WeakMap<readonly ActiveRule[], ReadonlySet<string>>();

/** Ids of every rule of the list, once per rule list: each rule's trigger is reported. */
function allRuleIds(rules: readonly ActiveRule[]): ReadonlySet<string> {
  let ids = idsCache.get(rules);
  if (ids === undefined) {
    ids = new Set(rules.map((r) => r.compiled.definition.id));
    idsCache.set(rules, ids);
  }
  return ids;
}

const compiledCache = new WeakMap<readonly ActiveRule[], { compiled: Array<ActiveRule['compiled']>; all: Outcome['evaluated'] }>();

/**
 * The compiled rules of the list, and the `evaluated` of a trace every rule ran to its end on,
 * once per rule list. That array is shared by those outcomes (nothing writes to it): a reply of
 * a shard worker clones it once, however many of its decisions hold it.
 */
function ruleListOf(rules: readonly ActiveRule[]): { compiled: Array<ActiveRule['compiled']>; all: Outcome['evaluated'] } {
  let c = compiledCache.get(rules);
  if (c === undefined) {
    c = { compiled: rules.map((r) => r.compiled), all: rules.map((r) => ({ id: r.compiled.definition.id, version: r.version })) };
    compiledCache.set(rules, c);
  }
  return c;
}

const mappedCache = new WeakMap<readonly ActiveRule[], ReadonlySet<string> | undefined>();

/** Ids of the rules with compliance mappings, once per rule list (the registry hands out the same array until the rules change). */
function mappedRuleIds(rules: readonly ActiveRule[]): ReadonlySet<string> | undefined {
  if (mappedCache.has(rules)) {
    return mappedCache.get(rules);
  }
  const ids = new Set(rules.filter((r) => (r.compiled.definition.compliance?.length ?? 0) > 0).map((r) => r.compiled.definition.id));
  const out = ids.size === 0 ? undefined : ids;
  mappedCache.set(rules, out);
  return out;
}

/**
 * Evaluates the trace against the rules within the per-trace budget (`budgetMs`: wall-clock for
 * all rules together; the evaluator's step limit applies per rule regardless). A rule that ran
 * out of budget or threw is skipped: its result is "not evaluated", never a pass. For every rule
 * that ran to its end it notes whether its trigger held (rule health; for rules with compliance
 * mappings, evidence too). With a sampler, some rules are timed (rule health's sampled cost).
 */
export function evaluateOutcome(rules: readonly ActiveRule[], trace: Trace, budgetMs: number | undefined, sampler?: CostSampler): Outcome {
  const started = performance.now();
  const skipped: RuleSkip[] = [];
  const applicable: string[] = [];
  const triggered: string[] = [];
  const costs: Array<[string, number]> = [];
  const mapped = mappedRuleIds(rules);
  const phase = sampler?.next(rules);
  const list = ruleListOf(rules);
  const violations = evaluateTrace(
    list.compiled,
    trace,
    {
      timeBudgetMs: budgetMs,
      onRuleSkipped: (ruleId, reason) => skipped.push({ ruleId, reason }),
      onRuleError: (ruleId, e) => skipped.push({ ruleId, reason: 'error', detail: e instanceof Error ? e.message : String(e) }),
      triggerRuleIds: allRuleIds(rules),
      onTriggered: (ruleId: string) => {
        triggered.push(ruleId);
        if (mapped !== undefined && mapped.has(ruleId)) {
          applicable.push(ruleId);
        }
      },
      // performance.now(): monotonic, sub-microsecond in Node (process.hrtime's clock), in milliseconds.
      ...(phase === undefined ? {} : { cost: { sampled: (i: number) => (phase + i) % COST_SAMPLE_EVERY === 0, clock: () => performance.now(), onCost: (ruleId: string, ms: number) => costs.push([ruleId, ms * 1000]) } }),
    },
  );
  let evaluated = list.all;
  if (skipped.length > 0) {
    // A skipped rule's partial findings stand (they are real violations); its result does not count as checked.
    const notRun = new Set(skipped.map((s) => s.ruleId));
    evaluated = list.all.filter((e) => !notRun.has(e.id));
  }
  return {
    traceId: trace.traceId,
    violations,
    evaluated,
    skipped,
    applicable,
    triggered,
    costs,
    trace: digestTrace(trace, violations),
    spanCount: trace.spans.length,
    seconds: (performance.now() - started) / 1000,
  };
}
