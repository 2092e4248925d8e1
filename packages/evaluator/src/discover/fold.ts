/**
 * Redundancy elimination: a candidate implied by a stronger one is folded into it.
 * - Every pair kind (ordering, structure, correlation) implies the co-occurrence: the plain
 *   implication of the same pair goes.
 * - "child of" implies "below", "has a child" implies "has below"; an ordering between a span
 *   and its ancestor is the nesting, not news.
 * - Chains: A⇒B and B⇒C make A⇒C redundant (the same for below/above and before), unless A⇒C
 *   has fewer violations than A⇒B (then it says more than the chain).
 * - An enum implies "required" and leaves no room for a range or shape of the same attribute.
 * - A per-trace count bound implies the same bound per bound span.
 */
import type { Candidate, Relation } from './candidates';

const POSITIVE: ReadonlySet<Relation> = new Set(['implies', 'before', 'parent', 'ancestor', 'child', 'descendant', 'shared']);
const UP: ReadonlySet<Relation> = new Set(['parent', 'ancestor']);
const DOWN: ReadonlySet<Relation> = new Set(['child', 'descendant']);

/** `cands` in order of preference (best first): of a chain's candidates, the earlier ones stay. */
export function foldRedundant(cands: readonly Candidate[]): { kept: Candidate[]; folded: number } {
  const byPair = new Map<string, Candidate[]>();
  const attr = new Map<string, Candidate[]>();
  const perTraceCount = new Map<number, number>();
  for (const c of cands) {
    if (c.b >= 0) {
      push(byPair, `${c.a}:${c.b}`, c);
    }
    if (c.kind === 'attribute') {
      push(attr, `${c.a}:${c.key}`, c);
    }
    if (c.rel === 'count') {
      perTraceCount.set(c.a, c.bound!);
    }
  }
  const sameAttr = (c: Candidate, rel: Relation): boolean => (attr.get(`${c.a}:${c.key}`) ?? []).some((o) => o.rel === rel);
  const implied = (c: Candidate): boolean => {
    const same = byPair.get(`${c.a}:${c.b}`) ?? [];
    switch (c.rel) {
      case 'implies':
        return same.some((o) => o !== c && POSITIVE.has(o.rel));
      case 'ancestor':
        return same.some((o) => o.rel === 'parent');
      case 'descendant':
        return same.some((o) => o.rel === 'child');
      case 'before':
        return same.some((o) => UP.has(o.rel));
      case 'required':
      case 'range':
      case 'shape':
        return sameAttr(c, 'enum');
      case 'countBelow': {
        const k = perTraceCount.get(c.b);
        return k !== undefined && k <= c.bound!;
      }
      default:
        return false;
    }
  };
  // Chains, against what is kept so far (A⇒B⇒A must not fold both ways).
  const kept: Candidate[] = [];
  const links = new Map<number, Map<number, Candidate[]>>();
  const link = (a: number, b: number, rels: ReadonlySet<Relation>): Candidate | undefined => links.get(a)?.get(b)?.find((c) => rels.has(c.rel));
  const chained = (c: Candidate, rels: ReadonlySet<Relation>): boolean => {
    for (const [mid, first] of links.get(c.a) ?? []) {
      const l = mid === c.b ? undefined : first.find((x) => rels.has(x.rel));
      if (l !== undefined && link(mid, c.b, rels) !== undefined && c.violations >= l.violations) {
        return true;
      }
    }
    return false;
  };
  let folded = 0;
  for (const c of cands) {
    const chain = c.rel === 'implies' ? POSITIVE : UP.has(c.rel) ? UP : DOWN.has(c.rel) ? DOWN : c.rel === 'before' ? BEFORE : undefined;
    if (implied(c) || (chain !== undefined && chained(c, chain))) {
      folded++;
      continue;
    }
    kept.push(c);
    if (c.b >= 0 && POSITIVE.has(c.rel)) {
      let m = links.get(c.a);
      if (m === undefined) {
        links.set(c.a, (m = new Map()));
      }
      push(m, c.b, c);
    }
  }
  return { kept, folded };
}

const BEFORE: ReadonlySet<Relation> = new Set(['before']);

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) {
    m.set(k, [v]);
  } else {
    list.push(v);
  }
}
