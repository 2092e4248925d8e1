import React, { useEffect, useState } from 'react';
import { dateTimeFormat, getDefaultTimeRange, type TimeRange } from '@grafana/data';
import { Alert, Button, Field, LoadingBar, Stack, Text, TextLink, TimeRangeInput } from '@grafana/ui';
import { cancelReplay, getReplay, startReplay, type ReplayJob } from '../../api/rules';
import { exploreTraceUrl } from '../../builders/exploreUrl';
import { ACTIONS, can } from '../../utils/permissions';
import { toInput, type RuleDraft } from './draft';
import { rulesTestIds } from './testIds';

const FINISHED = new Set(['done', 'failed', 'cancelled']);

/** Progress of a job as one line. */
export function replayProgress(job: ReplayJob): string {
  const pct = job.windowsTotal > 0 ? Math.floor((job.windowsDone / job.windowsTotal) * 100) : 0;
  return `${job.status}: ${job.windowsDone}/${job.windowsTotal} windows (${pct}%), ${job.tracesFetched} traces fetched, ${job.violationsFound} violations`;
}

/**
 * "Replay": the sidecar replays the draft (a dry run: no signals are created) over a past range
 * in Tempo; progress is polled until the job finishes, and it can be cancelled. The proxy route
 * needs rules:write, so a user without it sees why instead of a 403.
 */
export function ReplayPanel({
  draft,
  valid,
  tempoUid,
  pollMs = 1000,
}: {
  draft: RuleDraft;
  valid: boolean;
  tempoUid: string;
  pollMs?: number;
}) {
  const [range, setRange] = useState<TimeRange>(() => getDefaultTimeRange());
  const [job, setJob] = useState<ReplayJob>();
  const [error, setError] = useState<string>();
  const running = job !== undefined && !FINISHED.has(job.status);
  const allowed = can(ACTIONS.rulesWrite);

  useEffect(() => {
    if (!job || FINISHED.has(job.status)) {
      return;
    }
    let stopped = false;
    const timer = setTimeout(async () => {
      try {
        const next = await getReplay(job.id);
        if (!stopped) {
          // A poll answered after a cancel must not bring the job back to life on screen.
          setJob((current) => (current && current.id === next.id && FINISHED.has(current.status) ? current : next));
        }
      } catch (e) {
        if (!stopped) {
          setError(e instanceof Error ? e.message : String(e));
        }
      }
    }, pollMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [job, pollMs]);

  const start = async () => {
    setError(undefined);
    setJob(undefined);
    const { note: _note, ...rule } = toInput(
      { ...draft, id: draft.id.trim() || 'unsaved', name: draft.name.trim() || 'unsaved rule' },
      ''
    );
    try {
      setJob(await startReplay({ rule, from: range.from.valueOf(), to: range.to.valueOf(), dryRun: true }));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const cancel = async () => {
    if (job) {
      try {
        setJob(await cancelReplay(job.id));
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    }
  };

  return (
    <Stack direction="column" gap={2}>
      <Text color="secondary">
        A dry run over traces already in Tempo: it lists the violations the rule would have raised and creates no
        signals.
      </Text>
      <Stack gap={1} alignItems="flex-end">
        <Field label="Range" noMargin>
          <div data-testid={rulesTestIds.replay.range}>
            <TimeRangeInput value={range} onChange={setRange} disabled={running} />
          </div>
        </Field>
        {running ? (
          <Button data-testid={rulesTestIds.replay.cancel} variant="destructive" icon="times" onClick={cancel}>
            Cancel
          </Button>
        ) : (
          <Button
            data-testid={rulesTestIds.replay.start}
            icon="history"
            disabled={!valid || !allowed}
            onClick={start}
            tooltip={replayTooltip(valid, allowed)}
          >
            Replay
          </Button>
        )}
      </Stack>
      {!allowed && (
        <Text color="secondary" data-testid={rulesTestIds.replay.notAllowed}>
          {`Replaying needs the ${ACTIONS.rulesWrite} permission.`}
        </Text>
      )}
      {error && (
        <Alert severity="error" title="Replay failed" data-testid={rulesTestIds.replay.error}>
          {error}
        </Alert>
      )}
      {job && (
        <div data-testid={rulesTestIds.replay.progress}>
          {running && <LoadingBar width={400} />}
          <Text data-testid={rulesTestIds.replay.status}>{replayProgress(job)}</Text>
          {job.error && (
            <Alert severity="error" title="The replay stopped">
              {job.error}
            </Alert>
          )}
        </div>
      )}
      {job && job.violations.length > 0 && (
        <ul data-testid={rulesTestIds.replay.violations} aria-label="Violations">
          {job.violations.map((v, i) => (
            <li key={`${v.traceId}-${v.boundSpanId ?? ''}-${i}`}>
              {v.message} —{' '}
              <TextLink
                href={exploreTraceUrl({
                  datasourceUid: tempoUid,
                  traceId: v.traceId,
                  spanId: v.boundSpanId,
                  range: { from: job.from, to: job.to },
                })}
              >
                trace {v.traceId}
              </TextLink>
            </li>
          ))}
        </ul>
      )}
      {job && job.status === 'done' && job.violations.length === 0 && (
        <Text>
          No violations in {dateTimeFormat(job.from)} – {dateTimeFormat(job.to)}.
        </Text>
      )}
    </Stack>
  );
}

function replayTooltip(valid: boolean, allowed: boolean): string | undefined {
  if (!allowed) {
    return `Replaying needs the ${ACTIONS.rulesWrite} permission`;
  }
  return valid ? undefined : 'Fix the rule’s errors first';
}
