/**
 * Everything behind the browser, on loopback: a REAL `betrace serve` (the built CLI as a child
 * process, a temporary DATA_DIR, the example rules, its own API token, pull mode against Tempo),
 * the Tempo test double (tests/support/tempoDouble.ts) behind the Tempo data source, and the
 * Grafana stand-in in front of both. The example traces are moved to a few minutes ago and sent
 * to the sidecar (OTLP/JSON) and to Tempo, so the pages have signals, evidence and traces to show.
 */
import { spawn, type ChildProcess } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TempoDouble } from '../../support/tempoDouble';
import { GrafanaStandIn } from './grafanaStandIn';
import { readPluginJson } from './pluginProxy';
import { ROOT } from './paths';
import { until } from './wait';

export const TEMPO_UID = 'tempo';

/** How long the sidecar may take to start and to evaluate the seeded traces on a loaded CI machine. */
const SIDECAR_START_MS = 60_000;
const SEED_EVALUATED_MS = 60_000;

export interface ExampleTrace {
  rule: string;
  verdict: 'violates' | 'satisfies';
  traceId: string;
  json: string;
}

export interface Stack {
  /** The Grafana stand-in, e.g. http://127.0.0.1:40123 */
  url: string;
  grafana: GrafanaStandIn;
  tempo: TempoDouble;
  sidecar: { api: string; otlp: string; token: string; log: string[] };
  traces: ExampleTrace[];
  stop(): Promise<void>;
}

/** An example trace moved so that it ends `endMsAgo` before now (every span and event keeps its offsets). */
export function shiftTrace(json: string, endAtMs: number): string {
  const doc = JSON.parse(json) as {
    resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
  };
  const spans = doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  const end = spans.reduce(
    (m, s) => (BigInt(s.endTimeUnixNano as string) > m ? BigInt(s.endTimeUnixNano as string) : m),
    0n
  );
  const delta = BigInt(endAtMs) * 1_000_000n - end;
  const move = (v: unknown) => (BigInt(v as string) + delta).toString();
  for (const s of spans) {
    s.startTimeUnixNano = move(s.startTimeUnixNano);
    s.endTimeUnixNano = move(s.endTimeUnixNano);
    for (const e of (s.events as Array<Record<string, unknown>> | undefined) ?? []) {
      e.timeUnixNano = move(e.timeUnixNano);
    }
  }
  return JSON.stringify(doc);
}

export function exampleTraces(endAtMs: number): ExampleTrace[] {
  const dir = path.join(ROOT, 'examples/traces');
  const out: ExampleTrace[] = [];
  for (const rule of fs
    .readdirSync(dir)
    .filter((f) => fs.statSync(path.join(dir, f)).isDirectory())
    .sort()) {
    for (const verdict of ['violates', 'satisfies'] as const) {
      const file = path.join(dir, rule, `${verdict}-1.json`);
      if (fs.existsSync(file)) {
        const json = shiftTrace(fs.readFileSync(file, 'utf8'), endAtMs);
        const traceId = /"traceId":\s*"([0-9a-f]{32})"/.exec(json)![1];
        out.push({ rule, verdict, traceId, json });
      }
    }
  }
  return out;
}

async function startSidecar(
  env: Record<string, string>
): Promise<{ child: ChildProcess; api: string; otlp: string; log: string[] }> {
  // The `betrace` command as installed (its bin), which runs the built dist/cli.js.
  const cli = path.join(ROOT, 'packages/sidecar/bin/betrace.js');
  if (!fs.existsSync(path.join(ROOT, 'packages/sidecar/dist/cli.js'))) {
    throw new Error('packages/sidecar/dist is missing: run `npm run build:packages` first (npm ci and npm test do)');
  }
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  let api: string | undefined;
  let otlp: string | undefined;
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      log.push(line);
      try {
        const entry = JSON.parse(line) as { api?: string; otlp?: string };
        if (entry.api && entry.otlp) {
          api = entry.api.replace('localhost', '127.0.0.1').replace(/\/api\/v1$/, '');
          otlp = entry.otlp.replace('localhost', '127.0.0.1');
        }
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  await until('the sidecar to listen', SIDECAR_START_MS, () => {
    if (exited !== undefined) {
      throw new Error(`betrace serve exited with ${exited}:\n${log.join('\n')}`);
    }
    return api !== undefined;
  });
  await until(
    'the sidecar to be ready',
    SIDECAR_START_MS,
    async () => (await fetch(`${api}/readyz`).catch(() => undefined))?.ok === true
  );
  return { child, api: api!, otlp: otlp!, log };
}

/** `betrace_traces_evaluated_total` from the sidecar's metrics. */
async function tracesEvaluated(api: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  return Number(/^betrace_traces_evaluated_total\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

export async function startStack(options: { hostDir: string }): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-browser-'));
  const tempo = new TempoDouble();
  const tempoUrl = await tempo.start();
  const token = randomBytes(24).toString('hex');
  const sidecar = await startSidecar({
    DATA_DIR: dataDir,
    RULES_DIR: path.join(ROOT, 'examples/rules'),
    HOST: '127.0.0.1',
    API_PORT: '0',
    OTLP_PORT: '0',
    BETRACE_API_TOKEN: token,
    TEMPO_URL: tempoUrl,
    OTLP_EXPORT_URL: tempoUrl,
    // Pushed traces are decided a second after their last span; the poller looks only at time after
    // its start, so the seeded (older) traces become signals once, by push, and replay finds them in Tempo.
    DECISION_WAIT: '1s',
    // An evaluated trace is held MAX_TRACE_AGE for late spans before its log segment can be let go
    // into the history that the Suggestions spec mines: 60 s by default, longer than the specs
    // before it may take.
    MAX_TRACE_AGE: '5s',
    POLL_START: '1s',
    POLL_INTERVAL: '5s',
    EVIDENCE_WINDOW: '2s',
    LOG_LEVEL: 'info',
  });
  const traces = exampleTraces(Date.now() - 5 * 60_000);
  const grafana = new GrafanaStandIn({
    plugin: readPluginJson(ROOT),
    distDir: path.join(ROOT, 'dist'),
    hostDir: options.hostDir,
    iconsDir: path.join(ROOT, 'node_modules/@grafana/ui/dist/public/img/icons'),
    settings: {
      enabled: true,
      jsonData: { sidecarUrl: sidecar.api, tempoDatasourceUid: TEMPO_UID },
      secureJsonData: { sidecarToken: token },
    },
    datasources: [{ uid: TEMPO_UID, name: 'Tempo', type: 'tempo', url: tempoUrl }],
  });
  const url = await grafana.start();
  const stop = async () => {
    await grafana.stop();
    const exited = new Promise((resolve) => sidecar.child.once('exit', resolve));
    sidecar.child.kill('SIGTERM');
    await exited;
    await tempo.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const before = await tracesEvaluated(sidecar.api);
    for (const t of traces) {
      for (const target of [sidecar.otlp, `${tempoUrl}/v1/traces`]) {
        const res = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: t.json,
        });
        if (!res.ok) {
          throw new Error(`seeding ${t.rule}/${t.verdict} into ${target}: ${res.status} ${await res.text()}`);
        }
      }
    }
    await until(
      `the sidecar to evaluate the ${traces.length} seeded traces`,
      SEED_EVALUATED_MS,
      async () => (await tracesEvaluated(sidecar.api)) - before >= traces.length
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url,
    grafana,
    tempo,
    sidecar: { api: sidecar.api, otlp: sidecar.otlp, token, log: sidecar.log },
    traces,
    stop,
  };
}
