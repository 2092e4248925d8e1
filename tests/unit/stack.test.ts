/**
 * The Docker stack, checked without Docker (no engine runs in CI): docker-compose.yaml parsed and
 * cross-checked against the repository (mounted files exist, ports and URLs agree between
 * services, Tempo and Prometheus configs, the sidecar's environment is valid for its own config
 * loader), and the Grafana service-account script run against a stand-in for Grafana's API.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { parse } from 'yaml';
import { loadConfig } from '../../packages/sidecar/src/config';
import { VIOLATIONS } from '../../packages/sidecar/src/demo/shop';

const root = path.join(__dirname, '../..');
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  command?: string[];
  entrypoint?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
}
const compose = parse(read('docker-compose.yaml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

/** Compose's `${VAR:-default}` with the variable unset, as on a fresh checkout. */
const withDefaults = (v: string) => v.replace(/\$\{(\w+):-([^}]*)\}/g, (_m, _name, def: string) => def);
const env = (service: string) => Object.fromEntries(Object.entries(services[service].environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))]));
const hostPorts = (s: Service) => (s.ports ?? []).map((p) => Number(p.split(':')[0]));
const containerPorts = (s: Service) => (s.ports ?? []).map((p) => Number(p.split(':')[1].split('/')[0]));

/** No host port is mapped by two services of a stack. */
function expectHostPortsUnique(stack: Record<string, Service>): void {
  const all = Object.values(stack).flatMap(hostPorts);
  expect(new Set(all).size).toBe(all.length);
}

/** The demo service sends to `target` and seeds every violation the shop knows. */
function expectDemoSeedsAll(demo: Service, target: string): void {
  const script = demo.command![0];
  expect(script).toContain(`packages/sidecar/dist/demo/send.js ${target}`);
  const seeded = /for v in ([a-z\- ]+); do/.exec(script)![1].split(' ');
  expect(seeded.sort()).toEqual([...VIOLATIONS].sort());
}

