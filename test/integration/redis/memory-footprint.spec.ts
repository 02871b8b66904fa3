/**
 * Measures what an idle key costs: in the engine's heap (what a replica holds for its owned partitions) and
 * in Redis (what the checkpoint holds), for typical per-key states. Prints a table (docs/redis.md quotes it)
 * and checks loose upper bounds so a regression shows up.
 *
 *   npx jest test/integration/redis/memory-footprint.spec.ts
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import Redis from 'ioredis';
import type { RedisHandle } from '../../../scripts/infra';
import { RedisCheckpointStore } from '../../../src/adapters/redis/redis-checkpoint-store';
import { closeRedisClient, createRedisClient } from '../../../src/adapters/redis/redis-connection';
import { Engine, compileRule } from '../../../src/core/engine';
import { splitChanges } from '../../../src/core/ports/checkpoint-store';
import { ruleOf } from '../../support/pattern-harness';
import { infra, waitFor } from './servers';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const N = 20_000;

interface Case {
  name: string;
  pattern: string;
  fast: boolean;
  /** Events per key, at t, t+1… */
  events: string[];
}

const CASES: Case[] = [
  { name: 'waiting, 1 partial (fast path)', pattern: 'every a=A -> b=B(x > a.x) where timer:within(10 min)', fast: true, events: ['A'] },
  { name: 'waiting, 1 partial (general)', pattern: 'every a=A -> b=B(x > a.x) where timer:within(10 min)', fast: false, events: ['A'] },
  { name: 'matched, idle (general)', pattern: 'every a=A -> b=B', fast: false, events: ['A', 'B'] },
  { name: 'ended tombstone', pattern: 'a=A -> b=B', fast: false, events: ['A', 'B'] },
];

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function usedMemory(r: Redis): Promise<number> {
  const info = await r.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

describe('memory per idle key', () => {
  let server: RedisHandle | undefined;
  afterAll(() => infra.stopInfra({ redis: server }));

  it('engine heap and Redis bytes per key', async () => {
    server = await infra.startRedis();
    const client = createRedisClient(server.url);
    await waitFor(() => client.status === 'ready', 5000, 'redis');
    const r = client as Redis;
    const rows: Array<Record<string, string | number>> = [];
    try {
      for (const c of CASES) {
        const rule = compileRule(ruleOf(c.pattern, { id: 'm', partitionBy: 'k' }));
        const before = heapUsed();
        let engine: Engine | undefined = new Engine({ trackChanges: true, startTime: 0, sequenceFastPath: c.fast });
        engine.addRule(rule);
        for (let i = 0; i < N; i++) {
          c.events.forEach((type, j) => engine!.process({ type, k: `key-${String(i).padStart(8, '0')}`, x: 1, timestamp: j }));
        }
        engine.drainChanges(); // empties the dirty set: what stays is the engine's own state
        const heapPerKey = (heapUsed() - before) / N;
        expect(engine.keys('m').length).toBe(N);

        const { changed, deleted } = splitChanges(
          engine.keys('m').map((key) => ({ rule: 'm', key, snapshot: engine!.snapshotKey('m', key) ?? null })),
          () => 1,
        );
        const jsonBytes = changed.reduce((s, k) => s + Buffer.byteLength(JSON.stringify(k.snapshot)), 0) / N;
        engine = undefined;

        await r.flushall();
        const store = new RedisCheckpointStore(client, { prefix: 'mem' });
        const tp = { topic: 'm', partition: 0 };
        const { epoch } = await store.load(tp);
        const base = await usedMemory(r);
        for (let i = 0; i < changed.length; i += 5000) {
          await store.commit(tp, { epoch, nextOffset: String(i + 1), clock: 1, changed: changed.slice(i, i + 5000), deleted, alerts: [] });
        }
        const redisPerKey = ((await usedMemory(r)) - base) / N;
        rows.push({ case: c.name, 'heap B/key': Math.round(heapPerKey), 'snapshot JSON B': Math.round(jsonBytes), 'redis B/key': Math.round(redisPerKey) });
        expect(redisPerKey).toBeLessThan(c.name === 'ended tombstone' ? 120 : 2000);
      }
    } finally {
      await closeRedisClient(client);
    }
    const cols = Object.keys(rows[0]);
    const table = [cols.join(' | '), ...rows.map((row) => cols.map((k) => row[k]).join(' | '))].join('\n');
    process.stdout.write(`\n[memory per idle key, N=${N}, node ${process.version}]\n${table}\n`);
  }, 120_000);
});
