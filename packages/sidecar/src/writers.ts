/**
 * Writers deliver each signal out of the durable outbox: as a span in the violating trace
 * (OTLP/HTTP protobuf), as a Grafana annotation, and to a webhook. Each retries with exponential
 * backoff and full jitter, and because the outbox is in SQLite, a crash or an outage delays a
 * delivery but never loses one. Everything a writer sends passes the tenant's redaction policy
 * first: the signal's message, rule name and service, and the whole request or body.
 */
import { createHash, createHmac } from 'crypto';
import { promisify } from 'util';
import { gzip } from 'zlib';
import type { Logger } from 'pino';
import { encodeTraceRequest } from './ingest/otlpProto';
import type { Metrics } from './metrics';
import { describeFetchError } from './netError';
import type { Redactor } from './redact';
import type { OutboxItem, Signal, Store } from './store';
import type { SelfTracer } from './telemetry/selfTrace';

/** What the outbox hands a writer: a signal (OutboxItem) or an evidence record (EvidenceOutboxItem). */
export interface QueuedItem {
  id: number;
  attempts: number;
}

export interface OutboxWriter<T extends QueuedItem> {
  readonly name: string;
  /** Delivers one item; throws to have it retried later. */
  deliver(item: T): Promise<void>;
}

export type SignalWriter = OutboxWriter<OutboxItem>;

export class DeliveryError extends Error {}

const gzipAsync = promisify(gzip);

export async function send(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    // "fetch failed" says nothing: name the target and the system's reason (ECONNREFUSED …).
    throw new DeliveryError(`${init.method ?? 'GET'} ${shownUrl(url)}: ${describeFetchError(e)}`);
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).slice(0, 300);
    throw new DeliveryError(`${init.method ?? 'GET'} ${shownUrl(url)} answered ${res.status}${text ? `: ${text}` : ''}`);
  }
  return res;
}

