/**
 * plugin.json's proxy routes and RBAC roles, checked the way Grafana uses them: the plugin proxy
 * takes the FIRST route whose method and path pattern match (`path/*` passes the rest on), checks
 * its `reqAction`, and forwards to the route URL joined with the rest. Every sidecar API route a
 * real sidecar serves must be reachable through exactly the action that guards it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { loadConfig } from '../../packages/sidecar/src/config';
import { createSidecar } from '../../packages/sidecar/src/sidecar';

interface PluginRoute {
  path: string;
  method: string;
  url: string;
  reqAction?: string;
  reqRole?: string;
  headers?: Array<{ name: string; content: string }>;
}
interface PluginRole {
  role: { name: string; description: string; permissions: Array<{ action: string }> };
  grants: string[];
}

const root = path.join(__dirname, '../..');
const plugin = JSON.parse(fs.readFileSync(path.join(root, 'plugin.json'), 'utf8')) as {
  id: string;
  routes: PluginRoute[];
  roles: PluginRole[];
  includes: Array<{ name: string; type: string; action?: string; role?: string }>;
};
const SIDECAR_URL = '{{ .JsonData.sidecarUrl }}';

/** What Grafana's plugin proxy does with /api/plugin-proxy/betrace-app/<proxyPath>. */
function proxy(method: string, proxyPath: string): { route: PluginRoute; upstream: string } | undefined {
  for (const route of plugin.routes) {
    if (route.method !== '' && route.method !== '*' && route.method !== method) {
      continue;
    }
    let rest: string | undefined;
    if (route.path.endsWith('/*')) {
      const prefix = route.path.slice(0, -1);
      rest = proxyPath.startsWith(prefix) && proxyPath.length > prefix.length ? proxyPath.slice(prefix.length) : undefined;
    } else {
      rest = proxyPath === route.path ? '' : undefined;
    }
    if (rest !== undefined) {
      const base = route.url.slice(SIDECAR_URL.length);
      return { route, upstream: rest === '' ? base : `${base}/${rest}` };
    }
  }
  return undefined;
}

const A = (a: string) => `betrace-app.${a}`;

