/**
 * The Kafka runtime wired with Redis checkpoints, in the test process (real broker, real Redis), for tests that
 * need to reach inside: set rules, read the in-memory alert feed and the structured log lines.
 */
import Redis from 'ioredis';
import type { CheckpointMetrics } from '../../../src/adapters/redis/checkpoint-metrics';
import { RedisAvailability } from '../../../src/adapters/redis/redis-availability';
import { RedisCheckpointStore } from '../../../src/adapters/redis/redis-checkpoint-store';
import { closeRedisClient, createRedisClient } from '../../../src/adapters/redis/redis-connection';
import type { CheckpointLimits } from '../../../src/core/ports/checkpoint-store';
import type { RuleDefinition } from '../../../src/core/rules/rule';
import { redisUrl } from '../../support/env';
import { createTopic, uniqueName } from '../../support/kafka';
import { startStreams, testOptions, type TestStreams } from '../kafka/support';

export interface CheckpointedSetup {
  group: string;
  /** Redis key prefix (the service uses `cep:<group>`). */
  prefix: string;
  topics: { alerts: string; dlq: string };
  limits?: Partial<CheckpointLimits>;
  metrics?: CheckpointMetrics;
  /** KAFKA_SOURCES (default: no idle timeout for any topic). */
  sources?: Record<string, Record<string, unknown>>;
  /** STATE_ORPHAN_AFTER in ms (default: no orphan sweep). */
  orphanAfterMs?: number;
}

export function startCheckpointed(setup: CheckpointedSetup, defs: RuleDefinition[]): TestStreams {
  const client = createRedisClient(redisUrl());
  const guard = new RedisAvailability(client, { pingIntervalMs: 200 });
  const store = new RedisCheckpointStore(client, { prefix: setup.prefix, limits: setup.limits, onUnavailable: (e) => guard.reportFailure(e) });
  const options = testOptions(setup.group, setup.topics, { KAFKA_SOURCES: JSON.stringify(setup.sources ?? { '*': { idleTimeout: 'off' } }) });
  const checkpointing = {
    store,
    guard,
    relayIdleMs: 100,
    ...(setup.metrics ? { metrics: setup.metrics } : {}),
    ...(setup.orphanAfterMs !== undefined ? { orphanAfterMs: setup.orphanAfterMs } : {}),
  };
  const instance = startStreams(options, defs, { checkpointing });
  return {
    ...instance,
    stop: async () => {
      await instance.stop();
      guard.stop();
      await closeRedisClient(client);
    },
  };
}

/** Fresh names for an in-process scenario (source topic, alerts and DLQ topics, group and its Redis prefix), topics created. */
export async function freshScenario(name: string, sourcePartitions = 1): Promise<CheckpointedSetup & { source: string }> {
  const source = uniqueName(`${name}-src`);
  const topics = { alerts: uniqueName(`${name}-alerts`), dlq: uniqueName(`${name}-dlq`) };
  const group = uniqueName(`${name}-group`);
  await Promise.all([createTopic(source, { partitions: sourcePartitions }), createTopic(topics.alerts), createTopic(topics.dlq)]);
  return { source, topics, group, prefix: `cep:${group}` };
}

/** Registers a suite's Redis client (for looking at the checkpoints) and stops its instances after it. */
export function inProcessSuite(): { redis: () => Redis; track: (s: TestStreams) => TestStreams } {
  let redis: Redis | undefined;
  const instances: TestStreams[] = [];
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    for (const i of instances) await i.stop().catch(() => undefined);
    redis?.disconnect();
  });
  return {
    redis: () => redis!,
    track: (s) => {
      instances.push(s);
      return s;
    },
  };
}