/**
 * A target's URL as logs and the outbox may show it: origin and first path segment only. A webhook
 * URL can be a credential (Slack's incoming webhooks are), so the rest never leaves.
 */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    const first = u.pathname.split('/').filter(Boolean)[0];
    const more = u.pathname.split('/').filter(Boolean).length > 1 || u.search !== '';
    return `${u.origin}${first ? `/${first}` : ''}${more ? '/…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

/** The tenant's redactor, by tenant id: writers are shared by tenants, policies are not. */
export type RedactorOf = (tenant: string) => Redactor;

/** The signal with what came from spans (the rendered message, the service) and the rule name redacted. Ids stay. */
export function redactSignal(redactor: Redactor, s: Signal): Signal {
  const out: Signal = { ...s, message: redactor.text(s.message), ruleName: redactor.text(s.ruleName) };
  if (s.service !== undefined) {
    out.service = redactor.text(s.service);
  }
  return out;
}

const SEVERITY_RANK: Record<string, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

// ---------------------------------------------------------------- signal spans (OTLP)

/** A stable span id per signal: a retried export writes the same span, not a second one. */
function signalSpanId(signalId: string): Buffer {
  return createHash('sha256').update(`betrace.signal/${signalId}`).digest().subarray(0, 8);
}

/** The telemetry contract's `betrace.signal` span for one signal, as an ExportTraceServiceRequest. */
export function signalSpanRequest(signal: Signal, version: string, compliance: Array<{ framework: string; control: string }> = []): { resourceSpans: object[] } {
  const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
  // Inside the violating trace (where the span it points at ends), not at detection time: a span
  // at detection time would stretch the trace in Tempo to the detection delay. When it was
  // detected is an attribute.
  const timeNs = signal.anchorNs ?? String(BigInt(signal.createdAt) * 1_000_000n);
  const parent = signal.boundSpanId ?? signal.matchedSpanIds[0];
  const attributes = [
    str('betrace.signal.id', signal.id),
    str('betrace.rule.id', signal.ruleId),
    str('betrace.rule.name', signal.ruleName),
    { key: 'betrace.rule.version', value: { intValue: String(signal.ruleVersion) } },
    str('betrace.signal.severity', signal.severity),
    str('betrace.signal.message', signal.message),
    { key: 'betrace.signal.matched_span_ids', value: { arrayValue: { values: signal.matchedSpanIds.map((id) => ({ stringValue: id })) } } },
    str('betrace.signal.source', signal.source),
    str('betrace.signal.detected_at', new Date(signal.createdAt).toISOString()),
  ];
  if (compliance.length > 0) {
    attributes.push(str('compliance.framework', compliance[0].framework), str('compliance.control', compliance[0].control));
  }
  return betraceSpanRequest(signal.tenant, version, {
    traceId: Buffer.from(signal.traceId, 'hex'),
    spanId: signalSpanId(signal.id),
    ...(parent ? { parentSpanId: Buffer.from(parent, 'hex') } : {}),
    name: 'betrace.signal',
    kind: 1,
    startTimeUnixNano: timeNs,
    endTimeUnixNano: timeNs,
    attributes,
    links: signal.matchedSpanIds.filter((id) => id !== parent).map((id) => ({ traceId: Buffer.from(signal.traceId, 'hex'), spanId: Buffer.from(id, 'hex') })),
    status: SEVERITY_RANK[signal.severity] >= SEVERITY_RANK.high ? { code: 2, message: signal.message } : { code: 0 },
  });
}

/** One span BeTrace writes (a signal, an evidence record) in its resource (service `betrace`, the tenant) and scope. */
export function betraceSpanRequest(tenant: string, version: string, span: object): { resourceSpans: object[] } {
  const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'betrace'), str('service.version', version), str('betrace.tenant', tenant)] },
        scopeSpans: [{ scope: { name: 'betrace', version }, spans: [span] }],
      },
    ],
  };
}

/** Where and how BeTrace's own spans are exported (config: OTLP_EXPORT_URL or OTEL_EXPORTER_OTLP_*). */
export interface OtlpExportTarget {
  /** The full traces URL (…/v1/traces, or the OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given). */
  url: string;
  /** Extra headers (OTEL_EXPORTER_OTLP_HEADERS), e.g. an authorization header of a managed backend. */
  headers?: Record<string, string>;
  timeoutMs?: number;
  gzip?: boolean;
}

/** The target of a bare URL (tests, the gateway): a base URL gets /v1/traces. */
export function otlpTarget(url: string): OtlpExportTarget {
  return { url: otlpTracesUrl(url) };
}

/** POSTs one encoded ExportTraceServiceRequest to the target, for a tenant's Tempo org. */
export async function exportSpans(target: OtlpExportTarget, orgId: string | undefined, body: Uint8Array): Promise<void> {
  const headers = { ...(target.headers ?? {}), ...otlpHeaders(orgId) };
  let payload: Uint8Array = body;
  if (target.gzip === true) {
    payload = await gzipAsync(body);
    headers['content-encoding'] = 'gzip';
  }
  await send(target.url, { method: 'POST', headers, body: payload }, target.timeoutMs ?? 10_000);
}

export class OtlpSignalWriter implements SignalWriter {
  readonly name = 'otlp';

  constructor(
    private readonly target: OtlpExportTarget,
    private readonly version: string,
    private readonly complianceOf: (tenant: string, ruleId: string) => Array<{ framework: string; control: string }>,
    private readonly redactorOf: RedactorOf,
    /** The tenant's Tempo org (X-Scope-OrgID), so a signal span lands in the tenant's own trace. */
    private readonly orgIdOf: (tenant: string) => string | undefined = () => undefined,
  ) {}

  async deliver(item: OutboxItem): Promise<void> {
    const redactor = this.redactorOf(item.tenant);
    const compliance = this.complianceOf(item.tenant, item.signal.ruleId).map((c) => ({ framework: redactor.text(c.framework), control: redactor.text(c.control) }));
    const request = signalSpanRequest(redactSignal(redactor, item.signal), this.version, compliance);
    await exportSpans(this.target, this.orgIdOf(item.tenant), encodeTraceRequest(request));
  }
}

/**
 * The delay before retry number `attempts + 1`: doubling from `baseMs`, capped at `maxMs`, drawn
 * from the upper half of that ceiling (jitter, so retries of many items do not march in step).
 */
export function retryDelay(attempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempts, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** An OTLP/HTTP endpoint as configured (a base URL, or the full path) → its traces path. */
export function otlpTracesUrl(url: string): string {
  return /\/v1\/traces$/.test(url) ? url : `${url}/v1/traces`;
}

/** OTLP/HTTP protobuf headers, with the tenant's X-Scope-OrgID for a multi-tenant Tempo. */
export function otlpHeaders(orgId: string | undefined): Record<string, string> {
  return orgId === undefined ? { 'content-type': 'application/x-protobuf' } : { 'content-type': 'application/x-protobuf', 'x-scope-orgid': orgId };
}

// ---------------------------------------------------------------- Grafana annotations

export class GrafanaAnnotationWriter implements SignalWriter {
  readonly name = 'grafana';

  constructor(
    private readonly grafanaUrl: string,
    private readonly token: string,
    private readonly store: Store,
    private readonly redactorOf: RedactorOf,
    private readonly timeoutMs = 10_000,
  ) {}

  private headers() {
    return { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', accept: 'application/json' };
  }

  /**
   * One annotation per rule and minute: the first signal posts it, later ones in the same minute
   * update its text with the count (a storm folds into one annotation).
   */
  async deliver(item: OutboxItem): Promise<void> {
    const s = redactSignal(this.redactorOf(item.tenant), item.signal);
    if (this.store.annotationOf(item.tenant, s.id) !== undefined) {
      this.store.completeOutbox(item.id); // delivered before a crash; only the outbox row was left
      return;
    }
    const minute = Math.floor(s.createdAt / 60_000);
    const storm = this.store.annotationStorm(item.tenant, s.ruleId, minute);
    const tags = ['betrace', `rule:${s.ruleId}`, `severity:${s.severity}`, ...(s.service ? [`service:${s.service}`] : [])];
    if (storm !== undefined) {
      const count = storm.signals + 1;
      const text = `${s.ruleName}: ${count} signals this minute, latest: ${s.message} — trace ${s.traceId}`;
      await send(`${this.grafanaUrl}/api/annotations/${storm.annotationId}`, { method: 'PATCH', headers: this.headers(), body: JSON.stringify({ text, tags }) }, this.timeoutMs);
      this.store.recordAnnotation(item.id, item.tenant, s.id, s.ruleId, minute, storm.annotationId, count);
      return;
    }
    const res = await send(
      `${this.grafanaUrl}/api/annotations`,
      { method: 'POST', headers: this.headers(), body: JSON.stringify({ time: s.createdAt, tags, text: `${s.ruleName}: ${s.message} — trace ${s.traceId}` }) },
      this.timeoutMs,
    );
    const json = (await res.json()) as { id?: number };
    if (typeof json.id !== 'number') {
      throw new DeliveryError(`Grafana answered without an annotation id: ${JSON.stringify(json).slice(0, 200)}`);
    }
    this.store.recordAnnotation(item.id, item.tenant, s.id, s.ruleId, minute, json.id, 1);
  }
}

// ---------------------------------------------------------------- webhooks

export class WebhookWriter implements SignalWriter {
  readonly name = 'webhook';

  constructor(
    private readonly url: string,
    private readonly format: 'json' | 'slack',
    private readonly secret: string | undefined,
    private readonly redactorOf: RedactorOf,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The request body for a signal of `tenant`, redacted by the tenant's policy (the signature covers these bytes). */
  body(s: Signal, tenant: string = s.tenant): string {
    const redactor = this.redactorOf(tenant);
    return JSON.stringify(redactor.json(this.payload(redactSignal(redactor, s))));
  }

  private payload(s: Signal): object {
    if (this.format === 'slack') {
      return { text: `*${s.severity.toUpperCase()}* ${s.ruleName}: ${s.message}\ntrace \`${s.traceId}\` · rule \`${s.ruleId}\` · signal \`${s.id}\`` };
    }
    const { tenant: _tenant, ...rest } = s;
    return { type: 'betrace.signal', signal: { ...rest, createdAt: new Date(s.createdAt).toISOString(), updatedAt: new Date(s.updatedAt).toISOString() } };
  }

  async deliver(item: OutboxItem): Promise<void> {
    const body = this.body(item.signal, item.tenant);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-betrace-signal-id': item.signal.id };
    if (this.secret) {
      headers['x-betrace-signature'] = `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`;
    }
    await send(this.url, { method: 'POST', headers, body }, this.timeoutMs);
  }
}

