/**
 * Who is sending, and may they: tenant identification by ingest key, the optional HMAC body
 * signature, and the refusals the receiver answers with. Pure functions over headers, body and
 * clock; the receiver does the I/O (replay and idempotency records live in the store).
 */
import { createHmac, timingSafeEqual } from 'crypto';
import type { IncomingHttpHeaders } from 'http';
import { matchSecret, Tenant } from '../tenants';

/** A signature is accepted while its `x-timestamp` is at most this far from the server clock. */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;
/** How long an `x-idempotency-key` is remembered per tenant. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export type RefusalReason =
  | 'missing_key'
  | 'wrong_key'
  | 'missing_signature'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'bad_idempotency_key'
  | 'rate_limited'
  | 'too_large'
  | 'malformed'
  | 'unsupported_media_type'
  | 'buffer_full'
  | 'spool_full'
  | 'log_full'
  | 'storage_unavailable'
  | 'shutting_down';

/** A request the receiver will not take: HTTP status, metric reason, message for the client. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: RefusalReason,
    message: string,
    /** Seconds, for 429 and 503. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

/** The presented ingest key: `Authorization: Bearer <key>`, else `x-api-key: <key>`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = header(headers, 'authorization');
  const bearer = auth === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
  return bearer ?? header(headers, 'x-api-key');
}

/** Ingest is open (no key asked) only for the embedded default tenant, alone and without ingest keys. */
export function ingestIsOpen(tenants: readonly Tenant[]): boolean {
  return tenants.length === 1 && tenants[0].openIngest === true && tenants[0].ingestKeys.length === 0;
}

/** The tenant a request belongs to, and the name (never the value) of the key it used. */
export function identifyTenant(tenants: readonly Tenant[], headers: IncomingHttpHeaders): { tenant: Tenant; keyName?: string } {
  if (ingestIsOpen(tenants)) {
    return { tenant: tenants[0] };
  }
  const key = presentedKey(headers);
  if (key === undefined) {
    throw new Refusal(401, 'missing_key', 'an ingest key is required: send Authorization: Bearer <key> or x-api-key: <key>');
  }
  let found: { tenant: Tenant; keyName?: string } | undefined;
  // Every tenant is checked (no early exit), so timing does not tell which tenant was close.
  for (const tenant of tenants) {
    const match = matchSecret(key, tenant.ingestKeys);
    if (match !== undefined && found === undefined) {
      found = { tenant, keyName: match.name };
    }
  }
  if (found === undefined) {
    throw new Refusal(401, 'wrong_key', 'the ingest key is not valid');
  }
  return found;
}

/** What is signed: the `x-timestamp` value, a dot, then the body exactly as sent (still compressed). */
export function signedPayload(timestamp: string, rawBody: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), rawBody]);
}

/** The `x-signature` header value for a body: `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export function signBody(secret: string, timestamp: string, rawBody: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(signedPayload(timestamp, rawBody)).digest('hex')}`;
}

/**
 * Checks a tenant's HMAC signature. Returns the signature (lowercase hex) and until when it must
 * be remembered to refuse its replay (the end of its validity window).
 */
export function verifySignature(secret: string, headers: IncomingHttpHeaders, rawBody: Uint8Array, now: number): { signature: string; rememberUntil: number } {
  const sig = header(headers, 'x-signature');
  const ts = header(headers, 'x-timestamp');
  if (sig === undefined || ts === undefined) {
    throw new Refusal(401, 'missing_signature', 'this tenant requires signed requests: send x-signature: sha256=<hex> and x-timestamp: <unix seconds>');
  }
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(sig);
  if (m === null) {
    throw new Refusal(401, 'bad_signature', 'x-signature must be sha256=<64 hex characters>');
  }
  if (!/^\d{1,12}$/.test(ts)) {
    throw new Refusal(401, 'stale_timestamp', `x-timestamp must be unix seconds, got ${JSON.stringify(ts.slice(0, 40))}`);
  }
  const at = Number(ts) * 1000;
  if (Math.abs(now - at) > SIGNATURE_WINDOW_MS) {
    throw new Refusal(401, 'stale_timestamp', `x-timestamp ${ts} is ${Math.round(Math.abs(now - at) / 1000)} s away from the server clock; signatures are accepted within ${SIGNATURE_WINDOW_MS / 1000} s`);
  }
  const expected = createHmac('sha256', secret).update(signedPayload(ts, rawBody)).digest();
  const presented = Buffer.from(m[1], 'hex');
  if (!timingSafeEqual(expected, presented)) {
    throw new Refusal(401, 'bad_signature', 'x-signature does not match: it must be the hex HMAC-SHA256 of "<x-timestamp>.<body as sent>" with the tenant’s ingest secret');
  }
  return { signature: m[1].toLowerCase(), rememberUntil: at + SIGNATURE_WINDOW_MS };
}

/** The `x-idempotency-key`, when present: 1 to 256 visible ASCII characters. */
export function idempotencyKey(headers: IncomingHttpHeaders): string | undefined {
  const key = header(headers, 'x-idempotency-key');
  if (key === undefined) {
    return undefined;
  }
  if (!/^[\x21-\x7e]{1,256}$/.test(key)) {
    throw new Refusal(400, 'bad_idempotency_key', 'x-idempotency-key must be 1 to 256 visible ASCII characters');
  }
  return key;
}
