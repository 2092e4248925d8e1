import type { ComplianceMapping, Explanation, RuleDefinition, Severity, Violation } from '@betrace/evaluator';
import { sidecarFetch } from './client';

/** Why a rule was not evaluated on a trace (`RuleSkipReason` in packages/sidecar/src/ruleSkips.ts). */
export type RuleSkipReason = 'step-budget' | 'time-budget' | 'error';

/** A rule's evaluations not completed on a trace (`RuleSkipView` in packages/sidecar/src/ruleSkips.ts). */
export interface RuleSkipView {
  count: number;
  byReason: Partial<Record<RuleSkipReason, number>>;
  /** The latest skip (ISO 8601), its reason and its trace; absent while count is 0. */
  lastSkippedAt?: string;
  lastReason?: RuleSkipReason;
  lastTraceId?: string;
}

/** A rule as the sidecar's API returns it (`ruleView` in packages/sidecar/src/api.ts). */
export interface RuleView extends RuleDefinition {
  version: number;
  provisioned: boolean;
  updatedAt: string;
  updatedBy: string;
  /** Absent from sidecars older than the field. */
  skipped?: RuleSkipView;
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

/** One rule's signals in a range (`GET /api/v1/signals/summary`): how many, and the newest's time (ISO 8601). */
export interface RuleSignalCount {
  ruleId: string;
  total: number;
  lastAt: string;
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
