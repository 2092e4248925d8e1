/**
 * Invariant discovery (issue 13): mines candidate rules from traces and judges them.
 *
 * Pass 1 reads every trace once, keeps the training ones' statistics (miner.ts) and builds
 * candidates of every kind (candidates.ts), folds the redundant ones (fold.ts) and drops those
 * equal to an existing rule or dismissed. Pass 2 reads the traces again and runs the remaining
 * candidates as real compiled rules: on the training traces for their exact support, violations
 * and example traces, on the held-out traces for their fire rate there. What does not hold up
 * on the held-out traces is dropped; the rest is ranked. Pure: no I/O, browser and Node alike.
 * See docs/discovery.md.
 */
import { compileRule } from '../compile';
import { evaluateTrace } from '../evaluate';
import type { Trace } from '../model';
import type { CompiledRule } from '../types';
import { canonicalRule } from './canon';
import { buildCandidates, Candidate } from './candidates';
import { foldRedundant } from './fold';
import { fnv1a32, fnv1a64Hex } from './hash';
import { isTruncated, Miner } from './miner';
import { RuleText } from './text';
import {
  DiscoverAborted,
  DiscoverOptions,
  DiscoveryResult,
  Suggestion,
  SUGGESTION_KINDS,
  SuggestionKind,
  TraceSource,
} from './types';

export * from './types';
export { fnv1a64Hex } from './hash';
export { canonicalRule } from './canon';
export { isTruncated } from './miner';

/**
 * The V8 heap discovery mines in, in MiB: the sidecar runs the miner on a worker thread with these
 * resource limits (`DISCOVER_HEAP_MB` sets the old generation), and `npm run bench discover`
 * measures it that way. The miner's own statistics stay near 300 MiB at 5 000 span names
 * (docs/discovery.md); without a bound V8 lets the garbage of the traces read (a new object graph
 * per trace) grow the heap towards its default limit, a quarter of the machine's memory, before
 * it collects: 1.5 GiB of RSS on 100 000 traces. A larger young generation keeps that garbage
 * from being promoted, so the bounded old generation is collected rarely.
 */
export const MINING_HEAP_MB = { old: 512, young: 96 } as const;

/** Defaults (docs/discovery.md explains each). */
export const DISCOVER_DEFAULTS = {
  minSupport: 20,
  /**
   * 0.97: above the 80–95 % at which a correlation is a coincidence rather than an invariant
   * (a distractor at 95 % over 1 000 traces stays below it with more than 99.9 % probability),
   * below the 98 % that an invariant still shows with 2 % of its traces violating it.
   */
  minConfidence: 0.97,
  top: 50,
  holdout: 0.3,
  seed: 1,
  maxExamples: 5,
} as const;

/** Candidates measured in pass 2: at least this many, or four times `top`. */
const MIN_MEASURED = 200;
const PROGRESS_EVERY = 1000;
const Z = 1.96;

/** Suggestion id: `sg-` and FNV-1a 64 of the kind and the condition. */
export function suggestionId(kind: SuggestionKind, condition: string): string {
  return `sg-${fnv1a64Hex(`${kind}\n${condition}`)}`;
}

/** Wilson score interval (95 %) of a proportion `p` observed over `n` trials. */
export function wilson(p: number, n: number): { lower: number; upper: number } {
  if (n <= 0) {
    return { lower: 0, upper: 1 };
  }
  const z2 = Z * Z;
  const centre = p + z2 / (2 * n);
  const spread = Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const d = 1 + z2 / n;
  return { lower: Math.max(0, (centre - spread) / d), upper: Math.min(1, (centre + spread) / d) };
}

interface Resolved {
  minSupport: number;
  minConfidence: number;
  top: number;
  holdout: number;
  seed: number;
  kinds: ReadonlySet<SuggestionKind>;
  maxExamples: number;
}

