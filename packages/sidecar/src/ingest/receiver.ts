/**
 * The OTLP/HTTP trace receiver: POST /v1/traces with application/x-protobuf or application/json,
 * optionally gzip-compressed, answered as the OTLP specification says: 200 with the export
 * response (partialSuccess when spans were refused), 400 naming what is malformed, 413 over the
 * size limit, 415 for other media types, 503 with Retry-After when the buffer or the ingest log
 * is full or the disk cannot take the batch (the OpenTelemetry exporters retry those).
 *
 * Durability: a batch is answered 2xx only once it is in the ingest log (log/), with its
 * idempotency key and signature, so a crash after the answer loses nothing and a retry after the
 * crash is recognised.
 *
 * Ingest security: the sender's tenant comes from its ingest key (401 without a valid one, unless
 * ingest is open), an optional HMAC body signature (401 stale or wrong; one already accepted is
 * the same batch: 200, not taken again), a token bucket per tenant (429 with Retry-After), and
 * `x-idempotency-key` (a batch seen in the last 24 h is answered 200 and not counted again).
 * Every refusal is counted in betrace_ingest_refused_total{tenant,reason} and logged without the
 * secret.
 */
import { gunzipSync, inflateSync } from 'zlib';
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DecodeError, ProtobufError, skimTraceRequest, Trace } from '@betrace/evaluator';
import { BadRequest, decodeJsonRequest } from './jsonBody';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { IDEMPOTENCY_TTL_MS, identifyTenant, idempotencyKey, Refusal, verifySignature } from './auth';
import type { PreparedBatch, TempoForwarder } from './gateway';
import type { CheckedBatch, Shards } from './shards/shards';
import { spanCount } from './assembler';
import { encodeRpcStatus, encodeTraceResponse } from './otlpProto';
import { TokenBuckets } from './rateLimit';
import type { DurableIngest } from './log/durable';
import { storageErrorCode, UNAVAILABLE_RETRY_AFTER_S } from './log/health';
import { LogFull } from './log/log';
import type { SeenKey } from './log/record';
import type { Metrics } from '../metrics';
import type { Store } from '../store';
import type { Tenant } from '../tenants';
import { dropOwnSpans } from '../telemetry/ownSpans';
import type { ReceiveNote, SelfTracer } from '../telemetry/selfTrace';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** gRPC status codes used in google.rpc.Status bodies. */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;

/** OTLP signals BeTrace does not take, and what it says to an exporter that sends them. */
const OTHER_SIGNALS: Record<string, string> = {
  '/v1/logs': 'BeTrace takes traces only (POST /v1/traces); send logs to your logs backend (Loki, the Collector), not to BeTrace',
  '/v1/metrics': 'BeTrace takes traces only (POST /v1/traces); send metrics to your metrics backend (Prometheus, Mimir, the Collector), not to BeTrace',
};
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

/** How often expired idempotency keys and signatures are deleted. */
const PRUNE_EVERY_MS = 60_000;

export interface ReceiverOptions {
  maxBodyBytes: number;
  /** Who may send. One tenant without ingest keys: open ingest (the embedded default). */
  tenants: readonly Tenant[];
  /** Trace assembly and evaluation, sharded by trace id. */
  shards: Shards;
  metrics: Metrics;
  log: Logger;
  /** Idempotency keys and accepted signatures, so a restart does not forget them. */
  store: Store;
  now: () => number;
  /** False while draining: new data is refused with 503. */
  accepting: () => boolean;
  /** Gateway mode: accepted batches are spooled for Tempo (after redaction). */
  gateway?: TempoForwarder;
  /** The ingest log and storage health: a batch is answered 2xx only once it is durable here. */
  ingest: DurableIngest;
  /** The Retry-After of a full trace buffer. */
  decisionWaitMs: number;
  /** Called once per accepted request (usage): its tenant, span count and body bytes as received. */
  onAccepted?(tenant: string, spans: number, bytes: number): void;
  /** SELF_TRACING=otlp: each request handled inside its `betrace.receive` span. */
  selfTrace?: SelfTracer;
}

class TooLarge extends Error {}

function decompress(body: Buffer, encoding: string | undefined, limit: number): Buffer {
  const enc = (encoding ?? 'identity').toLowerCase();
  try {
    if (enc === 'gzip') {
      return gunzipSync(body, { maxOutputLength: limit });
    }
    if (enc === 'deflate') {
      return inflateSync(body, { maxOutputLength: limit });
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new TooLarge(`the decompressed body exceeds ${limit} bytes`);
    }
    throw new BadRequest(`the body is not valid ${enc}: ${(e as Error).message}`);
  }
  if (enc !== 'identity') {
    throw new BadRequest(`unsupported Content-Encoding ${enc} (use gzip, deflate or none)`);
  }
  return body;
}

