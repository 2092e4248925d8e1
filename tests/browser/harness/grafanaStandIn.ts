/**
 * The loopback stand-in for the parts of a Grafana server the plugin talks to, so the built plugin
 * runs in a browser exactly as Grafana would load it (there is no Grafana here: it cannot be
 * installed or built in CI). It serves:
 * - the host page (tests/browser/host) with `grafanaBootData` for the signed-in user, under the
 *   app's URLs (/a/<app>/…, /plugins/<app>) and /explore (the trace-view stand-in, host/traceView.tsx);
 * - the built plugin (dist/) at /public/plugins/<app>/, @grafana/ui's icons at /public/build/img/icons/
 *   (Grafana's web fonts are not on npm: /public/fonts/ answers 204 and the browser falls back);
 * - the plugin proxy (/api/plugin-proxy/<app>/…, see pluginProxy.ts) with RBAC per org role,
 *   token injection from secureJsonData and the X-Grafana-User header;
 * - the datasource proxy (/api/datasources/proxy/uid/<uid>/…) to the Tempo datasource's URL;
 * - the app's settings API (/api/plugins/<app>/settings: secrets kept, never sent back).
 * The user is chosen by the `grafana_session` cookie (a login name of USERS).
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import {
  fillTemplate,
  hasRole,
  matchRoute,
  pluginPermissions,
  upstreamUrl,
  type AppSettings,
  type OrgRole,
  type PluginJson,
} from './pluginProxy';

export interface StandInUser {
  login: string;
  role: OrgRole;
}

export const USERS: Record<'admin' | 'editor' | 'viewer', StandInUser> = {
  admin: { login: 'admin', role: 'Admin' },
  editor: { login: 'editor', role: 'Editor' },
  viewer: { login: 'viewer', role: 'Viewer' },
};

export interface DataSource {
  uid: string;
  name: string;
  type: string;
  url: string;
}

export interface StandInOptions {
  plugin: PluginJson;
  /** The built plugin (dist/). */
  distDir: string;
  /** The host page's bundle (index.html, host.js and its chunks). */
  hostDir: string;
  /** @grafana/ui's icon folder (dist/public/img/icons), which Grafana serves from its build. */
  iconsDir: string;
  settings: AppSettings & { enabled: boolean };
  datasources: DataSource[];
}

/** One proxied call, for the specs' assertions (what the browser asked, what the proxy decided). */
export interface ProxiedCall {
  user: string;
  method: string;
  path: string;
  status: number;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.html': 'text/html',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

/** Headers of the browser's request Grafana does not pass on to a proxied upstream. */
const DROPPED_HEADERS = new Set([
  'host',
  'cookie',
  'authorization',
  'connection',
  'origin',
  'referer',
  'x-grafana-user',
  'content-length',
  'accept-encoding',
]);

export class GrafanaStandIn {
  private server: http.Server | undefined;
  readonly calls: ProxiedCall[] = [];
  readonly settings: AppSettings & { enabled: boolean };

