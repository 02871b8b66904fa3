/**
 * POST /events in Kafka mode, on the real broker with two replicas in one group: the events are produced to
 * a source topic, keyed as its rules declare, and matched by the replica owning their partition. So one key's
 * events posted to different replicas still meet in one engine. Requests that cannot go anywhere are refused
 * with a status that says why.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Alert } from '../../../src/core/ports/alert';
import { json, metricValue, startService, tempDir, type RunningService } from '../../http/harness';
import { createTopic, uniqueName } from '../../support/kafka';
import { eventually, serviceKafkaConfig, TopicCollector } from './support';

jest.setTimeout(90_000);

const T0 = 1_700_000_000_000;
const run = uniqueName('ingress');
const LOGINS = `${run}-logins`;
const PAYMENTS = `${run}-payments`;
const MISSING = `${run}-not-created`;
const ALERTS = `${run}-alerts`;
const DLQ = `${run}-dlq`;
const GROUP = `${run}-group`;

const rules = tempDir({
  'logins.yaml': `
id: failed-then-success
source: ${LOGINS}
partitionBy: user
keyedBy: user
pattern: every f=login_failed -> s=login_succeeded where timer:within(5 min)
`,
  'payments.yaml': `
id: big-payment
source: ${PAYMENTS}
partitionBy: account
pattern: every p=payment(amount > 1000)
`,
  'later.yaml': `
id: on-a-topic-not-created
source: ${MISSING}
pattern: every x=anything
`,
});

const kafkaConfig = () => serviceKafkaConfig({ groupId: GROUP, alerts: ALERTS, dlq: DLQ }, { KAFKA_MAX_EVENT_BYTES: '512' });

const post = (svc: RunningService, query: string, events: unknown) => svc.json(`/events${query}`, json(events));

let replicas: RunningService[] = [];
let collector: TopicCollector;

beforeAll(async () => {
  await Promise.all([createTopic(LOGINS, { partitions: 2 }), createTopic(PAYMENTS, { partitions: 2 }), createTopic(ALERTS), createTopic(DLQ)]);
  collector = new TopicCollector([ALERTS, LOGINS, DLQ]);
  await collector.start();
  replicas = [await startService({ rulesDir: rules.dir, logLevel: 'info', kafka: kafkaConfig() })];
  replicas.push(await startService({ rulesDir: rules.dir, logLevel: 'info', kafka: kafkaConfig() }));
  // Both replicas own some of the 6 partitions: logins, payments and its repartition topic (by account).
  await eventually(
    async () => {
      const owned = await Promise.all(replicas.map(async (r) => (await r.json('/health/ready')).body?.details?.kafka));
      return owned.every((k) => k?.status === 'up' && k.partitions >= 1) && owned.reduce((n, k) => n + k.partitions, 0) === 6;
    },
    40_000,
    'both replicas to own partitions',
  );
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.close()));
  await collector?.stop();
  rules.cleanup();
});

describe('POST /events in Kafka mode', () => {
  it("produces the events to the named source topic, keyed by the rules' keyedBy, so a key's events posted to two replicas make one match", async () => {
    const [a, b] = replicas;
    const first = await post(a, `?topic=${LOGINS}`, { type: 'login_failed', user: 'u-1', timestamp: T0 });
    expect(first).toMatchObject({ status: 202, body: { topic: LOGINS, accepted: 1, rejected: [] } });
    const second = await post(b, `?topic=${LOGINS}`, [{ type: 'login_succeeded', user: 'u-1', timestamp: T0 + 10 }]);
    expect(second).toMatchObject({ status: 202, body: { topic: LOGINS, accepted: 1, rejected: [] } });

    const [alertRecord] = await collector.waitFor(ALERTS, 1, (m) => m.key === 'u-1');
    const alert = JSON.parse(alertRecord.value!) as Alert;
    expect(alert).toMatchObject({ rule: 'failed-then-success', key: 'u-1' });
    expect(Object.values(alert.events!).map((e) => (e as { type: string }).type).sort()).toEqual(['login_failed', 'login_succeeded']);

    const produced = collector.of(LOGINS);
    expect(produced.map((m) => [m.key, m.headers['cepheus.ingress']])).toEqual([
      ['u-1', 'http'],
      ['u-1', 'http'],
    ]);
    // Keyed alike, so in one partition, read by one engine.
    expect(new Set(produced.map((m) => m.partition)).size).toBe(1);
    expect(await alertsSettled()).toEqual([alert.id]);
  });

  it('needs ?topic= when the running rules read several topics, and names them', async () => {
    const res = await post(replicas[0], '', { type: 'login_failed', user: 'u-2', timestamp: T0 });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('name one with ?topic=');
    for (const topic of [LOGINS, PAYMENTS, MISSING]) expect(res.body.message).toContain(topic);
  });

  it('refuses a topic no running rule reads (404), a source topic that does not exist (409), and a repeated topic (400)', async () => {
    const notRead = await post(replicas[0], `?topic=${ALERTS}`, { type: 'login_failed', user: 'u', timestamp: T0 });
    expect(notRead.status).toBe(404);
    expect(notRead.body.message).toContain(`no running rule reads topic "${ALERTS}"`);
    const missing = await post(replicas[1], `?topic=${MISSING}`, { type: 'anything', timestamp: T0 });
    expect(missing.status).toBe(409);
    expect(missing.body.message).toContain('does not exist in Kafka');
    const twice = await post(replicas[0], `?topic=${LOGINS}&topic=${PAYMENTS}`, { type: 'login_failed', user: 'u', timestamp: T0 });
    expect(twice.status).toBe(400);
  });

  it('lists and counts the events the topic consumer would dead-letter, and produces only the others', async () => {
    const before = collector.of(LOGINS).length;
    const res = await post(replicas[1], `?topic=${LOGINS}`, [
      [1],
      { type: 'login_failed', timestamp: T0 },
      { user: 'u-3', timestamp: T0 },
      { type: 'login_failed', user: 'u-3' },
      { type: 'login_failed', user: 'u-3', timestamp: T0, pad: 'x'.repeat(600) },
      // Later than the topic's watermark (T0 + 10 ms on u-1's partition), so this one is matched, not late.
      { type: 'login_failed', user: 'u-3', timestamp: T0 + 60_000 },
    ]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      topic: LOGINS,
      accepted: 1,
      rejected: [
        { index: 0, reason: 'not_an_object' },
        { index: 1, reason: 'missing_key' },
        { index: 2, reason: 'missing_type' },
        { index: 3, reason: 'missing_time' },
        { index: 4, reason: 'oversize' },
      ],
    });
    const metrics = await (await replicas[1].request('/metrics')).text();
    for (const reason of ['not_an_object', 'missing_key', 'missing_type', 'missing_time', 'oversize']) {
      expect(metricValue(metrics, 'cep_events_rejected_total', { reason })).toBe(1);
    }
    await collector.waitFor(LOGINS, before + 1);
    expect(collector.of(LOGINS).slice(before).map((m) => m.key)).toEqual(['u-3']);
  });

  it("produces a body near EVENTS_MAX_BODY_BYTES of one key's events in full, past the broker's batch limit", async () => {
    // ~1 MB of values: with ~40 bytes of record overhead each (key, header, varints), one record batch of
    // them would pass the broker's default message.max.bytes (1,048,588).
    const pad = 'p'.repeat(400);
    const events = Array.from({ length: 2200 }, (_, i) => ({ type: 'login_failed', user: 'bulk', timestamp: T0 + 200_000 + i, pad }));
    const body = JSON.stringify(events);
    expect(Buffer.byteLength(body)).toBeGreaterThan(1_000_000);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1024 * 1024);
    const res = await post(replicas[0], `?topic=${LOGINS}`, body);
    expect(res).toMatchObject({ status: 202, body: { accepted: events.length, rejected: [] } });
    const bulk = await collector.waitFor(LOGINS, events.length, (m) => m.key === 'bulk');
    expect(bulk.map((m) => (JSON.parse(m.value!) as { timestamp: number }).timestamp)).toEqual(events.map((e) => e.timestamp));
  });

  it("dead-letters a posted event that is late for its partition's watermark, as it does any record of the topic", async () => {
    const res = await post(replicas[0], `?topic=${LOGINS}`, { type: 'login_failed', user: 'u-1', timestamp: T0 });
    expect(res).toMatchObject({ status: 202, body: { accepted: 1 } });
    const [dead] = await collector.waitFor(DLQ, 1, (m) => m.key === 'u-1');
    expect(dead.headers).toMatchObject({ 'cepheus.reason': 'late', 'cepheus.ingress': 'http', 'cepheus.source.topic': LOGINS });
  });

  it('takes the only source topic when the running rules read one', async () => {
    for (const file of ['payments.yaml', 'later.yaml']) rmSync(join(rules.dir, file));
    await eventually(
      async () => {
        const k = await Promise.all(replicas.map(async (r) => (await r.json('/health/ready')).body?.details?.kafka));
        return k.every((x) => x?.topics === 1);
      },
      20_000,
      'both replicas to read the logins topic only',
    );
    const res = await post(replicas[0], '', { type: 'login_failed', user: 'u-4', timestamp: T0 + 120_000 });
    expect(res).toMatchObject({ status: 202, body: { topic: LOGINS, accepted: 1, rejected: [] } });
    await collector.waitFor(LOGINS, 1, (m) => m.key === 'u-4');
  });
});

/** The alert ids seen once nothing more arrives for a second (a duplicate would show up here). */
async function alertsSettled(): Promise<string[]> {
  let last = -1;
  await eventually(
    async () => {
      const n = collector.of(ALERTS).length;
      const settled = n === last;
      last = n;
      if (!settled) await new Promise((r) => setTimeout(r, 1000));
      return settled;
    },
    15_000,
    'the alerts topic to settle',
  );
  return collector.of(ALERTS).map((m) => (JSON.parse(m.value!) as Alert).id);
}
