import type { Explanation, Violation } from '@betrace/evaluator';
import { sidecarFetch } from './client';
import type { components } from './generated/sidecar';

/**
 * The rule, replay and test answers of the sidecar's API, as its OpenAPI document states them
 * (src/api/generated/sidecar.ts, `npm run api:types`): aliases, never hand-written copies.
 */
type Schemas = components['schemas'];

/** A rule's evaluations not completed on a trace (the "not evaluated" marker). */
export type RuleSkipView = Schemas['RuleSkips'];
/** Why a rule was not evaluated on a trace. */
export type RuleSkipReason = NonNullable<RuleSkipView['lastReason']>;
/** A rule as the sidecar's API returns it; `skipped` is absent from sidecars older than the field. */
export type RuleView = Omit<Schemas['Rule'], 'skipped'> & { skipped?: RuleSkipView };
export type RuleVersionView = Schemas['RuleVersion'];
/**
 * What the editor sends: the definition's fields (without `version`) and the change note. The API
 * also takes a legacy severity `warning` and a missing `enabled`; the editor always sends both.
 */
export type RuleInput = Omit<Schemas['RuleInput'], 'severity' | 'enabled'> & { severity: RuleView['severity']; enabled: boolean };
/** The fields PATCH changes (null removes description, message or compliance). */
export type RulePatch = Schemas['RulePatch'];
/** A replay job; its times are epoch milliseconds. The document leaves violations loose: the evaluator's type. */
export type ReplayJob = Omit<Schemas['ReplayJob'], 'violations'> & { violations: Violation[] };
export type ReplayStatus = ReplayJob['status'];
/** The document leaves the explanations loose: the evaluator's type. */
export type RuleTestResult = Omit<Schemas['RuleTestResult'], 'results'> & { results: Explanation[] };
/** One rule's signals in a range (`GET /api/v1/signals/summary`): how many, and the newest's time (ISO 8601). */
export type RuleSignalCount = Schemas['RuleSignalCount'];

const path = (id: string) => `/api/v1/rules/${encodeURIComponent(id)}`;

export async function listRules(): Promise<RuleView[]> {
  return (await sidecarFetch<{ rules: RuleView[] }>('GET', '/api/v1/rules')).rules;
}

export function getRule(id: string): Promise<RuleView> {
  return sidecarFetch<RuleView>('GET', path(id));
}

export function createRule(rule: RuleInput): Promise<RuleView> {
  return sidecarFetch<RuleView>('POST', '/api/v1/rules', { data: rule });
}

/** Saves a new version of a rule, with the change note. */
export function updateRule(rule: RuleInput): Promise<RuleView> {
  return sidecarFetch<RuleView>('PUT', path(rule.id), { data: rule });
}

/** Changes some fields of a rule (enable, disable, rename …) as a new version, without resending it. */
export function patchRule(id: string, patch: RulePatch): Promise<RuleView> {
  return sidecarFetch<RuleView>('PATCH', path(id), { data: patch });
}

export async function ruleHistory(id: string): Promise<RuleVersionView[]> {
  return (await sidecarFetch<{ versions: RuleVersionView[] }>('GET', `${path(id)}/history`)).versions;
}

/** Makes an earlier version current again, as a new version. */
export function rollbackRule(id: string, version: number): Promise<RuleView> {
  return sidecarFetch<RuleView>('POST', `${path(id)}/rollback`, { data: { version } });
}

/** Every rule's signal count in [from, to) in one call; rules without a signal in the range are absent. */
export async function ruleSignalCounts(from: number, to: number): Promise<RuleSignalCount[]> {
  return (await sidecarFetch<{ rules: RuleSignalCount[] }>('GET', '/api/v1/signals/summary', { params: { from, to } })).rules;
}

/** Starts a replay of an unsaved draft (or saved rules) over [from, to), as a dry run unless told. */
export function startReplay(body: {
  rule?: Omit<RuleInput, 'note'>;
  ruleIds?: string[];
  from: number;
  to: number;
  dryRun: boolean;
}): Promise<ReplayJob> {
  return sidecarFetch<ReplayJob>('POST', '/api/v1/replay', {
    data: { ...body, from: String(body.from), to: String(body.to) },
  });
}

export function getReplay(id: string): Promise<ReplayJob> {
  return sidecarFetch<ReplayJob>('GET', `/api/v1/replay/${encodeURIComponent(id)}`);
}

export function cancelReplay(id: string): Promise<ReplayJob> {
  return sidecarFetch<ReplayJob>('DELETE', `/api/v1/replay/${encodeURIComponent(id)}`);
}
