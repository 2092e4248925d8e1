import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, LoadingState, type GrafanaTheme2 } from '@grafana/data';
import {
  sceneGraph,
  SceneObjectBase,
  SceneObjectUrlSyncConfig,
  SceneQueryRunner,
  VariableDependencyConfig,
  type SceneComponentProps,
  type SceneObjectState,
  type SceneObjectUrlValues,
} from '@grafana/scenes';
import {
  Alert,
  EmptyState,
  IconButton,
  InteractiveTable,
  LoadingPlaceholder,
  Pagination,
  Stack,
  Text,
  TextLink,
  useStyles2,
  type Column,
} from '@grafana/ui';
import { ruleUrl, DEFAULT_TEMPO_UID } from '../../builders/exploreUrl';
import { signalRows, type SignalRow, type SignalsPageMeta } from '../../builders/signalFrames';
import { testIds } from '../../components/testIds';
import { SeverityBadge, StatusBadge } from './badges';
import { SignalDetails, TraceLink } from './SignalDetails';
import { FILTER_VARIABLES, pageQuery } from './queries';
import { ANY } from './signalsDataSource';
import { traceSignalsSummary } from '../../extensions/traceSignals';

export interface SignalsTableState extends SceneObjectState {
  /** 1-based. */
  page: number;
  pageSize: number;
  /** The signal whose details drawer is open. */
  selectedId?: string;
}

/**
 * The signals of the range, newest first, one page at a time from the sidecar (so 10,000+ rows
 * cost one page of data), with a details drawer for the trace, the rule and the status history.
 */
export class SignalsTable extends SceneObjectBase<SignalsTableState> {
  protected _urlSync = new SceneObjectUrlSyncConfig(this, { keys: ['page', 'signal'] });

  protected _variableDependency = new VariableDependencyConfig(this, {
    variableNames: [...FILTER_VARIABLES],
    onReferencedVariableValueChanged: () => this.onFiltersChanged(),
  });

  /** The filters the current page belongs to ("any" in all its spellings as one). */
  private filterKey?: string;

  constructor(state: Partial<SignalsTableState> = {}) {
    const page = state.page ?? 1;
    const pageSize = state.pageSize ?? 100;
    super({
      page,
      pageSize,
      ...state,
      $data:
        state.$data ??
        new SceneQueryRunner({
          datasource: pageQuery(0, pageSize).datasource,
          queries: [pageQuery((page - 1) * pageSize, pageSize)],
        }),
    });
    this.addActivationHandler(() => {
      this.filterKey = this.currentFilterKey();
    });
  }

  private currentFilterKey(): string {
    return FILTER_VARIABLES.map((name) => {
      const v = sceneGraph.interpolate(this, `\${${name}}`);
      return v === ANY || v.startsWith('$') ? '' : v;
    }).join('\u0000');
  }

  /**
   * New filters, new list: back to its first page. Variables settling on load (an "All" that
   * resolves) are not new filters, so a shared link keeps its page.
   */
  private onFiltersChanged(): void {
    const key = this.currentFilterKey();
    if (key !== this.filterKey) {
      this.filterKey = key;
      if (this.state.page !== 1) {
        this.setPage(1);
      }
    }
  }

  getUrlState(): SceneObjectUrlValues {
    return { page: this.state.page === 1 ? undefined : String(this.state.page), signal: this.state.selectedId };
  }

  updateFromUrl(values: SceneObjectUrlValues): void {
    const page = Number(values.page ?? 1);
    if (Number.isInteger(page) && page >= 1 && page !== this.state.page) {
      this.setPage(page);
    }
    const signal = typeof values.signal === 'string' ? values.signal : undefined;
    if (signal !== this.state.selectedId) {
      this.setState({ selectedId: signal });
    }
  }

  setPage(page: number): void {
    this.setState({ page });
    const runner = this.state.$data;
    if (runner instanceof SceneQueryRunner) {
      runner.setState({ queries: [pageQuery((page - 1) * this.state.pageSize, this.state.pageSize)] });
      // From the URL, before activation, the runner runs the new page itself once active.
      if (runner.isActive) {
        runner.runQueries();
      }
    }
  }

  select(id: string | undefined): void {
    this.setState({ selectedId: id });
  }

  refresh(): void {
    const runner = this.state.$data;
    if (runner instanceof SceneQueryRunner) {
      runner.runQueries();
    }
  }

  static Component = SignalsTableRenderer;
}

