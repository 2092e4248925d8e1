/**
 * The structural and ordering refinements (`S.child_of(T)` … `S.after(T, within d)`), answered in
 * O(1) or O(log |T|) per span of S from the spans of T prepared once per evaluation (compile.ts
 * keeps the prepared test in the trace index, per bound span when T reads the binding).
 *
 * The meaning is that of the plain definitions, which the property test in
 * test/relations.property.test.ts checks these against on random (also malformed) traces:
 * - child_of: the span's parentSpanId is the id of a span of T;
 * - parent_of: some span of T has the span's id as its parentSpanId;
 * - sibling_of: the span's parent exists and another span of T has the same parentSpanId;
 * - descendant_of / ancestor_of: a span of T is among the span's ancestors / the span is among
 *   the ancestors of a span of T (ancestry.ts: parent walk, cycles included);
 * - before / after: a span of T starts strictly later / earlier, at most `within` apart.
 */
import type { Ancestry } from './ancestry';
import type { Budget } from './budget';
import type { Span } from './model';
import type { TraceIndex } from './traceIndex';

export interface SpanTest {
  test(span: Span): boolean;
}

/** Up to this many spans of T are scanned per test rather than indexed (a bound span, a few named spans). */
const SCAN_AT_MOST = 8;

/**
 * In traces of up to this many spans, ancestry is found by walking parents (at most this many
 * steps per span, so at worst 256² steps per relation): for typical traces, a few dozen to a few
 * hundred spans a few levels deep, that is much cheaper than numbering the whole trace
 * (ancestry.ts), which larger traces need to stay linear.
 */
export const WALK_AT_MOST_SPANS = 256;

/** Membership in the spans of T: a scan for a few, a set for more. */
function memberTest(members: readonly Span[]): (span: Span) => boolean {
  if (members.length <= SCAN_AT_MOST) {
    return (span) => members.includes(span);
  }
  const set = new Set(members);
  return (span) => set.has(span);
}

const NEVER: SpanTest = { test: () => false };

export function childOfTest(members: readonly Span[], budget: Budget): SpanTest {
  if (members.length === 0) {
    return NEVER;
  }
  if (members.length <= SCAN_AT_MOST) {
    return {
      test(span) {
        const id = span.parentSpanId;
        if (id === undefined) {
          return false;
        }
        for (let i = 0; i < members.length; i++) {
          if (members[i].spanId === id) {
            return true;
          }
        }
        return false;
      },
    };
  }
  budget.spend(members.length);
  const ids = new Set<string>();
  for (const m of members) {
    ids.add(m.spanId);
  }
  return { test: (span) => span.parentSpanId !== undefined && ids.has(span.parentSpanId) };
}

export function parentOfTest(members: readonly Span[], budget: Budget): SpanTest {
  if (members.length === 0) {
    return NEVER;
  }
  if (members.length <= SCAN_AT_MOST) {
    return {
      test(span) {
        for (let i = 0; i < members.length; i++) {
          if (members[i].parentSpanId === span.spanId) {
            return true;
          }
        }
        return false;
      },
    };
  }
  budget.spend(members.length);
  const parentIds = new Set<string>();
  for (const m of members) {
    if (m.parentSpanId !== undefined) {
      parentIds.add(m.parentSpanId);
    }
  }
  return { test: (span) => parentIds.has(span.spanId) };
}

export function siblingOfTest(members: readonly Span[], ix: TraceIndex, budget: Budget): SpanTest {
  if (members.length === 0) {
    return NEVER;
  }
  if (members.length <= SCAN_AT_MOST) {
    return {
      test(span) {
        const id = span.parentSpanId;
        if (id === undefined || ix.span(id) === undefined) {
          return false;
        }
        for (let i = 0; i < members.length; i++) {
          if (members[i] !== span && members[i].parentSpanId === id) {
            return true;
          }
        }
        return false;
      },
    };
  }
  budget.spend(members.length);
  // Per parent id: how many spans of T have it, and one of them (to tell "only the span itself").
  const byParent = new Map<string, { one: Span; count: number }>();
  for (const m of members) {
    if (m.parentSpanId === undefined) {
      continue;
    }
    const entry = byParent.get(m.parentSpanId);
    if (entry === undefined) {
      byParent.set(m.parentSpanId, { one: m, count: 1 });
    } else {
      entry.count++;
    }
  }
  return {
    test(span) {
      const id = span.parentSpanId;
      if (id === undefined) {
        return false;
      }
      const entry = byParent.get(id);
      return entry !== undefined && (entry.count > 1 || entry.one !== span) && ix.span(id) !== undefined;
    },
  };
}

/** Pre-order numbers of the spans of T, ascending. */
function sortedEnters(members: readonly Span[], anc: Ancestry, budget: Budget): Int32Array {
  budget.spend(members.length);
  const enters = new Int32Array(members.length);
  for (let i = 0; i < members.length; i++) {
    enters[i] = anc.enter[anc.position.get(members[i])!];
  }
  return enters.sort();
}

/** Which cycles the spans of T touch, through `cycleOf` (onCycle or treeCycle); undefined when none. */
function cyclesHit(members: readonly Span[], anc: Ancestry, cycleOf: Int32Array | undefined): Uint8Array | undefined {
  if (cycleOf === undefined) {
    return undefined;
  }
  const hit = new Uint8Array(anc.cycleCount);
  let any = false;
  for (const m of members) {
    const c = cycleOf[anc.position.get(m)!];
    if (c >= 0) {
      hit[c] = 1;
      any = true;
    }
  }
  return any ? hit : undefined;
}

