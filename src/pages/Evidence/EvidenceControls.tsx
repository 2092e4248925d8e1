import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, LoadingState, type GrafanaTheme2 } from '@grafana/data';
import {
  sceneGraph,
  SceneObjectBase,
  SceneQueryRunner,
  type SceneComponentProps,
  type SceneObjectState,
} from '@grafana/scenes';
import {
  Alert,
  Badge,
  EmptyState,
  InteractiveTable,
  LoadingPlaceholder,
  Stack,
  Text,
  TextLink,
  useStyles2,
  type Column,
} from '@grafana/ui';
import { listEvidence, type EvidenceFilters, type EvidencePage } from '../../api/evidence';
import {
  controlKey,
  controlSummaries,
  verificationByControl,
  type ControlSummary,
  type VerificationCounts,
} from '../../builders/evidenceFrames';
import { DEFAULT_TEMPO_UID, exploreTraceUrl, rangeAround, ruleUrl } from '../../builders/exploreUrl';
import type { EvidenceSelection } from '../../builders/traceql';
import { testIds } from '../../components/testIds';
import { ExportButtons } from './ExportButtons';
import { EVIDENCE_SPAN_LIMIT, evidenceSpansTempoQuery } from './queries';

/** The sidecar reads back at most this many records per page for the per-control verification. */
export const VERIFY_LIMIT = 1000;

type Verification = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; page: EvidencePage };

export interface EvidenceControlsState extends SceneObjectState {
  selection: EvidenceSelection;
  verification: Verification;
}

/**
 * Per control: pass/fail records, traces checked and failed, the evaluating rules and sample
 * traces (from Tempo's evidence spans), and the sidecar's verdict on the signed records.
 */
export class EvidenceControls extends SceneObjectBase<EvidenceControlsState> {
  constructor(state: Pick<EvidenceControlsState, 'selection'> & Partial<EvidenceControlsState>) {
    super({
      verification: { state: 'loading' },
      $data: new SceneQueryRunner({
        datasource: evidenceSpansTempoQuery(state.selection).datasource,
        queries: [evidenceSpansTempoQuery(state.selection)],
      }),
      ...state,
    });
    this.addActivationHandler(() => {
      this.verify();
      const sub = sceneGraph.getTimeRange(this).subscribeToState(() => this.verify());
      return () => sub.unsubscribe();
    });
  }

  /** The sidecar's filters for the selection and the page's time range. */
  filters(): EvidenceFilters {
    const range = sceneGraph.getTimeRange(this).state.value;
    return { ...this.state.selection, from: range.from.valueOf(), to: range.to.valueOf() };
  }

  verify(): void {
    this.setState({ verification: { state: 'loading' } });
    listEvidence(this.filters(), { limit: VERIFY_LIMIT, offset: 0 }).then(
      (page) => this.setState({ verification: { state: 'done', page } }),
      (e: Error) => this.setState({ verification: { state: 'error', message: e.message } })
    );
  }

  static Component = EvidenceControlsRenderer;
}

function EvidenceControlsRenderer({ model }: SceneComponentProps<EvidenceControls>) {
  const { verification } = model.useState();
  const { data } = sceneGraph.getData(model).useState();
  const styles = useStyles2(getStyles);
  const interpolated = sceneGraph.interpolate(model, '${tempo}');
  const tempoUid = interpolated && !interpolated.startsWith('$') ? interpolated : DEFAULT_TEMPO_UID;
  const summaries = useMemo(() => controlSummaries(data?.series ?? []), [data?.series]);
  const verified = useMemo(
    () => (verification.state === 'done' ? verificationByControl(verification.page.records) : undefined),
    [verification]
  );
  const columns = useMemo(() => controlColumns(tempoUid, verified), [tempoUid, verified]);

  let body: React.ReactNode;
  const failure = data?.errors?.[0]?.message;
  if (!data || data.state === LoadingState.Loading || data.state === LoadingState.NotStarted) {
    body = <LoadingPlaceholder text="Querying evidence spans in Tempo…" data-testid={testIds.evidence.loading} />;
  } else if (data.state === LoadingState.Error || failure) {
    body = (
      <Alert title="Tempo did not answer the evidence query" severity="error" data-testid={testIds.evidence.error}>
        {failure ?? 'Unknown error'}
      </Alert>
    );
  } else if (summaries.length === 0) {
    body = (
      <div data-testid={testIds.evidence.empty}>
        <EmptyState variant="not-found" message="No evidence in this range">
          No rule with a compliance mapping for this framework and control was evaluated in the time range.
        </EmptyState>
      </div>
    );
  } else {
    const records = summaries.reduce((n, s) => n + s.records, 0);
    body = (
      <div data-testid={testIds.evidence.controls}>
        <InteractiveTable columns={columns} data={summaries} getRowId={(s) => controlKey(s.framework, s.control)} />
        {records >= EVIDENCE_SPAN_LIMIT && (
          <Text color="secondary" italic>
            {`Counted from the ${records} newest evidence records Tempo returned (it returns at most ${EVIDENCE_SPAN_LIMIT}); narrow the range or pick a control for exact counts.`}
          </Text>
        )}
      </div>
    );
  }
  return (
    <div className={styles.container} data-testid={testIds.evidence.container}>
      <Stack direction="row" justifyContent="space-between" alignItems="flex-start" wrap="wrap">
        <VerificationSummary verification={verification} />
        <ExportButtons filters={() => model.filters()} />
      </Stack>
      {body}
    </div>
  );
}

