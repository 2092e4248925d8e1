/**
 * One window over Tempo, shared by the poller and replay: each rule's pushdown as a search
 * (rules with the same query share it), saturated searches split until none is, each candidate
 * trace fetched once, and handed over with the ids of the rules whose pushdown matched it. Returns
 * the ids of candidates Tempo listed but could not return.
 */
import type { CompiledRule, Trace } from '@betrace/evaluator';
import type { Logger } from 'pino';
import type { TempoClient } from './client';

export interface ScanCounters {
  searches: number;
  tracesFetched: number;
}

export async function scanWindow(
  client: TempoClient,
  rules: readonly CompiledRule[],
  fromMs: number,
  toMs: number,
  limit: number,
  log: Logger,
  counters: ScanCounters,
  onTrace: (trace: Trace, ruleIds: ReadonlySet<string>) => void,
  cancelled: () => boolean = () => false,
): Promise<string[]> {
  const byQuery = new Map<string, string[]>();
  for (const r of rules) {
    const q = r.pushdown.query;
    byQuery.set(q, [...(byQuery.get(q) ?? []), r.definition.id]);
  }
  const candidates = new Map<string, Set<string>>();
  for (const [q, ruleIds] of byQuery) {
    for (const traceId of await searchAll(client, q, fromMs, toMs, limit, log, counters)) {
      const set = candidates.get(traceId) ?? new Set<string>();
      ruleIds.forEach((id) => set.add(id));
      candidates.set(traceId, set);
    }
  }
  // A trace that search lists but trace-by-id cannot return yet (200 with an empty trace, or 404):
  // reported to the caller, which decides whether to scan the window again.
  const unavailable: string[] = [];
  for (const [traceId, ruleIds] of candidates) {
    if (cancelled()) {
      return unavailable;
    }
    const trace = await client.trace(traceId);
    counters.tracesFetched++;
    if (trace !== undefined) {
      onTrace(trace, ruleIds);
    } else {
      unavailable.push(traceId);
    }
  }
  return unavailable;
}

/** Every trace a query matches in [from, to): splits saturated windows until none is. */
export async function searchAll(client: TempoClient, q: string, fromMs: number, toMs: number, limit: number, log: Logger, counters: ScanCounters): Promise<string[]> {
  const hits = await client.search({ q, start: Math.floor(fromMs / 1000), end: Math.ceil(toMs / 1000), limit });
  counters.searches++;
  if (hits.length < limit) {
    return hits.map((h) => h.traceId);
  }
  if (toMs - fromMs <= 1000) {
    // One second cannot be split further (Tempo takes whole seconds): ask for more at once.
    const more = await client.search({ q, start: Math.floor(fromMs / 1000), end: Math.ceil(toMs / 1000), limit: limit * 50 });
    counters.searches++;
    if (more.length >= limit * 50) {
      log.warn({ q, fromMs, toMs, hits: more.length }, 'search saturated within one second; some traces may be missed');
    }
    return more.map((h) => h.traceId);
  }
  const mid = fromMs + Math.floor((toMs - fromMs) / 2);
  const a = await searchAll(client, q, fromMs, mid, limit, log, counters);
  const b = await searchAll(client, q, mid, toMs, limit, log, counters);
  return [...new Set([...a, ...b])];
}