/** The span has a span of T among its ancestors. */
export function descendantOfTest(members: readonly Span[], ix: TraceIndex, budget: Budget): SpanTest {
  if (members.length === 0) {
    return NEVER;
  }
  const n = ix.spans.length;
  if (n <= WALK_AT_MOST_SPANS) {
    const inT = memberTest(members);
    return {
      test(span) {
        // Bounded by the span count: a parent cycle cannot loop for ever, and it is long enough
        // to reach every ancestor.
        let p = ix.parent(span);
        for (let steps = 0; p !== undefined && steps < n; steps++) {
          if (inT(p)) {
            budget.spend(steps);
            return true;
          }
          p = ix.parent(p);
        }
        budget.spend(n);
        return false;
      },
    };
  }
  const anc = ix.ancestry;
  const enters = sortedEnters(members, anc, budget);
  // The subtrees of T's spans are nested or disjoint: keep the outermost ones, disjoint and sorted.
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < enters.length; i++) {
    const e = enters[i];
    if (starts.length > 0 && e <= ends[ends.length - 1]) {
      continue;
    }
    starts.push(e);
    ends.push(anc.exitAt[e]);
  }
  const hit = cyclesHit(members, anc, anc.onCycle);
  const treeCycle = anc.treeCycle;
  return {
    test(span) {
      const pos = anc.position.get(span);
      if (pos === undefined) {
        return false;
      }
      const e = anc.enter[pos];
      // The last outermost subtree starting at or before the span: a proper ancestor of T's if it
      // contains the span and does not start at it (a span of T whose subtree is outermost has no
      // span of T above it in the forest).
      let lo = 0;
      let hi = starts.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (starts[mid] <= e) {
          found = mid;
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      if (found >= 0 && e > starts[found] && e <= ends[found]) {
        return true;
      }
      // Above a tree hanging off a cycle lies the whole cycle.
      return hit !== undefined && treeCycle![pos] >= 0 && hit[treeCycle![pos]] === 1;
    },
  };
}

/** The span is among the ancestors of a span of T. */
export function ancestorOfTest(members: readonly Span[], ix: TraceIndex, budget: Budget): SpanTest {
  if (members.length === 0) {
    return NEVER;
  }
  const n = ix.spans.length;
  if (n <= WALK_AT_MOST_SPANS) {
    // All ancestors of T's spans, each walk stopping where an earlier one passed (its ancestors
    // are in already): linear in the trace.
    const above = new Set<Span>();
    for (const t of members) {
      let p = ix.parent(t);
      for (let steps = 0; p !== undefined && steps < n && !above.has(p); steps++) {
        above.add(p);
        p = ix.parent(p);
      }
    }
    budget.spend(members.length + above.size);
    return { test: (span) => above.has(span) };
  }
  const anc = ix.ancestry;
  const enters = sortedEnters(members, anc, budget);
  const hit = cyclesHit(members, anc, anc.treeCycle);
  const onCycle = anc.onCycle;
  return {
    test(span) {
      const pos = anc.position.get(span);
      if (pos === undefined) {
        return false;
      }
      const e = anc.enter[pos];
      // The first span of T after the span in pre-order: inside the span's subtree, if any is.
      let lo = 0;
      let hi = enters.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (enters[mid] <= e) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      if (lo < enters.length && enters[lo] <= anc.exit[pos]) {
        return true;
      }
      // A span on a cycle is an ancestor of every span of the tree hanging off that cycle.
      return hit !== undefined && onCycle![pos] >= 0 && hit[onCycle![pos]] === 1;
    },
  };
}

function compareStart(a: Span, b: Span): number {
  return a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0;
}

/**
 * `before`: some span of T starts after the span, at most `within` later; `after`: some span of T
 * starts before it, at most `within` earlier (start to start; equal starts are neither).
 */
export function orderTest(members: readonly Span[], before: boolean, within: bigint | undefined, budget: Budget): SpanTest {
  if (members.length === 0) {
    return NEVER;
  }
  if (members.length <= SCAN_AT_MOST) {
    return {
      test(span) {
        for (let i = 0; i < members.length; i++) {
          const gap = before ? members[i].startNs - span.startNs : span.startNs - members[i].startNs;
          if (gap > 0n && (within === undefined || gap <= within)) {
            return true;
          }
        }
        return false;
      },
    };
  }
  budget.spend(members.length);
  if (within === undefined) {
    // Without a bound only the latest (earliest) start of T matters.
    let extreme = members[0].startNs;
    for (const m of members) {
      if (before ? m.startNs > extreme : m.startNs < extreme) {
        extreme = m.startNs;
      }
    }
    return before ? { test: (span) => extreme > span.startNs } : { test: (span) => extreme < span.startNs };
  }
  budget.spend(members.length * Math.ceil(Math.log2(members.length)));
  const starts = members
    .slice()
    .sort(compareStart)
    .map((m) => m.startNs);
  const bound = within;
  return {
    test(span) {
      const s = span.startNs;
      if (before) {
        // The first start after s must be no later than s + within.
        let lo = 0;
        let hi = starts.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (starts[mid] <= s) {
            lo = mid + 1;
          } else {
            hi = mid;
          }
        }
        return lo < starts.length && starts[lo] - s <= bound;
      }
      // The last start before s must be no earlier than s - within.
      let lo = 0;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (starts[mid] < s) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo > 0 && s - starts[lo - 1] <= bound;
    },
  };
}
