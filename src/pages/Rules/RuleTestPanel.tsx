import React, { useState } from 'react';
import { css, cx } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import {
  Alert,
  Badge,
  Button,
  Field,
  Input,
  RadioButtonGroup,
  Stack,
  Text,
  TextArea,
  TextLink,
  useStyles2,
} from '@grafana/ui';
import type { ClauseExplanation, Explanation, Trace } from '@betrace/evaluator';
import { exploreTraceUrl, rangeAround } from '../../builders/exploreUrl';
import type { SuggestionTraces } from './adopt';
import type { RuleDraft } from './draft';
import { explainDraft, fetchTempoTrace, parsePastedTraces, spanRows } from './testRun';
import { rulesTestIds } from './testIds';

type Source = 'traceId' | 'otlp' | 'suggestion';

interface Run {
  traces: Trace[];
  explanations: Explanation[];
  /** Per trace, when the traces are a suggestion's: whether it violated the suggestion when mined. */
  violating?: boolean[];
}

/**
 * "Test": the draft over one trace from Tempo or pasted OTLP/JSON, evaluated in the browser; when
 * the draft is a discovery suggestion being adopted, also over the traces it was mined from.
 */
export function RuleTestPanel({
  draft,
  tempoUid,
  suggestionTraces,
  initialTraceId,
}: {
  draft: RuleDraft;
  tempoUid: string;
  suggestionTraces?: SuggestionTraces;
  /** The trace the draft came from (a rule drafted in Explore): the trace id field starts with it. */
  initialTraceId?: string;
}) {
  const [source, setSource] = useState<Source>(suggestionTraces ? 'suggestion' : 'traceId');
  const [traceId, setTraceId] = useState(initialTraceId ?? '');
  const [otlp, setOtlp] = useState('');
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string>();
  const [run, setRun] = useState<Run>();

  const start = async () => {
    setRunning(true);
    setError(undefined);
    setRun(undefined);
    try {
      if (source === 'suggestion') {
        const loaded = suggestionTraces?.traces ?? [];
        const traces = loaded.map((t) => t.trace);
        setRun({ traces, explanations: explainDraft(draft, traces), violating: loaded.map((t) => t.violating) });
        return;
      }
      const traces = source === 'traceId' ? [await fetchTempoTrace(tempoUid, traceId)] : parsePastedTraces(otlp);
      setRun({ traces, explanations: explainDraft(draft, traces) });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(false);
    }
  };

  return (
    <Stack direction="column" gap={2}>
      <RadioButtonGroup<Source>
        options={[
          ...(suggestionTraces ? [{ label: 'Suggestion’s traces', value: 'suggestion' as const }] : []),
          { label: 'Trace id (Tempo)', value: 'traceId' },
          { label: 'Paste OTLP/JSON', value: 'otlp' },
        ]}
        value={source}
        onChange={setSource}
      />
      {source === 'suggestion' && suggestionTraces ? (
        <SuggestionTracesNote traces={suggestionTraces} />
      ) : source === 'traceId' ? (
        <Field label="Trace id" description="Fetched through the Tempo datasource">
          <Input
            data-testid={rulesTestIds.test.traceId}
            value={traceId}
            placeholder="5b8efff798038103d269b633813fc700"
            onChange={(e) => setTraceId(e.currentTarget.value)}
          />
        </Field>
      ) : (
        <Field label="OTLP/JSON" description="An export request ({ resourceSpans: [...] }) or one per line">
          <TextArea
            data-testid={rulesTestIds.test.otlp}
            rows={8}
            value={otlp}
            onChange={(e) => setOtlp(e.currentTarget.value)}
          />
        </Field>
      )}
      <div>
        <Button
          data-testid={rulesTestIds.test.run}
          icon="play"
          disabled={
            running ||
            (source === 'suggestion'
              ? !suggestionTraces || suggestionTraces.loading || suggestionTraces.traces.length === 0
              : source === 'traceId'
                ? traceId.trim() === ''
                : otlp.trim() === '')
          }
          onClick={start}
        >
          {running ? 'Testing…' : 'Test'}
        </Button>
      </div>
      {error && (
        <Alert severity="error" title="The test could not run" data-testid={rulesTestIds.test.error}>
          {error}
        </Alert>
      )}
      {run && (
        <div data-testid={rulesTestIds.test.result}>
          {run.explanations.map((x, i) => (
            <TraceResult
              key={x.traceId}
              explanation={x}
              trace={run.traces[i]}
              tempoUid={tempoUid}
              mined={run.violating === undefined ? undefined : run.violating[i] ? 'violating' : 'example'}
            />
          ))}
        </div>
      )}
    </Stack>
  );
}

