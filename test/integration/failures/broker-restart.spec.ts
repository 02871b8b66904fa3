/**
 * The Kafka broker is killed (SIGKILL) mid-stream and started again with its data: the replica reconnects
 * (consumer, producer, outbox relay) and the alerts, de-duplicated by id, equal those of a run with no failure.
 *
 * The failure run has its own broker (scripts/infra); the no-failure run reads the same records (same topic
 * name, same keys, same order, hence the same offsets and alert ids) on the shared test broker.
 */
import type { KafkaHandle } from '../../../scripts/infra';
import { assertInfraEnabled, kafkaBrokers, redisUrl } from '../../support/env';
import {
  compare,
  createTopics,
  ensureBuilt,
  Fixture,
  kafkaFor,
  makeEvents,
  PacedProducer,
  type ReplicaEnv,
  report,
  rulesDir,
  settle,
  topicNames,
  waitUntil,
} from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const infra: typeof import('../../../scripts/infra') = require('../../../scripts/infra');

jest.setTimeout(150_000);

const fixture = new Fixture();
let broker: KafkaHandle | undefined;

beforeAll(async () => {
  assertInfraEnabled();
  ensureBuilt();
  broker = await infra.startKafka();
}, 120_000);

afterAll(async () => {
  await fixture.stop();
  await infra.stopInfra({ kafka: broker });
});

async function endOffsets(brokers: string, topic: string): Promise<string[]> {
  const admin = kafkaFor(brokers).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => p.high);
  } finally {
    await admin.disconnect();
  }
}

async function restartMidStream(name: string, label: string, extra: Record<string, string> = {}): Promise<void> {
  const shared = kafkaBrokers().join(',');
  const own = broker!.brokers;
  const t = topicNames(name);
  const events = makeEvents(6000, 40);
  const rules = (fixture.rules = rulesDir(t.source));

  // No-failure run on the shared broker.
  const sharedKafka = kafkaFor(shared);
  await createTopics(sharedKafka, [{ topic: t.source, partitions: 4 }, { topic: t.alertsBase }, { topic: t.dlq }]);
  const baseline = await fixture.start('baseline', { brokers: shared, redisUrl: redisUrl(), group: `${t.source}-base`, alerts: t.alertsBase, dlq: t.dlq, rulesDir: rules.dir });
  const baseAlerts = await fixture.collect(sharedKafka, t.alertsBase);
  const baseProducer = new PacedProducer(sharedKafka, t.source, events, 4000, 200);

  // Failure run on its own broker.
  const ownKafka = kafkaFor(own);
  await createTopics(ownKafka, [{ topic: t.source, partitions: 4 }, { topic: t.alertsRun }, { topic: t.dlq }]);
  const run: ReplicaEnv = { brokers: own, redisUrl: redisUrl(), group: `${t.source}-run`, alerts: t.alertsRun, dlq: t.dlq, rulesDir: rules.dir, extra };
  const r1 = await fixture.start('r1', run);
  await r1.ready();
  await waitUntil(() => r1.assigned(t.source).length === 4, 20_000, 'r1 to own the partitions');
  const runAlerts = await fixture.collect(ownKafka, t.alertsRun);

  const producer = new PacedProducer(ownKafka, t.source, events, 800);
  await waitUntil(() => producer.sent >= 2000 && runAlerts.records.length > 20, 20_000, 'the stream to be under way');
  await broker!.restart({ hard: true });
  await producer.done;
  await baseProducer.done;
  // Both topics hold the same records at the same offsets (otherwise the ids could not be compared).
  expect(await endOffsets(own, t.source)).toEqual(await endOffsets(shared, t.source));

  await settle(baseAlerts, runAlerts, 50, 60_000);
  const c = compare(baseAlerts, runAlerts);
  report(label, c, { restartMs: broker!.startMs });
  expect(r1.child.exitCode).toBeNull();
  expect(c.expected).toBeGreaterThan(50);
  expect(c.missing).toEqual([]);
  expect(c.extra).toEqual([]);
  expect(c.different).toEqual([]);
}

it('a broker crash and restart mid-stream: the replica reconnects; no alert lost or new', async () => {
  await restartMidStream('broker-restart', 'broker restart');
});

it('the same with a 1 s idle timeout: the outage (longer than it) is not idleness, so nothing read after it is late', async () => {
  await restartMidStream('broker-restart-idle', 'broker restart with idleTimeout 1s', { KAFKA_SOURCES: JSON.stringify({ '*': { idleTimeout: '1s' } }) });
});
