/**
 * Proof that the real test infrastructure works end to end: the KRaft broker from
 * scripts/infra speaks everything kafkajs 2.2.4 needs, Redis runs transactions and Lua,
 * and restart() brings both back on the same address with their data.
 */
import { EachBatchPayload, Kafka } from 'kafkajs';
import { checkKafkajsApiVersions, formatRows } from '../../scripts/infra/kafka-api-versions';
import type { KafkaHandle, RedisHandle } from '../../scripts/infra';
import { assertInfraEnabled, kafkaBrokers } from '../support/env';
import { ConsumedMessage, consumeAll, createTopic, decode, produce, testKafka, uniqueName, withAdmin } from '../support/kafka';
import { testRedis, uniquePrefix, withRedis } from '../support/redis';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const infra: typeof import('../../scripts/infra') = require('../../scripts/infra');

const waitFor = async (cond: () => boolean, timeoutMs: number, what: string): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('Kafka broker (KRaft, Maven Central jars) with kafkajs 2.2.4', () => {
  it('negotiates a broker-supported protocol version for every API kafkajs implements', async () => {
    const { rows } = await checkKafkajsApiVersions(kafkaBrokers());
    const bad = rows.filter((r) => !r.ok);
    expect({ bad: formatRows(bad) }).toEqual({ bad: '' });
    expect(rows.map((r) => r.api)).toEqual(expect.arrayContaining(['Produce', 'Fetch', 'JoinGroup', 'OffsetCommit', 'InitProducerId']));
  });

  it('admin creates a topic with 3 partitions, each with a leader', async () => {
    const topic = uniqueName('infra-admin');
    await createTopic(topic, { partitions: 3 });
    const meta = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [topic] }));
    const partitions = meta.topics[0].partitions;
    expect(partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    expect(partitions.every((p) => p.leader === 1)).toBe(true);
  });

  describe('on a 3-partition topic with keyed messages from an idempotent producer', () => {
    const topic = uniqueName('infra-roundtrip');
    const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
    const sent = Array.from({ length: 60 }, (_, i) => ({ key: keys[i % keys.length], value: `event-${i}` }));

    beforeAll(async () => {
      await createTopic(topic, { partitions: 3 });
      await produce(topic, sent);
    });

    it('stores every message exactly once (no duplicates from the idempotent producer)', async () => {
      const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
      const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
      expect(total).toBe(sent.length);
    });

    it('a consumer group reads them all with eachBatch, keeps per-key order, and commits up to the high-water marks', async () => {
      const groupId = uniqueName('infra-group');
      const got = await consumeAll(topic, sent.length, 20000, { groupId });
      expect(got.map((m) => m.value).sort()).toEqual(sent.map((m) => m.value).sort());

      // same key -> same partition, and per-key order is preserved
      for (const key of keys) {
        const ofKey = got.filter((m) => m.key === key);
        expect(new Set(ofKey.map((m) => m.partition)).size).toBe(1);
        expect(ofKey.map((m) => m.value)).toEqual(sent.filter((m) => m.key === key).map((m) => m.value));
      }

      const [committed, highs] = await withAdmin((admin) =>
        Promise.all([admin.fetchOffsets({ groupId, topics: [topic] }), admin.fetchTopicOffsets(topic)]),
      );
      const byPartition = (xs: { partition: number; offset: string }[]) =>
        Object.fromEntries(xs.map((x) => [x.partition, x.offset]));
      expect(byPartition(committed[0].partitions)).toEqual(byPartition(highs.map((h) => ({ partition: h.partition, offset: h.high }))));
    });

    it('a second consumer joining the same group takes a share of the partitions and both keep consuming', async () => {
      const groupId = uniqueName('infra-share');
      const kafka: Kafka = testKafka();
      const members = ['first', 'second'].map((name) => ({
        name,
        consumer: kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 300, maxWaitTimeInMs: 200 }),
        assigned: [] as number[],
        got: [] as ConsumedMessage[],
      }));
      const run = async (m: (typeof members)[number]) => {
        m.consumer.on(m.consumer.events.GROUP_JOIN, (e) => {
          m.assigned = (e.payload.memberAssignment[topic] ?? []).slice().sort();
        });
        await m.consumer.connect();
        await m.consumer.subscribe({ topic, fromBeginning: true });
        await m.consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch, heartbeat }: EachBatchPayload) => {
            for (const msg of batch.messages) m.got.push(decode(batch.topic, batch.partition, msg));
            if (!batch.isEmpty()) {
              const next = (BigInt(batch.lastOffset()) + 1n).toString();
              await m.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
            }
            await heartbeat();
          },
        });
      };
      const [first, second] = members;
      try {
        await run(first);
        await waitFor(() => first.assigned.length === 3, 15000, 'the first consumer to own all 3 partitions');
        await waitFor(() => first.got.length === sent.length, 15000, 'the first consumer to read the backlog');

        await run(second);
        await waitFor(
          () => second.assigned.length > 0 && first.assigned.length + second.assigned.length === 3,
          20000,
          'the group to rebalance over both consumers',
        );
        expect([...first.assigned, ...second.assigned].sort()).toEqual([0, 1, 2]);
        expect(first.assigned.length).toBeGreaterThan(0);

        // one new message per partition: each lands with whichever member owns that partition
        const before = first.got.length;
        await produce(topic, [0, 1, 2].map((partition) => ({ partition, key: `p${partition}`, value: `after-rebalance-${partition}` })));
        await waitFor(
          () => first.got.length - before + second.got.length === 3,
          15000,
          'the 3 post-rebalance messages',
        );
        for (const m of members) {
          const after = m.got.filter((g) => g.value?.startsWith('after-rebalance-'));
          expect(after.map((g) => g.partition).sort()).toEqual(m.assigned);
        }
        // the committed backlog was not re-delivered to the newcomer
        expect(second.got.every((g) => g.value?.startsWith('after-rebalance-'))).toBe(true);
      } finally {
        await Promise.all(members.map((m) => m.consumer.disconnect()));
      }
    }, 60000);
  });
});

