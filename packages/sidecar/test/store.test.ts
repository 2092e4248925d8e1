import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { RuleDefinition, Violation } from '@betrace/evaluator';
import { signalId, Store, StoreError } from '../src/store';

const violation = (traceId: string, boundSpanId?: string): Violation => ({
  ruleId: 'r1',
  traceId,
  ...(boundSpanId ? { boundSpanId } : {}),
  matchedSpanIds: ['00000000000000aa'],
  message: 'boom',
  severity: 'high',
});
const rule: RuleDefinition = { id: 'r1', name: 'Rule one', severity: 'high', enabled: true, condition: 'a' };

function tmpStore(): { store: Store; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-store-'));
  const file = path.join(dir, 'betrace.db');
  return { store: new Store(file), file };
}

describe('signals', () => {
  it('have deterministic ids: storing the same violation twice keeps one signal and one outbox row per writer', () => {
    const { store } = tmpStore();
    const t = 'ab'.repeat(16);
    const first = store.addSignals('default', [{ violation: violation(t, '0000000000000001'), ruleVersion: 1, ruleName: 'Rule one', source: 'push' }], ['grafana', 'otlp'], 1000);
    const again = store.addSignals('default', [{ violation: violation(t, '0000000000000001'), ruleVersion: 1, ruleName: 'Rule one', source: 'pull' }], ['grafana', 'otlp'], 2000);
    expect(first.map((s) => s.id)).toEqual([signalId('default', 'r1', t, '0000000000000001')]);
    expect(again).toEqual([]);
    expect(store.listSignals('default').total).toBe(1);
    expect([store.outboxDepth('grafana'), store.outboxDepth('otlp')]).toEqual([1, 1]);
    expect(signalId('default', 'r1', t, undefined)).not.toBe(signalId('default', 'r1', t, '0000000000000001'));
    expect(signalId('other', 'r1', t, undefined)).not.toBe(signalId('default', 'r1', t, undefined));
  });

  it('survive a reopen of the database file', () => {
    const { store, file } = tmpStore();
    store.addSignals('default', [{ violation: violation('cd'.repeat(16)), ruleVersion: 1, ruleName: 'Rule one', source: 'push' }], ['webhook'], 1000);
    store.close();
    const reopened = new Store(file);
    expect(reopened.listSignals('default').signals.map((s) => s.traceId)).toEqual(['cd'.repeat(16)]);
    expect(reopened.dueOutbox('webhook', 1000, 10).map((o) => o.signal.traceId)).toEqual(['cd'.repeat(16)]);
    reopened.close();
  });

  it('filter, page and stay within their tenant', () => {
    const { store } = tmpStore();
    const add = (tenant: string, n: number, at: number) =>
      store.addSignals(tenant, [{ violation: { ...violation(n.toString(16).padStart(32, '0')), message: `msg ${n}` }, ruleVersion: 1, ruleName: 'Rule one', source: 'push', service: n % 2 ? 'pay' : 'web' }], [], at);
    for (let i = 1; i <= 5; i++) {
      add('a', i, i * 10);
    }
    add('b', 99, 5);
    expect(store.listSignals('a', { limit: 2 }).signals.map((s) => s.message)).toEqual(['msg 5', 'msg 4']);
    expect(store.listSignals('a', { limit: 2, offset: 2 }).signals.map((s) => s.message)).toEqual(['msg 3', 'msg 2']);
    expect(store.listSignals('a', { from: 20, to: 40 }).signals.map((s) => s.message)).toEqual(['msg 3', 'msg 2']);
    expect(store.listSignals('a', { service: 'pay' }).total).toBe(3);
    expect(store.listSignals('a', { text: 'MSG 4' }).signals.map((s) => s.message)).toEqual(['msg 4']);
    expect(store.listSignals('a').total).toBe(5);
    expect(store.listSignals('b').signals.map((s) => s.message)).toEqual(['msg 99']);
    expect(store.getSignal('b', store.listSignals('a').signals[0].id)).toBeUndefined();
  });

  it('filter by trace id, in any case, within their tenant', () => {
    const { store } = tmpStore();
    const t = 'AB'.repeat(16);
    store.addSignals('a', [{ violation: violation(t.toLowerCase()), ruleVersion: 1, ruleName: 'Rule one', source: 'push' }], [], 10);
    store.addSignals('a', [{ violation: { ...violation(t.toLowerCase()), ruleId: 'r2' }, ruleVersion: 1, ruleName: 'Rule two', source: 'push' }], [], 20);
    store.addSignals('a', [{ violation: violation('cd'.repeat(16)), ruleVersion: 1, ruleName: 'Rule one', source: 'push' }], [], 30);
    store.addSignals('b', [{ violation: violation(t.toLowerCase()), ruleVersion: 1, ruleName: 'Rule one', source: 'push' }], [], 40);
    expect(store.listSignals('a', { traceId: t }).signals.map((s) => s.ruleId)).toEqual(['r2', 'r1']);
    expect(store.listSignals('a', { traceId: 'cd'.repeat(16) }).total).toBe(1);
    expect(store.listSignals('a', { traceId: 'ef'.repeat(16) }).total).toBe(0);
    expect(store.listSignals('b', { traceId: t }).total).toBe(1);
  });

  it('move through their lifecycle with who, when and a note', () => {
    const { store } = tmpStore();
    const [s] = store.addSignals('default', [{ violation: violation('ef'.repeat(16)), ruleVersion: 1, ruleName: 'Rule one', source: 'push' }], [], 1);
    store.changeSignalStatus('default', s.id, 'acknowledged', 'ana', 'looking', 2);
    expect(store.changeSignalStatus('default', s.id, 'false_positive', 'bo', 'test traffic', 3).status).toBe('false_positive');
    expect(() => store.changeSignalStatus('default', s.id, 'resolved', 'bo', '', 4)).toThrow(new StoreError('conflict', 'a false_positive signal cannot become resolved (allowed: open)'));
    expect(store.signalChanges('default', s.id)).toEqual([
      { at: 2, who: 'ana', from: 'open', to: 'acknowledged', note: 'looking' },
      { at: 3, who: 'bo', from: 'acknowledged', to: 'false_positive', note: 'test traffic' },
    ]);
    expect(() => store.changeSignalStatus('other', s.id, 'resolved', 'x', '', 5)).toThrow(/no signal/);
  });
});