/**
 * Decompresses and checks a body; throws a Refusal naming what is wrong. A protobuf body is only
 * skimmed (checked exactly as decoding would, without building spans: a shard holds its spans as
 * the body's bytes); OTLP/JSON is decoded into traces here.
 */
export function decodeBody(raw: Buffer, encoding: string | undefined, proto: boolean, limit: number): { body: Buffer; batch: CheckedBatch; spanCount: number } {
  return refusing(() => {
    const body = decompress(raw, encoding, limit);
    if (proto) {
      // Checked, not decoded: a shard holds the spans as these bytes until their trace is evaluated.
      const s = skimTraceRequest(body);
      return { body, batch: { kind: 'protobuf', body, skim: s }, spanCount: s.spanCount };
    }
    return withCount(body, decodeJsonRequest(body));
  });
}

/** Decompresses a body; throws a Refusal (413 past `limit`, 400 for a bad encoding). */
export function decompressBody(raw: Buffer, encoding: string | undefined, limit: number): Buffer {
  return refusing(() => decompress(raw, encoding, limit));
}

/** Runs a decoding step, turning what is wrong with the body into the Refusal that answers it. */
function refusing<T>(step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof TooLarge) {
      throw new Refusal(413, 'too_large', e.message);
    }
    if (e instanceof ProtobufError) {
      throw new Refusal(400, 'malformed', `the body is not a protobuf ExportTraceServiceRequest: ${e.message}`);
    }
    if (e instanceof BadRequest || e instanceof DecodeError) {
      throw new Refusal(400, 'malformed', e.message);
    }
    throw e;
  }
}

function withCount(body: Buffer, traces: Trace[]): { body: Buffer; batch: CheckedBatch; spanCount: number } {
  return { body, batch: { kind: 'traces', traces }, spanCount: spanCount(traces) };
}

/** The google.rpc code that goes with a refusal. */
function rpcCode(r: Refusal): number {
  switch (r.status) {
    case 401:
      return UNAUTHENTICATED;
    case 429:
      return RESOURCE_EXHAUSTED;
    case 503:
      return r.reason === 'shutting_down' || r.reason === 'storage_unavailable' ? UNAVAILABLE : RESOURCE_EXHAUSTED;
    default:
      return INVALID_ARGUMENT;
  }
}

