/**
 * Sparse counts of span-name pairs that co-occur in a trace, in one row per first name a: each
 * row an open-addressing hash table over one Int32Array of (b, traces together, details index)
 * triples, so only pairs that occur cost memory (12 bytes a slot) and the ~distinct² lookups of
 * one trace stay within a few small rows (one per name of the trace) rather than jumping around
 * one table of millions of slots. When the rows together would outgrow their cap, pairs seen in
 * too few traces to ever make an implication are pruned and remembered in a bit set (so an
 * absence is never claimed for a pair that did co-occur).
 *
 * A pair's slot is a number, a × ROW_SPAN + its index in a's row; slots move when a row grows or
 * is pruned (`onMove` tells where pairs with details went).
 */

const EMPTY = -1;
/** Names at or above this id are not paired. */
export const MAX_PAIRED_NAMES = 0xffff;
const ROW_SPAN = 1 << 18;
const MIN_ROW_BITS = 3;
/** Pairs kept at most, over all rows (as the single table of 2^23 slots at a load of 0.6 did). */
const MAX_PAIRS = Math.floor((1 << 23) * 0.6);
const PRUNED_BITS = 1 << 24;
/** The triple of a slot: b, then traces together (since the pair was created), then details or -1. */
const B = 0;
const COOC = 1;
const EXT = 2;

function hashB(b: number, bits: number): number {
  return Math.imul(b, 0x9e3779b1) >>> (32 - bits);
}

function pairHash(a: number, b: number): number {
  return Math.imul(((a << 16) | b) >>> 0, 0x85ebca6b) >>> 8;
}

export class PairTable {
  /** rows[a]: 3 × 2^bits Int32 (b, cooc, ext), EMPTY b for a free slot. */
  private rows: Array<Int32Array | undefined> = [];
  private rowSize: number[] = [];
  size = 0;
  /** Times pairs were pruned, and how many. */
  prunes = 0;
  prunedPairs = 0;
  /** Told when the pair with details `ext` moves to another slot (a row grew or was pruned). */
  onMove: ((ext: number, slot: number) => void) | undefined;
  private pruneLevel = 0;
  private pruned: Uint8Array | undefined;

  /** Slots allocated over all rows (memory: 12 bytes each). */
  get capacity(): number {
    let n = 0;
    for (const r of this.rows) {
      n += r === undefined ? 0 : r.length / 3;
    }
    return n;
  }

  /** The index of b in row r (its slot or the free slot where it would go). */
  private static probe(r: Int32Array, b: number): number {
    const cap = r.length / 3;
    const bits = 31 - Math.clz32(cap);
    const mask = cap - 1;
    let i = hashB(b, bits);
    for (;;) {
      const k = r[i * 3 + B];
      if (k === b || k === EMPTY) {
        return i;
      }
      i = (i + 1) & mask;
    }
  }

  /** The slot of the pair, -1 when it is not in the table. */
  find(a: number, b: number): number {
    const r = this.rows[a];
    if (r === undefined) {
      return -1;
    }
    const i = PairTable.probe(r, b);
    return r[i * 3 + B] === b ? a * ROW_SPAN + i : -1;
  }

  /** The slot of the pair, created (0 traces together, no details) when absent. */
  upsert(a: number, b: number): number {
    let r = this.rows[a];
    if (r === undefined) {
      r = this.rows[a] = new Int32Array(3 << MIN_ROW_BITS).fill(EMPTY);
      this.rowSize[a] = 0;
    }
    let i = PairTable.probe(r, b);
    if (r[i * 3 + B] === b) {
      return a * ROW_SPAN + i;
    }
    if (this.size + 1 > MAX_PAIRS) {
      this.prune();
      r = this.rows[a]!;
      i = PairTable.probe(r, b);
    }
    if ((this.rowSize[a] + 1) * 10 > (r.length / 3) * 7) {
      r = this.rehashRow(a, (r.length / 3) * 2, () => true);
      i = PairTable.probe(r, b);
    }
    r[i * 3 + B] = b;
    r[i * 3 + COOC] = 0;
    r[i * 3 + EXT] = -1;
    this.rowSize[a]++;
    this.size++;
    return a * ROW_SPAN + i;
  }

