/**
 * kill -9 of a replica mid-stream, while alerts are flowing, then a restart: with Redis checkpoints the
 * alerts on the alerts topic, de-duplicated by id, are exactly those of a run with no failure (ids and
 * content), and the duplicates (re-sent by the outbox relay, same ids) are counted. Once more with every key
 * evicted after each checkpoint (STATE_EVICT_IDLE=0) and an absence rule whose keys leave with their timer
 * pending: state then lives in Redis between batches. And with
 * the checkpointing replicas on a Redis Cluster and behind Sentinel (`REDIS_URL` redis+cluster:// and
 * redis+sentinel://), the topologies the service supports besides a single node.
 */
import Redis from 'ioredis';
import { infra, startOneNodeCluster, startSentinel } from '../redis/servers';
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
/** Redis servers of single tests, stopped after the replicas that use them. */
const servers: Array<() => Promise<void>> = [];

afterAll(async () => {
  await fixture.stop();
  for (const stop of servers) await stop();
});

beforeAll(() => ensureBuilt(), 120_000);

/** Checkpoint keys on the Redis server at `port` (the run's state went where its REDIS_URL points). */
async function checkpointKeys(port: number): Promise<number> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    return (await client.keys('cep:*')).length;
  } finally {
    client.disconnect();
  }
}

async function killAndRestart(name: string, extra: Record<string, string> = {}, runRedisUrl?: string, label = 'kill -9', keyed = true, timers = false) {
  const { kafka, t, base, run: plain } = await sharedBrokerScenario(fixture, name, 4, runRedisUrl, keyed, timers);
  const run = { ...plain, extra };

  const started = await Promise.all([fixture.start('baseline', base), fixture.start('r1', run), fixture.start('r2', run)]);
  const [baseline, r1, r2] = started;
  await Promise.all(started.map((r) => r.ready()));
  await waitUntil(() => r1.assigned(t.source).length > 0 && r2.assigned(t.source).length > 0, 20_000, 'both replicas to own partitions');

  const [baseAlerts, runAlerts] = await Promise.all([fixture.collect(kafka, t.alertsBase), fixture.collect(kafka, t.alertsRun)]);

  const events = makeEvents(6000, 40);
  const producer = new PacedProducer(kafka, t.source, events, 800);
  // Mid-stream, while alerts flow: kill -9 the replica, then start it again.
  await waitUntil(() => producer.sent >= 2400 && runAlerts.records.length > 20, 20_000, 'the stream to be under way');
  const owned = r1.assigned(t.source);
  await r1.kill('SIGKILL');
  const killedAt = producer.sent;
  await new Promise((r) => setTimeout(r, 1500));
  const r1b = await fixture.start('r1-restarted', run);
  await producer.done;
  await r1b.ready();

  // Repartitioned, the baseline's last alerts wait for the source partitions' idle marks (a second, plus the
  // broker's confirmation) and the merge's grace: over 2 s after the last record. A 2 s quiet wait ended
  // before them, and the run's alerts looked extra (taken for a lossy reference run on 2026-11-24).
  await settle(baseAlerts, runAlerts, 50, 40_000, keyed ? 2000 : 8000);
  const c = compare(baseAlerts, runAlerts);
  report(label, c, { killedAtEvent: killedAt, killedOwned: owned, baselineReplica: baseline.name });
  expect(c.expected).toBeGreaterThan(50);
  expect(c.missing).toEqual([]);
  expect(c.extra).toEqual([]);
  expect(c.different).toEqual([]);
  // The partitions of the killed replica were loaded from their checkpoints by their next owner.
  const loads = [...r2.logs('partition state loaded'), ...r1b.logs('partition state loaded')].filter((l) => owned.includes(l.partition as number) && l.topic === t.source);
  expect(loads.some((l) => l.nextOffset !== null)).toBe(true);
  return { loads, metrics: await (await fetch(`http://127.0.0.1:${r2.port}/metrics`)).text() };
}

it('kill -9 of a replica mid-stream and a restart: no alert lost, none new, duplicates only with the same id', async () => {
  await killAndRestart('kill');
});

it('the same with every key evicted after each checkpoint, those waiting on a timer too: reloaded from Redis, no alert lost or new', async () => {
  const evict = { STATE_EVICT_IDLE: '0', STATE_EVICT_MAX_KEYS: '20' };
  const { loads, metrics } = await killAndRestart('killev', evict, undefined, 'kill -9, every key evicted, with an absence rule', true, true);
  // The new owner restored the killed replica's keys and evicted them right away; batches read them back.
  expect(loads.some((l) => (l.restoredKeys as number) > 0 && l.evictedKeys === l.restoredKeys)).toBe(true);
  const value = (line: string) => Number(metrics.split('\n').find((l) => l.startsWith(line))?.split(' ')[1]);
  expect(value('cep_state_evictions_total')).toBeGreaterThan(500);
  expect(value('cep_state_reloads_total{result="restored"}')).toBeGreaterThan(500);
  // Keys of the absence rule left memory with their timer pending and came back as it came due.
  expect(value('cep_state_reloads_total{result="timer"}')).toBeGreaterThan(10);
  expect(value('cep_state_reloads_total{result="lost"}')).toBe(0);
});

it('the same with a 1 s idle timeout: neither the downtime nor the rebalance stall counts as quiet time', async () => {
  // Restored with the dead replica's wall-clock times, a partition took the downtime for quiet time: its
  // first tick moved the watermark over it and the backlog was late (dead-lettered): 62 alerts missing and
  // 3 extra with a 5 s timeout. And the surviving replica's partitions, stalled by the rebalance while records
  // piled up, counted the stall as quiet up to 3 s after their last end-offset confirmation: 109-136 missing
  // with 1 s. Quiet time now ends at the last confirmation.
  await killAndRestart('killidle', { KAFKA_SOURCES: JSON.stringify({ '*': { idleTimeout: '1s' } }) }, undefined, 'kill -9 with idleTimeout 1s');
});

it('the same with rules that repartition the source (merged partitions) and a 1 s idle timeout', async () => {
  const idle = { KAFKA_SOURCES: JSON.stringify({ '*': { idleTimeout: '1s' } }) };
  await killAndRestart('killrep', idle, undefined, 'kill -9, repartitioned, idleTimeout 1s', false);
});

it('the same with the replicas checkpointing to a Redis Cluster (redis+cluster://, one node owning every slot)', async () => {
  const cluster = await startOneNodeCluster();
  servers.push(() => infra.stopInfra({ redis: cluster.server }));
  const { loads } = await killAndRestart('killcl', {}, cluster.url, 'kill -9 on Redis Cluster');
  expect(loads.some((l) => (l.restoredKeys as number) > 0)).toBe(true);
  expect(await checkpointKeys(cluster.server.port)).toBeGreaterThan(0);
});

it('the same with the replicas checkpointing behind Sentinel (redis+sentinel://)', async () => {
  const sentinel = await startSentinel();
  servers.push(() => sentinel.stop());
  const { loads } = await killAndRestart('killsn', {}, sentinel.url, 'kill -9 behind Sentinel');
  expect(loads.some((l) => (l.restoredKeys as number) > 0)).toBe(true);
  expect(await checkpointKeys(sentinel.master.port)).toBeGreaterThan(0);
});
