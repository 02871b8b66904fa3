/**
 * Scaling out: two service instances in one consumer group split the partitions (source topics and the
 * internal repartition topic) and together produce exactly the alerts one instance produces alone: the same
 * ids, none missing, none twice.
 */
import { KafkaStreams } from '../../../src/adapters/kafka/kafka-streams';
import { loadConfig } from '../../../src/config/config';
import { compileRule, Engine, type MatchRecord } from '../../../src/core/engine';
import { startService, tempDir, type RunningService } from '../../http/harness';
import { createTopic, kafkaBrokers, produce, uniqueName } from '../../support/kafka';
import { alertsOf, eventually, rule, TopicCollector } from './support';

jest.setTimeout(90_000);

const T0 = 1_700_000_000_000;
const run = uniqueName('grp');
const KEYED = `${run}-keyed`;
const UNKEYED = `${run}-unkeyed`;
const DLQ = `${run}-dlq`;
const json = (v: unknown) => JSON.stringify(v);

const RULES = `
id: keyed-pairs
source: ${KEYED}
partitionBy: user
keyedBy: user
pattern: every a=A -> b=B(x >= a.x) where timer:within(4 sec)
emit:
  total: a.x + b.x
---
id: repartitioned-pairs
source: ${UNKEYED}
partitionBy: user
pattern: every a=A -> b=B(x >= a.x) where timer:within(4 sec)
emit:
  total: a.x + b.x
`;
const rules = tempDir({ 'pairs.yaml': RULES });

function config(group: string, alerts: string) {
  const { config: c, errors } = loadConfig({
    KAFKA_BROKERS: kafkaBrokers().join(','),
    KAFKA_GROUP_ID: group,
    ALERTS_TOPIC: alerts,
    DLQ_TOPIC: DLQ,
    KAFKA_MAX_WAIT_MS: '100',
    KAFKA_HEARTBEAT_INTERVAL_MS: '300',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_SOURCES: json({ '*': { idleTimeout: '1s' } }),
  });
  if (!c) throw new Error(errors.join('\n'));
  return { rulesDir: rules.dir, logLevel: 'info' as const, kafka: { ...c.kafka!, tickMs: 100, topicRecheckMs: 500 } };
}

const assigned = (s: RunningService) => s.app.get(KafkaStreams).status().assigned;
const partitionsOf = (s: RunningService) => Object.entries(assigned(s)).flatMap(([t, ps]) => ps.map((p) => `${t}/${p}`));

const services: RunningService[] = [];
const collectors: TopicCollector[] = [];

afterAll(async () => {
  for (const s of services) await s.close();
  for (const c of collectors) await c.stop();
  rules.cleanup();
});

it('two instances in one group split the partitions and together produce exactly the alerts of one instance', async () => {
  const GROUP = `${run}-group`;
  const ALERTS_PAIR = `${run}-alerts-pair`;
  const ALERTS_ONE = `${run}-alerts-one`;
  await Promise.all([
    createTopic(KEYED, { partitions: 2 }),
    createTopic(UNKEYED, { partitions: 2 }),
    createTopic(ALERTS_PAIR),
    createTopic(ALERTS_ONE),
    createTopic(DLQ),
  ]);
  const pair = new TopicCollector([ALERTS_PAIR]);
  collectors.push(pair);
  await pair.start();

  const a = await startService(config(GROUP, ALERTS_PAIR));
  services.push(a);
  await eventually(() => partitionsOf(a).length === 6, 20_000, 'instance A to own all 6 partitions');
  const joinedAt = Date.now();
  const b = await startService(config(GROUP, ALERTS_PAIR));
  services.push(b);
  await eventually(() => partitionsOf(a).length > 0 && partitionsOf(b).length > 0 && partitionsOf(a).length + partitionsOf(b).length === 6, 20_000, 'the partitions to be split');
  // eslint-disable-next-line no-console
  console.log(`second instance joined and the group rebalanced in ${Date.now() - joinedAt} ms: A ${partitionsOf(a).join(' ')} | B ${partitionsOf(b).join(' ')}`);
  expect(new Set([...partitionsOf(a), ...partitionsOf(b)]).size).toBe(6);
  for (const s of [a, b]) expect((await s.json('/health/ready')).status).toBe(200);

  const users = ['ann', 'bob', 'cyd', 'dan', 'eve'];
  const events = Array.from({ length: 60 }, (_, i) => ({
    id: `e${i}`,
    type: i % 3 === 2 ? 'B' : 'A',
    user: users[(i * 7) % 5],
    x: (i * 5) % 7,
    timestamp: T0 + i * 250,
  }));
  await produce(KEYED, events.map((e) => ({ key: e.user, value: json(e) })));
  await produce(UNKEYED, events.map((e, i) => ({ partition: i % 2, key: null, value: json(e) })));

  const engine = new Engine();
  engine.addRule(compileRule(rule('x', 'x', 'every a=A -> b=B(x >= a.x) where timer:within(4 sec)', { partitionBy: 'user', emit: { total: 'a.x + b.x' } })));
  const expected: MatchRecord[] = events.flatMap((e) => engine.process(e));
  expect(expected.length).toBeGreaterThan(5);
  const got = alertsOf(await pair.waitFor(ALERTS_PAIR, 2 * expected.length, () => true, 30_000));
  // Both instances produced some of them.
  const byInstance = [a, b].map((s) => s.app.get(KafkaStreams).partitions().filter((p) => p.next > 0).length);
  expect(byInstance.every((n) => n > 0)).toBe(true);

  // One instance alone, another group, over the same records.
  const one = new TopicCollector([ALERTS_ONE]);
  collectors.push(one);
  await one.start();
  const single = await startService(config(`${run}-single`, ALERTS_ONE));
  services.push(single);
  const alone = alertsOf(await one.waitFor(ALERTS_ONE, 2 * expected.length, () => true, 30_000));

  await new Promise((r) => setTimeout(r, 2500)); // anything extra (a duplicate) would show up by now
  const ids = (xs: typeof got) => xs.map((x) => x.id).sort();
  expect(pair.of(ALERTS_PAIR)).toHaveLength(2 * expected.length);
  expect(one.of(ALERTS_ONE)).toHaveLength(2 * expected.length);
  expect(ids(got)).toEqual(ids(alone));
  expect(new Set(ids(got)).size).toBe(got.length);
  for (const r of ['keyed-pairs', 'repartitioned-pairs']) {
    expect(got.filter((x) => x.rule === r).map((x) => [x.key, x.time, x.fields]).sort()).toEqual(
      expected.map((m) => [m.key, m.time, m.fields]).sort(),
    );
  }
});
