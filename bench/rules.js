'use strict';
// The benchmark's rules, three ways: BeTrace rule text, the same rules written by hand as plain
// JavaScript over the same normalized traces, and the same rules for json-rules-engine.
// The three must agree on which traces fire (tests/unit/benchCorpus.test.ts checks it).

const NS = 1e6;

/** Ten realistic rules; `v` varies thresholds so 100 rules are 100 distinct, live rules. */
function ruleTexts(v = 0) {
  return [
    `when { p: payment.charge.where(amount > ${1000 + v * 10}) } always { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }`,
    `trace.count(http.retry) > ${3 + (v % 3)}`,
    `*.where(kind == client and duration > ${5000 + v}ms)`,
    `count(database.query.where("db.operation" == "SELECT")) > ${25 + v}`,
    'when { q: database.query.where("data.contains_pii" == true) } always { auth.check.before(q) }',
    `*.where(kind == server and status == error and status_message == "")`,
    'when { checkout.where(status != error) } always { inventory.reserve.descendant_of(checkout) }',
    'when { payment.charge } never { payment.auto_approve or payment.skip_verification }',
    'when { r: *.where(exists("phi.record_id")) } always { audit.log.child_of(r) }',
    `database.query.where("db.statement" matches "(?i)insert into .*card" and not "db.encrypted")`,
  ];
}

// ---------------------------------------------------------------- by hand

/** What a competent developer writes per rule: a loop over the trace's spans, no shared index. */
function handWritten(v = 0) {
  const within = 5000 * NS;
  return [
    (t) => {
      const charges = [];
      for (const s of t.spans) {if (s.name === 'payment.charge' && s.attrs.amount > 1000 + v * 10) {charges.push(s);}}
      if (charges.length === 0) {return false;}
      for (const p of charges) {
        let ok = false;
        for (const f of t.spans) {
          if (f.name === 'payment.fraud_check' && f.attrs.order_id === p.attrs.order_id) {
            const gap = Number(p.startNs - f.startNs);
            if (gap > 0 && gap <= within) {
              ok = true;
              break;
            }
          }
        }
        if (!ok) {return true;}
      }
      return false;
    },
    (t) => {
      let n = 0;
      for (const s of t.spans) {if (s.name === 'http.retry') {n++;}}
      return n > 3 + (v % 3);
    },
    (t) => {
      for (const s of t.spans) {if (s.kind === 'client' && s.durationNs > (5000 + v) * NS) {return true;}}
      return false;
    },
    (t) => {
      let n = 0;
      for (const s of t.spans) {if (s.name === 'database.query' && s.attrs['db.operation'] === 'SELECT') {n++;}}
      return n > 25 + v;
    },
    (t) => {
      for (const q of t.spans) {
        if (q.name !== 'database.query' || q.attrs['data.contains_pii'] !== true) {continue;}
        let ok = false;
        for (const a of t.spans) {if (a.name === 'auth.check' && a.startNs < q.startNs) {ok = true;}}
        if (!ok) {return true;}
      }
      return false;
    },
    (t) => {
      for (const s of t.spans) {if (s.kind === 'server' && s.status === 'error' && s.statusMessage === '') {return true;}}
      return false;
    },
    (t) => {
      const checkouts = t.spans.filter((s) => s.name === 'checkout' && s.status !== 'error');
      if (checkouts.length === 0) {return false;}
      const byId = new Map(t.spans.map((s) => [s.spanId, s]));
      for (const inv of t.spans) {
        if (inv.name !== 'inventory.reserve') {continue;}
        for (let p = byId.get(inv.parentSpanId); p; p = byId.get(p.parentSpanId)) {if (p.name === 'checkout') {return false;}}
      }
      return true;
    },
    (t) => {
      let charge = false;
      let bad = false;
      for (const s of t.spans) {
        if (s.name === 'payment.charge') {charge = true;}
        if (s.name === 'payment.auto_approve' || s.name === 'payment.skip_verification') {bad = true;}
      }
      return charge && bad;
    },
    (t) => {
      for (const r of t.spans) {
        if (r.attrs['phi.record_id'] === undefined) {continue;}
        let ok = false;
        for (const a of t.spans) {if (a.name === 'audit.log' && a.parentSpanId === r.spanId) {ok = true;}}
        if (!ok) {return true;}
      }
      return false;
    },
    (t) => {
      const re = /insert into .*card/i;
      for (const s of t.spans) {if (s.name === 'database.query' && typeof s.attrs['db.statement'] === 'string' && re.test(s.attrs['db.statement']) && s.attrs['db.encrypted'] !== true) {return true;}}
      return false;
    },
  ];
}

// ---------------------------------------------------------------- json-rules-engine

/**
 * json-rules-engine evaluates conditions over facts; trace-shaped rules need the trace logic in
 * fact functions (as a Node developer would write them), with the engine combining the facts.
 * Each engine run is one trace; facts are computed lazily by the almanac.
 */
function jsonRulesEngine(Engine, v = 0) {
  const engine = new Engine([], { allowUndefinedFacts: true });
  const spans = (params, almanac) => almanac.factValue('trace').then((t) => t.spans);
  engine.addFact('spansNamed', (params, almanac) => spans(params, almanac).then((list) => list.filter((s) => s.name === params.name)));
  engine.addFact('countNamed', (params, almanac) => almanac.factValue('spansNamed', { name: params.name }).then((l) => l.length));
  engine.addOperator('anySpan', (list, cond) => list.some((s) => cond(s)));
  const hand = handWritten(v);
  // The conditions of rules whose logic is structural (ordering, ancestry) live in fact
  // functions: the engine has no way to say "before" or "descendant of".
  hand.forEach((fn, i) => engine.addFact(`rule${i}`, (params, almanac) => almanac.factValue('trace').then((t) => fn(t))));
  const rule = (name, conditions) => engine.addRule({ name, conditions, event: { type: name } });
  rule('r0', { all: [{ fact: 'rule0', operator: 'equal', value: true }] });
  rule('r1', { all: [{ fact: 'countNamed', params: { name: 'http.retry' }, operator: 'greaterThan', value: 3 + (v % 3) }] });
  rule('r2', { all: [{ fact: 'rule2', operator: 'equal', value: true }] });
  rule('r3', { all: [{ fact: 'rule3', operator: 'equal', value: true }] });
  rule('r4', { all: [{ fact: 'rule4', operator: 'equal', value: true }] });
  rule('r5', { all: [{ fact: 'rule5', operator: 'equal', value: true }] });
  rule('r6', { all: [{ fact: 'rule6', operator: 'equal', value: true }] });
  rule('r7', {
    all: [
      { fact: 'countNamed', params: { name: 'payment.charge' }, operator: 'greaterThan', value: 0 },
      {
        any: [
          { fact: 'countNamed', params: { name: 'payment.auto_approve' }, operator: 'greaterThan', value: 0 },
          { fact: 'countNamed', params: { name: 'payment.skip_verification' }, operator: 'greaterThan', value: 0 },
        ],
      },
    ],
  });
  rule('r8', { all: [{ fact: 'rule8', operator: 'equal', value: true }] });
  rule('r9', { all: [{ fact: 'rule9', operator: 'equal', value: true }] });
  return engine;
}

module.exports = { ruleTexts, handWritten, jsonRulesEngine };
