import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import { dateTimeFormatTimeAgo, type GrafanaTheme2, type SelectableValue } from '@grafana/data';
import {
  SceneComponentProps,
  SceneObjectBase,
  SceneObjectState,
  SceneObjectUrlSyncConfig,
  SceneObjectUrlValues,
  sceneGraph,
} from '@grafana/scenes';
import {
  Badge,
  type BadgeColor,
  Column,
  FilterInput,
  InteractiveTable,
  LinkButton,
  RadioButtonGroup,
  Stack,
  TagList,
  TextLink,
  Tooltip,
  useStyles2,
} from '@grafana/ui';
import { SEVERITIES, type Severity } from '@betrace/evaluator';
import { listRuleHealth, type RuleHealthSummary } from '../../api/health';
import { listRules, ruleSignalCounts, type RuleSignalCount, type RuleView } from '../../api/rules';
import { ACTIONS, can } from '../../utils/permissions';
import { newRuleUrl, ruleUrl } from '../../builders/exploreUrl';
import { formatCost, formatFireRate, formatRatio } from './healthFormat';
import { complianceLabel, filterRules, type RuleStateFilter } from './ruleFilters';
import { SkippedBadge } from './SkippedMarker';
import { EmptyRules, ErrorState, LoadingState } from './States';
import { rulesTestIds } from './testIds';

/** Signals per rule in the chosen range: the count and the newest signal's time (none when 0). */
export interface RuleSignalSummary {
  total: number;
  lastAt?: string;
}

export interface RulesListState extends SceneObjectState {
  rules?: RuleView[];
  loading: boolean;
  error?: string;
  summaries: Record<string, RuleSignalSummary | null>;
  /** Each rule's health in the range; null when the sidecar did not answer (an older sidecar, or an error). */
  health: Record<string, RuleHealthSummary | null>;
  search: string;
  severity: Severity | '';
  ruleState: RuleStateFilter;
}

export const SEVERITY_COLORS: Record<Severity, BadgeColor> = {
  info: 'blue',
  low: 'green',
  medium: 'orange',
  high: 'red',
  critical: 'red',
};

export class RulesList extends SceneObjectBase<RulesListState> {
  protected _urlSync = new SceneObjectUrlSyncConfig(this, { keys: ['search', 'severity', 'state'] });

  constructor(state: Partial<RulesListState> = {}) {
    super({ loading: true, summaries: {}, health: {}, search: '', severity: '', ruleState: 'all', ...state });
    this.addActivationHandler(() => {
      this.load();
      const sub = sceneGraph.getTimeRange(this).subscribeToState(() => this.load());
      return () => sub.unsubscribe();
    });
  }

  getUrlState() {
    return {
      search: this.state.search || undefined,
      severity: this.state.severity || undefined,
      state: this.state.ruleState === 'all' ? undefined : this.state.ruleState,
    };
  }

  updateFromUrl(values: SceneObjectUrlValues) {
    const one = (v: SceneObjectUrlValues[string]) => (Array.isArray(v) ? v[0] : v) ?? '';
    const severity = one(values.severity);
    const state = one(values.state);
    this.setState({
      search: one(values.search),
      severity: (SEVERITIES as readonly string[]).includes(severity) ? (severity as Severity) : '',
      ruleState: ['enabled', 'disabled', 'provisioned'].includes(state) ? (state as RuleStateFilter) : 'all',
    });
  }

