/**
 * Every file under provisioning/ parsed as Grafana would read it, and cross-checked: the data
 * source uids the dashboards, the alert rule and the app settings use exist with the right type;
 * every metric a query names is one the sidecar registers; every attribute a TraceQL query names
 * is in the telemetry contract; the app id is the plugin's.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { parse } from 'yaml';
import { loadConfig } from '../../packages/sidecar/src/config';
import { createSidecar } from '../../packages/sidecar/src/sidecar';

const root = path.join(__dirname, '../..');
const provisioning = path.join(root, 'provisioning');
const readYaml = (rel: string) => parse(fs.readFileSync(path.join(provisioning, rel), 'utf8'));
const plugin = JSON.parse(fs.readFileSync(path.join(root, 'plugin.json'), 'utf8')) as { id: string };

interface DsRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId: string;
  datasource?: DsRef;
  expr?: string;
  query?: string;
  queryType?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DsRef;
  targets?: Target[];
  gridPos: { x: number; y: number; w: number; h: number };
}
interface Variable {
  name: string;
  type: string;
  query?: string;
  current?: { value?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: Array<{ name: string; datasource: DsRef; expr?: string; target?: { type?: string; tags?: string[] } }> };
}

const datasources = readYaml('datasources/datasources.yaml').datasources as Array<{ uid: string; type: string; url: string; name: string }>;
const dsByUid = new Map(datasources.map((d) => [d.uid, d]));
const dashboardDir = path.join(provisioning, 'dashboards/betrace');
const dashboards = fs
  .readdirSync(dashboardDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, d: JSON.parse(fs.readFileSync(path.join(dashboardDir, f), 'utf8')) as Dashboard }));

/**
 * The metric names a started sidecar serves on /metrics (histograms expose _bucket, _sum and
 * _count): with a data folder (ingest log, history), pull mode (Tempo) and a writer, so that every
 * part that registers metrics is there — the receiver's and the ingest log's included.
 */
async function sidecarMetricNames(): Promise<Set<string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-provisioning-'));
  const config = loadConfig({
    DATA_DIR: path.join(dir, 'data'),
    OTLP_PORT: '0',
    API_PORT: '0',
    OTLP_GRPC_PORT: 'off',
    HOST: '127.0.0.1',
    EVAL_WORKERS: '0',
    TEMPO_URL: 'http://127.0.0.1:9',
    OTLP_EXPORT_URL: 'http://127.0.0.1:9',
  });
  const sidecar = createSidecar(config, { logger: pino({ level: 'silent' }), pollIntervalMs: 0, writerIntervalMs: 3_600_000, discoveryMiner: 'here' });
  await sidecar.start();
  const names = new Set<string>();
  const all = await sidecar.metrics.registry.getMetricsAsJSON();
  await sidecar.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  for (const m of all) {
    names.add(m.name);
    if (String(m.type) === 'histogram') {
      ['_bucket', '_sum', '_count'].forEach((s) => names.add(m.name + s));
    }
  }
  return names;
}

/** Span and resource attributes of docs' telemetry contract (a public contract: dashboards depend on it). */
const CONTRACT_ATTRIBUTES = new Set([
  'resource.service.name',
  'resource.service.version',
  'resource.betrace.tenant',
  ...[
    'betrace.signal.id',
    'betrace.rule.id',
    'betrace.rule.name',
    'betrace.rule.version',
    'betrace.signal.severity',
    'betrace.signal.message',
    'betrace.signal.matched_span_ids',
    'betrace.signal.source',
    'compliance.framework',
    'compliance.control',
    'compliance.outcome',
    'compliance.rule_id',
    'compliance.checked_traces',
    'compliance.failed_traces',
    'compliance.window_start',
    'compliance.window_end',
    'compliance.sample_trace_ids',
    'betrace.evidence.seq',
    'betrace.evidence.prev',
    'betrace.evidence.signature',
    'betrace.evidence.key_id',
  ].map((a) => `span.${a}`),
]);
const CONTRACT_SPAN_NAMES = new Set(['betrace.signal', 'compliance.evidence']);

