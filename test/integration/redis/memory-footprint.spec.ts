/**
 * Measures what an idle key costs: in the engine's heap (what a replica holds for its owned partitions) and
 * in Redis (what the checkpoint holds), for typical per-key states; and what eviction of cold keys saves (the
 * heap of a partition with N idle keys, evicted or not) and costs (reloading a batch's keys from Redis).
 * Prints tables (docs/redis.md quotes them) and checks loose bounds so a regression shows up.
 *
 *   npx jest test/integration/redis/memory-footprint.spec.ts
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import Redis from 'ioredis';
import type { RedisHandle } from '../../../scripts/infra';
import { PartitionCheckpoint } from '../../../src/adapters/redis/partition-checkpoint';
import { RedisCheckpointStore } from '../../../src/adapters/redis/redis-checkpoint-store';
import { closeRedisClient, createRedisClient } from '../../../src/adapters/redis/redis-connection';
import { Engine, compileRule } from '../../../src/core/engine';
import { allStoredKeys, splitChanges } from '../../../src/core/ports/checkpoint-store';
import { DEFAULT_STREAM_SETTINGS } from '../../../src/core/stream/settings';
import { StreamPartition } from '../../../src/core/stream/stream-partition';
import { watchPages } from '../../support/checkpoint-pages';
import { ruleOf } from '../../support/pattern-harness';
import { infra, waitFor } from './servers';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const N = 20_000;
/** Stored keys of the taken-over partition (more than N, so a heap growing with the partition shows). */
const TAKEOVER_N = 50_000;

interface Case {
  name: string;
  pattern: string;
  fast: boolean;
  /** Events per key, at t, t+1… */
  events: string[];
  /** Its keys end in a new key's state: a partition frees them (sweeps, eviction) and deletes them from Redis. */
  fresh?: boolean;
}

const CASES: Case[] = [
  { name: 'waiting, 1 partial (fast path)', pattern: 'every a=A -> b=B(x > a.x) where timer:within(10 min)', fast: true, events: ['A'] },
  { name: 'waiting, 1 partial (general)', pattern: 'every a=A -> b=B(x > a.x) where timer:within(10 min)', fast: false, events: ['A'] },
  { name: 'matched, idle (general)', pattern: 'every a=A -> b=B', fast: false, events: ['A', 'B'], fresh: true },
  { name: 'ended tombstone', pattern: 'a=A -> b=B', fast: false, events: ['A', 'B'] },
];

const BATCH = 1000;
let measurements = 0;

/**
 * Heap of one partition (StreamPartition + PartitionCheckpoint on Redis) after N keys, BATCH a second (wall
 * clock), each idle for a minute by the end, then an eviction pass; with `evict`, STATE_EVICT_IDLE=1m. Then,
 * when evicting, the time to reload BATCH of the keys (one HMGET and the restores). In a function of its
 * own, so that nothing of an earlier measurement is still reachable.
 */