describe('docker-compose.yaml', () => {
  it('runs Grafana, Tempo, Prometheus, the sidecar and the demo traffic', () => {
    expect(Object.keys(services).sort()).toEqual(['demo', 'grafana', 'grafana-init', 'prometheus', 'sidecar', 'tempo']);
  });

  it('mounts only files and folders that exist in the repository (dist/ is the build output)', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const [source] = v.split(':');
        if (!source.startsWith('.')) {
          expect([name, source, source in compose.volumes]).toEqual([name, source, true]);
          continue;
        }
        if (source === './dist') {
          continue;
        }
        expect([name, source, fs.existsSync(path.join(root, source))]).toEqual([name, source, true]);
      }
    }
  });

  it('loads the built plugin into Grafana 13.2, unsigned, with the provisioning folder', () => {
    const g = services.grafana;
    expect(g.volumes).toContain('./dist:/var/lib/grafana/plugins/betrace-app');
    expect(g.volumes).toContain('./provisioning:/etc/grafana/provisioning');
    expect(env('grafana').GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS).toBe('betrace-app');
    expect(withDefaults(g.build!.args!.grafana_version)).toBe('13.2.3');
    expect(fs.existsSync(path.join(root, g.build!.context, 'Dockerfile'))).toBe(true);
    expect(hostPorts(g)).toEqual([3000]);
  });

  it('gives Grafana (for the provisioned app settings) and the sidecar the same token', () => {
    expect(env('grafana').BETRACE_API_TOKEN).toBe('betrace-dev-token');
    expect(env('sidecar').BETRACE_API_TOKEN).toBe(env('grafana').BETRACE_API_TOKEN);
    expect(read('provisioning/plugins/app.yaml')).toContain('sidecarToken: $BETRACE_API_TOKEN');
  });

  it('builds the sidecar from this repository, and the demo from the same image', () => {
    for (const name of ['sidecar', 'demo']) {
      expect(services[name].build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
      expect(services[name].image).toBe('betrace-sidecar:dev');
    }
    const dockerfile = read('Dockerfile');
    // The supported floor is Node 22 (package.json engines); the image runs the current LTS.
    expect(dockerfile).toMatch(/^FROM node:24\S* AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:24\S*$/m);
    expect(dockerfile).toContain('RUN npm ci');
    expect(dockerfile).toContain('npm run build:packages');
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "packages\/sidecar\/dist\/cli\.js"\]\nCMD \["serve"\]/);
    // Every COPY source of the build context exists.
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) (\S+)$/gm)) {
      for (const src of m[1].split(' ')) {
        expect([src, fs.existsSync(path.join(root, src))]).toEqual([src, true]);
      }
    }
  });

  it('configures the sidecar with values its own config loader accepts: pull from Tempo, signal spans back to Tempo', () => {
    const e = { ...env('sidecar'), GRAFANA_URL: 'http://grafana:3000', GRAFANA_TOKEN: 'from-grafana-init' };
    const config = loadConfig(e);
    expect(config.tempoUrl).toBe('http://tempo:3200');
    expect(config.otlpExportUrl).toBe('http://tempo:4318');
    expect(config.apiPort).toBe(3001);
    // Tempo's search drops its newest 30 s and a trace is searchable 10 s after it goes quiet.
    expect(config.pollSettleMs).toBeGreaterThan(40_000);
    expect(config.pollSettleMs + config.pollIntervalMs).toBeLessThanOrEqual(60_000);
    expect(services.sidecar.command![0]).toContain('exec node packages/sidecar/dist/cli.js serve');
  });

  it('points the app, Prometheus and Tempo at the ports the services listen on', () => {
    const app = parse(read('provisioning/plugins/app.yaml')).apps[0];
    expect(app.jsonData.sidecarUrl).toBe(`http://sidecar:${loadConfig(env('sidecar')).apiPort}`);
    const prom = parse(read('provisioning/prometheus/prometheus.yml'));
    const sidecarJob = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === 'betrace-sidecar');
    expect(sidecarJob.metrics_path).toBe('/metrics');
    expect(sidecarJob.static_configs[0].targets).toEqual(['sidecar:3001']);
    expect(services.prometheus.volumes).toContain('./provisioning/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(containerPorts(services.sidecar)).toEqual([3001, 4318]);
  });

  it('runs Tempo with OTLP on 4318 and its API on 3200, as the data source, sidecar and demo expect', () => {
    const tempo = parse(read('provisioning/tempo/tempo.yaml'));
    expect(tempo.server.http_listen_port).toBe(3200);
    expect(tempo.distributor.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(services.tempo.command).toEqual(['-config.file=/etc/tempo/tempo.yaml']);
    expect(services.tempo.volumes).toContain('./provisioning/tempo/tempo.yaml:/etc/tempo/tempo.yaml:ro');
    expect(containerPorts(services.tempo)).toEqual(expect.arrayContaining([3200, 4318]));
    // TraceQL metrics (the Evidence dashboard) need the local-blocks processor.
    expect(tempo.overrides.defaults.metrics_generator.processors).toContain('local-blocks');
    const ds = parse(read('provisioning/datasources/datasources.yaml')).datasources;
    expect(ds.find((d: { uid: string }) => d.uid === 'tempo').url).toBe('http://tempo:3200');
  });

  it('maps no host port twice', () => {
    expectHostPortsUnique(services);
  });

  it('sends demo traffic with every violation the shop knows, to Tempo', () => {
    expectDemoSeedsAll(services.demo, 'http://tempo:4318/v1/traces');
  });

  it('starts the sidecar after grafana-init, which shares the token through a volume', () => {
    expect(services.sidecar.depends_on).toMatchObject({ 'grafana-init': { condition: 'service_completed_successfully' } });
    expect(services['grafana-init'].volumes).toContain('grafana-token:/shared');
    expect(services.sidecar.volumes).toContain('grafana-token:/shared:ro');
    expect(services['grafana-init'].entrypoint).toEqual(['/bin/sh', '/stack/grafana-service-account.sh']);
  });
});

