import { sidecarFetch } from './client';
import type { components } from './generated/sidecar';

/**
 * The sidecar's signal API (`/api/v1/signals`), typed as its OpenAPI document states it
 * (src/api/generated/sidecar.ts, `npm run api:types`).
 */
type Schemas = components['schemas'];

export type Signal = Schemas['Signal'];
/** One status change: who moved the signal, when (ISO 8601), and why. */
export type SignalChange = Schemas['SignalChange'];
export type SignalWithChanges = Schemas['SignalDetail'];
export type SignalPage = Schemas['SignalPage'];
export type Severity = Signal['severity'];
export type SignalStatus = Signal['status'];
/** Where a signal came from: OTLP pushed to the sidecar, Tempo polled, or a replay. */
export type SignalSource = Signal['source'];

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const satisfies readonly Severity[];
export const SIGNAL_STATUSES = ['open', 'acknowledged', 'resolved', 'false_positive'] as const satisfies readonly SignalStatus[];

/** The list filters; an empty or missing value means "any". */
export interface SignalFilters {
  from?: number;
  to?: number;
  rule?: string;
  severity?: Severity;
  status?: SignalStatus;
  service?: string;
  text?: string;
  /** The signals raised on one trace (32 hex digits). */
  traceId?: string;
}

/** The sidecar's page size limit for `GET /api/v1/signals`. */
export const MAX_PAGE_SIZE = 1000;

/** The moves the sidecar allows (its store's lifecycle), so the UI offers only those. */
export const STATUS_TRANSITIONS: Record<SignalStatus, readonly SignalStatus[]> = {
  open: ['acknowledged', 'resolved', 'false_positive'],
  acknowledged: ['resolved', 'false_positive', 'open'],
  resolved: ['open'],
  false_positive: ['open'],
};

export const STATUS_LABELS: Record<SignalStatus, string> = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
  false_positive: 'False positive',
};

export function listSignals(filters: SignalFilters, page: { limit: number; offset: number }): Promise<SignalPage> {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_PAGE_SIZE) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}; got ${page.limit}`);
  }
  return sidecarFetch<SignalPage>('GET', '/api/v1/signals', {
    params: { ...filters, limit: page.limit, offset: page.offset },
  });
}

export function getSignal(id: string): Promise<SignalWithChanges> {
  return sidecarFetch<SignalWithChanges>('GET', `/api/v1/signals/${encodeURIComponent(id)}`);
}

export function changeSignalStatus(id: string, status: SignalStatus, note: string): Promise<Signal> {
  return sidecarFetch<Signal>('PATCH', `/api/v1/signals/${encodeURIComponent(id)}`, { data: { status, note } });
}

/** The rules signals can be filtered by (id and name), for the rule filter's options. */
export async function listRuleNames(): Promise<Array<{ id: string; name: string }>> {
  const { rules } = await sidecarFetch<{ rules: Array<{ id: string; name?: string }> }>('GET', '/api/v1/rules');
  return rules.map((r) => ({ id: r.id, name: r.name ?? r.id }));
}
