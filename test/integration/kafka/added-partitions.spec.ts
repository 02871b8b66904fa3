/**
 * Partitions added to a source topic while the service runs: kafkajs rejoins the group once its metadata
 * shows them, which by default it refreshes every 5 minutes; the service refreshes it every topicRecheckMs
 * and plans its topology again (a repartitioned stream then waits for the new source partition too).
 */
import { produce, uniqueName, withAdmin } from '../../support/kafka';
import { eventIdsOf, joined, rule, sourceWithOutputs, startStreams, testOptions } from './support';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const json = (v: unknown) => JSON.stringify(v);

async function addedPartitionIsRead(keyed: boolean): Promise<void> {
  const { source, topics, collector } = await sourceWithOutputs(keyed ? 'grow' : 'grow-rep', 2);
  // The old partitions stay silent: the repartitioned rule's watermark moves once each says it is caught up.
  const s = startStreams(testOptions(uniqueName('grow-group'), topics, { KAFKA_SOURCES: json({ '*': { idleTimeout: 'off' } }) }), [
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
    expect(eventIdsOf(records)).toEqual([['a', 'b']]);
    expect(s.logs.some((l) => l.msg === 'source topics changed their partition count: planning again')).toBe(true);
  } finally {
    await s.stop();
    await collector.stop();
  }
}

it('a partition added to a source topic while the service runs is assigned and read (rule keyed like the topic)', async () => {
  await addedPartitionIsRead(true);
});

it('the same for a rule that repartitions the source: the new partition is read and its events reach the merged stream', async () => {
  await addedPartitionIsRead(false);
});
