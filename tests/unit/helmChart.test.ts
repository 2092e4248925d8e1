/**
 * The Helm chart (deploy/helm/betrace), rendered by a real Helm (v3.22.0, built from its Go module
 * by scripts/helm.sh into the CI cache) and checked against the sidecar itself: `helm lint`, then
 * `helm template` with the default values and with scaled ones, parsed and cross-checked with
 * the variables packages/sidecar/src/config.ts reads and its own config loader. Skipped, saying
 * so, only where Go is not installed and no Helm is cached.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { loadConfig } from '../../packages/sidecar/src/config';

const root = path.join(__dirname, '../..');
const chart = path.join(root, 'deploy/helm/betrace');
const script = path.join(root, 'scripts/helm.sh');
const run = promisify(execFile);

const cache = path.join(process.env.BETRACE_CI_CACHE ?? path.join(os.homedir(), '.cache/betrace-ci'), 'helm-v3.22.0/helm');
const goFound = ['/usr/local/go/bin/go', ...(process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'go'))].some((p) => fs.existsSync(p));
const why = fs.existsSync(cache) || goFound ? undefined : 'Go is not installed and no Helm is cached, so scripts/helm.sh cannot build Helm';

/** Every environment variable config.ts reads (str('X'), int('X', …), url(…), duration(…), bytes(…), oneOf(…), beside(…)). */
const configSource = fs.readFileSync(path.join(root, 'packages/sidecar/src/config.ts'), 'utf8');
const sidecarReads = new Set([...configSource.matchAll(/\b(?:str|int|url|duration|bytes|oneOf|beside)\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]));

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Mount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}
interface Container {
  name: string;
  args: string[];
  env: EnvVar[];
  ports: Array<{ name: string; containerPort: number }>;
  volumeMounts: Mount[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] } };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface Volume {
  name: string;
  emptyDir?: object;
  persistentVolumeClaim?: { claimName: string };
  configMap?: { name: string };
  secret?: { secretName: string; items: Array<{ key: string; path: string }> };
}
// Kubernetes objects as rendered: read through the fields each test names.
type K8s = { kind: string; metadata: { name: string }; spec: any; data?: Record<string, string> };

let helm = '';
let tmp = '';

