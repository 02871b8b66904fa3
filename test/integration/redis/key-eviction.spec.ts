/**
 * Eviction of cold keys in the Kafka runtime with Redis checkpoints (in process, real broker and Redis): a
 * replica with many keys and few active ones keeps at most STATE_EVICT_MAX_KEYS of them in memory (each of
 * its partitions an equal share) while Redis holds them all, and its alerts are those of a replica that
 * never evicts.
 *
 * Three phases, keyed by user over 2 partitions: 1 500 cold users open partial matches (and 500 of them end
 * a non-repeating rule: tombstones); 20 hot users send 3 000 events; 300 cold users come back, completing
 * their partial matches from reloaded state and meeting their tombstones again (no new match may start).
 * Keys evicted in a new key's state are deleted from Redis rather than stored (they would stay forever), and
 * so are sequence keys evicted while waiting under `within`, once the clock passes their deadline.
 * Keys of the absence rule are evicted with their timer pending and reloaded as it comes due.
 */
import { Writable } from 'node:stream';
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { AlertFactory } from '../../../src/app/alerts/alert-factory';
import { EngineHost, type RunningRule } from '../../../src/app/engine/engine-host';
import { createLogger } from '../../../src/app/logging/logger';
import { PrometheusKafkaMetrics } from '../../../src/adapters/kafka/kafka-metrics';
import { KafkaStreams } from '../../../src/adapters/kafka/kafka-streams';
import { PrometheusMetrics } from '../../../src/adapters/metrics/prometheus-metrics';
import { RedisAvailability } from '../../../src/adapters/redis/redis-availability';
import { RedisCheckpointStore } from '../../../src/adapters/redis/redis-checkpoint-store';
import { closeRedisClient, createRedisClient } from '../../../src/adapters/redis/redis-connection';
import { compileRule, type EvictionSettings } from '../../../src/core/engine';
import type { Alert } from '../../../src/core/ports/alert';
import type { RuleDefinition } from '../../../src/core/rules/rule';
import { redisUrl } from '../../support/env';
import { createTopic, testKafka, uniqueName } from '../../support/kafka';
import { eventually, rule, testOptions } from '../kafka/support';

jest.setTimeout(120_000);

const SOURCE = uniqueName('evict-src');
const T0 = 1_700_000_000_000;
const CAP = 100;
const RULES = [
  rule('pair', SOURCE, 'every a=A -> b=B(x >= a.x)', { partitionBy: 'user', keyedBy: 'user' }),
  rule('rising', SOURCE, 'every a=A -> b=B(x > a.x) where timer:within(2 sec)', { partitionBy: 'user', keyedBy: 'user' }),
  rule('absent', SOURCE, 'every a=A(x > 97) -> (timer:interval(500 msec) and not b=B)', { partitionBy: 'user', keyedBy: 'user' }),
  rule('once', SOURCE, 'a=C -> b=C', { partitionBy: 'user', keyedBy: 'user' }),
];

interface Instance {
  group: string;
  streams: KafkaStreams;
  alerts: Alert[];
  metrics: PrometheusMetrics;
  stop(): Promise<void>;
}

/** A replica in a group of its own; `sources`: KAFKA_SOURCES (stream settings per topic). */
function start(name: string, eviction?: EvictionSettings, o: { rules?: RuleDefinition[]; sources?: Record<string, unknown> } = {}): Instance {
  const group = uniqueName(`evict-${name}`);
  const logger = createLogger('warn', new Writable({ write: (_c, _e, done) => done() }));
  const client = createRedisClient(redisUrl());
  const guard = new RedisAvailability(client, { pingIntervalMs: 200 });
  const store = new RedisCheckpointStore(client, { prefix: `cep:${group}`, onUnavailable: (e) => guard.reportFailure(e) });
  const host = new EngineHost({ maxPartialMatchesPerKey: 1000 });
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const alerts: Alert[] = [];
  const options = testOptions(group, { alerts: uniqueName(`evict-${name}-alerts`), dlq: uniqueName(`evict-${name}-dlq`) }, { KAFKA_SOURCES: JSON.stringify(o.sources ?? { '*': { idleTimeout: 'off' } }) });
  const streams = new KafkaStreams({
    options,
    logger,
    alerts: new AlertFactory(host),
    feed: { publish: async (list) => void alerts.push(...list) },
    metrics: new PrometheusKafkaMetrics(metrics),
    kafka: testKafka(),
    checkpointing: { store, guard, relayIdleMs: 100, ...(eviction ? { eviction } : {}) },
  });
  const running: RunningRule[] = (o.rules ?? RULES).map((d) => ({ id: d.id, compiled: compileRule(d), version: 1, origin: 'api' }));
  host.apply(running);
  streams.setRules(running);
  metrics.setEngineSource(streams);
  void streams.start();
  return {
    group,
    streams,
    alerts,
    metrics,
    stop: async () => {
      await streams.stop();
      guard.stop();
      await closeRedisClient(client);
    },
  };
}

