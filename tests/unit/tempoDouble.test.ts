/**
 * The Tempo double answers in Tempo's own formats: pinned against the real response bodies in
 * tests/fixtures/tempo (copied from grafana/tempo; ../shared/fixtures/tempo in CI).
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodeTempoTrace } from '@betrace/evaluator';
import { TempoDouble } from '../support/tempoDouble';

const fixtures = path.join(__dirname, '../fixtures/tempo');
const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(fixtures, name), 'utf8'));

describe('the Tempo double', () => {
  const tempo = new TempoDouble();
  let url = '';
  beforeAll(async () => {
    url = await tempo.start();
    tempo.ingest('single-tenant', decodeTempoTrace(fixture('trace-v2-response.json'))!.spans);
    tempo.ingest('single-tenant', decodeTempoTrace(fixture('vulture-trace-resourceSpans.json'))!.spans);
  });
  afterAll(() => tempo.stop());

  it('answers trace by id (v2) exactly as the fixture', async () => {
    const res = await fetch(`${url}/api/v2/traces/5b8efff798038103d269b633813fc700`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(fixture('trace-v2-response.json'));
  });

  it('answers trace by id (v1) exactly as the fixture', async () => {
    expect(await (await fetch(`${url}/api/traces/5b8efff798038103d269b633813fc700`)).json()).toEqual(fixture('trace-v1-response.json'));
  });

  it('answers an unknown trace with 200 and an empty object (v2) or 404 (v1)', async () => {
    const v2 = await fetch(`${url}/api/v2/traces/${'ab'.repeat(16)}`);
    expect([v2.status, await v2.json()]).toEqual([200, {}]);
    const v1 = await fetch(`${url}/api/traces/${'ab'.repeat(16)}`);
    expect(v1.status).toBe(404);
  });

  it('answers a search in the fixture’s shape', async () => {
    const q = encodeURIComponent('{resource.service.name="my.service"}');
    const body = (await (await fetch(`${url}/api/search?q=${q}&start=1689969000&end=1700000000`)).json()) as Record<string, unknown>;
    const expected = fixture('search-response.json') as { traces: Array<Record<string, unknown>>; metrics: object };
    const got = body as { traces: Array<Record<string, unknown>>; metrics: object };
    expect(got.traces).toHaveLength(1);
    expect(Object.keys(got.traces[0])).toEqual(Object.keys(expected.traces[0]));
    expect(got.traces[0].traceID).toBe('5b8efff798038103d269b633813fc700');
    expect(got.traces[0].rootServiceName).toBe('my.service');
    expect(got.traces[0].rootTraceName).toBe('I am a span!');
    const span = (got.traces[0].spanSet as { spans: Array<Record<string, unknown>> }).spans[0];
    const expectedSpan = (expected.traces[0].spanSet as { spans: Array<Record<string, unknown>> }).spans[0];
    expect(Object.keys(span)).toEqual(Object.keys(expectedSpan));
    expect(span.attributes).toEqual(expectedSpan.attributes);
    expect(Object.keys(got.metrics)).toEqual(Object.keys(expected.metrics));
  });

  it('leaves out the traces key when nothing matches, and honours limit and spss', async () => {
    const none = (await (await fetch(`${url}/api/search?q=${encodeURIComponent('{name="nope"}')}`)).json()) as Record<string, unknown>;
    expect(Object.keys(none)).toEqual(['metrics']);
    const vulture = (await (await fetch(`${url}/api/search?q=${encodeURIComponent('{resource.service.name="tempo-vulture"}')}&spss=2&limit=1`)).json()) as {
      traces: Array<{ spanSet: { spans: unknown[]; matched: number } }>;
    };
    expect(vulture.traces).toHaveLength(1);
    expect(vulture.traces[0].spanSet.spans).toHaveLength(2);
    expect(vulture.traces[0].spanSet.matched).toBe(6);
  });

  it('answers malformed TraceQL with 400 and a plain-text message', async () => {
    const res = await fetch(`${url}/api/search?q=${encodeURIComponent('{ name = }')}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/^invalid TraceQL query: parse error at line 1, col \d+: /);
  });

  it('requires X-Scope-OrgID when multi-tenant, and keeps tenants apart', async () => {
    const mt = new TempoDouble({ multiTenant: true });
    const u = await mt.start();
    mt.ingest('a', decodeTempoTrace(fixture('trace-v2-response.json'))!.spans);
    const anon = await fetch(`${u}/api/search?q=%7B%7D`);
    expect([anon.status, await anon.text()]).toEqual([401, 'no org id']);
    const a = (await (await fetch(`${u}/api/search?q=%7B%7D`, { headers: { 'X-Scope-OrgID': 'a' } })).json()) as { traces?: unknown[] };
    const b = (await (await fetch(`${u}/api/search?q=%7B%7D`, { headers: { 'X-Scope-OrgID': 'b' } })).json()) as { traces?: unknown[] };
    expect([a.traces?.length, b.traces]).toEqual([1, undefined]);
    await mt.stop();
  });

  it('injects faults', async () => {
    tempo.fault = { status: 503, path: '/api/search' };
    const res = await fetch(`${url}/api/search?q=%7B%7D`);
    expect([res.status, await res.text()]).toEqual([503, 'injected fault: 503']);
    tempo.fault = undefined;
    expect((await fetch(`${url}/ready`)).status).toBe(200);
  });
});
