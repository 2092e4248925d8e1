/**
 * BeTrace observes itself (docs/self-observability.md): the sidecar's own spans, made with the
 * OpenTelemetry SDK and exported over OTLP/HTTP (protobuf) when SELF_TRACING=otlp.
 *
 * Two kinds of trace:
 * - one per OTLP request: `betrace.receive` (tenant, spans, bytes, outcome) with its children
 *   `betrace.ingest_log.append` (the batch made durable) and `betrace.assemble` (handed to trace
 *   assembly);
 * - one per evaluated trace: `betrace.evaluate` (rules, violations, the violated rule ids), linked
 *   to every receive that fed the trace, with its child `betrace.store` (signals and evidence
 *   recorded), and under that one `betrace.deliver` per writer delivery of a signal it raised.
 *
 * No global OpenTelemetry state is touched (no global tracer provider or context manager): the
 * tracer is this object's, contexts are passed explicitly, and the active span for log lines is
 * kept in this object's AsyncLocalStorage, so several sidecars in one process stay apart.
 */
import { AsyncLocalStorage } from 'async_hooks';
import {
  Attributes,
  Context,
  Link,
  ROOT_CONTEXT,
  Span,
  SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Decision } from '../ingest/shards/core';
import type { CheckedBatch } from '../ingest/shards/shards';
import type { Signal } from '../store';

/**
 * The `service.name` of the sidecar's own spans. Not `betrace` (the service of signal spans, which
 * sit inside the users' traces): these traces are the sidecar's, searchable apart from signals.
 * The receiver drops spans of this service before evaluation (ownSpans.ts).
 */
export const SELF_SERVICE_NAME = 'betrace-sidecar';

/** Receive spans remembered per trace (for the evaluation's links), and traces remembered. */
export const MAX_LINKS_PER_TRACE = 16;
export const MAX_TRACES_REMEMBERED = 50_000;
/** Stored signals whose store span a delivery can hang under. */
export const MAX_SIGNALS_REMEMBERED = 10_000;

export interface SelfTracingOptions {
  /** Where the spans go (the OTLP exporter; tests pass an in-memory one). */
  exporter: SpanExporter;
  /** The sidecar's version (`service.version`). */
  version: string;
  /** How long spans wait for their batch (default 1 s). */
  scheduledDelayMillis?: number;
}

/** What a receive learns as it goes: set by the receiver, read when its span ends. */
export interface ReceiveNote {
  tenant?: string;
  spans?: number;
  bytes?: number;
  /** accepted, duplicate, own_spans (only BeTrace's own spans: dropped), or the refusal's reason. */
  outcome?: string;
  /** Spans of BeTrace's own service taken out of the batch before evaluation. */
  ownSpans?: number;
}

/** The 32-hex trace ids of a checked batch, found without decoding it again. */
export function traceIdsOf(batch: CheckedBatch): string[] {
  if (batch.kind === 'traces') {
    return batch.traces.map((t) => t.traceId);
  }
  if (batch.kind === 'protobuf') {
    const ids = new Set<string>();
    const { body } = batch.skim;
    for (const rs of batch.skim.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          ids.add(Buffer.from(body.buffer, body.byteOffset + s.traceIdAt, 16).toString('hex'));
        }
      }
    }
    return [...ids];
  }
  return batch.parts.flatMap((p) => p.traceIds ?? []);
}

export class SelfTracer {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly active = new AsyncLocalStorage<Context>();
  /** tenant NUL trace id → the receive spans that brought its spans (oldest entries forgotten first). */
  private readonly fedBy = new Map<string, SpanContext[]>();
  /** signal id → the store span that raised it. */
  private readonly raisedIn = new Map<string, SpanContext>();

