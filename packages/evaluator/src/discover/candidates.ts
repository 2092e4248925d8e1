/**
 * From pass-1 statistics to candidate suggestions: each kind's condition (rule text), title and
 * estimated support and violations. The estimates only choose what pass 2 measures exactly
 * with the real evaluator; thresholds here are a little looser than the final ones for that.
 */
import type { SuggestionKind } from './types';
import { COUNT_CAP, GAP_BINS, gapBinEdge, Miner } from './miner';
import { AttrScalar, AttrStats, POSITIVE_BINS, VALUE_CAP } from './stats';
import { durationText, literal, numberText, q, RuleText } from './text';

export interface Candidate {
  kind: SuggestionKind;
  condition: string;
  title: string;
  /** The span name whose presence the rule's trigger needs (support counts traces with it)… */
  trigger: string;
  /** …or, when the trigger says more than that name, the trigger as an expression rule. */
  triggerRule?: string;
  /** For redundancy: the relation and the name ids it relates (b = -1 when one name). */
  rel: Relation;
  a: number;
  b: number;
  /** Attribute key id, for attribute and correlation kinds (-1 otherwise). */
  key: number;
  /** The bound (Δ in ns, k, or H), for display and matching. */
  bound?: number;
  support: number;
  violations: number;
  /** Base rate of the consequence among all training traces, when the kind has one (for lift). */
  baseRate?: number;
}

export type Relation =
  | 'implies'
  | 'before'
  | 'parent'
  | 'ancestor'
  | 'child'
  | 'descendant'
  | 'shared'
  | 'count'
  | 'countBelow'
  | 'required'
  | 'enum'
  | 'range'
  | 'shape'
  | 'never';

export interface Thresholds {
  minSupport: number;
  minConfidence: number;
  kinds: ReadonlySet<SuggestionKind>;
}

/** The consequence is in nearly every trace: "A implies B" then says nothing about A. */
const MAX_CONSEQUENCE_RATE = 0.95;
/** An absence is only news when B is common enough that it would be expected next to A. */
const MIN_ABSENT_RATE = 0.05;
const MIN_ABSENT_EXPECTED = 10;
/** Ordering: Δ is this quantile of the per-trace largest gap, times the margin, rounded up. */
export const ORDER_QUANTILE = 0.99;
export const ORDER_MARGIN = 1.25;
/** Counts and numeric ranges: the bound must be a limit that is reached, not a thin tail. */
const BOUND_MIN_MASS = 0.01;
const BOUND_MIN_AT_LIMIT = 0.03;
const RANGE_MIN_BIN_MASS = 0.005;
const RANGE_MIN_AT_LIMIT = 0.05;
/** Enum sets: at most this many values, each seen in at least this share of the spans. */
export const MAX_ENUM_VALUES = 8;
const ENUM_MIN_VALUE_SHARE = 0.002;
/** Pass-1 estimates may be this much below minConfidence and still be measured in pass 2. */
const SLACK = 0.01;

export interface CandidateCounts {
  candidates: number;
  lowSupport: number;
  lowConfidence: number;
}

