/**
 * Writes evidence records as `compliance.evidence` spans (OTLP/HTTP protobuf, like signal spans)
 * out of the shared outbox: a summary record into a trace of its own per rule and window, a
 * per-trace record into the evaluated trace. Span ids derive from (tenant, seq), so a retry
 * rewrites the same span.
 */
import { encodeTraceRequest } from '../ingest/otlpProto';
import { betraceSpanRequest, otlpHeaders, otlpTracesUrl, OutboxWriter, send } from '../writers';
import { evidenceAttributes, EvidenceRecord } from './record';
import type { EvidenceOutboxItem } from './store';

export const EVIDENCE_WRITER = 'evidence';

/** The telemetry contract's `compliance.evidence` span for one record, as an ExportTraceServiceRequest. */
export function evidenceSpanRequest(r: EvidenceRecord, version: string): object {
  const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);
  return betraceSpanRequest(r.tenant, version, {
    traceId: Buffer.from(r.traceId, 'hex'),
    spanId: Buffer.from(r.spanId, 'hex'),
    ...(r.parentSpanId ? { parentSpanId: Buffer.from(r.parentSpanId, 'hex') } : {}),
    name: 'compliance.evidence',
    kind: 1,
    startTimeUnixNano: ns(r.windowStart),
    endTimeUnixNano: ns(r.windowEnd),
    attributes: Object.entries(evidenceAttributes(r)).map(([key, value]) => ({ key, value })),
    status: { code: 0 },
  });
}

export class OtlpEvidenceWriter implements OutboxWriter<EvidenceOutboxItem> {
  readonly name = EVIDENCE_WRITER;
  private readonly url: string;

  constructor(
    exportUrl: string,
    private readonly version: string,
    /** The tenant's Tempo org (X-Scope-OrgID). */
    private readonly orgIdOf: (tenant: string) => string | undefined = () => undefined,
    private readonly timeoutMs = 10_000,
  ) {
    this.url = otlpTracesUrl(exportUrl);
  }

  async deliver(item: EvidenceOutboxItem): Promise<void> {
    const body = encodeTraceRequest(evidenceSpanRequest(item.evidence, this.version));
    await send(this.url, { method: 'POST', headers: otlpHeaders(this.orgIdOf(item.tenant)), body }, this.timeoutMs);
  }
}
