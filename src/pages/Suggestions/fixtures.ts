import type { DiscoveryJob, JobSuggestion } from '../../api/discover';

/**
 * A finished discovery job as the sidecar answers GET /api/v1/discover/:id, shared by the page's,
 * the client's and the editor's tests: two new suggestions (an invariant and an almost-invariant),
 * one dismissed, one adopted.
 */
export const JOB_ID = 'dj-0123456789abcdef';
export const EXAMPLE_A = '5b8efff798038103d269b633813fc700';
export const EXAMPLE_B = '6c9f0008a9149214e37ac744924fd811';
export const VIOLATING = 'deadbeefdeadbeefdeadbeefdeadbeef';

export const invariant: JobSuggestion = {
  id: 'sg-aaaaaaaaaaaaaaaa',
  kind: 'implication',
  condition: 'when   { payment.charge }\nalways { payment.fraud_check }',
  title: 'every payment.charge has a payment.fraud_check',
  support: 120,
  confidence: 1,
  confidenceLower: 0.969,
  lift: 3.4,
  violations: 0,
  exampleTraceIds: [EXAMPLE_A, EXAMPLE_B],
  violatingTraceIds: [],
  heldOut: { support: 50, violations: 0, fireRate: 0 },
  score: 0.91,
  state: 'new',
};

export const almostInvariant: JobSuggestion = {
  id: 'sg-bbbbbbbbbbbbbbbb',
  kind: 'count',
  condition: 'when   { http.request }\nalways { count(db.query) <= 3 }',
  title: 'a trace with an http.request has at most 3 db.query spans',
  support: 200,
  confidence: 0.995,
  confidenceLower: 0.9724,
  lift: 1.25,
  violations: 1,
  exampleTraceIds: [EXAMPLE_A],
  violatingTraceIds: [VIOLATING],
  heldOut: { support: 80, violations: 1, fireRate: 0.0125 },
  score: 0.8,
  state: 'new',
};

export const dismissed: JobSuggestion = {
  ...invariant,
  id: 'sg-cccccccccccccccc',
  kind: 'absence',
  condition: 'when   { payment.charge }\nnever  { payment.auto_approve }',
  title: 'no payment.auto_approve in a trace with a payment.charge',
  score: 0.5,
  state: 'dismissed',
};

export const adopted: JobSuggestion = {
  ...invariant,
  id: 'sg-dddddddddddddddd',
  kind: 'structure',
  condition: 'when   { checkout }\nalways { inventory.reserve }',
  title: 'every checkout has an inventory.reserve',
  score: 0.4,
  state: 'adopted',
  adoptedRuleId: 'checkout-has-inventory',
};

export function doneJob(suggestions: JobSuggestion[] = [invariant, almostInvariant, dismissed, adopted]): DiscoveryJob {
  return {
    id: JOB_ID,
    state: 'done',
    source: 'history',
    from: '2026-11-28T09:00:00.000Z',
    to: '2026-11-28T10:00:00.000Z',
    createdAt: '2026-11-28T10:00:05.000Z',
    createdBy: 'admin',
    finishedAt: '2026-11-28T10:00:09.000Z',
    options: { top: 50 },
    progress: { phase: 'done', traces: 1000 },
    result: {
      traces: 1000,
      spans: 30000,
      spanNames: 45,
      trainingTraces: 700,
      heldOutTraces: 300,
      candidates: 512,
      dropped: { lowSupport: 300, lowConfidence: 150, redundant: 40, existing: 1, dismissed: 1, heldOut: 16 },
    },
    suggestionCount: suggestions.length,
    suggestions,
  };
}

export function runningJob(traces = 0, phase: 'mining' | 'validating' | 'ranking' = 'mining'): DiscoveryJob {
  const { result: _result, suggestions: _suggestions, finishedAt: _finishedAt, ...job } = doneJob();
  return { ...job, state: 'running', progress: { phase, traces }, suggestionCount: 0 };
}

/** One trace as OTLP/JSON, the way GET /discover/:id/traces/:traceId answers: a charge, with or without its check. */
export function otlpTrace(traceId: string, withFraudCheck: boolean) {
  const span = (spanId: string, name: string, start: number, parentSpanId?: string) => ({
    traceId,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name,
    kind: 1,
    startTimeUnixNano: String(1764320400000000000 + start * 1_000_000),
    endTimeUnixNano: String(1764320400000000000 + (start + 5) * 1_000_000),
    attributes: [],
  });
  const spans = [span('a1a1a1a1a1a1a1a1', 'payment.charge', 0)];
  if (withFraudCheck) {
    spans.push(span('b2b2b2b2b2b2b2b2', 'payment.fraud_check', 1, 'a1a1a1a1a1a1a1a1'));
  }
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'payments' } }] },
        scopeSpans: [{ scope: { name: 'test' }, spans }],
      },
    ],
  };
}
