/**
 * The built plugin (dist/, from `npm run build`) must run on the React 19 that Grafana 13 gives
 * plugins. @grafana/react-detect is not published to the npm registry this project installs from,
 * so this test does what it does on the built bundle: it looks for the React APIs that React 19
 * removed, used by our code or by any library webpack bundled into dist/, and for a bundled copy
 * of React itself (Grafana shares its own; a second copy breaks hooks).
 */
import * as fs from 'fs';
import * as path from 'path';

const dist = path.join(__dirname, '../../dist');

/** What React 19 removed, as it survives minification (property names and strings). */
export const REMOVED_IN_REACT_19: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  { pattern: /__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED/, why: 'React 18 internals (renamed in 19): a bundled library reaches into them' },
  { pattern: /\bfindDOMNode\b/, why: 'ReactDOM.findDOMNode was removed' },
  { pattern: /\bunmountComponentAtNode\b/, why: 'ReactDOM.unmountComponentAtNode was removed (use root.unmount())' },
  { pattern: /\bcreateFactory\b/, why: 'React.createFactory was removed' },
  { pattern: /\bchildContextTypes\b|\bgetChildContext\b/, why: 'legacy context (childContextTypes/getChildContext) was removed' },
  { pattern: /\.render\([^()]*,\s*document\.getElementById/, why: 'ReactDOM.render was removed (use createRoot)' },
  { pattern: /react-test-renderer\/shallow/, why: 'react-test-renderer/shallow was removed' },
  { pattern: /Minified React error #|react-dom\.production|react\.production\.min/, why: 'a copy of React or ReactDOM is bundled; Grafana provides them' },
];

export function findRemovedApis(source: string): string[] {
  return REMOVED_IN_REACT_19.filter(({ pattern }) => pattern.test(source)).map(({ why }) => why);
}

describe('the built plugin on React 19', () => {
  it('the detector finds each removed API it knows', () => {
    expect(findRemovedApis('x.__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED.ReactCurrentOwner')).toHaveLength(1);
    expect(findRemovedApis('e.findDOMNode(this)')).toEqual(['ReactDOM.findDOMNode was removed']);
    expect(findRemovedApis('o.childContextTypes={a:1}')).toHaveLength(1);
    expect(findRemovedApis('t.render(n, document.getElementById("root"))')).toHaveLength(1);
    expect(findRemovedApis('throw Error("Minified React error #31")')).toHaveLength(1);
    expect(findRemovedApis('root.render(app); root.unmount()')).toEqual([]);
  });

  const bundles = fs.existsSync(dist) ? fs.readdirSync(dist).filter((f) => f.endsWith('.js')) : [];

  it('has been built (npm test builds it before jest)', () => {
    expect(bundles).toContain('module.js');
  });

  it.each(bundles)('%s uses no API that React 19 removed and bundles no React', (file) => {
    expect(findRemovedApis(fs.readFileSync(path.join(dist, file), 'utf8'))).toEqual([]);
  });

  it('declares the Grafana and React it is built for', () => {
    const pluginJson = JSON.parse(fs.readFileSync(path.join(__dirname, '../../plugin.json'), 'utf8'));
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
    expect(pkg.dependencies.react).toMatch(/^\^19\./);
    expect(pkg.dependencies['@grafana/ui']).toMatch(/^13\.2\./);
    // Built and tested against the @grafana/* 13.2 line (React 19 peers): no older Grafana is claimed.
    expect(pluginJson.dependencies.grafanaDependency).toBe('>=13.2.0');
  });
});
