/**
 * Per-attribute statistics of one span name (pass 1): how often the attribute is there, its
 * values (the first VALUE_CAP distinct ones, forgotten once no enum can come of them), a log
 * histogram of positive numeric values with the largest value of each bin (only the bins in use
 * are kept), and the "shapes" of string values (runs of character classes).
 */

/**
 * Distinct values remembered per (span name, attribute); later new values only count as "other".
 * An enum has at most 8 values (candidates.ts), so 16 leave room for a little noise; an attribute
 * with 16 distinct values or more "varies" (a correlation on it says something).
 */
export const VALUE_CAP = 16;
/** Distinct string shapes remembered per (span name, attribute). */
export const SHAPE_CAP = 8;
/** String values longer than this are neither remembered nor shaped. */
export const MAX_VALUE_LENGTH = 256;
/** Values are forgotten once more than this many spans, plus a share, fall outside the remembered ones. */
const DEAD_SLACK_SPANS = 8;
const DEAD_SLACK_RATE = 0.05;

/** Numeric bins of positive values: two per octave, from 2^-20 to 2^50. */
const BIN_MIN_EXP = -20;
const BINS_PER_SIGN = (50 - BIN_MIN_EXP) * 2 + 2;

/** A remembered value: strings, numbers and booleans are distinct keys of a Map as they are. */
export type AttrScalar = string | number | boolean;

export class AttrStats {
  /** Spans of the name that carry the attribute. */
  spans = 0;
  /** Traces in which every span of the name carries it / some span does. */
  tracesAll = 0;
  tracesAny = 0;
  /**
   * Values stopped being counted (and were forgotten): too many, and the remembered ones cover
   * too few spans for an enum to come of them (below `enumFloor` with a margin).
   */
  valuesDead = false;
  strings = 0;
  numbers = 0;
  booleans = 0;
  others = 0;
  /** The first VALUE_CAP distinct values and their span counts (empty once valuesDead). */
  values = new Map<AttrScalar, number>();
  /** Spans whose value is one of `values`. */
  private covered = 0;
  valueOverflow = false;
  shapes: Map<string, number> | undefined = new Map();
  private lastString: string | undefined;
  private lastShape = '';
  /**
   * Positive values: counts and the largest value per bin, for bins binLo … binLo + length - 1
   * (grown as values arrive; see bin() and binMaxOf()). Undefined until a positive value.
   */
  bins: Uint32Array | undefined;
  private binMax: Float64Array | undefined;
  private binLo = 0;
  zeros = 0;
  negatives = 0;
  // per-trace scratch: the span name (set on first use) and the spans of it carrying the key
  name = -1;
  stamp = -1;
  inTrace = 0;

  /** @param enumFloor the lowest share of spans an enum's values must cover (Miner.enumFloor). */
  constructor(private readonly enumFloor = 0.94) {}

  add(v: unknown): void {
    this.spans++;
    if (typeof v === 'string') {
      this.strings++;
      if (v.length <= MAX_VALUE_LENGTH) {
        this.value(v);
        if (this.shapes !== undefined) {
          const shape = v === this.lastString ? this.lastShape : shapeOf(v);
          this.lastString = v;
          this.lastShape = shape;
          const n = this.shapes.get(shape);
          if (n !== undefined) {
            this.shapes.set(shape, n + 1);
          } else if (this.shapes.size < SHAPE_CAP) {
            this.shapes.set(shape, 1);
          } else {
            this.shapes = undefined; // too many shapes: no shape to suggest, stop shaping
          }
        }
      } else {
        this.shapes = undefined;
      }
    } else if (typeof v === 'number' || typeof v === 'bigint') {
      this.numbers++;
      const n = Number(v);
      this.value(n);
      this.number(n);
    } else if (typeof v === 'boolean') {
      this.booleans++;
      this.value(v);
    } else {
      this.others++;
    }
  }

