/**
 * Kafka mode on the real broker, one KafkaStreams instance (wired as the service wires it) over several
 * source topics, each scenario on its own topic and rule:
 *
 * - produce → match → alert on the alerts topic (key, headers, deterministic id from source positions)
 * - out-of-order events within maxOutOfOrderness match as if in order
 * - late events reach the DLQ (beyond allowedLateness), within it they are processed
 * - an idle partition still fires an absence rule (idleTimeout)
 * - malformed records reach the DLQ with reason, original bytes and source position; the partition flows on
 * - repartitioning gives the same alerts as pre-keyed input; one topic is read once for several rules
 * - topics are subscribed and dropped as rules change
 */
import { compileRule, Engine, type MatchRecord } from '../../../src/core/engine';
import type { Alert } from '../../../src/core/ports/alert';
import { consumeAll, createTopic, produce, uniqueName } from '../../support/kafka';
import {
  alertsOf,
  content,
  eventually,
  expectedId,
  joined,
  rule,
  startStreams,
  testOptions,
  TopicCollector,
  type TestStreams,
} from './support';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const run = uniqueName('k');
const topic = (name: string) => `${run}-${name}`;
const ALERTS = topic('alerts');
const DLQ = topic('dlq');
const GROUP = topic('group');

const T = {
  basic: topic('basic'),
  ooo: topic('ooo'),
  late: topic('late'),
  idle: topic('idle'),
  bad: topic('bad'),
  keyed: topic('keyed'),
  unkeyed: topic('unkeyed'),
  added: topic('added'),
  sparse: topic('sparse'),
};

const RULES = {
  basic: rule('basic', T.basic, 'every f=login_failed -> s=login_succeeded where timer:within(1 min)', {
    partitionBy: 'user',
    keyedBy: 'user',
    emit: { user: 's.user', ip: 'f.ip' },
    labels: { team: 'security' },
  }),
  ooo: rule('ooo', T.ooo, 'every a=A -> b=B(x != a.x) where timer:within(3 sec)', { partitionBy: 'k', keyedBy: 'k', severity: 'info' }),
  late: rule('late', T.late, 'every a=A -> b=B', { partitionBy: 'k', keyedBy: 'k' }),
  idle: rule('idle', T.idle, 'every a=A -> (timer:interval(2 sec) and not b=B)', { partitionBy: 'k', keyedBy: 'k' }),
  bad: rule('bad', T.bad, 'every a=A -> b=B', { partitionBy: 'k', keyedBy: 'k' }),
  keyed: rule('by-user-keyed', T.keyed, 'every a=A -> b=B(x >= a.x) where timer:within(4 sec)', {
    partitionBy: 'user',
    keyedBy: 'user',
    emit: { total: 'a.x + b.x' },
  }),
  unkeyed: rule('by-user-repartitioned', T.unkeyed, 'every a=A -> b=B(x >= a.x) where timer:within(4 sec)', {
    partitionBy: 'user',
    emit: { total: 'a.x + b.x' },
  }),
  unkeyedBySession: rule('by-session', T.unkeyed, 'every a=A -> b=B', { partitionBy: 'session' }),
  sparse: rule('sparse', T.sparse, 'every a=A -> b=B', { partitionBy: 'k' }),
};

const SOURCES = {
  '*': { idleTimeout: '30s' },
  [T.ooo]: { maxOutOfOrderness: '5s', idleTimeout: '1s' },
  [T.late]: { allowedLateness: '2s' },
  [T.idle]: { idleTimeout: '1s' },
  [T.keyed]: { idleTimeout: '1s' },
  [T.unkeyed]: { idleTimeout: '1s' }, // no disorder bound: merging source partitions adds none
};

let s: TestStreams;
let collector: TopicCollector;
const json = (v: unknown) => JSON.stringify(v);

beforeAll(async () => {
  const started = Date.now();
  await Promise.all([
    createTopic(T.basic, { partitions: 2 }),
    createTopic(T.ooo),
    createTopic(T.late),
    createTopic(T.idle),
    createTopic(T.bad),
    createTopic(T.keyed, { partitions: 2 }),
    createTopic(T.unkeyed, { partitions: 2 }),
    createTopic(T.sparse, { partitions: 3 }),
    createTopic(ALERTS, { partitions: 2 }),
    createTopic(DLQ),
  ]);
  collector = new TopicCollector([ALERTS, DLQ]);
  await collector.start();
  const options = testOptions(GROUP, { alerts: ALERTS, dlq: DLQ }, { KAFKA_SOURCES: json(SOURCES), KAFKA_MAX_EVENT_BYTES: '1KiB' });
  s = startStreams(options, Object.values(RULES), { maxEventFutureMs: 86_400_000 });
  await joined(s, [T.basic, T.ooo, T.late, T.idle, T.bad, T.keyed, T.unkeyed, T.sparse]);
  // eslint-disable-next-line no-console
  console.log(`topics created and consumer joined in ${Date.now() - started} ms`);
});

