/**
 * Small kafkajs helpers for tests against the real broker (KAFKA_BROKERS).
 *
 *   const topic = uniqueName('orders');
 *   await createTopic(topic, { partitions: 3 });
 *   await produce(topic, [{ key: 'a', value: '1' }]);
 *   const got = await consumeAll(topic, 1);
 */
import { randomBytes } from 'node:crypto';
import { ITopicConfig, Kafka, KafkaConfig, logCreator, logLevel, Message, ProducerConfig } from 'kafkajs';
import { kafkaBrokers } from './env';

export { kafkaBrokers };

/** A consumed record with key/value decoded as UTF-8. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp: string;
}

/** A name unique to this run, e.g. `orders-1f3a9c0b2e`, for topics and consumer groups. */
export function uniqueName(prefix = 'test'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

const LOG_LEVELS: Record<string, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/**
 * kafkajs log lines go to stderr at TEST_KAFKAJS_LOG level (default `error`). Below `debug`,
 * the per-request "[Connection] Response X ... error" lines are dropped: kafkajs logs
 * every error response (rebalance in progress, coordinator loading, ...) at ERROR even
 * when it retries it, and a real failure still surfaces as a thrown error.
 */
const testLogCreator: logCreator = (level) => ({ namespace, label, log }) => {
  if (level < logLevel.DEBUG && namespace === 'Connection' && log.message?.startsWith('Response ')) return;
  const { message, timestamp: _t, logger: _l, ...extra } = log;
  process.stderr.write(`[kafkajs ${label} ${namespace}] ${message} ${JSON.stringify(extra)}\n`);
};

/** A kafkajs client for the test broker (or `config.brokers`): quiet logging, short connection timeouts. */
export function testKafka(config: Partial<KafkaConfig> = {}): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  return new Kafka({
    clientId: 'cepheus-test',
    brokers: config.brokers ?? kafkaBrokers(),
    logLevel: LOG_LEVELS[(process.env.TEST_KAFKAJS_LOG ?? 'error').toLowerCase()] ?? logLevel.ERROR,
    logCreator: testLogCreator,
    connectionTimeout: 3000,
    retry: { retries: 5, initialRetryTime: 100 },
    ...config,
  });
}

/** Runs `fn` with a connected admin client and always disconnects it. */
export async function withAdmin<T>(fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>, kafka = testKafka()): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates `topic` (replication factor 1) and waits until every partition has a leader. */
export async function createTopic(
  topic: string,
  opts: { partitions?: number; config?: Record<string, string> } = {},
): Promise<void> {
  const spec: ITopicConfig = {
    topic,
    numPartitions: opts.partitions ?? 1,
    replicationFactor: 1,
    configEntries: Object.entries(opts.config ?? {}).map(([name, value]) => ({ name, value })),
  };
  await withAdmin(async (admin) => {
    await admin.createTopics({ topics: [spec], waitForLeaders: true, timeout: 10000 });
  });
}

/** Sends `messages` to `topic` with an idempotent producer (acks=all) and disconnects it. */
export async function produce(topic: string, messages: Message[], config: ProducerConfig = {}): Promise<void> {
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1, ...config });
  await producer.connect();
  try {
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads `n` messages from `topic` from the beginning with a fresh consumer group
 * (eachBatch, offsets committed), then disconnects. Rejects after `timeoutMs` saying
 * how many arrived. Resolves with exactly the first `n` received, in arrival order.
 */
export async function consumeAll(
  topic: string,
  n: number,
  timeoutMs = 15000,
  opts: { groupId?: string; kafka?: Kafka } = {},
): Promise<ConsumedMessage[]> {
  const kafka = opts.kafka ?? testKafka();
  const consumer = kafka.consumer({
    groupId: opts.groupId ?? uniqueName('consume-all'),
    sessionTimeout: 10000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200,
  });
  const got: ConsumedMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`consumeAll(${topic}): got ${got.length} of ${n} messages within ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (n === 0) resolve();
      consumer
        .run({
          eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
            for (const m of batch.messages) {
              got.push(decode(batch.topic, batch.partition, m));
              resolveOffset(m.offset);
            }
            await heartbeat();
            if (got.length >= n) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return got.slice(0, n);
}

/** Decodes a kafkajs message into a ConsumedMessage (UTF-8 key/value/headers). */
export function decode(
  topic: string,
  partition: number,
  m: { offset: string; key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown>; timestamp: string },
): ConsumedMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[0] : v);
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : null,
    value: m.value ? m.value.toString('utf8') : null,
    headers,
    timestamp: m.timestamp,
  };
}
