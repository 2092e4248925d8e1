/**
 * Synthetic trace corpora with PLANTED invariants, for the discovery tests and benchmark
 * (`npm run bench discover`). Pure and deterministic: a corpus is a seed and options; its traces
 * are generated lazily, the same ones on every pass, so 100 000 traces never sit in memory.
 *
 * Each trace: a root (one of a few entry names, which also appear inside other traces), a
 * background of spans whose names are drawn from a window of the vocabulary (names near each
 * other co-occur, as a service's operations do; no invariants among them: random parents, times,
 * counts and attributes), then the planted invariants whose trigger fires in this trace (each
 * with its own rate), each violated with probability `noise`; distractors (rules that hold in
 * 80–95 % of their triggers); and ~1 % of traces truncated (root dropped, a span dropped with its
 * children left orphaned, or the tail dropped and counted in droppedSpanCount).
 */
import { canonicalAst } from './canon';
import type { SuggestionKind } from './types';
import type { RuleAst } from '../ast';
import { AttrMap, buildTrace, Span, Trace } from '../model';
import { parseRule } from '../parse';
import { fnv1a32 } from './hash';

export interface SyntheticOptions {
  seed?: number;
  traces?: number;
  /** Distinct span names (50, 500, 5 000 …). */
  vocabulary?: number;
  /** Probability that a planted invariant is violated where its trigger holds (0, 0.005, 0.02). */
  noise?: number;
  /** Share of truncated traces (default 0.01). */
  truncated?: number;
  /** Planted invariants (default 28; fewer when the vocabulary is too small for them). */
  planted?: number;
  /** Kinds are planted in turn starting at this one (so corpora can split the kinds between them). */
  kindOffset?: number;
  /** Distractors (default 5). */
  distractors?: number;
  /**
   * Seed of the traces (default: `seed`). The model — names, planted invariants, distractors —
   * comes from `seed`: another traceSeed gives fresh traces of the same model (a held-out corpus).
   */
  traceSeed?: number;
}

export interface Planted {
  kind: SuggestionKind;
  /** The ground truth as rule text (with the exact bound the generator used). */
  condition: string;
  /** How far the bounds (sorted numbers of the rule, Δ in ns) may lie from the ground truth: [min ratio, max ratio]. */
  tolerance: [number, number];
  /** Share of traces in which the trigger is planted. */
  rate: number;
}

export interface Distractor {
  kind: SuggestionKind;
  /** The rule that holds in `holds` of the traces with its trigger; it must not be suggested. */
  condition: string;
  holds: number;
}

export interface SyntheticCorpus {
  /** The traces, generated afresh (identically) on every call. */
  traces: () => Iterable<Trace>;
  planted: Planted[];
  distractors: Distractor[];
  vocabulary: string[];
  options: Required<SyntheticOptions>;
}

const KIND_ORDER: readonly SuggestionKind[] = ['implication', 'ordering', 'structure', 'correlation', 'attribute', 'count', 'absence'];
const MS = 1e6;
const BASE_NS = 1_700_000_000_000_000_000n;

/** mulberry32: a small, fast, well-mixed 32-bit PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(r: () => number, n: number): string {
  let s = '';
  while (s.length < n) {
    s += Math.floor(r() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  }
  return s.slice(0, n);
}

/** A span-name vocabulary: dotted identifiers, and every tenth an HTTP route (not an identifier). */
export function vocabulary(size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < size; i++) {
    out.push(i % 10 === 7 ? `GET /api/v${i % 3}/r${i}/{id}` : `svc${i % 37}.op${i}`);
  }
  return out;
}

interface Plan {
  kind: SuggestionKind;
  variant: string;
  a: string;
  b?: string;
  key?: string;
  values?: string[];
  bound: number;
  rate: number;
}

interface DistractorPlan {
  kind: SuggestionKind;
  a: string;
  b: string;
  key: string;
  holds: number;
  rate: number;
}

const STRUCTURE = ['parent', 'child', 'descendant', 'ancestor'] as const;
const ATTRIBUTE = ['required', 'enum', 'range', 'shape'] as const;
const KEYS = ['order_id', 'user_id', 'cart.id', 'session'];
const ATTR_KEYS = ['tier', 'region', 'http.route', 'amount', 'payment.ref', 'retries', 'code'];
const GAPS_MS = [20, 50, 200, 1000];