describe('the sidecar proxy routes', () => {
  it('all forward to the configured sidecar URL with the secret token, and nothing else', () => {
    for (const r of plugin.routes) {
      expect(r.path.startsWith('sidecar/')).toBe(true);
      expect(r.url.startsWith(`${SIDECAR_URL}/`)).toBe(true);
      expect(r.headers).toEqual([{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.sidecarToken }}' }]);
      // Either an RBAC action or an org role guards each route: none is open by accident.
      expect(Boolean(r.reqAction) || Boolean(r.reqRole)).toBe(true);
    }
  });

  it.each([
    ['GET', 'sidecar/readyz', undefined, '/readyz'],
    ['GET', 'sidecar/api/v1/rules', A('rules:read'), '/api/v1/rules'],
    ['GET', 'sidecar/api/v1/rules/payment-fraud-check/history', A('rules:read'), '/api/v1/rules/payment-fraud-check/history'],
    ['POST', 'sidecar/api/v1/rules/validate', A('rules:read'), '/api/v1/rules/validate'],
    ['POST', 'sidecar/api/v1/rules/test', A('rules:read'), '/api/v1/rules/test'],
    ['POST', 'sidecar/api/v1/rules', A('rules:write'), '/api/v1/rules'],
    ['PUT', 'sidecar/api/v1/rules/r1', A('rules:write'), '/api/v1/rules/r1'],
    ['PATCH', 'sidecar/api/v1/rules/r1', A('rules:write'), '/api/v1/rules/r1'],
    ['DELETE', 'sidecar/api/v1/rules/r1', A('rules:write'), '/api/v1/rules/r1'],
    ['POST', 'sidecar/api/v1/rules/r1/rollback', A('rules:write'), '/api/v1/rules/r1/rollback'],
    ['POST', 'sidecar/api/v1/replay', A('rules:write'), '/api/v1/replay'],
    ['GET', 'sidecar/api/v1/replay/job-1', A('rules:read'), '/api/v1/replay/job-1'],
    ['DELETE', 'sidecar/api/v1/replay/job-1', A('rules:write'), '/api/v1/replay/job-1'],
    ['GET', 'sidecar/api/v1/discover', A('rules:read'), '/api/v1/discover'],
    ['GET', 'sidecar/api/v1/discover/dj-1', A('rules:read'), '/api/v1/discover/dj-1'],
    ['GET', 'sidecar/api/v1/discover/dj-1/traces/abc123', A('rules:read'), '/api/v1/discover/dj-1/traces/abc123'],
    ['POST', 'sidecar/api/v1/discover', A('rules:write'), '/api/v1/discover'],
    ['DELETE', 'sidecar/api/v1/discover/dj-1', A('rules:write'), '/api/v1/discover/dj-1'],
    ['POST', 'sidecar/api/v1/discover/dj-1/suggestions/sg-1/adopt', A('rules:write'), '/api/v1/discover/dj-1/suggestions/sg-1/adopt'],
    ['POST', 'sidecar/api/v1/discover/dj-1/suggestions/sg-1/dismiss', A('rules:write'), '/api/v1/discover/dj-1/suggestions/sg-1/dismiss'],
    ['GET', 'sidecar/api/v1/signals', A('signals:read'), '/api/v1/signals'],
    ['GET', 'sidecar/api/v1/signals/s1', A('signals:read'), '/api/v1/signals/s1'],
    ['PATCH', 'sidecar/api/v1/signals/s1', A('signals:write'), '/api/v1/signals/s1'],
    ['GET', 'sidecar/api/v1/evidence', A('evidence:read'), '/api/v1/evidence'],
    ['GET', 'sidecar/api/v1/evidence/export', A('evidence:export'), '/api/v1/evidence/export'],
    ['GET', 'sidecar/api/v1/usage', A('signals:read'), '/api/v1/usage'],
    ['GET', 'sidecar/api/v1/openapi.json', A('rules:read'), '/api/v1/openapi.json'],
  ])('%s %s needs %s and reaches %s', (method, proxyPath, action, upstream) => {
    const hit = proxy(method, proxyPath);
    expect(hit?.route.reqAction).toBe(action);
    expect(hit?.upstream).toBe(upstream);
  });

  it.each([
    ['GET', 'sidecar/metrics'],
    ['GET', 'sidecar/healthz'],
    ['POST', 'sidecar/readyz'],
    ['GET', 'sidecar/v1/traces'],
    ['POST', 'sidecar/api/v1/evidence/export'],
    ['GET', 'sidecar/api/v2/rules'],
    ['GET', 'elsewhere/api/v1/rules'],
  ])('%s %s matches no route (Grafana answers 404)', (method, proxyPath) => {
    expect(proxy(method, proxyPath)).toBeUndefined();
  });

  it('keeps the audit log and the cluster\'s leases for Admins', () => {
    expect(proxy('GET', 'sidecar/api/v1/audit')?.route).toMatchObject({ reqRole: 'Admin' });
    expect(proxy('GET', 'sidecar/api/v1/cluster/leases')?.route).toMatchObject({ reqRole: 'Admin' });
  });

  describe('against the routes a real sidecar serves', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-routes-'));
    const sidecar = createSidecar(
      loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', BETRACE_API_TOKEN: 'route-test', TEMPO_URL: 'http://127.0.0.1:9' }),
      { logger: pino({ level: 'silent' }), pollIntervalMs: 0 },
    );
    let doc: { paths: Record<string, Record<string, unknown>> };

    beforeAll(async () => {
      const { apiPort } = await sidecar.start();
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/openapi.json`, { headers: { authorization: 'Bearer route-test' } });
      doc = (await res.json()) as typeof doc;
    });
    afterAll(async () => {
      await sidecar.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('reaches every API route through the proxy, unchanged; only health and metrics stay off it', () => {
      const unreachable: string[] = [];
      for (const [url, methods] of Object.entries(doc.paths)) {
        for (const method of Object.keys(methods)) {
          const concrete = url.replace(/\{[^}]+\}/g, 'x-1');
          const hit = proxy(method.toUpperCase(), `sidecar${concrete}`);
          if (hit === undefined || hit.upstream !== concrete) {
            unreachable.push(`${method.toUpperCase()} ${url}`);
          }
        }
      }
      expect(unreachable).toEqual(['GET /healthz', 'GET /metrics']);
    });

    it('guards every changing call with a write action', () => {
      for (const [url, methods] of Object.entries(doc.paths)) {
        for (const method of Object.keys(methods).filter((m) => m !== 'get')) {
          const hit = proxy(method.toUpperCase(), `sidecar${url.replace(/\{[^}]+\}/g, 'x-1')}`);
          const readOnlyPost = url === '/api/v1/rules/validate' || url === '/api/v1/rules/test';
          if (url === '/api/v1/evidence/keys/rotate') {
            // Rotating a tenant's signing key is an administrator's act, like reading the audit log.
            expect([method, url, hit?.route.reqRole]).toEqual([method, url, 'Admin']);
            continue;
          }
          expect([method, url, hit?.route.reqAction]).toEqual([method, url, readOnlyPost ? A('rules:read') : expect.stringMatching(/:write$/)]);
        }
      }
    });
  });
});

describe('the RBAC roles', () => {
  const actions = plugin.roles.flatMap((r) => r.role.permissions.map((p) => p.action));
  const granted = (basicRole: string) => new Set(plugin.roles.filter((r) => r.grants.includes(basicRole)).flatMap((r) => r.role.permissions.map((p) => p.action)));

  it('use the plugin id as action prefix, which Grafana requires of plugin roles', () => {
    for (const a of actions) {
      expect(a.startsWith(`${plugin.id}.`)).toBe(true);
    }
    expect(new Set(actions)).toEqual(
      new Set(['rules:read', 'rules:write', 'signals:read', 'signals:write', 'evidence:read', 'evidence:export'].map(A)),
    );
    for (const r of plugin.roles) {
      expect(r.role.name).not.toBe('');
      expect(r.role.description).not.toBe('');
    }
  });

  it('let Viewers read, Editors also change and export, Admins do everything', () => {
    expect([...granted('Viewer')].sort()).toEqual([A('evidence:read'), A('rules:read'), A('signals:read')]);
    expect([...granted('Editor')].sort()).toEqual([...new Set(actions)].sort());
    expect([...granted('Admin')].sort()).toEqual([...new Set(actions)].sort());
  });

  it('guard each route and page with a declared action', () => {
    for (const r of plugin.routes.filter((x) => x.reqAction)) {
      expect(actions).toContain(r.reqAction);
    }
    const pages = Object.fromEntries(plugin.includes.map((i) => [i.name, i.action ?? i.role]));
    expect(pages).toEqual({
      Rules: A('rules:read'),
      Suggestions: A('rules:read'),
      Signals: A('signals:read'),
      Evidence: A('evidence:read'),
      Configuration: 'Admin',
    });
  });

  it('match the actions the UI checks (src/utils/permissions.ts)', () => {
    const source = fs.readFileSync(path.join(root, 'src/utils/permissions.ts'), 'utf8');
    const used = [...source.matchAll(/'(betrace-app\.[a-z]+:[a-z]+)'/g)].map((m) => m[1]);
    expect(new Set(used)).toEqual(new Set(actions));
  });
});