  constructor(private readonly options: StandInOptions) {
    this.settings = {
      enabled: options.settings.enabled,
      jsonData: { ...options.settings.jsonData },
      secureJsonData: { ...options.settings.secureJsonData },
    };
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
        }
        res.end(JSON.stringify({ message: `stand-in failed: ${(e as Error).message}` }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private user(req: http.IncomingMessage): StandInUser {
    const session = /(?:^|;\s*)grafana_session=([a-z]+)/.exec(req.headers.cookie ?? '')?.[1];
    return USERS[session as keyof typeof USERS] ?? USERS.admin;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const p = url.pathname;
    const id = this.options.plugin.id;
    const user = this.user(req);
    if (req.method === 'GET' && (p.startsWith(`/a/${id}`) || p === `/plugins/${id}` || p === '/explore')) {
      return this.page(res, user);
    }
    if (p.startsWith(`/public/plugins/${id}/`)) {
      return this.file(res, this.options.distDir, p.slice(`/public/plugins/${id}/`.length));
    }
    if (p.startsWith('/public/build/img/icons/')) {
      return this.file(res, this.options.iconsDir, p.slice('/public/build/img/icons/'.length));
    }
    if (p.startsWith('/public/fonts/')) {
      res.writeHead(204).end();
      return;
    }
    if (p.startsWith('/public/host/')) {
      return this.file(res, this.options.hostDir, p.slice('/public/host/'.length));
    }
    if (p.startsWith(`/api/plugin-proxy/${id}/`)) {
      return this.pluginProxy(req, res, user, p.slice(`/api/plugin-proxy/${id}/`.length), url.search);
    }
    const ds = /^\/api\/datasources\/proxy\/uid\/([^/]+)(\/.*)?$/.exec(p);
    if (ds) {
      return this.datasourceProxy(req, res, decodeURIComponent(ds[1]), ds[2] ?? '/', url.search);
    }
    if (p === `/api/plugins/${id}/settings`) {
      return req.method === 'POST' ? this.saveSettings(req, res, user) : json(res, 200, this.meta());
    }
    if (p === '/api/user') {
      return json(res, 200, { login: user.login, name: user.login, orgRole: user.role, orgId: 1 });
    }
    return json(res, 404, { message: `the stand-in serves no ${req.method} ${p}` });
  }

  /** The app's meta as Grafana's settings API answers it: which secrets are set, never their values. */
  meta() {
    const secureJsonFields = Object.fromEntries(
      Object.entries(this.settings.secureJsonData)
        .filter(([, v]) => v)
        .map(([k]) => [k, true])
    );
    return {
      id: this.options.plugin.id,
      type: 'app',
      name: 'BeTrace',
      enabled: this.settings.enabled,
      pinned: true,
      jsonData: this.settings.jsonData,
      secureJsonFields,
    };
  }

  private bootData(user: StandInUser) {
    const permissions: Record<string, boolean> = Object.fromEntries(
      pluginPermissions(this.options.plugin, user.role).map((a) => [a, true])
    );
    if (hasRole(user.role, 'Admin')) {
      permissions['plugins:write'] = true;
    }
    permissions['datasources:explore'] = true;
    const datasources = Object.fromEntries(
      this.options.datasources.map((d, i) => [
        d.name,
        {
          id: i + 1,
          uid: d.uid,
          name: d.name,
          type: d.type,
          access: 'proxy',
          url: `/api/datasources/proxy/uid/${d.uid}`,
          meta: { id: d.type, name: d.type, type: 'datasource', info: { logos: {} }, module: '', baseUrl: '' },
          isDefault: i === 0,
          jsonData: {},
          readOnly: true,
        },
      ])
    );
    return {
      user: {
        id: 1,
        uid: user.login,
        login: user.login,
        name: user.login,
        email: `${user.login}@example.com`,
        isSignedIn: true,
        orgId: 1,
        orgName: 'Main Org.',
        orgRole: user.role,
        theme: 'dark',
        timezone: 'utc',
        locale: 'en-US',
        language: 'en-US',
        permissions,
      },
      settings: {
        appSubUrl: '',
        appUrl: 'http://localhost/',
        datasources,
        defaultDatasource: this.options.datasources[0]?.name,
        buildInfo: { version: '13.1.1', edition: 'Open Source', env: 'production' },
        featureToggles: {},
        apps: {
          [this.options.plugin.id]: {
            id: this.options.plugin.id,
            path: `public/plugins/${this.options.plugin.id}/module.js`,
            version: '0.1.0',
          },
        },
      },
      navTree: [],
      assets: {},
    };
  }

  private page(res: http.ServerResponse, user: StandInUser) {
    const html = fs.readFileSync(path.join(this.options.hostDir, 'index.html'), 'utf8');
    const boot = `<script>window.grafanaBootData = ${JSON.stringify(this.bootData(user))}; window.__hostPluginMeta = ${JSON.stringify(this.meta())};</script>`;
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(html.replace('<!-- boot -->', boot));
  }

  private file(res: http.ServerResponse, dir: string, rel: string) {
    const file = path.resolve(dir, decodeURIComponent(rel));
    if (!file.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      return json(res, 404, { message: `not found: ${rel}` });
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'access-control-allow-origin': '*',
    });
    fs.createReadStream(file).pipe(res);
  }

  private async pluginProxy(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    user: StandInUser,
    proxyPath: string,
    search: string
  ) {
    const record = (status: number) =>
      this.calls.push({ user: user.login, method: req.method ?? 'GET', path: proxyPath + search, status });
    const hit = matchRoute(this.options.plugin, req.method ?? 'GET', proxyPath);
    if (!hit) {
      record(404);
      return json(res, 404, { message: 'Plugin route not found' });
    }
    const permissions = pluginPermissions(this.options.plugin, user.role);
    const allowed = hit.route.reqAction
      ? permissions.includes(hit.route.reqAction)
      : hit.route.reqRole
        ? hasRole(user.role, hit.route.reqRole)
        : true;
    if (!allowed) {
      record(403);
      return json(res, 403, { message: 'plugin proxy route access denied' });
    }
    const headers: Record<string, string> = { 'x-grafana-user': user.login };
    for (const h of hit.route.headers ?? []) {
      headers[h.name.toLowerCase()] = fillTemplate(h.content, this.settings);
    }
    const status = await forward(req, res, upstreamUrl(hit.route, hit.rest, this.settings) + search, headers);
    record(status);
  }

  private async datasourceProxy(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    uid: string,
    rest: string,
    search: string
  ) {
    const ds = this.options.datasources.find((d) => d.uid === uid);
    if (!ds) {
      return json(res, 404, { message: 'Data source not found' });
    }
    await forward(req, res, ds.url + rest + search, {});
  }

  private async saveSettings(req: http.IncomingMessage, res: http.ServerResponse, user: StandInUser) {
    if (!hasRole(user.role, 'Admin')) {
      return json(res, 403, { message: 'You do not have permission to change plugin settings' });
    }
    const body = JSON.parse((await readBody(req)).toString() || '{}') as {
      enabled?: boolean;
      jsonData?: Record<string, string>;
      secureJsonData?: Record<string, string>;
    };
    if (body.enabled !== undefined) this.settings.enabled = body.enabled;
    if (body.jsonData) this.settings.jsonData = { ...body.jsonData };
    // Like Grafana: a secret sent replaces the stored one; a secret not sent is kept.
    Object.assign(this.settings.secureJsonData, body.secureJsonData ?? {});
    json(res, 200, { message: 'Plugin settings updated' });
  }
}

function json(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Sends the request on to `target` and streams the answer back; an unreachable upstream is Grafana's 502. */
async function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: string,
  extra: Record<string, string>
): Promise<number> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === 'string' && !DROPPED_HEADERS.has(k)) {
      headers[k] = v;
    }
  }
  Object.assign(headers, extra);
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(await readBody(req));
  let upstream: Response;
  try {
    upstream = await fetch(target, { method: req.method, headers, body, redirect: 'manual' });
  } catch {
    json(res, 502, { message: 'Bad Gateway' });
    return 502;
  }
  const out: Record<string, string> = {};
  for (const k of ['content-type', 'content-disposition', 'retry-after']) {
    const v = upstream.headers.get(k);
    if (v !== null) out[k] = v;
  }
  res.writeHead(upstream.status, out).end(Buffer.from(await upstream.arrayBuffer()));
  return upstream.status;
}
