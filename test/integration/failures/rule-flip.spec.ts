/**
 * A rule changed and changed back before its partitions saw the change (two quick edits, or a rule disabled
 * and enabled again) keeps its stored state (real broker and Redis, in process). The versions to drop are
 * decided per partition, from what its engine ran: the old code queued the first version's drop globally and
 * wiped the stored keys while memory kept them, so a restart lost the open partial matches.
 */
import { ruleStateVersion } from '../../../src/adapters/redis/partition-checkpoint';
import { produce } from '../../support/kafka';
import { eventually, rule } from '../kafka/support';
import { freshScenario, inProcessSuite, startCheckpointed } from './in-process';

jest.setTimeout(60_000);

const T0 = 1_700_000_000_000;
const suite = inProcessSuite();

it('a rule changed and changed back before the partition refreshed keeps its stored state; a restart completes its partial matches', async () => {
  const { source, ...setup } = await freshScenario('flip');
  const original = rule('pairs', source, 'every a=A -> b=B', { partitionBy: 'user', keyedBy: 'user' });
  const edited = { ...original, pattern: 'every a=A -> b=C' };
  const start = async () => {
    const s = startCheckpointed(setup, [original]);
    suite.track(s);
    await eventually(() => s.streams.status().ready && s.logs.some((l) => l.msg === 'partition state loaded'), 20_000, 'the partition to be loaded');
    return s;
  };
  let seq = 0;
  const ev = (type: string, user: string) => ({ key: user, value: JSON.stringify({ type, user, timestamp: T0 + seq++ * 10 }) });
  const committed = async () => Number(await suite.redis().hget(`${setup.prefix}:{${source}:0}:meta`, 'offset'));
  const stored = () => suite.redis().hlen(`${setup.prefix}:{${source}:0}:state:pairs:${ruleStateVersion(original)}`);

  const first = await start();
  await produce(source, ['u1', 'u2', 'u3', 'u4', 'u5'].map((u) => ev('A', u)));
  await eventually(async () => (await committed()) === 5, 15_000, 'the five partial matches checkpointed');
  expect(await stored()).toBe(5);

  // Edited and edited back at once: the partition's engine never runs the edited pattern.
  first.setRules([edited]);
  first.setRules([original]);
  await new Promise((r) => setTimeout(r, 500)); // the reconcile of both
  await produce(source, [ev('A', 'u6')]);
  await eventually(async () => (await committed()) === 6, 15_000, 'a checkpoint after the edits');
  expect(await stored()).toBe(6);
  await first.stop();

  // A new instance restores the partial matches: each B completes its user's pair.
  const second = await start();
  await produce(source, ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'].map((u) => ev('B', u)));
  await eventually(() => second.feed.recent({ limit: 100 }).length >= 6, 20_000, 'six pairs from the restored state');
  expect(second.feed.recent({ limit: 100 }).map((a) => a.key).sort()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
});
