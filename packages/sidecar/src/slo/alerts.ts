/**
 * Multiwindow, multi-burn-rate alerts on a rule's objective, in the form of the Google SRE
 * workbook ("Alerting on SLOs"): page when the budget burns at a rate that would spend 2 % of a
 * 30-day budget in 1 h, confirmed over 5 m; ticket at 5 % in 6 h, confirmed over 30 m. Other
 * windows scale the thresholds so the budget fraction consumed stays the same. Pure builders: the
 * Prometheus rules file (`betrace slo rules`), the Grafana alert rules provisioned beside it, and
 * the alert state the API computes are all derived from `BURN_ALERTS`.
 */
import type { RuleSlo } from '@betrace/evaluator';

export type BurnSeverity = 'page' | 'ticket';

export interface BurnAlert {
  severity: BurnSeverity;
  /** The long window (how much budget has gone) and the short one (is it still going). */
  long: string;
  short: string;
  longMs: number;
  shortMs: number;
  /** The fraction of the whole budget that burning above the threshold for `long` consumes. */
  budgetConsumed: number;
}

export const BURN_ALERTS: readonly BurnAlert[] = [
  { severity: 'page', long: '1h', short: '5m', longMs: 3_600_000, shortMs: 300_000, budgetConsumed: 0.02 },
  { severity: 'ticket', long: '6h', short: '30m', longMs: 6 * 3_600_000, shortMs: 1_800_000, budgetConsumed: 0.05 },
];

/** The windows an error ratio is recorded over, shortest first. */
export const BURN_WINDOWS = ['5m', '30m', '1h', '6h'] as const;
export type BurnWindow = (typeof BURN_WINDOWS)[number];

/** The burn rate above which an alert fires: 14.4 (page) and 6 (ticket) for a 30-day window. */
export function burnThreshold(alert: BurnAlert, windowMs: number): number {
  return Number((alert.budgetConsumed * (windowMs / alert.longMs)).toPrecision(12));
}

/** The error budget as PromQL writes it (`(1 - 0.999)`), so the generated text reads as the objective. */
function budgetText(slo: RuleSlo): string {
  return `(1 - ${slo.objective})`;
}

/** A PromQL string literal (tenant and rule ids are restricted, but quoted properly all the same). */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function selector(tenant: string, ruleId: string): string {
  return `{tenant=${quote(tenant)},rule=${quote(ruleId)}}`;
}

/** The share of triggering traces that violated the rule over `window`, from the sidecar's counters. */
export function errorRatioExpr(tenant: string, ruleId: string, window: string): string {
  const s = selector(tenant, ruleId);
  return `sum(rate(betrace_rule_violations_total${s}[${window}])) / sum(rate(betrace_rule_triggered_total${s}[${window}]))`;
}

/** The name of the recorded error ratio over `window`. */
export function recordName(window: string): string {
  return `tenant_rule:betrace_rule_error_ratio:rate${window}`;
}

/** The comparison of one window's error ratio with an alert's threshold. */
function over(ratio: string, alert: BurnAlert, slo: RuleSlo): string {
  return `${ratio} > (${burnThreshold(alert, slo.windowMs)} * ${budgetText(slo)})`;
}

/** An alert's condition over the recorded ratios (the Prometheus rules file). */
export function alertExprRecorded(tenant: string, ruleId: string, slo: RuleSlo, alert: BurnAlert): string {
  const s = selector(tenant, ruleId);
  return `${over(recordName(alert.long) + s, alert, slo)} and ${over(recordName(alert.short) + s, alert, slo)}`;
}

/** An alert's condition over the raw counters (Grafana-managed rules, which cannot rely on recording rules). */
export function alertExprInline(tenant: string, ruleId: string, slo: RuleSlo, alert: BurnAlert): string {
  return `(${over(errorRatioExpr(tenant, ruleId, alert.long), alert, slo)}) and (${over(errorRatioExpr(tenant, ruleId, alert.short), alert, slo)})`;
}

/** Whether an alert fires on these error ratios: the generated expressions' comparison, in the same floating point. */
export function alertFires(alert: BurnAlert, slo: RuleSlo, ratio: (window: string) => number | null): boolean {
  const limit = burnThreshold(alert, slo.windowMs) * (1 - slo.objective);
  const long = ratio(alert.long);
  const short = ratio(alert.short);
  // A ratio without triggers (0 / 0) is NaN in PromQL: the comparison drops it, nothing fires.
  return long !== null && short !== null && long > limit && short > limit;
}

export interface SloRuleRef {
  tenant: string;
  ruleId: string;
  name: string;
  slo: RuleSlo;
}

