/**
 * The compliance helper for Node services, against the real OpenTelemetry SDK's in-memory
 * exporter: attribute names of the telemetry contract, outcomes, exceptions, decorators.
 */
import { context, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, StackContextManager, TracerProvider } from '@opentelemetry/sdk-trace';
import { Compliance, complianceAttributes, GDPR, HIPAA, normalizeFramework, SOC2, withCompliance } from '../src/compliance';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('test');

beforeAll(() => {
  context.setGlobalContextManager(new StackContextManager().enable());
});
afterAll(() => {
  context.disable();
});
afterEach(() => exporter.reset());

/** SimpleSpanProcessor exports asynchronously: flush before looking. */
const spans = async () => {
  await provider.forceFlush();
  return exporter.getFinishedSpans();
};
const finished = async () => (await spans()).map((s) => ({ name: s.name, attributes: s.attributes, status: s.status.code, events: s.events.map((e) => e.name) }));

describe('withCompliance', () => {
  it('wraps a call in a compliance.evidence span with the contract’s attributes and outcome pass', async () => {
    const result = withCompliance({ framework: 'SOC2', control: 'CC6.1', evidenceType: 'access_check', tracer, attributes: { 'app.role': 'admin' } }, (span) => {
      span.setAttribute('app.checked', true);
      return 42;
    });
    expect(result).toBe(42);
    expect(await finished()).toEqual([
      {
        name: 'compliance.evidence',
        attributes: { 'app.role': 'admin', 'compliance.framework': 'soc2', 'compliance.control': 'CC6.1', 'compliance.evidence_type': 'access_check', 'app.checked': true, 'compliance.outcome': 'pass' },
        status: SpanStatusCode.UNSET,
        events: [],
      },
    ]);
  });

  it('records a thrown error as outcome fail, status error and an exception event, and rethrows it', async () => {
    const boom = new Error('not authorized');
    expect(() =>
      withCompliance({ framework: 'HIPAA', control: '164.312(b)', tracer }, () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(await finished()).toEqual([{ name: 'compliance.evidence', attributes: { 'compliance.framework': 'hipaa', 'compliance.control': '164.312(b)', 'compliance.outcome': 'fail' }, status: SpanStatusCode.ERROR, events: ['exception'] }]);
  });

  it('ends the span when a promise settles', async () => {
    let resolve!: (v: string) => void;
    const pending = withCompliance({ framework: 'gdpr', control: 'Art.30', tracer }, () => new Promise<string>((r) => (resolve = r)));
    expect(await spans()).toHaveLength(0);
    resolve('ok');
    await expect(pending).resolves.toBe('ok');
    await expect(withCompliance({ framework: 'gdpr', control: 'Art.30', tracer }, async () => Promise.reject(new Error('denied')))).rejects.toThrow('denied');
    expect((await finished()).map((s) => [s.attributes['compliance.outcome'], s.status])).toEqual([
      ['pass', SpanStatusCode.UNSET],
      ['fail', SpanStatusCode.ERROR],
    ]);
  });

  it('makes the compliance span the parent of spans started inside it', async () => {
    withCompliance({ framework: 'soc2', control: 'CC7.2', tracer }, () => tracer.startSpan('db.query').end());
    const [child, parent] = await spans();
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  });

  it('normalizes framework names and refuses an empty control', () => {
    expect(['SOC2', 'soc 2', 'PCI DSS', 'pci_dss', 'ISO 27001', 'NIST-800-53'].map(normalizeFramework)).toEqual(['soc2', 'soc2', 'pci-dss', 'pci-dss', 'iso27001', 'nist-800-53']);
    expect(() => complianceAttributes({ framework: 'soc2', control: ' ' })).toThrow('a compliance span needs a framework and a control, e.g. { framework: "SOC2", control: "CC6.1" }');
  });
});

describe('decorators', () => {
  class Records {
    constructor(private readonly store: Map<string, string>) {}

    @HIPAA('164.312(b)', { tracer, evidenceType: 'audit_log' })
    read(id: string): string {
      const v = this.store.get(id);
      if (v === undefined) {
        throw new Error(`no record ${id}`);
      }
      return v;
    }

    @SOC2('CC6.1', { tracer })
    async grant(user: string): Promise<string> {
      return `granted ${user} (${this.store.size})`;
    }

    @GDPR('Art.17', { tracer })
    @Compliance('iso27001', 'A.8.10', { tracer })
    erase(id: string): boolean {
      return this.store.delete(id);
    }
  }

  it('wrap each call of a method (keeping `this`) in a compliance span', async () => {
    const r = new Records(new Map([['p1', 'Ada']]));
    expect(r.read('p1')).toBe('Ada');
    expect(() => r.read('p2')).toThrow('no record p2');
    await expect(r.grant('bo')).resolves.toBe('granted bo (1)');
    expect(r.erase('p1')).toBe(true);
    expect((await finished()).map((s) => [s.attributes['compliance.framework'], s.attributes['compliance.control'], s.attributes['code.function'], s.attributes['compliance.outcome']])).toEqual([
      ['hipaa', '164.312(b)', 'read', 'pass'],
      ['hipaa', '164.312(b)', 'read', 'fail'],
      ['soc2', 'CC6.1', 'grant', 'pass'],
      ['iso27001', 'A.8.10', 'erase', 'pass'],
      ['gdpr', 'Art.17', 'erase', 'pass'],
    ]);
    expect((await spans())[0].attributes['compliance.evidence_type']).toBe('audit_log');
  });

  it('work in both decorator calling conventions (TypeScript 5 standard and experimentalDecorators)', async () => {
    const decorate = SOC2('CC8.1', { tracer });
    const standard = decorate(function deploy(this: { env: string }) {
      return this.env;
    }, { kind: 'method', name: 'deploy' } as ClassMethodDecoratorContext);
    expect(standard.call({ env: 'prod' })).toBe('prod');
    const descriptor = decorate({}, 'rollback', { value: () => 'rolled back', writable: true, configurable: true });
    expect((descriptor.value as () => string)()).toBe('rolled back');
    expect((await finished()).map((s) => s.attributes['code.function'])).toEqual(['deploy', 'rollback']);
    expect(() => decorate({}, 'field', { get: () => 1 })).toThrow("@soc2('CC8.1') decorates methods only");
  });

  it('fail at class definition when misused', () => {
    expect(() => SOC2('')).toThrow(/needs a framework and a control/);
  });
});