async function partitionHeap(store: RedisCheckpointStore, c: Case, evict: boolean): Promise<{ heapPerKey: number; resident: number; stored: number; reloadMs?: number }> {
  const rule = compileRule(ruleOf(c.pattern, { id: 'm', partitionBy: 'k' }));
  const before = heapUsed();
  const partition = new StreamPartition<null>({ settings: { ...DEFAULT_STREAM_SETTINGS, idleTimeout: null }, rules: [rule], trackChanges: true, sequenceFastPath: c.fast });
  const tp = { topic: `mem-${measurements++}`, partition: 0 };
  const cp = new PartitionCheckpoint({
    store,
    tp,
    versionOf: () => 1,
    positionOf: () => 'p',
    remember: () => undefined,
    ...(evict ? { eviction: { idleMs: 60_000, maxKeys: null } } : {}),
  });
  await cp.load(partition, 0);
  const key = (i: number) => `key-${String(i).padStart(8, '0')}`;
  let offset = 0;
  for (let b = 0; b < N / BATCH; b++) {
    for (let i = b * BATCH; i < (b + 1) * BATCH; i++) {
      c.events.forEach((type, j) => {
        const event = { type, k: key(i), x: 1, timestamp: i * c.events.length + j };
        partition.add({ offset: offset++, position: 'p', event, raw: null }, b * 1000);
      });
    }
    expect(partition.take().lateDropped).toEqual([]);
    cp.stage(partition, offset, []);
    await cp.flush();
    cp.evict(partition, b * 1000);
  }
  cp.evict(partition, (N / BATCH) * 1000 + 60_000);
  // The deletions of the keys that last pass freed, as the Kafka runtime writes them.
  cp.stage(partition, offset, []);
  await cp.flush();
  const heapPerKey = Math.round((heapUsed() - before) / N);
  const resident = partition.engineView.residentKeyCount();
  const stored = (await allStoredKeys((await store.load(tp)).state!)).length;
  expect(partition.engineView.stats().partialMatches.get('m')).toBe(c.name.startsWith('waiting') ? N : 0);
  if (!evict || resident > 0) return { heapPerKey, resident, stored };
  const events = Array.from({ length: BATCH }, (_, i) => ({ type: 'B', k: key(i * 7), x: 0, timestamp: 10 }));
  const t = process.hrtime.bigint();
  const r = await cp.reload(partition, events);
  const reloadMs = Math.round(Number(process.hrtime.bigint() - t) / 1e5) / 10;
  // A freed key is not in Redis: its next event starts it as new.
  const restored = c.fresh ? 0 : BATCH;
  expect(r).toEqual({ looked: BATCH, restored, woken: 0, lost: 0 });
  expect(partition.engineView.residentKeyCount()).toBe(restored);
  return { heapPerKey, resident, stored, reloadMs };
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function usedMemory(r: Redis): Promise<number> {
  const info = await r.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  const cols = Object.keys(rows[0]);
  const table = [cols.join(' | '), ...rows.map((row) => cols.map((k) => row[k]).join(' | '))].join('\n');
  process.stdout.write(`\n[${title}, node ${process.version}]\n${table}\n`);
}

describe('memory per idle key', () => {
  let server: RedisHandle | undefined;
  beforeAll(async () => {
    server = await infra.startRedis();
  });
  afterAll(() => infra.stopInfra({ redis: server }));

  it('engine heap and Redis bytes per key', async () => {
    const client = createRedisClient(server!.url);
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
    printTable(`memory per idle key, N=${N}`, rows);
  }, 120_000);

  it('a partition with N idle keys: heap without and with eviction, and the cost of reloading a batch', async () => {
    const client = createRedisClient(server!.url);
    await waitFor(() => client.status === 'ready', 5000, 'redis');
    await (client as Redis).flushall();
    const store = new RedisCheckpointStore(client, { prefix: 'evict' });
    const rows: Array<Record<string, string | number>> = [];
    try {
      for (const c of CASES) {
        const kept = await partitionHeap(store, c, false);
        const evicting = await partitionHeap(store, c, true);
        rows.push({
          case: c.name,
          'heap B/key kept': kept.heapPerKey,
          'resident, evicting': evicting.resident,
          'in Redis, kept / evicting': `${kept.stored} / ${evicting.stored}`,
          'heap B/key, evicting': evicting.heapPerKey,
          [`reload ${BATCH} keys ms`]: evicting.reloadMs ?? '-',
        });
        if (c.fresh) {
          // Sweeps free them (one after every 10,000 new keys at least) and delete them from Redis; eviction
          // frees and deletes the rest.
          expect(kept.resident).toBeLessThan(N * 0.75);
          expect(kept.stored).toBe(kept.resident);
          expect(evicting.stored).toBe(0);
        } else {
          expect(kept.resident).toBe(N);
          expect([kept.stored, evicting.stored]).toEqual([N, N]);
        }
        expect(evicting.resident).toBe(0);
        if (c.fast || !c.name.startsWith('waiting')) {
          // What stays is bounded (a run pool of at most 4096, map capacity): noise of some 10 B/key aside.
          expect(evicting.heapPerKey).toBeLessThan(Math.max(40, kept.heapPerKey / 10));
        } else {
          // A general-runtime `within` timer is pending: the key leaves, and its earliest timer's time stays (a
          // dormant key, reloaded when the timer comes due).
          expect(evicting.heapPerKey).toBeLessThan(kept.heapPerKey / 8);
        }
      }
    } finally {
      await closeRedisClient(client);
    }
    printTable(`a partition with N=${N} idle keys, kept or evicting (STATE_EVICT_IDLE=1m)`, rows);
  }, 180_000);

  it('taking over a partition of many stored keys: the live heap during the load stays about a page and the run pool, not the partition', async () => {
    const client = createRedisClient(server!.url);
    await waitFor(() => client.status === 'ready', 5000, 'redis');
    await (client as Redis).flushall();
    /** Live heap each time the load asks for the next page. */
    class WatchedStore extends RedisCheckpointStore {
      heapAtPage: number[] = [];
      override async load(...args: Parameters<RedisCheckpointStore['load']>) {
        return watchPages(await super.load(...args), () => this.heapAtPage.push(heapUsed()));
      }
    }
    const store = new WatchedStore(client, { prefix: 'takeover' });
    const c = CASES[0]; // waiting, one partial match, fast path: evictable
    const rule = compileRule(ruleOf(c.pattern, { id: 'm', partitionBy: 'k' }));
    const tp = { topic: 'takeover', partition: 0 };
    const opts = { store, tp, versionOf: () => 1, positionOf: () => 'p', remember: () => undefined };
    const make = () => new StreamPartition<null>({ settings: { ...DEFAULT_STREAM_SETTINGS, idleTimeout: null }, rules: [rule], trackChanges: true });
    try {
      // The previous owner checkpointed TAKEOVER_N waiting keys.
      await (async () => {
        const owner = make();
        const cp = new PartitionCheckpoint(opts);
        await cp.load(owner, 0);
        for (let i = 0; i < TAKEOVER_N; i++) owner.add({ offset: i, position: 'p', event: { type: 'A', k: `key-${i}`, x: 1, timestamp: i }, raw: null }, 0);
        cp.stage(owner, TAKEOVER_N, []);
        await cp.flush();
      })();

      // Page by page, idle keys evicted as they are restored.
      const pageByPage = async () => {
        const taker = make();
        const base = heapUsed();
        store.heapAtPage = [];
        const loaded = await new PartitionCheckpoint({ ...opts, eviction: { idleMs: 60_000, maxKeys: null } }).load(taker, 0);
        expect(taker.engineView.residentKeyCount()).toBe(0);
        return { loaded, afterBytes: heapUsed() - base, peakBytes: Math.max(...store.heapAtPage) - base, pages: store.heapAtPage.length };
      };
      const { loaded, afterBytes, peakBytes, pages } = await pageByPage();
      // Every parsed snapshot at once: what a load held before 2026-11-24.
      const whole = async () => {
        const base = heapUsed();
        const all = await allStoredKeys((await store.load(tp)).state!);
        const bytes = heapUsed() - base;
        expect(all).toHaveLength(TAKEOVER_N);
        return bytes;
      };
      const wholeBytes = await whole();
      expect([loaded.restored, loaded.evicted]).toEqual([TAKEOVER_N, TAKEOVER_N]);
      expect(pages).toBeGreaterThanOrEqual(TAKEOVER_N / 1000);
      expect(peakBytes).toBeLessThan(wholeBytes / 4);
      const mb = (b: number) => (b / 1e6).toFixed(1);
      printTable(`taking over a partition of N=${TAKEOVER_N} stored keys (${c.name}), STATE_EVICT_IDLE=1m`, [
        { 'all snapshots parsed at once MB': mb(wholeBytes), 'load page by page: live heap peak MB': mb(peakBytes), 'after the load MB': mb(afterBytes), pages },
      ]);
    } finally {
      await closeRedisClient(client);
    }
  }, 120_000);
});