export function buildCandidates(m: Miner, t: Thresholds, text: RuleText, counts: CandidateCounts): Candidate[] {
  const out: Candidate[] = [];
  const N = m.traces;
  if (N === 0) {
    return out;
  }
  const floor = t.minConfidence - SLACK;
  const consider = (support: number, violations: number): boolean => {
    counts.candidates++;
    if (support < t.minSupport) {
      counts.lowSupport++;
      return false;
    }
    if (1 - violations / support < floor) {
      counts.lowConfidence++;
      return false;
    }
    return true;
  };
  const want = (k: SuggestionKind): boolean => t.kinds.has(k);
  const name = (id: number): string => m.names[id];
  const sel = (id: number): string => text.selector(m.names[id]);

  m.pairs.forEach((a, b, slot) => {
    const sa = m.traceCount[a];
    const rate = m.traceCount[b] / N;
    let A_: string | undefined;
    let B_: string | undefined;
    const names2 = (): [string, string] => [(A_ ??= sel(a)), (B_ ??= sel(b))];
    if (want('implication') && rate <= MAX_CONSEQUENCE_RATE && consider(sa, sa - m.pairs.cooc(slot))) {
      const [A, B] = names2();
      out.push({
        kind: 'implication',
        condition: `when { ${A} } always { ${B} }`,
        title: `Every trace with ${q(name(a))} also has ${q(name(b))}.`,
        trigger: name(a),
        rel: 'implies',
        a,
        b,
        key: -1,
        support: sa,
        violations: sa - m.pairs.cooc(slot),
        baseRate: rate,
      });
    }
    const e = m.pairs.ext(slot);
    if (e < 0) {
      return;
    }
    const d = m.details;
    const since = m.sinceOf(e);
    const est = (holds: number): number => sa - Math.round((holds / Math.max(1, since)) * sa);
    // Ordering with a learned bound.
    if (want('ordering') && d.ordered[e] > 0) {
      const base = e * GAP_BINS;
      const need = Math.ceil(ORDER_QUANTILE * d.ordered[e]);
      let acc = 0;
      let bin = 0;
      for (; bin < GAP_BINS; bin++) {
        acc += d.gaps[base + bin];
        if (acc >= need) {
          break;
        }
      }
      if (bin < GAP_BINS - 1) {
        const delta = niceCeil(gapBinEdge(bin) * ORDER_MARGIN);
        let holds = 0;
        for (let i = 0; i < GAP_BINS && gapBinEdge(i) <= delta; i++) {
          holds += d.gaps[base + i];
        }
        const v = est(holds);
        if (consider(sa, v)) {
          const [A, B] = names2();
          const w = durationText(delta);
          out.push({
            kind: 'ordering',
            condition: `when { a: ${A} } always { ${B}.before(a, within ${w}) }`,
            title: `Every ${q(name(a))} starts at most ${w} after a ${q(name(b))} started.`,
            trigger: name(a),
            rel: 'before',
            a,
            b,
            key: -1,
            bound: delta,
            support: sa,
            violations: v,
            baseRate: rate,
          });
        }
      }
    }
    if (want('structure')) {
      const forms: ReadonlyArray<[Relation, number, string, string]> = [
        ['parent', d.parent[e], 'parent_of', `Every ${q(name(a))} is a child of a ${q(name(b))}.`],
        ['ancestor', d.ancestor[e], 'ancestor_of', `Every ${q(name(a))} runs below a ${q(name(b))}.`],
        ['child', d.child[e], 'child_of', `Every ${q(name(a))} has a ${q(name(b))} child.`],
        ['descendant', d.descendant[e], 'descendant_of', `Every ${q(name(a))} has a ${q(name(b))} below it.`],
      ];
      for (const [rel, holds, method, title] of forms) {
        const v = est(holds);
        if (consider(sa, v)) {
          const [A, B] = names2();
          out.push({ kind: 'structure', condition: `when { a: ${A} } always { ${B}.${method}(a) }`, title, trigger: name(a), rel, a, b, key: -1, support: sa, violations: v, baseRate: rate });
        }
      }
    }
    const shared = d.shared[e];
    if (want('correlation') && shared !== undefined) {
      for (const [k, holds] of shared) {
        const st = m.attrs[a]?.get(k);
        // A shared value says something only when the value varies (an id), not a constant.
        if (st === undefined || !(st.valueOverflow || st.values.size >= VALUE_CAP)) {
          continue;
        }
        const v = est(holds);
        if (!consider(sa, v)) {
          continue;
        }
        const key = m.keys[k];
        const left = text.attr(key);
        const right = text.boundAttr('a', key);
        if (left !== null && right !== null) {
          const [A, B] = names2();
          out.push({
            kind: 'correlation',
            condition: `when { a: ${A} } always { ${B}.where(${left} == ${right}) }`,
            title: `Every ${q(name(a))} has a ${q(name(b))} with the same ${q(key)}.`,
            trigger: name(a),
            rel: 'shared',
            a,
            b,
            key: k,
            support: sa,
            violations: v,
            baseRate: rate,
          });
        }
      }
    }
    const below = d.below[e];
    if (want('count') && below !== undefined) {
      // Traces of a since promotion without any b count 0 below every a.
      const hist = Float64Array.from(below);
      hist[0] += Math.max(0, since - d.cooc[e]);
      const k = countBound(hist, since, t.minConfidence);
      if (k !== undefined) {
        const over = tail(hist, k);
        const v = Math.round((over / since) * sa);
        if (consider(sa, v)) {
          const [A, B] = names2();
          out.push({
            kind: 'count',
            condition: `when { a: ${A} } never { count(${B}.descendant_of(a)) > ${k} }`,
            title: `No ${q(name(a))} has more than ${k} ${q(name(b))} spans below it.`,
            trigger: name(a),
            rel: 'countBelow',
            a,
            b,
            key: -1,
            bound: k,
            support: sa,
            violations: v,
          });
        }
      }
    }
  });

  for (let n = 0; n < m.names.length; n++) {
    const sn = m.traceCount[n];
    if (sn === 0) {
      continue;
    }
    if (want('count')) {
      const hist = Float64Array.from(m.countHist.subarray(n * (COUNT_CAP + 1), (n + 1) * (COUNT_CAP + 1)));
      const k = countBound(hist, sn, t.minConfidence);
      if (k !== undefined && consider(sn, tail(hist, k))) {
        const N_ = sel(n);
        out.push({
          kind: 'count',
          condition: `when { ${N_} } never { count(${N_}) > ${k} }`,
          title: `No trace has more than ${k} ${q(name(n))} spans.`,
          trigger: name(n),
          rel: 'count',
          a: n,
          b: -1,
          key: -1,
          bound: k,
          support: sn,
          violations: tail(hist, k),
        });
      }
    }
    if (want('attribute')) {
      for (const [k, st] of m.attrs[n] ?? []) {
        attributeCandidates(m, n, k, st, text, consider, out);
      }
    }
  }

  if (want('absence')) {
    const common: number[] = [];
    for (let b = 0; b < m.names.length; b++) {
      if (m.traceCount[b] / N >= MIN_ABSENT_RATE) {
        common.push(b);
      }
    }
    for (const a of common) {
      for (const b of common) {
        if (a === b) {
          continue;
        }
        const sa = m.traceCount[a];
        const sb = m.traceCount[b];
        // One rule per unordered pair (A never with B fires exactly where B never with A does): the trigger with more traces.
        if (sa < sb || (sa === sb && m.names[a] > m.names[b])) {
          continue;
        }
        if ((sa * sb) / N < MIN_ABSENT_EXPECTED || m.pairs.wasPruned(a, b)) {
          continue;
        }
        const slot = m.pairs.find(a, b);
        const together = slot < 0 ? 0 : m.pairs.cooc(slot);
        if (consider(sa, together)) {
          out.push({
            kind: 'absence',
            condition: `when { ${sel(a)} } never { ${sel(b)} }`,
            title: `A trace with ${q(name(a))} never has ${q(name(b))}.`,
            trigger: name(a),
            rel: 'never',
            a,
            b,
            key: -1,
            support: sa,
            violations: together,
            baseRate: 1 - sb / N,
          });
        }
      }
    }
  }
  return out;
}

