import { lastValueFrom } from 'rxjs';
import { getBackendSrv } from '@grafana/runtime';
import type { TraceVocabulary } from './vocabulary';

/**
 * Completion's span and attribute names come from Tempo's tag APIs, through the Tempo datasource's
 * proxy (`/api/datasources/proxy/uid/<uid>/…`): what users' traces really carry, scoped as TraceQL
 * scopes them, with Grafana's datasource permissions applied. The sidecar is not asked: it sees
 * only the traces it evaluated.
 */
export function tempoProxyUrl(tempoUid: string, path: string): string {
  return `/api/datasources/proxy/uid/${encodeURIComponent(tempoUid)}${path}`;
}

interface TagsV2 {
  scopes?: Array<{ name?: string; tags?: string[] }>;
}
interface TagValuesV2 {
  tagValues?: Array<{ type?: string; value?: string }>;
}

const MAX_NAMES = 500;

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => a.localeCompare(b)).slice(0, MAX_NAMES);
}

/** Tempo's `/api/v2/search/tags` and `/api/v2/search/tag/name/values` answers → the vocabulary. */
export function vocabularyFromTempo(tags: TagsV2, names: TagValuesV2): TraceVocabulary {
  const scope = (name: string) => (tags.scopes ?? []).filter((s) => s.name === name).flatMap((s) => s.tags ?? []);
  return {
    spanNames: sortedUnique((names.tagValues ?? []).filter((v) => typeof v.value === 'string').map((v) => v.value!)),
    spanAttributes: sortedUnique(scope('span')),
    resourceAttributes: sortedUnique(scope('resource')),
  };
}

async function get<T>(url: string, params?: Record<string, string>): Promise<T> {
  const res = await lastValueFrom(getBackendSrv().fetch<T>({ method: 'GET', url, params, showErrorAlert: false }));
  return res.data;
}

/** Loads the vocabulary from the Tempo datasource; a Tempo that cannot answer leaves completion with the language's own words. */
export async function loadTempoVocabulary(tempoUid: string): Promise<TraceVocabulary> {
  const [tags, names] = await Promise.all([
    get<TagsV2>(tempoProxyUrl(tempoUid, '/api/v2/search/tags')),
    get<TagValuesV2>(tempoProxyUrl(tempoUid, '/api/v2/search/tag/name/values')),
  ]);
  return vocabularyFromTempo(tags, names);
}
