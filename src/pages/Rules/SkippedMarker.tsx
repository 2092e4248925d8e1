import React from 'react';
import { dateTimeFormat } from '@grafana/data';
import { Alert, Badge, TextLink } from '@grafana/ui';
import type { RuleSkipView } from '../../api/rules';
import { exploreTraceUrl, rangeAround } from '../../builders/exploreUrl';
import { SKIP_REASONS, skippedSummary, wasSkipped } from './skipped';

/** `2026-11-28 10:00:05 (time budget)`: when and why the latest skip was. */
function latestSkip(skipped: RuleSkipView): string {
  const reason = skipped.lastReason ? ` (${SKIP_REASONS[skipped.lastReason] ?? skipped.lastReason})` : '';
  return `${dateTimeFormat(skipped.lastSkippedAt!)}${reason}`;
}

/** The rules list's marker of a rule that was not evaluated on some traces; the tooltip says which last. */
export function SkippedBadge({ skipped, testId }: { skipped?: RuleSkipView; testId?: string }) {
  if (!wasSkipped(skipped)) {
    return null;
  }
  const tooltip = (
    <div>
      <div>{skippedSummary(skipped)}</div>
      {skipped.lastSkippedAt && (
        <div>
          Latest: {latestSkip(skipped)}, trace {skipped.lastTraceId}
        </div>
      )}
    </div>
  );
  return (
    <Badge data-testid={testId} color="orange" icon="exclamation-triangle" text="not evaluated" tooltip={tooltip} />
  );
}

/** The latest skipped trace in Explore; its id as text when it is not one Explore can open. */
function TraceLink({ traceId, at, tempoUid }: { traceId: string; at: string; tempoUid: string }) {
  let href: string;
  try {
    href = exploreTraceUrl({ datasourceUid: tempoUid, traceId, range: rangeAround(Date.parse(at)) });
  } catch {
    return <code>{traceId}</code>;
  }
  return (
    <TextLink href={href} inline>
      {traceId}
    </TextLink>
  );
}

/** The rule editor's marker: how often, why, and the latest trace, linked to Explore. */
export function SkippedAlert({
  skipped,
  tempoUid,
  testId,
}: {
  skipped?: RuleSkipView;
  tempoUid: string;
  testId?: string;
}) {
  if (!wasSkipped(skipped)) {
    return null;
  }
  return (
    <Alert severity="warning" title={skippedSummary(skipped)} data-testid={testId}>
      The evaluation budget (or an error) stopped the rule before it decided: those traces count neither as a pass nor
      as a signal.
      {skipped.lastSkippedAt && skipped.lastTraceId && (
        <>
          {' '}
          Latest: {latestSkip(skipped)}, trace{' '}
          <TraceLink traceId={skipped.lastTraceId} at={skipped.lastSkippedAt} tempoUid={tempoUid} />.
        </>
      )}
    </Alert>
  );
}
