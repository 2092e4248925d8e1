/**
 * What Grafana's plugin proxy does with `/api/plugin-proxy/<app>/<path>` for plugin.json's
 * `routes`: the FIRST route whose method and path match (`path/*` passes the rest on), its
 * `reqAction` or `reqRole` checked against the signed-in user, the `{{ .JsonData.x }}` and
 * `{{ .SecureJsonData.x }}` templates of its URL and headers filled from the app's settings.
 * Matching follows tests/unit/pluginRoutes.test.ts, which pins it against a real sidecar.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface PluginRoute {
  path: string;
  method: string;
  url: string;
  reqAction?: string;
  reqRole?: OrgRole;
  headers?: Array<{ name: string; content: string }>;
}

export interface PluginJson {
  id: string;
  routes: PluginRoute[];
  roles: Array<{ role: { name: string; permissions: Array<{ action: string }> }; grants: string[] }>;
}

export type OrgRole = 'Viewer' | 'Editor' | 'Admin';

/** Grafana's basic roles inherit downwards: an Admin holds what an Editor holds, an Editor what a Viewer holds. */
const ROLE_RANK: Record<OrgRole, number> = { Viewer: 1, Editor: 2, Admin: 3 };

export function readPluginJson(root: string): PluginJson {
  return JSON.parse(fs.readFileSync(path.join(root, 'plugin.json'), 'utf8')) as PluginJson;
}

/** The plugin's RBAC actions an org role holds through the plugin's role grants. */
export function pluginPermissions(plugin: PluginJson, role: OrgRole): string[] {
  const actions = new Set<string>();
  for (const r of plugin.roles) {
    if (r.grants.some((g) => g in ROLE_RANK && ROLE_RANK[g as OrgRole] <= ROLE_RANK[role])) {
      r.role.permissions.forEach((p) => actions.add(p.action));
    }
  }
  return [...actions].sort();
}

export function hasRole(role: OrgRole, required: OrgRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[required];
}

/** The first route for `method` and `proxyPath` (no leading slash), and the rest of the path after it. */
export function matchRoute(
  plugin: PluginJson,
  method: string,
  proxyPath: string
): { route: PluginRoute; rest: string } | undefined {
  for (const route of plugin.routes) {
    if (route.method !== '' && route.method !== '*' && route.method !== method) {
      continue;
    }
    if (route.path.endsWith('/*')) {
      const prefix = route.path.slice(0, -1);
      if (proxyPath.startsWith(prefix) && proxyPath.length > prefix.length) {
        return { route, rest: proxyPath.slice(prefix.length) };
      }
    } else if (proxyPath === route.path) {
      return { route, rest: '' };
    }
  }
  return undefined;
}

export interface AppSettings {
  jsonData: Record<string, string | undefined>;
  secureJsonData: Record<string, string | undefined>;
}

/** Fills `{{ .JsonData.x }}` / `{{ .SecureJsonData.x }}` as Grafana's template does (a missing value is empty). */
export function fillTemplate(template: string, settings: AppSettings): string {
  return template.replace(
    /\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g,
    (_m, kind: string, key: string) =>
      (kind === 'JsonData' ? settings.jsonData[key] : settings.secureJsonData[key]) ?? ''
  );
}

/** The upstream URL of a matched route: its URL with the rest of the path joined on. */
export function upstreamUrl(route: PluginRoute, rest: string, settings: AppSettings): string {
  const base = fillTemplate(route.url, settings);
  return rest === '' ? base : `${base}/${rest}`;
}