export function syntheticCorpus(options: SyntheticOptions = {}): SyntheticCorpus {
  const o: Required<SyntheticOptions> = {
    seed: options.seed ?? 1,
    traces: options.traces ?? 10_000,
    vocabulary: options.vocabulary ?? 500,
    noise: options.noise ?? 0,
    truncated: options.truncated ?? 0.01,
    planted: options.planted ?? 28,
    kindOffset: options.kindOffset ?? 0,
    distractors: options.distractors ?? 5,
    traceSeed: options.traceSeed ?? options.seed ?? 1,
  };
  const names = vocabulary(o.vocabulary);
  const setup = rng(fnv1a32(`setup:${o.seed}`));
  // Shuffle the vocabulary once: roots, planted and distractor names, then the background.
  const pool = [...names];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(setup() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const rootCount = Math.max(3, Math.min(8, Math.floor(o.vocabulary / 10)));
  const roots = pool.splice(0, rootCount);
  const reserve = Math.max(10, Math.floor(o.vocabulary * 0.3));
  const maxPlanted = Math.max(0, Math.floor((pool.length - reserve) / 2) - o.distractors);
  const plantedCount = Math.min(o.planted, maxPlanted);
  const take = (): string => pool.shift()!;
  const plans: Plan[] = [];
  for (let i = 0; i < plantedCount; i++) {
    const kind = KIND_ORDER[(i + o.kindOffset) % KIND_ORDER.length];
    const round = Math.floor(i / KIND_ORDER.length) + o.kindOffset;
    const rate = 0.06 + setup() * 0.18;
    const plan: Plan = { kind, variant: '', a: take(), bound: 0, rate };
    switch (kind) {
      case 'implication':
      case 'absence':
        plan.b = take();
        break;
      case 'ordering':
        plan.b = take();
        plan.bound = GAPS_MS[round % GAPS_MS.length] * MS;
        break;
      case 'structure':
        plan.b = take();
        plan.variant = STRUCTURE[round % STRUCTURE.length];
        break;
      case 'correlation':
        plan.b = take();
        plan.key = KEYS[round % KEYS.length];
        break;
      case 'attribute':
        plan.variant = ATTRIBUTE[round % ATTRIBUTE.length];
        plan.key = ATTR_KEYS[i % ATTR_KEYS.length];
        plan.values = ['gold', 'silver', 'bronze', 'basic', 'trial'].slice(0, 2 + (round % 4));
        plan.bound = [100, 500, 1000, 5000][round % 4];
        break;
      case 'count':
        plan.variant = round % 2 === 0 ? 'trace' : 'bound';
        plan.b = take();
        plan.bound = [3, 4, 5, 8][round % 4];
        break;
    }
    plans.push(plan);
  }
  const distractorPlans: DistractorPlan[] = [];
  const distractorKinds: SuggestionKind[] = ['implication', 'correlation', 'attribute', 'ordering', 'absence'];
  for (let i = 0; i < Math.min(o.distractors, Math.floor(pool.length / 2) - reserve / 2); i++) {
    distractorPlans.push({ kind: distractorKinds[i % distractorKinds.length], a: take(), b: take(), key: 'ref', holds: 0.8 + setup() * 0.15, rate: 0.1 + setup() * 0.1 });
  }
  const background = pool;
  const planted = plans.map(groundTruth);
  const distractors = distractorPlans.map((d) => ({ kind: d.kind, condition: distractorRule(d), holds: d.holds }));
  const traces = (): Iterable<Trace> => ({
    *[Symbol.iterator]() {
      for (let i = 0; i < o.traces; i++) {
        yield makeTrace(o, i, roots, background, plans, distractorPlans);
      }
    },
  });
  return { traces, planted, distractors, vocabulary: names, options: o };
}

function sel(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name) ? name : `span(${JSON.stringify(name)})`;
}

function attr(key: string): string {
  return key.includes('.') ? JSON.stringify(key) : key;
}

