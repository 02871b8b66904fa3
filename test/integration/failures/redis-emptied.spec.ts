/**
 * Redis loses a partition's checkpoint whole mid-stream (an empty Redis: restarted without persistence, or its
 * keys deleted), real broker and Redis, in process. The replica's next commit is refused as lost; the
 * partition reloads with no state and reads again from the last offset Redis had acknowledged, so the records
 * of the refused batch are processed, not skipped. A rule whose alerts need no state (one per event) shows it:
 * every event's alert arrives.
 */
import { produce } from '../../support/kafka';
import { eventually, rule } from '../kafka/support';
import { freshScenario, inProcessSuite, startCheckpointed } from './in-process';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const suite = inProcessSuite();

it('an emptied Redis: the next commit is refused as lost, the partition reads again from the last acknowledged offset; no alert is skipped', async () => {
  const { source, ...setup } = await freshScenario('emptied');
  const prefix = setup.prefix;
  const s = suite.track(startCheckpointed(setup, [rule('each', source, 'every a=A', { partitionBy: 'user', keyedBy: 'user' })]));
  await eventually(() => s.streams.status().ready && s.logs.some((l) => l.msg === 'partition state loaded'), 20_000, 'the partition to be loaded');
  const committed = async () => Number(await suite.redis().hget(`${prefix}:{${source}:0}:meta`, 'offset'));
  const alertIds = () => new Set(s.feed.recent({ limit: 1000 }).map((a) => a.id)).size;
  const events = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ key: `u${(from + i) % 7}`, value: JSON.stringify({ type: 'A', user: `u${(from + i) % 7}`, timestamp: T0 + (from + i) * 10 }) }));

  await produce(source, events(0, 50));
  await eventually(async () => (await committed()) === 50 && alertIds() === 50, 15_000, 'the first 50 alerts, checkpointed');

  // Redis loses everything of this deployment.
  const keys = await suite.redis().keys(`${prefix}:*`);
  expect(keys.length).toBeGreaterThan(0);
  await suite.redis().del(...keys);

  await produce(source, events(50, 50));
  await eventually(() => alertIds() === 100, 20_000, 'an alert for each of the 100 events');
  await eventually(async () => (await committed()) === 100, 15_000, 'a new checkpoint at the end');
  expect(s.logs.some((l) => l.msg.startsWith('the checkpoint store lost commits it had acknowledged'))).toBe(true);
  expect(s.logs.find((l) => l.msg.startsWith('the checkpoint store holds nothing for this partition any more'))).toMatchObject({ offset: 50 });
});
