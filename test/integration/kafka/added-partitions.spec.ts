/**
 * Partitions added to a source topic while the service runs: kafkajs assigns partitions only at a rebalance,
 * and nothing started one, so the new partitions were never read until a restart or a rule change.
 */
import { createTopic, produce, uniqueName, withAdmin } from '../../support/kafka';
import { alertsOf, joined, rule, startStreams, testOptions, TopicCollector } from './support';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const json = (v: unknown) => JSON.stringify(v);

async function addedPartitionIsRead(keyed: boolean): Promise<void> {
  const source = uniqueName(keyed ? 'grow-src' : 'grow-rep');
  const topics = { alerts: uniqueName('grow-alerts'), dlq: uniqueName('grow-dlq') };
  await Promise.all([createTopic(source, { partitions: 2 }), createTopic(topics.alerts), createTopic(topics.dlq)]);
  const collector = new TopicCollector([topics.alerts]);
  await collector.start();
  // idleTimeout 1 s: the old partitions stay silent, so the repartitioned rule's watermark needs the wall clock.
  const s = startStreams(testOptions(uniqueName('grow-group'), topics, { KAFKA_SOURCES: json({ '*': { idleTimeout: '1s' } }) }), [
    rule('pair', source, 'every a=A -> b=B', { partitionBy: 'k', ...(keyed ? { keyedBy: 'k' } : {}) }),
  ]);
  try {
    await joined(s, [source]);
    await withAdmin((admin) => admin.createPartitions({ topicPartitions: [{ topic: source, count: 3 }] }));
    await produce(source, [
      { partition: 2, key: 'k1', value: json({ id: 'a', type: 'A', k: 'k1', timestamp: T0 }) },
      { partition: 2, key: 'k1', value: json({ id: 'b', type: 'B', k: 'k1', timestamp: T0 + 1000 }) },
    ]);
    const records = await collector.waitFor(topics.alerts, 1, () => true, 40_000);
    expect(alertsOf(records).map((a) => Object.values(a.events).map((e) => (e as { id: string }).id))).toEqual([['a', 'b']]);
    expect(s.logs.some((l) => l.msg === 'source topics gained partitions: planning again and rejoining the group')).toBe(true);
  } finally {
    await s.stop();
    await collector.stop();
  }
}

it('a partition added to a source topic while the service runs is assigned and read (rule keyed like the topic)', async () => {
  await addedPartitionIsRead(true);
});

it('the same for a rule that repartitions the source: the new partition is read and merged', async () => {
  await addedPartitionIsRead(false);
});
