/**
 * Runs the real `bin/cepheus` as tools outside the project do: after `npm run build`, as a child process.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'cepheus');
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|ne)$/.test(entry.name) && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt(): number {
  try {
    return statSync(MAIN).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds dist/ once when it is missing or older than a source file (serialised with other test files). */
export function ensureBuilt(): void {
  if (builtAt() > newestSource(join(ROOT, 'src'))) return;
  // Re-checked under the lock: a concurrent suite may have just built it.
  const script = `test "$(find src -newer dist/cli/main.js \\( -name '*.ts' -o -name '*.ne' \\) ! -name '*.spec.ts' 2>/dev/null | head -1)" = "" -a -f dist/cli/main.js || npm run build`;
  const started = Date.now();
  try {
    execFileSync('flock', ['/tmp/cepheus-build.lock', 'sh', '-c', script], { cwd: ROOT, stdio: 'pipe', timeout: 600_000 });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
    const output = `npm run build failed:\n${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? err.message}`;
    // tsc still emits when some other file has a type error; the CLI can be tested as long as it was emitted.
    if (builtAt() < started - 1000) throw new Error(output);
    console.warn(`${output}\n(dist/cli was emitted all the same: testing it)`);
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cepheus(args: string[], options: { input?: string; cwd?: string; bin?: string } = {}): RunResult {
  const r = spawnSync(options.bin ?? BIN, args, {
    cwd: options.cwd ?? ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A scratch directory with the given files (path → content), removed by the returned cleanup. */
export function scratch(files: Record<string, string | Buffer> = {}): { dir: string; path: (p: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cepheus-cli-'));
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return { dir, path: (p) => join(dir, p), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the CLI in a scratch directory holding `files` (`prepare` may add to it first), then removes the directory. */
export function cepheusIn(files: Record<string, string | Buffer>, args: string[], prepare?: (s: ReturnType<typeof scratch>) => void): RunResult {
  const s = scratch(files);
  try {
    prepare?.(s);
    return cepheus(args, { cwd: s.dir });
  } finally {
    s.cleanup();
  }
}

export const jsonl = (events: object[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
export const lines = (text: string) => text.split('\n').filter((l) => l !== '');
