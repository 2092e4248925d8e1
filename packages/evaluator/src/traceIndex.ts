/**
 * Per-trace indexes shared by every rule evaluated on one trace. Spans by name are built in one
 * pass (every rule needs them to decide whether it can fire at all); the span-by-id map and the
 * ancestry numbering are built only when a rule asks for a structural relation. Everything here
 * is linear in the trace (ancestry.ts), so no rule can make the index itself slow.
 */
import { Ancestry } from './ancestry';
import { BETRACE_SERVICE_NAME, Span, Trace } from './model';

const EMPTY: readonly Span[] = Object.freeze([]);

export class TraceIndex {
  /** The spans rules see: the trace's spans without BeTrace's own (signals never feed back into rules). */
  readonly spans: readonly Span[];
  readonly byName = new Map<string, Span[]>();
  private byIdMap: Map<string, Span> | undefined;
  private ancestryIndex: Ancestry | undefined;
  private errorSeen: boolean | undefined;
  /** Values prepared once per evaluation by compiled rules (relations.ts), by key; see prepared(). */
  private preparedValues: Map<object, { bound: Span | undefined; value: unknown }> | undefined;

  constructor(readonly trace: Trace) {
    // One pass builds the name index; BeTrace's own spans are rare, so only when one is seen is
    // the index rebuilt without them.
    let own = false;
    for (const span of trace.spans) {
      if (span.service === BETRACE_SERVICE_NAME) {
        own = true;
        break;
      }
      const list = this.byName.get(span.name);
      if (list === undefined) {
        this.byName.set(span.name, [span]);
      } else {
        list.push(span);
      }
    }
    if (!own) {
      this.spans = trace.spans;
      return;
    }
    this.byName.clear();
    this.spans = trace.spans.filter((s) => s.service !== BETRACE_SERVICE_NAME);
    for (const span of this.spans) {
      const list = this.byName.get(span.name);
      if (list === undefined) {
        this.byName.set(span.name, [span]);
      } else {
        list.push(span);
      }
    }
  }

  named(name: string): readonly Span[] {
    return this.byName.get(name) ?? EMPTY;
  }

  span(spanId: string | undefined): Span | undefined {
    if (spanId === undefined) {
      return undefined;
    }
    if (this.byIdMap === undefined) {
      this.byIdMap = new Map();
      for (const s of this.spans) {
        this.byIdMap.set(s.spanId, s);
      }
    }
    return this.byIdMap.get(spanId);
  }

  parent(span: Span): Span | undefined {
    return this.span(span.parentSpanId);
  }

  /** Ancestor/descendant numbering of the trace's spans, built on first use. */
  get ancestry(): Ancestry {
    if (this.ancestryIndex === undefined) {
      this.ancestryIndex = new Ancestry(this.spans, (id) => this.span(id));
    }
    return this.ancestryIndex;
  }

  /**
   * A value derived from this trace (and, when `bound` is given, from that bound span), built by
   * `build(arg)` once and then reused: `key` is unique per compiled use. Only the latest bound span
   * is remembered, since bindings are evaluated one after another.
   */
  prepared<A, T>(key: object, bound: Span | undefined, build: (arg: A) => T, arg: A): T {
    const values = (this.preparedValues ??= new Map());
    const entry = values.get(key);
    if (entry !== undefined && entry.bound === bound) {
      return entry.value as T;
    }
    const value = build(arg);
    if (entry === undefined) {
      values.set(key, { bound, value });
    } else {
      entry.bound = bound;
      entry.value = value;
    }
    return value;
  }

  get hasError(): boolean {
    if (this.errorSeen === undefined) {
      this.errorSeen = this.spans.some((s) => s.status === 'error');
    }
    return this.errorSeen;
  }

  /** The root the rules see: the trace's root unless it is one of BeTrace's own spans. */
  get root(): Span | undefined {
    const root = this.trace.rootSpan;
    return root !== undefined && root.service !== BETRACE_SERVICE_NAME ? root : undefined;
  }
}
