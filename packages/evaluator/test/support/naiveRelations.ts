/**
 * The structural and ordering relations written the plain way — the evaluator's semantics before
 * the relations were indexed (walk the parent chain, scan the other side), O(n²) or worse. The
 * property test compares the indexed evaluator against these on random, also malformed, traces.
 */
import type { Relation, Span } from '@betrace/evaluator';

/** The trace's spans as rules see them, and its span-by-id lookup (the last span with an id wins). */
export class NaiveTrace {
  private readonly byId = new Map<string, Span>();
  private readonly byParentId = new Map<string, Span[]>();
  private lastOther: readonly Span[] | undefined;
  private lastOtherSet = new Set<Span>();

  constructor(readonly spans: readonly Span[]) {
    for (const s of spans) {
      this.byId.set(s.spanId, s);
      if (s.parentSpanId !== undefined) {
        const list = this.byParentId.get(s.parentSpanId) ?? [];
        list.push(s);
        this.byParentId.set(s.parentSpanId, list);
      }
    }
  }

  /** Membership in the other side (a set, so that 300-span traces stay quick to check). */
  private inOther(other: readonly Span[], span: Span): boolean {
    if (other !== this.lastOther) {
      this.lastOther = other;
      this.lastOtherSet = new Set(other);
    }
    return this.lastOtherSet.has(span);
  }

  parent(span: Span): Span | undefined {
    return span.parentSpanId === undefined ? undefined : this.byId.get(span.parentSpanId);
  }

  /** Spans whose parentSpanId is the span's id. */
  children(span: Span): Span[] {
    return this.byParentId.get(span.spanId) ?? [];
  }

  /** Every span the parent walk from `span` reaches, bounded by the span count so cycles end. */
  ancestors(span: Span): Span[] {
    const out: Span[] = [];
    let p = this.parent(span);
    for (let steps = 0; p !== undefined && steps < this.spans.length; steps++) {
      out.push(p);
      p = this.parent(p);
    }
    return out;
  }

  relation(rel: Relation, span: Span, other: readonly Span[]): boolean {
    switch (rel) {
      case 'child_of':
        return other.some((t) => t.spanId === span.parentSpanId);
      case 'parent_of':
        return this.children(span).some((c) => this.inOther(other, c));
      case 'descendant_of':
        return this.ancestors(span).some((a) => this.inOther(other, a));
      case 'ancestor_of':
        return other.some((t) => this.ancestors(t).includes(span));
      case 'sibling_of': {
        const parent = this.parent(span);
        return parent !== undefined && this.children(parent).some((s) => s !== span && this.inOther(other, s));
      }
    }
  }

  order(before: boolean, withinNs: number | undefined, span: Span, other: readonly Span[]): boolean {
    return other.some((t) => {
      if (t === span) {
        return false;
      }
      const gap = before ? t.startNs - span.startNs : span.startNs - t.startNs;
      return gap > 0n && (withinNs === undefined || gap <= BigInt(withinNs));
    });
  }
}
