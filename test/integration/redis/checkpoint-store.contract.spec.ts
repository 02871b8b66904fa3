/**
 * The CheckpointStore contract against every implementation: in memory, Redis (the shared test server from
 * REDIS_URL) and Redis Cluster (a test-local one-node cluster, which enforces the same-slot rule), plus the
 * Redis layout: key names, one slot per partition, validate-before-write atomicity, NOSCRIPT fallback.
 */
import type { RedisHandle } from '../../../scripts/infra';
import { MemoryCheckpointStore } from '../../../src/adapters/memory/memory-checkpoint-store';
import { COMMIT } from '../../../src/adapters/redis/checkpoint-scripts';
import { clusterSlot, hashTagOf } from '../../../src/adapters/redis/cluster-slot';
import { RedisCheckpointStore } from '../../../src/adapters/redis/redis-checkpoint-store';
import { RedisClient, closeRedisClient, createRedisClient } from '../../../src/adapters/redis/redis-connection';
import { CheckpointFencedError, CheckpointUnavailableError, TopicPartition } from '../../../src/core/ports/checkpoint-store';
import { redisUrl, uniquePrefix } from '../../support/redis';
import { alertOf, describeCheckpointStoreContract, uniqueTopic } from './checkpoint-store.contract';
import { infra, startOneNodeCluster, waitFor } from './servers';

const prefix = () => uniquePrefix('cp').replace(/:$/, '');

describeCheckpointStoreContract('memory', { make: (limits) => new MemoryCheckpointStore(limits) });

