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
    expect(built.includes.map((i: { name: string }) => i.name)).toEqual(['Rules', 'Signals', 'Evidence', 'Configuration']);
    expect(built.includes.find((i: { defaultNav?: boolean }) => i.defaultNav).name).toBe('Rules');
    expect(built.dependencies.grafanaDependency).toBe('>=13.1.0');
  });

  it('ships module.js, its logo, README, CHANGELOG and LICENSE', () => {
    expect(fs.readFileSync(distFile('module.js'), 'utf8')).toContain('betrace-app');
    for (const f of ['img/logo.svg', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
      expect(fs.statSync(distFile(f)).size).toBeGreaterThan(0);
    }
  });
});