  constructor(options: SelfTracingOptions) {
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': SELF_SERVICE_NAME, 'service.version': options.version }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: options.exporter,
          scheduledDelayMillis: options.scheduledDelayMillis ?? 1000,
          maxQueueSize: 8192,
          maxExportBatchSize: 512,
        }),
      ],
    });
    this.tracer = this.provider.getTracer('betrace-sidecar', options.version);
  }

  /** The active span's ids, for log lines (the pino mixin); empty outside a span. */
  logFields(): { trace_id?: string; span_id?: string } {
    const ctx = this.active.getStore();
    const span = ctx === undefined ? undefined : trace.getSpan(ctx);
    if (span === undefined) {
      return {};
    }
    const { traceId, spanId } = span.spanContext();
    return { trace_id: traceId, span_id: spanId };
  }

  /** Runs one OTLP request's handling inside its `betrace.receive` span (a new trace). */
  async receive<T>(handle: (note: ReceiveNote) => Promise<T>, statusOf: () => number): Promise<T> {
    const note: ReceiveNote = {};
    const span = this.tracer.startSpan('betrace.receive', { kind: SpanKind.SERVER, root: true }, ROOT_CONTEXT);
    try {
      return await this.active.run(trace.setSpan(ROOT_CONTEXT, span), () => handle(note));
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      note.outcome ??= 'error';
      throw e;
    } finally {
      const status = statusOf();
      const attrs: Attributes = {
        'http.response.status_code': status,
        'betrace.outcome': note.outcome ?? (status < 300 ? 'accepted' : 'refused'),
      };
      if (note.tenant !== undefined) attrs['betrace.tenant'] = note.tenant;
      if (note.spans !== undefined) attrs['betrace.spans'] = note.spans;
      if (note.bytes !== undefined) attrs['betrace.bytes'] = note.bytes;
      if (note.ownSpans !== undefined) attrs['betrace.own_spans_dropped'] = note.ownSpans;
      span.setAttributes(attrs);
      if (status >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
  }

  /** A step of the current receive (`betrace.ingest_log.append`), as a child span. */
  async step<T>(name: string, attributes: Attributes, run: () => Promise<T>): Promise<T> {
    const parent = this.active.getStore() ?? ROOT_CONTEXT;
    const span = this.tracer.startSpan(name, { attributes }, parent);
    try {
      return await this.active.run(trace.setSpan(parent, span), run);
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e;
    } finally {
      span.end();
    }
  }

  /**
   * Hands a batch to trace assembly inside a `betrace.assemble` child of the current receive, and
   * remembers the receive for every trace of the batch (the evaluation links to it).
   */
  assemble(tenant: string, batch: CheckedBatch, spans: number, add: () => void): void {
    const parent = this.active.getStore() ?? ROOT_CONTEXT;
    const ids = traceIdsOf(batch);
    const span = this.tracer.startSpan(
      'betrace.assemble',
      { attributes: { 'betrace.tenant': tenant, 'betrace.spans': spans, 'betrace.traces': ids.length } },
      parent
    );
    try {
      add();
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e;
    } finally {
      span.end();
    }
    const receive = trace.getSpan(parent)?.spanContext();
    if (receive === undefined) {
      return;
    }
    for (const id of ids) {
      const key = `${tenant}\u0000${id}`;
      const list = this.fedBy.get(key);
      if (list === undefined) {
        if (this.fedBy.size >= MAX_TRACES_REMEMBERED) {
          this.fedBy.delete(this.fedBy.keys().next().value!);
        }
        this.fedBy.set(key, [receive]);
      } else if (list.length < MAX_LINKS_PER_TRACE) {
        list.push(receive);
      }
    }
  }

  /**
   * Records decisions (one commit): a `betrace.evaluate` span per trace, linked to its receives,
   * with a `betrace.store` child around its record. The spans end once the commit is known to
   * have held (a decision that could not be stored is marked so: it is evaluated again later).
   */
  commit(
    decisions: readonly Decision[],
    commit: (record: (d: Decision) => void) => readonly Decision[],
    record: (d: Decision) => readonly Signal[]
  ): readonly Decision[] {
    const now = Date.now();
    const open: Array<{ d: Decision; evaluate: Span; store: Span }> = [];
    const byDecision = new Map<Decision, { evaluate: Span; store: Span }>();
    for (const d of decisions) {
      const { outcome } = d;
      const key = `${d.tenant}\u0000${outcome.traceId}`;
      const links: Link[] = (this.fedBy.get(key) ?? []).map((context) => ({ context }));
      const violated = [...new Set(outcome.violations.map((v) => v.ruleId))].sort();
      // The evaluation ran before this commit (on a shard worker, or in this tick): its span
      // lasts the measured evaluation time and ends where the decision is recorded.
      const evaluate = this.tracer.startSpan(
        'betrace.evaluate',
        {
          root: true,
          links,
          startTime: now - outcome.seconds * 1000,
          attributes: {
            'betrace.tenant': d.tenant,
            'betrace.trace_id': outcome.traceId,
            'betrace.spans': outcome.spanCount,
            'betrace.rules': outcome.evaluated.length,
            'betrace.rules_skipped': outcome.skipped.length,
            'betrace.violations': outcome.violations.length,
            'betrace.violated_rules': violated,
          },
        },
        ROOT_CONTEXT
      );
      const evaluateCtx = trace.setSpan(ROOT_CONTEXT, evaluate);
      const store = this.tracer.startSpan('betrace.store', { attributes: { 'betrace.tenant': d.tenant } }, evaluateCtx);
      open.push({ d, evaluate, store });
      byDecision.set(d, { evaluate, store });
    }
    let failed: readonly Decision[] = decisions;
    try {
      failed = commit((d) => {
        const spans = byDecision.get(d);
        if (spans === undefined) {
          record(d);
          return;
        }
        const added = this.active.run(trace.setSpan(ROOT_CONTEXT, spans.store), () => record(d));
        spans.store.setAttribute('betrace.signals', added.length);
        const ctx = spans.store.spanContext();
        for (const s of added) {
          if (this.raisedIn.size >= MAX_SIGNALS_REMEMBERED) {
            this.raisedIn.delete(this.raisedIn.keys().next().value!);
          }
          this.raisedIn.set(s.id, ctx);
        }
      });
      return failed;
    } finally {
      const notStored = new Set(failed);
      for (const { d, evaluate, store } of open) {
        if (notStored.has(d)) {
          store.setAttribute('betrace.outcome', 'retry');
          store.setStatus({
            code: SpanStatusCode.ERROR,
            message: 'the decision could not be stored; the trace is evaluated again later',
          });
        } else {
          store.setAttribute('betrace.outcome', 'stored');
          this.fedBy.delete(`${d.tenant}\u0000${d.outcome.traceId}`);
        }
        store.end();
        evaluate.end();
      }
    }
  }

  /** One writer delivery inside `betrace.deliver`: under the store span of the signal it carries, when known. */
  async deliver(
    writer: string,
    item: { id: number; attempts: number; signal?: Signal; tenant?: string },
    run: () => Promise<void>
  ): Promise<void> {
    const stored = item.signal !== undefined ? this.raisedIn.get(item.signal.id) : undefined;
    const parent = stored !== undefined ? trace.setSpanContext(ROOT_CONTEXT, stored) : ROOT_CONTEXT;
    const attributes: Attributes = { 'betrace.writer': writer, 'betrace.attempt': item.attempts + 1 };
    if (item.tenant !== undefined) attributes['betrace.tenant'] = item.tenant;
    if (item.signal !== undefined) attributes['betrace.signal_id'] = item.signal.id;
    const span = this.tracer.startSpan(
      'betrace.deliver',
      { kind: SpanKind.CLIENT, attributes, root: stored === undefined },
      parent
    );
    try {
      await this.active.run(trace.setSpan(parent, span), run);
      span.setAttribute('betrace.outcome', 'delivered');
      if (item.signal !== undefined) {
        this.raisedIn.delete(item.signal.id);
      }
    } catch (e) {
      span.setAttribute('betrace.outcome', 'retry');
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      span.end();
    }
  }

  /** Sends what is queued (tests; stop). */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Flushes and stops the exporter. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** The self tracer SELF_TRACING asks for: undefined when off. */
export function selfTracerFor(
  config: {
    selfTracing: 'off' | 'otlp';
    selfOtlpTracesUrl: string | undefined;
    selfOtlpHeaders: Record<string, string>;
    otlpExportTimeoutMs: number;
  },
  version: string
): SelfTracer | undefined {
  if (config.selfTracing !== 'otlp' || config.selfOtlpTracesUrl === undefined) {
    return undefined;
  }
  return new SelfTracer({
    exporter: new OTLPTraceExporter({
      url: config.selfOtlpTracesUrl,
      headers: config.selfOtlpHeaders,
      timeoutMillis: config.otlpExportTimeoutMs,
    }),
    version,
  });
}
