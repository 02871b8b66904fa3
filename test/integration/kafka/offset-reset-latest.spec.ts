/**
 * KAFKA_AUTO_OFFSET_RESET=latest with a new group: a source partition that never gets a record has no
 * committed offset and no position, yet must say it is caught up, or a repartitioned rule waits for it for
 * good. It needs the group's committed offsets (none here) from the broker; an empty partition's end is its
 * log start, so it is read to its end. (A partition written to after the first ask is not covered here.)
 */
import { produce, uniqueName } from '../../support/kafka';
import { eventIdsOf, joined, rule, sourceWithOutputs, startStreams, testOptions } from './support';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const json = (v: unknown) => JSON.stringify(v);

it('with offset reset latest, an empty source partition says it is caught up: a repartitioned rule matches', async () => {
  const { source, topics, collector } = await sourceWithOutputs('latest', 2);
  const env = { KAFKA_AUTO_OFFSET_RESET: 'latest', KAFKA_SOURCES: json({ '*': { idleTimeout: 'off' } }) };
  const s = startStreams(testOptions(uniqueName('latest-group'), topics, env), [rule('pair', source, 'every a=A -> b=B', { partitionBy: 'k' })]);
  try {
    await joined(s, [source]);
    // Let the consumer make its first fetches (the start position under `latest`) before producing.
    await new Promise((r) => setTimeout(r, 1500));
    await produce(source, [
      { partition: 0, key: 'k1', value: json({ id: 'a', type: 'A', k: 'k1', timestamp: T0 }) },
      { partition: 0, key: 'k1', value: json({ id: 'b', type: 'B', k: 'k1', timestamp: T0 + 1000 }) },
    ]);
    const records = await collector.waitFor(topics.alerts, 1, () => true, 30_000);
    expect(eventIdsOf(records)).toEqual([['a', 'b']]);
  } finally {
    await s.stop();
    await collector.stop();
  }
});
