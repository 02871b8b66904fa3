/**
 * Input that makes a checkpoint too large never stalls a partition (real broker and Redis, in process): a
 * key whose state outgrows the snapshot bound keeps its newest partial matches (the others dropped and
 * counted), an alert over
 * the alert bound is stored and sent without its events, a reorder buffer over the stream-state bound has its
 * oldest events processed early, and the partition keeps consuming and committing.
 */
import Redis from 'ioredis';
import type { CheckpointMetrics, CommitResult } from '../../../src/adapters/redis/checkpoint-metrics';
import { ruleStateVersion } from '../../../src/adapters/redis/partition-checkpoint';
import { redisUrl } from '../../support/env';
import { createTopic, produce, uniqueName } from '../../support/kafka';
import { eventually, rule, type TestStreams } from '../kafka/support';
import { startCheckpointed, type CheckpointedSetup } from './in-process';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const PAD = 'p'.repeat(400);

class RecordedMetrics implements CheckpointMetrics {
  readonly sheds: Array<{ kind: string; rule: string }> = [];
  readonly commits = new Map<CommitResult, number>();
  released = 0;
  commit(result: CommitResult): void {
    this.commits.set(result, (this.commits.get(result) ?? 0) + 1);
  }
  shed(kind: 'snapshot' | 'alert', ruleId: string): void {
    this.sheds.push({ kind, rule: ruleId });
  }
  streamReleased(events: number): void {
    this.released += events;
  }
  relayPublished(): void {}
  relayFailed(): void {}
  orphansDropped(): void {}
}

const instances: TestStreams[] = [];
let redis: Redis;

beforeAll(() => {
  redis = new Redis(redisUrl());
});

afterAll(async () => {
  for (const i of instances) await i.stop().catch(() => undefined);
  redis.disconnect();
});

/** A fresh source topic, group and Redis prefix; the runtime started with `limits` and loaded. */
async function scenario(name: string, extra: Pick<CheckpointedSetup, 'limits' | 'sources'>, defs: (source: string) => ReturnType<typeof rule>[]) {
  const source = uniqueName(`${name}-src`);
  const topics = { alerts: uniqueName(`${name}-alerts`), dlq: uniqueName(`${name}-dlq`) };
  const group = uniqueName(`${name}-group`);
  const prefix = `cep:${group}`;
  await Promise.all([createTopic(source), createTopic(topics.alerts), createTopic(topics.dlq)]);
  const metrics = new RecordedMetrics();
  const rules = defs(source);
  const instance = startCheckpointed({ group, prefix, topics, metrics, ...extra }, rules);
  instances.push(instance);
  await eventually(() => instance.streams.status().ready && instance.logs.some((l) => l.msg === 'partition state loaded'), 20_000, 'the partition to be loaded');
  let seq = 0;
  return {
    source,
    rules,
    instance,
    metrics,
    ev: (type: string, user: string, x: number) => ({ key: user, value: JSON.stringify({ type, user, x, pad: PAD, timestamp: T0 + seq++ * 10 }) }),
    committed: async () => Number(await redis.hget(`${prefix}:{${source}:0}:meta`, 'offset')),
    stateKey: (ruleId: string, version: number) => `${prefix}:{${source}:0}:state:${ruleId}:${version}`,
  };
}

it('trims an oversize key, truncates an oversize alert, and keeps the partition moving', async () => {
  const s = await scenario('oversize', { limits: { maxSnapshotBytes: 3_000, maxAlertBytes: 1_500 } }, (source) => [
    rule('pairs', source, 'every a=A -> b=B(x > a.x)', { partitionBy: 'user', keyedBy: 'user' }),
    rule('quad', source, 'every a=Q -> b=Q -> c=Q -> d=Q', { partitionBy: 'user', keyedBy: 'user' }),
  ]);

  // u1 opens 12 partial matches of ~450 bytes each: its snapshot passes 3,000 bytes.
  await produce(s.source, Array.from({ length: 12 }, (_, i) => s.ev('A', 'u1', i)));
  await eventually(async () => (await s.committed()) === 12, 15_000, 'the checkpoint past the oversize key');
  expect(s.metrics.sheds).toContainEqual({ kind: 'snapshot', rule: 'pairs' });
  expect(s.instance.streams.droppedPartialMatches().get('pairs')?.get('checkpoint_size_limit') ?? 0).toBeGreaterThanOrEqual(1);
  // The newest partial matches are kept, within the bound.
  const stored = await redis.hget(s.stateKey('pairs', ruleStateVersion(s.rules[0])), 'ku1');
  expect(stored).not.toBeNull();
  expect(Buffer.byteLength(stored!)).toBeLessThanOrEqual(3_000);

  // Four Q events of ~450 bytes make one alert over 1,500 bytes; u2's small pair still matches whole.
  await produce(s.source, [s.ev('Q', 'u3', 1), s.ev('Q', 'u3', 2), s.ev('Q', 'u3', 3), s.ev('Q', 'u3', 4), s.ev('A', 'u2', 1), s.ev('B', 'u2', 5)]);
  await eventually(async () => (await s.committed()) === 18, 15_000, 'the checkpoint past the oversize alert');
  await eventually(() => s.instance.feed.recent({ limit: 10 }).length >= 2, 15_000, 'both alerts through the outbox');
  const alerts = s.instance.feed.recent({ limit: 10 });
  expect(alerts.find((x) => x.rule === 'quad')).toMatchObject({ key: 'u3', events: null, truncated: true });
  expect(alerts.find((x) => x.rule === 'pairs' && x.key === 'u2')).toMatchObject({ events: { a: { user: 'u2' }, b: { user: 'u2' } } });
  expect(s.metrics.sheds).toContainEqual({ kind: 'alert', rule: 'quad' });
  expect(s.metrics.commits.get('limit')).toBeGreaterThanOrEqual(2);
  expect(s.instance.streams.status().checkpoints?.paused).toEqual([]);
});

it('processes the oldest buffered events early when the reorder buffer outgrows the stream-state bound', async () => {
  // An hour of allowed disorder: without the bound, nothing would leave the buffer during the test.
  const s = await scenario('reorder', { limits: { maxStreamBytes: 4_000 }, sources: { '*': { idleTimeout: 'off', maxOutOfOrderness: '1h' } } }, (source) => [
    rule('pairs', source, 'every a=A -> b=B(x > a.x)', { partitionBy: 'user', keyedBy: 'user' }),
  ]);
  const events = Array.from({ length: 10 }, (_, i) => [s.ev('A', `u${i}`, 1), s.ev('B', `u${i}`, 2)]).flat();
  await produce(s.source, events);
  await eventually(async () => (await s.committed()) === 20, 15_000, 'the checkpoint past the whole buffer');
  expect(s.metrics.released).toBeGreaterThanOrEqual(10);
  expect(s.metrics.commits.get('limit')).toBeGreaterThanOrEqual(1);
  // Pairs released early match; none is lost: the rest are still buffered, waiting for the watermark.
  await eventually(() => s.instance.feed.recent({ limit: 20 }).length >= 4, 15_000, 'the alerts of the released pairs');
  expect(s.instance.streams.status().checkpoints?.paused).toEqual([]);
});