function groundTruth(p: Plan): Planted {
  const A = sel(p.a);
  const B = p.b === undefined ? '' : sel(p.b);
  const exact: [number, number] = [1, 1];
  switch (p.kind) {
    case 'implication':
      return { kind: p.kind, condition: `when { ${A} } always { ${B} }`, tolerance: exact, rate: p.rate };
    case 'absence':
      return { kind: p.kind, condition: `when { ${A} } never { ${B} }`, tolerance: exact, rate: p.rate };
    case 'ordering':
      return { kind: p.kind, condition: `when { a: ${A} } always { ${B}.before(a, within ${p.bound / MS}ms) }`, tolerance: [1, 4], rate: p.rate };
    case 'structure': {
      const rel = { parent: 'parent_of', ancestor: 'ancestor_of', child: 'child_of', descendant: 'descendant_of' }[p.variant]!;
      return { kind: p.kind, condition: `when { a: ${A} } always { ${B}.${rel}(a) }`, tolerance: exact, rate: p.rate };
    }
    case 'correlation': {
      const bound = p.key!.includes('.') ? `a.${p.key}` : `a.${p.key}`;
      return { kind: p.kind, condition: `when { a: ${A} } always { ${B}.where(${attr(p.key!)} == ${bound}) }`, tolerance: exact, rate: p.rate };
    }
    case 'attribute': {
      const k = attr(p.key!);
      const cond = {
        required: `not exists(${k})`,
        enum: `not (${k} in [${p.values!.map((v) => JSON.stringify(v)).join(', ')}])`,
        range: `${k} < 0 or ${k} > ${p.bound}`,
        shape: `${k} !~ "^[A-Z]+-[0-9]+$"`,
      }[p.variant]!;
      const when = p.variant === 'range' || p.variant === 'shape' ? `${A}.where(exists(${k}))` : A;
      return { kind: p.kind, condition: `when { ${when} } never { ${A}.where(${cond}) }`, tolerance: p.variant === 'range' ? [1, 2.5] : exact, rate: p.rate };
    }
    case 'count':
      return p.variant === 'trace'
        ? { kind: p.kind, condition: `when { ${B} } never { count(${B}) > ${p.bound} }`, tolerance: [1, 1 + 1 / p.bound], rate: p.rate }
        : { kind: p.kind, condition: `when { a: ${A} } never { count(${B}.descendant_of(a)) > ${p.bound} }`, tolerance: [1, 1 + 1 / p.bound], rate: p.rate };
  }
}

function distractorRule(d: DistractorPlan): string {
  const A = sel(d.a);
  const B = sel(d.b);
  switch (d.kind) {
    case 'correlation':
      return `when { a: ${A} } always { ${B}.where(ref == a.ref) }`;
    case 'attribute':
      return `when { ${A} } never { ${A}.where(not (ref in ["x", "y"])) }`;
    case 'ordering':
      return `when { a: ${A} } always { ${B}.before(a) }`;
    case 'absence':
      return `when { ${A} } never { ${B} }`;
    default:
      return `when { ${A} } always { ${B} }`;
  }
}

// ---------------------------------------------------------------- traces

class Builder {
  spans: Span[] = [];
  constructor(
    readonly traceId: string,
    readonly r: () => number,
    private readonly index: number,
    private readonly background: readonly string[],
  ) {}

  /** A background name, for the spans planted between two others. */
  filler(): string {
    return this.background[Math.floor(this.r() * this.background.length)];
  }

  add(name: string, parent: number, atMs: number, ms: number, attrs: AttrMap = {}): number {
    const startNs = BASE_NS + BigInt(this.index) * 1_000_000_000n + BigInt(Math.round(atMs * MS));
    const durationNs = Math.round(ms * MS);
    const span: Span = {
      traceId: this.traceId,
      spanId: (this.spans.length + 1).toString(16).padStart(16, '0'),
      parentSpanId: parent < 0 ? undefined : this.spans[parent].spanId,
      name,
      kind: 'internal',
      status: 'unset',
      statusMessage: '',
      startNs,
      endNs: startNs + BigInt(durationNs),
      durationNs,
      service: `svc${name.length % 7}`,
      attrs,
      resource: {},
      events: [],
      links: [],
    };
    this.spans.push(span);
    return this.spans.length - 1;
  }

  at(i: number): number {
    return Number(this.spans[i].startNs - BASE_NS - BigInt(this.index) * 1_000_000_000n) / MS;
  }