/** A fixed pseudo-random sequence, so both runs read the same records. */
function makeEvents(): Array<{ user: string; type: string; x: number }> {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const out: Array<{ user: string; type: string; x: number }> = [];
  const cold = Array.from({ length: 1500 }, (_, i) => `u${i}`);
  for (const user of cold) out.push({ user, type: 'A', x: Math.floor(rnd() * 100) });
  for (const user of cold.filter((_, i) => i % 3 === 0)) out.push({ user, type: 'C', x: 0 }, { user, type: 'C', x: 0 });
  for (let i = 0; i < 3000; i++) out.push({ user: `h${Math.floor(rnd() * 20)}`, type: ['A', 'B', 'C'][Math.floor(rnd() * 3)], x: Math.floor(rnd() * 100) });
  for (const user of cold.slice(0, 300)) out.push({ user, type: 'B', x: 100 });
  for (const user of cold.slice(0, 300).filter((_, i) => i % 3 === 0)) out.push({ user, type: 'C', x: 0 }, { user, type: 'C', x: 0 });
  return out;
}

/** Sends in chunks with pauses: many batches, so eviction runs between them and idle keys go cold. */
async function produceSlowly(producer: Producer, events: ReturnType<typeof makeEvents>): Promise<void> {
  for (let i = 0; i < events.length; i += 150) {
    const messages = events.slice(i, i + 150).map((e, j) => ({ key: e.user, value: JSON.stringify({ ...e, timestamp: T0 + (i + j) * 5 }) }));
    await producer.send({ topic: SOURCE, messages, acks: -1 });
    await new Promise((r) => setTimeout(r, 40));
  }
}

const gauge = async (m: PrometheusMetrics, name: string) => (await m.registry.getSingleMetric(name)!.get()).values;
const total = async (m: PrometheusMetrics, name: string, labels: Record<string, string> = {}) =>
  (await gauge(m, name)).filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((s, v) => s + v.value, 0);

/** Fields of every state hash of this group in Redis, per rule (all partitions, all versions). */
async function storedKeys(redis: Redis, group: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const key of await redis.keys(`cep:${group}:{${SOURCE}:*}:state:*`)) {
    const rule = decodeURIComponent(key.split(':state:')[1].split(':')[0]);
    out[rule] = (out[rule] ?? 0) + (await redis.hlen(key));
  }
  return out;
}

