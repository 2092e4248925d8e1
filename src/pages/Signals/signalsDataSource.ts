import {
  LoadingState,
  type DataQueryRequest,
  type DataQueryResponse,
  type MetricFindValue,
  type ScopedVars,
} from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import type { DataQuery } from '@grafana/schema';
import { registerRuntimeDataSource, RuntimeDataSource, sceneGraph, type SceneObject } from '@grafana/scenes';
import {
  listRuleNames,
  listSignals,
  MAX_PAGE_SIZE,
  SEVERITIES,
  SIGNAL_STATUSES,
  type Severity,
  type Signal,
  type SignalFilters,
  type SignalStatus,
} from '../../api/signals';
import { bucketStep, signalsBySeverityFrame, signalsTableFrame } from '../../builders/signalFrames';

/** The variable value that means "no filter" (a custom "All" value of the filter variables). */
export const ANY = '*';

/** Filter values as written in a query: literal, or a `$variable` interpolated at query time. */
export interface SignalsFilterTemplate {
  severity?: string;
  rule?: string;
  status?: string;
  service?: string;
  text?: string;
  traceId?: string;
}

export interface SignalsQuery extends DataQuery {
  /** `page`: one page of signals for the table; `bySeverity`: counts over time. */
  kind: 'page' | 'bySeverity';
  filters: SignalsFilterTemplate;
  limit?: number;
  offset?: number;
}

export const SIGNALS_DATASOURCE = { type: 'betrace-signals-datasource', uid: 'betrace-signals' } as const;

/** At most this many signals are counted for the time series; beyond it the frame says so. */
export const MAX_COUNTED = 20_000;

type Interpolate = (value: string) => string;

function interpolator(scopedVars: ScopedVars): Interpolate {
  const owner = scopedVars.__sceneObject?.value?.valueOf() as SceneObject | undefined;
  if (owner) {
    return (value) => sceneGraph.interpolate(owner, value, scopedVars);
  }
  return (value) => getTemplateSrv().replace(value, scopedVars);
}

/** The sidecar's filters from a query's templates; a bad severity or status is an error, not "any". */
export function resolveFilters(
  template: SignalsFilterTemplate,
  interpolate: Interpolate,
  range: { from: number; to: number }
): SignalFilters {
  const value = (v: string | undefined): string | undefined => {
    if (v === undefined) {
      return undefined;
    }
    const s = interpolate(v).trim();
    return s === '' || s === ANY || s === '$__all' ? undefined : s;
  };
  const filters: SignalFilters = { from: range.from, to: range.to };
  const severity = value(template.severity);
  if (severity !== undefined) {
    if (!(SEVERITIES as readonly string[]).includes(severity)) {
      throw new Error(`unknown severity "${severity}" (expected one of ${SEVERITIES.join(', ')})`);
    }
    filters.severity = severity as Severity;
  }
  const status = value(template.status);
  if (status !== undefined) {
    if (!(SIGNAL_STATUSES as readonly string[]).includes(status)) {
      throw new Error(`unknown status "${status}" (expected one of ${SIGNAL_STATUSES.join(', ')})`);
    }
    filters.status = status as SignalStatus;
  }
  const rule = value(template.rule);
  const service = value(template.service);
  const text = value(template.text);
  if (rule !== undefined) {
    filters.rule = rule;
  }
  if (service !== undefined) {
    filters.service = service;
  }
  if (text !== undefined) {
    filters.text = text;
  }
  const traceId = value(template.traceId);
  if (traceId !== undefined) {
    if (!/^[0-9a-f]{1,32}$/i.test(traceId)) {
      throw new Error(`"${traceId}" is not a trace id (1 to 32 hexadecimal digits)`);
    }
    filters.traceId = traceId.toLowerCase().padStart(32, '0');
  }
  return filters;
}

/** Every signal the filters match, newest first, up to `max` (pages fetched four at a time). */
export async function collectSignals(
  filters: SignalFilters,
  max: number
): Promise<{ signals: Signal[]; total: number }> {
  const first = await listSignals(filters, { limit: MAX_PAGE_SIZE, offset: 0 });
  const signals = [...first.signals];
  const wanted = Math.min(first.total, max);
  const offsets: number[] = [];
  for (let offset = MAX_PAGE_SIZE; offset < wanted; offset += MAX_PAGE_SIZE) {
    offsets.push(offset);
  }
  for (let i = 0; i < offsets.length; i += 4) {
    const pages = await Promise.all(
      offsets.slice(i, i + 4).map((offset) => listSignals(filters, { limit: MAX_PAGE_SIZE, offset }))
    );
    for (const p of pages) {
      signals.push(...p.signals);
    }
  }
  return { signals: signals.slice(0, max), total: first.total };
}

/**
 * A Scenes runtime data source over the sidecar's signal API: the Signals page's panels query
 * it like any Grafana datasource, and it builds data frames from the sidecar's JSON.
 */
export class SignalsDataSource extends RuntimeDataSource<SignalsQuery> {
  constructor() {
    super(SIGNALS_DATASOURCE.type, SIGNALS_DATASOURCE.uid);
  }

  async query(request: DataQueryRequest<SignalsQuery>): Promise<DataQueryResponse> {
    const interpolate = interpolator(request.scopedVars);
    const range = { from: request.range.from.valueOf(), to: request.range.to.valueOf() };
    const data = await Promise.all(
      request.targets
        .filter((t) => !t.hide)
        .map(async (target) => {
          const filters = resolveFilters(target.filters ?? {}, interpolate, range);
          if (target.kind === 'page') {
            const limit = Math.min(target.limit ?? 100, MAX_PAGE_SIZE);
            return signalsTableFrame(await listSignals(filters, { limit, offset: target.offset ?? 0 }), target.refId);
          }
          const { signals, total } = await collectSignals(filters, MAX_COUNTED);
          const step = bucketStep(range.from, range.to, request.maxDataPoints ?? 200);
          const frame = signalsBySeverityFrame(signals, range, step, target.refId);
          if (total > signals.length) {
            frame.meta = {
              notices: [
                {
                  severity: 'warning',
                  text: `Counted the newest ${signals.length} of ${total} signals; narrow the range or filters to count them all.`,
                },
              ],
            };
          }
          return frame;
        })
    );
    return { data, state: LoadingState.Done };
  }

  /** Options of the rule filter: every rule, by name. */
  async metricFindQuery(): Promise<MetricFindValue[]> {
    const rules = await listRuleNames();
    return rules.map((r) => ({ text: r.name, value: r.id }));
  }

  testDatasource() {
    return Promise.resolve({ status: 'success', message: 'BeTrace signals' });
  }
}

let registered = false;

/** Registers the signals data source once per page load (Scenes refuses a second registration). */
export function registerSignalsDataSource(): void {
  if (!registered) {
    // The registry is typed for the base query model; ours is a subtype it never inspects.
    registerRuntimeDataSource({ dataSource: new SignalsDataSource() as unknown as RuntimeDataSource });
    registered = true;
  }
}