  /** A random existing span to hang something under. */
  any(): number {
    return Math.floor(this.r() * this.spans.length);
  }

  /** Start time for a child of span p: within its first 100 ms. */
  childAt(p: number): number {
    return this.at(p) + 0.5 + this.r() * 100;
  }
}

/** Background string values: many, of many shapes, so no shape or enum holds among them. */
const MIXED = Array.from({ length: 40 }, (_, i) => [`v${i}`, `V-${i}`, `${i * 7}`, `x_${i}y`, `k${i}.z`][i % 5] + (i % 3 === 0 ? '' : String.fromCharCode(97 + (i % 26))));

function backgroundAttrs(r: () => number): AttrMap {
  const attrs: AttrMap = {};
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * 12);
    if (k < 4) {
      attrs[`bg.s${k}`] = hex(r, 12);
    } else if (k < 8) {
      attrs[`bg.n${k}`] = Math.round(Math.exp(r() * 12));
    } else {
      attrs[`bg.e${k}`] = MIXED[Math.floor(r() * MIXED.length)];
    }
  }
  // The shared keys of planted correlations and attributes also occur at random, as noise.
  if (r() < 0.3) {
    attrs[KEYS[Math.floor(r() * KEYS.length)]] = hex(r, 16);
  }
  if (r() < 0.2) {
    attrs[ATTR_KEYS[Math.floor(r() * ATTR_KEYS.length)]] = r() < 0.5 ? MIXED[Math.floor(r() * MIXED.length)] : Math.floor(r() * 1e6);
  }
  return attrs;
}

function makeTrace(o: Required<SyntheticOptions>, i: number, roots: readonly string[], background: readonly string[], plans: readonly Plan[], distractors: readonly DistractorPlan[]): Trace {
  const r = rng(fnv1a32(`trace:${o.traceSeed}:${i}`));
  const traceId = hex(r, 32);
  const t = new Builder(traceId, r, i, background);
  t.add(roots[Math.floor(r() * roots.length)], -1, 0, 500 + r() * 500, backgroundAttrs(r));
  // Background: 10-22 spans from a window of the vocabulary.
  const nb = 10 + Math.floor(r() * 13);
  const centre = Math.floor(r() * background.length);
  const sigma = Math.max(8, Math.min(60, background.length / 20));
  for (let j = 0; j < nb; j++) {
    const off = Math.round((r() + r() + r() - 1.5) * 2 * sigma);
    const name = background[(((centre + off) % background.length) + background.length) % background.length];
    const p = t.any();
    t.add(name, p, t.childAt(p), 1 + r() * 50, backgroundAttrs(r));
  }
  if (r() < 0.5) {
    const p = t.any();
    t.add(roots[Math.floor(r() * roots.length)], p, t.childAt(p), 5, backgroundAttrs(r));
  }
  for (const plan of plans) {
    const fires = r() < plan.rate;
    const violate = r() < o.noise;
    plant(t, plan, fires, violate);
  }
  for (const d of distractors) {
    distract(t, d);
  }
  let spans = t.spans;
  let dropped = 0;
  const cut = r();
  if (cut < o.truncated) {
    const how = Math.floor(r() * 3);
    if (how === 0) {
      spans = spans.slice(1); // the root is missing
    } else if (how === 1) {
      const victim = 1 + Math.floor(r() * (spans.length - 1));
      spans = spans.filter((_, j) => j !== victim); // a span is missing; its children are orphans
    } else {
      const keep = Math.max(1, Math.floor(spans.length * (0.3 + r() * 0.5)));
      dropped = spans.length - keep;
      spans = spans.slice(0, keep); // the tail is missing, and counted
    }
  }
  return buildTrace(traceId, spans, dropped);
}

