import { readFileSync } from 'fs';
import { join } from 'path';
import { of, throwError } from 'rxjs';
import { bytesToBase64 } from '@betrace/evaluator';
import { draftOf } from './draft';
import { explainDraft, fetchTempoTrace, parsePastedTraces, spanRows } from './testRun';

const fetchMock = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: fetchMock }),
}));

const examples = join(__dirname, '../../../examples/traces/payment-fraud-check');
const violates = readFileSync(join(examples, 'violates-1.json'), 'utf8');
const satisfies = readFileSync(join(examples, 'satisfies-1.json'), 'utf8');
const rule = draftOf({
  id: 'payment-fraud-check',
  name: 'Large payments need a fraud check',
  severity: 'critical',
  message: 'charge of {p.amount} {p.currency} for order {p.order_id} without a fraud check',
  enabled: true,
  condition:
    'when   { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }',
});

describe('explainDraft and spanRows', () => {
  it('explains a violating trace and marks the spans that made the rule fire', () => {
    const traces = parsePastedTraces(violates);
    const [x] = explainDraft(rule, traces);
    expect(x.fired).toBe(true);
    expect(x.violations.map((v) => [v.boundSpanId, v.matchedSpanIds])).toEqual([
      ['e705a2c9ba31352f', ['e705a2c9ba31352f']],
    ]);
    expect(
      spanRows(traces[0], x).map(
        (r) => `${'  '.repeat(r.depth)}${r.name} ${r.service} ${r.durationMs}${r.matched ? ' *' : ''}`
      )
    ).toEqual([
      'POST /checkout frontend 420',
      '  checkout checkout 400',
      '    auth.check auth 6',
      expect.stringMatching(/^ {4}payment\.(fraud_check|charge) /),
      expect.stringMatching(/^ {4}payment\.(fraud_check|charge) /),
      '    inventory.reserve inventory 60',
      '      database.query inventory 12',
    ]);
    expect(
      spanRows(traces[0], x)
        .filter((r) => r.matched)
        .map((r) => r.name)
    ).toEqual(['payment.charge']);
  });

  it('explains a satisfying trace with nothing matched', () => {
    const traces = parsePastedTraces(satisfies);
    const [x] = explainDraft(rule, traces);
    expect(x.fired).toBe(false);
    expect(spanRows(traces[0], x).some((r) => r.matched)).toBe(false);
  });

  it('says plainly what is wrong with the input or the rule', () => {
    expect(() => parsePastedTraces('{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]}')).toThrow(
      /^The pasted text is not OTLP\/JSON: /
    );
    expect(() => parsePastedTraces('   ')).toThrow(
      'Paste an OTLP/JSON export request ({"resourceSpans": [...]}) with at least one span'
    );
    expect(() => explainDraft({ ...rule, condition: 'count(x) >' }, [])).toThrow(/^The rule has errors: 1:\d+ /);
  });
});

describe('fetchTempoTrace', () => {
  beforeEach(() => fetchMock.mockReset());

  it('fetches trace-by-id v2 through the Tempo datasource proxy and decodes base64 ids', async () => {
    const body = JSON.parse(violates);
    // Tempo writes ids in base64.
    const b64 = (hex: string) => bytesToBase64(Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16))));
    for (const rs of body.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          s.traceId = b64(s.traceId);
          s.spanId = b64(s.spanId);
          if (s.parentSpanId) {
            s.parentSpanId = b64(s.parentSpanId);
          }
        }
      }
    }
    fetchMock.mockReturnValue(of({ data: { trace: body } }));
    const trace = await fetchTempoTrace('tempo', ' cb81f926213516df1f0a6598a1aef89b ');
    expect(trace.traceId).toBe('cb81f926213516df1f0a6598a1aef89b');
    expect(trace.spans).toHaveLength(7);
    expect(fetchMock).toHaveBeenCalledWith(
      expect.objectContaining({
        url: '/api/datasources/proxy/uid/tempo/api/v2/traces/cb81f926213516df1f0a6598a1aef89b',
      })
    );
  });

  it('rejects a malformed id before asking Tempo, and names unknown traces and Tempo errors', async () => {
    await expect(fetchTempoTrace('tempo', 'not-hex')).rejects.toThrow(
      '"not-hex" is not a trace id: a trace id is 1 to 32 hexadecimal digits'
    );
    expect(fetchMock).not.toHaveBeenCalled();
    fetchMock.mockReturnValue(of({ data: { trace: {} } }));
    await expect(fetchTempoTrace('tempo', 'abc')).rejects.toThrow('Tempo does not know trace abc');
    fetchMock.mockReturnValue(throwError(() => ({ status: 502, data: 'upstream down' })));
    await expect(fetchTempoTrace('tempo', 'abc')).rejects.toThrow(
      'Tempo (datasource tempo) answered 502: upstream down'
    );
  });
});