function SignalsTableRenderer({ model }: SceneComponentProps<SignalsTable>) {
  const { page, selectedId } = model.useState();
  const { data } = sceneGraph.getData(model).useState();
  const styles = useStyles2(getStyles);
  const interpolated = sceneGraph.interpolate(model, '${tempo}');
  const tempoUid = interpolated && !interpolated.startsWith('$') ? interpolated : DEFAULT_TEMPO_UID;
  const frame = data?.series.find((f) => f.refId === 'signals');
  const { rows, error } = useMemo(() => {
    try {
      return { rows: frame ? signalRows(frame) : [], error: undefined };
    } catch (e) {
      return { rows: [], error: (e as Error).message };
    }
  }, [frame]);
  const columns = useMemo(() => signalColumns(tempoUid, (id) => model.select(id)), [tempoUid, model]);
  const traceFilter = sceneGraph.interpolate(model, '${traceId}').trim();
  const traceId = traceFilter !== '' && !traceFilter.startsWith('$') && traceFilter !== ANY ? traceFilter : undefined;

  let body: React.ReactNode;
  const failure = data?.errors?.[0]?.message ?? error;
  if (!data || (data.state === LoadingState.Loading && !frame)) {
    body = <LoadingPlaceholder text="Loading signals…" data-testid={testIds.signals.loading} />;
  } else if (data.state === LoadingState.Error || failure) {
    body = (
      <Alert title="Could not load signals" severity="error" data-testid={testIds.signals.error}>
        {failure ?? 'The sidecar did not answer.'}
      </Alert>
    );
  } else if (rows.length === 0) {
    body = (
      <div data-testid={testIds.signals.empty}>
        <EmptyState variant="not-found" message="No signals match">
          No rule was violated in this time range with these filters. Widen the range or clear a filter.
        </EmptyState>
      </div>
    );
  } else {
    const meta = frame?.meta?.custom as SignalsPageMeta | undefined;
    const total = meta?.total ?? rows.length;
    const offset = meta?.offset ?? 0;
    const pages = Math.max(1, Math.ceil(total / model.state.pageSize));
    body = (
      <Stack direction="column" gap={1}>
        <div data-testid={testIds.signals.table}>
          <InteractiveTable columns={columns} data={rows} getRowId={(r) => r.id} />
        </div>
        <div className={styles.footer}>
          <Text color="secondary" data-testid={testIds.signals.pageInfo}>
            {`${offset + 1}–${offset + rows.length} of ${total.toLocaleString('en-US')} signals`}
          </Text>
          <Pagination
            currentPage={page}
            numberOfPages={pages}
            onNavigate={(p) => model.setPage(p)}
            hideWhenSinglePage
          />
        </div>
      </Stack>
    );
  }
  const loaded = Boolean(data && data.state !== LoadingState.Loading && !failure);
  const total = (frame?.meta?.custom as SignalsPageMeta | undefined)?.total ?? rows.length;
  return (
    <div className={styles.container} data-testid={testIds.signals.container}>
      {traceId && loaded && (
        <div className={styles.summary}>
          <Text data-testid={testIds.signals.traceSummary}>
            {traceSignalsSummary(traceId, total, rows.map((r) => r.severity))}
          </Text>
        </div>
      )}
      {body}
      {selectedId && (
        <SignalDetails
          signalId={selectedId}
          tempoUid={tempoUid}
          onClose={() => model.select(undefined)}
          onChanged={() => model.refresh()}
        />
      )}
    </div>
  );
}

function signalColumns(tempoUid: string, open: (id: string) => void): Array<Column<SignalRow>> {
  return [
    { id: 'time', header: 'Time', cell: ({ row }) => dateTimeFormat(row.original.time) },
    { id: 'severity', header: 'Severity', cell: ({ row }) => <SeverityBadge severity={row.original.severity} /> },
    { id: 'status', header: 'Status', cell: ({ row }) => <StatusBadge status={row.original.status} /> },
    {
      id: 'rule',
      header: 'Rule',
      cell: ({ row }) => (
        <TextLink href={ruleUrl(row.original.ruleId)} inline={false} data-testid={testIds.signals.ruleLink}>
          {row.original.rule}
        </TextLink>
      ),
    },
    { id: 'service', header: 'Service' },
    { id: 'message', header: 'Message' },
    {
      id: 'traceId',
      header: 'Trace',
      cell: ({ row }) => (
        <TraceLink
          traceId={row.original.traceId}
          spanId={row.original.spanId}
          at={row.original.time}
          tempoUid={tempoUid}
        />
      ),
    },
    {
      id: 'id',
      header: '',
      cell: ({ row }) => (
        <IconButton
          name="history"
          tooltip="Details, history and status"
          onClick={() => open(row.original.id)}
          data-testid={testIds.signals.openDetails}
        />
      ),
    },
  ];
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({ width: '100%' }),
  summary: css({ marginBottom: theme.spacing(1) }),
  footer: css({ display: 'flex', justifyContent: 'space-between', alignItems: 'center', gap: theme.spacing(2) }),
});
