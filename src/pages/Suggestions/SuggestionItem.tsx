import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Alert, Badge, Button, LinkButton, Stack, Text, TextLink, useStyles2 } from '@grafana/ui';
import type { DiscoveryJob, DiscoveryProblem, JobSuggestion } from '../../api/discover';
import { adoptSuggestionUrl, exploreTraceUrl, ruleUrl } from '../../builders/exploreUrl';
import { isAlmostInvariant, shortTraceId, suggestionStats } from './format';
import { suggestionsTestIds as ids } from './testIds';

interface Props {
  rank: number;
  job: DiscoveryJob;
  suggestion: JobSuggestion;
  /** The job's range (epoch ms): Explore searches the traces within it. */
  range: { from: number; to: number };
  tempoUid: string;
  writable: boolean;
  pending: boolean;
  problem?: DiscoveryProblem;
  onDismiss: () => void;
}

/** One ranked suggestion: what it says, how strongly it held, its traces, and Adopt / Dismiss. */
export function SuggestionItem({
  rank,
  job,
  suggestion: s,
  range,
  tempoUid,
  writable,
  pending,
  problem,
  onDismiss,
}: Props) {
  const styles = useStyles2(getStyles);
  const almost = isAlmostInvariant(s);
  return (
    <li className={styles.item} data-testid={ids.suggestion(s.id)} aria-label={`Suggestion ${rank}: ${s.title}`}>
      <Stack gap={1} alignItems="center" wrap="wrap">
        <Text element="span" weight="bold">
          #{rank}
        </Text>
        <Badge color="blue" text={s.kind} />
        <Text element="h4">{s.title}</Text>
        {almost && (
          <span data-testid={ids.almost}>
            <Badge
              color="orange"
              icon="exclamation-triangle"
              text="almost invariant"
              tooltip="It failed on some of the traces it was mined from: those traces are often the incidents"
            />
          </span>
        )}
        {s.state === 'dismissed' && <Badge color="darkgrey" text="dismissed" />}
      </Stack>
      <pre className={styles.condition} data-testid={ids.condition} aria-label="Rule text">
        {s.condition}
      </pre>
      <Text color="secondary" data-testid={ids.stats}>
        {suggestionStats(s)}
      </Text>
      <HeldBar support={s.support} violations={s.violations} />
      <TraceLinks
        label="Example traces"
        testId={ids.examples}
        traceIds={s.exampleTraceIds}
        range={range}
        tempoUid={tempoUid}
      />
      {s.violatingTraceIds.length > 0 && (
        <TraceLinks
          label="Violating traces"
          testId={ids.violating}
          traceIds={s.violatingTraceIds}
          range={range}
          tempoUid={tempoUid}
        />
      )}
      {problem && (
        <Alert severity="error" title={problem.title} data-testid={ids.actionError}>
          {problem.message}
        </Alert>
      )}
      {s.state === 'adopted' && (
        <Text data-testid={ids.adopted}>
          Adopted
          {s.adoptedRuleId !== undefined && (
            <>
              {' as '}
              <TextLink href={ruleUrl(s.adoptedRuleId)} inline>
                {s.adoptedRuleId}
              </TextLink>
            </>
          )}
        </Text>
      )}
      {writable && s.state === 'new' && (
        <Stack gap={1}>
          <LinkButton
            data-testid={ids.adopt}
            icon="plus"
            size="sm"
            href={adoptSuggestionUrl(job.id, s.id)}
            tooltip="Opens the rule editor with this suggestion, to test and save it as a rule"
          >
            Adopt
          </LinkButton>
          <Button
            data-testid={ids.dismiss}
            icon="times"
            size="sm"
            variant="secondary"
            disabled={pending}
            onClick={onDismiss}
          >
            {pending ? 'Dismissing…' : 'Dismiss'}
          </Button>
        </Stack>
      )}
    </li>
  );
}

/** How often the invariant held where its trigger did (green) against its violations (red). */
function HeldBar({ support, violations }: { support: number; violations: number }) {
  const styles = useStyles2(getStyles);
  const held = Math.max(0, support - violations);
  const heldPct = support > 0 ? (held / support) * 100 : 0;
  const label = `held in ${held} of ${support} traces, violated in ${violations}`;
  return (
    <div className={styles.bar} role="img" aria-label={label} title={label} data-testid={ids.bar}>
      <div className={styles.held} style={{ width: `${heldPct}%` }} />
      {violations > 0 && <div className={styles.violated} style={{ width: `max(2px, ${100 - heldPct}%)` }} />}
    </div>
  );
}

function TraceLinks(props: {
  label: string;
  testId: string;
  traceIds: string[];
  range: { from: number; to: number };
  tempoUid: string;
}) {
  if (props.traceIds.length === 0) {
    return null;
  }
  return (
    <Stack gap={1} wrap="wrap" alignItems="center">
      <Text color="secondary">{props.label}:</Text>
      <span data-testid={props.testId}>
        <Stack gap={1} wrap="wrap">
          {props.traceIds.map((id) => (
            <TraceLink key={id} traceId={id} range={props.range} tempoUid={props.tempoUid} />
          ))}
        </Stack>
      </span>
    </Stack>
  );
}

function TraceLink({
  traceId,
  range,
  tempoUid,
}: {
  traceId: string;
  range: { from: number; to: number };
  tempoUid: string;
}) {
  let href: string | undefined;
  try {
    href = exploreTraceUrl({ datasourceUid: tempoUid, traceId, range });
  } catch {
    // Not a hex trace id: shown as text, never as a broken link.
  }
  return href === undefined ? (
    <code>{traceId}</code>
  ) : (
    <TextLink href={href} title={`Open trace ${traceId} in Explore`} inline={false}>
      {shortTraceId(traceId)}
    </TextLink>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  item: css({
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(1),
    padding: theme.spacing(2),
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    background: theme.colors.background.primary,
  }),
  condition: css({
    fontFamily: theme.typography.fontFamilyMonospace,
    fontSize: theme.typography.bodySmall.fontSize,
    margin: 0,
    padding: theme.spacing(1),
    whiteSpace: 'pre-wrap',
    overflowWrap: 'anywhere',
    background: theme.colors.background.secondary,
    borderRadius: theme.shape.radius.default,
  }),
  bar: css({
    display: 'flex',
    width: '100%',
    maxWidth: 320,
    height: theme.spacing(1),
    borderRadius: theme.shape.radius.default,
    overflow: 'hidden',
    background: theme.colors.background.secondary,
  }),
  held: css({ background: theme.colors.success.main }),
  violated: css({ background: theme.colors.error.main }),
});
