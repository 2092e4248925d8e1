/**
 * An OTLP/JSON ExportTraceServiceRequest body to traces, the one way both the receiver (one
 * shard on the main thread) and a shard worker (EVAL_WORKERS ≥ 1) decode it, so a malformed body
 * gets the same 400 message wherever it was decoded.
 */
import { decodeResourceSpans, groupTraces, Trace } from '@betrace/evaluator';

/** A body that is not an OTLP/JSON request (DecodeError covers what is wrong inside one). */
export class BadRequest extends Error {}

/** Throws BadRequest, or the evaluator's DecodeError naming the path of what is malformed. */
export function decodeJsonRequest(body: Uint8Array): Trace[] {
  let request: { resourceSpans?: unknown };
  try {
    request = body.length === 0 ? {} : (JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8')) as { resourceSpans?: unknown });
  } catch (e) {
    throw new BadRequest(`the body is not JSON: ${(e as Error).message}`);
  }
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new BadRequest('the body must be a JSON ExportTraceServiceRequest object');
  }
  return groupTraces(decodeResourceSpans(request.resourceSpans, 'resourceSpans', 'hex'));
}