describe('outbox', () => {
  it('hands out due items oldest first and keeps failed ones for later', () => {
    const { store } = tmpStore();
    store.addSignals('default', [1, 2].map((n) => ({ violation: violation(String(n).repeat(32)), ruleVersion: 1, ruleName: 'Rule one', source: 'push' as const })), ['w'], 100);
    const [a, b] = store.dueOutbox('w', 100, 10);
    store.completeOutbox(a.id);
    store.retryOutbox(b.id, 500, 'connection refused');
    expect(store.dueOutbox('w', 499, 10)).toEqual([]);
    expect(store.dueOutbox('w', 500, 10).map((o) => [o.id, o.attempts])).toEqual([[b.id, 1]]);
    expect(store.outboxDepth('w')).toBe(1);
  });
});

describe('rules', () => {
  it('keep every version, roll back as a new version, and refuse changes to provisioned rules', () => {
    const { store } = tmpStore();
    store.saveRule('default', rule, 'ana', 'first', 1, { create: true });
    store.saveRule('default', { ...rule, condition: 'b' }, 'bo', 'tighter', 2);
    expect(store.getRule('default', 'r1')?.definition.condition).toBe('b');
    expect(store.rollbackRule('default', 'r1', 1, 'cy', 3)).toMatchObject({ version: 3, definition: { condition: 'a', version: 3 } });
    expect(store.ruleHistory('default', 'r1').map((v) => [v.version, v.createdBy, v.note])).toEqual([
      [3, 'cy', 'rollback to version 1'],
      [2, 'bo', 'tighter'],
      [1, 'ana', 'first'],
    ]);
    expect(() => store.saveRule('default', rule, 'ana', '', 4, { create: true })).toThrow(/already exists/);
    store.saveRule('default', { ...rule, id: 'prov' }, 'provisioning', 'rules/a.yaml', 5, { provisioned: true });
    store.saveRule('default', { ...rule, id: 'prov' }, 'provisioning', 'rules/a.yaml', 6, { provisioned: true });
    expect(store.ruleHistory('default', 'prov')).toHaveLength(1);
    expect(() => store.saveRule('default', { ...rule, id: 'prov', condition: 'c' }, 'ana', '', 7)).toThrow(new StoreError('conflict', 'rule prov is provisioned from a rule file and read-only here'));
    expect(() => store.deleteRule('default', 'prov', 'ana', 8)).toThrow(/read-only/);
    store.deleteRule('default', 'r1', 'ana', 9);
    expect(store.listRules('default').map((r) => r.definition.id)).toEqual(['prov']);
    expect(store.listRules('elsewhere')).toEqual([]);
  });
});
