/**
 * A source topic written by a transactional producer (Kafka Streams with exactly-once, Flink, Debezium): each
 * commit leaves a transaction marker after the records, which the consumer reads as a batch with no records.
 * kafkajs does not hand such a batch to eachBatch, so a partition ending with a marker looked behind for good,
 * never said it was caught up, and held every partition of its repartition topics back.
 */
import { testKafka, uniqueName } from '../../support/kafka';
import { eventIdsOf, joined, rule, sourceWithOutputs, startStreams, testOptions } from './support';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const json = (v: unknown) => JSON.stringify(v);

it('a repartitioned rule over a transactionally written source: its source partitions say they are caught up after the commit markers', async () => {
  // Two partitions and no keyedBy: the rule repartitions the source by k.
  const { source, topics, collector } = await sourceWithOutputs('tx', 2);
  const s = startStreams(testOptions(uniqueName('tx-group'), topics, { KAFKA_SOURCES: json({ '*': { idleTimeout: 'off' } }) }), [
    rule('pair', source, 'every a=A -> b=B', { partitionBy: 'k' }),
  ]);
  const producer = testKafka().producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
  try {
    await joined(s, [source]);
    await producer.connect();
    const tx = await producer.transaction();
    // Partition 1 has only an early event: the merged watermark waits for it until it says it is caught up.
    await tx.send({ topic: source, messages: [{ partition: 1, key: 'k2', value: json({ id: 'c', type: 'C', k: 'k2', timestamp: T0 }) }] });
    await tx.send({
      topic: source,
      messages: [
        { partition: 0, key: 'k1', value: json({ id: 'a', type: 'A', k: 'k1', timestamp: T0 + 1000 }) },
        { partition: 0, key: 'k1', value: json({ id: 'b', type: 'B', k: 'k1', timestamp: T0 + 2000 }) },
      ],
    });
    await tx.commit();
    const records = await collector.waitFor(topics.alerts, 1, () => true, 30_000);
    expect(eventIdsOf(records)).toEqual([['a', 'b']]);
  } finally {
    await producer.disconnect().catch(() => undefined);
    await s.stop();
    await collector.stop();
  }
});
