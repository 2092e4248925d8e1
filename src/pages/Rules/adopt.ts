import { decodeOtlpJson, DecodeError, type Trace } from '@betrace/evaluator';
import {
  discoveryTrace,
  getDiscovery,
  type AdoptInput,
  type DiscoveryJob,
  type JobSuggestion,
} from '../../api/discover';
import { SidecarError } from '../../api/client';
import { provenance, ruleIdFromTitle } from '../Suggestions/format';
import { emptyDraft, toInput, type RuleDraft } from './draft';

/** A suggestion being adopted in the rule editor (`/rules/new?suggestion=<job>:<sid>`). */
export interface Adoption {
  jobId: string;
  suggestionId: string;
  job: DiscoveryJob;
  suggestion: JobSuggestion;
}

/** One of the suggestion's traces, for the Test panel: an example it held in, or one that violated it. */
export interface SuggestionTrace {
  trace: Trace;
  violating: boolean;
}

/** The suggestion's traces as the Test panel gets them: loading, loaded, and the ones that could not be. */
export interface SuggestionTraces {
  loading: boolean;
  traces: SuggestionTrace[];
  problems: string[];
}

/** Why a suggestion cannot be adopted, in the user's words. */
export class AdoptionError extends Error {}

/** The job and the suggestion named by the adopt URL, when the suggestion can still be adopted. */
export async function loadAdoption(jobId: string, suggestionId: string): Promise<Adoption> {
  let job: DiscoveryJob;
  try {
    job = await getDiscovery(jobId);
  } catch (e) {
    if (e instanceof SidecarError && e.status === 404) {
      throw new AdoptionError(`There is no discovery ${jobId} (it may have been deleted)`);
    }
    throw e;
  }
  const suggestion = job.suggestions?.find((s) => s.id === suggestionId);
  if (!suggestion) {
    throw new AdoptionError(`Discovery ${jobId} has no suggestion ${suggestionId}`);
  }
  if (suggestion.state === 'adopted') {
    throw new AdoptionError(
      `Suggestion ${suggestionId} was adopted already${suggestion.adoptedRuleId ? `, as rule ${suggestion.adoptedRuleId}` : ''}`
    );
  }
  if (suggestion.state === 'dismissed') {
    throw new AdoptionError(`Suggestion ${suggestionId} was dismissed`);
  }
  return { jobId, suggestionId, job, suggestion };
}

/** The editor's draft for a suggestion: its title, its condition, provenance, disabled until the user enables it. */
export function adoptionDraft(a: Adoption): RuleDraft {
  return {
    ...emptyDraft(),
    id: ruleIdFromTitle(a.suggestion.title, a.suggestion.id),
    name: a.suggestion.title,
    description: provenance(a.job, a.suggestion),
    enabled: false,
    condition: a.suggestion.condition,
  };
}

/** What the adopt route takes from the editor (no compliance or note: the rule's first version is the suggestion). */
export function adoptInput(draft: RuleDraft): AdoptInput {
  const { compliance: _compliance, note: _note, ...fields } = toInput(draft, '');
  return fields;
}

/** Fetches the suggestion's example and violating traces from the sidecar, each decoded from OTLP/JSON. */
export async function loadSuggestionTraces(a: Adoption): Promise<Omit<SuggestionTraces, 'loading'>> {
  const wanted = [
    ...a.suggestion.exampleTraceIds.map((id) => ({ id, violating: false })),
    ...a.suggestion.violatingTraceIds.map((id) => ({ id, violating: true })),
  ];
  const results = await Promise.all(
    wanted.map(async ({ id, violating }): Promise<SuggestionTrace | string> => {
      try {
        const traces = decodeOtlpJson(await discoveryTrace(a.jobId, id));
        const trace = traces.find((t) => t.traceId.toLowerCase() === id.toLowerCase()) ?? traces[0];
        return trace ? { trace, violating } : `trace ${id}: the sidecar sent no spans`;
      } catch (e) {
        if (e instanceof SidecarError && e.status === 404) {
          return `trace ${id}: no longer in the sidecar's history or in Tempo`;
        }
        if (e instanceof DecodeError) {
          return `trace ${id}: not OTLP/JSON (${e.message})`;
        }
        return `trace ${id}: ${e instanceof Error ? e.message : String(e)}`;
      }
    })
  );
  return {
    traces: results.filter((r): r is SuggestionTrace => typeof r !== 'string'),
    problems: results.filter((r): r is string => typeof r === 'string'),
  };
}
