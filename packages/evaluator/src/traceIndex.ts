/**
 * Per-trace indexes shared by every rule evaluated on one trace. Spans by name are built in one
 * pass (every rule needs them to decide whether it can fire at all); the parent/child maps are
 * built only when a rule asks for a structural relation.
 */
import { BETRACE_SERVICE_NAME, Span, Trace } from './model';

const EMPTY: readonly Span[] = Object.freeze([]);

export class TraceIndex {
  /** The spans rules see: the trace's spans without BeTrace's own (signals never feed back into rules). */
  readonly spans: readonly Span[];
  readonly byName = new Map<string, Span[]>();
  private byIdMap: Map<string, Span> | undefined;
  private childrenMap: Map<string, Span[]> | undefined;
  private errorSeen: boolean | undefined;

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

  children(span: Span): readonly Span[] {
    if (this.childrenMap === undefined) {
      this.childrenMap = new Map();
      for (const s of this.spans) {
        if (s.parentSpanId !== undefined) {
          const list = this.childrenMap.get(s.parentSpanId);
          if (list === undefined) {
            this.childrenMap.set(s.parentSpanId, [s]);
          } else {
            list.push(s);
          }
        }
      }
    }
    return this.childrenMap.get(span.spanId) ?? EMPTY;
  }

  parent(span: Span): Span | undefined {
    return this.span(span.parentSpanId);
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
