import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { CHART_DIR, ROOT, SCRATCH, requireTool } from './repo';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureHelmRender } = require(path.join(ROOT, 'tools', 'helm-render', 'build.js')) as {
  ensureHelmRender: () => string;
};

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Rendered {
  /** Every object of every rendered template, in template order. */
  objects: K8sObject[];
  /** The template each object came from (parallel to objects). */
  sources: string[];
  notes: string;
}

export interface RenderOptions {
  chartDir?: string;
  valueFiles?: string[];
  release?: string;
  namespace?: string;
}

let binary: string | undefined;

/** The helm-render harness (tools/helm-render), built on first use. */
export function helmRender(): string {
  if (!binary) {
    requireTool('go', 'golang-go');
    binary = ensureHelmRender();
  }
  return binary;
}

/** Runs the harness; ok=false carries its error output (a failed render). */
export function tryRender(opts: RenderOptions = {}): { ok: true; rendered: Rendered } | { ok: false; error: string } {
  const args = ['-o', 'json', '--release', opts.release ?? 'cepheus', '--namespace', opts.namespace ?? 'cepheus'];
  for (const f of opts.valueFiles ?? []) args.push('-f', f);
  args.push(opts.chartDir ?? CHART_DIR);
  const res = spawnSync(helmRender(), args, { encoding: 'utf8' });
  if (res.status !== 0) return { ok: false, error: `${res.stderr}${res.error ?? ''}` };
  const out = JSON.parse(res.stdout) as { manifests: { source: string; content: string }[]; notes: string };
  const objects: K8sObject[] = [];
  const sources: string[] = [];
  for (const m of out.manifests) {
    for (const doc of YAML.parseAllDocuments(m.content)) {
      if (doc.errors.length > 0) throw new Error(`${m.source}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj === null) continue;
      objects.push(obj);
      sources.push(m.source);
    }
  }
  return { ok: true, rendered: { objects, sources, notes: out.notes } };
}

export function render(opts: RenderOptions = {}): Rendered {
  const res = tryRender(opts);
  if (!res.ok) throw new Error(`helm-render failed: ${res.error}`);
  return res.rendered;
}

export interface ValidationResult {
  index: number;
  apiVersion?: string;
  kind?: string;
  name?: string;
  errors: string[];
}

/**
 * Validates objects against the Kubernetes and prometheus-operator schemas (npm
 * kubernetes-models, @kubernetes-models/prometheus-operator), unknown fields included;
 * returns only the objects with errors.
 */
export function schemaErrors(objects: K8sObject[]): ValidationResult[] {
  fs.mkdirSync(SCRATCH, { recursive: true });
  const res = spawnSync(process.execPath, [path.join(__dirname, 'k8s-validate.mjs')], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`k8s-validate.mjs failed: ${res.stderr}`);
  const results = JSON.parse(res.stdout) as ValidationResult[];
  if (results.filter((r) => r.index >= 0).length !== objects.length) {
    throw new Error('k8s-validate.mjs did not report on every object');
  }
  return results.filter((r) => r.errors.length > 0);
}

export function find(rendered: Rendered, kind: string): K8sObject[] {
  return rendered.objects.filter((o) => o.kind === kind);
}

export function only(rendered: Rendered, kind: string): K8sObject {
  const found = find(rendered, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, rendered ${found.length}`);
  return found[0];
}
