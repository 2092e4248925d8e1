import type { DataSourceRef } from '@grafana/schema';
import { evidenceOutcomesQuery, evidenceSpansQuery, type EvidenceSelection } from '../../builders/traceql';
import { TEMPO_VARIABLE } from '../Signals/tempoVariable';

/** The Tempo datasource chosen by the page's `tempo` variable. */
export const TEMPO_DATASOURCE: DataSourceRef = { type: 'tempo', uid: `\${${TEMPO_VARIABLE}}` };

/** How many evidence spans (and per trace) the per-control summary reads. */
export const EVIDENCE_SPAN_LIMIT = 500;

/** Tempo's query model (`TempoQuery` of @grafana/schema's tempo dataquery): a TraceQL span table. */
export function evidenceSpansTempoQuery(selection: EvidenceSelection) {
  return {
    refId: 'evidence',
    datasource: TEMPO_DATASOURCE,
    queryType: 'traceql',
    query: evidenceSpansQuery(selection),
    limit: EVIDENCE_SPAN_LIMIT,
    spss: 100,
    tableType: 'spans',
    filters: [],
  };
}

/** A TraceQL metrics query, run as a range query: records per control and outcome over time. */
export function evidenceOutcomesTempoQuery(selection: EvidenceSelection) {
  return {
    refId: 'outcomes',
    datasource: TEMPO_DATASOURCE,
    queryType: 'traceql',
    query: evidenceOutcomesQuery(selection),
    metricsQueryType: 'range',
    filters: [],
  };
}
