import React, { useMemo } from 'react';
import { dateTimeFormat } from '@grafana/data';
import {
  Alert,
  Badge,
  type BadgeColor,
  Button,
  type Column,
  EmptyState,
  InteractiveTable,
  Stack,
  Text,
} from '@grafana/ui';
import type { DiscoveryJob, DiscoveryJobState } from '../../api/discover';
import { LoadingState } from '../Rules/States';
import { jobRange } from './format';
import type { SuggestionsView } from './SuggestionsView';
import { suggestionsTestIds as ids } from './testIds';

const STATE_COLORS: Record<DiscoveryJobState, BadgeColor> = {
  running: 'blue',
  done: 'green',
  failed: 'red',
  cancelled: 'darkgrey',
};

/** Past discoveries, newest first: open one, or delete it with its suggestions. */
export function JobList({ model }: { model: SuggestionsView }) {
  const { jobs, jobsLoading, jobsProblem, jobId } = model.useState();
  const writable = model.writable();
  const columns = useMemo(() => buildColumns(model, writable, jobId), [model, writable, jobId]);

  return (
    <Stack direction="column" gap={1}>
      <Text element="h3">Discoveries</Text>
      {jobsLoading && <LoadingState text="Loading the discoveries…" />}
      {jobsProblem && (
        <Alert severity="error" title={jobsProblem.title} data-testid={ids.jobsError}>
          {jobsProblem.message}
        </Alert>
      )}
      {!jobsLoading && !jobsProblem && jobs?.length === 0 && (
        <div data-testid={ids.noJobs}>
          <EmptyState variant="call-to-action" message="No discoveries yet">
            {writable
              ? 'Run discovery over a time range: BeTrace mines the traces for invariants and proposes them as rules.'
              : 'Someone with the rules:write permission can run discovery; its suggestions will be listed here.'}
          </EmptyState>
        </div>
      )}
      {jobs && jobs.length > 0 && (
        <div data-testid={ids.jobs}>
          <InteractiveTable columns={columns} data={jobs} getRowId={(j) => j.id} pageSize={20} />
        </div>
      )}
    </Stack>
  );
}

function buildColumns(model: SuggestionsView, writable: boolean, openId?: string): Array<Column<DiscoveryJob>> {
  return [
    {
      id: 'createdAt',
      header: 'Started',
      cell: ({ row: { original: j } }) => <span data-testid={ids.job(j.id)}>{dateTimeFormat(j.createdAt)}</span>,
    },
    { id: 'range', header: 'Range', cell: ({ row: { original: j } }) => jobRange(j) },
    { id: 'source', header: 'Traces from', cell: ({ row: { original: j } }) => j.source },
    {
      id: 'state',
      header: 'State',
      cell: ({ row: { original: j } }) => <Badge color={STATE_COLORS[j.state]} text={j.state} />,
    },
    {
      id: 'suggestionCount',
      header: 'Suggestions',
      cell: ({ row: { original: j } }) => (j.state === 'done' ? String(j.suggestionCount) : '—'),
    },
    { id: 'createdBy', header: 'By', cell: ({ row: { original: j } }) => j.createdBy },
    {
      id: 'actions',
      header: '',
      cell: ({ row: { original: j } }) => (
        <Stack gap={1}>
          <Button
            data-testid={ids.openJob(j.id)}
            size="sm"
            variant={j.id === openId ? 'primary' : 'secondary'}
            icon="eye"
            onClick={() => model.openJob(j.id)}
          >
            {j.id === openId ? 'Shown' : 'Open'}
          </Button>
          {writable && j.state !== 'running' && (
            <Button
              data-testid={ids.deleteJob(j.id)}
              size="sm"
              variant="destructive"
              fill="outline"
              icon="trash-alt"
              aria-label={`Delete discovery ${j.id}`}
              onClick={() => model.remove(j.id)}
            >
              Delete
            </Button>
          )}
        </Stack>
      ),
    },
  ];
}
