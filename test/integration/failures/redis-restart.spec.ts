/**
 * Redis goes away mid-stream (2 s) and comes back with its data (AOF): the replica pauses its partitions,
 * reports not-ready, does not die, and resumes; the alerts, de-duplicated by id, equal those of a run with no
 * failure.
 */
import type { RedisHandle } from '../../../scripts/infra';
import { assertInfraEnabled } from '../../support/env';
import {
  compare,
  ensureBuilt,
  Fixture,
  makeEvents,
  PacedProducer,
  report,
  settle,
  sharedBrokerScenario,
  sleep,
  waitUntil,
} from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const infra: typeof import('../../../scripts/infra') = require('../../../scripts/infra');

jest.setTimeout(120_000);

const fixture = new Fixture();
let redis: RedisHandle | undefined;

beforeAll(async () => {
  assertInfraEnabled();
  ensureBuilt();
  redis = await infra.startRedis({ appendonly: true, args: ['--appendfsync', 'always'] });
}, 120_000);

afterAll(async () => {
  await fixture.stop();
  await infra.stopInfra({ redis });
});

it('Redis restarting mid-stream: the replica pauses, is not ready, resumes; no alert lost or new', async () => {
  const { kafka, t, base, run } = await sharedBrokerScenario(fixture, 'redis-restart', 4, redis!.url);

  const started = await Promise.all([fixture.start('baseline', base), fixture.start('r1', run)]);
  const [, r1] = started;
  await Promise.all(started.map((r) => r.ready()));
  await waitUntil(() => r1.assigned(t.source).length === 4, 20_000, 'r1 to own the partitions');

  const [baseAlerts, runAlerts] = await Promise.all([fixture.collect(kafka, t.alertsBase), fixture.collect(kafka, t.alertsRun)]);

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
