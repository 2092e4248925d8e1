/**
 * The part of Grafana's SystemJS plugin loader a webpack `library: { type: 'amd' }` bundle needs:
 * a global `define(deps, factory)`, each dependency taken from the libraries Grafana shares with
 * plugins (`shared`), and AMD's `module` (its `uri` is where webpack's public path comes from, so
 * the plugin's lazy chunks load from /public/plugins/<id>/). The factory's answer may be a promise
 * (a module with top-level await): it is awaited, as Grafana awaits it.
 */
type Factory = (...deps: unknown[]) => unknown;

interface AmdDefine {
  (deps: string[] | Factory, factory?: Factory): void;
  amd: object;
}

export async function importAmdModule(
  uri: string,
  shared: Readonly<Record<string, unknown>>
): Promise<Record<string, unknown>> {
  const defined = new Promise<unknown>((resolve, reject) => {
    const define = ((deps: string[] | Factory, factory?: Factory) => {
      const names = Array.isArray(deps) ? deps : [];
      const body = (Array.isArray(deps) ? factory : deps) as Factory;
      const missing = names.filter((n) => n !== 'module' && n !== 'exports' && !(n in shared));
      if (missing.length > 0) {
        reject(
          new Error(
            `${uri} needs ${missing.join(', ')}, which the host does not share (Grafana shares them with every plugin)`
          )
        );
        return;
      }
      const exports: Record<string, unknown> = {};
      const args = names.map((n) => (n === 'module' ? { id: uri, uri } : n === 'exports' ? exports : shared[n]));
      try {
        const result = body(...args);
        resolve(result === undefined ? exports : result);
      } catch (e) {
        reject(e);
      }
    }) as AmdDefine;
    define.amd = {};
    (window as unknown as { define: AmdDefine }).define = define;
    const script = document.createElement('script');
    script.src = uri;
    script.onerror = () => reject(new Error(`could not load ${uri}`));
    document.head.appendChild(script);
  });
  return (await defined) as Record<string, unknown>;
}
