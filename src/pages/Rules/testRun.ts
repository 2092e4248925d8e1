import { lastValueFrom } from 'rxjs';
import { getBackendSrv } from '@grafana/runtime';
import {
  compileRule,
  decodeOtlpJsonText,
  decodeTempoTrace,
  DecodeError,
  explainRule,
  type Explanation,
  type Trace,
} from '@betrace/evaluator';
import { tempoProxyUrl } from '../../editor/tempoVocabulary';
import { toInput, type RuleDraft } from './draft';

/** A test run's problem in the user's words (bad trace id, unknown trace, undecodable JSON, invalid rule). */
export class TestInputError extends Error {}

const TRACE_ID = /^[0-9a-fA-F]{1,32}$/;

/** A trace from the Tempo datasource (trace-by-id v2, through Grafana's datasource proxy). */
export async function fetchTempoTrace(tempoUid: string, traceId: string): Promise<Trace> {
  const id = traceId.trim();
  if (!TRACE_ID.test(id)) {
    throw new TestInputError(`"${id}" is not a trace id: a trace id is 1 to 32 hexadecimal digits`);
  }
  let body: unknown;
  try {
    const res = await lastValueFrom(
      getBackendSrv().fetch<unknown>({
        method: 'GET',
        url: tempoProxyUrl(tempoUid, `/api/v2/traces/${id}`),
        showErrorAlert: false,
      })
    );
    body = res.data;
  } catch (e) {
    const err = e as { status?: number; statusText?: string; data?: unknown };
    const detail =
      typeof err.data === 'string'
        ? err.data
        : ((err.data as { message?: string } | undefined)?.message ?? err.statusText ?? String(e));
    throw new TestInputError(
      err.status === 404
        ? `Tempo does not know trace ${id}`
        : `Tempo (datasource ${tempoUid}) answered ${err.status ?? 'nothing'}: ${detail}`
    );
  }
  const trace = decodeTempoTrace(body);
  if (!trace) {
    throw new TestInputError(`Tempo does not know trace ${id}`);
  }
  return trace;
}

/** Traces from pasted OTLP/JSON (one request, or NDJSON of requests). */
export function parsePastedTraces(text: string): Trace[] {
  try {
    const traces = decodeOtlpJsonText(text);
    if (traces.length === 0) {
      throw new TestInputError('Paste an OTLP/JSON export request ({"resourceSpans": [...]}) with at least one span');
    }
    return traces;
  } catch (e) {
    if (e instanceof DecodeError) {
      throw new TestInputError(`The pasted text is not OTLP/JSON: ${e.message}`);
    }
    throw e;
  }
}

/** Runs the draft (saved or not) over the traces with the evaluator in the browser. */
export function explainDraft(draft: RuleDraft, traces: readonly Trace[]): Explanation[] {
  const input = toInput({ ...draft, id: draft.id.trim() || 'unsaved', name: draft.name.trim() || 'unsaved rule' }, '');
  const { note: _note, slo: _slo, ...definition } = input; // the objective does not change what fires
  const compiled = compileRule(definition);
  if (!compiled.rule) {
    const first = compiled.diagnostics.find((d) => d.severity === 'error');
    throw new TestInputError(
      `The rule has errors: ${first ? `${first.startLine}:${first.startColumn} ${first.message}` : 'invalid rule'}`
    );
  }
  return traces.map((t) => explainRule(compiled.rule!, t));
}

export interface SpanRow {
  spanId: string;
  name: string;
  service: string;
  durationMs: number;
  depth: number;
  /** The span made the rule fire (a violation's matched span) or is the bound span. */
  matched: boolean;
}

/** The trace's spans in tree order (parents before children, siblings by start time), with the matched ones marked. */
export function spanRows(trace: Trace, explanation: Explanation): SpanRow[] {
  const matched = new Set<string>();
  for (const v of explanation.violations) {
    v.matchedSpanIds.forEach((id) => matched.add(id));
    if (v.boundSpanId) {
      matched.add(v.boundSpanId);
    }
  }
  const ids = new Set(trace.spans.map((s) => s.spanId));
  const children = new Map<string | undefined, typeof trace.spans>();
  for (const s of trace.spans) {
    // A span whose parent is missing from the trace is shown as a root.
    const parent = s.parentSpanId !== undefined && ids.has(s.parentSpanId) ? s.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const rows: SpanRow[] = [];
  const visit = (parent: string | undefined, depth: number) => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) =>
      a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0
    );
    for (const s of list) {
      rows.push({
        spanId: s.spanId,
        name: s.name,
        service: s.service,
        durationMs: s.durationNs / 1e6,
        depth,
        matched: matched.has(s.spanId),
      });
      visit(s.spanId, depth + 1);
    }
  };
  visit(undefined, 0);
  return rows;
}
