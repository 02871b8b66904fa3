/**
 * Scaling during a stream: two replicas, then a third joins, then one leaves (graceful SIGTERM); partitions
 * move between replicas with their checkpointed state, and the alerts, de-duplicated by id, equal those of a
 * run with no failure.
 */
import {
  compare,
  ensureBuilt,
  Fixture,
  makeEvents,
  PacedProducer,
  report,
  settle,
  sharedBrokerScenario,
  waitUntil,
} from './support';

jest.setTimeout(120_000);

const fixture = new Fixture();

beforeAll(() => ensureBuilt(), 120_000);

afterAll(async () => {
  await fixture.stop();
});

async function scaleMidStream(name: string, label: string, keyed: boolean) {
  const { kafka, t, base, run } = await sharedBrokerScenario(fixture, name, 6, undefined, keyed);

  const started = await Promise.all([fixture.start('baseline', base), fixture.start('r1', run), fixture.start('r2', run)]);
  const [, r1, r2] = started;
  await Promise.all(started.map((r) => r.ready()));
  await waitUntil(() => r1.assigned(t.source).length > 0 && r2.assigned(t.source).length > 0, 20_000, 'both replicas to own partitions');

  const [baseAlerts, runAlerts] = await Promise.all([fixture.collect(kafka, t.alertsBase), fixture.collect(kafka, t.alertsRun)]);

  const producer = new PacedProducer(kafka, t.source, makeEvents(8000, 40), 800);
  await waitUntil(() => producer.sent >= 1500 && runAlerts.records.length > 20, 20_000, 'the stream to be under way');
  const r3 = await fixture.start('r3', run);
  await waitUntil(() => r3.assigned(t.source).length > 0, 30_000, 'r3 to get partitions');
  const joinedAt = producer.sent;
  await waitUntil(() => producer.sent >= joinedAt + 1500, 20_000, 'more of the stream');
  const leaving = r1.assigned(t.source);
  expect(await r1.stop()).toBe(0);
  const leftAt = producer.sent;
  await producer.done;
  await waitUntil(() => r2.assigned(t.source).length + r3.assigned(t.source).length === 6, 30_000, 'r2 and r3 to own every partition');

  await settle(baseAlerts, runAlerts, 50, 40_000, keyed ? 2000 : 8000);
  const c = compare(baseAlerts, runAlerts);
  report(label, c, { r3JoinedAtEvent: joinedAt, r1LeftAtEvent: leftAt, r1Had: leaving, end: { r2: r2.assigned(t.source), r3: r3.assigned(t.source) } });
  expect(c.expected).toBeGreaterThan(50);
  expect(c.missing).toEqual([]);
  expect(c.extra).toEqual([]);
  expect(c.different).toEqual([]);
  // Partitions that moved were restored from their checkpoints.
  const restored = [...r2.logs('partition state loaded'), ...r3.logs('partition state loaded')].filter((l) => l.topic === t.source && l.nextOffset !== null);
  expect(restored.length).toBeGreaterThan(0);
}

it('2 replicas, a third joins, one leaves, mid-stream: no alert lost or new', async () => {
  await scaleMidStream('scale', 'scale 2→3→2', true);
});

it('the same with rules that repartition the source (merged partitions move too): no alert lost or new', async () => {
  await scaleMidStream('scalerep', 'scale 2→3→2, repartitioned', false);
});
