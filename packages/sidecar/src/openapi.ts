/**
 * The API's OpenAPI 3.1 document: built from the route schemas (which validate the requests) and
 * each route's `responses` (document only: fastify never serializes with them, so a schema here
 * cannot drop or coerce a field of an answer). The shapes every answer shares are components,
 * referenced as `#/components/schemas/<Name>`; the plugin's API types are generated from them
 * (`npm run api:types`, src/api/generated/sidecar.ts).
 */
import { SEVERITIES, SUGGESTION_KINDS } from '@betrace/evaluator';
import { SIGNAL_STATUSES } from './store';

type Json = Record<string, unknown>;

/** One documented answer of a route: JSON by `schema`, another media type by `content`, or no body (204). */
export interface ResponseDoc {
  description: string;
  schema?: Json;
  content?: Record<string, Json>;
}

export type ResponsesDoc = Record<number, ResponseDoc>;

/** A reference to a component schema. */
export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** A JSON answer of a component's shape. */
export const ok = (name: string, description: string): ResponseDoc => ({ description, schema: ref(name) });

/** A JSON answer of an inline shape. */
export const okInline = (schema: Json, description: string): ResponseDoc => ({ description, schema });

/** An error answer: `{ error, message }` (the shared Error component). */
export const err = (description: string): ResponseDoc => ({ description, schema: ref('Error') });

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const time = { type: 'string', format: 'date-time', description: 'ISO 8601' } as const;
const ms = { type: 'integer', description: 'epoch milliseconds' } as const;
const arrayOf = (items: Json) => ({ type: 'array', items });
const nullable = (type: string) => ({ type: [type, 'null'] });
/** An object with exactly these properties (`required` lists those always present). */
const object = (properties: Json, required: readonly string[] = Object.keys(properties)) => ({
  type: 'object',
  required: [...required],
  properties,
  additionalProperties: false,
});
/** The same, or null. */
const nullableObject = (properties: Json) => ({ ...object(properties), type: ['object', 'null'] });
/** JSON of any shape (audit before/after, span attributes). */
const anyJson = {};

const severity = { type: 'string', enum: [...SEVERITIES] } as const;
const skipReason = { type: 'string', enum: ['step-budget', 'time-budget', 'error'] } as const;

const complianceMapping = object({ framework: str, control: str });

const ruleDefinitionProps = {
  id: str,
  name: str,
  severity,
  description: str,
  message: str,
  compliance: arrayOf(ref('ComplianceMapping')),
  slo: ref('RuleSlo'),
  enabled: bool,
  condition: { type: 'string', description: 'The rule text in the BeTrace rule language' },
};

const nullableNum = { type: ['number', 'null'] } as const;

const signalProps = {
  id: str,
  tenant: str,
  ruleId: str,
  ruleVersion: int,
  ruleName: str,
  traceId: str,
  boundSpanId: str,
  matchedSpanIds: arrayOf(str),
  message: str,
  severity,
  status: { type: 'string', enum: [...SIGNAL_STATUSES] },
  source: {
    type: 'string',
    enum: ['push', 'pull', 'replay'],
    description: 'OTLP pushed to the sidecar, Tempo polled, or a replay',
  },
  service: { type: 'string', description: 'service.name of the bound (or first matched) span, when known' },
  createdAt: time,
  updatedAt: time,
};
const signalRequired = Object.keys(signalProps).filter((k) => k !== 'boundSpanId' && k !== 'service');

const signalChange = object({
  at: time,
  who: str,
  from: { type: 'string', enum: [...SIGNAL_STATUSES] },
  to: { type: 'string', enum: [...SIGNAL_STATUSES] },
  note: str,
});