/** The uid a reference resolves to: a `${var}` takes the data source variable's default. */
function resolve(ref: DsRef, d: Dashboard): { uid: string; viaVariable?: Variable } {
  const m = /^\$\{?(\w+)\}?$/.exec(ref.uid ?? '');
  if (!m) {
    return { uid: ref.uid ?? '' };
  }
  const variable = d.templating.list.find((v) => v.name === m[1]);
  if (!variable) {
    throw new Error(`${d.title}: data source variable $${m[1]} is not defined`);
  }
  return { uid: variable.current?.value ?? '', viaVariable: variable };
}

function queries(d: Dashboard): Array<{ where: string; ref: DsRef; target: Target }> {
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${d.title} / ${p.title} / ${t.refId}`, ref: t.datasource ?? p.datasource ?? {}, target: t })));
}

describe('provisioned data sources', () => {
  it('are Tempo (uid tempo) and Prometheus (uid prometheus) of the compose stack', () => {
    expect(datasources.map((d) => [d.uid, d.type, d.url])).toEqual([
      ['tempo', 'tempo', 'http://tempo:3200'],
      ['prometheus', 'prometheus', 'http://prometheus:9090'],
    ]);
  });
});

describe('the provisioned app', () => {
  const app = readYaml('plugins/app.yaml').apps as Array<{ type: string; disabled: boolean; jsonData: Record<string, string>; secureJsonData: Record<string, string> }>;

  it('is this plugin, enabled, pointing at the stack sidecar and the provisioned Tempo', () => {
    expect(app).toHaveLength(1);
    expect(app[0].type).toBe(plugin.id);
    expect(app[0].disabled).toBe(false);
    expect(app[0].jsonData).toEqual({ sidecarUrl: 'http://sidecar:3001', tempoDatasourceUid: 'tempo' });
    expect(dsByUid.get(app[0].jsonData.tempoDatasourceUid)?.type).toBe('tempo');
  });

  it('takes the token from the environment, never from the file', () => {
    expect(app[0].secureJsonData).toEqual({ sidecarToken: '$BETRACE_API_TOKEN' });
  });
});

describe('provisioned dashboards', () => {
  it('are loaded by a file provider from their folder', () => {
    const providers = readYaml('dashboards/betrace.yaml').providers as Array<{ type: string; folder: string; options: { path: string } }>;
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({ type: 'file', folder: 'BeTrace' });
    // Grafana sees provisioning/ at /etc/grafana/provisioning (docker-compose.yaml).
    expect(providers[0].options.path).toBe('/etc/grafana/provisioning/dashboards/betrace');
  });

  it('are those of the issues, with unique uids and panel ids', () => {
    expect(dashboards.map(({ d }) => d.title).sort()).toEqual(['BeTrace / Evidence', 'BeTrace / SLOs', 'BeTrace / Sidecar', 'BeTrace / Signals overview', 'BeTrace / Usage']);
    expect(new Set(dashboards.map(({ d }) => d.uid)).size).toBe(dashboards.length);
    for (const { d } of dashboards) {
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect((d as unknown as { id?: unknown }).id).toBeUndefined();
    }
  });

  it('query only data sources that exist, of the type the query is written for', () => {
    for (const { d } of dashboards) {
      for (const { where, ref } of queries(d)) {
        const { uid, viaVariable } = resolve(ref, d);
        const ds = dsByUid.get(uid);
        expect([where, ds?.type]).toEqual([where, ref.type]);
        if (viaVariable) {
          // A data source variable lists data sources of one type: the one the query is written in.
          expect([where, viaVariable.type, viaVariable.query]).toEqual([where, 'datasource', ref.type]);
        }
      }
      for (const a of d.annotations.list) {
        if (a.datasource.uid === '-- Grafana --') {
          continue;
        }
        expect(dsByUid.get(resolve(a.datasource, d).uid)?.type).toBe(a.datasource.type);
      }
    }
  });

  it('name only metrics the sidecar registers', async () => {
    const known = await sidecarMetricNames();
    const exprs = dashboards.flatMap(({ d }) => [
      ...queries(d)
        .filter((q) => q.target.expr)
        .map((q) => ({ where: q.where, expr: q.target.expr! })),
      ...d.annotations.list.filter((a) => a.expr).map((a) => ({ where: `${d.title} / annotation ${a.name}`, expr: a.expr! })),
    ]);
    expect(exprs.length).toBeGreaterThan(15);
    const unknown = exprs.flatMap(({ where, expr }) => (expr.match(/\bbetrace_[a-z_]+/g) ?? []).filter((n) => !known.has(n)).map((n) => `${where}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('use the contract’s span names and attributes in TraceQL', () => {
    const traceql = dashboards.flatMap(({ d }) => queries(d).filter((q) => q.target.queryType === 'traceql'));
    expect(traceql.length).toBeGreaterThanOrEqual(4);
    for (const { where, target } of traceql) {
      const q = target.query!;
      const attrs = q.match(/\b(?:span|resource)\.[a-z_][a-z0-9_.]*/g) ?? [];
      expect([where, attrs.filter((a) => !CONTRACT_ATTRIBUTES.has(a))]).toEqual([where, []]);
      const names = [...q.matchAll(/(?<![.\w])name = "([^"]+)"/g)].map((m) => m[1]);
      expect([where, names.filter((n) => !CONTRACT_SPAN_NAMES.has(n))]).toEqual([where, []]);
    }
  });

  it('show evidence per framework, signals by rule and severity with signal annotations, and usage per tenant', () => {
    const byTitle = Object.fromEntries(dashboards.map(({ d }) => [d.title, d]));
    const evidence = byTitle['BeTrace / Evidence'];
    const framework = evidence.templating.list.find((v) => v.name === 'framework')!;
    // The framework values the example rules map to (examples/rules) must be selectable.
    expect(framework.query!.split(',')).toEqual(expect.arrayContaining(['soc2', 'hipaa', 'pci-dss']));
    expect(queries(evidence).every((q) => q.target.query?.includes('span.compliance.framework = "$framework"'))).toBe(true);

    const signals = byTitle['BeTrace / Signals overview'];
    const exprs = queries(signals).map((q) => q.target.expr ?? '');
    expect(exprs).toContain('sum by (severity) (increase(betrace_signals_total[$__rate_interval]))');
    expect(exprs).toContain('sum by (rule) (increase(betrace_signals_total[$__rate_interval]))');
    // The annotations the sidecar's Grafana writer posts carry the tag "betrace" (telemetry contract).
    expect(signals.annotations.list.find((a) => a.name === 'BeTrace signals')?.target).toMatchObject({ type: 'tags', tags: ['betrace'] });

    const usage = queries(byTitle['BeTrace / Usage']).map((q) => q.target.expr ?? '');
    expect(usage.some((e) => /by \(tenant\b/.test(e) && e.includes('betrace_spans_received_total'))).toBe(true);
    expect(usage.some((e) => /by \(tenant\b/.test(e) && e.includes('betrace_ingest_bytes_total'))).toBe(true);
    expect(usage.some((e) => e.includes('betrace_evaluation_seconds_bucket'))).toBe(true);
  });

  it('show the sidecar itself: ingest rate, buffer, poll lag, evaluation cost, writer queues, errors and drops', async () => {
    const sidecar = dashboards.find(({ d }) => d.title === 'BeTrace / Sidecar')!.d;
    expect(sidecar.uid).toBe('betrace-sidecar');
    const exprs = queries(sidecar).map((q) => q.target.expr ?? '');
    for (const metric of [
      'betrace_spans_received_total',
      'betrace_ingest_bytes_total',
      'betrace_buffer_spans',
      'betrace_buffer_bytes',
      'betrace_poll_lag_seconds',
      'betrace_evaluation_seconds_bucket',
      'betrace_evaluation_seconds_sum',
      'betrace_writer_queue',
      'betrace_ingest_refused_total',
      'betrace_traces_dropped_total',
      'betrace_storage_errors_total',
      'betrace_own_spans_dropped_total',
    ]) {
      expect([metric, exprs.some((e) => e.includes(metric))]).toEqual([metric, true]);
    }
    // The process series are prom-client's defaults, which the sidecar serves too.
    const known = await sidecarMetricNames();
    for (const e of exprs.filter((x) => /\b(process|nodejs)_/.test(x))) {
      const name = /\b((?:process|nodejs)_[a-z0-9_]+)/.exec(e)![1];
      expect([name, known.has(name)]).toEqual([name, true]);
    }
  });

  it('lay panels out inside the 24-column grid without overlaps', () => {
    for (const { d } of dashboards) {
      const cells = new Set<string>();
      for (const p of d.panels) {
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            const cell = `${x},${y}`;
            expect([d.title, p.title, cells.has(cell)]).toEqual([d.title, p.title, false]);
            cells.add(cell);
          }
        }
      }
    }
  });
});

