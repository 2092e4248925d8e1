'use strict';
// A deterministic corpus of realistic shop traces in the normalized model (packages/evaluator
// model.ts): 5 to 200 spans, ~30 on average, ~10 attributes a span, bigint timestamps.

/** mulberry32: a small seeded PRNG, so every run measures the same traces. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE_NS = 1764028800000000000n;
const SERVICES = ['frontend', 'checkout', 'payment', 'fraud-check', 'inventory', 'orders', 'auth', 'catalog'];

function makeCorpus(count, seed = 42) {
  const r = rng(seed);
  const pick = (list) => list[Math.floor(r() * list.length)];
  const hex = (n) => {
    let s = '';
    for (let i = 0; i < n; i++) {s += '0123456789abcdef'[Math.floor(r() * 16)];}
    return s;
  };
  const traces = [];
  let totalSpans = 0;
  for (let t = 0; t < count; t++) {
    const traceId = hex(32);
    const spans = [];
    const orderId = `ord-${Math.floor(r() * 1e6)}`;
    const userId = `u-${Math.floor(r() * 1e5)}`;
    const add = (parent, name, service, kind, atMs, ms, attrs, status = 'unset', statusMessage = '') => {
      const startNs = BASE_NS + BigInt(t) * 1000000000n + BigInt(Math.round(atMs * 1e6));
      const durationNs = Math.round(ms * 1e6);
      const span = {
        traceId,
        spanId: hex(16),
        parentSpanId: parent ? parent.spanId : undefined,
        name,
        kind,
        status,
        statusMessage,
        startNs,
        endNs: startNs + BigInt(durationNs),
        durationNs,
        service,
        attrs: {
          'net.peer.name': `${service}.svc`,
          'thread.id': Math.floor(r() * 64),
          'code.function': `${name}.handle`,
          'user.id': userId,
          'deployment.region': pick(['eu-west-1', 'us-east-1']),
          'sampling.priority': 1,
          ...attrs,
        },
        resource: { 'service.name': service, 'service.version': '1.4.2', 'deployment.environment': 'prod', 'host.name': `${service}-${Math.floor(r() * 8)}` },
        events: [],
        links: [],
      };
      spans.push(span);
      return span;
    };
    const http = (extra) => ({ 'http.request.method': 'POST', 'http.route': '/checkout', 'http.response.status_code': 200, ...extra });
    const failed = r() < 0.03;
    const root = add(null, 'POST /checkout', 'frontend', 'server', 0, 400 + r() * 400, http({ 'http.response.status_code': failed ? 500 : 200 }), failed ? 'error' : 'unset', failed && r() < 0.5 ? '' : failed ? 'upstream failed' : '');
    const co = add(root, 'checkout', 'checkout', 'internal', 5, 380, { order_id: orderId, 'cart.items': 1 + Math.floor(r() * 6), 'cart.value': Math.round(r() * 3000), currency: pick(['USD', 'EUR']) });
    if (r() > 0.02) {add(co, 'auth.check', 'auth', 'client', 8, 5, { decision: r() < 0.98 ? 'allow' : 'deny', 'auth.method': 'jwt', 'auth.scope': 'orders:write', 'auth.issuer': 'idp' });}
    const amount = Math.round(r() * 2500);
    const fraudFirst = r() > 0.02;
    if (amount > 800 && fraudFirst) {add(co, 'payment.fraud_check', 'fraud-check', 'client', 20, 30, { order_id: orderId, score: r(), 'fraud.model': 'v7', 'fraud.decision': 'pass' });}
    const chargeFailed = r() < 0.04;
    const charge = add(co, 'payment.charge', 'payment', 'client', 60, r() < 0.005 ? 6000 : 150, { order_id: orderId, amount, currency: pick(['USD', 'EUR']), 'payment.method': pick(['card', 'wallet']), 'payment.provider': 'psp' }, chargeFailed ? 'error' : 'ok', chargeFailed ? 'card declined' : '');
    if (chargeFailed && r() < 0.9) {add(charge, 'audit.log', 'payment', 'internal', 215, 1, { event: 'payment_failed', order_id: orderId, actor: 'system', 'audit.sink': 'kafka' });}
    if (r() < 0.01) {add(charge, 'payment.auto_approve', 'payment', 'internal', 62, 1, { reason: 'trusted' });}
    const retries = r() < 0.05 ? 2 + Math.floor(r() * 4) : 0;
    for (let i = 0; i < retries; i++) {add(charge, 'http.retry', 'payment', 'client', 70 + i * 10, 8, { 'http.resend_count': i + 1, 'http.request.method': 'POST', 'server.address': 'psp.example' });}
    let inv;
    if (r() > 0.01) {inv = add(co, 'inventory.reserve', 'inventory', 'internal', 230, 60, { order_id: orderId, sku: `SKU-${Math.floor(r() * 999)}`, 'inventory.warehouse': 'w1', quantity: 1 });}
    // Database work: the bulk of span counts, and the long tail of big traces.
    const queries = Math.floor(r() < 0.1 ? 40 + r() * 150 : r() * 24);
    for (let i = 0; i < queries; i++) {
      const pii = r() < 0.05;
      const insertCard = r() < 0.01;
      add(pick([co, inv || co, charge]), 'database.query', pick(['orders', 'inventory', 'payment']), 'client', 240 + i, 2 + r() * 5, {
        'db.system': 'postgresql',
        'db.operation': insertCard ? 'INSERT' : pick(['SELECT', 'SELECT', 'SELECT', 'UPDATE']),
        'db.statement': insertCard ? 'INSERT INTO saved_cards (card_number) VALUES ($1)' : 'SELECT * FROM order_items WHERE order_id = $1',
        'db.name': 'shop',
        'data.contains_pii': pii,
        ...(insertCard && r() < 0.5 ? { 'db.encrypted': true } : {}),
      });
    }
    if (r() < 0.02) {add(root, 'patient.read', 'catalog', 'internal', 30, 5, { 'phi.record_id': `mrn-${Math.floor(r() * 1e5)}` });}
    let rootStart = spans[0].startNs;
    let end = spans[0].endNs;
    for (const s of spans) {
      if (s.endNs > end) {end = s.endNs;}
      if (s.startNs < rootStart) {rootStart = s.startNs;}
    }
    totalSpans += spans.length;
    traces.push({ traceId, spans, rootSpan: spans[0], startNs: rootStart, endNs: end });
  }
  void SERVICES;
  return { traces, totalSpans };
}

function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (Number.isInteger(v)) return { intValue: String(v) };
  return { doubleValue: v };
}

const KIND = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const STATUS = { unset: 0, ok: 1, error: 2 };

/**
 * Normalized traces → OTLP request objects (protobufjs' plain shape), `perRequest` traces a
 * request, spans grouped by service as SDKs send them; `ids` turns a hex id into the wire's form.
 */
