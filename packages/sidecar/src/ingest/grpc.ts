/**
 * OTLP/gRPC beside OTLP/HTTP: `opentelemetry.proto.collector.trace.v1.TraceService/Export` on
 * OTLP_GRPC_PORT (4317). A gRPC request is the same ExportTraceServiceRequest protobuf as an
 * OTLP/HTTP body, so each one goes through the HTTP receiver's very route, in process
 * (fastify's inject: no socket), with its metadata as the headers: the same tenant keys and
 * signatures, idempotency, limits, backpressure, durability (the ingest log before the answer)
 * and error messages. Only the answer is translated: an HTTP status becomes the gRPC status the
 * OTLP specification names, with google.rpc.RetryInfo (Retry-After) on the retryable ones.
 */
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { RpcStatus } from './otlpProto';

export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const identity = (b: Buffer) => b;

/** The service as grpc-js wants it: raw protobuf bytes in and out (the receiver decodes them). */
const traceService: grpc.ServiceDefinition = {
  Export: {
    path: TRACE_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** Metadata gRPC uses for itself: never handed to the HTTP route as a header. */
const RESERVED = /^(grpc-|:|content-type$|te$|user-agent$|host$|content-length$)/;

/** The gRPC status for the receiver's HTTP answer (OTLP/gRPC: which failures a client retries). */
export function grpcCode(status: number): grpc.status {
  switch (status) {
    case 400:
    case 413:
    case 415:
      return grpc.status.INVALID_ARGUMENT;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.UNIMPLEMENTED;
    case 409:
      return grpc.status.ALREADY_EXISTS;
    case 429:
      return grpc.status.RESOURCE_EXHAUSTED;
    case 503:
      return grpc.status.UNAVAILABLE;
    default:
      return grpc.status.INTERNAL;
  }
}

// A few protobuf fields by hand: google.rpc.Status { code = 1; message = 2; repeated Any details = 3 },
// Any { type_url = 1; value = 2 }, RetryInfo { Duration retry_delay = 1 }, Duration { int64 seconds = 1 }.
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}
function field(no: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...varint((no << 3) | 2), ...varint(bytes.length)]), bytes]);
}
function intField(no: number, n: number): Buffer {
  return Buffer.from([...varint(no << 3), ...varint(n)]);
}

/** google.rpc.Status with a RetryInfo detail, as `grpc-status-details-bin` carries it. */
export function statusWithRetry(code: number, message: string, retryAfterSeconds: number): Buffer {
  const duration = intField(1, retryAfterSeconds);
  const retryInfo = field(1, duration);
  const any = Buffer.concat([field(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), field(2, retryInfo)]);
  return Buffer.concat([intField(1, code), field(2, Buffer.from(message)), field(3, any)]);
}

export interface GrpcReceiver {
  port: number;
  close(): Promise<void>;
}

/** Serves OTLP/gRPC on host:port through `receiver` (the OTLP/HTTP fastify app, ready, not necessarily listening). */
export async function startGrpcReceiver(receiver: FastifyInstance, host: string, port: number, maxBodyBytes: number, log: Logger): Promise<GrpcReceiver> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxBodyBytes });
  server.addService(traceService, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
      for (const [key, value] of Object.entries(call.metadata.getMap())) {
        if (!RESERVED.test(key) && typeof value === 'string') {
          headers[key] = value;
        }
      }
      receiver
        .inject({ method: 'POST', url: '/v1/traces', headers, payload: call.request })
        .then((res) => {
          if (res.statusCode === 200) {
            callback(null, res.rawPayload);
            return;
          }
          let message = res.statusMessage ?? `HTTP ${res.statusCode}`;
          try {
            message = (RpcStatus.toObject(RpcStatus.decode(new Uint8Array(res.rawPayload))) as { message?: string }).message ?? message;
          } catch {
            // not a Status body: keep the status line
          }
          const code = grpcCode(res.statusCode);
          const metadata = new grpc.Metadata();
          const retryAfter = Number(res.headers['retry-after']);
          if ((code === grpc.status.RESOURCE_EXHAUSTED || code === grpc.status.UNAVAILABLE) && Number.isFinite(retryAfter) && retryAfter > 0) {
            metadata.set('grpc-status-details-bin', statusWithRetry(code, message, retryAfter));
          }
          callback({ code, details: message, metadata });
        })
        .catch((e: unknown) => {
          log.error({ err: e }, 'OTLP/gRPC export failed inside the receiver');
          callback({ code: grpc.status.INTERNAL, details: 'internal error' });
        });
    },
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (err) {
        // grpc-js says "No address added out of total 1 resolved" and hides the errno in the text:
        // give it the shape of a listen error, so start-up reports it like the other ports.
        const code = /EADDRINUSE/.test(err.message) ? 'EADDRINUSE' : /EACCES/.test(err.message) ? 'EACCES' : /EADDRNOTAVAIL/.test(err.message) ? 'EADDRNOTAVAIL' : 'EADDRINUSE';
        reject(Object.assign(new Error(`OTLP/gRPC cannot listen on ${host}:${port}: ${err.message}`), { code, syscall: 'listen', port }));
        return;
      }
      resolve(p);
    });
  });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // A client that holds a stream open must not hold up a drain: force it after 5 s.
        setTimeout(() => server.forceShutdown(), 5000).unref();
      }),
  };
}
