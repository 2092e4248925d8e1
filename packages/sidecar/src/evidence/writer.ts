/**
 * Writes evidence records as `compliance.evidence` spans (OTLP/HTTP protobuf, like signal spans)
 * out of the shared outbox: a summary record into a trace of its own per rule and window, a
 * per-trace record into the evaluated trace. Span ids derive from (tenant, seq), so a retry
 * rewrites the same span.
 */
import { encodeTraceRequest } from '../ingest/otlpProto';
import { betraceSpanRequest, exportSpans, OtlpExportTarget, OutboxWriter } from '../writers';
import { evidenceAttributes, EvidenceRecord } from './record';
import { Anchor, anchorAttributes } from './anchor';
import type { AnchorOutboxItem, EvidenceOutboxItem } from './store';

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

export const ANCHOR_WRITER = 'evidence-anchor';

/** An anchor's `compliance.evidence` span (evidence_type anchor), zero length at its time, in the tenant's anchor trace of the day. */
export function anchorSpanRequest(a: Anchor, version: string): object {
  const ns = String(BigInt(a.anchoredAt) * 1_000_000n);
  return betraceSpanRequest(a.tenant, version, {
    traceId: Buffer.from(a.traceId, 'hex'),
    spanId: Buffer.from(a.spanId, 'hex'),
    name: 'compliance.evidence',
    kind: 1,
    startTimeUnixNano: ns,
    endTimeUnixNano: ns,
    attributes: Object.entries(anchorAttributes(a)).map(([key, value]) => ({ key, value })),
    status: { code: 0 },
  });
}

export class OtlpAnchorWriter implements OutboxWriter<AnchorOutboxItem> {
  readonly name = ANCHOR_WRITER;
  constructor(
    private readonly target: OtlpExportTarget,
    private readonly version: string,
    private readonly orgIdOf: (tenant: string) => string | undefined = () => undefined,
  ) {}

  async deliver(item: AnchorOutboxItem): Promise<void> {
    await exportSpans(this.target, this.orgIdOf(item.tenant), encodeTraceRequest(anchorSpanRequest(item.anchor, this.version)));
  }
}

export class OtlpEvidenceWriter implements OutboxWriter<EvidenceOutboxItem> {
  readonly name = EVIDENCE_WRITER;
  constructor(
    private readonly target: OtlpExportTarget,
    private readonly version: string,
    /** The tenant's Tempo org (X-Scope-OrgID). */
    private readonly orgIdOf: (tenant: string) => string | undefined = () => undefined,
  ) {}

  async deliver(item: EvidenceOutboxItem): Promise<void> {
    await exportSpans(this.target, this.orgIdOf(item.tenant), encodeTraceRequest(evidenceSpanRequest(item.evidence, this.version)));
  }
}
