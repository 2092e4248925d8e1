import React, { useEffect, useState } from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, type GrafanaTheme2 } from '@grafana/data';
import {
  Alert,
  Button,
  Drawer,
  Field,
  LoadingPlaceholder,
  RadioButtonGroup,
  Stack,
  Text,
  TextArea,
  TextLink,
  useStyles2,
} from '@grafana/ui';
import {
  changeSignalStatus,
  getSignal,
  STATUS_LABELS,
  STATUS_TRANSITIONS,
  type SignalStatus,
  type SignalWithChanges,
} from '../../api/signals';
import { exploreTraceUrl, rangeAround, ruleUrl } from '../../builders/exploreUrl';
import { testIds } from '../../components/testIds';
import { ACTIONS, can } from '../../utils/permissions';
import { SeverityBadge, StatusBadge } from './badges';

interface Props {
  signalId: string;
  tempoUid: string;
  onClose: () => void;
  /** After a status change, so the list shows it. */
  onChanged: () => void;
}

const toMs = (t: string) => Date.parse(t);

/** One signal: its trace and rule, its status history (who, when, why), and the status form. */
export function SignalDetails({ signalId, tempoUid, onClose, onChanged }: Props) {
  const styles = useStyles2(getStyles);
  const [signal, setSignal] = useState<SignalWithChanges>();
  const [loadError, setLoadError] = useState<string>();

  // Bumped after a status change, to read the signal and its history again.
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let current = true;
    getSignal(signalId).then(
      (s) => {
        if (current) {
          setSignal(s);
          setLoadError(undefined);
        }
      },
      (e: Error) => current && setLoadError(e.message)
    );
    return () => {
      current = false;
    };
  }, [signalId, version]);

  return (
    <Drawer title="Signal" subtitle={signal?.ruleName} onClose={onClose} size="md">
      <div data-testid={testIds.signals.details}>
        {loadError && (
          <Alert title="Could not load the signal" severity="error">
            {loadError}
          </Alert>
        )}
        {!signal && !loadError && <LoadingPlaceholder text="Loading signal…" />}
        {signal && (
          <Stack direction="column" gap={2}>
            <Stack gap={1} alignItems="center">
              <SeverityBadge severity={signal.severity} />
              <StatusBadge status={signal.status} />
              <Text color="secondary">{dateTimeFormat(toMs(signal.createdAt))}</Text>
            </Stack>
            <Text element="p">{signal.message}</Text>
            <Stack gap={2}>
              <TraceLink
                traceId={signal.traceId}
                spanId={signal.boundSpanId}
                at={toMs(signal.createdAt)}
                tempoUid={tempoUid}
              />
              <TextLink href={ruleUrl(signal.ruleId)} data-testid={testIds.signals.ruleLink}>
                {`Rule ${signal.ruleName} (v${signal.ruleVersion})`}
              </TextLink>
            </Stack>
            <StatusForm
              signal={signal}
              onSaved={() => {
                setVersion((v) => v + 1);
                onChanged();
              }}
            />
            <div className={styles.history} data-testid={testIds.signals.history}>
              <Text element="h4">History</Text>
              {signal.changes.length === 0 ? (
                <Text color="secondary">No status changes yet.</Text>
              ) : (
                <ol className={styles.list}>
                  {signal.changes.map((c, i) => (
                    <li key={i}>
                      <Text weight="medium">{`${STATUS_LABELS[c.from]} → ${STATUS_LABELS[c.to]}`}</Text>{' '}
                      <Text color="secondary">{`by ${c.who}, ${dateTimeFormat(toMs(c.at))}`}</Text>
                      {c.note && <div className={styles.note}>{c.note}</div>}
                    </li>
                  ))}
                </ol>
              )}
            </div>
          </Stack>
        )}
      </div>
    </Drawer>
  );
}

export function TraceLink({
  traceId,
  spanId,
  at,
  tempoUid,
}: {
  traceId: string;
  spanId?: string;
  at: number;
  tempoUid: string;
}) {
  let href: string;
  try {
    href = exploreTraceUrl({ datasourceUid: tempoUid, traceId, spanId: spanId || undefined, range: rangeAround(at) });
  } catch {
    return <Text color="secondary">{traceId}</Text>;
  }
  return (
    <TextLink href={href} data-testid={testIds.signals.traceLink} icon="gf-traces">
      {`Trace ${traceId.slice(0, 12)}…`}
    </TextLink>
  );
}

function StatusForm({ signal, onSaved }: { signal: SignalWithChanges; onSaved: () => void }) {
  const [to, setTo] = useState<SignalStatus>();
  const [note, setNote] = useState('');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();

  if (!can(ACTIONS.signalsWrite)) {
    return (
      <Text color="secondary" data-testid={testIds.signals.readOnly}>
        Changing a signal’s status needs the BeTrace “signals:write” permission.
      </Text>
    );
  }
  const options = STATUS_TRANSITIONS[signal.status].map((s) => ({ label: STATUS_LABELS[s], value: s }));
  const save = async () => {
    if (!to) {
      return;
    }
    setSaving(true);
    setError(undefined);
    try {
      await changeSignalStatus(signal.id, to, note.trim());
      setTo(undefined);
      setNote('');
      onSaved();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Stack direction="column" gap={1}>
      <Field label="Change status" noMargin>
        <RadioButtonGroup options={options} value={to} onChange={setTo} />
      </Field>
      <Field label="Note" description="Why: recorded with your name and the time" noMargin>
        <TextArea
          value={note}
          onChange={(e) => setNote(e.currentTarget.value)}
          rows={3}
          maxLength={2000}
          data-testid={testIds.signals.note}
        />
      </Field>
      {error && (
        <Alert title="The status was not changed" severity="error">
          {error}
        </Alert>
      )}
      <div>
        <Button
          onClick={save}
          disabled={!to || saving}
          icon={saving ? 'spinner' : undefined}
          data-testid={testIds.signals.saveStatus}
        >
          {to ? `Mark ${STATUS_LABELS[to].toLowerCase()}` : 'Choose a status'}
        </Button>
      </div>
    </Stack>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  history: css({ borderTop: `1px solid ${theme.colors.border.weak}`, paddingTop: theme.spacing(2) }),
  list: css({
    listStyle: 'none',
    margin: 0,
    padding: 0,
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(1),
  }),
  note: css({ color: theme.colors.text.secondary, whiteSpace: 'pre-wrap', marginTop: theme.spacing(0.5) }),
});