  /** Traces in which both names occurred (since the pair was created). */
  cooc(slot: number): number {
    const a = Math.floor(slot / ROW_SPAN);
    return this.rows[a]![(slot - a * ROW_SPAN) * 3 + COOC];
  }

  /** Counts one more trace together; returns the new count. */
  together(slot: number): number {
    const a = Math.floor(slot / ROW_SPAN);
    return ++this.rows[a]![(slot - a * ROW_SPAN) * 3 + COOC];
  }

  /** Index of the pair's detailed statistics (PairDetails), or -1. */
  ext(slot: number): number {
    const a = Math.floor(slot / ROW_SPAN);
    return this.rows[a]![(slot - a * ROW_SPAN) * 3 + EXT];
  }

  setExt(slot: number, e: number): void {
    const a = Math.floor(slot / ROW_SPAN);
    this.rows[a]![(slot - a * ROW_SPAN) * 3 + EXT] = e;
  }

  /** Whether the pair was pruned at some point (so it did co-occur); may say yes wrongly, never no wrongly. */
  wasPruned(a: number, b: number): boolean {
    if (this.pruned === undefined) {
      return false;
    }
    const h = pairHash(a, b);
    return (this.pruned[h >>> 3] & (1 << (h & 7))) !== 0;
  }

  private prune(): void {
    this.prunes++;
    // Drop pairs without details seen in at most `level` traces; raise the level until a third is free.
    do {
      this.pruneLevel++;
      let removable = 0;
      for (const r of this.rows) {
        for (let i = 0; r !== undefined && i < r.length; i += 3) {
          if (r[i + B] !== EMPTY && r[i + EXT] < 0 && r[i + COOC] <= this.pruneLevel) {
            removable++;
          }
        }
      }
      if ((this.size - removable) * 3 <= MAX_PAIRS * 2) {
        break;
      }
    } while (this.pruneLevel < 1 << 20);
    const pruned = (this.pruned ??= new Uint8Array(PRUNED_BITS >>> 3));
    const level = this.pruneLevel;
    for (let a = 0; a < this.rows.length; a++) {
      const r = this.rows[a];
      if (r === undefined) {
        continue;
      }
      let keep = 0;
      for (let i = 0; i < r.length; i += 3) {
        if (r[i + B] !== EMPTY && (r[i + EXT] >= 0 || r[i + COOC] > level)) {
          keep++;
        }
      }
      let cap = 1 << MIN_ROW_BITS;
      while ((keep + 1) * 10 > cap * 7) {
        cap *= 2;
      }
      this.rehashRow(a, cap, (i) => {
        const ok = r[i + EXT] >= 0 || r[i + COOC] > level;
        if (!ok) {
          const h = pairHash(a, r[i + B]);
          pruned[h >>> 3] |= 1 << (h & 7);
          this.prunedPairs++;
        }
        return ok;
      });
    }
  }

  /** Row a rebuilt with `cap` slots, keeping the triples (at index i of the old row) that `keep` accepts. */
  private rehashRow(a: number, cap: number, keep: (i: number) => boolean): Int32Array {
    const old = this.rows[a]!;
    const r = new Int32Array(cap * 3).fill(EMPTY);
    let n = 0;
    for (let i = 0; i < old.length; i += 3) {
      if (old[i + B] === EMPTY || !keep(i)) {
        continue;
      }
      const j = PairTable.probe(r, old[i + B]);
      r[j * 3 + B] = old[i + B];
      r[j * 3 + COOC] = old[i + COOC];
      r[j * 3 + EXT] = old[i + EXT];
      n++;
      if (old[i + EXT] >= 0 && this.onMove !== undefined) {
        this.onMove(old[i + EXT], a * ROW_SPAN + j);
      }
    }
    this.size += n - this.rowSize[a];
    this.rowSize[a] = n;
    this.rows[a] = r;
    return r;
  }

  /** Every pair in the table: (a, b, slot). */
  forEach(fn: (a: number, b: number, slot: number) => void): void {
    for (let a = 0; a < this.rows.length; a++) {
      const r = this.rows[a];
      for (let i = 0; r !== undefined && i < r.length; i += 3) {
        if (r[i + B] !== EMPTY) {
          fn(a, r[i + B], a * ROW_SPAN + i / 3);
        }
      }
    }
  }
}
