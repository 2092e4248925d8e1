/**
 * Pass 1 of discovery: statistics of the training traces, one trace at a time. Nothing of a
 * trace is kept once it is counted: span names are interned to integers, co-occurring name
 * pairs are counted sparsely (pairs.ts), and only pairs that can still make a candidate
 * ("promoted": B missing from few enough of A's traces for the minimum confidence, see
 * `hopeful`) get the detailed statistics the refined kinds need (ordering gaps, structure,
 * shared attribute values). Every refined kind needs B in the trace, so a pair missing B in more
 * of A's traces than the confidence allows cannot make one: its details are released when it is
 * next seen, or by a sweep (pairs whose B stopped coming would otherwise hold a slot forever).
 */
import type { AttrValue, Span, Trace } from '../model';
import { BETRACE_SERVICE_NAME } from '../model';
import { equality } from '../values';
import { MAX_PAIRED_NAMES, PairTable } from './pairs';
import { AttrStats } from './stats';

/** count(name) per trace is histogrammed exactly up to this; more counts as COUNT_CAP. */
export const COUNT_CAP = 64;
/** Ordering gaps: four bins per octave from 1 µs (bin 0: ≤ 1 µs) up to ~2^40 µs. */
export const GAP_BINS = 161;
/** At most this many promoted pairs at once. */
export const MAX_DETAILED_PAIRS = 1 << 17;
/** Beyond this many promoted pairs, a pair is promoted only once seen together CROWDED_MIN_COOC times. */
const CROWDED = MAX_DETAILED_PAIRS >>> 2;
const CROWDED_MIN_COOC = 3;
/** Promoted pairs are swept for ones that lost hope every this many traces. */
const SWEEP_EVERY = 2048;
/** …and when they are all in use, at most every this many traces. */
const FORCED_SWEEP_GAP = 64;
/** Misses (traces of A without B) a pair may have and stay promoted: SLACK_MISSES + (1 - minConfidence + SLACK_RATE) × traces of A. */
const SLACK_MISSES = 2;
const SLACK_RATE = 0.03;

export interface MinerOptions {
  /** The lowest confidence discovery will suggest (pairs below it get no detailed statistics). */
  minConfidence?: number;
}

export function gapBin(ns: number): number {
  if (ns <= 1000) {
    return 0;
  }
  const i = Math.ceil(Math.log2(ns / 1000) * 4);
  return i >= GAP_BINS ? GAP_BINS - 1 : i;
}

/** The largest gap in bin i (its upper edge), in nanoseconds. */
export function gapBinEdge(i: number): number {
  return 1000 * 2 ** (i / 4);
}

/** Detailed statistics of promoted pairs (a, b), struct of arrays indexed by detail slot. */
export class PairDetails {
  a = new Int32Array(1024);
  b = new Int32Array(1024);
  /** The pair's slot in the PairTable (kept up to date through PairTable.onMove). */
  slot = new Float64Array(1024);
  /** traceCount[a] before the trace in which the pair was promoted: its traces since are traceCount[a] - start. */
  start = new Uint32Array(1024);
  cooc = new Uint32Array(1024);
  /** Traces in which every span of a has a span of b starting strictly before it. */
  ordered = new Uint32Array(1024);
  /** Of those, by the largest (over the spans of a) gap to the nearest earlier b. */
  gaps = new Uint32Array(1024 * GAP_BINS);
  /** Traces in which every a's parent is a b / some ancestor is a b / every a has a child b / a descendant b. */
  parent = new Uint32Array(1024);
  ancestor = new Uint32Array(1024);
  child = new Uint32Array(1024);
  descendant = new Uint32Array(1024);
  /** Per attribute key: traces in which every a has the key and some b carries the same value. */
  shared: Array<Map<number, number> | undefined> = [];
  /** Per bound a: the largest number of b below one a, per trace (histogram to COUNT_CAP). */
  below: Array<Uint32Array | undefined> = [];
  used = 0;
  free: number[] = [];
  live = 0;