// ---------------------------------------------------------------- the outbox loop

export interface DispatcherOptions {
  now: () => number;
  log: Logger;
  metrics: Metrics;
  /** First retry delay; doubles per attempt up to maxDelayMs, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  batch?: number;
  random?: () => number;
  /** SELF_TRACING=otlp: each delivery inside a `betrace.deliver` span. */
  selfTrace?: SelfTracer;
}

export class OutboxDispatcher<T extends QueuedItem = OutboxItem> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  /** Failed attempts since the last delivery: an outage is logged when it starts and when it ends, not per attempt. */
  private failing = 0;

  constructor(
    private readonly store: Store,
    private readonly writer: OutboxWriter<T>,
    private readonly options: DispatcherOptions,
    /** Reads the writer's due items; default: signal rows (`store.dueOutbox`). Evidence passes its own. */
    private readonly due?: (writer: string, now: number, limit: number) => T[],
  ) {}

  /** Delay before the next attempt after `attempts` failures: exponential, capped, full jitter. */
  backoff(attempts: number): number {
    return retryDelay(attempts, this.options.baseDelayMs ?? 1000, this.options.maxDelayMs ?? 300_000, this.options.random);
  }

  /** Delivers every due item once; returns how many were delivered. */
  runOnce(): Promise<number> {
    if (this.running === undefined) {
      this.running = this.deliverDue().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async deliverDue(): Promise<number> {
    let delivered = 0;
    const limit = this.options.batch ?? 100;
    // Without `due`, T is OutboxItem (the default type argument): the signal rows.
    const items = this.due ? this.due(this.writer.name, this.options.now(), limit) : (this.store.dueOutbox(this.writer.name, this.options.now(), limit) as unknown as T[]);
    for (const item of items) {
      if (this.stopped && !this.store.db.open) {
        break;
      }
      try {
        const selfTrace = this.options.selfTrace;
        await (selfTrace === undefined ? this.writer.deliver(item) : selfTrace.deliver(this.writer.name, item as QueuedItem & { signal?: Signal; tenant?: string }, () => this.writer.deliver(item)));
        if (this.store.db.open) {
          this.store.completeOutbox(item.id);
        }
        delivered++;
        if (this.failing > 0) {
          this.options.log.info({ writer: this.writer.name, failedAttempts: this.failing }, 'delivery works again');
          this.failing = 0;
        }
      } catch (e) {
        const next = this.options.now() + this.backoff(item.attempts);
        if (this.store.db.open) {
          this.store.retryOutbox(item.id, next, e instanceof Error ? e.message : String(e));
        }
        if (this.failing === 0) {
          // Once per outage, with the cause in words and no stack trace; its end is logged too.
          this.options.log.warn({ writer: this.writer.name, cause: e instanceof Error ? e.message : String(e) }, 'delivery failing; retrying with backoff until it works');
        }
        this.failing++;
        // The target is likely down: leave the rest of the batch for the next round.
        break;
      }
    }
    if (this.store.db.open) {
      this.options.metrics.writerQueue.set({ writer: this.writer.name }, this.store.outboxDepth(this.writer.name));
    }
    return delivered;
  }

  start(intervalMs: number): void {
    const loop = () => {
      this.runOnce()
        .catch((e: unknown) => this.options.log.error({ err: e, writer: this.writer.name }, 'writer loop failed'))
        .finally(() => {
          if (!this.stopped) {
            this.timer = setTimeout(loop, intervalMs);
            this.timer.unref();
          }
        });
    };
    loop();
  }

  /** Stops the loop after a last attempt to deliver what is due (bounded by `deadlineMs`). */
  async stop(deadlineMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([this.runOnce(), new Promise((resolve) => setTimeout(resolve, deadlineMs).unref())]);
  }
}
