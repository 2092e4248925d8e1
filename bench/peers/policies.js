'use strict';
// Ten BeTrace rules and the ten tail_sampling policies that decide the same traces, on
// attributes of the shop corpus (bench/corpus.js). A BeTrace rule raises a signal for a trace
// where the policy samples it, so "traces with a signal" and "traces the Collector sampled" must
// be the same set; peers.bench.js checks that on every run.

/** [id, BeTrace condition, tail_sampling policy (type and its settings)]. */
const PAIRS = [
  ['auth-denied', '*.where(decision == "deny")', { type: 'string_attribute', string_attribute: { key: 'decision', values: ['deny'] } }],
  [
    'card-insert',
    '*.where("db.statement" matches "(?i)insert into .*card")',
    { type: 'string_attribute', string_attribute: { key: 'db.statement', values: ['(?i)insert into .*card'], enabled_regex_matching: true } },
  ],
  ['large-amount', '*.where(amount >= 2400)', { type: 'numeric_attribute', numeric_attribute: { key: 'amount', min_value: 2400, max_value: 1000000000 } }],
  ['error-status', 'trace.has_error', { type: 'status_code', status_code: { status_codes: ['ERROR'] } }],
  ['slow-trace', 'trace.duration > 5s', { type: 'latency', latency: { threshold_ms: 5000 } }],
  ['big-trace', 'trace.span_count >= 30', { type: 'span_count', span_count: { min_spans: 30 } }],
  ['encrypted-write', '*.where("db.encrypted" == true)', { type: 'boolean_attribute', boolean_attribute: { key: 'db.encrypted', value: true } }],
  ['auto-approve', 'payment.auto_approve', { type: 'ottl_condition', ottl_condition: { error_mode: 'ignore', span: ['span.name == "payment.auto_approve"'] } }],
  [
    'server-5xx',
    '*.where(kind == server and "http.response.status_code" >= 500)',
    { type: 'ottl_condition', ottl_condition: { error_mode: 'ignore', span: ['span.kind == SPAN_KIND_SERVER and span.attributes["http.response.status_code"] >= 500'] } },
  ],
  ['phi-access', '*.where(exists("phi.record_id"))', { type: 'ottl_condition', ottl_condition: { error_mode: 'ignore', span: ['span.attributes["phi.record_id"] != nil'] } }],
];

/** The rules as a BeTrace rule file (RULES_DIR). JSON is YAML, so no YAML writer is needed. */
function rulesFile() {
  return JSON.stringify({
    rules: PAIRS.map(([id, condition]) => ({ id, name: id, severity: 'medium', condition, enabled: true })),
  });
}

/** The policies for the tail_sampling processor's `policies` list. */
function policies() {
  return PAIRS.map(([id, , policy]) => ({ name: id, ...policy }));
}

module.exports = { PAIRS, rulesFile, policies };
