/**
 * The Helm chart, rendered without helm by tools/helm-render (Go text/template + sprig with
 * helm's built-ins) for the default values and every helm/cepheus/ci/*.yaml, then validated
 * against the Kubernetes and prometheus-operator schemas (unknown fields included) and
 * checked for the wiring the service needs. The last blocks break the chart on purpose and
 * expect the render or the validation to fail.
 */
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { K8sObject, Rendered, find, only, render, schemaErrors, tryRender } from './support/helm';
import { prepareRules } from '../../src/cli/rules';
import { CHART_DIR, ciValuesFiles, copyTree, readYaml, removeScratch, scratchDir } from './support/repo';

afterAll(removeScratch);

jest.setTimeout(120_000);

type Container = {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  startupProbe?: unknown;
  volumeMounts: { name: string; mountPath: string }[];
};
type PodSpec = {
  serviceAccountName: string;
  containers: Container[];
  volumes: { name: string; configMap?: { name: string } }[];
  affinity?: { podAntiAffinity?: Record<string, unknown>; nodeAffinity?: unknown };
  securityContext: Record<string, unknown>;
};
type Deployment = K8sObject & {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } };
};

const chartMeta = readYaml(path.join(CHART_DIR, 'Chart.yaml')) as { appVersion: string };
const rulesFile = YAML.parse(fs.readFileSync(path.join(CHART_DIR, 'files', 'prometheus-rules.yaml'), 'utf8')) as {
  groups: { name: string; rules: unknown[] }[];
};

const cases: [string, string[]][] = [
  ['default values', []],
  ...ciValuesFiles().map((f): [string, string[]] => [`ci/${path.basename(f)}`, [f]]),
];
const renders = new Map<string, Rendered>();

function deployment(r: Rendered): Deployment {
  return only(r, 'Deployment') as Deployment;
}
function container(r: Rendered): Container {
  return deployment(r).spec.template.spec.containers[0];
}
function env(r: Rendered, name: string) {
  return container(r).env.find((e) => e.name === name);
}
function secretValue(r: Rendered, ref: { name: string; key: string }): string {
  const secret = find(r, 'Secret').find((s) => s.metadata.name === ref.name) as (K8sObject & { data: Record<string, string> }) | undefined;
  if (!secret) throw new Error(`Secret ${ref.name} is referenced but not rendered`);
  if (!(ref.key in secret.data)) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
  return Buffer.from(secret.data[ref.key], 'base64').toString('utf8');
}
const ciCase = (name: string) => {
  const r = renders.get(`ci/${name}`);
  if (!r) throw new Error(`helm/cepheus/ci/${name} is missing`);
  return r;
};

beforeAll(() => {
  for (const [name, valueFiles] of cases) renders.set(name, render({ valueFiles }));
});

describe('helm chart: render and schema validation', () => {
  it('renders the default values and every ci values file', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
    for (const [name] of cases) {
      const r = renders.get(name)!;
      expect({ name, kinds: r.objects.map((o) => o.kind) }).toEqual({
        name,
        kinds: expect.arrayContaining(['Deployment', 'Service']),
      });
      expect(r.notes).toContain('health/ready');
    }
  });

  it('every rendered object is valid against the Kubernetes and prometheus-operator schemas', () => {
    const all: K8sObject[] = [];
    const labels: string[] = [];
    for (const [name] of cases) {
      const r = renders.get(name)!;
      r.objects.forEach((o, i) => {
        all.push(o);
        labels.push(`${name}: ${r.sources[i]}`);
      });
    }
    const failures = schemaErrors(all).map((e) => ({ where: labels[e.index] ?? 'program', kind: e.kind, errors: e.errors }));
    expect(failures).toEqual([]);
  });

  it('the validation rejects wrong types, unknown fields and unknown kinds', () => {
    const copy = () => JSON.parse(JSON.stringify(deployment(renders.get('default values')!))) as Deployment;
    const wrongType = copy();
    (wrongType.spec.template.spec.containers[0].ports[0] as { containerPort: unknown }).containerPort = '8080';
    const unknownField = copy();
    (unknownField.spec.template.spec.containers[0] as unknown as Record<string, unknown>).readinesProbe = {
      httpGet: { path: '/health/ready', port: 'http' },
    };
    const sm = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'x' }, spec: { selector: {}, endpoints: [{ port: 'http', interval: '30 seconds' }] } };
    const bogus = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } };
    const errors = schemaErrors([wrongType, unknownField, sm, bogus] as unknown as K8sObject[]);
    const text = (i: number) => errors.find((e) => e.index === i)?.errors.join('\n') ?? '';
    expect(text(0)).toMatch(/containers\/0\/ports\/0\/containerPort must be integer/);
    expect(text(1)).toMatch(/containers\/0\/readinesProbe .*'"readinesProbe"' does not exist in type 'IContainer'/);
    expect(text(2)).toMatch(/endpoints\/0\/interval must match pattern/);
    expect(text(3)).toMatch(/no schema for apiVersion example.com\/v1 kind Widget/);
  });
});

