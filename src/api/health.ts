import { sidecarFetch } from './client';
import type { components } from './generated/sidecar';

/**
 * Rule health answers of the sidecar's API (docs/rule-health.md), as its OpenAPI document states
 * them (src/api/generated/sidecar.ts): aliases, never hand-written copies.
 */
type Schemas = components['schemas'];

/** One rule's health over a range, without its series (the list route's items). */
export type RuleHealthSummary = Schemas['RuleHealthSummary'];
/** One rule's health over a range with every hour of it. */
export type RuleHealth = Schemas['RuleHealth'];
export type RuleHealthBucket = RuleHealth['series'][number];

/** Every rule's health over [from, to) in one call. */
export async function listRuleHealth(from: number, to: number): Promise<RuleHealthSummary[]> {
  return (await sidecarFetch<Schemas['RuleHealthList']>('GET', '/api/v1/rules/health', { params: { from, to } })).rules;
}

/** One rule's health over [from, to), with its hourly series. */
export function getRuleHealth(id: string, from: number, to: number): Promise<RuleHealth> {
  return sidecarFetch<RuleHealth>('GET', `/api/v1/rules/${encodeURIComponent(id)}/health`, { params: { from, to } });
}