  alloc(a: number, b: number, start: number, slot: number): number {
    let i: number;
    if (this.free.length > 0) {
      i = this.free.pop()!;
    } else {
      i = this.used++;
      if (i >= this.a.length) {
        this.grow();
      }
    }
    this.live++;
    this.a[i] = a;
    this.b[i] = b;
    this.slot[i] = slot;
    this.start[i] = start;
    this.cooc[i] = 0;
    this.ordered[i] = 0;
    this.gaps.fill(0, i * GAP_BINS, (i + 1) * GAP_BINS);
    this.parent[i] = 0;
    this.ancestor[i] = 0;
    this.child[i] = 0;
    this.descendant[i] = 0;
    this.shared[i] = undefined;
    this.below[i] = undefined;
    return i;
  }

  release(i: number): void {
    this.a[i] = -1;
    this.shared[i] = undefined;
    this.below[i] = undefined;
    this.free.push(i);
    this.live--;
  }

  private grow(): void {
    const n = this.a.length * 2;
    const g = <T extends Int32Array | Uint32Array | Float64Array>(x: T, size = n): T => {
      const y = new (x.constructor as new (n: number) => T)(size);
      y.set(x);
      return y;
    };
    this.a = g(this.a);
    this.b = g(this.b);
    this.slot = g(this.slot);
    this.start = g(this.start);
    this.cooc = g(this.cooc);
    this.ordered = g(this.ordered);
    this.gaps = g(this.gaps, n * GAP_BINS);
    this.parent = g(this.parent);
    this.ancestor = g(this.ancestor);
    this.child = g(this.child);
    this.descendant = g(this.descendant);
  }
}

/** Whether a trace is mined at all: complete traces only (see docs/discovery.md, "Truncated traces"). */
const truncationIds = new Set<string>();

export function isTruncated(trace: Trace): boolean {
  if (trace.rootSpan === undefined || (trace.droppedSpanCount ?? 0) > 0) {
    return true;
  }
  // A missing subtree shows as a span whose parent is not in the trace.
  const ids = truncationIds;
  ids.clear();
  for (const s of trace.spans) {
    ids.add(s.spanId);
  }
  for (const s of trace.spans) {
    if (s.parentSpanId !== undefined && !ids.has(s.parentSpanId)) {
      ids.clear();
      return true;
    }
  }
  ids.clear();
  return false;
}

function grown<T extends Uint32Array | Int32Array>(x: T, need: number): T {
  if (need <= x.length) {
    return x;
  }
  let n = x.length;
  while (n < need) {
    n *= 2;
  }
  const y = new (x.constructor as new (n: number) => T)(n);
  y.set(x);
  return y;
}

export class Miner {
  readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();
  readonly keys: string[] = [];
  private readonly keyIds = new Map<string, number>();
  /** Training traces mined. */
  traces = 0;
  spans = 0;
  /** Traces with the name. */
  traceCount = new Uint32Array(256);
  /** Spans with the name. */
  spanCount = new Uint32Array(256);
  /** count(name) per trace, COUNT_CAP + 1 bins per name. */
  countHist = new Uint32Array(256 * (COUNT_CAP + 1));
  readonly pairs = new PairTable();
  readonly details = new PairDetails();
  /** Pairs not promoted because MAX_DETAILED_PAIRS were in use. */
  detailsRefused = 0;
  /** attrs[name]: per attribute key. */
  readonly attrs: Array<Map<number, AttrStats>> = [];

