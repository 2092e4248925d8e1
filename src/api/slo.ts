import { SidecarError, sidecarFetch } from './client';
import type { components } from './generated/sidecar';

/** A rule's objective against what it did (`GET /api/v1/rules/{id}/slo`), as the OpenAPI document states it. */
export type SloStatus = components['schemas']['SloStatus'];
export type SloBurnRate = components['schemas']['SloBurnRate'];

/** The rule's SLO status; undefined when the rule has no objective (or is unknown): the sidecar answers 404. */
export async function getRuleSlo(ruleId: string): Promise<SloStatus | undefined> {
  try {
    return await sidecarFetch<SloStatus>('GET', `/api/v1/rules/${encodeURIComponent(ruleId)}/slo`);
  } catch (e) {
    if (e instanceof SidecarError && e.status === 404) {
      return undefined;
    }
    throw e;
  }
}

/** Every rule of the tenant with an objective. */
export async function listSlos(): Promise<SloStatus[]> {
  return (await sidecarFetch<{ slos: SloStatus[] }>('GET', '/api/v1/slos')).slos;
}
