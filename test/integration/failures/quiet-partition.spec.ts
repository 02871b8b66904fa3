/**
 * A partition that has read nothing since its load, with no checkpoint in Redis, writes no checkpoint (real
 * broker and Redis, in process). Its offset is no position yet: a checkpoint at 0, which idle ticks used to
 * write, sent the next owner to the partition's start instead of the group's offset, so records the group had
 * consumed before came again (or, past the log start, an offset reset could skip records).
 */
import { produce, testKafka } from '../../support/kafka';
import { eventually, rule } from '../kafka/support';
import { sleep } from './support';
import { freshScenario, inProcessSuite, startCheckpointed } from './in-process';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const suite = inProcessSuite();

it('a quiet partition with nothing read writes no checkpoint: the next owner starts from the group offset, not from 0', async () => {
  // Two partitions: a topic without keyedBy is re-partitioned by the rule's field (a one-partition topic is not).
  const { source, ...setup } = await freshScenario('quiet', 2);
  const { group, prefix } = setup;
  const event = (i: number) => ({ partition: 0, key: `u${i}`, value: JSON.stringify({ type: 'A', user: `u${i}`, timestamp: T0 + i * 10 }) });
  // Records the group consumed before Cepheus (its committed offset is past them).
  await produce(source, [0, 1, 2, 3, 4].map(event));
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId: group, topic: source, partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '0' }] });
  } finally {
    await admin.disconnect();
  }
  // No keyedBy: events are re-partitioned by user, in event time, so a quiet source partition sends idle marks.
  const defs = [rule('each', source, 'every a=A', { partitionBy: 'user' })];
  const start = async () => {
    const s = startCheckpointed(setup, defs);
    suite.track(s);
    await eventually(() => s.streams.status().ready && s.logs.some((l) => l.msg === 'partition state loaded' && l.topic === source && l.partition === 0), 20_000, 'the source partition to be loaded');
    return s;
  };

  const first = await start();
  // Long enough for the idle ticks (after max(1 s, 3 × maxWait)) that used to write offset 0.
  await sleep(4000);
  for (const p of [0, 1]) expect(await suite.redis().hget(`${prefix}:{${source}:${p}}:meta`, 'offset')).toBeNull();
  await first.stop();

  const second = await start();
  await produce(source, [event(5)]);
  await eventually(() => second.feed.recent({ limit: 100 }).length >= 1, 20_000, 'the alert of the record after the group offset');
  await sleep(1000);
  expect(second.feed.recent({ limit: 100 }).map((a) => a.key)).toEqual(['u5']);
});