describe('eviction of cold keys (Kafka + Redis)', () => {
  const instances: Instance[] = [];
  let redis: Redis;

  beforeAll(async () => {
    await createTopic(SOURCE, { partitions: 2 });
    redis = new Redis(redisUrl());
  });

  afterAll(async () => {
    for (const i of instances) await i.stop().catch(() => undefined);
    redis.disconnect();
  });

  it('keeps resident keys under the cap while Redis holds every key with state, with the alerts of a replica that never evicts; quiet partitions let idle keys go', async () => {
    const baseline = start('base');
    const evicting = start('cold', { idleMs: 200, maxKeys: CAP });
    instances.push(baseline, evicting);
    await eventually(() => baseline.streams.status().ready && evicting.streams.status().ready, 30_000, 'both instances to join');

    let maxResident = 0;
    let maxPerPartition = 0;
    const sampler = setInterval(() => {
      void gauge(evicting.metrics, 'cep_state_resident_keys').then((vs) => {
        maxResident = Math.max(maxResident, vs.reduce((n, v) => n + v.value, 0));
        for (const v of vs) maxPerPartition = Math.max(maxPerPartition, v.value);
      });
    }, 20);

    const events = makeEvents();
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await produceSlowly(producer, events);
    } finally {
      await producer.disconnect();
    }
    const read = (i: Instance) => i.streams.partitions().reduce((s, p) => s + p.next, 0) === events.length;
    await eventually(() => read(baseline) && read(evicting), 60_000, 'both instances to read every record');
    // Both have checkpointed everything and published the alerts of the outbox.
    await eventually(
      async () => {
        const n = baseline.alerts.length;
        await new Promise((r) => setTimeout(r, 1000));
        return n > 0 && n === baseline.alerts.length && evicting.alerts.length === n && !baseline.streams.status().checkpoints?.pendingOutbox;
      },
      30_000,
      'the alerts to settle',
    );
    clearInterval(sampler);

    // The same alerts (ids are deterministic: source positions), the same content.
    const byId = (list: Alert[]) => new Map(list.map((a) => [a.id, JSON.stringify(a)]));
    expect(byId(evicting.alerts)).toEqual(byId(baseline.alerts));
    const perRule = (list: Alert[]) => list.reduce<Record<string, number>>((m, a) => ({ ...m, [a.rule]: (m[a.rule] ?? 0) + 1 }), {});
    const counts = perRule(baseline.alerts);
    // 300 returning users complete their pair from reloaded state; tombstones let no second `once` match.
    expect(counts.pair).toBeGreaterThanOrEqual(300);
    expect(counts.once).toBe(500 + 20);
    expect(counts.rising).toBeGreaterThan(100);
    expect(counts.absent).toBeGreaterThan(10);

    // The baseline (no eviction, too few new keys for a sweep) keeps every key in Redis. The evicting replica
    // keeps the keys with state: 1,200 cold users' open pairs, every tombstone; it deleted each key it evicted
    // in a new key's state: the 300 returning users' completed pairs, and `absent` keys not waiting for their
    // timer. Cold users' `rising` runs were evicted while open and deleted once their 2 s had passed (every
    // run ends 2 s after its A, and the stream's last A comes more than 2 s before its end). At most 20 hot
    // users more.
    expect(await storedKeys(redis, baseline.group)).toEqual({ pair: 1520, rising: 1520, absent: 1520, once: 520 });
    const stored = await storedKeys(redis, evicting.group);
    expect(stored.once).toBe(520);
    expect(stored.pair).toBeGreaterThanOrEqual(1200);
    expect(stored.pair).toBeLessThanOrEqual(1220);
    expect(stored.rising ?? 0).toBeLessThanOrEqual(20);
    expect(stored.absent ?? 0).toBeLessThan(100);
    // The evicting replica kept at most CAP in memory, half per partition.
    expect(maxResident).toBeGreaterThan(0);
    expect(maxResident).toBeLessThanOrEqual(CAP);
    expect(maxPerPartition).toBeGreaterThan(CAP / 4);
    expect(maxPerPartition).toBeLessThanOrEqual(CAP / 2);
    const baselineResident = await total(baseline.metrics, 'cep_state_resident_keys');
    expect(baselineResident).toBeGreaterThan(20 * CAP);
    // No more traffic: the quiet partitions' ticks evict what went idle since the last batch.
    await eventually(async () => (await total(evicting.metrics, 'cep_state_resident_keys')) <= 5, 10_000, 'the idle keys of quiet partitions to leave memory');
    // The deletions of the keys those last evictions freed are written without another record (the next tick).
    await eventually(async () => ((await storedKeys(redis, evicting.group)).absent ?? 0) <= 20, 10_000, 'the freed keys of quiet partitions to leave Redis');

    expect(await total(evicting.metrics, 'cep_state_evictions_total')).toBeGreaterThan(4000);
    expect(await total(evicting.metrics, 'cep_state_reloads_total', { result: 'restored' })).toBeGreaterThan(300);
    expect(await total(evicting.metrics, 'cep_state_reloads_total', { result: 'absent' })).toBeGreaterThan(0);
    // Keys of `absent` went with their 500 ms timer pending and came back as it came due (the same alerts).
    const timerDue = await total(evicting.metrics, 'cep_state_reloads_total', { result: 'timer' });
    expect(timerDue).toBeGreaterThan(0);
    expect(await total(evicting.metrics, 'cep_state_reloads_total', { result: 'lost' })).toBe(0);
    expect(await total(baseline.metrics, 'cep_state_evictions_total')).toBe(0);
    // Among the keys evicted, those in a new key's state were freed: 300 completed pairs, 300 expired `rising`
    // runs, most `absent` keys. The baseline saw too few new keys for a sweep.
    expect(await total(evicting.metrics, 'cep_keys_freed_total', { rule: 'pair' })).toBeGreaterThanOrEqual(300);
    expect(await total(evicting.metrics, 'cep_keys_freed_total', { rule: 'absent' })).toBeGreaterThan(1000);
    // Every cold user's `rising` key: evicted with its run open, deleted when the clock passed its deadline.
    expect(await total(evicting.metrics, 'cep_keys_freed_total', { rule: 'rising' })).toBeGreaterThanOrEqual(1500);
    expect(await total(baseline.metrics, 'cep_keys_freed_total')).toBe(0);
    expect(await total(baseline.metrics, 'cep_state_reloads_total')).toBe(0);
    const quiet = await total(evicting.metrics, 'cep_state_resident_keys');
    process.stderr.write(
      `[eviction] alerts ${baseline.alerts.length} equal; stored keys ${JSON.stringify(stored)}; resident max ${maxResident} (cap ${CAP}/replica), ${maxPerPartition} in one partition, ${quiet} once quiet, vs ${baselineResident} without eviction; ${timerDue} reloaded as their timer came due\n`,
    );
  });
});

