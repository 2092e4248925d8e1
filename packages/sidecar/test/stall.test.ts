/**
 * The pathological trace: one OTLP request holding a 20 000-span parent chain, and a rule whose
 * structural operators walk the chain for every span. Evaluation runs on a worker thread, so the
 * thread that answers HTTP keeps answering /healthz and the API while it runs. Asserted
 * structurally (probes answered while the evaluation was in flight, the thread that evaluated),
 * never by timing; `npm run bench stall` measures the latencies.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { createSidecar, Sidecar } from '../src/sidecar';
const { CHAIN_RULE, chainRequest } = require('./support/chainTrace') as { CHAIN_RULE: object; chainRequest: (traceId: string, spans: number) => object };

const SPANS = 20_000;
let sidecar: Sidecar | undefined;
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

describe('a pathological trace', () => {
  it('is evaluated off the HTTP thread: /healthz and the API answer every probe while it runs', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-stall-'));
    const clock = { now: 1_764_028_800_000 };
    // A hard limit keeps the test bounded whatever the evaluator's speed: the rule then counts as skipped (hard-limit).
    const config = loadConfig({ DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', BETRACE_API_TOKEN: 'token', EVAL_WORKERS: '1', EVAL_BUDGET: '1s', EVAL_HARD_LIMIT: '3s' });
    sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 });
    const { otlpPort, apiPort } = await sidecar.start();
    const api = `http://127.0.0.1:${apiPort}`;
    const headers = { authorization: 'Bearer token', 'content-type': 'application/json' };
    expect((await fetch(`${api}/api/v1/rules`, { method: 'POST', headers, body: JSON.stringify(CHAIN_RULE) })).status).toBe(201);
    const traceId = 'c0ffee'.padEnd(32, '0');
    const body = JSON.stringify(chainRequest(traceId, SPANS));
    expect((await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);

    let evaluating = false;
    let done = false;
    const probes: Array<{ during: boolean; ok: boolean }> = [];
    const probing = (async () => {
      while (!done) {
        const sentDuring = evaluating;
        const [health, rules] = await Promise.all([fetch(`${api}/healthz`), fetch(`${api}/api/v1/rules`, { headers })]);
        await Promise.all([health.arrayBuffer(), rules.arrayBuffer()]);
        probes.push({ during: sentDuring && evaluating, ok: health.status === 200 && rules.status === 200 });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await new Promise((r) => setTimeout(r, 20)); // the first probes answer before evaluation starts
    clock.now += 10_001;
    evaluating = true;
    expect(sidecar.assembler.tick()).toBe(1); // hands the trace over; with EVAL_WORKERS=0 it would evaluate right here
    await sidecar.evaluated();
    evaluating = false;
    done = true;
    await probing;

    expect(probes.length).toBeGreaterThan(0);
    expect(probes.filter((p) => !p.ok)).toEqual([]);
    // Probes sent and answered while the trace was in evaluation: the HTTP thread was free.
    expect(probes.filter((p) => p.during).length).toBeGreaterThan(0);
    const metrics = await (await fetch(`${api}/metrics`)).text();
    // The evaluation ran on worker 0's thread (thread ids above 0 are worker threads).
    expect(metrics).toMatch(/^betrace_eval_worker_evaluations_total\{worker="0",thread="[1-9]\d*"\} 1$/m);
    // The rule either ran to its end or was stopped by a budget (hard-limit here; step-budget in the evaluator) — it never hangs the sidecar.
    const evaluated = /betrace_rule_evaluations_total\{tenant="default",rule="chain-walk"\} (\d+)/.exec(metrics)?.[1];
    const skipped = [...metrics.matchAll(/^betrace_rule_skipped_total\{tenant="default",rule="chain-walk",reason="[a-z-]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(Number(evaluated ?? 0) + skipped).toBe(1);
  });
});