describe('deploy/compose/scaled.yaml (the scaled profile)', () => {
  const dir = 'deploy/compose';
  // Compose merges `<<: *sidecar`; the yaml package does so only when asked.
  const scaled = parse(read(`${dir}/scaled.yaml`), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const s = scaled.services;
  const envOf = (name: string) => Object.fromEntries(Object.entries(s[name].environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))]));
  const replicas = Object.keys(s).filter((n) => /^sidecar-\d+$/.test(n)).sort();
  const collector = parse(read(`${dir}/collector-loadbalancing.yaml`));

  it('runs PostgreSQL 15, the contrib Collector 0.161.0, three sidecars, an API proxy, Tempo, Prometheus, Grafana and the demo', () => {
    expect(Object.keys(s).sort()).toEqual(['collector', 'demo', 'grafana', 'postgres', 'prometheus', 'sidecar', 'sidecar-1', 'sidecar-2', 'sidecar-3', 'tempo']);
    expect(s.postgres.image).toBe('postgres:15');
    expect(s.collector.image).toBe('otel/opentelemetry-collector-contrib:0.161.0');
    expect(s.sidecar.image).toMatch(/^nginx:/);
    expect(s.tempo.image).toBe(services.tempo.image);
    for (const name of [...replicas, 'demo']) {
      expect([name, s[name].build]).toEqual([name, { context: '../..', dockerfile: 'Dockerfile' }]);
      expect(s[name].image).toBe('betrace-sidecar:dev');
    }
  });

  it('mounts only files that exist (relative to deploy/compose) and named volumes it declares, one state set per replica', () => {
    for (const [name, svc] of Object.entries(s)) {
      for (const v of svc.volumes ?? []) {
        const [source] = v.split(':');
        if (!source.startsWith('.')) {
          expect([name, source, source in scaled.volumes]).toEqual([name, source, true]);
        } else if (source !== '../../dist') {
          expect([name, source, fs.existsSync(path.join(root, dir, source))]).toEqual([name, source, true]);
        }
      }
    }
    for (const r of replicas) {
      // One keys volume for every replica: a key made on first use is read by all of them.
      expect(s[r].volumes).toEqual([`${r}-data:/data`, 'sidecar-keys:/keys', `${r}-anchors:/anchors`]);
    }
  });

  it('gives every replica the same valid configuration: push mode on OTLP/gRPC, PostgreSQL as DATABASE_URL, the token Grafana uses', () => {
    for (const r of replicas) {
      const e = envOf(r);
      const config = loadConfig(e);
      expect(config.otlpGrpcPort).toBe(4317);
      expect(config.otlpPort).toBe(4318);
      // Push only in this stack (pull mode would share windows through leases: docs/scaling.md).
      expect(config.tempoUrl).toBeUndefined();
      expect(config.otlpExportUrl).toBe('http://tempo:4318');
      expect(e.BETRACE_API_TOKEN).toBe(envOf('grafana').BETRACE_API_TOKEN);
      const db = new URL(e.DATABASE_URL);
      const pg = envOf('postgres');
      expect([db.protocol, db.hostname, db.port, db.username, db.password, db.pathname]).toEqual(['postgres:', 'postgres', '5432', pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`]);
      expect(s[r].depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    }
    expect(replicas).toHaveLength(3);
    expect(s.postgres.environment).toBeDefined();
    expect((s.postgres as { healthcheck?: { test: string[] } }).healthcheck!.test.join(' ')).toContain('pg_isready');
  });

  it('load-balances by trace id over exactly the sidecar services, on their OTLP/gRPC port, and sends every span to Tempo too', () => {
    expect(s.collector.volumes).toContain('./collector-loadbalancing.yaml:/etc/otelcol-contrib/config.yaml:ro');
    expect(s.collector.command).toEqual(['--config=/etc/otelcol-contrib/config.yaml']);
    const lb = collector.exporters.load_balancing;
    expect(lb.routing_key).toBe('traceID');
    const grpcPort = loadConfig(envOf('sidecar-1')).otlpGrpcPort;
    expect(lb.resolver.static.hostnames).toEqual(replicas.map((r) => `${r}:${grpcPort}`));
    expect(lb.protocol.otlp.tls.insecure).toBe(true);
    const pipeline = collector.service.pipelines.traces;
    expect(pipeline.receivers).toEqual(['otlp']);
    expect(pipeline.exporters).toEqual(['load_balancing', 'otlp_grpc/tempo']);
    const tempo = parse(read('provisioning/tempo/tempo.yaml'));
    const tempoGrpcPort = tempo.distributor.receivers.otlp.protocols.grpc.endpoint.split(':')[1];
    expect(collector.exporters['otlp_grpc/tempo'].endpoint).toBe(`tempo:${tempoGrpcPort}`);
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(containerPorts(s.collector).sort()).toEqual([4317, 4318]);
  });

  it("serves the three replicas' API under the one address the provisioned app uses (sidecar:3001, an nginx upstream)", () => {
    const conf = read(`${dir}/nginx-sidecars.conf`);
    expect(s.sidecar.volumes).toContain('./nginx-sidecars.conf:/etc/nginx/conf.d/default.conf:ro');
    const apiPort = loadConfig(envOf('sidecar-1')).apiPort;
    const upstream = [...conf.matchAll(/^\s*server (\S+?)(?: [^;]*)?;/gm)].map((m) => m[1]);
    expect(upstream).toEqual(replicas.map((r) => `${r}:${apiPort}`));
    expect(conf).toMatch(new RegExp(`^\\s*listen ${apiPort};`, 'm'));
    expect(conf).toContain('proxy_pass http://betrace_api;');
    const app = parse(read('provisioning/plugins/app.yaml')).apps[0];
    expect(app.jsonData.sidecarUrl).toBe(`http://sidecar:${apiPort}`);
    expect(s.grafana.volumes).toContain('../../provisioning:/etc/grafana/provisioning');
  });

  it('scrapes each replica, not the proxy, and maps no host port twice', () => {
    const prom = parse(read(`${dir}/prometheus-scaled.yml`));
    const job = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === 'betrace-sidecar');
    expect(job.static_configs[0].targets).toEqual(replicas.map((r) => `${r}:3001`));
    expectHostPortsUnique(s);
  });

  it('sends the demo traffic, every violation the shop knows, through the Collector', () => {
    expectDemoSeedsAll(s.demo, 'http://collector:4318/v1/traces');
  });
});