  async load() {
    this.setState({ loading: true, error: undefined });
    try {
      const rules = await listRules();
      this.setState({ rules, loading: false });
      await this.loadSummaries();
    } catch (e) {
      this.setState({ loading: false, error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** One request for every rule's counts, however many rules there are. */
  async loadSummaries() {
    const rules = this.state.rules ?? [];
    const { from, to } = sceneGraph.getTimeRange(this).state.value;
    let counts: Map<string, RuleSignalCount> | undefined;
    let health: Map<string, RuleHealthSummary> | undefined;
    const [signalCounts, healths] = await Promise.allSettled([ruleSignalCounts(from.valueOf(), to.valueOf()), listRuleHealth(from.valueOf(), to.valueOf())]);
    // No signals:read, or an API failed (an older sidecar has no health route): the columns say they do not know.
    if (signalCounts.status === 'fulfilled') {
      counts = new Map(signalCounts.value.map((c) => [c.ruleId, c]));
    }
    if (healths.status === 'fulfilled') {
      health = new Map(healths.value.map((h) => [h.ruleId, h]));
    }
    const summary = (id: string): RuleSignalSummary | null => {
      if (counts === undefined) {
        return null;
      }
      const c = counts.get(id);
      return c === undefined ? { total: 0 } : { total: c.total, lastAt: c.lastAt };
    };
    this.setState({
      summaries: Object.fromEntries(rules.map((r) => [r.id, summary(r.id)])),
      health: Object.fromEntries(rules.map((r) => [r.id, health?.get(r.id) ?? null])),
    });
  }

  static Component = RulesListRenderer;
}

const STATE_OPTIONS: Array<SelectableValue<RuleStateFilter>> = [
  { label: 'All', value: 'all' },
  { label: 'Enabled', value: 'enabled' },
  { label: 'Disabled', value: 'disabled' },
  { label: 'Provisioned', value: 'provisioned' },
];
const SEVERITY_OPTIONS: Array<SelectableValue<Severity | ''>> = [
  { label: 'Any severity', value: '' },
  ...SEVERITIES.map((s) => ({ label: s, value: s })),
];

function RulesListRenderer({ model }: SceneComponentProps<RulesList>) {
  const { rules, loading, error, summaries, health, search, severity, ruleState } = model.useState();
  const styles = useStyles2(getStyles);
  const shown = useMemo(
    () => filterRules(rules ?? [], { search, severity, state: ruleState }),
    [rules, search, severity, ruleState]
  );
  const columns = useMemo(() => buildColumns(summaries, health), [summaries, health]);
  const filtered = search !== '' || severity !== '' || ruleState !== 'all';

  return (
    <div data-testid={rulesTestIds.list.container} className={styles.container}>
      <Stack gap={1} alignItems="center" wrap="wrap">
        <div className={styles.search}>
          <FilterInput
            data-testid={rulesTestIds.list.search}
            placeholder="Search by name, id or compliance control"
            value={search}
            onChange={(v) => model.setState({ search: v })}
          />
        </div>
        <div data-testid={rulesTestIds.list.severityFilter}>
          <RadioButtonGroup<Severity | ''>
            size="sm"
            options={SEVERITY_OPTIONS}
            value={severity}
            onChange={(v) => model.setState({ severity: v })}
          />
        </div>
        <div data-testid={rulesTestIds.list.stateFilter}>
          <RadioButtonGroup<RuleStateFilter>
            size="sm"
            options={STATE_OPTIONS}
            value={ruleState}
            onChange={(v) => model.setState({ ruleState: v })}
          />
        </div>
        {can(ACTIONS.rulesWrite) && (
          <LinkButton data-testid={rulesTestIds.list.newRule} icon="plus" href={newRuleUrl()}>
            New rule
          </LinkButton>
        )}
      </Stack>
      {loading && <LoadingState text="Loading rules…" testId={rulesTestIds.list.loading} />}
      {!loading && error && (
        <ErrorState title="Could not load the rules from the sidecar" error={error} testId={rulesTestIds.list.error} />
      )}
      {!loading && !error && shown.length === 0 && <EmptyRules filtered={filtered} testId={rulesTestIds.list.empty} />}
      {!loading && !error && shown.length > 0 && (
        <div data-testid={rulesTestIds.list.table}>
          <InteractiveTable columns={columns} data={shown} getRowId={(r) => r.id} pageSize={50} />
        </div>
      )}
    </div>
  );
}

/** A health column: the value the rule's health gives, an em dash without one. */
function healthColumn(id: string, header: string, health: Record<string, RuleHealthSummary | null>, text: (h: RuleHealthSummary) => string): Column<RuleView> {
  return {
    id,
    header,
    cell: ({ row: { original: r } }) => {
      const h = health[r.id];
      return <span data-testid={rulesTestIds.list.health(r.id, id)}>{h === undefined || h === null ? '—' : text(h)}</span>;
    },
  };
}

/** The noisy-rule hint: a badge whose tooltip gives the reason. */
function NoisyBadge({ rule, health }: { rule: string; health: RuleHealthSummary | null | undefined }) {
  if (!health?.noisy) {
    return null;
  }
  return (
    <Tooltip content={health.noisy.reason}>
      <span data-testid={rulesTestIds.list.noisy(rule)}>
        <Badge color="orange" icon="exclamation-triangle" text="noisy" />
      </span>
    </Tooltip>
  );
}

function buildColumns(summaries: Record<string, RuleSignalSummary | null>, health: Record<string, RuleHealthSummary | null>): Array<Column<RuleView>> {
  return [
    {
      id: 'name',
      header: 'Name',
      sortType: 'string',
      cell: ({ row: { original: r } }) => (
        <span data-testid={rulesTestIds.list.row(r.id)}>
          <TextLink href={ruleUrl(r.id)} inline={false}>
            {r.name}
          </TextLink>{' '}
          {r.provisioned && (
            <Badge color="purple" icon="lock" text="provisioned" tooltip="From a rule file: read-only here" />
          )}{' '}
          <SkippedBadge skipped={r.skipped} testId={rulesTestIds.list.skipped(r.id)} />{' '}
          <NoisyBadge rule={r.id} health={health[r.id]} />
        </span>
      ),
    },
    {
      id: 'severity',
      header: 'Severity',
      cell: ({ row: { original: r } }) => <Badge color={SEVERITY_COLORS[r.severity]} text={r.severity} />,
    },
    {
      id: 'enabled',
      header: 'State',
      cell: ({ row: { original: r } }) =>
        r.enabled ? <Badge color="green" text="enabled" /> : <Badge color="darkgrey" text="disabled" />,
    },
    {
      id: 'compliance',
      header: 'Compliance',
      cell: ({ row: { original: r } }) =>
        (r.compliance ?? []).length > 0 ? <TagList tags={(r.compliance ?? []).map(complianceLabel)} /> : null,
    },
    {
      id: 'lastSignal',
      header: 'Last signal',
      cell: ({ row: { original: r } }) => {
        const s = summaries[r.id];
        return s === undefined || s === null ? '—' : s.lastAt ? dateTimeFormatTimeAgo(s.lastAt) : 'none in range';
      },
    },
    {
      id: 'signals',
      header: 'Signals in range',
      cell: ({ row: { original: r } }) => {
        const s = summaries[r.id];
        return s === undefined || s === null ? '—' : String(s.total);
      },
    },
    healthColumn('fireRate', 'Fire rate', health, (h) => formatFireRate(h.fireRatePerHour)),
    healthColumn('complianceRatio', 'Compliance ratio', health, (h) => formatRatio(h.complianceRatio)),
    healthColumn('falsePositives', 'False positives', health, (h) => formatRatio(h.falsePositiveRate)),
    healthColumn('cost', 'Cost / trace', health, (h) => formatCost(h.costUsPerTrace, h.costShare)),
  ];
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2), width: '100%' }),
  search: css({ flex: '1 1 320px', maxWidth: 480 }),
});
