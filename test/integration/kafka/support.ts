/**
 * Helpers for the Kafka-mode tests on the real broker: the KafkaStreams runtime wired as the service wires
 * it (EngineHost versions, AlertFactory ids, the in-memory feed), a collector of the alerts and dead-letter
 * topics, and rule definitions.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import { AlertFactory } from '../../../src/app/alerts/alert-factory';
import { EngineHost, type RunningRule } from '../../../src/app/engine/engine-host';
import { createLogger } from '../../../src/app/logging/logger';
import { MemoryAlertStore } from '../../../src/adapters/memory/memory-alert-store';
import { NoKafkaMetrics } from '../../../src/adapters/kafka/kafka-metrics';
import { loadKafkaOptions, type KafkaOptions } from '../../../src/adapters/kafka/kafka-options';
import { loadConfig } from '../../../src/config/config';
import { KafkaStreams, type KafkaCheckpointing } from '../../../src/adapters/kafka/kafka-streams';
import { compileRule } from '../../../src/core/engine';
import type { Alert } from '../../../src/core/ports/alert';
import { RULE_DEFAULTS, type RuleDefinition } from '../../../src/core/rules/rule';
import { createTopic, decode, kafkaBrokers, testKafka, uniqueName, type ConsumedMessage } from '../../support/kafka';
import { eventually } from '../../support/eventually';

export { eventually };

export function rule(id: string, source: string, pattern: string, extra: Partial<RuleDefinition> = {}): RuleDefinition {
  return {
    id,
    severity: 'critical',
    source,
    pattern,
    emit: {},
    labels: {},
    enabled: true,
    event: { ...RULE_DEFAULTS.event },
    ...extra,
  };
}

/**
 * The Kafka settings a user of the service gets from these environment variables (loadConfig), with the
 * test tuning of testOptions.
 */
export function serviceKafkaConfig(names: { groupId: string; alerts: string; dlq: string }, env: Record<string, string> = {}): KafkaOptions {
  const { config, errors } = loadConfig({
    KAFKA_BROKERS: kafkaBrokers().join(','),
    KAFKA_GROUP_ID: names.groupId,
    ALERTS_TOPIC: names.alerts,
    DLQ_TOPIC: names.dlq,
    KAFKA_MAX_WAIT_MS: '100',
    KAFKA_HEARTBEAT_INTERVAL_MS: '300',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    ...env,
  });
  if (!config?.kafka) throw new Error(errors.join('\n'));
  return { ...config.kafka, tickMs: 100, topicRecheckMs: 500 };
}

/** Test tuning: short fetch waits and heartbeats, fast ticks. */
export function testOptions(groupId: string, topics: { alerts: string; dlq: string }, env: Record<string, string> = {}): KafkaOptions {
  const { options, errors } = loadKafkaOptions(
    { KAFKA_MAX_WAIT_MS: '100', KAFKA_HEARTBEAT_INTERVAL_MS: '300', KAFKA_SESSION_TIMEOUT_MS: '6000', ...env },
    { brokers: kafkaBrokers(), clientId: 'cepheus-test', groupId, alertsTopic: topics.alerts, dlqTopic: topics.dlq },
  );
  if (!options) throw new Error(errors.join('\n'));
  return { ...options, tickMs: 100, topicRecheckMs: 500 };
}

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface TestStreams {
  streams: KafkaStreams;
  host: EngineHost;
  feed: MemoryAlertStore;
  logs: LogLine[];
  received: Map<string, number>;
  setRules(defs: RuleDefinition[]): void;
  stop(): Promise<void>;
}

