/**
 * What trace assembly keeps for the ingest log: the oldest log position each held trace needs
 * (until it is let go), the newest handed to onReady, decided traces held after a restart, and a
 * trace whose evaluation throws kept pending and tried again.
 */
import { buildTrace, Span, Trace } from '@betrace/evaluator';
import { RETRY_FAILED_MS, TraceAssembler } from '../src/ingest/assembler';

/** A trace of `spans` spans, numbered from `from` (a later piece of the same trace: spans of other ids). */
function trace(id: string, spans: number, from = 0): Trace {
  const traceId = id.padStart(32, '0');
  const list: Span[] = Array.from({ length: spans }, (_, k) => from + k).map((i) => ({
    traceId,
    spanId: `${id}${i}`.padStart(16, '0'),
    name: `s${i}`,
    kind: 'internal',
    status: 'unset',
    statusMessage: '',
    startNs: 0n,
    endNs: 1n,
    durationNs: 1n,
    service: 'svc',
    attrs: {},
    resource: {},
  })) as unknown as Span[];
  return buildTrace(traceId, list);
}

function assembler(onReady: (tenant: string, t: Trace, position: number | undefined) => void, clock: { now: number }) {
  return new TraceAssembler({ decisionWaitMs: 100, maxTraceAgeMs: 1000, maxSpans: 1000, maxBytes: 1e6, now: () => clock.now, onReady, onDrop: () => undefined });
}

describe('trace assembly with the ingest log', () => {
  it('pins the oldest position of every held trace until it is let go, and hands the newest to onReady', () => {
    const clock = { now: 0 };
    const ready: Array<[string, number | undefined]> = [];
    const a = assembler((_t, t, p) => ready.push([t.traceId.slice(-1), p]), clock);
    a.add('default', [trace('a', 2)], 100, { position: 10 });
    a.add('default', [trace('b', 1)], 100, { position: 11 });
    a.add('default', [trace('a', 1, 2)], 100, { position: 12 });
    expect(a.oldestPosition()).toBe(10);
    clock.now = 200;
    expect(a.tick()).toBe(2);
    expect(ready.sort()).toEqual([['a', 12], ['b', 11]]);
    expect(a.oldestPosition()).toBe(10); // held for late spans: still needed
    clock.now = 1300;
    a.tick();
    expect(a.oldestPosition()).toBeUndefined();
  });

  it('keeps a trace whose evaluation throws, and evaluates it again after RETRY_FAILED_MS', () => {
    const clock = { now: 0 };
    let fail = true;
    const done: string[] = [];
    const a = assembler((_t, t) => {
      if (fail) {
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      }
      done.push(t.traceId);
    }, clock);
    a.add('default', [trace('c', 3)], 100, { position: 5 });
    clock.now = 200;
    expect(a.tick()).toBe(0);
    expect(a.drain()).toBe(0);
    expect(a.oldestPosition()).toBe(5);
    fail = false;
    clock.now = 200 + RETRY_FAILED_MS - 1;
    expect(a.tick()).toBe(0);
    clock.now = 200 + RETRY_FAILED_MS;
    expect(a.tick()).toBe(1);
    expect(done).toHaveLength(1);
  });

  it('holds a trace read back after a restart as evaluated when it was decided with all its spans, and evaluates it when it was not', () => {
    const clock = { now: 5000 };
    const done: string[] = [];
    const a = assembler((_t, t) => done.push(t.traceId.slice(-1)), clock);
    a.add('default', [trace('d', 2)], 100, { position: 1, at: 100, force: true });
    a.add('default', [trace('e', 2)], 100, { position: 2, at: 100, force: true });
    a.add('default', [trace('e', 1, 2)], 100, { position: 3, at: 200, force: true }); // a span after e's decision
    const decided = new Map([['d', 1], ['e', 2]]);
    expect(a.settleDecided((_t, id) => decided.get(id.slice(-1)))).toBe(1);
    expect(a.tick()).toBe(1); // received long ago: due at once
    expect(done).toEqual(['e']);
  });

  it('buffers a forced (already durable) batch even past its bounds', () => {
    const a = new TraceAssembler({ decisionWaitMs: 100, maxTraceAgeMs: 1000, maxSpans: 2, maxBytes: 1e6, now: () => 0, onReady: () => undefined, onDrop: () => undefined });
    expect(a.room(3, 10)).toBe(false);
    expect(a.add('default', [trace('f', 3)], 10).accepted).toBe(false);
    expect(a.add('default', [trace('f', 3)], 10, { force: true }).accepted).toBe(true);
    expect(a.bufferedSpans).toBe(3);
  });

  it('takes a batch holding a trace of more spans than a spread call can pass', () => {
    const clock = { now: 0 };
    const a = new TraceAssembler({ decisionWaitMs: 100, maxTraceAgeMs: 1000, maxSpans: 1e6, maxBytes: 1e9, now: () => clock.now, onReady: () => undefined, onDrop: () => undefined });
    const one = trace('f', 1);
    // Distinct span ids: copies of one span would be held once.
    const big: Trace = { ...one, spans: Array.from({ length: 200_000 }, (_, i) => ({ ...one.spans[0], spanId: i.toString(16).padStart(16, '0') })) };
    expect(() => a.add('default', [big], 1000)).not.toThrow();
    expect(a.bufferedSpans).toBe(200_000);
  });
});
