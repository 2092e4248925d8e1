/**
 * Checks the production build's output for what Grafana needs to load the app.
 * Runs after `npm run build` (npm test builds first).
 */
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '../..');
const dist = path.join(root, 'dist');

function distFile(name: string): string {
  const file = path.join(dist, name);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run \`npm run build\` before this test (npm test does)`);
  }
  return file;
}

describe('the built plugin', () => {
  const built = JSON.parse(fs.readFileSync(distFile('plugin.json'), 'utf8'));
  const source = JSON.parse(fs.readFileSync(path.join(root, 'plugin.json'), 'utf8'));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

  it('is the one root plugin.json, with the template fields filled in', () => {
    expect(fs.lstatSync(path.join(root, 'src/plugin.json')).isSymbolicLink()).toBe(true);
    expect(built.id).toBe('betrace-app');
    expect(built.type).toBe('app');
    expect(built.name).toBe('BeTrace');
    expect(built.info.version).toBe(pkg.version);
    expect(built.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(built.includes).toEqual(JSON.parse(JSON.stringify(source.includes).replace(/%PLUGIN_ID%/g, 'betrace-app')));
    expect(built.backend).toBeUndefined();
  });

  it('declares its pages and the Grafana versions it supports', () => {
    expect(built.includes.map((i: { name: string }) => i.name)).toEqual(['Rules', 'Suggestions', 'Signals', 'Evidence', 'Configuration']);
    expect(built.includes.find((i: { defaultNav?: boolean }) => i.defaultNav).name).toBe('Rules');
    expect(built.dependencies.grafanaDependency).toBe('>=13.2.0');
    // The oldest Grafana it claims is the release line of the @grafana/* packages it is built with.
    const oldest = /^>=(\d+\.\d+)\.\d+$/.exec(built.dependencies.grafanaDependency)![1];
    for (const dep of ['@grafana/data', '@grafana/runtime', '@grafana/ui']) {
      expect([dep, /(\d+\.\d+)\.\d+/.exec(pkg.dependencies[dep])?.[1]]).toEqual([dep, oldest]);
    }
  });

  it('keeps its proxy routes and RBAC roles intact through the build', () => {
    expect(built.routes).toEqual(source.routes);
    expect(built.roles).toEqual(source.roles);
    expect(built.routes.length).toBeGreaterThan(0);
    // Grafana fills these Go templates per request; the build must leave them alone.
    for (const r of built.routes) {
      expect(r.url).toMatch(/^\{\{ \.JsonData\.sidecarUrl \}\}\//);
      expect(r.headers).toEqual([{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.sidecarToken }}' }]);
    }
    expect(built.roles.map((r: { role: { name: string } }) => r.role.name)).toEqual([
      'Rules Reader',
      'Rules Writer',
      'Signals Reader',
      'Signals Writer',
      'Evidence Reader',
      'Evidence Exporter',
    ]);
  });

  it('leaves no template placeholder in its plugin.json', () => {
    expect(fs.readFileSync(distFile('plugin.json'), 'utf8')).not.toMatch(/%[A-Z_]+%/);
  });

  it('ships module.js, its logos, README, CHANGELOG and LICENSE', () => {
    const moduleJs = fs.readFileSync(distFile('module.js'), 'utf8');
    expect(moduleJs).toContain('betrace-app');
    // The config page's proxy calls and settings API are in the bundle (lazy chunks included).
    const bundle = fs
      .readdirSync(dist)
      .filter((f) => f.endsWith('.js'))
      .map((f) => fs.readFileSync(path.join(dist, f), 'utf8'))
      .join('\n');
    expect(bundle).toContain('/api/plugin-proxy/');
    expect(bundle).toContain('/settings');
    for (const f of [built.info.logos.small, built.info.logos.large, 'README.md', 'CHANGELOG.md', 'LICENSE']) {
      expect(fs.statSync(distFile(f)).size).toBeGreaterThan(0);
    }
  });
});
