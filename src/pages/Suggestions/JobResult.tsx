import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Alert, Button, EmptyState, InlineSwitch, LoadingBar, Stack, Text, useStyles2 } from '@grafana/ui';
import { LoadingState } from '../Rules/States';
import { useTempoUid } from '../Rules/tempo';
import { jobRange, jobStatus, jobSummary } from './format';
import { SuggestionItem } from './SuggestionItem';
import type { SuggestionsView } from './SuggestionsView';
import { suggestionsTestIds as ids } from './testIds';

/** The open job: its progress (with Cancel) while it runs, then its ranked suggestions. */
export function JobResult({ model }: { model: SuggestionsView }) {
  const { job, jobId, jobLoading, showDismissed, pending, actionProblem } = model.useState();
  const styles = useStyles2(getStyles);
  const tempoUid = useTempoUid();
  const writable = model.writable();

  if (jobId === undefined) {
    return null;
  }
  if (!job) {
    return jobLoading ? <LoadingState text={`Loading discovery ${jobId}…`} /> : null;
  }
  const all = job.suggestions ?? [];
  const dismissed = all.filter((s) => s.state === 'dismissed').length;
  const shown = showDismissed ? all : all.filter((s) => s.state !== 'dismissed');
  const summary = jobSummary(job);
  const range = { from: Date.parse(job.from), to: Date.parse(job.to) };

  return (
    <div className={styles.result}>
      <Stack gap={1} alignItems="center" wrap="wrap">
        <Text element="h3">Discovery {job.id}</Text>
        <Text color="secondary">
          {jobRange(job)} · {job.source} · by {job.createdBy}
        </Text>
      </Stack>
      {job.state === 'running' ? (
        <div data-testid={ids.progress}>
          <LoadingBar width={400} />
          <Stack gap={1} alignItems="center">
            <Text data-testid={ids.jobState}>{jobStatus(job)}</Text>
            {writable && (
              <Button
                data-testid={ids.cancel}
                variant="destructive"
                size="sm"
                icon="times"
                onClick={() => model.cancel()}
              >
                Cancel
              </Button>
            )}
          </Stack>
        </div>
      ) : job.state === 'failed' ? (
        <Alert severity="error" title="The discovery failed" data-testid={ids.jobState}>
          {job.error ?? 'The sidecar gave no reason.'}
        </Alert>
      ) : (
        <Text data-testid={ids.jobState}>{jobStatus(job)}</Text>
      )}
      {summary && (
        <Text color="secondary" data-testid={ids.summary}>
          {summary}
        </Text>
      )}
      {job.state === 'done' && (
        <>
          {dismissed > 0 && (
            <div data-testid={ids.showDismissed}>
              <InlineSwitch
                showLabel
                label={`Show dismissed (${dismissed})`}
                value={showDismissed}
                onChange={(e) => model.setState({ showDismissed: e.currentTarget.checked })}
              />
            </div>
          )}
          {shown.length === 0 ? (
            <div data-testid={ids.empty}>
              <EmptyState variant="not-found" message="No suggestions">
                {all.length > 0
                  ? `All ${all.length} suggestions of this discovery are dismissed.`
                  : 'Nothing held often enough to propose: try a longer range, a lower minimum support or a lower minimum confidence.'}
              </EmptyState>
            </div>
          ) : (
            <ol className={styles.list} data-testid={ids.list} aria-label="Suggestions">
              {shown.map((s) => (
                <SuggestionItem
                  key={s.id}
                  rank={all.indexOf(s) + 1}
                  job={job}
                  suggestion={s}
                  range={range}
                  tempoUid={tempoUid}
                  writable={writable}
                  pending={pending.includes(s.id)}
                  problem={actionProblem?.suggestionId === s.id ? actionProblem.problem : undefined}
                  onDismiss={() => model.dismiss(s.id)}
                />
              ))}
            </ol>
          )}
        </>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  result: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  list: css({
    listStyle: 'none',
    margin: 0,
    padding: 0,
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(2),
  }),
});
