import type { TraceDraftRef } from '../builders/exploreUrl';
import { DEFAULT_TEMPO_UID } from '../pages/Rules/tempo';
import { fetchTempoTrace } from '../pages/Rules/testRun';
import { draftFromTrace, type TraceDraft } from './draftFromTrace';

/** A new rule being drafted from a trace opened in Explore (`/rules/new?fromTrace=…`). */
export interface TraceDrafting extends TraceDraft {
  ref: TraceDraftRef;
  /** The Tempo datasource the trace came from: the Test panel fetches it from there too. */
  datasourceUid: string;
}

/** Fetches the trace from its Tempo datasource and drafts the rule; Tempo's problems in the user's words (TestInputError). */
export async function loadTraceDraft(ref: TraceDraftRef): Promise<TraceDrafting> {
  const datasourceUid = ref.datasourceUid ?? DEFAULT_TEMPO_UID;
  const trace = await fetchTempoTrace(datasourceUid, ref.traceId);
  return { ...draftFromTrace(trace, ref.spanId), ref, datasourceUid };
}

export function sameRef(a: TraceDraftRef | undefined, b: TraceDraftRef | undefined): boolean {
  return a?.traceId === b?.traceId && a?.spanId === b?.spanId && a?.datasourceUid === b?.datasourceUid;
}