  // per-trace scratch, reused
  private stamp = new Int32Array(256).fill(-1);
  private slotOfName = new Int32Array(256);
  private distinct: number[] = [];
  private members: number[][] = [];
  private nm = new Int32Array(64);
  private par = new Int32Array(64);
  private st = new Float64Array(64);
  private mark = new Int32Array(64);
  private markStamp = 0;
  private spansOf: Span[] = [];
  private touched: AttrStats[] = [];
  private readonly index = new Map<string, number>();
  private belowCount = new Int32Array(64);
  private lastSweep = 0;
  /** Share of A's traces that may lack B for the pair to keep its details (see SLACK_RATE). */
  private readonly missRate: number;
  /** Lowest share of a name's spans its remembered attribute values must cover to make an enum. */
  readonly enumFloor: number;

  constructor(options: MinerOptions = {}) {
    this.pairs.onMove = (e, slot) => {
      this.details.slot[e] = slot;
    };
    const minConfidence = options.minConfidence ?? 0.97;
    this.missRate = Math.min(1, 1 - minConfidence + SLACK_RATE);
    this.enumFloor = Math.max(0, minConfidence - SLACK_RATE);
  }

  /** Whether a pair whose first name is in `traces` traces, missing its second in `misses` of them, can still make a candidate. */
  hopeful(misses: number, traces: number): boolean {
    return misses <= SLACK_MISSES + this.missRate * traces;
  }

