/**
 * E2E harness: the real Nest application (createApp, as `npm start` builds it) listening on 127.0.0.1 at a
 * free port, driven over real HTTP with fetch. Logs are captured as parsed JSON lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createLogger } from '../../src/app/logging/logger';
import { defaultConfig, type ServiceConfig } from '../../src/config/config';
import { createApp } from '../../src/http/server';
import { eventually } from '../support/eventually';

export { eventually };

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface RunningService {
  app: NestExpressApplication;
  url: string;
  config: ServiceConfig;
  logs: LogLine[];
  /** fetch relative to the service. */
  request(path: string, init?: RequestInit): Promise<Response>;
  json<T = any>(path: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }>;
  close(): Promise<void>;
}

export async function startService(overrides: Partial<ServiceConfig> = {}): Promise<RunningService> {
  const config = defaultConfig({ port: 0, host: '127.0.0.1', logLevel: 'debug', rulesReloadDebounceMs: 50, ...overrides });
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const app = await createApp(config, { logger: createLogger(config.logLevel, sink) });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const request = (path: string, init?: RequestInit) => fetch(url + path, init);
  let closed = false;
  return {
    app,
    url,
    config,
    logs,
    request,
    async json(path, init) {
      const res = await request(path, init);
      const text = await res.text();
      let body: any = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body, headers: res.headers };
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

export const yaml = (text: string, extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/yaml', ...extra },
  body: text,
});

export const json = (value: unknown, extra: Record<string, string> = {}, method = 'POST'): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...extra },
  body: typeof value === 'string' ? value : JSON.stringify(value),
});

export const ndjson = (events: unknown[], extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-ndjson', ...extra },
  body: events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n',
});

/** A temporary directory with the given files; removed by the returned cleanup. */
export function tempDir(files: Record<string, string> = {}): { dir: string; write(name: string, text: string): void; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cepheus-e2e-'));
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  for (const [name, text] of Object.entries(files)) write(name, text);
  return { dir, write, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A rule: a failed login followed by a successful one for the same user. */
export const LOGIN_RULE = `id: failed-then-success
severity: critical
partitionBy: user
pattern: every f=login_failed -> s=login_succeeded
emit:
  user: s.user
  ip: f.ip
labels:
  team: security
`;

export const loginEvents = (user: string, t0: number) => [
  { type: 'login_failed', user, ip: '10.0.0.1', timestamp: t0 },
  { type: 'login_succeeded', user, ip: '10.0.0.2', timestamp: t0 + 1000 },
];

/** The value of one series in the Prometheus text format, or undefined when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found[pair[1]] = pair[2];
    if (Object.entries(labels).every(([k, v]) => found[k] === v) && Object.keys(found).length === Object.keys(labels).length) {
      return Number(m[4]);
    }
  }
  return undefined;
}

export const ROOT = join(__dirname, '..', '..');

/**
 * Builds dist/ (tsc -p tsconfig.build.json) when it is missing or older than a source file, so that
 * `bin/cepheus` and `node dist/main.js` run the code under test.
 */
export function ensureBuilt(): void {
  const marker = join(ROOT, 'dist', 'main.js');
  const cli = join(ROOT, 'dist', 'cli', 'main.js');
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) t = Math.max(t, newest(p));
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) t = Math.max(t, statSync(p).mtimeMs);
    }
    return t;
  };
  const built = existsSync(marker) && existsSync(cli) ? Math.min(statSync(marker).mtimeMs, statSync(cli).mtimeMs) : 0;
  if (built >= newest(join(ROOT, 'src'))) return;
  const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`building dist/ failed:\n${build.stdout}${build.stderr}`);
}