describe('the provisioned SLO alert rules', () => {
  const groups = readYaml('alerting/slo.yaml').groups as Array<{
    folder: string;
    rules: Array<{ uid: string; condition: string; labels: Record<string, string>; data: Array<{ refId: string; datasourceUid: string; model: { expr?: string; expression?: string; type?: string } }> }>;
  }>;

  it('page and ticket for each example rule with an objective, over metrics the sidecar registers, from the provisioned Prometheus', async () => {
    const rules = groups[0].rules;
    expect(groups[0].folder).toBe('BeTrace');
    expect(rules.map((r) => `${r.labels.rule} ${r.labels.severity}`)).toEqual([
      'payment-fraud-check page',
      'payment-fraud-check ticket',
      'checkout-reserves-inventory page',
      'checkout-reserves-inventory ticket',
    ]);
    const known = await sidecarMetricNames();
    for (const r of rules) {
      const query = r.data.find((d) => d.refId === 'A')!;
      expect(dsByUid.get(query.datasourceUid)?.type).toBe('prometheus');
      expect((query.model.expr!.match(/\bbetrace_[a-z_]+/g) ?? []).filter((n) => !known.has(n))).toEqual([]);
      expect(r.data.find((d) => d.refId === r.condition)).toMatchObject({ datasourceUid: '__expr__', model: { type: 'threshold', expression: 'A' } });
    }
    // Grafana keeps alert rules by uid: one uid, one rule, across every alerting file.
    const other = (readYaml('alerting/betrace.yaml').groups as Array<{ rules: Array<{ uid: string }> }>).flatMap((g) => g.rules.map((r) => r.uid));
    const uids = [...other, ...rules.map((r) => r.uid)];
    expect(new Set(uids).size).toBe(uids.length);
  });
});

describe('the provisioned alert rule', () => {
  const groups = readYaml('alerting/betrace.yaml').groups as Array<{
    rules: Array<{ uid: string; condition: string; data: Array<{ refId: string; datasourceUid: string; model: { expr?: string; expression?: string; type?: string } }> }>;
  }>;
  const rule = groups[0].rules[0];

  it('fires on new critical signals, from the provisioned Prometheus', async () => {
    const query = rule.data.find((d) => d.refId === 'A')!;
    expect(dsByUid.get(query.datasourceUid)?.type).toBe('prometheus');
    expect(query.model.expr).toBe('sum by (rule) (increase(betrace_signals_total{severity="critical"}[5m]))');
    const known = await sidecarMetricNames();
    expect(known.has('betrace_signals_total')).toBe(true);
  });

  it('has its condition as a threshold over that query', () => {
    const condition = rule.data.find((d) => d.refId === rule.condition)!;
    expect(condition).toMatchObject({ datasourceUid: '__expr__', model: { type: 'threshold', expression: 'A' } });
  });
});
