/**
 * The service as `npm start` runs it (`node dist/main.js`): configuration errors, the startup line, and a
 * graceful SIGTERM (in-flight work finished, exit 0).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { ensureBuilt, eventually, LOGIN_RULE, loginEvents, ROOT, tempDir } from './harness';

const MAIN = join(ROOT, 'dist', 'main.js');
const BASE_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };

interface Started {
  child: ChildProcess;
  url: string;
  lines: Array<Record<string, any>>;
  exit: Promise<number | null>;
}

async function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], { env: { ...BASE_ENV, PORT: '0', HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, any>> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) lines.push(JSON.parse(line));
    }
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = await eventually(() => lines.find((l) => typeof l.url === 'string'), 20_000, `the startup line (stderr: ${stderr})`);
  return { child, url: listening.url as string, lines, exit };
}

describe('node dist/main.js', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('refuses a bad configuration with one line per bad value and exit 1', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      env: { ...BASE_ENV, PORT: 'eighty', LOG_LEVEL: 'loud', MAX_PARTIAL_MATCHES_PER_KEY: '-1', RULES_DIR: '/nonexistent/rules', REDIS_URL: 'http://u:secret@x' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual([
      'cepheus: invalid configuration: PORT="eighty": expected an integer from 0 to 65535',
      'cepheus: invalid configuration: RULES_DIR="/nonexistent/rules": expected an existing directory or rule file (/nonexistent/rules does not exist)',
      'cepheus: invalid configuration: LOG_LEVEL="loud": expected one of trace, debug, info, warn, error, fatal, silent',
      'cepheus: invalid configuration: MAX_PARTIAL_MATCHES_PER_KEY="-1": expected an integer from 1 to 100000000',
      'cepheus: invalid configuration: REDIS_URL="http://u:***@x": expected a URL like redis://host:6379/0 or rediss://user:password@host:6380',
    ]);
    expect(run.stderr).not.toContain('secret');
  });

  it('refuses invalid rule files at startup with their errors logged and exit 1', async () => {
    const files = tempDir({ 'bad.yaml': 'id: bad\npattern: every a=A ->\n' });
    try {
      const run = spawnSync(process.execPath, [MAIN], { env: { ...BASE_ENV, PORT: '0', RULES_DIR: files.dir }, encoding: 'utf8', timeout: 20_000 });
      expect(run.status).toBe(1);
      const logs = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(logs).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ level: 'error', file: join(files.dir, 'bad.yaml'), line: 2 }),
          expect.objectContaining({ level: 'fatal', msg: expect.stringMatching(/1 error in the rule files/) }),
        ]),
      );
    } finally {
      files.cleanup();
    }
  });

  it('prints where it listens and how many rules it loaded; on SIGTERM finishes in-flight work and exits 0', async () => {
    const files = tempDir({ 'login.yaml': LOGIN_RULE });
    try {
      const svc = await start({ RULES_DIR: files.dir, LOG_LEVEL: 'info' });
      const startup = svc.lines.find((l) => typeof l.url === 'string')!;
      expect(startup).toMatchObject({ level: 'info', rules: 1, mode: 'embedded' });
      expect(startup.msg).toMatch(/^cepheus listening on http:\/\/127\.0\.0\.1:\d+ \(embedded mode\): 1 rule loaded from /);

      // A request still sending its body when SIGTERM arrives.
      let push!: (chunk: string | null) => void;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const enc = new TextEncoder();
          push = (chunk) => (chunk === null ? controller.close() : controller.enqueue(enc.encode(chunk)));
        },
      });
      const pending = fetch(`${svc.url}/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body, duplex: 'half' } as RequestInit);
      const [failed, succeeded] = loginEvents('u1', 1000);
      push(JSON.stringify(failed) + '\n');
      await new Promise((r) => setTimeout(r, 200));
      svc.child.kill('SIGTERM');
      await eventually(() => svc.lines.some((l) => l.msg === 'shutting down: no new input is taken'), 5000, 'draining');
      push(JSON.stringify(succeeded) + '\n');
      push(null);
      const res = await pending;
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 2, rejected: [] });
      expect(await svc.exit).toBe(0);
      expect(svc.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['received SIGTERM, shutting down', 'stopped']));
    } finally {
      files.cleanup();
    }
  }, 60_000);

  it('in Kafka mode with a broker that accepts connections but never answers, stops on SIGTERM with exit 0 within seconds', async () => {
    const files = tempDir({ 'login.yaml': LOGIN_RULE });
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const svc = await start({ RULES_DIR: files.dir, LOG_LEVEL: 'info', KAFKA_BROKERS: `127.0.0.1:${port}`, SHUTDOWN_TIMEOUT_MS: '30000' });
      await new Promise((r) => setTimeout(r, 2000));
      const sent = Date.now();
      svc.child.kill('SIGTERM');
      expect(await svc.exit).toBe(0);
      expect(Date.now() - sent).toBeLessThan(5000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
      files.cleanup();
    }
  }, 60_000);

  it('in Kafka mode with no broker reachable, stops on SIGTERM at once with exit 0 instead of waiting for the connection retries', async () => {
    const files = tempDir({ 'login.yaml': LOGIN_RULE });
    try {
      // Port 1 on loopback refuses connections: kafkajs keeps retrying the connection behind the scenes.
      const svc = await start({ RULES_DIR: files.dir, LOG_LEVEL: 'info', KAFKA_BROKERS: '127.0.0.1:1', SHUTDOWN_TIMEOUT_MS: '30000' });
      await new Promise((r) => setTimeout(r, 1500));
      const sent = Date.now();
      svc.child.kill('SIGTERM');
      expect(await svc.exit).toBe(0);
      expect(Date.now() - sent).toBeLessThan(5000);
      expect(svc.lines.map((l) => l.msg)).toContain('stopped');
    } finally {
      files.cleanup();
    }
  }, 60_000);
});
