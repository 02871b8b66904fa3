/**
 * Checkpoints of partitions nobody reads any more (real broker and Redis, in process): a topic that left the
 * rules has no owner, so only the orphan sweep (STATE_ORPHAN_AFTER) publishes the alerts left in its outbox
 * and removes its keys. Partitions a member reads stay, however long ago they last committed.
 */
import Redis from 'ioredis';
import { RedisCheckpointStore } from '../../../src/adapters/redis/redis-checkpoint-store';
import type { Alert } from '../../../src/core/ports/alert';
import { redisUrl } from '../../support/env';
import { createTopic, produce, uniqueName } from '../../support/kafka';
import { alertsOf, eventually, joined, rule, TopicCollector } from '../kafka/support';
import { sleep } from './support';
import { freshScenario, inProcessSuite, startCheckpointed } from './in-process';

jest.setTimeout(90_000);

const T0 = 1_700_000_000_000;
const suite = inProcessSuite();
const AFTER_MS = 1500;

const keysOf = (redis: Redis, prefix: string, topic: string) => redis.keys(`${prefix}:{${topic}:*}:*`);
/** A checkpoint of partition 0 of `topic`, as a replica with other rules left it: one key of `rule`, and `alerts` in its outbox. */
async function storeCheckpoint(prefix: string, topic: string, c: { rule: string; nextOffset: string; alerts: Alert[] }): Promise<void> {
  const client = new Redis(redisUrl());
  try {
    const store = new RedisCheckpointStore(client, { prefix });
    const { epoch } = await store.load({ topic, partition: 0 });
    const snapshot = { v: 1, ended: false, seq: 1, events: [], root: null } as never;
    await store.commit({ topic, partition: 0 }, { epoch, nextOffset: c.nextOffset, clock: T0, changed: [{ rule: c.rule, version: 1, key: 'k', snapshot }], deleted: [], alerts: c.alerts });
  } finally {
    client.disconnect();
  }
}

const ghostAlert = (id: string): Alert => ({ id, rule: 'gone', ruleVersion: 1, key: 'k', time: T0, events: {}, fields: {}, severity: 'warning', labels: {} });

it('a partition no member reads: the alerts left in its outbox reach Kafka, then all its keys go; the partitions read stay', async () => {
  const { source, ...setup } = await freshScenario('orphan');
  const { prefix, topics } = setup;
  // A checkpoint left by rules that read another topic, with two alerts never published (Kafka was away).
  const ghost = uniqueName('orphan-gone');
  await storeCheckpoint(prefix, ghost, { rule: 'gone', nextOffset: '42', alerts: [ghostAlert('ghost-1'), ghostAlert('ghost-2')] });
  expect((await keysOf(suite.redis(), prefix, ghost)).length).toBeGreaterThanOrEqual(4);

  const collector = new TopicCollector([topics.alerts]);
  await collector.start();
  try {
    const s = suite.track(startCheckpointed({ ...setup, orphanAfterMs: AFTER_MS }, [rule('each', source, 'every a=A', { partitionBy: 'user' })]));
    await joined(s, [source]);
    await produce(source, [{ key: 'u1', value: JSON.stringify({ type: 'A', user: 'u1', timestamp: T0 }) }]);

    const published = await collector.waitFor(topics.alerts, 3, () => true, 30_000);
    expect(alertsOf(published).map((a) => a.id).filter((id) => id.startsWith('ghost')).sort()).toEqual(['ghost-1', 'ghost-2']);
    await eventually(async () => (await keysOf(suite.redis(), prefix, ghost)).length === 0, 20_000, 'the orphan partition keys to go');
    expect(s.logs.some((l) => l.msg === 'removed the checkpoint of a partition no rule reads any more' && l.topic === ghost)).toBe(true);

    // The partition this replica reads committed long before several sweeps: it stays.
    await sleep(3 * AFTER_MS);
    expect(await suite.redis().hget(`${prefix}:{${source}:0}:meta`, 'offset')).toBe('1');
    expect(await keysOf(suite.redis(), prefix, source)).toEqual(expect.arrayContaining([`${prefix}:{${source}:0}:meta`]));
    // Each ghost alert went out once.
    await sleep(500);
    expect(alertsOf(collector.of(topics.alerts)).filter((a) => a.id.startsWith('ghost')).length).toBe(2);
  } finally {
    await collector.stop();
  }
});

it('a topic the rules stop reading: its partitions lose their checkpoint STATE_ORPHAN_AFTER after their last commit', async () => {
  const { source, ...setup } = await freshScenario('orphan-move');
  const { prefix } = setup;
  const next = uniqueName('orphan-next');
  await createTopic(next);
  const s = suite.track(startCheckpointed({ ...setup, orphanAfterMs: AFTER_MS }, [rule('pairs', source, 'every a=A -> b=B', { partitionBy: 'user' })]));
  await joined(s, [source]);
  await produce(source, [{ key: 'u1', value: JSON.stringify({ type: 'A', user: 'u1', timestamp: T0 }) }]);
  await eventually(async () => (await suite.redis().hget(`${prefix}:{${source}:0}:meta`, 'offset')) === '1', 20_000, 'the first checkpoint');
  expect((await keysOf(suite.redis(), prefix, source)).some((k) => k.includes(':state:pairs:'))).toBe(true);

  s.setRules([rule('pairs', next, 'every a=A -> b=B', { partitionBy: 'user' })]);
  await joined(s, [next]);
  await produce(next, [{ key: 'u2', value: JSON.stringify({ type: 'A', user: 'u2', timestamp: T0 }) }]);
  await eventually(async () => (await keysOf(suite.redis(), prefix, source)).length === 0, 30_000, 'the checkpoint of the topic no rule reads to go');
  expect(await suite.redis().hget(`${prefix}:{${next}:0}:meta`, 'offset')).toBe('1');
});

it('a partition of a topic the rules name is never swept, even while that topic is missing and the replica cannot join', async () => {
  const setup = await freshScenario('orphan-missing');
  const { prefix } = setup;
  // The rules read a topic that does not exist (deleted, to be created again): nothing is subscribed, the group is empty.
  const gone = uniqueName('orphan-missing-topic');
  await storeCheckpoint(prefix, gone, { rule: 'pairs', nextOffset: '7', alerts: [] });
  const s = suite.track(startCheckpointed({ ...setup, orphanAfterMs: 1000 }, [rule('pairs', gone, 'every a=A -> b=B', { partitionBy: 'user' })]));
  await eventually(() => s.streams.status().missing.includes(gone), 20_000, 'the replica to see the topic missing');
  // Several sweeps (every ~1 s) with the topic missing.
  await sleep(5000);
  expect(await suite.redis().hget(`${prefix}:{${gone}:0}:meta`, 'offset')).toBe('7');
  expect(s.logs.filter((l) => l.msg === 'removed the checkpoint of a partition no rule reads any more')).toEqual([]);
});

