/**
 * Gateway mode: every batch the receiver accepts is also forwarded to Tempo's OTLP/HTTP endpoint
 * (protobuf, the tenant's X-Scope-OrgID), after redaction. Forwarding goes through a spool in
 * SQLite: a batch is spooled in the same request that accepts it, and leaves the spool only when
 * Tempo has taken it, so an outage or a restart delays forwarding but loses nothing. The spool is
 * bounded; when it is full the receiver answers 503 with Retry-After and the client keeps the data.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { ConfigError, SidecarConfig } from '../config';
import type { Store } from '../store';
import type { Tenant } from '../tenants';
import { otlpHeaders, otlpTracesUrl, retryDelay } from '../writers';
import { decodeTraceRequest, ExportTraceServiceRequest } from './otlpProto';

/**
 * One ResourceSpans in protobufjs' message shape (ids as bytes, int64 as Long or string, values
 * as `{ stringValue }`, `{ arrayValue: { values } }`, `{ kvlistValue: { values } }` …): what the
 * redaction hook reads and returns.
 */
export interface OtlpKeyValue {
  key: string;
  value?: Record<string, unknown> | null;
}
export interface OtlpSpan {
  name?: string;
  attributes?: OtlpKeyValue[];
  events?: Array<{ name?: string; attributes?: OtlpKeyValue[] } & Record<string, unknown>>;
  links?: Array<{ attributes?: OtlpKeyValue[] } & Record<string, unknown>>;
  status?: { message?: string; code?: number } | null;
  [field: string]: unknown;
}
export interface OtlpResourceSpans {
  resource?: { attributes?: OtlpKeyValue[] } | null;
  scopeSpans?: Array<{ scope?: { attributes?: OtlpKeyValue[] } & Record<string, unknown>; spans?: OtlpSpan[] } & Record<string, unknown>>;
  [field: string]: unknown;
}

/** Applied to every forwarded batch before it leaves; must not throw for well-formed OTLP. */
export type RedactHook = (tenant: Tenant, resourceSpans: OtlpResourceSpans[]) => OtlpResourceSpans[];

/** Tempo's distributor takes OTLP/HTTP on port 4318 at /v1/traces (its API, TEMPO_URL, is on 3200). */
export const TEMPO_OTLP_PORT = 4318;

/** TEMPO_OTLP_URL, else TEMPO_URL's host on port 4318 with /v1/traces. */
export function gatewayUrl(config: Pick<SidecarConfig, 'tempoUrl'> & { tempoOtlpUrl?: string }): string {
  if (config.tempoOtlpUrl !== undefined) {
    return otlpTracesUrl(config.tempoOtlpUrl);
  }
  if (config.tempoUrl !== undefined) {
    const u = new URL(config.tempoUrl);
    u.port = String(TEMPO_OTLP_PORT);
    u.pathname = '/v1/traces';
    return u.toString();
  }
  throw new ConfigError('TEMPO_OTLP_URL', 'gateway mode needs Tempo’s OTLP/HTTP endpoint (e.g. http://tempo:4318/v1/traces), or TEMPO_URL to derive it from');
}

export interface GatewayOptions {
  /** Tempo's OTLP/HTTP traces endpoint (…/v1/traces). */
  url: string;
  store: Store;
  registry: Registry;
  log: Logger;
  now: () => number;
  redact: RedactHook;
  /** Spool bound in bytes of encoded batches. */
  maxSpoolBytes: number;
  bearerToken?: string;
  /** `user:password`. */
  basicAuth?: string;
  timeoutMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Batches per round. */
  batch?: number;
  random?: () => number;
}

/** A batch ready to spool: the encoded (redacted) ExportTraceServiceRequest. */
export interface PreparedBatch {
  body: Uint8Array;
  spans: number;
}

class ForwardError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Tempo refuses these for the content itself: retrying the same bytes cannot succeed. */
const PERMANENT = new Set([400, 413, 415]);

