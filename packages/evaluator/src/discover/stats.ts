/**
 * Per-attribute statistics of one span name (pass 1): how often the attribute is there, its
 * values (the first VALUE_CAP distinct ones), a log histogram of numeric values with the extreme
 * value of each bin, and the "shapes" of string values (runs of character classes).
 */

/** Distinct values remembered per (span name, attribute); later new values only count as "other". */
export const VALUE_CAP = 32;
/** Distinct string shapes remembered per (span name, attribute). */
export const SHAPE_CAP = 8;
/** String values longer than this are neither remembered nor shaped. */
export const MAX_VALUE_LENGTH = 256;

/** Numeric bins: two per octave, from 2^-20 to 2^50 in magnitude, per sign. */
const BIN_MIN_EXP = -20;
const BINS_PER_SIGN = (50 - BIN_MIN_EXP) * 2 + 2;

export class AttrStats {
  /** Spans of the name that carry the attribute. */
  spans = 0;
  /** Traces in which every span of the name carries it / some span does. */
  tracesAll = 0;
  tracesAny = 0;
  /** Values stopped being counted: too many, and the counted ones too few to make an enum. */
  valuesDead = false;
  strings = 0;
  numbers = 0;
  booleans = 0;
  others = 0;
  values = new Map<string, number>();
  valueOverflow = false;
  shapes: Map<string, number> | undefined = new Map();
  /** Positive and negative magnitudes: counts and the largest / smallest value per bin. */
  bins: Uint32Array | undefined;
  binMax: Float64Array | undefined;
  zeros = 0;
  negatives = 0;
  // per-trace scratch: the span name (set on first use) and the spans of it carrying the key
  name = -1;
  stamp = -1;
  inTrace = 0;

  add(v: unknown): void {
    this.spans++;
    if (typeof v === 'string') {
      this.strings++;
      if (v.length <= MAX_VALUE_LENGTH) {
        this.value(`s:${v}`);
        if (this.shapes !== undefined) {
          const shape = shapeOf(v);
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
      this.value(`n:${String(n)}`);
      this.number(n);
    } else if (typeof v === 'boolean') {
      this.booleans++;
      this.value(`b:${String(v)}`);
    } else {
      this.others++;
    }
  }

  private value(key: string): void {
    if (this.valuesDead) {
      return;
    }
    const n = this.values.get(key);
    if (n !== undefined) {
      this.values.set(key, n + 1);
    } else if (this.values.size < VALUE_CAP) {
      this.values.set(key, 1);
    } else {
      this.valueOverflow = true;
      // Once the values remembered cover less than half of the spans, no enum can come of them.
      if ((this.spans & 63) === 0) {
        let covered = 0;
        for (const c of this.values.values()) {
          covered += c;
        }
        this.valuesDead = covered * 2 < this.spans;
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
    }
    this.bins ??= new Uint32Array(BINS_PER_SIGN * 2);
    this.binMax ??= new Float64Array(BINS_PER_SIGN * 2);
    const b = numberBin(n);
    this.bins[b]++;
    // For positive bins the largest value, for negative bins the most negative one.
    const m = this.binMax[b];
    if (this.bins[b] === 1 || (n > 0 ? n > m : n < m)) {
      this.binMax[b] = n;
    }
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
