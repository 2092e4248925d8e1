#!/usr/bin/env node
// Writes the example traces: for every example rule, OTLP/JSON traces that violate it
// (violates-*.json) and that satisfy it (satisfies-*.json), as an instrumented shop would send
// them. Deterministic: ids derive from the file name, times from a fixed base, so re-running
// it reproduces the committed files byte for byte.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const BASE_NS = 1764028800000000000n; // 2025-11-25T00:00:00Z

const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

function anyValue(v) {
  if (typeof v === 'string') {return { stringValue: v };}
  if (typeof v === 'boolean') {return { boolValue: v };}
  if (typeof v === 'number') {return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };}
  if (Array.isArray(v)) {return { arrayValue: { values: v.map(anyValue) } };}
  throw new Error(`unsupported attribute value ${v}`);
}

const attributes = (o) => Object.entries(o || {}).map(([key, value]) => ({ key, value: anyValue(value) }));

/**
 * spans: [{ id, parent?, name, service, kind?, at (ms), ms (duration), status?, message?, attrs? }]
 */
function trace(file, spans) {
  const hash = (s) => crypto.createHash('sha256').update(`${file}/${s}`).digest('hex');
  const traceId = hash('trace').slice(0, 32);
  const byService = new Map();
  for (const s of spans) {
    const start = BASE_NS + BigInt(Math.round(s.at * 1e6));
    const end = start + BigInt(Math.round(s.ms * 1e6));
    const span = {
      traceId,
      spanId: hash(s.id).slice(0, 16),
      ...(s.parent ? { parentSpanId: hash(s.parent).slice(0, 16) } : {}),
      name: s.name,
      kind: KIND[s.kind || 'internal'],
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(end),
      ...(s.attrs ? { attributes: attributes(s.attrs) } : {}),
      ...(s.status ? { status: { code: s.status === 'error' ? 2 : 1, ...(s.message ? { message: s.message } : {}) } } : {}),
    };
    if (!byService.has(s.service)) {byService.set(s.service, []);}
    byService.get(s.service).push(span);
  }
  return {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: attributes({ 'service.name': service, 'deployment.environment': 'prod' }) },
      scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation', version: '0.57.0' }, spans: list }],
    })),
  };
}

// A checkout request through the shop; `edit` adjusts or adds spans per example.
function checkout(edit = {}) {
  const spans = [
    { id: 'root', name: 'POST /checkout', service: 'frontend', kind: 'server', at: 0, ms: 420, attrs: { 'http.request.method': 'POST', 'http.route': '/checkout', 'http.response.status_code': 200 } },
    { id: 'co', parent: 'root', name: 'checkout', service: 'checkout', at: 5, ms: 400, attrs: { order_id: 'ord-1001', 'user.id': 'u-42' } },
    { id: 'auth', parent: 'co', name: 'auth.check', service: 'auth', at: 8, ms: 6, attrs: { decision: 'allow', 'user.id': 'u-42' } },
    { id: 'fraud', parent: 'co', name: 'payment.fraud_check', service: 'fraud-check', kind: 'client', at: 20, ms: 40, attrs: { order_id: 'ord-1001', score: 0.12 } },
    { id: 'charge', parent: 'co', name: 'payment.charge', service: 'payment', kind: 'client', at: 70, ms: 180, attrs: { order_id: 'ord-1001', amount: 1250, currency: 'USD' } },
    { id: 'inv', parent: 'co', name: 'inventory.reserve', service: 'inventory', at: 260, ms: 60, attrs: { order_id: 'ord-1001', sku: 'SKU-778' } },
    { id: 'q1', parent: 'inv', name: 'database.query', service: 'inventory', kind: 'client', at: 265, ms: 12, attrs: { 'db.system': 'postgresql', 'db.operation': 'UPDATE', 'db.statement': 'UPDATE stock SET reserved = reserved + 1 WHERE sku = $1' } },
  ];
  const out = spans.filter((s) => !(edit.drop || []).includes(s.id)).map((s) => ({ ...s, ...(edit.change && edit.change[s.id]) , attrs: { ...s.attrs, ...(edit.attrs && edit.attrs[s.id]) } }));
  return out.concat(edit.add || []);
}

const q = (id, parent, at, attrs) => ({ id, parent, name: 'database.query', service: 'orders', kind: 'client', at, ms: 3, attrs: { 'db.system': 'postgresql', ...attrs } });