function toOtlpRequests(traces, ids, perRequest) {
  const requests = [];
  for (let i = 0; i < traces.length; i += perRequest) {
    const byService = new Map();
    for (const t of traces.slice(i, i + perRequest)) {
      for (const s of t.spans) {
        if (!byService.has(s.service)) byService.set(s.service, { resource: s.resource, spans: [] });
        byService.get(s.service).spans.push({
          traceId: ids(s.traceId),
          spanId: ids(s.spanId),
          ...(s.parentSpanId ? { parentSpanId: ids(s.parentSpanId) } : {}),
          name: s.name,
          kind: KIND[s.kind],
          startTimeUnixNano: s.startNs.toString(),
          endTimeUnixNano: s.endNs.toString(),
          attributes: Object.entries(s.attrs).map(([key, v]) => ({ key, value: anyValue(v) })),
          status: { code: STATUS[s.status], ...(s.statusMessage ? { message: s.statusMessage } : {}) },
        });
      }
    }
    requests.push({
      resourceSpans: [...byService.values()].map((g) => ({
        resource: { attributes: Object.entries(g.resource).map(([key, v]) => ({ key, value: anyValue(v) })) },
        scopeSpans: [{ scope: { name: 'bench' }, spans: g.spans }],
      })),
    });
  }
  return requests;
}

module.exports = { makeCorpus, rng, toOtlpRequests };
