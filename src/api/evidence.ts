import { lastValueFrom } from 'rxjs';
import { getBackendSrv, type FetchError } from '@grafana/runtime';
import { SIDECAR_PROXY, SidecarError, sidecarFetch } from './client';
import type { components } from './generated/sidecar';

/**
 * The sidecar's evidence API (`/api/v1/evidence`, `/api/v1/evidence/export`). Its answers are
 * typed by the OpenAPI document (src/api/generated/sidecar.ts, `npm run api:types`); the page's
 * own view of them (one verification status per record) is derived here.
 */
type Schemas = components['schemas'];

export type EvidenceOutcome = Schemas['EvidenceRecord']['outcome'];

/**
 * What the sidecar found checking one record: its HMAC signature, and its place in the tenant's
 * chain (`seq` gap-free, `prev` = hash of the record before).
 */
export type VerificationStatus = 'verified' | 'altered' | 'missing' | 'reordered';

export interface EvidenceVerification {
  status: VerificationStatus;
  /** The sidecar's explanation when the status is not `verified`. */
  reason?: string;
}

/** A record as the page shows it: the sidecar's, with one verification status. */
export type EvidenceRecord = Omit<Schemas['EvidenceRecord'], 'verification'> & { verification: EvidenceVerification };

/** Counts over every record the filter matched (not only the returned page). */
export interface EvidenceSummary {
  records: number;
  verified: number;
  altered: number;
  missing: number;
  reordered: number;
  /** What checking the chain against its published anchors (and its stored head) found; null when nothing. */
  anchorProblems: string | null;
}

/** The anchor check and the head check in a sentence, or null when they found nothing. */
export function anchorProblemText(v: EvidenceWirePage['verification']): string | null {
  const a = v.anchors;
  const parts: string[] = [];
  const seqs = (xs: number[]) => xs.slice(0, 5).join(', ') + (xs.length > 5 ? ', …' : '');
  if (a.truncated.length > 0) {
    parts.push(`the chain no longer reaches anchored record ${seqs(a.truncated)} (records were deleted from its end)`);
  }
  if (a.mismatched.length > 0) {
    parts.push(`anchored record ${seqs(a.mismatched)} no longer matches its anchor (the chain was rewritten or replaced)`);
  }
  if (a.altered.length + a.unknownKey.length > 0) {
    parts.push(`${a.altered.length + a.unknownKey.length} anchor(s) do not verify`);
  }
  if (a.outOfOrder.length > 0) {
    parts.push(`the anchored head went back at ${seqs(a.outOfOrder)}`);
  }
  if (a.unreadable > 0) {
    parts.push(`${a.unreadable} line(s) of the anchor log are not anchors`);
  }
  if (v.headMismatch) {
    parts.push('the stored head does not match the last record');
  }
  return parts.length === 0 ? null : `${parts.join('; ')}.`.replace(/^./, (c) => c.toUpperCase());
}

/** Pass/fail of one control over every record the filter matched. */
export type EvidenceControlCounts = Schemas['ControlSummary'];

export interface EvidencePage {
  records: EvidenceRecord[];
  total: number;
  limit: number;
  offset: number;
  summary: EvidenceSummary;
  /** Every control in scope, sorted by framework and control. */
  controls: EvidenceControlCounts[];
}

export interface EvidenceFilters {
  framework?: string;
  control?: string;
  /** Epoch milliseconds. */
  from?: number;
  /** Epoch milliseconds. */
  to?: number;
}

