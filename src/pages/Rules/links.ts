import { urlUtil } from '@grafana/data';
import { ROUTES } from '../../constants';
import { prefixRoute } from '../../utils/utils.routing';

export const rulesListUrl = () => prefixRoute(ROUTES.Rules);
export const newRuleUrl = () => prefixRoute(`${ROUTES.Rules}/new`);
export const ruleUrl = (id: string) => prefixRoute(`${ROUTES.Rules}/${encodeURIComponent(id)}`);

/** A trace in Explore's trace view, in Explore's URL format (one pane, a TraceQL query by trace id). */
export function exploreTraceUrl(tempoUid: string, traceId: string): string {
  const panes = {
    trace: {
      datasource: tempoUid,
      queries: [{ refId: 'A', datasource: { type: 'tempo', uid: tempoUid }, queryType: 'traceql', query: traceId }],
      range: { from: 'now-1h', to: 'now' },
    },
  };
  return urlUtil.renderUrl('/explore', { schemaVersion: 1, panes: JSON.stringify(panes) });
}