describe('helm chart: what the service needs', () => {
  it('wires probes, port, RULES_DIR and the rules ConfigMap together (default values)', () => {
    const r = renders.get('default values')!;
    const d = deployment(r);
    const c = container(r);
    const svc = only(r, 'Service') as K8sObject & { spec: { selector: Record<string, string>; ports: { targetPort: string; port: number }[] } };

    expect(d.spec.replicas).toBe(1);
    expect(c.image).toBe(`cepheus:${chartMeta.appVersion}`);
    expect(c.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: 8080 })]);
    expect(env(r, 'PORT')?.value).toBe('8080');
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(svc.spec.ports[0].targetPort).toBe('http');

    // Selector labels: Deployment → pods, Service and PDB select the same pods.
    const selector = d.spec.selector.matchLabels;
    expect(d.spec.template.metadata.labels).toEqual(expect.objectContaining(selector));
    expect(svc.spec.selector).toEqual(selector);
    expect((only(r, 'PodDisruptionBudget') as K8sObject & { spec: { selector: { matchLabels: unknown } } }).spec.selector.matchLabels).toEqual(selector);

    // RULES_DIR is where the rules ConfigMap is mounted.
    const rulesDir = env(r, 'RULES_DIR')?.value;
    const mount = c.volumeMounts.find((m) => m.mountPath === rulesDir);
    expect(mount).toBeDefined();
    const volume = d.spec.template.spec.volumes.find((v) => v.name === mount!.name);
    expect(volume?.configMap?.name).toBe(only(r, 'ConfigMap').metadata.name);

    // Non-root, default anti-affinity, no token, no optional objects.
    expect(d.spec.template.spec.securityContext).toEqual(expect.objectContaining({ runAsNonRoot: true, runAsUser: 1000 }));
    expect(d.spec.template.spec.affinity?.podAntiAffinity).toEqual({
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } } },
      ],
    });
    expect(env(r, 'API_TOKEN')).toBeUndefined();
    expect(env(r, 'KAFKA_BROKERS')).toBeUndefined();
    expect(env(r, 'REDIS_URL')).toBeUndefined();
    expect(r.objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    expect(r.notes).toMatch(/embedded/);
    // The default values ship no rules: the notes say so.
    expect(r.notes).toMatch(/rules ConfigMap is empty/);
    expect(ciCase('kafka-redis-values.yaml').notes).not.toMatch(/rules ConfigMap is empty/);
  });

  it('Kafka + Redis + token: env from values and the chart Secret, rules inline, monitoring objects', () => {
    const r = ciCase('kafka-redis-values.yaml');
    const values = readYaml(path.join(CHART_DIR, 'ci', 'kafka-redis-values.yaml')) as {
      config: { kafka: { brokers: string[] }; redis: { url: string } };
      apiToken: { value: string };
      rules: { inline: Record<string, string> };
      metrics: { prometheusRule: { additionalGroups: { name: string }[] } };
    };
    const d = deployment(r);
    expect(d.spec.replicas).toBe(3);
    expect(env(r, 'KAFKA_BROKERS')?.value).toBe(values.config.kafka.brokers.join(','));
    expect(env(r, 'KAFKA_GROUP_ID')?.value).toBe(d.metadata.name);
    expect(env(r, 'MAX_PARTIAL_MATCHES_PER_KEY')?.value).toBe('1000000');
    expect(env(r, 'API_TOKEN')?.value).toBeUndefined();
    expect(secretValue(r, env(r, 'API_TOKEN')!.valueFrom!.secretKeyRef!)).toBe(values.apiToken.value);
    expect(secretValue(r, env(r, 'REDIS_URL')!.valueFrom!.secretKeyRef!)).toBe(values.config.redis.url);
    // State settings given in values reach the pod; the ones left empty keep the service defaults.
    expect(env(r, 'STATE_EVICT_IDLE')?.value).toBe('5m');
    expect(env(r, 'STATE_EVICT_MAX_KEYS')?.value).toBe('2500000');
    expect(env(r, 'CHECKPOINT_MAX_ALERT_BYTES')?.value).toBe('512KiB');
    expect(env(r, 'CHECKPOINT_MAX_OUTBOX')?.value).toBe('200000');
    expect(env(r, 'CHECKPOINT_MAX_SNAPSHOT_BYTES')).toBeUndefined();
    expect(env(r, 'CHECKPOINT_MAX_STREAM_BYTES')).toBeUndefined();
    expect(d.spec.template.metadata.annotations).toEqual(expect.objectContaining({ 'checksum/rules': expect.any(String), 'checksum/secret': expect.any(String) }));
    expect(Object.keys(d.spec.template.spec.affinity?.podAntiAffinity ?? {})).toEqual(['requiredDuringSchedulingIgnoredDuringExecution']);

    expect((only(r, 'ConfigMap') as K8sObject & { data: Record<string, string> }).data).toEqual(values.rules.inline);

    const svc = only(r, 'Service') as K8sObject & { spec: { ports: { name: string }[] } };
    const sm = only(r, 'ServiceMonitor') as K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
    expect(svc.metadata.labels).toEqual(expect.objectContaining(sm.spec.selector.matchLabels));
    expect(svc.spec.ports.map((p) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(sm.spec.endpoints[0].path).toBe('/metrics');
    expect(sm.metadata.labels).toEqual(expect.objectContaining({ release: 'kube-prometheus-stack' }));

    // The PrometheusRule carries files/prometheus-rules.yaml verbatim, then the extra groups.
    const pr = only(r, 'PrometheusRule') as K8sObject & { spec: { groups: { name: string }[] } };
    expect(pr.spec.groups.slice(0, rulesFile.groups.length)).toEqual(rulesFile.groups);
    expect(pr.spec.groups.slice(rulesFile.groups.length).map((g) => g.name)).toEqual(values.metrics.prometheusRule.additionalGroups.map((g) => g.name));

    expect(r.notes).toMatch(/ONE consumer group/);
    expect(r.notes).toMatch(/partition/);
  });

  it('autoscaling with existing Secrets and ConfigMap: no replicas field, references resolve', () => {
    const r = ciCase('autoscaling-existing-secrets-values.yaml');
    const d = deployment(r);
    const hpa = only(r, 'HorizontalPodAutoscaler') as K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number; metrics: unknown[] } };
    expect(d.spec.replicas).toBeUndefined();
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.metrics.length]).toEqual([2, 12, 2]);
    expect(d.metadata.name).toBe('cep-prod');

    expect(env(r, 'API_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: 'cepheus-api', key: 'token' });
    expect(env(r, 'REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'cepheus-redis', key: 'url' });
    expect(find(r, 'Secret')).toEqual([]);
    expect(find(r, 'ConfigMap')).toEqual([]);
    expect(d.spec.template.spec.volumes.find((v) => v.name === 'rules')?.configMap?.name).toBe('cepheus-rules-managed');
    expect(find(r, 'ServiceAccount')).toEqual([]);
    expect(d.spec.template.spec.serviceAccountName).toBe('cepheus-runtime');
    expect(container(r).image).toMatch(/^registry\.example\.com\/platform\/cepheus@sha256:[0-9a-f]{64}$/);
    expect(d.spec.template.spec.affinity).toEqual({ nodeAffinity: expect.any(Object) });
    expect((only(r, 'PodDisruptionBudget') as K8sObject & { spec: Record<string, unknown> }).spec.minAvailable).toBe('50%');
    const sm = only(r, 'ServiceMonitor') as K8sObject & { spec: { namespaceSelector: { matchNames: string[] } } };
    expect(sm.metadata.namespace).toBe('monitoring');
    expect(sm.spec.namespaceSelector.matchNames).toEqual(['cepheus']);
    expect(d.spec.template.metadata.annotations).not.toHaveProperty(['prometheus.io/scrape']);
  });

  it('minimal: metrics.enabled=false gates ServiceMonitor and PrometheusRule, optional objects are off', () => {
    const r = ciCase('minimal-values.yaml');
    expect(r.objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Service']);
    const d = deployment(r);
    expect(d.spec.template.spec.serviceAccountName).toBe('default');
    expect(d.spec.template.spec.affinity).toBeUndefined();
    expect(container(r).startupProbe).toBeUndefined();
    expect(d.spec.template.metadata.annotations ?? {}).not.toHaveProperty(['checksum/rules']);
    expect(r.notes).toMatch(/embedded/);
  });

  it('rules from chart files (rules.files globs) and inline are merged; a name given twice fails', () => {
    const chart = path.join(scratchDir('chart-files'), 'cepheus');
    copyTree(CHART_DIR, chart);
    fs.writeFileSync(path.join(chart, 'files', 'rules', 'shipped.yaml'), 'id: shipped\npattern: every a=A\n');
    fs.writeFileSync(path.join(chart, 'files', 'rules', 'shipped.cep'), 'rule shipped-cep pattern every a=A\n');
    const values = path.join(path.dirname(chart), 'inline.yaml');
    fs.writeFileSync(values, YAML.stringify({ rules: { inline: { 'extra.yaml': 'id: extra\n' } } }));
    const cm = only(render({ chartDir: chart, valueFiles: [values] }), 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(cm.data).toEqual({ 'shipped.yaml': 'id: shipped\npattern: every a=A\n', 'shipped.cep': 'rule shipped-cep pattern every a=A\n', 'extra.yaml': 'id: extra\n' });

    fs.writeFileSync(values, YAML.stringify({ rules: { inline: { 'shipped.yaml': 'id: clash\n' } } }));
    const clash = tryRender({ chartDir: chart, valueFiles: [values] });
    expect(clash.ok).toBe(false);
    expect(!clash.ok && clash.error).toMatch(/shipped\.yaml is both a chart file and in rules\.inline/);
  });
});

describe('helm chart: the example values ship working rules', () => {
  const withRules = ciValuesFiles()
    .filter((f) => Object.keys((readYaml(f) as { rules?: { inline?: object } }).rules?.inline ?? {}).length > 0)
    .map((f) => `ci/${path.basename(f)}`);
  it('the examples with rules are found', () => expect(withRules.length).toBeGreaterThanOrEqual(2));
  it.each(withRules)('%s: every rule in its rules ConfigMap loads without an error or a warning', async (name) => {
    const r = renders.get(name)!;
    // The ConfigMap the pod mounts at RULES_DIR.
    const mounted = deployment(r).spec.template.spec.volumes.find((v) => v.configMap)?.configMap?.name;
    const rules = find(r, 'ConfigMap').find((cm) => cm.metadata.name === mounted) as K8sObject & { data: Record<string, string> };
    const dir = scratchDir('chart-rules');
    for (const [file, text] of Object.entries(rules.data)) fs.writeFileSync(path.join(dir, file), text);
    const prepared = await prepareRules([dir]);
    expect(prepared.diagnostics.map((d) => `${path.basename(d.file ?? '')}:${d.line}:${d.column}: ${d.message}`)).toEqual([]);
    // Every file gave at least one rule (a file may hold several).
    expect(new Set(prepared.compiled.map((c) => path.basename(c.info.definition.origin?.file ?? ''))).size).toBe(Object.keys(rules.data).length);
  });
});

describe('helm chart: a broken chart is caught', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = scratchDir('broken-chart');
  });

  /** A copy of the chart with one template edited; fails if the edit does not apply. */
  function brokenChart(name: string, file: string, from: string | RegExp, to: string): string {
    const chart = path.join(scratch, name, 'cepheus');
    copyTree(CHART_DIR, chart);
    const target = path.join(chart, file);
    const before = fs.readFileSync(target, 'utf8');
    const after = before.replace(from, to);
    if (after === before) throw new Error(`mutation of ${file} did not apply: ${from}`);
    fs.writeFileSync(target, after);
    return chart;
  }

  function valuesFile(name: string, values: unknown): string {
    const file = path.join(scratch, `${name}.yaml`);
    fs.writeFileSync(file, YAML.stringify(values));
    return file;
  }

  it('a template syntax error fails the render', () => {
    const chart = brokenChart('syntax', 'templates/service.yaml', '{{ .Values.service.type }}', '{{ .Values.service.type ');
    const res = tryRender({ chartDir: chart });
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error).toMatch(/service\.yaml/);
  });

  it('a misspelt values path fails the render', () => {
    const chart = brokenChart('values-path', 'templates/service.yaml', '.Values.service.port', '.Values.servce.port');
    const res = tryRender({ chartDir: chart });
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error).toMatch(/nil pointer evaluating interface \{\}\.port/);
  });

  it('a template producing invalid YAML fails the render', () => {
    const chart = brokenChart('yaml', 'templates/deployment.yaml', '{{- toYaml .Values.podSecurityContext | nindent 8 }}', '{{- toYaml .Values.podSecurityContext | indent 2 }}');
    const res = tryRender({ chartDir: chart });
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error).toMatch(/YAML parse error on cepheus\/templates\/deployment\.yaml/);
  });

  it('a quoted port and a misspelt field render but fail the schema validation', () => {
    const quoted = brokenChart('quoted-port', 'templates/deployment.yaml', 'containerPort: {{ .Values.containerPort | int }}', 'containerPort: {{ .Values.containerPort | quote }}');
    const misspelt = brokenChart('misspelt-field', 'templates/deployment.yaml', 'readinessProbe:', 'readinesProbe:');
    const objects = [only(render({ chartDir: quoted }), 'Deployment'), only(render({ chartDir: misspelt }), 'Deployment')];
    const errors = schemaErrors(objects);
    expect(errors.find((e) => e.index === 0)?.errors.join('\n')).toMatch(/containerPort must be integer/);
    expect(errors.find((e) => e.index === 1)?.errors.join('\n')).toMatch(/readinesProbe.*does not exist in type 'IContainer'/);
  });

  it('a broken or missing files/prometheus-rules.yaml fails the render of the PrometheusRule', () => {
    const values = path.join(CHART_DIR, 'ci', 'kafka-redis-values.yaml');
    const broken = brokenChart('bad-rules', 'files/prometheus-rules.yaml', 'groups:', 'groups: [');
    expect(tryRender({ chartDir: broken, valueFiles: [values] })).toEqual({ ok: false, error: expect.stringMatching(/files\/prometheus-rules\.yaml/) });
    const missing = path.join(scratch, 'no-rules', 'cepheus');
    copyTree(CHART_DIR, missing);
    fs.rmSync(path.join(missing, 'files', 'prometheus-rules.yaml'));
    expect(tryRender({ chartDir: missing, valueFiles: [values] })).toEqual({ ok: false, error: expect.stringMatching(/must define groups/) });
  });

  it('state settings are passed only with Redis: without it there is no state to evict or checkpoint', () => {
    const settings = { evictIdle: '30s', evictMaxKeys: 1000, orphanAfter: '24h', checkpoint: { maxOutbox: 5000 } };
    const without = tryRender({ valueFiles: [valuesFile('state-no-redis', { config: { redis: settings } })] });
    const withRedis = tryRender({ valueFiles: [valuesFile('state-redis', { config: { redis: { existingSecret: 'redis', ...settings } } })] });
    if (!without.ok || !withRedis.ok) throw new Error(`render failed: ${without.ok ? '' : without.error} ${withRedis.ok ? '' : withRedis.error}`);
    const names = (r: Rendered) => container(r).env.map((e) => e.name);
    expect(names(without.rendered).filter((n) => n.startsWith('STATE_') || n.startsWith('CHECKPOINT_'))).toEqual([]);
    expect(env(withRedis.rendered, 'STATE_EVICT_IDLE')?.value).toBe('30s');
    expect(env(withRedis.rendered, 'STATE_EVICT_MAX_KEYS')?.value).toBe('1000');
    expect(env(withRedis.rendered, 'STATE_ORPHAN_AFTER')?.value).toBe('24h');
    expect(env(withRedis.rendered, 'CHECKPOINT_MAX_OUTBOX')?.value).toBe('5000');
  });

  it('inconsistent values fail the render with a message', () => {
    const cases: [unknown, RegExp][] = [
      [{ autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } }, /minReplicas must not exceed autoscaling\.maxReplicas/],
      [{ apiToken: { existingSecret: 'x', existingSecretKey: '' } }, /apiToken\.existingSecretKey is required/],
      [{ autoscaling: { enabled: true, targetCPUUtilizationPercentage: 0, targetMemoryUtilizationPercentage: 0 } }, /autoscaling needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage/],
      [{ image: { repository: null } }, /image\.repository is required/],
    ];
    for (const [i, [values, message]] of cases.entries()) {
      const res = tryRender({ valueFiles: [valuesFile(`inconsistent-${i}`, values)] });
      expect({ values, error: res.ok ? 'rendered' : res.error }).toEqual({ values, error: expect.stringMatching(message) });
    }
  });
});