export const EXPORT_FORMATS = ['csv', 'json', 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One record's check as the sidecar answers it (signature, chain link, order). */
export type WireRecordVerification = Schemas['RecordVerification'];

/** The whole chain's check as the sidecar answers it: the seqs of each kind of problem. */
export type WireVerificationSummary = Schemas['ChainVerification'];

/** `GET /api/v1/evidence` as sent. */
export type EvidenceWirePage = Schemas['EvidencePage'];

/** The page's view of one record's check: one status, and why when it is not verified. */
export function recordVerification(v: WireRecordVerification): EvidenceVerification {
  if (v.ok) {
    return { status: 'verified' };
  }
  if (v.signature === 'invalid') {
    return { status: 'altered', reason: 'its signature does not match its content: it was changed after signing' };
  }
  if (v.signature === 'unknown_key') {
    return { status: 'altered', reason: 'signed with a key this sidecar does not hold' };
  }
  if (v.reordered) {
    return { status: 'reordered', reason: 'it comes after a record with a higher sequence number' };
  }
  if (v.link === 'broken') {
    return { status: 'altered', reason: 'its link to the record before does not match: that record was changed or replaced' };
  }
  return { status: 'missing', reason: 'the record before it is missing from the chain' };
}

export function evidencePageFromWire(wire: EvidenceWirePage): EvidencePage {
  const v = wire.verification;
  return {
    records: wire.records.map((r) => ({ ...r, verification: recordVerification(r.verification) })),
    total: wire.total,
    limit: wire.limit,
    offset: wire.offset,
    summary: {
      records: v.records,
      verified: v.verified,
      altered: new Set([...v.altered, ...v.unknownKey, ...v.brokenLinks]).size,
      missing: v.missing.length,
      reordered: v.reordered.length,
      anchorProblems: anchorProblemText(v),
    },
    controls: wire.summary.controls,
  };
}

export async function listEvidence(filters: EvidenceFilters, page: { limit: number; offset: number }): Promise<EvidencePage> {
  const wire = await sidecarFetch<EvidenceWirePage>('GET', '/api/v1/evidence', {
    params: { ...filters, limit: page.limit, offset: page.offset },
  });
  return evidencePageFromWire(wire);
}

/** The export as a file: the body as a Blob and the name the sidecar suggests (or ours). */
export async function exportEvidence(
  format: ExportFormat,
  filters: EvidenceFilters
): Promise<{ blob: Blob; filename: string }> {
  const params: Record<string, string | number> = { format };
  for (const [k, v] of Object.entries(filters)) {
    if (v !== undefined && v !== '') {
      params[k] = v;
    }
  }
  try {
    const res = await lastValueFrom(
      getBackendSrv().fetch<Blob>({
        method: 'GET',
        url: `${SIDECAR_PROXY}/api/v1/evidence/export`,
        params,
        responseType: 'blob',
        showErrorAlert: false,
        showSuccessAlert: false,
      })
    );
    const disposition = res.headers?.get?.('content-disposition') ?? '';
    const named = /filename="?([^";]+)"?/.exec(disposition);
    return { blob: res.data, filename: named?.[1] ?? exportFilename(format, filters) };
  } catch (e) {
    const err = e as FetchError<unknown>;
    throw new SidecarError(err.status ?? 0, await errorMessage(err));
  }
}

/** `betrace-evidence-soc2-CC6.1-<from>-<to>.csv`: what was exported, in the name. */
export function exportFilename(format: ExportFormat, filters: EvidenceFilters): string {
  const parts = ['betrace-evidence', filters.framework || 'all', filters.control || 'all-controls'];
  if (filters.from !== undefined && filters.to !== undefined) {
    parts.push(new Date(filters.from).toISOString().slice(0, 10), new Date(filters.to).toISOString().slice(0, 10));
  }
  return `${parts.join('-').replace(/[^A-Za-z0-9._-]+/g, '_')}.${format}`;
}

/** A blob error body (the export asked for a blob) still carries the sidecar's JSON message. */
async function errorMessage(err: FetchError<unknown>): Promise<string> {
  const data = err.data;
  if (typeof Blob !== 'undefined' && data instanceof Blob) {
    try {
      const text = await blobText(data);
      const json = JSON.parse(text) as { message?: string; error?: string };
      return json.message ?? json.error ?? text;
    } catch {
      return err.statusText ?? 'export failed';
    }
  }
  const body = data as { message?: string; error?: string } | undefined;
  return body?.message ?? body?.error ?? err.statusText ?? 'export failed';
}

function blobText(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}

/** Hands a blob to the browser as a download. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