  nameId(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
      if (id >= this.stamp.length) {
        const n = this.stamp.length * 2;
        const s = new Int32Array(n).fill(-1);
        s.set(this.stamp);
        this.stamp = s;
        this.slotOfName = grown(this.slotOfName, n);
        this.traceCount = grown(this.traceCount, n);
        this.spanCount = grown(this.spanCount, n);
        this.countHist = grown(this.countHist, n * (COUNT_CAP + 1));
      }
    }
    return id;
  }

  keyId(key: string): number {
    let id = this.keyIds.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.keyIds.set(key, id);
    }
    return id;
  }

  /** Counts one training trace (complete, see isTruncated). */
  add(trace: Trace): void {
    const T = this.traces++;
    const spans = this.spansOf;
    spans.length = 0;
    for (const s of trace.spans) {
      if (s.service !== BETRACE_SERVICE_NAME) {
        spans.push(s);
      }
    }
    const n = spans.length;
    this.spans += n;
    if (n > this.nm.length) {
      let m = this.nm.length;
      while (m < n) {
        m *= 2;
      }
      this.nm = new Int32Array(m);
      this.par = new Int32Array(m);
      this.st = new Float64Array(m);
      this.mark = new Int32Array(m);
      this.belowCount = new Int32Array(m);
      this.markStamp = 0;
    }
    const { nm, par, st } = this;
    const index = this.index;
    index.clear();
    for (let i = 0; i < n; i++) {
      index.set(spans[i].spanId, i); // the last span with an id is its parent, as in the evaluator
    }
    const distinct = this.distinct;
    distinct.length = 0;
    for (let i = 0; i < n; i++) {
      const s = spans[i];
      const id = this.nameId(s.name);
      nm[i] = id;
      const p = s.parentSpanId === undefined ? undefined : index.get(s.parentSpanId);
      par[i] = p === undefined ? -1 : p;
      st[i] = Number(s.startNs - trace.startNs);
      if (this.stamp[id] !== T) {
        this.stamp[id] = T;
        this.slotOfName[id] = distinct.length;
        if (this.members.length <= distinct.length) {
          this.members.push([]);
        }
        this.members[distinct.length].length = 0;
        distinct.push(id);
      }
      this.members[this.slotOfName[id]].push(i);
    }
    // Names and counts.
    for (let d = 0; d < distinct.length; d++) {
      const id = distinct[d];
      this.traceCount[id]++;
      const c = this.members[d].length;
      this.spanCount[id] += c;
      this.countHist[id * (COUNT_CAP + 1) + (c > COUNT_CAP ? COUNT_CAP : c)]++;
    }
    this.pairsOf(spans);
    this.attributesOf(spans, T);
    index.clear();
    if (this.traces % SWEEP_EVERY === 0) {
      this.sweep();
    }
  }

  /** Releases the details of every promoted pair that can no longer make a candidate. */
  sweep(): void {
    this.lastSweep = this.traces;
    const { details, pairs } = this;
    for (let e = 0; e < details.used; e++) {
      const a = details.a[e];
      if (a < 0) {
        continue;
      }
      const slot = details.slot[e];
      if (!this.hopeful(this.traceCount[a] - pairs.cooc(slot), this.traceCount[a])) {
        details.release(e);
        pairs.setExt(slot, -1);
      }
    }
  }

  private pairsOf(spans: readonly Span[]): void {
    const { distinct, members, pairs, details } = this;
    for (let x = 0; x < distinct.length; x++) {
      const a = distinct[x];
      if (a >= MAX_PAIRED_NAMES) {
        continue;
      }
      const sa = this.traceCount[a];
      for (let y = 0; y < distinct.length; y++) {
        const b = distinct[y];
        if (x === y || b >= MAX_PAIRED_NAMES) {
          continue;
        }
        const slot = pairs.upsert(a, b);
        const c = pairs.together(slot);
        let e = pairs.ext(slot);
        const hope = this.hopeful(sa - c, sa);
        if (e < 0) {
          // While details are plentiful a pair gets them when first seen together (so small
          // corpora lose nothing); when crowded (large vocabularies: every new pair is hopeful at
          // first), only after CROWDED_MIN_COOC traces together.
          if (!hope || (c < CROWDED_MIN_COOC && details.live >= CROWDED)) {
            continue;
          }
          if (details.live >= MAX_DETAILED_PAIRS && this.traces - this.lastSweep >= FORCED_SWEEP_GAP) {
            this.sweep();
          }
          if (details.live >= MAX_DETAILED_PAIRS) {
            this.detailsRefused++;
            continue;
          }
          e = details.alloc(a, b, sa - 1, slot);
          pairs.setExt(slot, e);
        } else if (!hope) {
          details.release(e);
          pairs.setExt(slot, -1);
          continue;
        }
        this.detail(e, members[x], members[y], spans);
      }
    }
  }

  /** The detailed statistics of pair slot e in this trace: la are the spans of a, lb those of b. */
  private detail(e: number, la: readonly number[], lb: readonly number[], spans: readonly Span[]): void {
    const { details, nm, par, st, mark } = this;
    const b = details.b[e];
    details.cooc[e]++;
    // Ordering: the nearest b starting strictly before each a.
    let worst = 0;
    for (let i = 0; i < la.length && worst !== Infinity; i++) {
      let best = Infinity;
      const t = st[la[i]];
      for (let j = 0; j < lb.length; j++) {
        const g = t - st[lb[j]];
        if (g > 0 && g < best) {
          best = g;
        }
      }
      if (best > worst) {
        worst = best;
      }
    }
    if (worst !== Infinity) {
      details.ordered[e]++;
      details.gaps[e * GAP_BINS + gapBin(worst)]++;
    }
    // Structure.
    let parent = true;
    let ancestor = true;
    for (let i = 0; i < la.length && (parent || ancestor); i++) {
      const p = par[la[i]];
      if (p < 0 || nm[p] !== b) {
        parent = false;
      }
      if (ancestor) {
        let found = false;
        for (let u = p, steps = 0; u >= 0 && steps < spans.length; u = par[u], steps++) {
          if (nm[u] === b) {
            found = true;
            break;
          }
        }
        ancestor = found;
      }
    }
    if (parent) {
      details.parent[e]++;
    }
    if (ancestor) {
      details.ancestor[e]++;
    }
    const childMark = ++this.markStamp;
    for (let j = 0; j < lb.length; j++) {
      const p = par[lb[j]];
      if (p >= 0) {
        mark[p] = childMark;
      }
    }
    let child = true;
    for (let i = 0; i < la.length && child; i++) {
      child = mark[la[i]] === childMark;
    }
    if (child) {
      details.child[e]++;
    }
    // Descendants: mark every ancestor of every b; count the b below each a on the way.
    const below = la.length > 0 ? this.belowCounts(la, lb, spans.length) : 0;
    const hist = (details.below[e] ??= new Uint32Array(COUNT_CAP + 1));
    const most = below >= 0 ? below : -1 - below;
    hist[most > COUNT_CAP ? COUNT_CAP : most]++;
    if (below >= 0) {
      details.descendant[e]++;
    }
    this.sharedValues(e, la, lb, spans);
  }

  /**
   * The largest number of b spans below one a span, or -1 when some a has none below it
   * (then "every a has a descendant b" does not hold; the count bound still uses the max).
   */
  private belowCounts(la: readonly number[], lb: readonly number[], n: number): number {
    const { par, mark } = this;
    const aMark = ++this.markStamp;
    for (let i = 0; i < la.length; i++) {
      mark[la[i]] = aMark;
    }
    // For each b, walk up and count it for every a above it.
    const counts = this.belowCount;
    for (let i = 0; i < la.length; i++) {
      counts[la[i]] = 0;
    }
    for (let j = 0; j < lb.length; j++) {
      for (let u = par[lb[j]], steps = 0; u >= 0 && steps < n; u = par[u], steps++) {
        if (mark[u] === aMark) {
          counts[u]++;
        }
      }
    }
    let max = 0;
    let all = true;
    for (let i = 0; i < la.length; i++) {
      const c = counts[la[i]];
      if (c === 0) {
        all = false;
      }
      if (c > max) {
        max = c;
      }
    }
    return all ? max : -1 - max;
  }

  /** Keys of a whose value, on every a, is carried by some b too. */
  private sharedValues(e: number, la: readonly number[], lb: readonly number[], spans: readonly Span[]): void {
    const first = spans[la[0]].attrs;
    for (const key in first) {
      if (!Object.prototype.hasOwnProperty.call(first, key)) {
        continue;
      }
      let all = true;
      for (let i = 0; i < la.length && all; i++) {
        const v: AttrValue | undefined = Object.prototype.hasOwnProperty.call(spans[la[i]].attrs, key) ? spans[la[i]].attrs[key] : undefined;
        if (v === undefined || v === null || typeof v === 'object') {
          all = false;
          break;
        }
        let found = false;
        for (let j = 0; j < lb.length && !found; j++) {
          const bv = Object.prototype.hasOwnProperty.call(spans[lb[j]].attrs, key) ? spans[lb[j]].attrs[key] : undefined;
          found = bv !== undefined && equality(v, bv) === true;
        }
        all = found;
      }
      if (all) {
        const k = this.keyId(key);
        const m = (this.details.shared[e] ??= new Map());
        m.set(k, (m.get(k) ?? 0) + 1);
      }
    }
  }

  private attributesOf(spans: readonly Span[], T: number): void {
    const touched = this.touched;
    touched.length = 0;
    const { nm } = this;
    for (let i = 0; i < spans.length; i++) {
      const name = nm[i];
      const attrs = spans[i].attrs;
      let byKey = this.attrs[name];
      if (byKey === undefined) {
        byKey = this.attrs[name] = new Map();
      }
      for (const key in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, key)) {
          continue;
        }
        const k = this.keyId(key);
        let st = byKey.get(k);
        if (st === undefined) {
          st = new AttrStats(this.enumFloor);
          byKey.set(k, st);
        }
        st.add(attrs[key]);
        if (st.stamp !== T) {
          st.stamp = T;
          st.inTrace = 0;
          st.tracesAny++;
          touched.push(st);
          st.name = name;
        }
        st.inTrace++;
      }
    }
    for (const st of touched) {
      const name = st.name;
      if (st.inTrace === this.members[this.slotOfName[name]].length) {
        st.tracesAll++;
      }
    }
  }

  /** Traces (since promotion) of the first name of detail slot e. */
  sinceOf(e: number): number {
    return this.traceCount[this.details.a[e]] - this.details.start[e];
  }
}