afterAll(async () => {
  await s?.stop();
  await collector?.stop();
});

const alertsFor = (ruleId: string) => collector.of(ALERTS, (m) => m.headers.rule === ruleId);

/** Positions (`topic/partition/offset`) of the records of a topic, by the event's `id`. */
async function positions(t: string, n: number): Promise<Map<string, string>> {
  const got = await consumeAll(t, n);
  return new Map(got.map((m) => [(JSON.parse(m.value!) as { id: string }).id, `${m.topic}/${m.partition}/${m.offset}`]));
}

/** The matches an engine gives for the events in time order (what `cepheus replay` prints). */
function inOrder(defs: Parameters<typeof compileRule>[0], events: Array<Record<string, unknown>>, until?: number): MatchRecord[] {
  const engine = new Engine();
  engine.addRule(compileRule(defs));
  const out: MatchRecord[] = [];
  for (const e of [...events].sort((a, b) => (a.timestamp as number) - (b.timestamp as number))) out.push(...engine.process(e));
  if (until !== undefined) out.push(...engine.advanceTo(until));
  return out;
}

const tagIds = (m: MatchRecord | Alert) => Object.values(m.events).map((e) => (Array.isArray(e) ? e.map((x) => x.id) : e?.id ?? null));

describe('Kafka streams on a real broker', () => {
  it('produces an alert per match on the alerts topic: rule key, rule/severity headers, deterministic id', async () => {
    // In time order within each partition (the watermark is per partition).
    const events = [
      ...['u1', 'u2'].map((user, i) => ({ id: `f-${user}`, type: 'login_failed', user, ip: `10.0.0.${i}`, timestamp: T0 + 1000 })),
      ...['u1', 'u2'].map((user) => ({ id: `s-${user}`, type: 'login_succeeded', user, timestamp: T0 + 2000 })),
    ];
    const t0 = Date.now();
    await produce(T.basic, events.map((e) => ({ key: e.user, value: json(e) })));
    const records = await collector.waitFor(ALERTS, 2, (m) => m.headers.rule === 'basic');
    // eslint-disable-next-line no-console
    console.log(`produce → alert on the alerts topic: ${Date.now() - t0} ms`);
    const pos = await positions(T.basic, 4);
    for (const r of records) {
      const alert = JSON.parse(r.value!) as Alert;
      expect(r.key).toBe(alert.key);
      expect(r.headers).toEqual({ rule: 'basic', severity: 'critical' });
      expect(alert).toMatchObject({
        rule: 'basic',
        ruleVersion: 1,
        severity: 'critical',
        labels: { team: 'security' },
        time: T0 + 2000,
        fields: { user: alert.key, ip: alert.key === 'u1' ? '10.0.0.0' : '10.0.0.1' },
      });
      expect(alert.id).toBe(expectedId('basic', 1, alert.key, [pos.get(`f-${alert.key}`)!, pos.get(`s-${alert.key}`)!]));
    }
    expect(records.map((r) => r.key).sort()).toEqual(['u1', 'u2']);
    // The same alerts reach the in-memory feed of GET /alerts.
    expect(s.feed.recent({ rule: 'basic', limit: 10 }).map((a) => a.id).sort()).toEqual(alertsOf(records).map((a) => a.id).sort());
  });

  it('matches events arriving out of order within maxOutOfOrderness as if they were in order', async () => {
    // Event times 0..19 s; each arrives up to 4 s late relative to the newest one (bound: 5 s).
    const base = Array.from({ length: 20 }, (_, i) => ({
      id: `o${i}`,
      type: i % 3 === 2 ? 'B' : 'A',
      k: i % 2 ? 'k1' : 'k2',
      x: (i * 7) % 5,
      timestamp: T0 + i * 1000,
    }));
    const delays = base.map((_, i) => ((i * 13) % 5) * 1000);
    const arrival = [...base].sort((a, b) => a.timestamp + delays[base.indexOf(a)] - (b.timestamp + delays[base.indexOf(b)]));
    expect(arrival.map((e) => e.id)).not.toEqual(base.map((e) => e.id));
    await produce(T.ooo, arrival.map((e) => ({ key: e.k, value: json(e) })));

    const expected = inOrder(RULES.ooo, base);
    expect(expected.length).toBeGreaterThanOrEqual(4);
    const records = await collector.waitFor(ALERTS, expected.length, (m) => m.headers.rule === 'ooo');
    const got = alertsOf(records);
    const pos = await positions(T.ooo, base.length);
    expect(got.map((a) => [a.key, a.time, tagIds(a), a.fields])).toEqual(expected.map((m) => [m.key, m.time, tagIds(m), m.fields]));
    for (const a of got) expect(a.id).toBe(expectedId('ooo', 1, a.key, tagIds(a).map((id) => pos.get(id as string)!)));
    expect(collector.of(DLQ, (m) => m.headers['cepheus.source.topic'] === T.ooo)).toEqual([]);
  });

  it('sends events later than allowedLateness behind the watermark to the DLQ with reason late', async () => {
    const events = [
      { id: 'a1', type: 'A', k: 'k1', timestamp: T0 + 10_000 },
      { id: 'b1', type: 'B', k: 'k1', timestamp: T0 + 9_000 }, // 1 s late: within allowedLateness (2 s)
      { id: 'a2', type: 'A', k: 'k2', timestamp: T0 + 5_000 }, // 5 s late: dead-lettered
      { id: 'b2', type: 'B', k: 'k2', timestamp: T0 + 11_000 },
    ];
    await produce(T.late, events.map((e) => ({ key: e.k, value: json(e), headers: { trace: e.id } })));
    const dead = await collector.waitFor(DLQ, 1, (m) => m.headers['cepheus.source.topic'] === T.late);
    expect(dead).toHaveLength(1);
    expect(dead[0].value).toBe(json(events[2]));
    expect(dead[0].key).toBe('k2');
    expect(dead[0].headers).toMatchObject({
      'cepheus.reason': 'late',
      'cepheus.source.topic': T.late,
      'cepheus.source.partition': '0',
      'cepheus.source.offset': '2',
      trace: 'a2',
    });
    const records = await collector.waitFor(ALERTS, 1, (m) => m.headers.rule === 'late');
    // The accepted late event matched, processed at the watermark; k2's A was dropped, so no match there.
    expect(alertsOf(records).map((a) => [a.key, a.time, tagIds(a)])).toEqual([['k1', T0 + 10_000, ['a1', 'b1']]]);
  });

  it('fires an absence rule on an idle partition as its watermark follows the wall clock', async () => {
    const t0 = Date.now();
    await produce(T.idle, [{ key: 'k1', value: json({ id: 'i1', type: 'A', k: 'k1', timestamp: T0 }) }]);
    const records = await collector.waitFor(ALERTS, 1, (m) => m.headers.rule === 'idle', 15_000);
    const elapsed = Date.now() - t0;
    // eslint-disable-next-line no-console
    console.log(`absence alert on an idle partition after ${elapsed} ms (interval 2 s, idleTimeout 1 s)`);
    expect(alertsOf(records).map((a) => [a.key, a.time, tagIds(a)])).toEqual([['k1', T0 + 2000, ['i1']]]);
    expect(elapsed).toBeGreaterThanOrEqual(1900);
  });

  it('dead-letters malformed records with their reason, bytes and position, and the partition keeps flowing', async () => {
    const big = json({ type: 'A', k: 'k1', timestamp: T0, pad: 'x'.repeat(1500) });
    const bad: Array<[string | null, string]> = [
      ['not json {', 'invalid_json'],
      ['[1,2]', 'not_an_object'],
      [json({ k: 'k1', timestamp: T0 }), 'missing_type'],
      [json({ type: 'A', k: 'k1' }), 'missing_time'],
      [json({ type: 'A', k: 'k1', timestamp: true }), 'missing_time'],
      [json({ type: 7, k: 'k1', timestamp: T0 }), 'missing_type'],
      [json({ type: 'A', timestamp: T0 }), 'missing_key'],
      [json({ type: 'A', k: { nested: 1 }, timestamp: T0 }), 'missing_key'],
      // Accepted, it would move the watermark to the year 9999 and make good-b late.
      [json({ type: 'A', k: 'k1', timestamp: '9999-12-31T23:59:59Z' }), 'future_time'],
      [big, 'oversize'],
      [null, 'invalid_json'],
    ];
    await produce(T.bad, [
      { key: 'k1', value: json({ id: 'good-a', type: 'A', k: 'k1', timestamp: T0 }) },
      ...bad.map(([value]) => ({ key: 'k1', value })),
      { key: 'k1', value: json({ id: 'good-b', type: 'B', k: 'k1', timestamp: T0 + 1 }) },
    ]);
    const dead = await collector.waitFor(DLQ, bad.length, (m) => m.headers['cepheus.source.topic'] === T.bad);
    expect(dead.map((d) => [d.value, d.headers['cepheus.reason'], d.headers['cepheus.source.offset'], d.headers['cepheus.source.partition']])).toEqual(
      bad.map(([value, reason], i) => [value, reason, String(i + 1), '0']),
    );
    const records = await collector.waitFor(ALERTS, 1, (m) => m.headers.rule === 'bad');
    expect(alertsOf(records).map((a) => tagIds(a))).toEqual([['good-a', 'good-b']]);
  });

  it('repartitions a source not keyed by the partition field: the same alerts as pre-keyed input, the topic read once', async () => {
    const users = ['ann', 'bob', 'cyd'];
    const events = Array.from({ length: 36 }, (_, i) => ({
      id: `r${i}`,
      type: i % 4 === 3 ? 'B' : 'A',
      user: users[i % 3],
      session: `s${i % 2}`,
      x: (i * 5) % 7,
      timestamp: T0 + i * 300,
    }));
    // Pre-keyed: key = user. Not keyed: spread round-robin over both partitions, so a user's events are on both.
    await produce(T.keyed, events.map((e) => ({ key: e.user, value: json(e) })));
    await produce(T.unkeyed, events.map((e, i) => ({ partition: i % 2, key: null, value: json(e) })));

    const expected = inOrder(RULES.keyed, events);
    expect(expected.length).toBeGreaterThan(3);
    const keyed = alertsOf(await collector.waitFor(ALERTS, expected.length, (m) => m.headers.rule === 'by-user-keyed'));
    const repart = alertsOf(await collector.waitFor(ALERTS, expected.length, (m) => m.headers.rule === 'by-user-repartitioned'));
    const view = (a: Alert) => ({ ...content(a), rule: 'x' });
    const sort = (xs: ReturnType<typeof view>[]) => xs.sort((a, b) => json(a).localeCompare(json(b)));
    expect(sort(repart.map(view))).toEqual(sort(keyed.map(view)));
    expect(sort(keyed.map(view))).toEqual(sort(expected.map((m) => ({ ...m, rule: 'x', ruleVersion: 1, severity: 'critical', labels: {} } as never))));

    // Alert ids of the repartitioned rule name the source records, not the internal topic's.
    const pos = await positions(T.unkeyed, events.length);
    for (const a of repart) expect(a.id).toBe(expectedId('by-user-repartitioned', 1, a.key, tagIds(a).map((id) => pos.get(id as string)!)));

    // The second rule on the topic (by session) matched too, and the topic was read once for both.
    await collector.waitFor(ALERTS, 1, (m) => m.headers.rule === 'by-session');
    expect(s.received.get(T.unkeyed)).toBe(events.length);
    expect(s.streams.status().topics).toEqual(
      expect.arrayContaining([`${GROUP}-${T.unkeyed}-by-user-repartition`, `${GROUP}-${T.unkeyed}-by-session-repartition`]),
    );
  });

  it('repartitions promptly when some source partitions are empty (they say they are caught up)', async () => {
    // Default idleTimeout (30 s): the alert must not wait for it. Partitions 1 and 2 of the source stay empty.
    const t0 = Date.now();
    await produce(T.sparse, [
      { partition: 0, key: null, value: json({ id: 'sa', type: 'A', k: 'k1', timestamp: T0 }) },
      { partition: 0, key: null, value: json({ id: 'sb', type: 'B', k: 'k1', timestamp: T0 + 1 }) },
    ]);
    const records = await collector.waitFor(ALERTS, 1, (m) => m.headers.rule === 'sparse', 10_000);
    const elapsed = Date.now() - t0;
    // eslint-disable-next-line no-console
    console.log(`repartitioned alert with two empty source partitions after ${elapsed} ms`);
    expect(alertsOf(records).map(tagIds)).toEqual([['sa', 'sb']]);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('subscribes to a new rule’s topic and drops it again without a restart', async () => {
    await createTopic(T.added);
    const before = s.streams.status().topics;
    expect(before).not.toContain(T.added);
    const added = rule('added', T.added, 'every a=A -> b=B', { partitionBy: 'k', keyedBy: 'k' });
    s.setRules([...Object.values(RULES), added]);
    await joined(s, [T.added]);
    await produce(T.added, [
      { key: 'k', value: json({ id: 'n1', type: 'A', k: 'k', timestamp: T0 }) },
      { key: 'k', value: json({ id: 'n2', type: 'B', k: 'k', timestamp: T0 + 1 }) },
    ]);
    await collector.waitFor(ALERTS, 1, (m) => m.headers.rule === 'added');

    s.setRules(Object.values(RULES));
    await eventually(() => !s.streams.status().topics.includes(T.added) && s.streams.status().ready, 20_000, 'the topic to be dropped');
    expect(s.streams.status().topics).toEqual(before);
    // The other topics still flow after the re-subscription.
    await produce(T.basic, [
      { key: 'u9', value: json({ id: 'f9', type: 'login_failed', user: 'u9', ip: 'x', timestamp: T0 + 5000 }) },
      { key: 'u9', value: json({ id: 's9', type: 'login_succeeded', user: 'u9', timestamp: T0 + 6000 }) },
    ]);
    await collector.waitFor(ALERTS, 1, (m) => m.headers.rule === 'basic' && m.key === 'u9');
    expect(alertsFor('basic')).toHaveLength(3);
  });
});