function VerificationSummary({ verification }: { verification: Verification }) {
  if (verification.state === 'loading') {
    return <LoadingPlaceholder text="Verifying signed records…" />;
  }
  if (verification.state === 'error') {
    return (
      <Alert title="Could not verify the records" severity="warning" data-testid={testIds.evidence.verification}>
        {verification.message}
      </Alert>
    );
  }
  const { records, verified, altered, missing, reordered } = verification.page.summary;
  const problems = altered + missing + reordered;
  if (records === 0) {
    return (
      <Text color="secondary" data-testid={testIds.evidence.verification}>
        No signed records in this range.
      </Text>
    );
  }
  return (
    <Alert
      title={
        problems === 0
          ? `All ${records} signed records verified`
          : `${problems} of ${records} signed records failed verification`
      }
      severity={problems === 0 ? 'success' : 'error'}
      data-testid={testIds.evidence.verification}
    >
      {problems === 0
        ? 'Every signature matches and the chain has no gap and no reordering.'
        : `${verified} verified, ${altered} altered, ${missing} missing, ${reordered} reordered. The export lists each record with its result.`}
    </Alert>
  );
}

function VerificationBadge({ counts }: { counts?: VerificationCounts }) {
  if (!counts) {
    return <Text color="secondary">–</Text>;
  }
  const bad = counts.altered + counts.missing + counts.reordered;
  if (bad === 0) {
    return <Badge color="green" icon="check" text={`${counts.verified} verified`} />;
  }
  const parts = (['altered', 'missing', 'reordered'] as const)
    .filter((k) => counts[k] > 0)
    .map((k) => `${counts[k]} ${k}`);
  return <Badge color="red" icon="exclamation-triangle" text={parts.join(', ')} />;
}

function controlColumns(
  tempoUid: string,
  verified: Map<string, VerificationCounts> | undefined
): Array<Column<ControlSummary>> {
  return [
    { id: 'control', header: 'Control', cell: ({ row }) => <Text weight="medium">{row.original.control}</Text> },
    { id: 'framework', header: 'Framework' },
    { id: 'pass', header: 'Pass', cell: ({ row }) => <Badge color="green" text={String(row.original.pass)} /> },
    {
      id: 'fail',
      header: 'Fail',
      cell: ({ row }) => <Badge color={row.original.fail > 0 ? 'red' : 'darkgrey'} text={String(row.original.fail)} />,
    },
    { id: 'checkedTraces', header: 'Traces checked' },
    { id: 'failedTraces', header: 'Traces failed' },
    {
      id: 'rules',
      header: 'Evaluating rules',
      cell: ({ row }) => (
        <Stack gap={1} wrap="wrap">
          {row.original.rules.map((r) => (
            <TextLink key={r} href={ruleUrl(r)} inline={false}>
              {r}
            </TextLink>
          ))}
        </Stack>
      ),
    },
    {
      id: 'sampleTraceIds',
      header: 'Sample traces',
      cell: ({ row }) => (
        <Stack gap={1} wrap="wrap">
          {row.original.sampleTraceIds.map((id) => (
            <TextLink
              key={id}
              href={exploreTraceUrl({
                datasourceUid: tempoUid,
                traceId: id,
                range: row.original.lastSeen ? rangeAround(row.original.lastSeen, 24 * 3600 * 1000) : undefined,
              })}
              inline={false}
              data-testid={testIds.evidence.sampleLink}
            >
              {id.slice(0, 8)}
            </TextLink>
          ))}
        </Stack>
      ),
    },
    {
      id: 'lastSeen',
      header: 'Last record',
      cell: ({ row }) => (row.original.lastSeen ? dateTimeFormat(row.original.lastSeen) : '–'),
    },
    {
      id: 'verification',
      header: 'Signed records',
      cell: ({ row }) => (
        <VerificationBadge counts={verified?.get(controlKey(row.original.framework, row.original.control))} />
      ),
    },
  ];
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2), width: '100%' }),
});