function attributeCandidates(
  m: Miner,
  n: number,
  k: number,
  st: AttrStats,
  text: RuleText,
  consider: (support: number, violations: number) => boolean,
  out: Candidate[],
): void {
  const sn = m.traceCount[n];
  const key = m.keys[k];
  const refs = (): { ref: string; N_: string } | undefined => {
    const ref = text.attr(key);
    return ref === null ? undefined : { ref, N_: text.selector(m.names[n]) };
  };
  const spans = m.spanCount[n];
  const base = { kind: 'attribute' as const, trigger: m.names[n], a: n, b: -1, key: k, support: sn };
  const who = `${q(m.names[n])}`;
  // Enum: a small set of values of one type covering nearly every span of the name.
  const enumValues = enumSet(st, spans);
  if (enumValues !== undefined) {
    const v = sn - Math.round(sn * Math.min(1, enumValues.covered / spans));
    const w = consider(sn, v) ? refs() : undefined;
    if (w !== undefined) {
      const { ref, N_ } = w;
      const list = enumValues.values.map(literal).join(', ');
      const words = enumValues.values.map((x) => (typeof x === 'string' ? x : String(x))).join(', ');
      out.push({
        ...base,
        condition: `when { ${N_} } never { ${N_}.where(not (${ref} in [${list}])) }`,
        title: enumValues.values.length === 1 ? `Every ${who} has ${q(key)} = ${words}.` : `Every ${who} has ${q(key)} set to one of ${words}.`,
        rel: 'enum',
        violations: v,
      });
    }
  }
  // Required.
  const v = sn - st.tracesAll;
  const w = consider(sn, v) ? refs() : undefined;
  if (w !== undefined) {
    const { ref, N_ } = w;
    out.push({ ...base, condition: `when { ${N_} } never { ${N_}.where(not exists(${ref})) }`, title: `Every ${who} has the attribute ${q(key)}.`, rel: 'required', violations: v });
  }
  const many = st.valueOverflow || st.values.size > MAX_ENUM_VALUES;
  // Range and shape constrain the attribute where it is set: their trigger is a span carrying it.
  const sk = st.tracesAny;
  // Numeric range: an upper limit that values pile up against, and 0 below when nothing is negative.
  if (many && st.bins !== undefined && st.numbers >= 0.99 * st.spans) {
    const range = upperLimit(st);
    if (range !== undefined) {
      const lowerZero = st.negatives === 0;
      const vr = Math.round((range.over / st.numbers) * sk);
      const wr = consider(sk, vr) ? refs() : undefined;
      if (wr !== undefined) {
        const { ref, N_ } = wr;
        const present = `${N_}.where(exists(${ref}))`;
        const h = numberText(range.limit);
        out.push({
          ...base,
          support: sk,
          triggerRule: present,
          condition: lowerZero ? `when { ${present} } never { ${N_}.where(${ref} < 0 or ${ref} > ${h}) }` : `when { ${present} } never { ${N_}.where(${ref} > ${h}) }`,
          title: lowerZero ? `Every ${who} has ${q(key)} between 0 and ${h}.` : `Every ${who} has ${q(key)} at most ${h}.`,
          rel: 'range',
          bound: range.limit,
          violations: vr,
        });
      }
    }
  }
  // String shape.
  if (many && st.shapes !== undefined && st.strings >= 0.99 * st.spans) {
    let best = '';
    let bestCount = 0;
    for (const [shape, c] of st.shapes) {
      if (c > bestCount || (c === bestCount && shape < best)) {
        best = shape;
        bestCount = c;
      }
    }
    const vs = Math.round(((st.strings - bestCount) / st.strings) * sk);
    const ws = bestCount > 0 && consider(sk, vs) ? refs() : undefined;
    if (ws !== undefined) {
      const { ref, N_ } = ws;
      const present = `${N_}.where(exists(${ref}))`;
      out.push({
        ...base,
        support: sk,
        triggerRule: present,
        condition: `when { ${present} } never { ${N_}.where(${ref} !~ ${JSON.stringify(best)}) }`,
        title: `Every ${who} has ${q(key)} shaped like ${best}.`,
        rel: 'shape',
        violations: vs,
      });
    }
  }
}