describe('provisioning/stack/grafana-service-account.sh', () => {
  const script = path.join(root, 'provisioning/stack/grafana-service-account.sh');
  const run = promisify(execFile);

  /** Grafana's service-account API as far as the script uses it, with basic auth admin:secret. */
  function fakeGrafana(existing: number | undefined) {
    const calls: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        calls.push(`${req.method} ${req.url} ${body}`.trim());
        const send = (code: number, json: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        if (req.url === '/api/health') {
          return send(200, { database: 'ok' });
        }
        if (req.headers.authorization !== `Basic ${Buffer.from('admin:secret').toString('base64')}`) {
          return send(401, { message: 'invalid username or password' });
        }
        if (req.method === 'GET' && req.url === '/api/serviceaccounts/search?query=betrace-sidecar') {
          return send(200, { totalCount: existing ? 1 : 0, serviceAccounts: existing ? [{ id: existing, uid: 'x', name: 'betrace-sidecar', role: 'Editor' }] : [], page: 1, perPage: 1000 });
        }
        if (req.method === 'POST' && req.url === '/api/serviceaccounts') {
          return send(201, { id: 7, uid: 'y', name: 'betrace-sidecar', login: 'sa-1-betrace-sidecar', orgId: 1, isDisabled: false, role: 'Editor' });
        }
        const m = /^\/api\/serviceaccounts\/(\d+)\/tokens$/.exec(req.url ?? '');
        if (req.method === 'POST' && m) {
          return send(200, { id: 1, name: 'betrace-sidecar-1', key: `glsa_token_of_${m[1]}` });
        }
        send(404, { message: 'not found' });
      });
    });
    return new Promise<{ url: string; calls: string[]; close: () => void }>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => server.close() })),
    );
  }

  async function runScript(url: string, password: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-sa-'));
    const tokenFile = path.join(dir, 'grafana-token');
    const { stdout, stderr } = await run('sh', [script], { env: { PATH: process.env.PATH, GRAFANA_URL: url, GRAFANA_ADMIN_PASSWORD: password, TOKEN_FILE: tokenFile } });
    const token = fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8') : undefined;
    fs.rmSync(dir, { recursive: true, force: true });
    return { stdout, stderr, token };
  }

  it('creates the service account as Editor on first start and writes its token', async () => {
    const grafana = await fakeGrafana(undefined);
    try {
      const r = await runScript(grafana.url, 'secret');
      expect(r.token).toBe('glsa_token_of_7');
      expect(grafana.calls).toContain('POST /api/serviceaccounts {"name":"betrace-sidecar","role":"Editor"}');
    } finally {
      grafana.close();
    }
  });

  it('reuses the existing service account on a restart', async () => {
    const grafana = await fakeGrafana(3);
    try {
      const r = await runScript(grafana.url, 'secret');
      expect(r.token).toBe('glsa_token_of_3');
      expect(grafana.calls.filter((c) => c.startsWith('POST /api/serviceaccounts {'))).toEqual([]);
    } finally {
      grafana.close();
    }
  });

  it('with wrong credentials says so and leaves no token, without failing the stack', async () => {
    const grafana = await fakeGrafana(undefined);
    try {
      const r = await runScript(grafana.url, 'wrong');
      expect(r.token).toBeUndefined();
      expect(r.stderr).toContain('could not create or find the service account betrace-sidecar (check the admin credentials); the sidecar will not write annotations');
    } finally {
      grafana.close();
    }
  });
});