/** What the suggestion's traces are, before they run: how many, and the ones the sidecar could not give. */
function SuggestionTracesNote({ traces }: { traces: SuggestionTraces }) {
  const violating = traces.traces.filter((t) => t.violating).length;
  return (
    <div data-testid={rulesTestIds.test.suggestionTraces}>
      {traces.loading ? (
        <Text color="secondary">Fetching the suggestion’s traces from the sidecar…</Text>
      ) : (
        <Text>
          {`${traces.traces.length - violating} example ${traces.traces.length - violating === 1 ? 'trace' : 'traces'} it held in and ${violating} violating ${violating === 1 ? 'trace' : 'traces'}, from the sidecar: Test runs the rule on all of them.`}
        </Text>
      )}
      {traces.problems.length > 0 && (
        <Alert severity="warning" title="Some traces could not be fetched">
          {traces.problems.map((p) => (
            <div key={p}>{p}</div>
          ))}
        </Alert>
      )}
    </div>
  );
}

function TraceResult({
  explanation,
  trace,
  tempoUid,
  mined,
}: {
  explanation: Explanation;
  trace: Trace;
  tempoUid: string;
  /** A suggestion's trace: an example it held in, or one that violated it when mined. */
  mined?: 'example' | 'violating';
}) {
  const styles = useStyles2(getStyles);
  const rows = spanRows(trace, explanation);
  return (
    <Stack direction="column" gap={1}>
      {mined && (
        <div>
          <Badge
            color={mined === 'violating' ? 'orange' : 'green'}
            text={mined === 'violating' ? 'violated the suggestion when mined' : 'example the suggestion held in'}
          />
        </div>
      )}
      <Alert
        severity={explanation.fired ? 'warning' : 'success'}
        title={
          explanation.fired
            ? `The rule fires on trace ${explanation.traceId}`
            : `The rule does not fire on trace ${explanation.traceId}`
        }
      >
        {explanation.violations.map((v, i) => (
          <div key={i}>{v.message}</div>
        ))}
        <TextLink
          href={exploreTraceUrl({
            datasourceUid: tempoUid,
            traceId: explanation.traceId,
            range: trace.spans.length > 0 ? rangeAround(Number(trace.startNs) / 1e6) : undefined,
          })}
        >
          Open the trace in Explore
        </TextLink>
      </Alert>
      <Text element="h5">Why</Text>
      <ClauseTree clauses={explanation.clauses} />
      {(explanation.bindings ?? []).map((b) => (
        <div key={b.spanId}>
          <Text element="h6">
            Bound to {b.spanName} ({b.spanId}): {b.fired ? 'fires' : 'holds'}
          </Text>
          <ClauseTree clauses={b.clauses} />
        </div>
      ))}
      <Text element="h5">Spans</Text>
      <ul className={styles.spans} aria-label="Spans">
        {rows.map((r) => (
          <li
            key={r.spanId}
            data-testid={rulesTestIds.test.span(r.spanId)}
            data-matched={r.matched}
            className={cx(styles.span, r.matched && styles.matched)}
            style={{ paddingLeft: `${r.depth * 16 + 8}px` }}
          >
            {r.name}{' '}
            <Text color="secondary">
              {r.service} · {r.durationMs.toFixed(2)} ms · {r.spanId}
            </Text>{' '}
            {r.matched && <Badge color="orange" text="matched" />}
          </li>
        ))}
      </ul>
    </Stack>
  );
}

function ClauseTree({ clauses }: { clauses: ClauseExplanation[] }) {
  return (
    <ul>
      {clauses.map((c, i) => (
        <li key={i}>
          <Badge color={c.held ? 'green' : 'red'} text={c.held ? 'holds' : 'fails'} /> <code>{c.text}</code>{' '}
          <Text color="secondary">({c.kind})</Text>
          {c.value !== undefined && <Text color="secondary"> = {c.value}</Text>}
          {c.children && c.children.length > 0 && <ClauseTree clauses={c.children} />}
        </li>
      ))}
    </ul>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  spans: css({
    listStyle: 'none',
    margin: 0,
    padding: 0,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
  }),
  span: css({ padding: theme.spacing(0.5, 1), borderBottom: `1px solid ${theme.colors.border.weak}` }),
  matched: css({ background: theme.colors.warning.transparent, borderLeft: `3px solid ${theme.colors.warning.main}` }),
});
