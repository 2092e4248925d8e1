/**
 * Ancestry of one trace, built once (lazily, by TraceIndex) so that "is x above y" is two array
 * reads instead of a walk up the parent chain: the walk made `descendant_of` / `ancestor_of`
 * cost O(spans × depth), minutes on one 40 000-span chain.
 *
 * A span's parent is the span its parentSpanId names (the last one received, when ids repeat);
 * the ancestors of a span are everything that parent walk reaches. Malformed traces can make the
 * walk loop (a → b → a): each such cycle is cut at one span, its "cycle root", which turns the
 * parent graph into a forest. Then
 *   ancestors(s) = forest ancestors of s ∪ (the whole cycle, when s's tree hangs off a cycle),
 * which is exactly what a walk bounded by the number of spans visits. The forest is numbered by
 * one iterative depth-first pass (no recursion: a 40 000-deep chain must not exhaust the stack):
 * s is a proper forest descendant of t exactly when enter[t] < enter[s] <= exit[t].
 */
import type { Span } from './model';

export class Ancestry {
  /** Span → its position in the index's span list (all arrays below are by position). */
  readonly position: Map<Span, number>;
  /** Pre-order number of each span in the forest. */
  readonly enter: Int32Array;
  /** Largest pre-order number in each span's subtree. */
  readonly exit: Int32Array;
  /** `exit` indexed by pre-order number instead of position. */
  readonly exitAt: Int32Array;
  /** For spans on a parent cycle: the cycle's number; otherwise -1. Undefined when the trace has no cycle. */
  readonly onCycle: Int32Array | undefined;
  /** For every span: the number of the cycle its tree hangs off, or -1. Undefined when the trace has no cycle. */
  readonly treeCycle: Int32Array | undefined;
  readonly cycleCount: number;

  constructor(spans: readonly Span[], byId: (spanId: string | undefined) => Span | undefined) {
    const n = spans.length;
    this.position = new Map();
    for (let i = 0; i < n; i++) {
      this.position.set(spans[i], i);
    }
    const parent = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const p = byId(spans[i].parentSpanId);
      parent[i] = p === undefined ? -1 : this.position.get(p)!;
    }

    // Find the cycles of the parent graph (each span has at most one parent): walk up from every
    // span not yet seen, marking the walk; meeting the current walk again closes a new cycle.
    const state = new Uint8Array(n); // 0 unseen, 1 on the current walk, 2 done
    const walk: number[] = [];
    let cycleRoots: number[] | undefined;
    for (let start = 0; start < n; start++) {
      let u = start;
      while (u !== -1 && state[u] === 0) {
        state[u] = 1;
        walk.push(u);
        u = parent[u];
      }
      if (u !== -1 && state[u] === 1) {
        (cycleRoots ??= []).push(u);
      }
      for (const w of walk) {
        state[w] = 2;
      }
      walk.length = 0;
    }
    this.cycleCount = cycleRoots?.length ?? 0;
    let onCycle: Int32Array | undefined;
    if (cycleRoots !== undefined) {
      onCycle = new Int32Array(n).fill(-1);
      cycleRoots.forEach((root, c) => {
        let u = root;
        do {
          onCycle![u] = c;
          u = parent[u];
        } while (u !== root);
        parent[root] = -1; // cut the cycle here: the cycle root becomes a forest root
      });
    }

    // Children lists of the forest, as one array sliced by offsets (counting sort by parent).
    const childStart = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      if (parent[i] !== -1) {
        childStart[parent[i] + 1]++;
      }
    }
    for (let i = 0; i < n; i++) {
      childStart[i + 1] += childStart[i];
    }
    const fill = childStart.slice(0, n);
    const children = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (parent[i] !== -1) {
        children[fill[parent[i]]++] = i;
      }
    }

    // Iterative depth-first numbering from every forest root.
    this.enter = new Int32Array(n);
    this.exit = new Int32Array(n);
    const treeCycle = onCycle === undefined ? undefined : new Int32Array(n);
    const stack = new Int32Array(n);
    const next = childStart.slice(0, n); // the next child of each span to visit
    let counter = 0;
    for (let root = 0; root < n; root++) {
      if (parent[root] !== -1) {
        continue;
      }
      const cycle = onCycle === undefined ? -1 : onCycle[root];
      let top = 0;
      stack[0] = root;
      this.enter[root] = counter++;
      if (treeCycle !== undefined) {
        treeCycle[root] = cycle;
      }
      while (top >= 0) {
        const u = stack[top];
        if (next[u] < childStart[u + 1]) {
          const c = children[next[u]++];
          this.enter[c] = counter++;
          if (treeCycle !== undefined) {
            treeCycle[c] = cycle;
          }
          stack[++top] = c;
        } else {
          this.exit[u] = counter - 1;
          top--;
        }
      }
    }
    this.exitAt = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.exitAt[this.enter[i]] = this.exit[i];
    }
    this.onCycle = onCycle;
    this.treeCycle = treeCycle;
  }
}