const examples = {
  'bounded-retries': {
    violates: checkout({ add: [1, 2, 3, 4].map((n) => ({ id: `retry${n}`, parent: 'fraud', name: 'http.retry', service: 'fraud-check', kind: 'client', at: 20 + n * 5, ms: 4, attrs: { 'http.resend_count': n } })) }),
    satisfies: checkout({ add: [1, 2].map((n) => ({ id: `retry${n}`, parent: 'fraud', name: 'http.retry', service: 'fraud-check', kind: 'client', at: 20 + n * 5, ms: 4, attrs: { 'http.resend_count': n } })) }),
  },
  'client-timeout-budget': {
    violates: checkout({ change: { charge: { ms: 6200 } }, attrs: { charge: { 'http.url': 'https://psp.example/charge' } } }),
    satisfies: checkout(),
  },
  'n-plus-one-queries': {
    violates: [
      { id: 'root', name: 'GET /orders', service: 'orders', kind: 'server', at: 0, ms: 300, attrs: { 'http.route': '/orders', 'http.response.status_code': 200 } },
      q('list', 'root', 2, { 'db.operation': 'SELECT', 'db.statement': 'SELECT id FROM orders WHERE user_id = $1' }),
      ...Array.from({ length: 30 }, (_v, i) => q(`item${i}`, 'root', 6 + i * 4, { 'db.operation': 'SELECT', 'db.statement': 'SELECT * FROM order_items WHERE order_id = $1' })),
    ],
    satisfies: [
      { id: 'root', name: 'GET /orders', service: 'orders', kind: 'server', at: 0, ms: 40, attrs: { 'http.route': '/orders', 'http.response.status_code': 200 } },
      q('list', 'root', 2, { 'db.operation': 'SELECT', 'db.statement': 'SELECT id FROM orders WHERE user_id = $1' }),
      q('items', 'root', 8, { 'db.operation': 'SELECT', 'db.statement': 'SELECT * FROM order_items WHERE order_id = ANY($1)' }),
    ],
  },
  'pii-query-needs-auth': {
    violates: checkout({ drop: ['auth'], add: [q('pii', 'co', 12, { 'db.operation': 'SELECT', 'db.statement': 'SELECT email, phone FROM customers WHERE id = $1', 'data.contains_pii': true })] }),
    satisfies: checkout({ add: [q('pii', 'co', 16, { 'db.operation': 'SELECT', 'db.statement': 'SELECT email, phone FROM customers WHERE id = $1', 'data.contains_pii': true })] }),
  },
  'server-errors-explain-themselves': {
    violates: checkout({ change: { root: { status: 'error' } }, attrs: { root: { 'http.response.status_code': 500 } } }),
    satisfies: checkout({ change: { root: { status: 'error', message: 'payment provider unavailable' } }, attrs: { root: { 'http.response.status_code': 503 } } }),
  },
  'orders-post-answers': {
    violates: [
      { id: 'root', name: 'POST /orders', service: 'orders', kind: 'server', at: 0, ms: 80, status: 'error', message: 'db unavailable', attrs: { 'http.route': '/orders', 'http.response.status_code': 503 } },
      q('ins', 'root', 5, { 'db.operation': 'INSERT', 'db.statement': 'INSERT INTO orders (user_id) VALUES ($1)' }),
    ],
    satisfies: [
      { id: 'root', name: 'POST /orders', service: 'orders', kind: 'server', at: 0, ms: 20, attrs: { 'http.route': '/orders', 'http.response.status_code': 422 } },
    ],
  },
  'payment-fraud-check': {
    violates: checkout({ attrs: { fraud: { order_id: 'ord-0999' } } }),
    satisfies: checkout(),
  },
  'checkout-reserves-inventory': {
    violates: checkout({ drop: ['inv', 'q1'] }),
    satisfies: checkout(),
  },
  'no-auto-approve': {
    violates: checkout({ add: [{ id: 'auto', parent: 'charge', name: 'payment.auto_approve', service: 'payment', at: 75, ms: 1, attrs: { reason: 'trusted_customer' } }] }),
    satisfies: checkout(),
  },
  'soc2-cc6-1-access-control': {
    violates: checkout({ change: { auth: { at: 300 } }, add: [q('conf', 'co', 100, { 'db.operation': 'SELECT', 'db.statement': 'SELECT * FROM contracts WHERE id = $1', 'data.classification': 'confidential' })] }),
    satisfies: checkout({ add: [q('conf', 'co', 100, { 'db.operation': 'SELECT', 'db.statement': 'SELECT * FROM contracts WHERE id = $1', 'data.classification': 'confidential' })] }),
  },
  'soc2-cc7-2-payment-failures-audited': {
    violates: checkout({ change: { charge: { status: 'error', message: 'card declined' } } }),
    satisfies: checkout({
      change: { charge: { status: 'error', message: 'card declined' } },
      add: [{ id: 'audit', parent: 'charge', name: 'audit.log', service: 'payment', at: 252, ms: 2, attrs: { event: 'payment_failed', order_id: 'ord-1001' } }],
    }),
  },
  'hipaa-164-312-b-phi-audit': {
    violates: [
      { id: 'root', name: 'GET /patients/{id}', service: 'ehr-api', kind: 'server', at: 0, ms: 60, attrs: { 'http.route': '/patients/{id}', 'http.response.status_code': 200 } },
      { id: 'read', parent: 'root', name: 'patient.read', service: 'ehr-api', at: 4, ms: 40, attrs: { 'phi.record_id': 'mrn-55012' } },
    ],
    satisfies: [
      { id: 'root', name: 'GET /patients/{id}', service: 'ehr-api', kind: 'server', at: 0, ms: 60, attrs: { 'http.route': '/patients/{id}', 'http.response.status_code': 200 } },
      { id: 'read', parent: 'root', name: 'patient.read', service: 'ehr-api', at: 4, ms: 40, attrs: { 'phi.record_id': 'mrn-55012' } },
      { id: 'audit', parent: 'read', name: 'audit.log', service: 'ehr-api', at: 40, ms: 2, attrs: { event: 'phi_read', actor: 'dr-7' } },
    ],
  },
  'pci-card-data-encrypted': {
    violates: checkout({ add: [q('card', 'charge', 90, { 'db.operation': 'INSERT', 'db.statement': 'INSERT INTO saved_cards (card_number, exp) VALUES ($1, $2)' })] }),
    satisfies: checkout({ add: [q('card', 'charge', 90, { 'db.operation': 'INSERT', 'db.statement': 'INSERT INTO saved_cards (card_number, exp) VALUES ($1, $2)', 'db.encrypted': true })] }),
  },
};

for (const [ruleId, cases] of Object.entries(examples)) {
  const dir = path.join(__dirname, ruleId);
  fs.mkdirSync(dir, { recursive: true });
  for (const [verdict, spans] of Object.entries(cases)) {
    const file = `${verdict}-1.json`;
    fs.writeFileSync(path.join(dir, file), JSON.stringify(trace(`${ruleId}/${file}`, spans), null, 2) + '\n');
  }
}