  private value(key: AttrScalar): void {
    if (this.valuesDead) {
      return;
    }
    const n = this.values.get(key);
    if (n !== undefined) {
      this.values.set(key, n + 1);
      this.covered++;
    } else if (this.values.size < VALUE_CAP) {
      this.values.set(key, 1);
      this.covered++;
    } else {
      this.valueOverflow = true;
      // No enum can come of values that miss this many spans (the share only shrinks when later
      // spans all carry a remembered value, so the margin keeps one that recovers).
      const missed = this.spans - this.covered;
      if (missed > DEAD_SLACK_SPANS + (1 - this.enumFloor + DEAD_SLACK_RATE) * this.spans) {
        this.valuesDead = true;
        this.values = new Map();
      }
    }
  }

  private number(n: number): void {
    if (!Number.isFinite(n)) {
      return;
    }
    if (n === 0) {
      this.zeros++;
      return;
    }
    if (n < 0) {
      this.negatives++;
      return; // ranges are bounded above by positive values only (candidates.ts, upperLimit)
    }
    const b = numberBin(n);
    if (this.bins === undefined || this.binMax === undefined) {
      this.bins = new Uint32Array(4);
      this.binMax = new Float64Array(4);
      this.binLo = b;
    } else if (b < this.binLo || b >= this.binLo + this.bins.length) {
      this.regrow(b);
    }
    const i = b - this.binLo;
    const bins = this.bins!;
    const max = this.binMax!;
    bins[i]++;
    if (bins[i] === 1 || n > max[i]) {
      max[i] = n;
    }
  }

  private regrow(b: number): void {
    const lo = Math.min(this.binLo, b);
    const hi = Math.max(this.binLo + this.bins!.length, b + 1);
    const size = Math.min(BINS_PER_SIGN, Math.max(hi - lo, this.bins!.length * 2));
    const from = Math.max(0, Math.min(lo, BINS_PER_SIGN - size));
    const bins = new Uint32Array(size);
    const max = new Float64Array(size);
    bins.set(this.bins!, this.binLo - from);
    max.set(this.binMax!, this.binLo - from);
    this.bins = bins;
    this.binMax = max;
    this.binLo = from;
  }

  /** Positive values in numeric bin b (0 … POSITIVE_BINS - 1). */
  bin(b: number): number {
    const i = b - this.binLo;
    return this.bins === undefined || i < 0 || i >= this.bins.length ? 0 : this.bins[i];
  }

  /** The largest value in numeric bin b (0 when the bin is empty). */
  binMaxOf(b: number): number {
    const i = b - this.binLo;
    return this.binMax === undefined || i < 0 || i >= this.binMax.length ? 0 : this.binMax[i];
  }
}

/** The bin of a non-zero finite number: positives in [0, BINS_PER_SIGN), negatives after. */
export function numberBin(n: number): number {
  const m = Math.abs(n);
  let i = Math.ceil(Math.log2(m) * 2) - BIN_MIN_EXP * 2;
  i = i < 0 ? 0 : i >= BINS_PER_SIGN ? BINS_PER_SIGN - 1 : i;
  return n > 0 ? i : BINS_PER_SIGN + i;
}

export const POSITIVE_BINS = BINS_PER_SIGN;

/**
 * The shape of a string: each run of lowercase letters, uppercase letters or digits becomes a
 * class with `+`, other characters stay themselves (escaped), anchored: `ORD-1234` →
 * `^[A-Z]+-[0-9]+$`. Linear for RE2 and for any engine: no nested quantifiers.
 */
export function shapeOf(s: string): string {
  let out = '^';
  let last = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let cls: string;
    if (c >= 97 && c <= 122) {
      cls = '[a-z]+';
    } else if (c >= 65 && c <= 90) {
      cls = '[A-Z]+';
    } else if (c >= 48 && c <= 57) {
      cls = '[0-9]+';
    } else {
      cls = '';
    }
    if (cls !== '') {
      if (cls !== last) {
        out += cls;
        last = cls;
      }
      continue;
    }
    last = '';
    const ch = s[i];
    out += /[A-Za-z0-9 _\-:,@#%&=~<>'"!/]/.test(ch) ? ch : c < 0x20 || c > 0x7e ? `\\x{${c.toString(16)}}` : `\\${ch}`;
  }
  return `${out}$`;
}
