/**
 * The service in Kafka mode, as a user runs it (createApp with the configuration read from the environment,
 * rules from a rules directory and over REST), on the real broker: readiness waits for the consumer group,
 * events on a source topic become alerts on the alerts topic and in GET /alerts, bad and late records are
 * dead-lettered and counted, metrics show lag and the Kafka dependency, a rule created over REST with a new
 * source topic runs without a restart, POST /events goes through the source topic, shutdown leaves the group.
 */
import type { Alert } from '../../../src/core/ports/alert';
import { metricValue, startService, tempDir, type RunningService } from '../../http/harness';
import { createTopic, produce, uniqueName, withAdmin } from '../../support/kafka';
import { alertsOf, eventually, serviceKafkaConfig, TopicCollector } from './support';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const run = uniqueName('svc');
const SOURCE = `${run}-logins`;
const LATER = `${run}-payments`;
const ALERTS = `${run}-alerts`;
const DLQ = `${run}-dlq`;
const GROUP = `${run}-group`;

const RULE_FILE = `
id: failed-then-success
severity: critical
source: ${SOURCE}
partitionBy: user
keyedBy: user
pattern: every f=login_failed -> s=login_succeeded where timer:within(5 min)
emit:
  user: s.user
labels:
  team: security
`;

let svc: RunningService;
let collector: TopicCollector;
const rules = tempDir({ 'logins.yaml': RULE_FILE });
const json = (v: unknown) => JSON.stringify(v);

beforeAll(async () => {
  await Promise.all([createTopic(SOURCE, { partitions: 2 }), createTopic(ALERTS), createTopic(DLQ)]);
  collector = new TopicCollector([ALERTS, DLQ]);
  await collector.start();
});

afterAll(async () => {
  await svc?.close();
  await collector?.stop();
  rules.cleanup();
});

