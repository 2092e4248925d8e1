/**
 * A small shop corpus for the discovery tests of the sidecar (CLI and API): OTLP/JSON traces in
 * which invariants hold that a miner must find — every checkout has a payment.charge child, a
 * payment.fraud_check before the charge with the same order_id — and, in `violating` traces,
 * the fraud check is missing (an "almost invariant").
 */
import { decodeOtlpJson, Span } from '@betrace/evaluator';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

export const traceIdOf = (i: number) => `d15c${hex(i, 28)}`;

const kv = (key: string, v: string | number) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } });

/** One shop trace as an OTLP/JSON request, starting at `startMs`. */
export function shopTrace(i: number, startMs: number, violating = false): { resourceSpans: unknown[] } {
  const traceId = traceIdOf(i);
  const ns = (ms: number) => (BigInt(startMs) * 1_000_000n + BigInt(Math.round(ms * 1_000_000))).toString();
  const id = (k: number) => hex(i * 16 + k + 1, 16);
  const order = `ord-${i}`;
  const span = (k: number, parent: number | undefined, name: string, from: number, to: number, attrs: Array<ReturnType<typeof kv>>, kind = 1) => ({
    traceId,
    spanId: id(k),
    ...(parent !== undefined ? { parentSpanId: id(parent) } : {}),
    name,
    kind,
    startTimeUnixNano: ns(from),
    endTimeUnixNano: ns(to),
    attributes: attrs,
    status: { code: 1 },
  });
  const shop = [
    span(0, undefined, 'checkout', 0, 120, [kv('http.route', '/checkout'), kv('order_id', order)], 2),
    span(2, 0, 'payment.charge', 60, 100, [kv('order_id', order), kv('amount', 100 + (i % 50))], 3),
    span(3, 0, 'inventory.reserve', 5, 30, [kv('order_id', order)]),
  ];
  if (!violating) {
    shop.push(span(1, 0, 'payment.fraud_check', 20, 50, [kv('order_id', order)], 3));
  }
  const dbSpans = [span(4, 3, 'db.query', 6, 12, [kv('db.system', 'postgresql')], 3)];
  return {
    resourceSpans: [
      { resource: { attributes: [kv('service.name', 'shop')] }, scopeSpans: [{ scope: { name: 'shop' }, spans: shop }] },
      { resource: { attributes: [kv('service.name', 'inventory-db')] }, scopeSpans: [{ scope: { name: 'db' }, spans: dbSpans }] },
    ],
  };
}

/** `count` traces a second apart from `startMs`; those whose index `violating(i)` holds lack the fraud check. */
export function shopCorpus(count: number, startMs: number, violating: (i: number) => boolean = () => false): Array<{ resourceSpans: unknown[] }> {
  return Array.from({ length: count }, (_, i) => shopTrace(i, startMs + i * 1000, violating(i)));
}

/** The spans of OTLP/JSON requests, for the Tempo double's ingest. */
export function spansOf(requests: ReadonlyArray<{ resourceSpans: unknown[] }>): Span[] {
  return requests.flatMap((r) => decodeOtlpJson(r).flatMap((t) => t.spans));
}
