/**
 * scripts/patch-dependencies.js (npm's postinstall): kafkajs' producer groups a send's messages per partition
 * in one pass instead of copying the list per message. The patched function groups exactly like the original,
 * the installed kafkajs is patched, and the script refuses files it was not written for.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';

const ROOT = resolve(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'patch-dependencies.js');
const MODULE = 'src/producer/groupMessagesPerPartition.js';

/** kafkajs 2.2.4's file, byte for byte (the tarball's). */
const ORIGINAL =
  'module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {\n  if (partitionMetadata.length === 0) {\n    return {}\n  }\n\n' +
  '  return messages.reduce((result, message) => {\n    const partition = partitioner({ topic, partitionMetadata, message })\n' +
  '    const current = result[partition] || []\n    return Object.assign(result, { [partition]: [...current, message] })\n  }, {})\n}\n';

type Group = (o: { topic: string; partitionMetadata: Array<{ partitionId: number }>; messages: Array<{ key: string; partition: number }>; partitioner: (o: { message: { partition: number } }) => number }) => Record<string, unknown[]>;

function load(source: string): Group {
  const module = { exports: {} as Group };
  new Function('module', source)(module);
  return module.exports;
}

function fakeInstall(version: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cepheus-patch-'));
  mkdirSync(join(dir, 'node_modules', 'kafkajs', 'src', 'producer'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'kafkajs', 'package.json'), JSON.stringify({ name: 'kafkajs', version }));
  writeFileSync(join(dir, 'node_modules', 'kafkajs', MODULE), source);
  return dir;
}

const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });

describe('patch-dependencies (kafkajs groupMessagesPerPartition)', () => {
  it('the installed kafkajs is patched', () => {
    const check = run('--check');
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    expect(readFileSync(require.resolve(`kafkajs/${MODULE}`), 'utf8')).not.toBe(ORIGINAL);
  });

  it('groups every message list exactly like the original (same partitions, same order, same objects)', () => {
    const original = load(ORIGINAL);
    const patched = load(readFileSync(require.resolve(`kafkajs/${MODULE}`), 'utf8'));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.array(fc.nat({ max: 7 }), { maxLength: 200 }), (partitions, targets) => {
        const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i }));
        const messages = targets.map((t, i) => ({ key: `m${i}`, partition: t % Math.max(1, partitions) }));
        const args = { topic: 't', partitionMetadata, messages, partitioner: ({ message }: { message: { partition: number } }) => message.partition };
        const a = original(args);
        const b = patched(args);
        expect(Object.keys(b)).toEqual(Object.keys(a));
        for (const p of Object.keys(a)) {
          expect(b[p]).toHaveLength(a[p].length);
          a[p].forEach((m, i) => expect(b[p][i]).toBe(m));
        }
      }),
    );
  });

  it('patches the 2.2.4 original once, and leaves a patched file alone', () => {
    const dir = fakeInstall('2.2.4', ORIGINAL);
    try {
      expect(run('--check', '--root', dir).status).toBe(1);
      expect(run('--root', dir).status).toBe(0);
      const patched = readFileSync(join(dir, 'node_modules', 'kafkajs', MODULE), 'utf8');
      expect(patched).toContain('tulios/kafkajs#1576');
      expect(run('--root', dir).status).toBe(0);
      expect(readFileSync(join(dir, 'node_modules', 'kafkajs', MODULE), 'utf8')).toBe(patched);
      expect(run('--check', '--root', dir).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails the install loudly on a file it was not written for (another kafkajs version or a changed file)', () => {
    for (const [version, source] of [
      ['2.3.0', ORIGINAL],
      ['2.2.4', ORIGINAL.replace('|| []', '|| [] ')],
    ] as const) {
      const dir = fakeInstall(version, source);
      try {
        const r = run('--root', dir);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('is not the 2.2.4 original');
        expect(readFileSync(join(dir, 'node_modules', 'kafkajs', MODULE), 'utf8')).toBe(source);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
