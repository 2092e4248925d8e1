import { SIGNALS_DATASOURCE, type SignalsFilterTemplate, type SignalsQuery } from './signalsDataSource';

/** The scene variables that filter signals (the sidecar's list filters). */
export const FILTER_VARIABLES = ['severity', 'rule', 'status', 'service', 'text', 'traceId'] as const;

/** Every query reads its filters from the variables, so a changed filter re-runs it. */
export const FILTERS: SignalsFilterTemplate = {
  severity: '$severity',
  rule: '$rule',
  status: '$status',
  service: '$service',
  text: '$text',
  traceId: '$traceId',
};

export function pageQuery(offset: number, limit: number): SignalsQuery & { datasource: typeof SIGNALS_DATASOURCE } {
  return { refId: 'signals', datasource: SIGNALS_DATASOURCE, kind: 'page', filters: FILTERS, offset, limit };
}

export function bySeverityQuery(): SignalsQuery & { datasource: typeof SIGNALS_DATASOURCE } {
  return { refId: 'bySeverity', datasource: SIGNALS_DATASOURCE, kind: 'bySeverity', filters: FILTERS };
}
