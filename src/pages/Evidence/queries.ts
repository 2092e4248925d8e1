import type { DataSourceRef } from '@grafana/schema';
import { evidenceOutcomesQuery, type EvidenceSelection } from '../../builders/traceql';
import { TEMPO_VARIABLE } from '../Signals/tempoVariable';

/** The Tempo datasource chosen by the page's `tempo` variable. */
export const TEMPO_DATASOURCE: DataSourceRef = { type: 'tempo', uid: `\${${TEMPO_VARIABLE}}` };

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