describe('redis (single node)', () => {
  let client: RedisClient;
  beforeAll(async () => {
    client = createRedisClient(redisUrl());
    await waitFor(() => client.status === 'ready', 10_000, 'redis ready');
  });
  afterAll(() => closeRedisClient(client));

  describeCheckpointStoreContract('redis', { make: (limits) => new RedisCheckpointStore(client, { prefix: prefix(), limits }) });

  describe('layout', () => {
    const snap = { v: 1 as const, ended: false, seq: 1, events: [], root: null };
    const tomb = { v: 1 as const, ended: true, seq: 0, events: [], root: null };
    let store: RedisCheckpointStore;
    let tp: TopicPartition;
    let p: string;
    beforeEach(() => {
      p = prefix();
      store = new RedisCheckpointStore(client, { prefix: p });
      tp = { topic: uniqueTopic('orders.v1'), partition: 12 };
    });

    async function keysOf(pattern: string): Promise<string[]> {
      const out: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await (client as import('ioredis').Redis).scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        out.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      return out.sort();
    }

    it('names every key of a partition cep:{topic:partition}:…, all on the partition tag’s slot', async () => {
      const { epoch } = await store.load(tp);
      await store.commit(tp, {
        epoch,
        nextOffset: '7',
        clock: 100,
        stream: { w: 1 },
        changed: [
          { rule: 'r:x', version: 2, key: 'a', snapshot: snap },
          { rule: 'plain', version: 1, key: null, snapshot: tomb },
        ],
        deleted: [],
        alerts: [alertOf('id1')],
      });
      const tag = `{${tp.topic}:12}`;
      expect(await keysOf(`${p}:*`)).toEqual(
        [`${p}:${tag}:alerts`, `${p}:${tag}:meta`, `${p}:${tag}:outbox`, `${p}:${tag}:state:plain:1`, `${p}:${tag}:state:r%3Ax:2`, `${p}:${tag}:versions`].sort(),
      );
      const slots = new Set((await keysOf(`${p}:*`)).map(clusterSlot));
      expect(slots.size).toBe(1);
      expect([...slots][0]).toBe(clusterSlot(`${tp.topic}:12`));
      for (const k of await keysOf(`${p}:*`)) expect(hashTagOf(k)).toBe(`${tp.topic}:12`);

      const r = client as import('ioredis').Redis;
      expect(await r.hgetall(`${p}:${tag}:meta`)).toEqual({
        epoch: String(epoch),
        offset: '7',
        clock: '100',
        stream: '{"w":1}',
        commits: '1',
        outseq: '1',
        at: expect.stringMatching(/^\d+$/),
      });
      expect(await r.smembers(`${p}:${tag}:versions`).then((m) => m.sort())).toEqual(['plain:1', 'r%3Ax:2']);
      expect(await r.hgetall(`${p}:${tag}:state:r%3Ax:2`)).toEqual({ ka: JSON.stringify(snap) });
      // Tombstones are stored as one byte.
      expect(await r.hgetall(`${p}:${tag}:state:plain:1`)).toEqual({ n: 'T' });
      expect(await r.zrange(`${p}:${tag}:outbox`, 0, -1, 'WITHSCORES')).toEqual(['id1', '1']);
    });

    it('CRC16 slots agree with Redis Cluster’s reference values', () => {
      // Values from the Redis Cluster specification / CLUSTER KEYSLOT.
      expect(clusterSlot('123456789')).toBe(0x31c3 % 16384);
      expect(clusterSlot('foo')).toBe(12182);
      expect(clusterSlot('{user1000}.following')).toBe(clusterSlot('{user1000}.followers'));
      expect(clusterSlot('foo{}{bar}')).toBe(clusterSlot('foo{}{bar}'));
      expect(hashTagOf('foo{}{bar}')).toBe('foo{}{bar}');
      expect(hashTagOf('foo{{bar}}zap')).toBe('{bar');
    });

    it('after Redis lost writes (an older epoch back in the meta), the next load still takes an epoch above every earlier one: the earlier owner stays fenced', async () => {
      const a = await store.load(tp);
      await store.commit(tp, { epoch: a.epoch, nextOffset: '5', clock: 1, changed: [], deleted: [], alerts: [] });
      // Redis comes back from a save taken before a's claim.
      const r = client as import('ioredis').Redis;
      await r.hset(store.keys.meta(tp), 'epoch', String(a.epoch - 1));
      const b = await store.load(tp);
      expect(b.epoch).toBeGreaterThan(a.epoch);
      expect(Number.isSafeInteger(b.epoch)).toBe(true);
      await store.commit(tp, { epoch: b.epoch, nextOffset: '9', clock: 1, changed: [], deleted: [], alerts: [], since: '5' });
      // a, unaware, commits past b's offset: refused by the epoch (its `since` alone would let it through).
      const err = await store.commit(tp, { epoch: a.epoch, nextOffset: '12', clock: 1, changed: [], deleted: [], alerts: [], since: '5' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointFencedError);
      expect((await store.load(tp)).nextOffset).toBe('9');
    });

    it('a commit that fails its checks writes nothing (validate first, then write)', async () => {
      const { epoch } = await store.load(tp);
      await store.commit(tp, { epoch, nextOffset: '1', clock: 1, changed: [{ rule: 'good', version: 1, key: 'a', snapshot: snap }], deleted: [], alerts: [alertOf('x1')] });
      const r = client as import('ioredis').Redis;
      // Sabotage: the state hash of one (rule, version) the next commit touches holds a string.
      await r.set(store.keys.state(tp, 'zz-bad', 1), 'not a hash');
      const before = await r.hgetall(store.keys.meta(tp));
      const err = await store
        .commit(tp, {
          epoch,
          nextOffset: '2',
          clock: 2,
          stream: { changed: true },
          changed: [
            { rule: 'good', version: 1, key: 'b', snapshot: snap },
            { rule: 'zz-bad', version: 1, key: 'c', snapshot: snap },
          ],
          deleted: [{ rule: 'good', version: 1, key: 'a' }],
          alerts: [alertOf('x2')],
        })
        .catch((e: unknown) => e);
      expect(String(err)).toMatch(/WRONGTYPE/);
      expect(await r.hgetall(store.keys.meta(tp))).toEqual(before);
      expect(await r.hgetall(store.keys.state(tp, 'good', 1))).toEqual({ ka: JSON.stringify(snap) });
      expect(await r.zrange(store.keys.outbox(tp), 0, -1)).toEqual(['x1']);
    });

    it('re-sends the script with EVAL when the server lost it (NOSCRIPT), e.g. after a restart', async () => {
      const { epoch } = await store.load(tp);
      const r = client as import('ioredis').Redis;
      await r.script('FLUSH');
      expect(await r.script('EXISTS', COMMIT.sha)).toEqual([0]);
      await store.commit(tp, { epoch, nextOffset: '3', clock: 1, changed: [], deleted: [], alerts: [] });
      expect(await r.script('EXISTS', COMMIT.sha)).toEqual([1]);
      expect((await store.load(tp)).nextOffset).toBe('3');
    });

    it('a big checkpoint (20 000 keys, 5 000 alerts) commits in one script and loads back, a page of about the HSCAN count at a time', async () => {
      const { epoch } = await store.load(tp);
      const changed = Array.from({ length: 20_000 }, (_, i) => ({ rule: `r${i % 3}`, version: 1, key: `key-${i}`, snapshot: { ...snap, seq: i } }));
      const alerts = Array.from({ length: 5_000 }, (_, i) => alertOf(`a-${i}`));
      const t0 = Date.now();
      await store.commit(tp, { epoch, nextOffset: '20000', clock: 1, changed, deleted: [], alerts });
      const commitMs = Date.now() - t0;
      const t1 = Date.now();
      const l = await store.load(tp);
      const pageSizes: number[] = [];
      const seen = new Set<string>();
      for await (const page of l.state!.keyPages()) {
        pageSizes.push(page.length);
        for (const k of page) seen.add(`${k.rule}/${k.key}`);
      }
      const loadMs = Date.now() - t1;
      expect(pageSizes.reduce((a, b) => a + b, 0)).toBe(20_000); // each key once
      expect(seen.size).toBe(20_000);
      // HSCAN's COUNT (1000) is a hint: a reply may hold a few more, never the whole hash.
      expect(pageSizes.length).toBeGreaterThanOrEqual(10);
      expect(Math.max(...pageSizes)).toBeLessThanOrEqual(2_000);
      expect(l.outboxSize).toBe(5_000);
      expect((await store.pendingAlerts(tp, 3)).map((a) => a.id)).toEqual(['a-0', 'a-1', 'a-2']);
      process.stdout.write(`[redis checkpoint] 20000 keys + 5000 alerts: commit ${commitMs} ms, load ${loadMs} ms\n`);
    });
  });

  it('a closed client fails fast with CheckpointUnavailableError and reports it', async () => {
    const c = createRedisClient(redisUrl());
    await waitFor(() => c.status === 'ready', 10_000, 'ready');
    const failures: Error[] = [];
    const store = new RedisCheckpointStore(c, { prefix: prefix(), onUnavailable: (e) => failures.push(e) });
    c.disconnect();
    const t0 = Date.now();
    await expect(store.load({ topic: 't', partition: 0 })).rejects.toBeInstanceOf(CheckpointUnavailableError);
    await expect(store.ping()).rejects.toBeInstanceOf(CheckpointUnavailableError);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(failures.length).toBe(2);
  });
});

describe('redis cluster (one node owning all slots)', () => {
  let server: RedisHandle | undefined;
  let client: RedisClient;
  beforeAll(async () => {
    const c = await startOneNodeCluster();
    server = c.server;
    client = createRedisClient(c.url);
    await waitFor(() => client.status === 'ready', 15_000, 'cluster client ready');
  }, 60_000);
  afterAll(async () => {
    if (client) await closeRedisClient(client);
    await infra.stopInfra({ redis: server });
  });

  describeCheckpointStoreContract('redis cluster', { make: (limits) => new RedisCheckpointStore(client, { prefix: prefix(), limits }) });

  it('the server computes the same slot for every key of a partition (CLUSTER KEYSLOT)', async () => {
    const store = new RedisCheckpointStore(client, { prefix: 'cep' });
    const tp = { topic: 'payments-eu_1.x', partition: 42 };
    const keys = [...store.keys.partitionKeys(tp), store.keys.state(tp, 'rule/with:odd{chars}', 3)];
    const slots = await Promise.all(keys.map((k) => client.call('CLUSTER', 'KEYSLOT', k)));
    expect(new Set(slots).size).toBe(1);
    expect(slots[0]).toBe(clusterSlot(keys[0]));
  });

  it('keys of different slots in one script are refused by Cluster (why the hash tag matters)', async () => {
    const err = await client.eval("return redis.call('MSET', KEYS[1], 1, KEYS[2], 2)", 2, 'cep:{a:1}:x', 'cep:{b:2}:x').catch((e: unknown) => e);
    expect(String(err)).toMatch(/CROSSSLOT|different slot/i);
  });
});
