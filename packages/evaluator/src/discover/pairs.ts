/**
 * Sparse counts of span-name pairs that co-occur in a trace: an open-addressing hash table over
 * typed arrays (key = a << 16 | b for interned names a, b < 65 535), so only pairs that occur
 * cost memory, 12 bytes a slot. When the table would outgrow its cap, pairs seen in too few
 * traces to ever make an implication are pruned and remembered in a bit set (so an absence is
 * never claimed for a pair that did co-occur).
 */

const EMPTY = 0xffffffff;
/** Names at or above this id are not paired (the key packs two 16-bit ids). */
export const MAX_PAIRED_NAMES = 0xffff;
const MIN_BITS = 12;
const MAX_BITS = 23;
const PRUNED_BITS = 1 << 24;

export class PairTable {
  private bits = MIN_BITS;
  private mask = (1 << MIN_BITS) - 1;
  keys = new Uint32Array(1 << MIN_BITS).fill(EMPTY);
  /** Traces in which both names occurred (since the pair was created). */
  cooc = new Uint32Array(1 << MIN_BITS);
  /** Index of the pair's detailed statistics (PairDetails), or -1. */
  ext = new Int32Array(1 << MIN_BITS).fill(-1);
  size = 0;
  /** Times pairs were pruned, and how many. */
  prunes = 0;
  prunedPairs = 0;
  /** Told when the pair with details `ext` moves to another slot (the table grew or was pruned). */
  onMove: ((ext: number, slot: number) => void) | undefined;
  private pruneLevel = 0;
  private pruned: Uint8Array | undefined;

  static key(a: number, b: number): number {
    return ((a << 16) | b) >>> 0;
  }

  private slotOf(key: number): number {
    // A multiplicative hash spreads consecutive ids over the table.
    let i = (Math.imul(key, 0x9e3779b1) >>> (32 - this.bits)) & this.mask;
    for (;;) {
      const k = this.keys[i];
      if (k === key || k === EMPTY) {
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** The slot of the pair, -1 when it is not in the table. */
  find(a: number, b: number): number {
    const key = PairTable.key(a, b);
    const i = this.slotOf(key);
    return this.keys[i] === key ? i : -1;
  }

  /**
   * The slot of the pair, created (count 0) when absent. Slots move when the table grows or is
   * pruned (`onMove` tells where pairs with details went).
   */
  upsert(a: number, b: number, onPrune: (slot: number) => void): number {
    const key = PairTable.key(a, b);
    let i = this.slotOf(key);
    if (this.keys[i] === key) {
      return i;
    }
    if ((this.size + 1) * 10 > this.keys.length * 6) {
      if (this.bits < MAX_BITS) {
        this.rehash(this.bits + 1, () => true);
      } else {
        this.prune(onPrune);
      }
      i = this.slotOf(key);
    }
    this.keys[i] = key;
    this.cooc[i] = 0;
    this.ext[i] = -1;
    this.size++;
    return i;
  }

  /** Whether the pair was pruned at some point (so it did co-occur); may say yes wrongly, never no wrongly. */
  wasPruned(a: number, b: number): boolean {
    if (this.pruned === undefined) {
      return false;
    }
    const h = Math.imul(PairTable.key(a, b), 0x85ebca6b) >>> 8;
    return (this.pruned[h >>> 3] & (1 << (h & 7))) !== 0;
  }

  private prune(onPrune: (slot: number) => void): void {
    this.prunes++;
    // Drop pairs without details seen in at most `level` traces; raise the level until a third is free.
    do {
      this.pruneLevel++;
      let removable = 0;
      for (let i = 0; i < this.keys.length; i++) {
        if (this.keys[i] !== EMPTY && this.ext[i] < 0 && this.cooc[i] <= this.pruneLevel) {
          removable++;
        }
      }
      if ((this.size - removable) * 3 <= this.keys.length) {
        break;
      }
    } while (this.pruneLevel < 1 << 20);
    const pruned = (this.pruned ??= new Uint8Array(PRUNED_BITS >>> 3));
    const level = this.pruneLevel;
    this.rehash(this.bits, (slot) => {
      const keep = this.ext[slot] >= 0 || this.cooc[slot] > level;
      if (!keep) {
        const h = Math.imul(this.keys[slot], 0x85ebca6b) >>> 8;
        pruned[h >>> 3] |= 1 << (h & 7);
        this.prunedPairs++;
        onPrune(slot);
      }
      return keep;
    });
  }

  private rehash(bits: number, keep: (slot: number) => boolean): void {
    const { keys, cooc, ext } = this;
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.keys = new Uint32Array(1 << bits).fill(EMPTY);
    this.cooc = new Uint32Array(1 << bits);
    this.ext = new Int32Array(1 << bits).fill(-1);
    this.size = 0;
    for (let s = 0; s < keys.length; s++) {
      if (keys[s] === EMPTY || !keep(s)) {
        continue;
      }
      const i = this.slotOf(keys[s]);
      this.keys[i] = keys[s];
      this.cooc[i] = cooc[s];
      this.ext[i] = ext[s];
      this.size++;
      if (ext[s] >= 0 && this.onMove !== undefined) {
        this.onMove(ext[s], i);
      }
    }
  }

  /** Every pair in the table: (a, b, slot). */
  forEach(fn: (a: number, b: number, slot: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i];
      if (k !== EMPTY) {
        fn(k >>> 16, k & 0xffff, i);
      }
    }
  }
}
