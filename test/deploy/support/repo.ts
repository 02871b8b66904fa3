import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';

/** Repository root, the chart, and a git-ignored scratch directory for the deploy tests. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CHART_DIR = path.join(ROOT, 'helm', 'cepheus');
export const SCRATCH = path.join(ROOT, '.cache', 'deploy-test');

const created: string[] = [];

/** A fresh directory under .cache/deploy-test; removeScratch() deletes this test file's ones. */
export function scratchDir(prefix: string): string {
  fs.mkdirSync(SCRATCH, { recursive: true });
  const dir = fs.mkdtempSync(path.join(SCRATCH, `${prefix}-`));
  created.push(dir);
  return dir;
}

export function removeScratch(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Absolute path of a command on PATH. A missing tool fails the test with the Debian
 * package to install (.ci/run installs them): these checks never skip silently.
 */
export function requireTool(command: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error(`${command} is not installed: apt-get install -y ${debianPackage}`);
  }
  return found;
}

export type Values = Record<string, unknown>;

export function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readYaml(file: string): unknown {
  return YAML.parse(fs.readFileSync(file, 'utf8'));
}

/**
 * Helm's coalescing of user values over chart defaults: maps merge recursively, anything
 * else replaces, and a null deletes the default (coalesceValues({}, user) drops the nulls).
 */
export function coalesceValues(defaults: Values, user: Values): Values {
  const out: Values = { ...defaults };
  for (const [key, value] of Object.entries(user)) {
    if (value === null) {
      delete out[key];
    } else if (isMap(value)) {
      out[key] = coalesceValues(isMap(out[key]) ? (out[key] as Values) : {}, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The chart's CI values files (helm/cepheus/ci/*.yaml), as absolute paths. */
export function ciValuesFiles(): string[] {
  const dir = path.join(CHART_DIR, 'ci');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Copies a directory tree (for mutated copies of the chart or the rules file). */
export function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}