describe('keys evicted with a pending timer (Kafka + Redis)', () => {
  const instances: Instance[] = [];
  afterAll(async () => {
    for (const i of instances) await i.stop().catch(() => undefined);
  });

  /**
   * 100 users each open an absence (`not B` for 2 s); half of them cancel it with a B. Then the topic goes
   * quiet: the timers fire only as the clock moves without events (the idle timeout's wall-clock watermark,
   * or processing time), by which time every key has been idle long enough to be evicted.
   */
  it.each([
    ['event time, the watermark moved by the idle timeout', { maxOutOfOrderness: '0s', idleTimeout: '1s' }],
    ['processing time', { timeMode: 'processing' }],
  ])('a quiet topic still fires the timers of evicted keys, reloading them as they come due (%s)', async (_name, settings) => {
    const source = uniqueName('evict-timer-src');
    await createTopic(source, { partitions: 2 });
    const rules = [rule('absent', source, 'every a=A -> (timer:interval(2 sec) and not b=B)', { partitionBy: 'user', keyedBy: 'user' })];
    const sources = { [source]: settings };
    const baseline = start('timer-base', undefined, { rules, sources });
    const evicting = start('timer-cold', { idleMs: 100, maxKeys: null }, { rules, sources });
    instances.push(baseline, evicting);
    await eventually(() => baseline.streams.status().ready && evicting.streams.status().ready, 30_000, 'both instances to join');
    let maxDormant = 0;
    const sampler = setInterval(() => void total(evicting.metrics, 'cep_state_dormant_keys').then((n) => (maxDormant = Math.max(maxDormant, n))), 20);

    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const t0 = Date.now();
      const users = Array.from({ length: 100 }, (_, i) => `u${i}`);
      const event = (user: string, type: string, i: number) => ({ key: user, value: JSON.stringify({ user, type, timestamp: t0 + i * 5 }) });
      await producer.send({ topic: source, messages: users.map((u, i) => event(u, 'A', i)), acks: -1 });
      await producer.send({ topic: source, messages: users.filter((_, i) => i % 2 === 0).map((u, i) => event(u, 'B', 100 + i)), acks: -1 });
    } finally {
      await producer.disconnect();
    }
    // The evicting replica lets its keys go while their timers are still pending.
    await eventually(async () => (await total(evicting.metrics, 'cep_state_evictions_total')) >= 50, 10_000, 'keys with pending timers to be evicted');
    await eventually(() => baseline.alerts.length === 50 && evicting.alerts.length === 50, 30_000, 'the 50 absences to fire on both replicas');
    await new Promise((r) => setTimeout(r, 500));

    // A timer completes these matches, so their ids include their time: in processing time that is each
    // replica's own wall clock, so only event time gives both replicas the same ids.
    const ids = (list: Alert[]) => list.map((a) => a.id).sort();
    if (!('timeMode' in settings)) expect(ids(evicting.alerts)).toEqual(ids(baseline.alerts));
    expect(new Set(evicting.alerts.map((a) => a.key))).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `u${2 * i + 1}`)));
    expect(new Set(baseline.alerts.map((a) => a.key))).toEqual(new Set(evicting.alerts.map((a) => a.key)));
    if (!('timeMode' in settings)) expect(evicting.alerts.map((a) => JSON.stringify(a)).sort()).toEqual(baseline.alerts.map((a) => JSON.stringify(a)).sort());
    const timerDue = await total(evicting.metrics, 'cep_state_reloads_total', { result: 'timer' });
    expect(timerDue).toBeGreaterThanOrEqual(50);
    expect(await total(evicting.metrics, 'cep_state_reloads_total', { result: 'lost' })).toBe(0);
    await eventually(async () => (await total(evicting.metrics, 'cep_state_resident_keys')) === 0, 10_000, 'the fired keys to leave memory');
    clearInterval(sampler);
    // While they waited, the dormant gauge counted them (at least the 50 whose absence no B cancelled; a key
    // evicted before its B came counts too until the B brings it back); once fired, none.
    expect(maxDormant).toBeGreaterThanOrEqual(50);
    expect(maxDormant).toBeLessThanOrEqual(100);
    expect(await total(evicting.metrics, 'cep_state_dormant_keys')).toBe(0);
    process.stderr.write(`[eviction] ${_name}: 50 absences equal to the non-evicting replica's; ${timerDue} keys reloaded as their timer came due\n`);
  });

  it('a quiet topic deletes from Redis the sequence keys evicted while waiting under within, once their runs have ended, without reloading them', async () => {
    const source = uniqueName('evict-within-src');
    await createTopic(source, { partitions: 2 });
    const rules = [rule('rising', source, 'every a=A -> b=B(x > a.x) where timer:within(2 sec)', { partitionBy: 'user', keyedBy: 'user' })];
    const sources = { [source]: { maxOutOfOrderness: '0s', idleTimeout: '1s' } };
    const evicting = start('within-cold', { idleMs: 100, maxKeys: null }, { rules, sources });
    instances.push(evicting);
    await eventually(() => evicting.streams.status().ready, 30_000, 'the instance to join');
    const redis = new Redis(redisUrl());
    const stored = async () => {
      let n = 0;
      for (const key of await redis.keys(`cep:${evicting.group}:{${source}:*}:state:*`)) n += await redis.hlen(key);
      return n;
    };
    let maxDormant = 0;
    const sampler = setInterval(() => void total(evicting.metrics, 'cep_state_dormant_keys').then((n) => (maxDormant = Math.max(maxDormant, n))), 20);
    try {
      const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        const t0 = Date.now();
        const messages = Array.from({ length: 100 }, (_, i) => ({ key: `u${i}`, value: JSON.stringify({ user: `u${i}`, type: 'A', x: 1, timestamp: t0 + i }) }));
        await producer.send({ topic: source, messages, acks: -1 });
      } finally {
        await producer.disconnect();
      }
      // Each user's run is checkpointed, then its key goes cold and leaves memory while the run is open.
      await eventually(async () => (await total(evicting.metrics, 'cep_state_evictions_total')) >= 100, 10_000, 'the 100 keys to be evicted');
      expect(await stored()).toBe(100);
      // The idle timeout moves the watermark with the wall clock: 2 s after their A, the runs have ended.
      await eventually(async () => (await stored()) === 0, 15_000, 'the ended keys to leave Redis');
      expect(await total(evicting.metrics, 'cep_keys_freed_total', { rule: 'rising' })).toBe(100);
      expect(await total(evicting.metrics, 'cep_state_reloads_total')).toBe(0);
      expect(await total(evicting.metrics, 'cep_partial_matches')).toBe(0);
      await eventually(async () => (await total(evicting.metrics, 'cep_state_dormant_keys')) === 0, 5_000, 'the dormant gauge to drop');
      expect(maxDormant).toBe(100);
      expect(evicting.alerts).toEqual([]);
    } finally {
      clearInterval(sampler);
      redis.disconnect();
    }
  });
});