/** OTLP/JSON ids are hex where protobuf has bytes; everything else fromObject converts. */
function jsonToProtoShape(text: string): object {
  return JSON.parse(text, (key, value: unknown) => {
    if ((key === 'traceId' || key === 'spanId' || key === 'parentSpanId') && typeof value === 'string') {
      return Buffer.from(value, 'hex');
    }
    return value;
  }) as object;
}

export class TempoForwarder {
  private readonly forwarded: Counter<'tenant'>;
  private readonly dropped: Counter<'tenant' | 'reason'>;
  private readonly failures: Counter<'tenant'>;
  private readonly spoolBatches: Gauge;
  private readonly spoolBytesGauge: Gauge;
  private spoolBytes: number;
  private spooledBatches: number;
  private running: Promise<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: GatewayOptions) {
    const registers = [options.registry];
    this.forwarded = new Counter({ name: 'betrace_gateway_forwarded_spans_total', help: 'Spans forwarded to Tempo in gateway mode, by tenant.', labelNames: ['tenant'], registers });
    this.dropped = new Counter({
      name: 'betrace_gateway_dropped_spans_total',
      help: 'Spans Tempo refused for their content (400/413/415), not retried, by tenant and reason.',
      labelNames: ['tenant', 'reason'],
      registers,
    });
    this.failures = new Counter({ name: 'betrace_gateway_failures_total', help: 'Failed attempts to forward a batch to Tempo (retried), by tenant.', labelNames: ['tenant'], registers });
    this.spoolBatches = new Gauge({ name: 'betrace_gateway_spool_batches', help: 'Batches waiting to be forwarded to Tempo.', registers });
    this.spoolBytesGauge = new Gauge({ name: 'betrace_gateway_spool_bytes', help: 'Bytes waiting to be forwarded to Tempo.', registers });
    const depth = options.store.spoolDepth();
    this.spoolBytes = depth.bytes;
    this.spooledBatches = depth.batches;
    this.updateGauges();
  }

  /**
   * Decodes a fresh copy of the batch (the evaluator keeps its own), redacts it with the tenant's
   * policy and encodes it as protobuf. `body` is the decompressed request body.
   */
  prepare(tenant: Tenant, body: Buffer, protobuf: boolean, spans: number): PreparedBatch {
    const request = protobuf ? decodeTraceRequest(body) : ExportTraceServiceRequest.fromObject(body.length === 0 ? {} : jsonToProtoShape(body.toString('utf8')));
    const resourceSpans = this.options.redact(tenant, ((request as { resourceSpans?: OtlpResourceSpans[] }).resourceSpans ?? []) as OtlpResourceSpans[]);
    return { body: ExportTraceServiceRequest.encode({ resourceSpans }).finish(), spans };
  }

  /** Whether a batch of this size fits in the spool now. */
  hasRoom(bytes: number): boolean {
    return this.spoolBytes + bytes <= this.options.maxSpoolBytes;
  }

  /** When a client refused for a full spool should come back: the next forwarding attempt, 1 s to 5 min. */
  retryAfterSeconds(): number {
    const next = this.options.store.nextSpoolAttempt();
    const wait = next === undefined ? 1000 : next - this.options.now();
    return Math.min(300, Math.max(1, Math.ceil(wait / 1000)));
  }

  /** Spools a batch; returns its id, for unspool. */
  spool(tenant: Tenant, batch: PreparedBatch): number {
    const id = this.options.store.spoolBatch(tenant.id, tenant.tempoOrgId, batch.body, batch.spans, this.options.now());
    this.spoolBytes += batch.body.length;
    this.spooledBatches++;
    this.updateGauges();
    return id;
  }

  /** Takes back a batch just spooled whose accept then failed (the ingest log could not take it). */
  unspool(id: number, batch: PreparedBatch): void {
    this.options.store.completeSpool(id);
    this.spoolBytes -= batch.body.length;
    this.spooledBatches--;
    this.updateGauges();
  }

  /** Delay before the next attempt after `attempts` failures: exponential, capped, full jitter. */
  backoff(attempts: number): number {
    return retryDelay(attempts, this.options.baseDelayMs ?? 1000, this.options.maxDelayMs ?? 60_000, this.options.random);
  }

  /** Forwards every due batch once (oldest first); returns how many Tempo took. */
  runOnce(): Promise<number> {
    if (this.running === undefined) {
      this.running = this.forwardDue().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async post(orgId: string | undefined, body: Buffer): Promise<void> {
    const headers = otlpHeaders(orgId);
    if (this.options.bearerToken !== undefined) {
      headers.authorization = `Bearer ${this.options.bearerToken}`;
    } else if (this.options.basicAuth !== undefined) {
      headers.authorization = `Basic ${Buffer.from(this.options.basicAuth).toString('base64')}`;
    }
    let res: Response;
    try {
      res = await fetch(this.options.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
    } catch (e) {
      throw new ForwardError(undefined, `POST ${this.options.url} failed: ${(e as Error).message}`);
    }
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).slice(0, 300);
      throw new ForwardError(res.status, `POST ${this.options.url} answered ${res.status}${text ? `: ${text}` : ''}`);
    }
    await res.arrayBuffer().catch(() => undefined);
  }

  private async forwardDue(): Promise<number> {
    const { store, log } = this.options;
    let delivered = 0;
    const failed = new Set<string>();
    for (const batch of store.dueSpool(this.options.now(), this.options.batch ?? 100)) {
      if (!store.db.open) {
        break;
      }
      // Per tenant, in order: after a failure, that tenant's later batches wait for the next round.
      if (failed.has(batch.tenant)) {
        continue;
      }
      try {
        await this.post(batch.orgId, batch.body);
        this.finish(batch.id, batch.body.length);
        this.forwarded.inc({ tenant: batch.tenant }, batch.spans);
        delivered++;
      } catch (e) {
        const err = e as ForwardError;
        if (err.status !== undefined && PERMANENT.has(err.status)) {
          this.finish(batch.id, batch.body.length);
          this.dropped.inc({ tenant: batch.tenant, reason: String(err.status) }, batch.spans);
          log.error({ tenant: batch.tenant, spans: batch.spans, err: err.message }, 'Tempo refused a forwarded batch for its content; it is not retried');
          continue;
        }
        failed.add(batch.tenant);
        this.failures.inc({ tenant: batch.tenant });
        if (store.db.open) {
          store.retrySpool(batch.id, this.options.now() + this.backoff(batch.attempts), err.message);
        }
        if (batch.attempts === 0 || batch.attempts % 10 === 0) {
          log.warn({ tenant: batch.tenant, attempts: batch.attempts + 1, err: err.message }, 'forwarding to Tempo failed; will retry');
        }
      }
    }
    return delivered;
  }

  private finish(id: number, bytes: number): void {
    if (this.options.store.db.open) {
      this.options.store.completeSpool(id);
    }
    this.spoolBytes -= bytes;
    this.spooledBatches--;
    this.updateGauges();
  }

  private updateGauges(): void {
    this.spoolBytesGauge.set(this.spoolBytes);
    this.spoolBatches.set(this.spooledBatches);
  }

  start(intervalMs: number): void {
    const loop = () => {
      this.runOnce()
        .catch((e: unknown) => this.options.log.error({ err: e }, 'gateway loop failed'))
        .finally(() => {
          if (!this.stopped) {
            this.timer = setTimeout(loop, intervalMs);
            this.timer.unref();
          }
        });
    };
    loop();
  }

  /** Stops the loop after a last round (bounded by `deadlineMs`); what is left stays spooled for the next start. */
  async stop(deadlineMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([this.runOnce(), new Promise((resolve) => setTimeout(resolve, deadlineMs).unref())]);
  }
}
