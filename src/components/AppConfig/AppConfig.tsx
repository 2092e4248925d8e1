import React, { useState, type ChangeEvent, type SyntheticEvent } from 'react';
import { css } from '@emotion/css';
import type { AppPluginMeta, GrafanaTheme2, PluginConfigPageProps } from '@grafana/data';
import { DataSourcePicker } from '@grafana/runtime';
import { Alert, Button, Field, FieldSet, Input, SecretInput, Stack, useStyles2 } from '@grafana/ui';
import { explainConnectionError, normalizeSidecarUrl, sidecarUrlProblem, testConnection, type ConnectionResult } from './connection';
import { saveSettings, type BetraceJsonData, type SettingsUpdate } from './settings';
import { appConfigTestIds as ids } from './testIds';

export interface AppConfigProps extends PluginConfigPageProps<AppPluginMeta<BetraceJsonData>> {}

type Busy = 'idle' | 'saving' | 'testing';

const AppConfig = ({ plugin }: AppConfigProps) => {
  const styles = useStyles2(getStyles);
  const { meta } = plugin;
  const [sidecarUrl, setSidecarUrl] = useState(meta.jsonData?.sidecarUrl ?? '');
  const [urlTouched, setUrlTouched] = useState(false);
  const [token, setToken] = useState('');
  // The token itself never comes back from Grafana; `secureJsonFields` only says whether one is stored.
  const [tokenConfigured, setTokenConfigured] = useState(Boolean(meta.secureJsonFields?.sidecarToken));
  const [tempoUid, setTempoUid] = useState(meta.jsonData?.tempoDatasourceUid ?? '');
  // What Grafana holds now: the test goes through the proxy, which uses the saved settings.
  const [saved, setSaved] = useState({ url: meta.jsonData?.sidecarUrl ?? '', tokenStored: Boolean(meta.secureJsonFields?.sidecarToken) });
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState<Busy>('idle');
  const [result, setResult] = useState<ConnectionResult | undefined>();

  const url = normalizeSidecarUrl(sidecarUrl);
  const urlProblem = sidecarUrlProblem(url);
  const tokenMissing = !tokenConfigured && token === '';
  const canTest = busy === 'idle' && saved.url !== '' && saved.tokenStored && !dirty;

  const change = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    setDirty(true);
    setResult(undefined);
  };

  const runTest = async (against: string) => {
    setBusy('testing');
    setResult(await testConnection(against));
    setBusy('idle');
  };

  const onSave = async (event: SyntheticEvent<HTMLFormElement>) => {
    // A native submit would navigate away before the request is sent.
    event.preventDefault();
    if (urlProblem || tokenMissing) {
      setUrlTouched(true);
      return;
    }
    const jsonData: BetraceJsonData = { ...meta.jsonData, sidecarUrl: url, tempoDatasourceUid: tempoUid || undefined };
    const update: SettingsUpdate = {
      enabled: meta.enabled ?? false,
      pinned: meta.pinned ?? false,
      jsonData,
      secureJsonData: token === '' ? undefined : { sidecarToken: token },
    };
    setBusy('saving');
    try {
      await saveSettings(meta.id, update);
    } catch (e) {
      const err = e as { status?: number; data?: { message?: string }; message?: string };
      setResult({ ok: false, title: 'Settings not saved', detail: err.data?.message ?? err.message ?? String(e) });
      setBusy('idle');
      return;
    }
    setSaved({ url, tokenStored: true });
    setTokenConfigured(true);
    setToken('');
    setDirty(false);
    if (!meta.enabled) {
      setResult(explainConnectionError(404, 'the app is disabled', url));
      setBusy('idle');
      return;
    }
    await runTest(url);
  };

  return (
    <form onSubmit={onSave} data-testid={ids.container} className={styles.form}>
      {!meta.enabled && (
        <Alert severity="info" title="The app is disabled">
          Enable BeTrace with the Enable button at the top of this page; its pages and the sidecar proxy work only while it is enabled.
        </Alert>
      )}
      <FieldSet label="Sidecar">
        <Field
          label="Sidecar URL"
          description="Where the Grafana server reaches the BeTrace sidecar's API (port 3001 by default). Browsers never call it directly: every call goes through Grafana's plugin proxy."
          invalid={urlTouched && urlProblem !== undefined}
          error={urlTouched ? urlProblem : undefined}
        >
          <Input
            id="sidecar-url"
            width={60}
            data-testid={ids.sidecarUrl}
            value={sidecarUrl}
            placeholder="http://betrace-sidecar:3001"
            onChange={(e: ChangeEvent<HTMLInputElement>) => change(setSidecarUrl)(e.currentTarget.value)}
            onBlur={() => setUrlTouched(true)}
          />
        </Field>
        <Field
          label="API token"
          description="The sidecar's BETRACE_API_TOKEN. Grafana stores it encrypted and adds it to every proxied call; it is never shown again."
          invalid={urlTouched && tokenMissing}
          error={urlTouched && tokenMissing ? 'Enter the sidecar’s API token' : undefined}
        >
          <SecretInput
            id="sidecar-token"
            width={60}
            data-testid={ids.sidecarToken}
            value={token}
            isConfigured={tokenConfigured}
            placeholder="The sidecar's BETRACE_API_TOKEN"
            onChange={(e: ChangeEvent<HTMLInputElement>) => change(setToken)(e.currentTarget.value.trim())}
            onReset={() => {
              setTokenConfigured(false);
              change(setToken)('');
            }}
          />
        </Field>
      </FieldSet>
      <FieldSet label="Traces">
        <Field
          label="Tempo data source"
          htmlFor="tempo-datasource"
          description="The Tempo data source holding your traces: the Evidence page queries it with TraceQL, and signals link to their traces through it in Explore."
        >
          <div data-testid={ids.tempoDatasource}>
            <DataSourcePicker
              inputId="tempo-datasource"
              width={60}
              type="tempo"
              noDefault
              current={tempoUid || null}
              onChange={(ds) => change(setTempoUid)(ds.uid)}
              onClear={() => change(setTempoUid)('')}
            />
          </div>
        </Field>
      </FieldSet>
      <Stack gap={1}>
        <Button type="submit" data-testid={ids.save} disabled={busy !== 'idle'} icon={busy === 'saving' ? 'spinner' : undefined}>
          Save &amp; test
        </Button>
        <Button
          type="button"
          variant="secondary"
          data-testid={ids.test}
          disabled={!canTest}
          icon={busy === 'testing' ? 'spinner' : undefined}
          onClick={() => runTest(saved.url)}
        >
          Test connection
        </Button>
      </Stack>
      {dirty && <p className={styles.hint}>The test goes through Grafana with the saved settings: save first.</p>}
      {result && (
        <div className={styles.result} data-testid={ids.result}>
          <Alert severity={result.ok ? (result.warning ? 'warning' : 'success') : 'error'} title={result.title}>
            {result.detail}
          </Alert>
        </div>
      )}
    </form>
  );
};

export default AppConfig;

const getStyles = (theme: GrafanaTheme2) => ({
  form: css({
    marginTop: theme.spacing(3),
    maxWidth: theme.breakpoints.values.md,
  }),
  hint: css({
    marginTop: theme.spacing(1),
    color: theme.colors.text.secondary,
  }),
  result: css({
    marginTop: theme.spacing(2),
  }),
});