const verificationSummaryProps = {
  records: int,
  verified: { type: 'integer', description: 'Records whose signature and link verify and that are in order' },
  altered: { ...arrayOf(int), description: 'Seqs whose signature does not match (changed after signing)' },
  brokenLinks: { ...arrayOf(int), description: 'Seqs whose prev does not match the record before them' },
  missing: { ...arrayOf(int), description: 'Seqs absent from the chain (deleted records)' },
  reordered: { ...arrayOf(int), description: 'Seqs presented after a record with a higher seq' },
  unknownKey: { ...arrayOf(int), description: 'Seqs signed by a key this sidecar does not hold' },
  duplicates: { ...arrayOf(int), description: 'Seqs that occur more than once' },
  headMismatch: { type: 'boolean', description: 'The stored head (seq, hash) does not match the stored record with that seq' },
  anchors: {
    ...object({
      anchors: { type: 'integer', description: 'Anchors checked (published outside the data folder)' },
      latest: { ...nullableObject({ seq: int, anchoredAt: time }), description: 'The latest anchor: its head seq and when it was published' },
      altered: { ...arrayOf(int), description: 'Head seqs of anchors whose signature does not match' },
      unknownKey: { ...arrayOf(int), description: 'Head seqs of anchors signed by a key this sidecar does not hold' },
      truncated: { ...arrayOf(int), description: 'Anchored head seqs the stored chain no longer reaches (records deleted from the end)' },
      mismatched: { ...arrayOf(int), description: 'Anchored head seqs whose stored record does not hash to the anchored hash (the chain was rewritten or replaced)' },
      outOfOrder: { ...arrayOf(int), description: 'Head seqs of anchors published after an anchor with a higher head' },
      unreadable: { type: 'integer', description: 'Lines of the anchor log that are not anchors' },
    }),
    description: 'The stored chain checked against the anchors published outside the data folder',
  },
  ok: bool,
  scope: {
    type: 'string',
    enum: ['full', 'cached'],
    description:
      'full: walked for this answer; cached: the full walk of checkedAt, continued over the records appended since',
  },
  checkedAt: time,
  head: { type: 'integer', description: 'The highest seq allocated that the summary covers' },
};

const ruleHealthProps = {
  ruleId: str,
  from: { ...time, description: 'The range’s start, rounded down to the hour' },
  to: time,
  totals: ref('RuleHealthTotals'),
  complianceRatio: { type: ['number', 'null'], description: '1 − violations ÷ triggered; null when nothing triggered' },
  fireRatePerHour: { ...num, description: 'Violations per hour of the range' },
  falsePositiveRate: {
    type: ['number', 'null'],
    description: 'Signals marked false_positive ÷ signals acknowledged, resolved or false_positive (created in the range); null when none',
  },
  costUsPerTrace: { type: ['number', 'null'], description: 'Mean sampled evaluation time per trace, microseconds; null when none sampled' },
  costShare: {
    type: ['number', 'null'],
    description: 'The rule’s share of the time the tenant’s rules took (mean sampled cost × traces evaluated, over all rules); null when none sampled',
  },
  lastFiredAt: { type: ['string', 'null'], format: 'date-time', description: 'When its newest signal in the range was created' },
  signals: {
    ...object({ open: int, acknowledged: int, resolved: int, false_positive: int, total: int }),
    description: 'The rule’s signals created in the range, by current status',
  },
  noisy: {
    ...nullableObject({ reason: str }),
    description: 'Why the rule looks noisy (false-positive rate ≥ 30 % of ≥ 5 closed signals, or violations on ≥ 50 % of ≥ 20 triggering traces), or null',
  },
};

const evidenceScope = object({ framework: nullable('string'), control: nullable('string') });
const evidencePeriod = object({
  from: { type: ['string', 'null'], format: 'date-time' },
  to: { type: ['string', 'null'], format: 'date-time' },
});

const suggestionProps = {
  id: str,
  kind: { type: 'string', enum: [...SUGGESTION_KINDS] },
  condition: str,
  title: str,
  support: int,
  confidence: num,
  confidenceLower: num,
  lift: num,
  violations: int,
  exampleTraceIds: arrayOf(str),
  violatingTraceIds: arrayOf(str),
  heldOut: object({ support: int, violations: int, fireRate: num }),
  score: num,
  state: { type: 'string', enum: ['new', 'adopted', 'dismissed'] },
  adoptedRuleId: str,
};

const discoveryJobProps = {
  id: str,
  state: { type: 'string', enum: ['running', 'done', 'failed', 'cancelled'] },
  source: { type: 'string', enum: ['history', 'tempo'] },
  from: time,
  to: time,
  createdAt: time,
  createdBy: str,
  finishedAt: time,
  options: object(
    { top: int, minSupport: int, minConfidence: num, kinds: arrayOf({ type: 'string', enum: [...SUGGESTION_KINDS] }) },
    ['top']
  ),
  progress: object({ phase: { type: 'string', enum: ['mining', 'validating', 'ranking', 'done'] }, traces: int }),
  error: str,
  result: {
    type: 'object',
    description: 'The miner’s summary (without its suggestions), once the job is done',
    required: ['traces', 'spans', 'spanNames', 'trainingTraces', 'heldOutTraces', 'redacted'],
    properties: {
      traces: int,
      spans: int,
      spanNames: int,
      trainingTraces: int,
      heldOutTraces: int,
      truncatedTraces: int,
      redacted: int,
    },
  },
  suggestionCount: int,
};
const discoveryJobRequired = [
  'id',
  'state',
  'source',
  'from',
  'to',
  'createdAt',
  'createdBy',
  'options',
  'progress',
  'suggestionCount',
];