/** A KafkaStreams instance wired like the service: rule versions from EngineHost, ids from AlertFactory. */
export function startStreams(
  options: KafkaOptions,
  defs: RuleDefinition[],
  extra: { checkpointing?: KafkaCheckpointing; maxEventFutureMs?: number | null } = {},
): TestStreams {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = createLogger((process.env.TEST_CEPHEUS_LOG as 'info') ?? 'info', sink);
  const host = new EngineHost({ maxPartialMatchesPerKey: 10_000 });
  const alerts = new AlertFactory(host);
  const feed = new MemoryAlertStore(1000);
  const received = new Map<string, number>();
  const metrics = new (class extends NoKafkaMetrics {
    override received(source: string, n: number) {
      received.set(source, (received.get(source) ?? 0) + n);
    }
  })();
  const streams = new KafkaStreams({ options, logger, alerts, feed, metrics, kafka: quietKafka(options), ...extra });
  let version = 0;
  const setRules = (list: RuleDefinition[]) => {
    version++;
    const running: RunningRule[] = list.map((d) => ({ id: d.id, compiled: compileRule(d), version, origin: 'file' }));
    host.apply(running);
    streams.setRules(running);
  };
  setRules(defs);
  void streams.start();
  return {
    streams,
    host,
    feed,
    logs,
    received,
    setRules,
    stop: () => streams.stop(),
  };
}

function quietKafka(options: KafkaOptions): Kafka {
  return testKafka({ clientId: options.clientId, brokers: options.brokers });
}

/** Waits until the instance joined and holds (some of) the partitions of `topics`. */
export async function joined(s: TestStreams, topics: string[], timeoutMs = 20_000): Promise<void> {
  await eventually(
    () => {
      const st = s.streams.status();
      return st.ready && topics.every((t) => st.topics.includes(t));
    },
    timeoutMs,
    `the consumer to join with ${topics.join(', ')}`,
  );
}

/** Reads the alerts and dead-letter topics continuously from the beginning. */
export class TopicCollector {
  readonly records = new Map<string, ConsumedMessage[]>();
  private consumer: Consumer | undefined;

  constructor(private readonly topics: string[]) {
    for (const t of topics) this.records.set(t, []);
  }

  async start(): Promise<void> {
    const consumer = testKafka().consumer({ groupId: uniqueName('collector'), maxWaitTimeInMs: 100, heartbeatInterval: 300, sessionTimeout: 6000 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    let joined!: () => void;
    const ready = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const m of batch.messages) {
          this.records.get(batch.topic)!.push(decode(batch.topic, batch.partition, m));
          resolveOffset(m.offset);
        }
      },
    });
    await ready;
  }

  of(topic: string, filter: (m: ConsumedMessage) => boolean = () => true): ConsumedMessage[] {
    return (this.records.get(topic) ?? []).filter(filter);
  }

  async waitFor(topic: string, n: number, filter: (m: ConsumedMessage) => boolean = () => true, timeoutMs = 15_000): Promise<ConsumedMessage[]> {
    await eventually(() => this.of(topic, filter).length >= n, timeoutMs, `${n} records on ${topic} (have ${this.of(topic, filter).length})`);
    return this.of(topic, filter);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

export function alertsOf(records: ConsumedMessage[]): Alert[] {
  return records.map((r) => JSON.parse(r.value!) as Alert);
}

/** The alert id the service computes for a match of events at these positions (see AlertFactory). */
export function expectedId(ruleId: string, version: number, key: string | null, positions: Array<string | string[] | null>): string {
  return createHash('sha256').update(JSON.stringify([ruleId, version, key, positions])).digest('hex').slice(0, 32);
}

/** Comparable content of an alert: everything but its id. */
export function content(a: Alert): Omit<Alert, 'id'> {
  const { id: _id, ...rest } = a;
  return rest;
}

export function headersOf(h: IHeaders | Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
}

/**
 * A source topic of `partitions` partitions, fresh alerts and dead-letter topics (names from `prefix`), and a
 * collector already reading the alerts topic.
 */
export async function sourceWithOutputs(prefix: string, partitions: number): Promise<{ source: string; topics: { alerts: string; dlq: string }; collector: TopicCollector }> {
  const source = uniqueName(`${prefix}-src`);
  const topics = { alerts: uniqueName(`${prefix}-alerts`), dlq: uniqueName(`${prefix}-dlq`) };
  await Promise.all([createTopic(source, { partitions }), createTopic(topics.alerts), createTopic(topics.dlq)]);
  const collector = new TopicCollector([topics.alerts]);
  await collector.start();
  return { source, topics, collector };
}

/** The event ids (the events' `id` fields) of each alert, in tag order. */
export function eventIdsOf(records: ConsumedMessage[]): string[][] {
  return alertsOf(records).map((a) => Object.values(a.events).map((e) => (e as { id: string }).id));
}
