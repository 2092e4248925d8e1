/**
 * Small OTLP requests for the history tests: spans with chosen ids, names, attributes and start
 * times (epoch ms), as OTLP/JSON text or protobuf bytes.
 */
import { encodeTraceRequest } from '../../src/ingest/otlpProto';

export interface TestSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  durationMs?: number;
  attrs?: Record<string, string | number | boolean>;
  service?: string;
}

/** `n`-th id of a family: 32 (trace) or 16 (span) hex characters. */
export const traceIdOf = (family: string, n: number): string => `${family.padEnd(24, '0').slice(0, 24)}${n.toString(16).padStart(8, '0')}`;
export const spanIdOf = (family: string, n: number): string => `${family.padEnd(8, '0').slice(0, 8)}${n.toString(16).padStart(8, '0')}`;

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
const anyValue = (v: string | number | boolean): AnyValue =>
  typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };

/** The OTLP request object (ids as hex strings, the JSON mapping). */
export function otlpRequest(spans: readonly TestSpan[]): { resourceSpans: unknown[] } {
  const byService = new Map<string, TestSpan[]>();
  for (const s of spans) {
    const service = s.service ?? 'shop';
    byService.set(service, [...(byService.get(service) ?? []), s]);
  }
  return {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          scope: { name: 'history-test' },
          spans: list.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name,
            kind: 1,
            startTimeUnixNano: (BigInt(Math.round(s.startMs)) * 1_000_000n).toString(),
            endTimeUnixNano: (BigInt(Math.round(s.startMs + (s.durationMs ?? 5))) * 1_000_000n).toString(),
            attributes: Object.entries(s.attrs ?? {}).map(([key, v]) => ({ key, value: anyValue(v) })),
            status: { code: 0 },
          })),
        },
      ],
    })),
  };
}

export const jsonBody = (spans: readonly TestSpan[]): Buffer => Buffer.from(JSON.stringify(otlpRequest(spans)));

export function protobufBody(spans: readonly TestSpan[]): Buffer {
  const shaped = JSON.parse(JSON.stringify(otlpRequest(spans)), (key, value: unknown) =>
    (key === 'traceId' || key === 'spanId' || key === 'parentSpanId') && typeof value === 'string' ? Buffer.from(value, 'hex') : value,
  ) as object;
  return Buffer.from(encodeTraceRequest(shaped));
}

/** A small trace: a root `checkout` and `children` child spans named `step-<i>` (or as given). */
export function shopTrace(traceId: string, startMs: number, names: readonly string[] = ['payment.charge'], attrs: Record<string, string | number | boolean> = {}): TestSpan[] {
  const root: TestSpan = { traceId, spanId: spanIdOf(traceId.slice(0, 8), 1), name: 'checkout', startMs, durationMs: 50, attrs };
  return [root, ...names.map((name, i) => ({ traceId, spanId: spanIdOf(traceId.slice(0, 8), i + 2), parentSpanId: root.spanId, name, startMs: startMs + 1 + i, attrs }))];
}