function plant(t: Builder, p: Plan, fires: boolean, violate: boolean): void {
  const r = t.r;
  const alone = (name: string, chance: number): void => {
    if (r() < chance) {
      const q = t.any();
      t.add(name, q, t.childAt(q), 2, backgroundAttrs(r));
    }
  };
  if (!fires) {
    // The consequence also occurs on its own, so that it does not imply the trigger back.
    if (p.b !== undefined && p.kind !== 'count') {
      alone(p.b, p.kind === 'absence' ? p.rate : 0.15);
    }
    if (p.kind === 'count' && r() < 0.15) {
      const q = t.any();
      for (let n = 1 + Math.floor(r() * p.bound); n > 0; n--) {
        t.add(p.b!, q, t.childAt(q), 1);
      }
    }
    return;
  }
  const parent = t.any();
  const at = t.childAt(parent);
  switch (p.kind) {
    case 'implication':
      t.add(p.a, parent, at, 3, backgroundAttrs(r));
      if (!violate) {
        const q = t.any();
        t.add(p.b!, q, t.childAt(q), 3, backgroundAttrs(r));
      }
      break;
    case 'absence':
      t.add(p.a, parent, at, 3, backgroundAttrs(r));
      if (violate) {
        const q = t.any();
        t.add(p.b!, q, t.childAt(q), 3, backgroundAttrs(r));
      }
      break;
    case 'ordering': {
      const gap = (0.2 + 0.8 * r()) * (p.bound / MS);
      const late = violate && r() < 0.5;
      t.add(p.b!, parent, at, 2, backgroundAttrs(r));
      // Violated: B comes after A, or more than twice the bound before it.
      t.add(p.a, parent, violate ? (late ? at - 1 - r() * 10 : at + (2.2 + r()) * (p.bound / MS)) : at + gap, 2, backgroundAttrs(r));
      break;
    }
    case 'structure': {
      const v = violate ? t.any() : -1;
      if (p.variant === 'parent') {
        const b = t.add(p.b!, parent, at, 20, backgroundAttrs(r));
        t.add(p.a, violate ? v : b, t.childAt(violate ? v : b), 2, backgroundAttrs(r));
      } else if (p.variant === 'ancestor') {
        const b = t.add(p.b!, parent, at, 20, backgroundAttrs(r));
        const mid = t.add(t.filler(), b, t.childAt(b), 10, backgroundAttrs(r));
        t.add(p.a, violate ? v : mid, t.childAt(violate ? v : mid), 2, backgroundAttrs(r));
      } else if (p.variant === 'child') {
        const a = t.add(p.a, parent, at, 20, backgroundAttrs(r));
        const under = violate ? v : a;
        t.add(p.b!, under, t.childAt(under), 2, backgroundAttrs(r));
      } else {
        const a = t.add(p.a, parent, at, 20, backgroundAttrs(r));
        const mid = t.add(t.filler(), a, t.childAt(a), 10, backgroundAttrs(r));
        const under = violate ? v : mid;
        t.add(p.b!, under, t.childAt(under), 2, backgroundAttrs(r));
      }
      break;
    }
    case 'correlation': {
      const id = hex(r, 16);
      t.add(p.a, parent, at, 5, { ...backgroundAttrs(r), [p.key!]: id });
      const q = t.any();
      t.add(p.b!, q, t.childAt(q), 5, { ...backgroundAttrs(r), [p.key!]: violate ? hex(r, 16) : id });
      if (r() < 0.3) {
        t.add(p.b!, q, t.childAt(q), 5, { ...backgroundAttrs(r), [p.key!]: hex(r, 16) }); // another B, another id
      }
      break;
    }
    case 'attribute': {
      const attrs = backgroundAttrs(r);
      delete attrs[p.key!];
      if (p.variant === 'required') {
        if (!violate) {
          attrs[p.key!] = hex(r, 8);
        }
      } else if (p.variant === 'enum') {
        attrs[p.key!] = violate ? `other-${Math.floor(r() * 1000)}` : p.values![Math.floor(r() * p.values!.length)];
      } else if (p.variant === 'range') {
        attrs[p.key!] = violate ? p.bound * (3 + Math.floor(r() * 100)) : 1 + Math.floor(r() * p.bound);
      } else {
        attrs[p.key!] = violate ? hex(r, 10) : `${['ORD', 'INV', 'REF'][Math.floor(r() * 3)]}-${100000 + Math.floor(r() * 900000)}`;
      }
      t.add(p.a, parent, at, 3, attrs);
      break;
    }
    case 'count': {
      const n = violate ? p.bound + 3 + Math.floor(r() * 8) : 1 + Math.floor(r() * p.bound);
      if (p.variant === 'trace') {
        for (let k = 0; k < n; k++) {
          const q = t.any();
          t.add(p.b!, q, t.childAt(q), 1);
        }
      } else {
        const a = t.add(p.a, parent, at, 50);
        for (let k = 0; k < n; k++) {
          t.add(p.b!, a, t.childAt(a), 1);
        }
        // More B elsewhere in the trace, not below A: the bound is per A, not per trace.
        if (r() < 0.5) {
          const q = t.any();
          for (let k = 1 + Math.floor(r() * p.bound); k > 0; k--) {
            if (q !== a && !isBelow(t, q, a)) {
              t.add(p.b!, q, t.childAt(q), 1);
            }
          }
        }
      }
      break;
    }
  }
}