/** The shared shapes of the API's answers. */
const COMPONENTS = {
  Error: {
    ...object(
      {
        error: {
          type: 'string',
          description: 'A stable code: invalid_request, invalid_rule, not_found, conflict, unauthorized …',
        },
        message: str,
        diagnostics: arrayOf(ref('Diagnostic')),
      },
      ['error', 'message']
    ),
    description: 'Every error answer; invalid_rule answers carry the diagnostics (line and column) too',
  },
  Diagnostic: {
    type: 'object',
    required: ['severity', 'message', 'startLine', 'startColumn', 'endLine', 'endColumn'],
    properties: {
      severity: { type: 'string', enum: ['error', 'warning', 'info'] },
      message: str,
      code: str,
      startLine: int,
      startColumn: int,
      endLine: int,
      endColumn: int,
      ruleId: str,
      ruleIndex: int,
      field: str,
    },
    additionalProperties: false,
  },
  ComplianceMapping: complianceMapping,
  RuleSlo: {
    ...object({
      objective: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'The fraction of triggering traces that must comply (99.9% is 0.999)' },
      windowMs: { type: 'integer', description: 'The window the objective is measured over, in milliseconds' },
    }),
    description: 'A rule’s objective (docs/slo.md); rule bodies may also send { objective: "99.9%", window: "30d" }',
  },
  SloBurnRate: object({
    window: { type: 'string', enum: ['5m', '30m', '1h', '6h'] },
    errorRatio: { ...nullableNum, description: 'Violations / triggered over the window; null without triggers' },
    burnRate: { ...nullableNum, description: 'The error ratio over the error budget (1 spends the budget exactly over the SLO window)' },
    resolution: {
      type: 'string',
      enum: ['current-hour', 'hours'],
      description: 'current-hour: the window lies inside the current hour and is answered by that hour so far; hours: the hours it covers, the oldest prorated',
    },
  }),
  SloStatus: {
    ...object({
      ruleId: str,
      objective: num,
      windowMs: int,
      window: { type: 'string', description: 'The window as a rule file writes it, e.g. 30d' },
      triggered: { type: 'integer', description: 'Traces the rule’s trigger held on over the window' },
      violations: { type: 'integer', description: 'Traces that violated the rule over the window' },
      compliance: { ...nullableNum, description: '1 − violations / triggered; null without triggers' },
      errorBudget: { type: 'number', description: '1 − objective' },
      budgetRemaining: { type: 'number', description: 'The fraction of the error budget left: 1 untouched, 0 spent, negative overspent' },
      burnRates: arrayOf(ref('SloBurnRate')),
      alerts: object({ page: bool, ticket: bool }),
      state: { type: 'string', enum: ['ok', 'ticket', 'page'], description: 'The most severe burn-rate alert that holds, as the generated alert rules compute it' },
    }),
    description: 'A rule’s objective against what it did, from the sidecar’s hourly rule health',
  },
  SloList: object({ slos: arrayOf(ref('SloStatus')) }),
  RuleSkips: {
    ...object(
      {
        count: { type: 'integer', description: 'Traces on which the rule was not evaluated, all reasons together' },
        byReason: {
          type: 'object',
          properties: { 'step-budget': int, 'time-budget': int, error: int },
          additionalProperties: false,
        },
        lastSkippedAt: time,
        lastReason: skipReason,
        lastTraceId: str,
      },
      ['count', 'byReason']
    ),
    description: 'A rule’s evaluations not completed on a trace (the "not evaluated" marker)',
  },
  RuleDefinition: object({ ...ruleDefinitionProps, version: int }, ['id', 'name', 'severity', 'enabled', 'condition']),
  Rule: {
    ...object(
      {
        ...ruleDefinitionProps,
        version: int,
        provisioned: { type: 'boolean', description: 'From a rule file: read-only through the API' },
        updatedAt: time,
        updatedBy: str,
        skipped: ref('RuleSkips'),
      },
      ['id', 'name', 'severity', 'enabled', 'condition', 'version', 'provisioned', 'updatedAt', 'updatedBy', 'skipped']
    ),
    description: 'A rule as every rule route answers it',
  },
  RuleList: object({ rules: arrayOf(ref('Rule')) }),
  RuleVersion: object({ version: int, definition: ref('RuleDefinition'), createdAt: time, createdBy: str, note: str }),
  RuleHistory: object({ versions: arrayOf(ref('RuleVersion')) }),
  Validation: object(
    {
      valid: bool,
      diagnostics: arrayOf(ref('Diagnostic')),
      pushdown: {
        type: 'object',
        description: 'The TraceQL that narrows the traces this rule can fire on (pull mode)',
      },
    },
    ['valid', 'diagnostics']
  ),
  RuleTestResult: object({
    ruleId: str,
    results: arrayOf({
      type: 'object',
      required: ['fired'],
      properties: { fired: bool },
      description: 'The explanation of one trace (docs/rule-language.md)',
    }),
    fired: { type: 'integer', description: 'Traces on which the rule fired' },
  }),
  Signal: object(signalProps, signalRequired),
  SignalChange: { ...signalChange, description: 'One status change: who moved the signal, when, and why' },
  SignalDetail: object({ ...signalProps, changes: arrayOf(ref('SignalChange')) }, [...signalRequired, 'changes']),
  SignalPage: object({ signals: arrayOf(ref('Signal')), total: int, limit: int, offset: int }),
  RuleSignalCount: object({ ruleId: str, total: int, lastAt: time }),
  SignalSummary: object({ rules: arrayOf(ref('RuleSignalCount')) }),
  ReplayJob: {
    ...object(
      {
        id: str,
        tenant: str,
        source: { type: 'string', enum: ['tempo', 'history'] },
        ruleIds: arrayOf(str),
        from: ms,
        to: ms,
        dryRun: bool,
        status: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
        windowsDone: int,
        windowsTotal: int,
        searches: int,
        tracesFetched: int,
        violationsFound: int,
        signalsCreated: int,
        violations: {
          ...arrayOf({ type: 'object', required: ['ruleId', 'traceId'], properties: { ruleId: str, traceId: str } }),
          description: 'Dry runs: the violations found',
        },
        error: str,
        createdAt: ms,
        finishedAt: ms,
      },
      [
        'id',
        'tenant',
        'source',
        'ruleIds',
        'from',
        'to',
        'dryRun',
        'status',
        'windowsDone',
        'windowsTotal',
        'searches',
        'tracesFetched',
        'violationsFound',
        'signalsCreated',
        'violations',
        'createdAt',
      ]
    ),
    description: 'A replay job; its times are epoch milliseconds',
  },
  AuditEntry: object(
    { seq: int, tenant: str, at: time, who: str, action: str, target: str, before: anyJson, after: anyJson },
    ['seq', 'tenant', 'at', 'who', 'action', 'target']
  ),
  AuditPage: object({ entries: arrayOf(ref('AuditEntry')), total: int, limit: int, offset: int }),
  Lease: {
    ...object({ key: str, holder: str, since: ms, expiresAt: ms, expired: bool }, ['key', 'holder', 'since', 'expiresAt', 'expired']),
    description: 'A lease on a pull window (pull:<tenant>:<window start ms>) or a replay job (replay:<tenant>:<job id>)',
  },
  PullWindowState: object({ startMs: ms, endMs: ms, attempts: int, done: bool }, ['startMs', 'endMs', 'attempts', 'done']),
  ClusterLeases: object(
    {
      replica: { ...str, description: 'The replica that answered (REPLICA_ID)' },
      watermark: { ...ms, description: 'The tenant’s pull-mode watermark, shared by the replicas (absent before the first window is done)' },
      leases: arrayOf(ref('Lease')),
      windows: { ...arrayOf(ref('PullWindowState')), description: 'Pull windows claimed past the watermark: in progress, waiting for a retry, or done ahead of an unfinished one' },
    },
    ['replica', 'leases', 'windows'],
  ),
  UsageCounts: object({ spans: int, bytes: int, traces: int, signals: int, evidence: int }),
  Usage: object({
    tenant: str,
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
    days: arrayOf(
      object({
        day: { type: 'string', format: 'date' },
        spans: int,
        bytes: int,
        traces: int,
        signals: int,
        evidence: int,
      })
    ),
    totals: ref('UsageCounts'),
  }),
  RecordVerification: object({
    seq: int,
    signature: { type: 'string', enum: ['valid', 'invalid', 'unknown_key'] },
    link: { type: 'string', enum: ['valid', 'broken', 'unchecked'] },
    reordered: bool,
    ok: bool,
  }),
  ChainVerification: {
    ...object(verificationSummaryProps),
    description: 'The whole chain of the tenant, whatever the filter',
  },
  EvidenceRecord: object({
    seq: int,
    framework: str,
    control: str,
    ruleId: str,
    evidenceType: str,
    outcome: { type: 'string', enum: ['pass', 'fail'] },
    checkedTraces: int,
    passedTraces: int,
    failedTraces: int,
    windowStart: time,
    windowEnd: time,
    sampleTraceIds: arrayOf(str),
    traceId: str,
    spanId: str,
    keyId: str,
    prev: str,
    signature: str,
    attributes: {
      type: 'object',
      description: 'The span attributes as signed (OTLP/JSON AnyValues), signature included',
      additionalProperties: anyJson,
    },
    verification: ref('RecordVerification'),
  }),
  ControlSummary: object({
    framework: str,
    control: str,
    records: int,
    pass: int,
    fail: int,
    checkedTraces: int,
    failedTraces: int,
  }),
  EvidencePage: object({
    records: arrayOf(ref('EvidenceRecord')),
    total: int,
    limit: int,
    offset: int,
    verification: ref('ChainVerification'),
    summary: object({ scope: evidenceScope, period: evidencePeriod, controls: arrayOf(ref('ControlSummary')) }),
  }),
  EvidenceReport: object({
    tenant: str,
    generatedAt: time,
    scope: evidenceScope,
    period: evidencePeriod,
    verification: ref('ChainVerification'),
    controls: arrayOf(ref('ControlSummary')),
    records: arrayOf(ref('EvidenceRecord')),
    head: { ...object({ seq: int, hash: str }), description: 'The stored chain head: its seq and the hash the next record will carry as prev' },
    anchors: {
      ...arrayOf(object({ traceId: str, spanId: str, attributes: { type: 'object', additionalProperties: anyJson } })),
      description: 'The anchors published outside the data folder, oldest first, as their spans carry them',
    },
  }),
  EvidenceKeys: object({
    keys: arrayOf(
      object({ id: str, current: bool, source: str, createdAt: time, retiredAt: time }, [
        'id',
        'current',
        'source',
        'createdAt',
      ])
    ),
  }),
  RotatedKey: object(
    {
      id: str,
      previous: nullable('string'),
      createdAt: time,
      secret: { type: 'string', description: 'A generated secret, shown this once' },
    },
    ['id', 'previous', 'createdAt']
  ),
  Suggestion: object(
    suggestionProps,
    Object.keys(suggestionProps).filter((k) => k !== 'adoptedRuleId')
  ),
  DiscoveryJob: object({ ...discoveryJobProps, suggestions: arrayOf(ref('Suggestion')) }, discoveryJobRequired),
  DiscoveryJobs: object({ jobs: arrayOf(ref('DiscoveryJob')) }),
  Adopted: object({ rule: ref('Rule'), suggestion: ref('Suggestion') }),
  Dismissed: object({ suggestion: ref('Suggestion') }),
  OtlpTraces: {
    type: 'object',
    required: ['resourceSpans'],
    properties: { resourceSpans: arrayOf({ type: 'object' }) },
    description: 'OTLP/JSON',
  },
  RuleHealthTotals: {
    ...object({
      evaluated: { type: 'integer', description: 'Traces the rule was evaluated on to their end' },
      triggered: { type: 'integer', description: 'Of those, traces on which its trigger held (a violating trace always counts)' },
      violations: { type: 'integer', description: 'Traces that violated the rule' },
      skipped: { type: 'integer', description: 'Traces the evaluation budget stopped the rule on (not evaluated)' },
      costUs: { type: 'integer', description: 'Microseconds over the sampled evaluations (1 trace in 16 per rule)' },
      costSamples: { type: 'integer', description: 'Evaluations sampled' },
    }),
    description: 'A rule’s counts over a range (sums of hourly buckets)',
  },
  RuleHealthSummary: {
    ...object(ruleHealthProps),
    description: 'A rule’s health over a range (docs/rule-health.md)',
  },
  RuleHealth: {
    ...object({
      ...ruleHealthProps,
      series: arrayOf(
        object({
          bucketStart: { ...time, description: 'The UTC hour this bucket covers (ISO 8601)' },
          evaluated: int,
          triggered: int,
          violations: int,
          skipped: int,
          costUs: int,
          costSamples: int,
          complianceRatio: { type: ['number', 'null'], description: '1 − violations ÷ triggered; null when nothing triggered' },
        })
      ),
    }),
    description: 'A rule’s health over a range with every hour of it (empty hours as zeros)',
  },
  RuleHealthList: object({ from: time, to: time, rules: arrayOf(ref('RuleHealthSummary')) }),
  Health: object({ status: { type: 'string', enum: ['ok'] } }),
  Readiness: object({ ready: bool, tempo: object({ ready: bool, version: str }, ['ready']) }, ['ready']),
} as const;


