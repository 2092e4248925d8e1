/**
 * A rule's objective against what it did: compliance over the SLO window, the error budget left,
 * burn rates and the alert state, from the rule health store's hourly buckets. The store has an
 * hour's resolution, so a window reaching back past the current hour takes the whole hours it
 * covers and the oldest hour prorated by its overlap; a window inside the current hour (5 m, and
 * 30 m in the second half of an hour) is the current hour so far. Prometheus, with its samples
 * every scrape, answers the short windows more finely; with a steady burn both agree.
 */
import { formatWindow, type RuleSlo } from '@betrace/evaluator';
import { HEALTH_BUCKET_MS, type RuleHealthStore } from '../health/store';
import { alertFires, BURN_ALERTS, BURN_WINDOWS, type BurnSeverity } from './alerts';

const WINDOW_MS: Record<(typeof BURN_WINDOWS)[number], number> = { '5m': 300_000, '30m': 1_800_000, '1h': 3_600_000, '6h': 21_600_000 };

export interface BurnRate {
  window: string;
  /** Violations / triggered over the window; null without triggers. */
  errorRatio: number | null;
  /** The error ratio over the error budget (1 = spending the budget exactly over the SLO window); null without triggers. */
  burnRate: number | null;
  /** What the window was computed from: `current-hour` or `hours` (whole hours, the oldest prorated). */
  resolution: 'current-hour' | 'hours';
}

export interface SloStatus {
  ruleId: string;
  objective: number;
  windowMs: number;
  /** The window as a rule file writes it (`30d`). */
  window: string;
  triggered: number;
  violations: number;
  /** 1 − violations / triggered over the SLO window; null without triggers. */
  compliance: number | null;
  errorBudget: number;
  /** 1 − (violations / triggered) / errorBudget: 1 untouched, 0 spent, negative overspent. */
  budgetRemaining: number;
  burnRates: BurnRate[];
  alerts: Record<BurnSeverity, boolean>;
  /** The most severe alert firing, or ok. */
  state: BurnSeverity | 'ok';
}

const hourOf = (t: number) => Math.floor(t / HEALTH_BUCKET_MS) * HEALTH_BUCKET_MS;

/** Triggers and violations over [now − ms, now] from hourly buckets (see the module comment). */
function windowCounts(health: RuleHealthStore, tenant: string, ruleId: string, now: number, ms: number): { triggered: number; violations: number; resolution: BurnRate['resolution'] } {
  const current = hourOf(now);
  const from = now - ms;
  if (from >= current) {
    const t = health.totals(tenant, ruleId, current, current + HEALTH_BUCKET_MS);
    return { triggered: t.triggered, violations: t.violations, resolution: 'current-hour' };
  }
  const oldest = hourOf(from);
  const whole = health.totals(tenant, ruleId, oldest + HEALTH_BUCKET_MS, current + HEALTH_BUCKET_MS);
  const edge = health.totals(tenant, ruleId, oldest, oldest + HEALTH_BUCKET_MS);
  const share = (oldest + HEALTH_BUCKET_MS - from) / HEALTH_BUCKET_MS;
  return { triggered: whole.triggered + edge.triggered * share, violations: whole.violations + edge.violations * share, resolution: 'hours' };
}

export function sloStatus(health: RuleHealthStore, tenant: string, ruleId: string, slo: RuleSlo, now: number): SloStatus {
  const errorBudget = 1 - slo.objective;
  // The SLO window: its hours up to and including the current one.
  const current = hourOf(now);
  const totals = health.totals(tenant, ruleId, current + HEALTH_BUCKET_MS - slo.windowMs, current + HEALTH_BUCKET_MS);
  const ratio = totals.triggered > 0 ? totals.violations / totals.triggered : null;
  const ratios = new Map<string, number | null>();
  const burnRates = BURN_WINDOWS.map((window): BurnRate => {
    const c = windowCounts(health, tenant, ruleId, now, WINDOW_MS[window]);
    const errorRatio = c.triggered > 0 ? c.violations / c.triggered : null;
    ratios.set(window, errorRatio);
    return { window, errorRatio, burnRate: errorRatio === null ? null : errorRatio / errorBudget, resolution: c.resolution };
  });
  const alerts = Object.fromEntries(BURN_ALERTS.map((a) => [a.severity, alertFires(a, slo, (w) => ratios.get(w) ?? null)])) as Record<BurnSeverity, boolean>;
  return {
    ruleId,
    objective: slo.objective,
    windowMs: slo.windowMs,
    window: formatWindow(slo.windowMs),
    triggered: totals.triggered,
    violations: totals.violations,
    compliance: ratio === null ? null : 1 - ratio,
    errorBudget,
    budgetRemaining: ratio === null ? 1 : 1 - ratio / errorBudget,
    burnRates,
    alerts,
    state: alerts.page ? 'page' : alerts.ticket ? 'ticket' : 'ok',
  };
}
