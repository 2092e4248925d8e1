import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, type GrafanaTheme2 } from '@grafana/data';
import { sceneGraph, SceneObjectBase, type SceneComponentProps, type SceneObjectState } from '@grafana/scenes';
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
  controlRows,
  passRateText,
  verificationByControl,
  type ControlSummary,
  type VerificationCounts,
} from '../../builders/evidenceFrames';
import { DEFAULT_TEMPO_UID, exploreTraceUrl, rangeAround, ruleUrl } from '../../builders/exploreUrl';
import type { EvidenceSelection } from '../../builders/traceql';
import { testIds } from '../../components/testIds';
import { ExportButtons } from './ExportButtons';

/** The records the sidecar returns per page: the rules, samples and signature checks per control come from them. */
export const RECORDS_LIMIT = 1000;

type Evidence = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; page: EvidencePage };

export interface EvidenceControlsState extends SceneObjectState {
  selection: EvidenceSelection;
  evidence: Evidence;
}

/**
 * Per control, from the sidecar: traces checked (those the rules applied to: their trigger held)
 * and failed, the pass rate, the signed records by outcome (counted over the whole range), the
 * evaluating rules, sample traces, and its verdict on the signed records.
 * Links open the traces and evidence spans in Tempo.
 */
export class EvidenceControls extends SceneObjectBase<EvidenceControlsState> {
  constructor(state: Pick<EvidenceControlsState, 'selection'> & Partial<EvidenceControlsState>) {
    super({ evidence: { state: 'loading' }, ...state });
    this.addActivationHandler(() => {
      this.load();
      const sub = sceneGraph.getTimeRange(this).subscribeToState(() => this.load());
      return () => sub.unsubscribe();
    });
  }

  /** The sidecar's filters for the selection and the page's time range. */
  filters(): EvidenceFilters {
    const range = sceneGraph.getTimeRange(this).state.value;
    return { ...this.state.selection, from: range.from.valueOf(), to: range.to.valueOf() };
  }

  load(): void {
    this.setState({ evidence: { state: 'loading' } });
    listEvidence(this.filters(), { limit: RECORDS_LIMIT, offset: 0 }).then(
      (page) => this.setState({ evidence: { state: 'done', page } }),
      (e: Error) => this.setState({ evidence: { state: 'error', message: e.message } })
    );
  }

  static Component = EvidenceControlsRenderer;
}

function EvidenceControlsRenderer({ model }: SceneComponentProps<EvidenceControls>) {
  const { evidence } = model.useState();
  const styles = useStyles2(getStyles);
  const interpolated = sceneGraph.interpolate(model, '${tempo}');
  const tempoUid = interpolated && !interpolated.startsWith('$') ? interpolated : DEFAULT_TEMPO_UID;
  const page = evidence.state === 'done' ? evidence.page : undefined;
  const rows = useMemo(() => (page ? controlRows(page) : []), [page]);
  const verified = useMemo(() => (page ? verificationByControl(page.records) : undefined), [page]);
  const columns = useMemo(() => controlColumns(tempoUid, verified), [tempoUid, verified]);

  let body: React.ReactNode;
  if (evidence.state === 'loading') {
    body = <LoadingPlaceholder text="Reading the evidence records…" data-testid={testIds.evidence.loading} />;
  } else if (evidence.state === 'error') {
    body = (
      <Alert
        title="The sidecar did not answer the evidence query"
        severity="error"
        data-testid={testIds.evidence.error}
      >
        {evidence.message}
      </Alert>
    );
  } else if (rows.length === 0) {
    body = (
      <div data-testid={testIds.evidence.empty}>
        <EmptyState variant="not-found" message="No evidence in this range">
          No rule with a compliance mapping for this framework and control was evaluated in the time range.
        </EmptyState>
      </div>
    );
  } else {
    body = (
      <div data-testid={testIds.evidence.controls}>
        <InteractiveTable columns={columns} data={rows} getRowId={(s) => controlKey(s.framework, s.control)} />
        <Text color="secondary" data-testid={testIds.evidence.units}>
          Traces are counted once per window, and only where a rule applies (its trigger held: the when clause, or
          the spans an expression rule is about); other traces are neither passed nor failed. Records are the signed
          evidence records: one summary per rule and window, plus one per failing trace.
        </Text>
        {evidence.page.records.length < evidence.page.total && (
          <Text color="secondary" italic>
            {`The counts cover all ${evidence.page.total} records; the rules, sample traces and signature checks come from the first ${evidence.page.records.length}. Narrow the range or pick a control to see them all.`}
          </Text>
        )}
      </div>
    );
  }
  return (
    <div className={styles.container} data-testid={testIds.evidence.container}>
      <Stack direction="row" justifyContent="space-between" alignItems="flex-start" wrap="wrap">
        <VerificationSummary evidence={evidence} />
        <ExportButtons filters={() => model.filters()} />
      </Stack>
      {body}
    </div>
  );
}

function VerificationSummary({ evidence }: { evidence: Evidence }) {
  if (evidence.state !== 'done') {
    // The table says why it has no answer.
    return null;
  }
  const { records, verified, altered, missing, reordered, anchorProblems } = evidence.page.summary;
  const problems = altered + missing + reordered;
  if (anchorProblems !== null) {
    // The anchors are published outside the data folder: a chain cut or replaced inside it shows here.
    return (
      <Alert title="The chain does not match its published anchors" severity="error" data-testid={testIds.evidence.verification}>
        {anchorProblems}
      </Alert>
    );
  }
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
    { id: 'checkedTraces', header: 'Traces checked (trigger held)' },
    { id: 'failedTraces', header: 'Failed traces' },
    { id: 'passRate', header: 'Pass rate', cell: ({ row }) => passRateText(row.original.passRate) },
    {
      id: 'records',
      header: 'Records: pass / fail',
      cell: ({ row }) => (
        <Stack gap={0.5}>
          <Badge color="green" text={`${row.original.pass} pass`} />
          <Badge color={row.original.fail > 0 ? 'red' : 'darkgrey'} text={`${row.original.fail} fail`} />
        </Stack>
      ),
    },
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
      id: 'samples',
      header: 'Sample traces',
      cell: ({ row }) => (
        <Stack gap={1} wrap="wrap">
          {row.original.samples.map(({ traceId, range }) => (
            <TextLink
              key={traceId}
              href={exploreTraceUrl({ datasourceUid: tempoUid, traceId, range })}
              inline={false}
              data-testid={testIds.evidence.sampleLink}
            >
              {traceId.slice(0, 8)}
            </TextLink>
          ))}
        </Stack>
      ),
    },
    {
      id: 'lastRecord',
      header: 'Last record',
      cell: ({ row }) => {
        const last = row.original.lastRecord;
        if (!last) {
          return '–';
        }
        // The record's own span in Tempo: its signed attributes, next to the trace it speaks for.
        return (
          <TextLink
            href={exploreTraceUrl({ datasourceUid: tempoUid, ...last, range: rangeAround(last.at) })}
            inline={false}
            data-testid={testIds.evidence.recordLink}
          >
            {dateTimeFormat(last.at)}
          </TextLink>
        );
      },
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
