/**
 * The structural and ordering relations written the plain way — the evaluator's semantics before
 * the relations were indexed (walk the parent chain, scan the other side), O(n²) or worse. The
 * property test compares the indexed evaluator against these on random, also malformed, traces.
 */
import type { Relation, Span } from '@betrace/evaluator';

/** The trace's spans as rules see them, and its span-by-id lookup (the last span with an id wins). */
export class NaiveTrace {
  private readonly byId = new Map<string, Span>();

  constructor(readonly spans: readonly Span[]) {
    for (const s of spans) {
      this.byId.set(s.spanId, s);
    }
  }

  parent(span: Span): Span | undefined {
    return span.parentSpanId === undefined ? undefined : this.byId.get(span.parentSpanId);
  }

  children(span: Span): Span[] {
    return this.spans.filter((s) => s.parentSpanId === span.spanId);
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
        return this.children(span).some((c) => other.includes(c));
      case 'descendant_of':
        return this.ancestors(span).some((a) => other.includes(a));
      case 'ancestor_of':
        return other.some((t) => this.ancestors(t).includes(span));
      case 'sibling_of': {
        const parent = this.parent(span);
        return parent !== undefined && this.children(parent).some((s) => s !== span && other.includes(s));
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