describe('Redis (Debian redis-server) with ioredis', () => {
  it('MULTI/EXEC applies the queued commands atomically and returns each reply in order', async () => {
    const p = uniquePrefix('infra-multi');
    await withRedis(async (redis) => {
      const replies = await redis
        .multi()
        .set(`${p}count`, '10')
        .incrby(`${p}count`, 5)
        .rpush(`${p}list`, 'a', 'b')
        .lrange(`${p}list`, 0, -1)
        .exec();
      expect(replies).toEqual([
        [null, 'OK'],
        [null, 15],
        [null, 2],
        [null, ['a', 'b']],
      ]);
    });
  });

  it('WATCH aborts a MULTI/EXEC when another client changed the key in between', async () => {
    const key = `${uniquePrefix('infra-watch')}k`;
    const other = testRedis();
    try {
      await withRedis(async (redis) => {
        await redis.set(key, 'v1');
        await redis.watch(key);
        await other.set(key, 'v2');
        const result = await redis.multi().set(key, 'mine').exec();
        expect(result).toBeNull();
        expect(await redis.get(key)).toBe('v2');
      });
    } finally {
      await other.quit();
    }
  });

  it('EVAL runs a Lua compare-and-set server-side and returns its result', async () => {
    const key = `${uniquePrefix('infra-lua')}state`;
    const cas = `
      if redis.call('GET', KEYS[1]) == ARGV[1] then
        redis.call('SET', KEYS[1], ARGV[2])
        return 1
      end
      return 0`;
    await withRedis(async (redis) => {
      await redis.set(key, 'idle');
      expect(await redis.eval(cas, 1, key, 'idle', 'matching')).toBe(1);
      expect(await redis.eval(cas, 1, key, 'idle', 'other')).toBe(0);
      expect(await redis.get(key)).toBe('matching');
    });
  });
});

describe('restart() of dedicated servers (what failure tests build on)', () => {
  let redis: RedisHandle | undefined;
  let kafka: KafkaHandle | undefined;
  beforeAll(() => assertInfraEnabled());
  afterAll(async () => {
    await infra.stopInfra({ redis, kafka });
  }, 60000);

  it('a Redis with appendonly keeps its data across a crash (SIGKILL) and comes back on the same URL', async () => {
    redis = await infra.startRedis({ appendonly: true, args: ['--appendfsync', 'always'] });
    const url = redis.url;
    const client = testRedis({}, url);
    try {
      await client.set('survives', 'yes');
      await redis.restart({ hard: true });
      expect(redis.url).toBe(url);
      const fresh = testRedis({}, url);
      try {
        expect(await fresh.get('survives')).toBe('yes');
      } finally {
        await fresh.quit();
      }
    } finally {
      client.disconnect();
    }
  });

  it('a Kafka broker restarted after a crash keeps its topic and messages at the same address', async () => {
    kafka = await infra.startKafka();
    const client = testKafka({ brokers: [kafka.brokers] });
    const topic = uniqueName('infra-restart');
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }), client);
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'a', value: 'before-crash' }] });
    await producer.disconnect();

    const [pidBefore, brokersBefore] = [kafka.pid, kafka.brokers];
    await kafka.restart({ hard: true });
    expect(kafka.pid).not.toBe(pidBefore);
    expect(kafka.brokers).toBe(brokersBefore);

    const got = await consumeAll(topic, 1, 30000, { kafka: client });
    expect(got.map((m) => m.value)).toEqual(['before-crash']);
  }, 120000);
});