const formatPercent = (x: number) => `${Number((x * 100).toPrecision(12))}%`;
const formatDays = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${ms / 3_600_000}h`);

function annotations(r: SloRuleRef, alert: BurnAlert): Record<string, string> {
  const threshold = burnThreshold(alert, r.slo.windowMs);
  return {
    summary: `BeTrace rule ${r.ruleId} (tenant ${r.tenant}) is burning its error budget ${alert.severity === 'page' ? 'fast' : 'steadily'}`,
    description:
      `${r.name}: the share of triggering traces that violate it has been above ${threshold}× the error budget of its ` +
      `${formatPercent(r.slo.objective)} objective over the last ${alert.long} and ${alert.short}; at this rate ` +
      `${formatPercent(alert.budgetConsumed)} of the ${formatDays(r.slo.windowMs)} budget goes in ${alert.long}.`,
    runbook_url: `/a/betrace-app/rules/${encodeURIComponent(r.ruleId)}`,
  };
}

/**
 * A Prometheus rules file (as a plain object, for a YAML writer): per rule, a group with the error
 * ratio recorded over each window and the page and ticket alerts over those recordings.
 */
export function prometheusRules(rules: readonly SloRuleRef[]): { groups: Array<Record<string, unknown>> } {
  return {
    groups: rules.map((r) => ({
      name: `betrace-slo:${r.tenant}:${r.ruleId}`,
      rules: [
        ...BURN_WINDOWS.map((w) => ({ record: recordName(w), expr: errorRatioExpr(r.tenant, r.ruleId, w), labels: { tenant: r.tenant, rule: r.ruleId } })),
        ...BURN_ALERTS.map((a) => ({
          alert: a.severity === 'page' ? 'BeTraceRuleErrorBudgetFastBurn' : 'BeTraceRuleErrorBudgetSlowBurn',
          expr: alertExprRecorded(r.tenant, r.ruleId, r.slo, a),
          labels: { severity: a.severity, source: 'betrace', tenant: r.tenant, rule: r.ruleId },
          annotations: annotations(r, a),
        })),
      ],
    })),
  };
}

/** Grafana's limit on an alert rule uid. */
const MAX_UID = 40;

/** A stable uid for a rule's alert within Grafana's 40 characters (a hash tail when the ids are long). */
export function grafanaAlertUid(r: SloRuleRef, alert: BurnAlert): string {
  const plain = `betrace-slo-${r.tenant === 'default' ? '' : `${r.tenant}-`}${r.ruleId}-${alert.severity}`;
  if (plain.length <= MAX_UID) {
    return plain;
  }
  let h = 0x811c9dc5; // FNV-1a: short, stable, no dependency
  for (const ch of plain) {
    h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  }
  const tail = `-${h.toString(16).padStart(8, '0')}-${alert.severity}`;
  return plain.slice(0, MAX_UID - tail.length) + tail;
}

/**
 * Grafana-managed alert rules (file provisioning format): query A is the alert's condition over
 * the raw counters (empty when it does not hold: no data is OK), C fires when A holds a value.
 */
export function grafanaAlertRules(rules: readonly SloRuleRef[], datasourceUid: string): Record<string, unknown> {
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: 'BeTrace SLOs',
        folder: 'BeTrace',
        interval: '1m',
        rules: rules.flatMap((r) =>
          BURN_ALERTS.map((a) => ({
            uid: grafanaAlertUid(r, a),
            title: `BeTrace SLO ${a.severity === 'page' ? 'fast' : 'slow'} burn: ${r.ruleId}${r.tenant === 'default' ? '' : ` (${r.tenant})`}`,
            condition: 'C',
            data: [
              {
                refId: 'A',
                relativeTimeRange: { from: a.longMs / 1000, to: 0 },
                datasourceUid,
                model: {
                  refId: 'A',
                  datasource: { type: 'prometheus', uid: datasourceUid },
                  expr: alertExprInline(r.tenant, r.ruleId, r.slo, a),
                  instant: true,
                  range: false,
                  intervalMs: 15000,
                  maxDataPoints: 43200,
                },
              },
              {
                refId: 'C',
                datasourceUid: '__expr__',
                model: {
                  refId: 'C',
                  type: 'threshold',
                  expression: 'A',
                  datasource: { type: '__expr__', uid: '__expr__' },
                  conditions: [{ evaluator: { type: 'gt', params: [0] } }],
                },
              },
            ],
            noDataState: 'OK',
            execErrState: 'Error',
            for: '0s',
            isPaused: false,
            labels: { severity: a.severity, source: 'betrace', tenant: r.tenant, rule: r.ruleId },
            annotations: annotations(r, a),
          })),
        ),
      },
    ],
  };
}