function enumSet(st: AttrStats, spans: number): { values: AttrScalar[]; covered: number } | undefined {
  const picked: Array<[AttrScalar, number]> = [];
  for (const [v, c] of st.values) {
    if (c >= Math.max(2, ENUM_MIN_VALUE_SHARE * spans)) {
      picked.push([v, c]);
    }
  }
  if (picked.length === 0 || picked.length > MAX_ENUM_VALUES) {
    return undefined;
  }
  const types = new Set(picked.map(([v]) => typeof v));
  if (types.size !== 1) {
    return undefined;
  }
  // true/false both: that is "required" for a boolean, not a set worth naming.
  if (types.has('boolean') && picked.length === 2) {
    return undefined;
  }
  // In the order of their text (numbers too: 10 before 9), so the rule text is stable.
  const text = (v: AttrScalar): string => String(v);
  picked.sort((x, y) => (text(x[0]) < text(y[0]) ? -1 : text(x[0]) > text(y[0]) ? 1 : 0));
  return { values: picked.map(([v]) => v), covered: picked.reduce((s, [, c]) => s + c, 0) };
}

/** The largest count k that is reached often (a limit), with the traces above it rare; undefined when none. */
function countBound(hist: Float64Array, total: number, minConfidence: number): number | undefined {
  let k = -1;
  for (let c = COUNT_CAP - 1; c >= 2; c--) {
    if (hist[c] >= BOUND_MIN_MASS * total) {
      k = c;
      break;
    }
  }
  if (k < 2 || hist[k] < BOUND_MIN_AT_LIMIT * total || tail(hist, k) > (1 - minConfidence) * total) {
    return undefined;
  }
  return k;
}

function tail(hist: Float64Array, k: number): number {
  let s = 0;
  for (let c = k + 1; c < hist.length; c++) {
    s += hist[c];
  }
  return s;
}

/** The upper limit of positive values: the largest value in the highest bin that holds enough of them. */
function upperLimit(st: AttrStats): { limit: number; over: number } | undefined {
  let over = 0;
  for (let i = POSITIVE_BINS - 1; i >= 0; i--) {
    const c = st.bin(i);
    if (c >= RANGE_MIN_BIN_MASS * st.numbers) {
      if (c < RANGE_MIN_AT_LIMIT * st.numbers) {
        return undefined;
      }
      return { limit: roundUp2(st.binMaxOf(i)), over };
    }
    over += c;
  }
  return undefined;
}

/** Rounds up to two significant digits (487.3 → 490, 500 → 500). */
function roundUp2(x: number): number {
  if (x <= 0) {
    return x;
  }
  const p = 10 ** (Math.floor(Math.log10(x)) - 1);
  const r = Math.ceil(x / p - 1e-9) * p;
  return Number(r.toPrecision(2));
}

const NICE = [1, 1.5, 2, 3, 5, 7];

/** The smallest 1 / 1.5 / 2 / 3 / 5 / 7 × 10^n nanoseconds not below ns (at least 1 µs). */
export function niceCeil(ns: number): number {
  let p = 1000;
  for (;;) {
    for (const f of NICE) {
      if (f * p >= ns) {
        return f * p;
      }
    }
    p *= 10;
  }
}

export { GAP_BINS };