/** Request bodies documented as components too (the same objects fastify validates with). */
const namedBodies = new WeakMap<object, string>();
const bodyComponents = new Map<string, Json>();

/** Names a request body schema: the document shows it as `#/components/schemas/<name>`. */
export function named<T extends object>(name: string, schema: T): T {
  namedBodies.set(schema, name);
  bodyComponents.set(name, schema as Json);
  return schema;
}

export interface RouteDoc {
  method: string;
  url: string;
  schema?: Record<string, unknown>;
}

/** Routes answered without a token (besides this document itself, the probes and metrics). */
const UNAUTHENTICATED = new Set(['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json']);

/** An OpenAPI 3.1 document from the route schemas and their documented responses. */
export function openApi(routes: readonly RouteDoc[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const url = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const s = r.schema ?? {};
    const parameters: unknown[] = [];
    for (const [where, key] of [
      ['path', 'params'],
      ['query', 'querystring'],
    ] as const) {
      const props = (s[key] as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
      const required = (s[key] as { required?: string[] } | undefined)?.required ?? [];
      for (const [name, schema] of Object.entries(props)) {
        parameters.push({ name, in: where, required: where === 'path' || required.includes(name), schema });
      }
    }
    const declared = (s.responses as ResponsesDoc | undefined) ?? {};
    const responses: Record<string, unknown> = {};
    const add = (status: number, doc: ResponseDoc) => {
      const content = doc.content ?? (doc.schema ? { 'application/json': doc.schema } : undefined);
      responses[status] = content
        ? {
            description: doc.description,
            content: Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }])),
          }
        : { description: doc.description };
    };
    for (const [status, doc] of Object.entries(declared)) {
      add(Number(status), doc);
    }
    const checked = s.body !== undefined || parameters.length > 0;
    if (checked && declared[400] === undefined) {
      add(400, err('A request that does not match this schema (invalid_request, naming the field)'));
    }
    if (s.body !== undefined) {
      add(413, err('The body is larger than 16 MiB'));
      add(415, err('The body is of a media type the API does not read (send application/json)'));
    }
    const secured = url.startsWith('/api/v1') && !UNAUTHENTICATED.has(url);
    if (secured) {
      add(401, err('Missing or wrong bearer token'));
      // Every API route reads or writes the store; a PostgreSQL store that is unreachable answers this.
      add(503, err('The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds'));
    }
    const op: Record<string, unknown> = {
      summary: s.summary ?? '',
      operationId: operationId(r.method, url),
      responses: sortKeys(responses),
    };
    if (parameters.length > 0) op.parameters = parameters;
    if (s.body) {
      const name = namedBodies.get(s.body as object);
      op.requestBody = {
        required: s.bodyOptional !== true,
        content: { 'application/json': { schema: name ? { $ref: `#/components/schemas/${name}` } : s.body } },
      };
    }
    if (secured) op.security = [{ bearer: [] }];
    paths[url] = { ...(paths[url] ?? {}), [r.method]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'BeTrace sidecar API',
      version,
      description:
        'Every /api/v1 route but this document needs `Authorization: Bearer <token>` (BETRACE_API_TOKEN, or a token of the tenants file) and works on that token’s tenant only. Errors are `{ error, message }`. OTLP/HTTP ingest (/v1/traces) is served on its own port and not described here.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { ...COMPONENTS, ...Object.fromEntries(bodyComponents) },
    },
    paths,
  };
}

/** `getApiV1RulesById`: a stable name per operation (the generated types' `operations`). */
function operationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((p) => p !== '')
    .map((p) => (p.startsWith('{') ? `by-${p.slice(1, -1)}` : p))
    .join('-')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '');
  return method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
