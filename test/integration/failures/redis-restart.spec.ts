/**
 * Redis goes away mid-stream (2 s) and comes back with its data (AOF): the replica pauses its partitions,
 * reports not-ready, does not die, and resumes; the alerts, de-duplicated by id, equal those of a run with no
 * failure. And Redis crashing and coming back from an older save (it lost checkpoints it had acknowledged),
 * followed by a kill -9 of the replica: the replica's next commit is refused as lost, nothing of the older
 * state is mixed with newer writes, and the partitions reload from what Redis holds; the same equality holds.
 */
import Redis from 'ioredis';
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
let saved: RedisHandle | undefined;

beforeAll(async () => {
  assertInfraEnabled();
  ensureBuilt();
  redis = await infra.startRedis({ appendonly: true, args: ['--appendfsync', 'always'] });
}, 120_000);

afterAll(async () => {
  await fixture.stop();
  await infra.stopInfra({ redis });
  await infra.stopInfra({ redis: saved });
});

/** A replica with no failure and one checkpointing to `redisUrl` that owns all 4 partitions; both alert topics read. */
async function oneReplica(name: string, redisUrl: string, suffix: string) {
  const { kafka, t, base, run } = await sharedBrokerScenario(fixture, name, 4, redisUrl);
  const started = await Promise.all([fixture.start(`baseline${suffix}`, base), fixture.start(`r1${suffix}`, run)]);
  const [, r1] = started;
  await Promise.all(started.map((r) => r.ready()));
  await waitUntil(() => r1.assigned(t.source).length === 4, 20_000, 'r1 to own the partitions');
  const [baseAlerts, runAlerts] = await Promise.all([fixture.collect(kafka, t.alertsBase), fixture.collect(kafka, t.alertsRun)]);
  return { kafka, t, run, r1, baseAlerts, runAlerts };
}

it('Redis restarting mid-stream: the replica pauses, is not ready, resumes; no alert lost or new', async () => {
  const { kafka, t, r1, baseAlerts, runAlerts } = await oneReplica('redis-restart', redis!.url, '');

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

it('Redis back from an older save (acknowledged checkpoints lost), then kill -9: the commit is refused as lost, the partitions reload; no alert lost or new', async () => {
  // No AOF and no automatic saves: after a crash the server holds what the test's SAVE wrote.
  saved = await infra.startRedis();
  const { kafka, t, run, r1, baseAlerts, runAlerts } = await oneReplica('redis-older-save', saved.url, '-older');
  // Many users, so that most keys a batch after the crash does not touch were changed since the save.
  const producer = new PacedProducer(kafka, t.source, makeEvents(6000, 400), 800);
  await waitUntil(() => producer.sent >= 1500 && runAlerts.records.length > 10, 20_000, 'the stream to be under way');
  const admin = new Redis(saved.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    await admin.save();
  } finally {
    admin.disconnect();
  }
  const savedAt = producer.sent;
  await waitUntil(() => producer.sent >= savedAt + 1500, 20_000, 'checkpoints after the save');
  await saved.restart({ hard: true });
  const LOST = 'the checkpoint store lost commits it had acknowledged (restarted from an older save?): the partition state is dropped and loaded again from what it holds';
  await waitUntil(() => r1.logs(LOST).length > 0, 20_000, 'the replica to find its checkpoint lost');
  const metrics = await (await fetch(`http://127.0.0.1:${r1.port}/metrics`)).text();
  // Then the replica dies: its successor loads whatever Redis holds now.
  await r1.kill('SIGKILL');
  const r1b = await fixture.start('r1-older-restarted', run);
  await producer.done;
  await r1b.ready(20_000);

  await settle(baseAlerts, runAlerts, 50, 40_000);
  const c = compare(baseAlerts, runAlerts);
  report('redis back from an older save, then kill -9', c, { savedAtEvent: savedAt, lostLogs: r1.logs(LOST).length });
  expect(metrics).toMatch(/cep_checkpoint_commits_total\{result="lost"\} [1-9]/);
  expect(c.expected).toBeGreaterThan(50);
  expect(c.missing).toEqual([]);
  expect(c.extra).toEqual([]);
  expect(c.different).toEqual([]);
});
