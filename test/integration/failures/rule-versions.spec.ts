/**
 * Checkpointed state per rule version, in the Kafka runtime wired with Redis (in process, real broker and
 * Redis): a metadata-only change keeps the state (a partial match started before it completes after it), a
 * changed pattern starts afresh and the old version's keys are removed from Redis by the next checkpoint, and
 * a new instance of the group (a restart) restores the partition's state from Redis.
 */
import Redis from 'ioredis';
import { ruleStateVersion } from '../../../src/adapters/redis/partition-checkpoint';
import type { RuleDefinition } from '../../../src/core/rules/rule';
import { redisUrl } from '../../support/env';
import { createTopic, produce, uniqueName } from '../../support/kafka';
import { eventually, rule, type TestStreams } from '../kafka/support';
import { startCheckpointed } from './in-process';

jest.setTimeout(60_000);

const SOURCE = uniqueName('versions-src');
const ALERTS = uniqueName('versions-alerts');
const DLQ = uniqueName('versions-dlq');
const GROUP = uniqueName('versions-group');
const PREFIX = `cep:${GROUP}`;
const T0 = 1_700_000_000_000;

type Instance = TestStreams;

const start = (defs: RuleDefinition[]): Instance => startCheckpointed({ group: GROUP, prefix: PREFIX, topics: { alerts: ALERTS, dlq: DLQ } }, defs);

const ev = (type: string, user: string, x: number, i: number) => ({ key: user, value: JSON.stringify({ type, user, x, timestamp: T0 + i * 1000 }) });
const instances: Instance[] = [];
let redis: Redis;

beforeAll(async () => {
  await Promise.all([createTopic(SOURCE), createTopic(ALERTS), createTopic(DLQ)]);
  redis = new Redis(redisUrl());
});

afterAll(async () => {
  for (const i of instances) await i.stop().catch(() => undefined);
  redis.disconnect();
});

const versionsKey = `${PREFIX}:{${SOURCE}:0}:versions`;
const stateKey = (id: string, v: number) => `${PREFIX}:{${SOURCE}:0}:state:${id}:${v}`;
const offset = async () => redis.hget(`${PREFIX}:{${SOURCE}:0}:meta`, 'offset');

it('keeps state across a metadata change, drops the old version on a pattern change, restores after a restart', async () => {
  const v1 = rule('pairs', SOURCE, 'every a=A -> b=B(x > a.x)', { partitionBy: 'user', keyedBy: 'user' });
  const a = start([v1]);
  instances.push(a);
  await eventually(() => a.streams.status().ready && a.logs.some((l) => l.msg === 'partition state loaded'), 20_000, 'the first instance to load its partition');

  // A partial match for u1 is checkpointed under the rule's state version.
  await produce(SOURCE, [ev('A', 'u1', 1, 0)]);
  await eventually(async () => (await offset()) === '1', 10_000, 'the first checkpoint');
  const sv1 = ruleStateVersion(v1);
  expect(await redis.smembers(versionsKey)).toEqual([`pairs:${sv1}`]);
  expect(Object.keys(await redis.hgetall(stateKey('pairs', sv1)))).toEqual(['ku1']);

  // Metadata only (severity): the same state version, and the partial match completes.
  const v1meta: RuleDefinition = { ...v1, severity: 'info' };
  expect(ruleStateVersion(v1meta)).toBe(sv1);
  a.setRules([v1meta]);
  await new Promise((r) => setTimeout(r, 300));
  await produce(SOURCE, [ev('B', 'u1', 5, 1), ev('A', 'u2', 7, 2)]);
  await eventually(() => a.feed.recent({ limit: 10 }).length === 1, 10_000, 'the alert of the partial match started before the change');
  expect(a.feed.recent({ limit: 10 })[0]).toMatchObject({ rule: 'pairs', key: 'u1', severity: 'info' });
  await eventually(async () => (await offset()) === '3', 10_000, 'the checkpoint after the alert');

  // A changed pattern: a new version, starting afresh; the next checkpoint removes the old version's keys.
  const v2 = rule('pairs', SOURCE, 'every a=A -> c=C(x > a.x)', { partitionBy: 'user', keyedBy: 'user' });
  const sv2 = ruleStateVersion(v2);
  expect(sv2).not.toBe(sv1);
  a.setRules([v2]);
  await new Promise((r) => setTimeout(r, 300));
  await produce(SOURCE, [ev('C', 'u2', 9, 3), ev('A', 'u3', 1, 4)]);
  await eventually(async () => (await offset()) === '5', 10_000, 'the checkpoint after the pattern change');
  expect(await redis.exists(stateKey('pairs', sv1))).toBe(0);
  expect(await redis.smembers(versionsKey)).toEqual([`pairs:${sv2}`]);
  // u2's A was under the old pattern: no alert from the C (fresh state).
  expect(a.feed.recent({ limit: 10 })).toHaveLength(1);
  await a.stop();
  instances.splice(instances.indexOf(a), 1);

  // A restart (a new instance of the group): u3's partial match is restored from Redis and completes.
  const b = start([v2]);
  instances.push(b);
  await eventually(() => b.logs.find((l) => l.msg === 'partition state loaded' && l.topic === SOURCE), 20_000, 'the restarted instance to load the partition');
  const loaded = b.logs.find((l) => l.msg === 'partition state loaded' && l.topic === SOURCE)!;
  expect(loaded).toMatchObject({ nextOffset: '5', restoredKeys: 1 });
  await produce(SOURCE, [ev('C', 'u3', 4, 5)]);
  await eventually(() => b.feed.recent({ limit: 10 }).length === 1, 10_000, 'the alert of the restored partial match');
  expect(b.feed.recent({ limit: 10 })[0]).toMatchObject({ rule: 'pairs', key: 'u3' });
});
