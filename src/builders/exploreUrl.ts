import { urlUtil } from '@grafana/data';
import { PLUGIN_BASE_URL, ROUTES } from '../constants';

/** The Tempo datasource BeTrace links to when the app's settings name none. */
export const DEFAULT_TEMPO_UID = 'tempo';

/** The app's jsonData field that names the Tempo datasource. */
export function tempoDatasourceUid(jsonData: { tempoDatasourceUid?: unknown } | undefined): string {
  const uid = jsonData?.tempoDatasourceUid;
  return typeof uid === 'string' && uid.trim() !== '' ? uid.trim() : DEFAULT_TEMPO_UID;
}

const TRACE_ID = /^[0-9a-f]{1,32}$/i;
const SPAN_ID = /^[0-9a-f]{16}$/i;

export interface TraceLink {
  datasourceUid: string;
  traceId: string;
  /** The span the trace view scrolls to and highlights. */
  spanId?: string;
  /** Epoch milliseconds; Explore searches the trace within it. */
  range?: { from: number; to: number };
}

/**
 * Explore's trace view for one trace (the Explore URL state of Grafana 10+:
 * `/explore?schemaVersion=1&panes={<pane id>: ExploreUrlState}`), with the span focused through
 * `panelsState.trace.spanId`.
 */
export function exploreTraceUrl(link: TraceLink): string {
  if (!TRACE_ID.test(link.traceId)) {
    throw new Error(`not a trace id (1–32 hex digits): ${JSON.stringify(link.traceId)}`);
  }
  if (link.spanId !== undefined && !SPAN_ID.test(link.spanId)) {
    throw new Error(`not a span id (16 hex digits): ${JSON.stringify(link.spanId)}`);
  }
  const datasource = { type: 'tempo', uid: link.datasourceUid };
  const pane: Record<string, unknown> = {
    datasource: link.datasourceUid,
    queries: [
      {
        refId: 'A',
        datasource,
        queryType: 'traceql',
        query: link.traceId.toLowerCase(),
        limit: 20,
        tableType: 'traces',
      },
    ],
    range: link.range ? { from: String(link.range.from), to: String(link.range.to) } : { from: 'now-1h', to: 'now' },
  };
  if (link.spanId) {
    pane.panelsState = { trace: { spanId: link.spanId.toLowerCase() } };
  }
  return urlUtil.renderUrl('/explore', { schemaVersion: 1, panes: JSON.stringify({ betrace: pane }) });
}

/** A window around an instant, so Explore finds the trace without searching all time. */
export function rangeAround(at: number, marginMs = 30 * 60 * 1000): { from: number; to: number } {
  return { from: at - marginMs, to: at + marginMs };
}

/** The Rules page of one rule. */
export function ruleUrl(ruleId: string): string {
  return `${PLUGIN_BASE_URL}/${ROUTES.Rules}/${encodeURIComponent(ruleId)}`;
}

/** The Rules page's editor of a new rule. */
export function newRuleUrl(): string {
  return `${PLUGIN_BASE_URL}/${ROUTES.Rules}/new`;
}

/** The Suggestions page, with one discovery job open. */
export function suggestionsUrl(jobId?: string): string {
  const base = `${PLUGIN_BASE_URL}/${ROUTES.Suggestions}`;
  return jobId === undefined ? base : urlUtil.renderUrl(base, { job: jobId });
}

/** The rule editor of a new rule prefilled from a suggestion of a discovery job (`?suggestion=<job>:<sid>`). */
export function adoptSuggestionUrl(jobId: string, suggestionId: string): string {
  return urlUtil.renderUrl(newRuleUrl(), { suggestion: `${jobId}:${suggestionId}` });
}

/** The job and suggestion of an adopt URL's `suggestion` parameter, if it is one. */
export function parseSuggestionRef(value: unknown): { jobId: string; suggestionId: string } | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    return undefined;
  }
  return { jobId: value.slice(0, colon), suggestionId: value.slice(colon + 1) };
}

/** What a rule drafted from a trace in Explore starts from: the trace, the span picked, its Tempo datasource. */
export interface TraceDraftRef {
  traceId: string;
  spanId?: string;
  datasourceUid?: string;
}

/** The rule editor of a new rule drafted from a trace (`?fromTrace=<trace>&span=<span>&datasource=<tempo uid>`). */
export function draftFromTraceUrl(ref: TraceDraftRef): string {
  if (!TRACE_ID.test(ref.traceId)) {
    throw new Error(`not a trace id (1–32 hex digits): ${JSON.stringify(ref.traceId)}`);
  }
  if (ref.spanId !== undefined && !SPAN_ID.test(ref.spanId)) {
    throw new Error(`not a span id (16 hex digits): ${JSON.stringify(ref.spanId)}`);
  }
  // renderUrl writes an undefined value as an empty parameter: leave absent ones out.
  const query: Record<string, string> = { fromTrace: ref.traceId.toLowerCase() };
  if (ref.spanId !== undefined) {
    query.span = ref.spanId.toLowerCase();
  }
  if (ref.datasourceUid !== undefined) {
    query.datasource = ref.datasourceUid;
  }
  return urlUtil.renderUrl(newRuleUrl(), query);
}

/** The trace, span and datasource of a draft-from-trace URL's parameters, if they name a trace. */
export function parseTraceDraftRef(search: Record<string, unknown>): TraceDraftRef | undefined {
  const { fromTrace, span, datasource } = search;
  if (typeof fromTrace !== 'string' || !TRACE_ID.test(fromTrace)) {
    return undefined;
  }
  return {
    traceId: fromTrace.toLowerCase(),
    spanId: typeof span === 'string' && SPAN_ID.test(span) ? span.toLowerCase() : undefined,
    datasourceUid: typeof datasource === 'string' && datasource !== '' ? datasource : undefined,
  };
}

/**
 * The Signals page filtered to the signals raised on one trace (`var-traceId`, the page's scene
 * variable), over a range that starts before the trace did: signals are raised after it ends.
 */
export function signalsForTraceUrl(traceId: string, from?: number): string {
  if (!TRACE_ID.test(traceId)) {
    throw new Error(`not a trace id (1–32 hex digits): ${JSON.stringify(traceId)}`);
  }
  return urlUtil.renderUrl(`${PLUGIN_BASE_URL}/${ROUTES.Signals}`, {
    // Tempo's search may trim leading zeros; signals carry all 32 digits.
    'var-traceId': traceId.toLowerCase().padStart(32, '0'),
    from: from === undefined ? 'now-7d' : String(Math.floor(from)),
    to: 'now',
  });
}
