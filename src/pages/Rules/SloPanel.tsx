import React, { type JSX, useEffect, useState } from 'react';
import type { GrafanaTheme2 } from '@grafana/data';
import { Badge, type Column, InteractiveTable, Stack, Text, useStyles2 } from '@grafana/ui';
import { css } from '@emotion/css';
import { formatObjective } from '@betrace/evaluator';
import { getRuleSlo, type SloBurnRate, type SloStatus } from '../../api/slo';
import { ErrorState, LoadingState } from './States';
import { rulesTestIds } from './testIds';

const percent = (x: number) => `${Number((x * 100).toFixed(2))}%`;
const burn = (x: number | null) => (x === null ? 'no triggers' : `${Number(x.toFixed(2))}×`);

const STATE: Record<SloStatus['state'], { text: string; color: 'green' | 'orange' | 'red' }> = {
  ok: { text: 'Within budget', color: 'green' },
  ticket: { text: 'Ticket: slow burn', color: 'orange' },
  page: { text: 'Page: fast burn', color: 'red' },
};

/** What one window's burn rate was computed from (the sidecar keeps hourly buckets). */
const RESOLUTION: Record<SloStatus['burnRates'][number]['resolution'], string> = {
  'current-hour': 'the current hour so far',
  hours: 'whole hours, the oldest prorated',
};

const COLUMNS: Array<Column<SloBurnRate>> = [
  { id: 'window', header: 'Window' },
  { id: 'burnRate', header: 'Burn rate', cell: ({ row: { original: b } }) => burn(b.burnRate) },
  { id: 'resolution', header: 'From', cell: ({ row: { original: b } }) => RESOLUTION[b.resolution] },
];

/**
 * A rule's objective on its page: error budget remaining over the window, burn rates over the
 * alert windows, and the state the generated burn-rate alerts compute. Nothing when the rule has
 * no objective.
 */
export function SloPanel(props: { ruleId: string }): JSX.Element | null {
  const { ruleId } = props;
  const styles = useStyles2(getStyles);
  // The answer for which rule: another rule id (the editor moved on) is loading again.
  const [state, setState] = useState<{ ruleId?: string; slo?: SloStatus; error?: string }>({});
  useEffect(() => {
    let live = true;
    getRuleSlo(ruleId).then(
      (slo) => live && setState({ ruleId, slo }),
      (e: unknown) => live && setState({ ruleId, error: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [ruleId]);

  if (state.ruleId !== ruleId) {
    return <LoadingState text="Loading the objective" testId={rulesTestIds.slo.loading} />;
  }
  if (state.error !== undefined) {
    return <ErrorState title="The sidecar did not answer the objective" error={state.error} testId={rulesTestIds.slo.error} />;
  }
  const slo = state.slo;
  if (slo === undefined) {
    return null;
  }
  const badge = STATE[slo.state];
  return (
    <div data-testid={rulesTestIds.slo.panel} className={styles.panel}>
      <Stack direction="column" gap={1}>
        <Stack gap={2} alignItems="center">
          <Text element="h4">
            Objective {formatObjective(slo.objective)} over {slo.window}
          </Text>
          <span data-testid={rulesTestIds.slo.state}>
            <Badge text={badge.text} color={badge.color} />
          </span>
        </Stack>
        <Text data-testid={rulesTestIds.slo.budget}>
          Error budget remaining: <strong>{percent(slo.budgetRemaining)}</strong>
          {slo.compliance === null
            ? ' (no triggering traces in the window yet)'
            : ` (compliance ${percent(slo.compliance)}: ${slo.violations} of ${slo.triggered} triggering traces violated)`}
        </Text>
        <div data-testid={rulesTestIds.slo.burnRates}>
          <InteractiveTable columns={COLUMNS} data={slo.burnRates} getRowId={(b) => b.window} />
        </div>
      </Stack>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  panel: css({ padding: theme.spacing(1, 0) }),
});
