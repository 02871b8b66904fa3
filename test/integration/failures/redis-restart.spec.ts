/**
 * Redis goes away mid-stream (2 s) and comes back with its data (AOF): the replica pauses its partitions,
 * reports not-ready, does not die, and resumes; the alerts, de-duplicated by id, equal those of a run with no
 * failure.
 */
import type { RedisHandle } from '../../../scripts/infra';
import { assertInfraEnabled, kafkaBrokers, redisUrl } from '../../support/env';
import {
  AlertCollector,
  compare,
  createTopics,
  ensureBuilt,
  kafkaFor,
  makeEvents,
  PacedProducer,
  Replica,
  report,
  rulesDir,
  settle,
  sleep,
  topicNames,
  waitUntil,
  type ReplicaEnv,
} from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const infra: typeof import('../../../scripts/infra') = require('../../../scripts/infra');

jest.setTimeout(120_000);

const replicas: Replica[] = [];
const collectors: AlertCollector[] = [];
let rules: { dir: string; cleanup(): void } | undefined;
let redis: RedisHandle | undefined;

beforeAll(async () => {
  assertInfraEnabled();
  ensureBuilt();
  redis = await infra.startRedis({ appendonly: true, args: ['--appendfsync', 'always'] });
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill()));
  await Promise.all(collectors.map((c) => c.stop()));
  await infra.stopInfra({ redis });
  rules?.cleanup();
});

it('Redis restarting mid-stream: the replica pauses, is not ready, resumes; no alert lost or new', async () => {
  const brokers = kafkaBrokers().join(',');
  const kafka = kafkaFor(brokers);
  const t = topicNames('redis-restart');
  await createTopics(kafka, [{ topic: t.source, partitions: 4 }, { topic: t.alertsBase }, { topic: t.alertsRun }, { topic: t.dlq }]);
  rules = rulesDir(t.source);
  const base: ReplicaEnv = { brokers, redisUrl: redisUrl(), group: `${t.source}-base`, alerts: t.alertsBase, dlq: t.dlq, rulesDir: rules.dir };
  const run: ReplicaEnv = { ...base, redisUrl: redis!.url, group: `${t.source}-run`, alerts: t.alertsRun };

  const started = await Promise.all([Replica.start('baseline', base), Replica.start('r1', run)]);
  replicas.push(...started);
  const [, r1] = started;
  await Promise.all(started.map((r) => r.ready()));
  await waitUntil(() => r1.assigned(t.source).length === 4, 20_000, 'r1 to own the partitions');

  const baseAlerts = new AlertCollector(kafka, t.alertsBase);
  const runAlerts = new AlertCollector(kafka, t.alertsRun);
  collectors.push(baseAlerts, runAlerts);
  await Promise.all([baseAlerts.start(), runAlerts.start()]);

  const producer = new PacedProducer(kafka, t.source, makeEvents(6000, 40), 800);
  await waitUntil(() => producer.sent >= 2000 && runAlerts.records.length > 20, 20_000, 'the stream to be under way');

  // Redis down for 2 s: readiness must drop while the process stays up.
  await redis!.stop();
  const statuses = new Set<number>();
  const downUntil = Date.now() + 2000;
  while (Date.now() < downUntil) {
    statuses.add((await r1.health()).status);
    await sleep(100);
  }
  await redis!.restart();
  await producer.done;
  await r1.ready(20_000);

  await settle(baseAlerts, runAlerts, 50, 40_000);
  const c = compare(baseAlerts, runAlerts);
  report('redis restart', c, { readinessWhileDown: [...statuses], paused: r1.logs('partition paused: its checkpoint cannot be written now').length });
  expect(statuses.has(503)).toBe(true);
  expect(r1.child.exitCode).toBeNull();
  expect(r1.logs('partition paused: its checkpoint cannot be written now').length).toBeGreaterThan(0);
  expect(r1.logs('partition resumed').length).toBeGreaterThan(0);
  expect(c.expected).toBeGreaterThan(50);
  expect(c.missing).toEqual([]);
  expect(c.extra).toEqual([]);
  expect(c.different).toEqual([]);
});
