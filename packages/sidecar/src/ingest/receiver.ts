/**
 * The OTLP/HTTP trace receiver: POST /v1/traces with application/x-protobuf or application/json,
 * optionally gzip-compressed, answered as the OTLP specification says: 200 with the export
 * response (partialSuccess when spans were refused), 400 naming what is malformed, 413 over the
 * size limit, 415 for other media types, 503 with Retry-After when the buffer is full (the
 * OpenTelemetry exporters retry those).
 */
import { gunzipSync, inflateSync } from 'zlib';
import Fastify, { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { DecodeError, decodeResourceSpans, groupTraces, Span, Trace } from '@betrace/evaluator';
import type { Logger } from 'pino';
import type { TraceAssembler } from './assembler';
import { decodeTraceRequest, encodeRpcStatus, encodeTraceResponse } from './otlpProto';
import type { Metrics } from '../metrics';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** gRPC status codes used in google.rpc.Status bodies. */
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;

export interface ReceiverOptions {
  maxBodyBytes: number;
  tenant: string;
  assembler: TraceAssembler;
  metrics: Metrics;
  log: Logger;
  /** False while draining: new data is refused with 503. */
  accepting: () => boolean;
  /** Called once per accepted request (usage): its tenant, span count and body bytes as received. */
  onAccepted?(tenant: string, spans: number, bytes: number): void;
}

class BadRequest extends Error {}
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

export function buildReceiver(options: ReceiverOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: options.maxBodyBytes, logger: false });
  // Bodies are taken raw: decoding (and its error messages) is ours.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const reply = (res: FastifyReply, proto: boolean, status: number, rpcCode: number, message: string) => {
    if (proto) {
      return res.code(status).type(PROTOBUF).send(Buffer.from(encodeRpcStatus(rpcCode, message)));
    }
    return res.code(status).type(JSON_TYPE).send({ code: rpcCode, message });
  };

  app.post('/v1/traces', async (req, res) => {
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const proto = type === PROTOBUF;
    if (!proto && type !== JSON_TYPE) {
      return res.code(415).type(JSON_TYPE).send({ code: INVALID_ARGUMENT, message: `unsupported Content-Type ${JSON.stringify(type)}: send ${PROTOBUF} or ${JSON_TYPE}` });
    }
    if (!options.accepting()) {
      res.header('Retry-After', '5');
      return reply(res, proto, 503, UNAVAILABLE, 'the sidecar is shutting down; retry against another instance or later');
    }
    const raw = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
    let traces: Trace[];
    let body: Buffer;
    try {
      body = decompress(raw, req.headers['content-encoding'] as string | undefined, options.maxBodyBytes);
      let request: { resourceSpans?: unknown };
      if (proto) {
        try {
          request = decodeTraceRequest(body);
        } catch (e) {
          throw new BadRequest(`the body is not a protobuf ExportTraceServiceRequest: ${(e as Error).message}`);
        }
      } else {
        try {
          request = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as { resourceSpans?: unknown });
        } catch (e) {
          throw new BadRequest(`the body is not JSON: ${(e as Error).message}`);
        }
        if (request === null || typeof request !== 'object' || Array.isArray(request)) {
          throw new BadRequest('the body must be a JSON ExportTraceServiceRequest object');
        }
      }
      const spans: Span[] = decodeResourceSpans(request.resourceSpans, 'resourceSpans', 'hex');
      traces = groupTraces(spans);
    } catch (e) {
      if (e instanceof TooLarge) {
        return reply(res, proto, 413, INVALID_ARGUMENT, e.message);
      }
      if (e instanceof BadRequest || e instanceof DecodeError) {
        return reply(res, proto, 400, INVALID_ARGUMENT, e.message);
      }
      throw e;
    }
    const spanCount = traces.reduce((n, t) => n + t.spans.length, 0);
    const added = options.assembler.add(options.tenant, traces, body.length);
    if (!added.accepted) {
      res.header('Retry-After', String(Math.max(1, Math.ceil(added.retryAfterMs / 1000))));
      return reply(res, proto, 503, RESOURCE_EXHAUSTED, 'the trace buffer is full; retry later');
    }
    options.metrics.spansReceived.inc({ tenant: options.tenant, source: 'push' }, spanCount);
    options.metrics.ingestBytes.inc({ tenant: options.tenant }, raw.length);
    options.onAccepted?.(options.tenant, spanCount, raw.length);
    options.metrics.bufferSpans.set(options.assembler.bufferedSpans);
    if (proto) {
      return res.code(200).type(PROTOBUF).send(Buffer.from(encodeTraceResponse(0, '')));
    }
    return res.code(200).type(JSON_TYPE).send({});
  });

  app.setErrorHandler((error: FastifyError, req, res) => {
    const proto = String(req.headers['content-type'] ?? '').startsWith(PROTOBUF);
    const code = (error as { code?: string }).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply(res, proto, 413, INVALID_ARGUMENT, `the body exceeds ${options.maxBodyBytes} bytes`);
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return reply(res, proto, error.statusCode, INVALID_ARGUMENT, error.message);
    }
    options.log.error({ err: error }, 'OTLP receiver failed');
    return reply(res, proto, 500, 13, 'internal error');
  });
  return app;
}