function isBelow(t: Builder, i: number, ancestor: number): boolean {
  const ids = new Map(t.spans.map((s, j) => [s.spanId, j]));
  for (let u: number | undefined = i, steps = 0; u !== undefined && steps < t.spans.length; steps++) {
    if (u === ancestor) {
      return true;
    }
    const p: string | undefined = t.spans[u].parentSpanId;
    u = p === undefined ? undefined : ids.get(p);
  }
  return false;
}

function distract(t: Builder, d: DistractorPlan): void {
  const r = t.r;
  if (r() >= d.rate) {
    if (d.kind !== 'attribute' && r() < 0.1) {
      const q = t.any();
      t.add(d.b, q, t.childAt(q), 2, { ref: hex(r, 12) });
    }
    return;
  }
  const ok = r() < d.holds;
  const parent = t.any();
  const at = t.childAt(parent);
  const id = hex(r, 12);
  switch (d.kind) {
    case 'implication':
      t.add(d.a, parent, at, 2);
      if (ok) {
        const q = t.any();
        t.add(d.b, q, t.childAt(q), 2);
      }
      break;
    case 'correlation':
      t.add(d.a, parent, at, 2, { ref: id });
      t.add(d.b, parent, at + 1, 2, { ref: ok ? id : hex(r, 12) });
      break;
    case 'attribute':
      t.add(d.a, parent, at, 2, { ref: ok ? (r() < 0.5 ? 'x' : 'y') : `z${Math.floor(r() * 1000)}` });
      break;
    case 'ordering':
      t.add(d.b, parent, ok ? at : at + 30, 2);
      t.add(d.a, parent, at + 10, 2);
      break;
    case 'absence':
      t.add(d.a, parent, at, 2);
      if (!ok) {
        const q = t.any();
        t.add(d.b, q, t.childAt(q), 2);
      }
      break;
  }
}

// ---------------------------------------------------------------- matching suggestions to planted invariants

/** The rule's canonical form with every number and duration replaced by 0, and those numbers (sorted). */
function erased(text: string): { shape: string; numbers: number[] } | undefined {
  const ast = parseRule(text).ast;
  if (ast === undefined) {
    return undefined;
  }
  const numbers: number[] = [];
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) {
      return node.map(walk);
    }
    if (node === null || typeof node !== 'object') {
      return node;
    }
    const o = node as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if ((k === 'withinNs' && typeof v === 'number') || (k === 'value' && typeof v === 'number' && o.type === 'literal')) {
        numbers.push(v as number);
        copy[k] = 0;
      } else if (k === 'value' && o.kind === 'list') {
        // Enum sets compare as sets.
        copy[k] = (walk(v) as Array<{ value: unknown }>).slice().sort((x, y) => (String(x.value) < String(y.value) ? -1 : 1));
      } else {
        copy[k] = walk(v);
      }
    }
    return copy;
  };
  const shape = canonicalAst(walk(ast) as RuleAst);
  return { shape, numbers: numbers.sort((x, y) => x - y) };
}

/** Whether a suggested rule is the planted invariant: the same rule, its bounds within the tolerance. */
export function matchesPlanted(planted: Pick<Planted, 'condition' | 'tolerance'>, condition: string): boolean {
  const want = erased(planted.condition);
  const got = erased(condition);
  if (want === undefined || got === undefined || want.shape !== got.shape || want.numbers.length !== got.numbers.length) {
    return false;
  }
  const [lo, hi] = planted.tolerance;
  return want.numbers.every((w, i) => {
    const g = got.numbers[i];
    return w === 0 ? g === 0 : g >= w * lo - 1e-9 && g <= w * hi + 1e-9;
  });
}
