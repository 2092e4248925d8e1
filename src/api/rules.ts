import type { ComplianceMapping, Explanation, RuleDefinition, Severity, Violation } from '@betrace/evaluator';
import { sidecarFetch } from './client';
import type { SignalPage } from './signals';

/** A rule as the sidecar's API returns it (`ruleView` in packages/sidecar/src/api.ts). */
export interface RuleView extends RuleDefinition {
  version: number;
  provisioned: boolean;
  updatedAt: string;
  updatedBy: string;
}

export interface RuleVersionView {
  version: number;
  definition: RuleDefinition;
  createdAt: string;
  createdBy: string;
  note: string;
}

/** What the editor sends: the definition's fields (without `version`) and the change note. */
export interface RuleInput {
  id: string;
  name: string;
  severity: Severity;
  description?: string;
  message?: string;
  compliance?: ComplianceMapping[];
  enabled: boolean;
  condition: string;
  note?: string;
}

export type ReplayStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** A replay job (`ReplayJob` in packages/sidecar/src/replay.ts); times are epoch milliseconds. */
export interface ReplayJob {
  id: string;
  ruleIds: string[];
  from: number;
  to: number;
  dryRun: boolean;
  status: ReplayStatus;
  windowsDone: number;
  windowsTotal: number;
  searches: number;
  tracesFetched: number;
  violationsFound: number;
  signalsCreated: number;
  violations: Violation[];
  error?: string;
  createdAt: number;
  finishedAt?: number;
}

export interface RuleTestResult {
  ruleId: string;
  results: Explanation[];
  fired: number;
}

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

export async function ruleHistory(id: string): Promise<RuleVersionView[]> {
  return (await sidecarFetch<{ versions: RuleVersionView[] }>('GET', `${path(id)}/history`)).versions;
}

/** Makes an earlier version current again, as a new version. */
export function rollbackRule(id: string, version: number): Promise<RuleView> {
  return sidecarFetch<RuleView>('POST', `${path(id)}/rollback`, { data: { version } });
}

/** Signals of one rule in a range, newest first (`limit` 1 gives the last signal and the total). */
export function ruleSignals(ruleId: string, from: number, to: number, limit = 1): Promise<SignalPage> {
  return sidecarFetch<SignalPage>('GET', '/api/v1/signals', { params: { rule: ruleId, from, to, limit } });
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
