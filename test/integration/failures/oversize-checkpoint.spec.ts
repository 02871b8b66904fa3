/**
 * Input that makes a checkpoint too large never stalls a partition (real broker and Redis, in process): a
 * key whose state outgrows the snapshot bound is reset (its partial matches dropped and counted), an alert over
 * the alert bound is stored and sent without its events, and the partition keeps consuming and committing.
 */
import Redis from 'ioredis';
import type { CheckpointMetrics } from '../../../src/adapters/redis/checkpoint-metrics';
import { ruleStateVersion } from '../../../src/adapters/redis/partition-checkpoint';
import { redisUrl } from '../../support/env';
import { createTopic, produce, uniqueName } from '../../support/kafka';
import { eventually, rule, type TestStreams } from '../kafka/support';
import { startCheckpointed } from './in-process';

jest.setTimeout(60_000);

const SOURCE = uniqueName('oversize-src');
const ALERTS = uniqueName('oversize-alerts');
const DLQ = uniqueName('oversize-dlq');
const GROUP = uniqueName('oversize-group');
const PREFIX = `cep:${GROUP}`;
const T0 = 1_700_000_000_000;
const PAD = 'p'.repeat(400);

const pairs = rule('pairs', SOURCE, 'every a=A -> b=B(x > a.x)', { partitionBy: 'user', keyedBy: 'user' });
const quad = rule('quad', SOURCE, 'every a=Q -> b=Q -> c=Q -> d=Q', { partitionBy: 'user', keyedBy: 'user' });

let instance: TestStreams | undefined;
let redis: Redis;
const shed: Array<{ kind: string; rule: string }> = [];
const commits = new Map<string, number>();
const metrics: CheckpointMetrics = {
  commit: (result) => void commits.set(result, (commits.get(result) ?? 0) + 1),
  shed: (kind, ruleId) => void shed.push({ kind, rule: ruleId }),
  relayPublished: () => undefined,
  relayFailed: () => undefined,
};

beforeAll(async () => {
  await Promise.all([createTopic(SOURCE), createTopic(ALERTS), createTopic(DLQ)]);
  redis = new Redis(redisUrl());
});

afterAll(async () => {
  await instance?.stop().catch(() => undefined);
  redis.disconnect();
});

let seq = 0;
const ev = (type: string, user: string, x: number) => ({ key: user, value: JSON.stringify({ type, user, x, pad: PAD, timestamp: T0 + seq++ * 10 }) });
const committed = async () => Number(await redis.hget(`${PREFIX}:{${SOURCE}:0}:meta`, 'offset'));

it('resets an oversize key, truncates an oversize alert, and keeps the partition moving', async () => {
  instance = startCheckpointed({ group: GROUP, prefix: PREFIX, topics: { alerts: ALERTS, dlq: DLQ }, limits: { maxSnapshotBytes: 3_000, maxAlertBytes: 1_500 }, metrics }, [pairs, quad]);
  const a = instance;
  await eventually(() => a.streams.status().ready && a.logs.some((l) => l.msg === 'partition state loaded'), 20_000, 'the partition to be loaded');

  // u1 opens 12 partial matches of ~450 bytes each: its snapshot passes 3,000 bytes.
  await produce(SOURCE, Array.from({ length: 12 }, (_, i) => ev('A', 'u1', i)));
  await eventually(async () => (await committed()) === 12, 15_000, 'the checkpoint past the oversize key');
  expect(shed).toContainEqual({ kind: 'snapshot', rule: 'pairs' });
  const dropped = a.streams.droppedPartialMatches().get('pairs')?.get('checkpoint_size_limit') ?? 0;
  expect(dropped).toBeGreaterThanOrEqual(6);
  const stored = await redis.hget(`${PREFIX}:{${SOURCE}:0}:state:pairs:${ruleStateVersion(pairs)}`, 'ku1');
  expect(stored === null || Buffer.byteLength(stored) <= 3_000).toBe(true);

  // Four Q events of ~450 bytes make one alert over 1,500 bytes; u2's small pair still matches whole.
  await produce(SOURCE, [ev('Q', 'u3', 1), ev('Q', 'u3', 2), ev('Q', 'u3', 3), ev('Q', 'u3', 4), ev('A', 'u2', 1), ev('B', 'u2', 5)]);
  await eventually(async () => (await committed()) === 18, 15_000, 'the checkpoint past the oversize alert');
  await eventually(() => a.feed.recent({ limit: 10 }).length >= 2, 15_000, 'both alerts through the outbox');
  const alerts = a.feed.recent({ limit: 10 });
  expect(alerts.find((x) => x.rule === 'quad')).toMatchObject({ key: 'u3', events: null, truncated: true });
  expect(alerts.find((x) => x.rule === 'pairs' && x.key === 'u2')).toMatchObject({ events: { a: { user: 'u2' }, b: { user: 'u2' } } });
  expect(shed).toContainEqual({ kind: 'alert', rule: 'quad' });
  expect(commits.get('limit')).toBeGreaterThanOrEqual(2);
  expect(a.streams.status().checkpoints?.paused).toEqual([]);
});
