import type { DiscoveryResult, Severity, Suggestion, SuggestionKind } from '@betrace/evaluator';
import { SidecarError, sidecarFetch } from './client';
import type { RuleView } from './rules';

/**
 * The sidecar's discovery API (`/api/v1/discover`, docs/ui-suggestions.md): discovery jobs over a
 * time range, their ranked suggestions, adopting one as a rule and dismissing one. The suggestion
 * shapes are the evaluator's (`packages/evaluator/src/discover/types.ts`); the job shapes are the
 * API's.
 */

export type SuggestionState = 'new' | 'adopted' | 'dismissed';

/** A suggestion as a job holds it: the miner's, with what the tenant did with it. */
export interface JobSuggestion extends Suggestion {
  state: SuggestionState;
  /** When adopted: the rule it became. */
  adoptedRuleId?: string;
}

export type DiscoveryJobState = 'running' | 'done' | 'failed' | 'cancelled';

export interface DiscoveryOptions {
  top: number;
  minSupport?: number;
  minConfidence?: number;
  kinds?: SuggestionKind[];
}

/** A discovery job; times are ISO 8601. */
export interface DiscoveryJob {
  id: string;
  state: DiscoveryJobState;
  source: 'history' | 'tempo';
  from: string;
  to: string;
  createdAt: string;
  /** The Grafana user (X-Grafana-User), or `api`. */
  createdBy: string;
  finishedAt?: string;
  options: DiscoveryOptions;
  progress: { phase: 'mining' | 'validating' | 'ranking' | 'done'; traces: number };
  /** When failed. */
  error?: string;
  /** When done: what was read and why candidates were dropped. */
  result?: Omit<DiscoveryResult, 'suggestions'>;
  suggestionCount: number;
  /** Only from GET /discover/:id, best first (dismissed ones included). */
  suggestions?: JobSuggestion[];
}

export type DiscoverySource = 'auto' | 'history' | 'tempo';

/** What starts a job: the range (epoch ms) and the miner's options. */
export interface DiscoveryRequest {
  from: number;
  to: number;
  source?: DiscoverySource;
  top?: number;
  minSupport?: number;
  minConfidence?: number;
  kinds?: SuggestionKind[];
}

/** The editor's fields when a suggestion is adopted as a rule. */
export interface AdoptInput {
  enabled?: boolean;
  id?: string;
  name?: string;
  severity?: Severity;
  description?: string;
  condition?: string;
  message?: string;
}

export interface AdoptResult {
  rule: RuleView;
  suggestion: JobSuggestion;
}

/** OTLP/JSON of one trace (an export request). */
export interface OtlpTraceRequest {
  resourceSpans: unknown[];
}

const job = (id: string) => `/api/v1/discover/${encodeURIComponent(id)}`;
const suggestion = (id: string, sid: string) => `${job(id)}/suggestions/${encodeURIComponent(sid)}`;

/** Starts discovery over [from, to) (ISO 8601 on the wire); the job answers while it runs. */
export function startDiscovery(request: DiscoveryRequest): Promise<DiscoveryJob> {
  const data: Record<string, unknown> = {
    from: new Date(request.from).toISOString(),
    to: new Date(request.to).toISOString(),
  };
  for (const key of ['source', 'top', 'minSupport', 'minConfidence'] as const) {
    if (request[key] !== undefined) {
      data[key] = request[key];
    }
  }
  if (request.kinds !== undefined && request.kinds.length > 0) {
    data.kinds = [...request.kinds];
  }
  return sidecarFetch<DiscoveryJob>('POST', '/api/v1/discover', { data });
}

/** The tenant's jobs, newest first, without their suggestions. */
export async function listDiscoveries(): Promise<DiscoveryJob[]> {
  return (await sidecarFetch<{ jobs: DiscoveryJob[] }>('GET', '/api/v1/discover')).jobs;
}

/** One job with its suggestions, best first. */
export function getDiscovery(id: string): Promise<DiscoveryJob> {
  return sidecarFetch<DiscoveryJob>('GET', job(id));
}

/** Cancels a running job, or deletes a finished one and its results. */
export function deleteDiscovery(id: string): Promise<DiscoveryJob> {
  return sidecarFetch<DiscoveryJob>('DELETE', job(id));
}

/** Creates a rule from a suggestion, with the editor's fields (the suggestion's own where absent). */
export function adoptSuggestion(jobId: string, suggestionId: string, input: AdoptInput): Promise<AdoptResult> {
  return sidecarFetch<AdoptResult>('POST', `${suggestion(jobId, suggestionId)}/adopt`, { data: input });
}

/** Hides a suggestion, and keeps later jobs from proposing it again. */
export async function dismissSuggestion(jobId: string, suggestionId: string): Promise<JobSuggestion> {
  return (await sidecarFetch<{ suggestion: JobSuggestion }>('POST', `${suggestion(jobId, suggestionId)}/dismiss`))
    .suggestion;
}

/** One trace of the job's range as OTLP/JSON, for the rule editor's Test panel. */
export function discoveryTrace(jobId: string, traceId: string): Promise<OtlpTraceRequest> {
  return sidecarFetch<OtlpTraceRequest>('GET', `${job(jobId)}/traces/${encodeURIComponent(traceId)}`);
}

/** A problem of the discovery API as the page shows it: a title, and what to do. */
export interface DiscoveryProblem {
  title: string;
  message: string;
  /** The sidecar has nothing to read traces from (409 no_source). */
  noSource?: boolean;
}

/** The sidecar's refusal in the page's words; the sidecar's own message is always kept. */
export function discoveryProblem(e: unknown, doing: string): DiscoveryProblem {
  if (!(e instanceof SidecarError)) {
    return { title: `Could not ${doing}`, message: e instanceof Error ? e.message : String(e) };
  }
  if (e.status === 409 && e.code === 'no_source') {
    return {
      title: 'No traces to discover from',
      message: `${e.message.replace(/\.\s*$/, '')}. Discovery reads Tempo when the sidecar has TEMPO_URL, else the recent traces the sidecar received itself (its trace history).`,
      noSource: true,
    };
  }
  if (e.status === 429) {
    return { title: 'A discovery is already running', message: e.message };
  }
  if (e.status === 0 || e.status === 502 || e.status === 504) {
    return {
      title: 'The sidecar is unreachable',
      message: `Grafana could not reach the BeTrace sidecar (${e.status || 'no answer'}: ${e.message}). Check the sidecar URL on the app's configuration page, and that the sidecar runs.`,
    };
  }
  if (e.status === 403) {
    return { title: `Could not ${doing}`, message: `Permission denied: ${e.message}` };
  }
  return { title: `Could not ${doing}`, message: e.message };
}