async function template(values: object, namespace = 'observability'): Promise<K8s[]> {
  const file = path.join(tmp, `values-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, stringify(values));
  const { stdout } = await run(helm, ['template', 'rel', chart, '--namespace', namespace, '-f', file], { env: helmEnv() });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8s | null)
    .filter((d): d is K8s => d !== null);
}

/** `helm template`'s failure message (the test fails if the render succeeds). */
async function refusal(values: object): Promise<string> {
  try {
    await template(values);
  } catch (e) {
    return String((e as { stderr?: string }).stderr);
  }
  throw new Error(`rendered, but should have failed: ${JSON.stringify(values)}`);
}

/** Helm's own cache, config and data folders under the run's temporary folder, not the home folder. */
function helmEnv() {
  return { PATH: process.env.PATH, HOME: tmp, HELM_CACHE_HOME: path.join(tmp, 'cache'), HELM_CONFIG_HOME: path.join(tmp, 'config'), HELM_DATA_HOME: path.join(tmp, 'data') };
}

const one = (docs: K8s[], kind: string, name?: string) => {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  expect([kind, name, found.length]).toEqual([kind, name, 1]);
  return found[0];
};
const podOf = (docs: K8s[]) => one(docs, 'Deployment').spec.template.spec as { securityContext: Record<string, unknown>; containers: Container[]; volumes: Volume[] };
const sidecarOf = (docs: K8s[]) => podOf(docs).containers[0];
const secretValue = (docs: K8s[], name: string, key: string) => {
  const data = one(docs, 'Secret', name).data ?? {};
  expect([name, key, key in data]).toEqual([name, key, true]);
  return Buffer.from(data[key], 'base64').toString('utf8');
};
/** The container's environment as the sidecar would see it: values, and secret references resolved from the rendered Secrets. */
const resolvedEnv = (docs: K8s[]) =>
  Object.fromEntries(
    sidecarOf(docs).env.map((e) => {
      const ref = e.valueFrom?.secretKeyRef;
      return [e.name, ref ? secretValue(docs, ref.name, ref.key) : e.value];
    }),
  ) as Record<string, string | undefined>;
const portNumber = (c: Container, name: string) => c.ports.find((p) => p.name === name)?.containerPort;

const scaledValues = {
  replicas: 3,
  database: { url: 'postgres://betrace:secret@pg.example:5432/betrace' },
  auth: { apiToken: 'api-token-of-the-test', metricsToken: 'metrics-token-of-the-test', tenantsFile: 'tenants:\n  - id: payments\n' },
  rules: { 'payments.yaml': 'rules: []\n' },
  env: { DECISION_WAIT: '5s', EVAL_WORKERS: 2 },
  collector: { loadbalancing: { enabled: true } },
};

(why === undefined ? describe : describe.skip)(`deploy/helm/betrace${why === undefined ? '' : ` — skipped: ${why}`}`, () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-helm-'));
    // The first run builds Helm (minutes on a cold Go module cache); later runs reuse the binary.
    helm = (await run('bash', [script, '--path'], { maxBuffer: 1 << 20 })).stdout.trim();
  }, 20 * 60_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('passes helm lint --strict with the default and with scaled values', async () => {
    const file = path.join(tmp, 'lint-values.yaml');
    fs.writeFileSync(file, stringify(scaledValues));
    for (const args of [[], ['-f', file]]) {
      const { stdout } = await run(helm, ['lint', '--strict', chart, ...args], { env: helmEnv() });
      expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('renders by default one replica that serves OTLP/HTTP, OTLP/gRPC and the API, and no Secret or ConfigMap it does not need', async () => {
    const docs = await template({});
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual(['Deployment/rel-betrace', 'Service/rel-betrace', 'Service/rel-betrace-headless']);
    expect(one(docs, 'Deployment').spec.replicas).toBe(1);
    const c = sidecarOf(docs);
    expect(c.args).toEqual(['serve']);
    const config = loadConfig(resolvedEnv(docs));
    expect(portNumber(c, 'otlp-http')).toBe(config.otlpPort);
    expect(portNumber(c, 'otlp-grpc')).toBe(config.otlpGrpcPort);
    expect(portNumber(c, 'api')).toBe(config.apiPort);
    expect(config.host).toBe('0.0.0.0');
    // Defaults: no token given (generated in DATA_DIR), the image's example rules, one default tenant.
    expect(config.apiToken).toBeUndefined();
    expect(config.tenantsFile).toBeUndefined();
    expect(config.rulesDir).toBeUndefined();
  });

  it('sets only environment variables the sidecar reads', async () => {
    for (const values of [{}, scaledValues]) {
      for (const e of sidecarOf(await template(values)).env) {
        expect([e.name, sidecarReads.has(e.name)]).toEqual([e.name, true]);
      }
    }
    // The scan of config.ts finds what it should: a broken regular expression would pass everything above.
    for (const name of ['DATA_DIR', 'OTLP_PORT', 'OTLP_GRPC_PORT', 'API_PORT', 'EVIDENCE_KEY_DIR', 'EVIDENCE_ANCHOR_DIR', 'BETRACE_API_TOKEN', 'TENANTS_FILE', 'RULES_DIR']) {
      expect([name, sidecarReads.has(name)]).toEqual([name, true]);
    }
  });

  it('probes /healthz for liveness and /readyz for readiness on the API port', async () => {
    const docs = await template({});
    const c = sidecarOf(docs);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'api' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'api' });
    expect(portNumber(c, c.readinessProbe.httpGet.port)).toBe(loadConfig(resolvedEnv(docs)).apiPort);
    expect(c.resources.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
  });

  it('runs as a non-root user on a read-only root file system, every folder the sidecar writes on a volume, keys and anchors outside DATA_DIR', async () => {
    for (const values of [{}, { persistence: { enabled: true } }]) {
      const docs = await template(values);
      const pod = podOf(docs);
      const c = sidecarOf(docs);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(c.securityContext).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      const env = resolvedEnv(docs);
      // loadConfig refuses key or anchor folders inside the data folder.
      const config = loadConfig(env);
      const writable = [config.dataDir, config.evidenceKeyDir!, config.evidenceAnchorDir!, '/tmp'];
      expect(new Set(writable).size).toBe(4);
      for (const dir of writable) {
        const mount = c.volumeMounts.find((m) => m.mountPath === dir);
        expect([dir, mount !== undefined && !mount.readOnly]).toEqual([dir, true]);
        const volume = pod.volumes.find((v) => v.name === mount!.name)!;
        expect([dir, volume.emptyDir !== undefined || volume.persistentVolumeClaim !== undefined]).toEqual([dir, true]);
      }
    }
  });

  it('keeps DATA_DIR, the keys and the anchors on one claim by subPath with persistence, and replaces the pod rather than sharing the claim', async () => {
    const docs = await template({ persistence: { enabled: true, size: '20Gi' } });
    const pvc = one(docs, 'PersistentVolumeClaim', 'rel-betrace-state');
    expect(pvc.spec.resources.requests.storage).toBe('20Gi');
    expect(pvc.spec.accessModes).toEqual(['ReadWriteOnce']);
    const c = sidecarOf(docs);
    expect(c.volumeMounts.filter((m) => m.name === 'state').map((m) => [m.mountPath, m.subPath])).toEqual([
      ['/data', 'data'],
      ['/keys', 'keys'],
      ['/anchors', 'anchors'],
    ]);
    expect(podOf(docs).volumes.find((v) => v.name === 'state')!.persistentVolumeClaim).toEqual({ claimName: 'rel-betrace-state' });
    expect(one(docs, 'Deployment').spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('refuses more than one replica without a database, without a shared token, or on one ReadWriteOnce claim, saying what to set', async () => {
    expect(await refusal({ replicas: 3 })).toContain('replicas=3 needs shared state: set database.url (postgres://…) or database.existingSecret');
    expect(await refusal({ replicas: 2, database: { url: 'postgres://db/b' } })).toContain('replicas=2 needs one API token for all of them: set auth.apiToken');
    expect(await refusal({ replicas: 2, database: { url: 'postgres://db/b' }, auth: { apiToken: 't' }, persistence: { enabled: true } })).toContain(
      'persistence with accessModes ReadWriteOnce cannot be shared by replicas=2',
    );
    expect(await refusal({ replicas: 0 })).toContain('replicas must be at least 1, got 0');
    expect(await refusal({ database: { url: 'mysql://db/b' } })).toContain('database.url must be a postgres:// or postgresql:// URL, got "mysql://db/b"');
    expect(await refusal({ rules: { '../evil.yaml': 'x' } })).toContain('rules: "../evil.yaml" is not a rule file name');
  });

  it('scales: three replicas with DATABASE_URL, tokens and the tenants file from Secrets, the rules from a ConfigMap, all valid for the sidecar', async () => {
    const docs = await template(scaledValues);
    expect(one(docs, 'Deployment').spec.replicas).toBe(3);
    const env = resolvedEnv(docs);
    expect(env.DATABASE_URL).toBe(scaledValues.database.url);
    const config = loadConfig(env);
    expect(config.apiToken).toBe('api-token-of-the-test');
    expect(config.metricsToken).toBe('metrics-token-of-the-test');
    expect(config.decisionWaitMs).toBe(5000);
    expect(config.evalWorkers).toBe(2);
    // No secret in plain env values.
    for (const e of sidecarOf(docs).env) {
      expect([e.name, /secret|token-of-the-test/.test(e.value ?? '')]).toEqual([e.name, false]);
    }
    const c = sidecarOf(docs);
    const pod = podOf(docs);
    // The rules folder is the ConfigMap holding the files.
    const rulesMount = c.volumeMounts.find((m) => m.mountPath === config.rulesDir)!;
    expect(rulesMount.readOnly).toBe(true);
    const rulesCm = pod.volumes.find((v) => v.name === rulesMount.name)!.configMap!.name;
    expect(one(docs, 'ConfigMap', rulesCm).data).toEqual({ 'payments.yaml': 'rules: []\n' });
    // TENANTS_FILE is a file of the mounted Secret, holding the text given.
    const tenantsDir = path.posix.dirname(config.tenantsFile!);
    const tenantsMount = c.volumeMounts.find((m) => m.mountPath === tenantsDir)!;
    const secret = pod.volumes.find((v) => v.name === tenantsMount.name)!.secret!;
    expect(secret.items.map((i) => i.path)).toEqual([path.posix.basename(config.tenantsFile!)]);
    expect(secretValue(docs, secret.secretName, secret.items[0].key)).toBe(scaledValues.auth.tenantsFile);
  });

  it("gives the Collector's DNS resolver a headless Service over the pods, and renders a load_balancing config that routes by trace id to their OTLP/gRPC port", async () => {
    const docs = await template(scaledValues, 'tracing');
    const headless = one(docs, 'Service', 'rel-betrace-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.selector).toEqual(one(docs, 'Deployment').spec.template.metadata.labels);
    const grpcPort = portNumber(sidecarOf(docs), 'otlp-grpc');
    expect(headless.spec.ports.find((p: { name: string }) => p.name === 'otlp-grpc')).toMatchObject({ port: grpcPort, targetPort: 'otlp-grpc' });
    const collector = parse(one(docs, 'ConfigMap', 'rel-betrace-collector').data!['collector.yaml']);
    const lb = collector.exporters.load_balancing;
    expect(lb.routing_key).toBe('traceID');
    expect(lb.resolver.dns).toEqual({ hostname: 'rel-betrace-headless.tracing.svc.cluster.local', port: grpcPort });
    expect(collector.service.pipelines.traces).toEqual({ receivers: ['otlp'], exporters: ['load_balancing'] });
    // The cluster Service exposes the same ports as the container, by name.
    const svc = one(docs, 'Service', 'rel-betrace');
    expect(svc.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).toEqual(sidecarOf(docs).ports.map((p) => [p.name, p.containerPort]));
  });

  it('reads tokens, the tenants file and DATABASE_URL from existing Secrets without making its own', async () => {
    const docs = await template({
      replicas: 2,
      auth: { existingSecret: 'betrace-auth', existingSecretHasTenantsFile: true },
      database: { existingSecret: 'betrace-db', existingSecretKey: 'url' },
    });
    expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    const env = Object.fromEntries(sidecarOf(docs).env.map((e) => [e.name, e]));
    expect(env.DATABASE_URL.valueFrom!.secretKeyRef).toEqual({ name: 'betrace-db', key: 'url' });
    expect(env.BETRACE_API_TOKEN.valueFrom!.secretKeyRef).toEqual({ name: 'betrace-auth', key: 'BETRACE_API_TOKEN', optional: true });
    expect(podOf(docs).volumes.find((v) => v.name === 'tenants')!.secret!.secretName).toBe('betrace-auth');
    expect(env.TENANTS_FILE.value).toBe('/etc/betrace/tenants/tenants.yaml');
  });

  it('turns the OTLP/gRPC receiver off with ports.otlpGrpc=0, in the sidecar and both Services', async () => {
    const docs = await template({ ports: { otlpGrpc: 0 } });
    const config = loadConfig(resolvedEnv(docs));
    expect(config.otlpGrpcPort).toBeUndefined();
    for (const s of docs.filter((d) => d.kind === 'Service')) {
      expect(s.spec.ports.map((p: { name: string }) => p.name)).not.toContain('otlp-grpc');
    }
    expect(await refusal({ ports: { otlpGrpc: 0 }, collector: { loadbalancing: { enabled: true } } })).toContain('collector.loadbalancing.enabled sends OTLP/gRPC');
  });
});
