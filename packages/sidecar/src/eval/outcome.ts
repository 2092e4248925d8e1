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
  evaluated: Array<{ id: string; version: number }>;
  skipped: RuleSkip[];
  /**
   * The rules with compliance mappings that the trace is evidence for: evaluated to their end,
   * with their trigger held (the `when` clause; an expression rule's positive span terms). Only
   * these count the trace as checked; to the others it is "not applicable".
   */
  applicable: string[];
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
 * out of budget or threw is skipped: its result is "not evaluated", never a pass. For rules with
 * compliance mappings (only those: it costs a second look at the trigger), it also notes whether
 * their trigger held.
 */
export function evaluateOutcome(rules: readonly ActiveRule[], trace: Trace, budgetMs: number | undefined): Outcome {
  const started = performance.now();
  const skipped: RuleSkip[] = [];
  const applicable: string[] = [];
  const mapped = mappedRuleIds(rules);
  const violations = evaluateTrace(
    rules.map((r) => r.compiled),
    trace,
    {
      timeBudgetMs: budgetMs,
      onRuleSkipped: (ruleId, reason) => skipped.push({ ruleId, reason }),
      onRuleError: (ruleId, e) => skipped.push({ ruleId, reason: 'error', detail: e instanceof Error ? e.message : String(e) }),
      ...(mapped === undefined ? {} : { triggerRuleIds: mapped, onTriggered: (ruleId: string) => applicable.push(ruleId) }),
    },
  );
  const notRun = new Set(skipped.map((s) => s.ruleId));
  // A skipped rule's partial findings stand (they are real violations); its result does not count as checked.
  return {
    traceId: trace.traceId,
    violations,
    evaluated: rules.filter((r) => !notRun.has(r.compiled.definition.id)).map((r) => ({ id: r.compiled.definition.id, version: r.version })),
    skipped,
    applicable,
    trace: digestTrace(trace, violations),
    spanCount: trace.spans.length,
    seconds: (performance.now() - started) / 1000,
  };
}