function resolve(o: DiscoverOptions): Resolved {
  const num = (name: string, v: number | undefined, dflt: number, ok: (x: number) => boolean, what: string): number => {
    if (v === undefined) {
      return dflt;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
      throw new RangeError(`discover: ${name} must be ${what}, got ${String(v)}`);
    }
    return v;
  };
  const kinds = o.kinds ?? SUGGESTION_KINDS;
  for (const k of kinds) {
    if (!SUGGESTION_KINDS.includes(k)) {
      throw new RangeError(`discover: unknown kind ${JSON.stringify(k)}; the kinds are ${SUGGESTION_KINDS.join(', ')}`);
    }
  }
  const int = (x: number): boolean => Number.isInteger(x);
  return {
    minSupport: num('minSupport', o.minSupport, DISCOVER_DEFAULTS.minSupport, (x) => int(x) && x >= 1, 'an integer of at least 1'),
    minConfidence: num('minConfidence', o.minConfidence, DISCOVER_DEFAULTS.minConfidence, (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
    top: num('top', o.top, DISCOVER_DEFAULTS.top, (x) => int(x) && x >= 0, 'a non-negative integer'),
    holdout: num('holdout', o.holdout, DISCOVER_DEFAULTS.holdout, (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
    seed: num('seed', o.seed, DISCOVER_DEFAULTS.seed, int, 'an integer'),
    maxExamples: num('maxExamples', o.maxExamples, DISCOVER_DEFAULTS.maxExamples, (x) => int(x) && x >= 0, 'a non-negative integer'),
    kinds: new Set(kinds),
  };
}

/** Visits every trace of one pass, sync or async, checking for cancellation before each. */
async function eachTrace(source: TraceSource, signal: DiscoverOptions['signal'], visit: (t: Trace) => void): Promise<void> {
  const it = source();
  if (signal?.aborted) {
    throw new DiscoverAborted();
  }
  if (Symbol.asyncIterator in it) {
    for await (const t of it as AsyncIterable<Trace>) {
      if (signal?.aborted) {
        throw new DiscoverAborted();
      }
      visit(t);
    }
  } else {
    for (const t of it as Iterable<Trace>) {
      if (signal?.aborted) {
        throw new DiscoverAborted();
      }
      visit(t);
    }
  }
}

interface Measured {
  cand: Candidate;
  id: string;
  rule: CompiledRule;
  /** The trigger as a rule of its own, when it is more than the presence of cand.trigger. */
  trigger?: CompiledRule;
  support: number;
  violations: number;
  examples: string[];
  violating: string[];
  heldSupport: number;
  heldViolations: number;
}

/** Whether discovery holds the trace out of mining (for validation), for a seed and hold-out fraction. */
export function isHeldOut(traceId: string, seed: number = DISCOVER_DEFAULTS.seed, holdout: number = DISCOVER_DEFAULTS.holdout): boolean {
  return holdout > 0 && fnv1a32(traceId, fnv1a32(`betrace-discover:${seed}`)) / 0x100000000 < holdout;
}

export async function discoverInvariants(source: TraceSource, options: DiscoverOptions = {}): Promise<DiscoveryResult> {
  const opt = resolve(options);
  const { signal, onProgress } = options;
  const seedBasis = fnv1a32(`betrace-discover:${opt.seed}`);
  const heldOut = (traceId: string): boolean => opt.holdout > 0 && fnv1a32(traceId, seedBasis) / 0x100000000 < opt.holdout;

  // ---------------------------------------------------------------- pass 1: mining
  const miner = new Miner({ minConfidence: opt.minConfidence });
  let traces = 0;
  let spans = 0;
  let truncated = 0;
  await eachTrace(source, signal, (trace) => {
    traces++;
    spans += trace.spans.length;
    if (!heldOut(trace.traceId)) {
      if (isTruncated(trace)) {
        truncated++;
      } else {
        miner.add(trace);
      }
    }
    if (traces % PROGRESS_EVERY === 0) {
      onProgress?.({ phase: 'mining', traces });
    }
  });
  onProgress?.({ phase: 'mining', traces });

  const text = new RuleText();
  const counts = { candidates: 0, lowSupport: 0, lowConfidence: 0 };
  const dropped = { lowSupport: 0, lowConfidence: 0, redundant: 0, existing: 0, dismissed: 0, heldOut: 0 };
  const all = buildCandidates(miner, { minSupport: opt.minSupport, minConfidence: opt.minConfidence, kinds: opt.kinds }, text, counts);
  all.sort((x, y) => prelimScore(y) - prelimScore(x) || (x.condition < y.condition ? -1 : x.condition > y.condition ? 1 : 0));
  const { kept, folded } = foldRedundant(all);
  dropped.redundant = folded;

  const existing = new Set<string>();
  for (const r of options.existingRules ?? []) {
    const c = canonicalRule(r.condition);
    if (c !== undefined) {
      existing.add(c);
    }
  }
  const toMeasure: Measured[] = [];
  const limit = Math.max(MIN_MEASURED, opt.top * 4);
  for (const cand of kept) {
    if (toMeasure.length >= limit) {
      break;
    }
    const id = suggestionId(cand.kind, cand.condition);
    if (options.dismissed?.has(id)) {
      dropped.dismissed++;
      continue;
    }
    const canon = existing.size > 0 ? canonicalRule(cand.condition) : undefined;
    if (canon !== undefined && existing.has(canon)) {
      dropped.existing++;
      continue;
    }
    const compiled = compileRule({ id, name: cand.title, severity: 'medium', enabled: true, condition: cand.condition });
    if (compiled.rule === undefined) {
      // Not expected (every form is written to parse): never suggest what does not compile.
      counts.lowConfidence++;
      continue;
    }
    let trigger: CompiledRule | undefined;
    if (cand.triggerRule !== undefined) {
      trigger = compileRule({ id: `${id}:trigger`, name: cand.title, severity: 'medium', enabled: true, condition: cand.triggerRule }).rule;
      if (trigger === undefined) {
        counts.lowConfidence++;
        continue;
      }
    }
    toMeasure.push({ cand, id, rule: compiled.rule, trigger, support: 0, violations: 0, examples: [], violating: [], heldSupport: 0, heldViolations: 0 });
  }

  // ---------------------------------------------------------------- pass 2: measuring
  const byTrigger = new Map<string, Measured[]>();
  for (const m of toMeasure) {
    const list = byTrigger.get(m.cand.trigger);
    if (list === undefined) {
      byTrigger.set(m.cand.trigger, [m]);
    } else {
      list.push(m);
    }
  }
  const rules: CompiledRule[] = [];
  for (const m of toMeasure) {
    rules.push(m.rule);
    if (m.trigger !== undefined) {
      rules.push(m.trigger);
    }
  }
  let read = 0;
  let heldOutTraces = 0;
  await eachTrace(source, signal, (trace) => {
    read++;
    if (read % PROGRESS_EVERY === 0) {
      onProgress?.({ phase: 'validating', traces: read });
    }
    if (isTruncated(trace)) {
      return;
    }
    const held = heldOut(trace.traceId);
    if (held) {
      heldOutTraces++;
    }
    const present = new Set<string>();
    for (const s of trace.spans) {
      if (s.service !== 'betrace') {
        present.add(s.name);
      }
    }
    const skipped = new Set<string>();
    const fired = new Set<string>();
    for (const v of evaluateTrace(rules, trace, { onRuleSkipped: (id) => skipped.add(id), onRuleError: (id) => skipped.add(id) })) {
      fired.add(v.ruleId);
    }
    for (const name of present) {
      for (const m of byTrigger.get(name) ?? []) {
        if (skipped.has(m.id) || (m.trigger !== undefined && (skipped.has(m.trigger.definition.id) || !fired.has(m.trigger.definition.id)))) {
          continue; // the trigger did not hold, or the rule was not evaluated to the end: neither a pass nor a violation
        }
        const violated = fired.has(m.id);
        if (held) {
          m.heldSupport++;
          if (violated) {
            m.heldViolations++;
          }
        } else {
          m.support++;
          if (violated) {
            m.violations++;
            if (m.violating.length < opt.maxExamples) {
              m.violating.push(trace.traceId);
            }
          } else if (m.examples.length < opt.maxExamples) {
            m.examples.push(trace.traceId);
          }
        }
      }
    }
  });
  onProgress?.({ phase: 'validating', traces: read });
  if (signal?.aborted) {
    throw new DiscoverAborted();
  }

  // ---------------------------------------------------------------- ranking
  onProgress?.({ phase: 'ranking', traces: read });
  const suggestions: Suggestion[] = [];
  for (const m of toMeasure) {
    if (m.support < opt.minSupport) {
      dropped.lowSupport++;
      continue;
    }
    const confidence = 1 - m.violations / m.support;
    if (confidence < opt.minConfidence) {
      dropped.lowConfidence++;
      continue;
    }
    const heldConfidence = m.heldSupport > 0 ? 1 - m.heldViolations / m.heldSupport : 1;
    if (m.heldSupport > 0 && wilson(heldConfidence, m.heldSupport).upper < opt.minConfidence) {
      dropped.heldOut++;
      continue;
    }
    const base = m.cand.baseRate;
    const lift = base !== undefined && base > 0 ? confidence / base : 1;
    const confidenceLower = wilson(confidence, m.support).lower;
    suggestions.push({
      id: m.id,
      kind: m.cand.kind,
      condition: m.cand.condition,
      title: m.cand.title,
      support: m.support,
      confidence,
      confidenceLower,
      lift,
      violations: m.violations,
      exampleTraceIds: m.examples,
      violatingTraceIds: m.violating,
      heldOut: { support: m.heldSupport, violations: m.heldViolations, fireRate: m.heldSupport > 0 ? m.heldViolations / m.heldSupport : 0 },
      score: score(m, lift),
    });
  }
  suggestions.sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  dropped.lowSupport += counts.lowSupport;
  dropped.lowConfidence += counts.lowConfidence;
  return {
    suggestions: suggestions.slice(0, opt.top),
    traces,
    spans,
    spanNames: miner.names.length,
    trainingTraces: miner.traces,
    heldOutTraces,
    truncatedTraces: truncated,
    candidates: counts.candidates,
    dropped,
  };
}

/** How much each relation tells a user, beyond its support and confidence (docs/discovery.md, "Ranking"). */
const WEIGHT: Record<Candidate['rel'], number> = {
  shared: 1.3,
  before: 1.25,
  parent: 1.2,
  child: 1.2,
  countBelow: 1.15,
  count: 1.1,
  enum: 1.15,
  shape: 1.1,
  range: 1.1,
  never: 1.1,
  ancestor: 1.0,
  descendant: 1.0,
  implies: 1.0,
  required: 0.9,
};

function liftFactor(lift: number): number {
  return 1 + 0.25 * Math.log2(Math.min(Math.max(lift, 1), 4));
}

function prelimScore(c: Candidate): number {
  const conf = 1 - c.violations / Math.max(1, c.support);
  const lift = c.baseRate !== undefined && c.baseRate > 0 ? conf / c.baseRate : 1;
  return wilson(conf, c.support).lower ** 8 * Math.log10(1 + c.support) * WEIGHT[c.rel] * liftFactor(lift);
}

/**
 * Expected value to the user: near-certain (the Wilson lower bound over training and held-out
 * traces together, to the 8th power so 0.97 weighs 0.78 and 1 weighs 1), with many chances to
 * fail (log of the support), of an informative relation, more when the consequence is rare.
 */
function score(m: Measured, lift: number): number {
  const n = m.support + m.heldSupport;
  const v = m.violations + m.heldViolations;
  const lower = wilson(1 - v / n, n).lower;
  return Math.round(lower ** 8 * Math.log10(1 + n) * WEIGHT[m.cand.rel] * liftFactor(lift) * 1e6) / 1e6;
}