describe('the service in Kafka mode', () => {
  it('is ready once the consumer joined, then turns source events into alerts on the alerts topic and GET /alerts', async () => {
    const started = Date.now();
    svc = await startService({
      rulesDir: rules.dir,
      logLevel: 'info',
      kafka: serviceKafkaConfig({ groupId: GROUP, alerts: ALERTS, dlq: DLQ }, { KAFKA_SOURCES: json({ [SOURCE]: { allowedLateness: '1s' } }), KAFKA_MAX_EVENT_BYTES: '512' }),
    });
    const ready = await eventually(
      async () => {
        const r = await svc.json('/health/ready');
        return r.status === 200 ? r : undefined;
      },
      20_000,
      'readiness',
    );
    // eslint-disable-next-line no-console
    console.log(`service started and ready (consumer joined) in ${Date.now() - started} ms`);
    expect(ready.body.details.kafka).toMatchObject({ status: 'up', state: 'joined', topics: 1, partitions: 2 });

    const sent = Date.now();
    await produce(SOURCE, [
      { key: 'alice', value: json({ type: 'login_failed', user: 'alice', timestamp: T0 }) },
      { key: 'alice', value: json({ type: 'login_succeeded', user: 'alice', timestamp: T0 + 1000 }) },
    ]);
    const [record] = await collector.waitFor(ALERTS, 1, (m) => m.headers.rule === 'failed-then-success');
    // eslint-disable-next-line no-console
    console.log(`produce → alert on the alerts topic through the service: ${Date.now() - sent} ms`);
    const alert = JSON.parse(record.value!) as Alert;
    expect(record.key).toBe('alice');
    expect(record.headers).toEqual({ rule: 'failed-then-success', severity: 'critical' });
    expect(alert).toMatchObject({ rule: 'failed-then-success', key: 'alice', fields: { user: 'alice' }, labels: { team: 'security' }, ruleVersion: 1 });
    const recent = await svc.json<Alert[]>('/alerts?rule=failed-then-success');
    expect(recent.body.map((a) => a.id)).toEqual([alert.id]);
  });

  it('dead-letters bad and late records, counts them, and reports lag, batches and the Kafka dependency', async () => {
    await produce(SOURCE, [
      { key: 'bob', value: 'nope' },
      { key: 'bob', value: json({ type: 'login_failed', timestamp: T0 + 5000 }) },
      { key: 'bob', value: json({ type: 'login_failed', user: 'bob', timestamp: T0 + 5000, pad: 'x'.repeat(600) }) },
      { key: 'alice', value: json({ type: 'login_failed', user: 'alice', timestamp: T0 - 60_000 }) },
      { key: 'carol', value: json({ type: 'login_failed', user: 'carol', timestamp: T0 + 5000 }) },
    ]);
    const dead = await collector.waitFor(DLQ, 4);
    expect(dead.map((d) => d.headers['cepheus.reason']).sort()).toEqual(['invalid_json', 'late', 'missing_key', 'oversize']);
    const metrics = await eventually(
      async () => {
        const text = await (await svc.request('/metrics')).text();
        return metricValue(text, 'cep_events_late_total', { source: SOURCE }) === 1 ? text : undefined;
      },
      5000,
      'the late event to be counted',
    );
    expect(metricValue(metrics, 'cep_events_received_total', { source: SOURCE })).toBe(7);
    for (const reason of ['invalid_json', 'missing_key', 'oversize']) expect(metricValue(metrics, 'cep_events_rejected_total', { reason })).toBe(1);
    expect(metricValue(metrics, 'cep_kafka_dead_letters_total', { reason: 'late' })).toBe(1);
    expect(metricValue(metrics, 'cep_alerts_produced_total')).toBe(1);
    expect(metricValue(metrics, 'cep_dependency_up', { dependency: 'kafka' })).toBe(1);
    expect(metricValue(metrics, 'cep_rule_matches_total', { rule: 'failed-then-success', severity: 'critical' })).toBe(1);
    const lag = [0, 1].map((p) => metricValue(metrics, 'cep_kafka_consumer_lag', { topic: SOURCE, partition: String(p) }));
    expect(lag.filter((l) => l !== undefined)).toEqual(lag.filter((l) => l !== undefined).map(() => 0));
    expect(lag.some((l) => l === 0)).toBe(true);
    expect(metricValue(metrics, 'cep_kafka_batch_records_count')).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics, 'cep_partial_matches', { rule: 'failed-then-success' })).toBeGreaterThanOrEqual(1);
  });

  it('runs a rule created over REST on a new source topic without a restart; POST /events produces to the source topic named', async () => {
    await createTopic(LATER);
    const created = await svc.json('/rules', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: `id: big-payment\nseverity: warning\nsource: ${LATER}\npartitionBy: account\npattern: every p=payment(amount > 1000)\nemit:\n  amount: p.amount\n`,
    });
    expect(created.status).toBe(201);
    await eventually(
      async () => {
        const k = (await svc.json('/health/ready')).body?.details?.kafka;
        return k?.topics === 2 && k?.status === 'up';
      },
      20_000,
      'the new topic to be subscribed',
    );
    const status = (await svc.json('/health/ready')).body.details.kafka;
    expect(status).toMatchObject({ status: 'up', topics: 2, partitions: 3 });
    await produce(LATER, [{ key: null, value: json({ type: 'payment', account: 'acc-1', amount: 5000, timestamp: T0 }) }]);
    const [payment] = await collector.waitFor(ALERTS, 1, (m) => m.headers.rule === 'big-payment');
    expect(JSON.parse(payment.value!)).toMatchObject({ key: 'acc-1', fields: { amount: 5000 } });

    const posted = await svc.json(`/events?topic=${SOURCE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json([
        // Past the topic's watermark (T0 + 5 s by now): these are records of the topic like any other.
        { type: 'login_failed', user: 'http-user', timestamp: T0 + 10_000 },
        { type: 'login_succeeded', user: 'http-user', timestamp: T0 + 10_010 },
      ]),
    });
    expect(posted).toMatchObject({ status: 202, body: { topic: SOURCE, accepted: 2, rejected: [] } });
    await collector.waitFor(ALERTS, 1, (m) => m.key === 'http-user');
  });

  it('leaves the consumer group on shutdown, having committed what it processed', async () => {
    await svc.close();
    const group = await withAdmin((a) => a.describeGroups([GROUP]));
    expect(group.groups[0].members).toEqual([]);
    const offsets = await withAdmin((a) => a.fetchOffsets({ groupId: GROUP, topics: [SOURCE] }));
    const committed = offsets[0].partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    expect(committed).toBe(9); // 7 produced to the topic, 2 posted
    expect(alertsOf(collector.of(ALERTS)).length).toBe(3);
  });
});