export function buildReceiver(options: ReceiverOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: options.maxBodyBytes, logger: false });
  // Bodies are taken raw: decoding (and its error messages) is ours.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const registers = [options.metrics.registry];
  const refused = new Counter({
    name: 'betrace_ingest_refused_total',
    help: 'OTLP requests refused by the receiver, by tenant (empty when the sender was not identified) and reason.',
    labelNames: ['tenant', 'reason'],
    registers,
  });
  const duplicates = new Counter({
    name: 'betrace_ingest_duplicates_total',
    help: 'Batches answered 200 without being counted again (x-idempotency-key seen within 24 h), by tenant.',
    labelNames: ['tenant'],
    registers,
  });
  const ownDropped = new Counter({
    name: 'betrace_own_spans_dropped_total',
    help: 'Spans of BeTrace’s own service (service.name=betrace-sidecar) taken out of received batches before evaluation, by tenant.',
    labelNames: ['tenant'],
    registers,
  });
  const buckets = new TokenBuckets(options.now);
  const identified = new WeakMap<FastifyRequest, Tenant>();
  let lastPrune = options.now();

  const contentType = (req: FastifyRequest) => String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

  const reply = (res: FastifyReply, proto: boolean, status: number, rpcStatus: number, message: string) => {
    if (proto) {
      return res.code(status).type(PROTOBUF).send(Buffer.from(encodeRpcStatus(rpcStatus, message)));
    }
    return res.code(status).type(JSON_TYPE).send({ code: rpcStatus, message });
  };

  // Every full success answers the same bytes: encoded once (fastify sends a Buffer as it is).
  const acceptedProto = Buffer.from(encodeTraceResponse(0, ''));
  const accepted = (res: FastifyReply, proto: boolean) => {
    if (proto) {
      return res.code(200).type(PROTOBUF).send(acceptedProto);
    }
    return res.code(200).type(JSON_TYPE).send({});
  };

  /** Answers, counts and logs a refusal (never with the presented key or signature). */
  const refuse = (req: FastifyRequest, res: FastifyReply, r: Refusal, note?: ReceiveNote) => {
    const tenant = identified.get(req)?.id;
    if (note !== undefined) {
      note.outcome = r.reason;
    }
    refused.inc({ tenant: tenant ?? '', reason: r.reason });
    const context = { tenant, reason: r.reason, status: r.status, remote: req.ip };
    if (r.status === 401) {
      options.log.warn(context, `OTLP request refused: ${r.message}`);
    } else {
      options.log.info(context, `OTLP request refused: ${r.message}`);
    }
    if (r.retryAfterSeconds !== undefined) {
      res.header('Retry-After', String(r.retryAfterSeconds));
    }
    return reply(res, contentType(req) === PROTOBUF, r.status, rpcCode(r), r.message);
  };

  // Who is sending is settled from the headers, before the body is read.
  app.addHook('onRequest', async (req, res) => {
    if (req.routeOptions.url !== undefined && req.routeOptions.url in OTHER_SIGNALS) {
      return; // not a secret, and an exporter misconfigured for logs should learn why, with or without a key
    }
    try {
      identified.set(req, identifyTenant(options.tenants, req.headers).tenant);
    } catch (e) {
      if (e instanceof Refusal) {
        return refuse(req, res, e);
      }
      throw e;
    }
  });

  /** Keys of batches being made durable right now: a second request with one waits for the first. */
  const inflight = new Map<string, Promise<boolean>>();
  /** Keys whose batch is durable in the log but which the store could not take (yet): still known. */
  const unsaved = new Map<string, { tenant: string; entry: SeenKey }>();
  const keyOf = (tenant: string, kind: SeenKey['kind'], key: string) => `${tenant}\u0000${kind}\u0000${key}`;
  const seenAt = (tenant: string, kind: SeenKey['kind'], key: string, now: number): number | undefined => {
    const u = unsaved.get(keyOf(tenant, kind, key));
    return u !== undefined && u.entry.expiresAt > now ? now : options.store.ingestSeen(tenant, kind, key, now);
  };
  const remember = (tenant: string, entries: readonly SeenKey[], now: number) => {
    const all = [...unsaved.values()];
    try {
      for (const u of all) {
        options.store.rememberIngest(u.tenant, [u.entry], now);
        unsaved.delete(keyOf(u.tenant, u.entry.kind, u.entry.key));
      }
      if (entries.length > 0) {
        options.store.rememberIngest(tenant, entries, now);
      }
    } catch (e) {
      if (!options.ingest.health.failed('store', e)) {
        throw e;
      }
      // The log record holds them (a restart re-reads them); until the store takes them, memory does.
      for (const entry of entries) {
        unsaved.set(keyOf(tenant, entry.kind, entry.key), { tenant, entry });
      }
    }
  };
  /** Span and byte room promised to batches whose log write is in flight. */
  const reserved = { spans: 0, bytes: 0 };

  for (const [route, message] of Object.entries(OTHER_SIGNALS)) {
    // Answered before the body is read: nothing of it is kept, counted or logged.
    app.post(route, async (req, res) => reply(res, contentType(req) === PROTOBUF, 404, NOT_FOUND, message));
  }

  app.post('/v1/traces', async (req, res) =>
    options.selfTrace === undefined
      ? handle(req, res, undefined)
      : options.selfTrace.receive(
          (note) => handle(req, res, note),
          () => res.statusCode,
        ),
  );

  const handle = async (req: FastifyRequest, res: FastifyReply, note: ReceiveNote | undefined) => {
    const tenant = identified.get(req)!;
    if (note !== undefined) {
      note.tenant = tenant.id;
      note.bytes = ((req.body as Buffer | undefined) ?? Buffer.alloc(0)).length;
    }
    const type = contentType(req);
    const proto = type === PROTOBUF;
    const raw = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
    const now = options.now();
    let refund: (() => void) | undefined;
    try {
      if (!proto && type !== JSON_TYPE) {
        throw new Refusal(415, 'unsupported_media_type', `unsupported Content-Type ${JSON.stringify(type)}: send ${PROTOBUF} or ${JSON_TYPE}`);
      }
      if (!options.accepting()) {
        throw new Refusal(503, 'shutting_down', 'the sidecar is shutting down; retry against another instance or later', 5);
      }
      const keys: SeenKey[] = [];
      let seenBefore: string | undefined;
      if (tenant.ingestHmacSecret !== undefined) {
        const { signature, rememberUntil } = verifySignature(tenant.ingestHmacSecret, req.headers, raw, now);
        keys.push({ kind: 'signature', key: signature, expiresAt: rememberUntil });
      }
      const idempotency = idempotencyKey(req.headers);
      if (idempotency !== undefined) {
        keys.push({ kind: 'idempotency', key: idempotency, expiresAt: now + IDEMPOTENCY_TTL_MS });
      }
      const fresh: SeenKey[] = [];
      for (const k of keys) {
        const pending = inflight.get(keyOf(tenant.id, k.kind, k.key));
        if (pending !== undefined && !(await pending)) {
          throw new Refusal(503, 'storage_unavailable', 'an earlier request with this batch could not be stored; retry later', 1);
        }
        if (pending !== undefined || seenAt(tenant.id, k.kind, k.key, now) !== undefined) {
          seenBefore = k.kind;
        } else {
          fresh.push(k);
        }
      }
      if (seenBefore !== undefined) {
        // The batch is already held (durably, since the log): answer as then, take nothing again.
        // A signature seen before is the same body, so a retry after a lost answer is recognised too.
        // Keys seen before keep their first expiry; a new one (a re-signed retry) is spent now.
        remember(tenant.id, fresh, now);
        duplicates.inc({ tenant: tenant.id });
        options.log.info({ tenant: tenant.id, by: seenBefore, remote: req.ip }, 'OTLP batch already accepted: answered 200 without taking it again');
        if (note !== undefined) {
          note.outcome = 'duplicate';
        }
        return accepted(res, proto);
      }
      const encoding = req.headers['content-encoding'] as string | undefined;
      // A protobuf body is only skimmed here (its spans are held as its bytes until evaluation);
      // with shard workers an OTLP/JSON one is decoded on a worker: neither is turned into spans
      // on the thread that serves HTTP.
      const checked =
        options.shards.workers > 0 && !proto ? await jsonOnWorker(decompressBody(raw, encoding, options.maxBodyBytes)) : decodeBody(raw, encoding, proto, options.maxBodyBytes);
      const { body } = checked;
      // BeTrace's own spans (service.name=betrace-sidecar) are never evaluated.
      const own = dropOwnSpans(body, checked.batch, proto);
      const batch = own.batch;
      const spanCount = own.spanCount ?? checked.spanCount;
      if (note !== undefined) {
        note.spans = checked.spanCount;
        if (own.dropped > 0) {
          note.ownSpans = own.dropped;
        }
      }
      if (own.dropped > 0) {
        ownDropped.inc({ tenant: tenant.id }, own.dropped);
        if (spanCount === 0 && options.gateway === undefined) {
          // Nothing left to evaluate: answered as accepted, nothing kept (a gateway still forwards them to Tempo).
          if (note !== undefined) {
            note.outcome = 'own_spans';
          }
          return accepted(res, proto);
        }
      }
      if (tenant.rateLimit !== undefined) {
        const { spansPerSecond, burst } = tenant.rateLimit;
        const reservation = buckets.reserve(tenant.id, tenant.rateLimit, spanCount);
        if (!reservation.ok && reservation.neverFits) {
          throw new Refusal(413, 'too_large', `a batch of ${spanCount} spans exceeds this tenant’s burst of ${burst} spans; send smaller batches`);
        }
        if (!reservation.ok) {
          throw new Refusal(429, 'rate_limited', `rate limit of ${spansPerSecond} spans/s (burst ${burst}) exceeded; retry in ${reservation.retryAfterSeconds} s`, reservation.retryAfterSeconds);
        }
        refund = reservation.refund;
      }
      let forward: PreparedBatch | undefined;
      if (options.gateway !== undefined) {
        try {
          forward = options.gateway.prepare(tenant, body, proto, spanCount);
        } catch (e) {
          throw new Refusal(400, 'malformed', `the batch cannot be re-encoded for Tempo: ${(e as Error).message}`);
        }
        if (!options.gateway.hasRoom(forward.body.length)) {
          throw new Refusal(503, 'spool_full', 'the spool of batches for Tempo is full (Tempo is unreachable or slow); retry later', options.gateway.retryAfterSeconds());
        }
      }
      if (!options.shards.room(spanCount + reserved.spans, body.length + reserved.bytes, batch.kind === 'protobuf')) {
        options.metrics.tracesDropped.inc({ reason: 'buffer_full' }, spanCount);
        throw new Refusal(503, 'buffer_full', 'the trace buffer is full; retry later', Math.max(1, Math.ceil(options.decisionWaitMs / 1000)));
      }
      const unavailable = options.ingest.unavailable(body.length);
      if (unavailable !== undefined) {
        throw new Refusal(503, unavailable.reason, unavailable.message, unavailable.retryAfterSeconds);
      }
      // Durable before the answer: the spool row (gateway), then the log record with its keys.
      let spooled: number | undefined;
      if (forward !== undefined) {
        spooled = storageStep(() => options.gateway!.spool(tenant, forward));
      }
      reserved.spans += spanCount;
      reserved.bytes += body.length;
      let settle!: (ok: boolean) => void;
      const done = new Promise<boolean>((resolve) => (settle = resolve));
      const held = keys.map((k) => keyOf(tenant.id, k.kind, k.key));
      held.forEach((k) => inflight.set(k, done));
      let position: number | undefined;
      try {
        const append = () => options.ingest.append({ tenant: tenant.id, receivedAt: now, protobuf: proto, body, remember: keys });
        position = await (options.selfTrace === undefined ? append() : options.selfTrace.step('betrace.ingest_log.append', { 'betrace.bytes': body.length }, append));
      } catch (e) {
        if (spooled !== undefined) {
          storageStep(() => options.gateway!.unspool(spooled!, forward!));
        }
        throw e instanceof LogFull
          ? new Refusal(503, 'log_full', 'the ingest log is full (traces are still buffered for evaluation); retry later', 1)
          : storageRefusal(e);
      } finally {
        reserved.spans -= spanCount;
        reserved.bytes -= body.length;
        held.forEach((k) => inflight.delete(k));
        settle(position !== undefined || !options.ingest.durable);
      }
      refund = undefined;
      if (options.selfTrace === undefined) {
        options.shards.add(tenant.id, batch, body.length, position);
      } else {
        options.selfTrace.assemble(tenant.id, batch, spanCount, () => options.shards.add(tenant.id, batch, body.length, position));
      }
      remember(tenant.id, keys, now);
      if (now - lastPrune >= PRUNE_EVERY_MS) {
        lastPrune = now;
        try {
          options.store.pruneIngestSeen(now);
        } catch (e) {
          // The batch is durable already: a failed prune is only counted (and tried again later).
          if (!options.ingest.health.failed('store', e)) {
            throw e;
          }
        }
      }
      options.metrics.spansReceived.inc({ tenant: tenant.id, source: 'push' }, spanCount);
      options.metrics.ingestBytes.inc({ tenant: tenant.id }, raw.length);
      options.onAccepted?.(tenant.id, spanCount, raw.length);
      options.metrics.bufferSpans.set(options.shards.bufferedSpans);
      options.metrics.bufferBytes.set(options.shards.bufferedBytes);
      if (note !== undefined) {
        note.outcome = 'accepted';
      }
      return accepted(res, proto);
    } catch (e) {
      refund?.();
      if (e instanceof Refusal) {
        return refuse(req, res, e, note);
      }
      throw e;
    }
  };

  const jsonOnWorker = async (body: Buffer): Promise<{ body: Buffer; batch: CheckedBatch; spanCount: number }> => {
    const decoded = await options.shards.decodeJson(body);
    if ('error' in decoded) {
      throw new Refusal(400, 'malformed', decoded.error);
    }
    return { body, ...decoded };
  };

  /** A 503 for a write the disk or the store could not take (storage health has counted it); anything else is rethrown. */
  const storageRefusal = (e: unknown): Refusal => {
    // The log has counted it in storage health already.
    if (storageErrorCode(e) !== undefined) {
      return new Refusal(503, 'storage_unavailable', 'the disk or the store cannot be written; retry later', UNAVAILABLE_RETRY_AFTER_S);
    }
    throw e;
  };
  /** Runs a store write; a storage failure (counted in storage health) becomes a 503. */
  const storageStep = <T>(write: () => T): T => {
    try {
      return write();
    } catch (e) {
      if (!options.ingest.health.failed('store', e)) {
        throw e;
      }
      throw new Refusal(503, 'storage_unavailable', 'the disk or the store cannot be written; retry later', UNAVAILABLE_RETRY_AFTER_S);
    }
  };


  app.setErrorHandler((error: FastifyError, req, res) => {
    const proto = contentType(req) === PROTOBUF;
    const code = (error as { code?: string }).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return refuse(req, res, new Refusal(413, 'too_large', `the body exceeds ${options.maxBodyBytes} bytes`));
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return reply(res, proto, error.statusCode, INVALID_ARGUMENT, error.message);
    }
    options.log.error({ err: error }, 'OTLP receiver failed');
    return reply(res, proto, 500, 13, 'internal error');
  });
  return app;
}
