import type { Alert } from '../../core/ports/alert';
import { allStoredKeys, type TopicPartition } from '../../core/ports/checkpoint-store';
import { MemoryCheckpointStore } from '../memory/memory-checkpoint-store';
import { OrphanSweep, type OrphanSweepOptions } from './orphan-sweep';

const alert = (id: string): Alert => ({ id, rule: 'r', ruleVersion: 1, key: 'k', time: 1, events: {}, fields: {}, severity: 'warning', labels: {} });
const snap = { v: 1, ended: false, seq: 1, events: [], root: null } as never;
const HOUR = 3_600_000;

/** A store holding one committed partition per given topic/partition, each with a key and the given alerts. */
async function storeWith(parts: Array<{ tp: TopicPartition; alerts?: string[] }>): Promise<MemoryCheckpointStore> {
  const store = new MemoryCheckpointStore();
  for (const { tp, alerts = [] } of parts) {
    const { epoch } = await store.load(tp);
    await store.commit(tp, { epoch, nextOffset: '10', clock: 1, changed: [{ rule: 'r', version: 1, key: 'k', snapshot: snap }], deleted: [], alerts: alerts.map(alert) });
  }
  return store;
}

const stored = async (store: MemoryCheckpointStore) =>
  (await store.storedPartitions()).map((p) => `${p.tp.topic}/${p.tp.partition}`).sort();

function sweepOf(store: MemoryCheckpointStore, o: Partial<OrphanSweepOptions> = {}) {
  const published: string[] = [];
  const sweep = new OrphanSweep({
    store,
    assigned: async () => new Set<string>(),
    reading: () => new Set<string>(),
    publish: async (alerts) => {
      published.push(...alerts.map((a) => a.id));
    },
    afterMs: HOUR,
    now: () => Date.now() + HOUR,
    ...o,
  });
  return { sweep, published };
}

const old = { topic: 'old', partition: 0 };

describe('OrphanSweep', () => {
  it('publishes the alerts left in an unread, unassigned partition, then removes all of it', async () => {
    const store = await storeWith([{ tp: old, alerts: ['a', 'b', 'c'] }, { tp: { topic: 'old', partition: 1 } }]);
    const { sweep, published } = sweepOf(store);
    const report = await sweep.run();
    expect(published).toEqual(['a', 'b', 'c']);
    expect(report).toEqual({ dropped: [old, { topic: 'old', partition: 1 }], kept: [], published: 3 });
    expect(await stored(store)).toEqual([]);
    // A later owner starts as on a first deploy.
    expect(await store.load(old)).toMatchObject({ nextOffset: null, state: null, outboxSize: 0 });
  });

  it('leaves partitions alone that this replica reads, that a member has assigned, or that committed within afterMs', async () => {
    const store = await storeWith([{ tp: { topic: 'mine', partition: 0 } }, { tp: { topic: 'theirs', partition: 4 } }, { tp: old }]);
    const { sweep } = sweepOf(store, {
      reading: () => new Set(['mine']),
      assigned: async () => new Set(['theirs/4', 'mine/0']),
      now: () => Date.now() + HOUR - 60_000,
    });
    expect(await sweep.run()).toEqual({ dropped: [], kept: [], published: 0 });
    const later = sweepOf(store, { reading: () => new Set(['mine']), assigned: async () => new Set(['theirs/4', 'mine/0']) });
    expect(await later.sweep.run()).toEqual({ dropped: [old], kept: [{ tp: { topic: 'theirs', partition: 4 }, reason: 'assigned' }], published: 0 });
    expect(await stored(store)).toEqual(['mine/0', 'theirs/4']);
  });

  it('decides nothing while the assignment is unknown (the group is rebalancing): the partition is not even taken', async () => {
    const store = await storeWith([{ tp: old, alerts: ['a'] }]);
    const before = (await store.load(old)).epoch;
    const { sweep, published } = sweepOf(store, { assigned: async () => null });
    expect(await sweep.run()).toEqual({ dropped: [], kept: [{ tp: old, reason: 'unknown_assignment' }], published: 0 });
    expect(published).toEqual([]);
    // The owner that loaded last can still commit: nothing fenced it.
    await store.commit(old, { epoch: before, nextOffset: '11', clock: 2, changed: [], deleted: [], alerts: [] });
  });

  it('keeps a partition a member got between the two looks, with its state and alerts', async () => {
    const store = await storeWith([{ tp: old, alerts: ['a'] }]);
    const looks = [new Set<string>(), new Set(['old/0'])];
    const { sweep, published } = sweepOf(store, { assigned: async () => looks.shift() ?? null });
    expect(await sweep.run()).toEqual({ dropped: [], kept: [{ tp: old, reason: 'assigned' }], published: 0 });
    expect(published).toEqual([]);
    const owner = await store.load(old);
    expect(owner).toMatchObject({ nextOffset: '10', outboxSize: 1 });
    expect((await allStoredKeys(owner.state!)).map((k) => k.key)).toEqual(['k']);
  });

  it('removes nothing when another owner loads the partition while its alerts are published', async () => {
    const store = await storeWith([{ tp: old, alerts: ['a'] }]);
    const { sweep } = sweepOf(store, {
      publish: async () => {
        await store.load(old);
      },
    });
    expect(await sweep.run()).toEqual({ dropped: [], kept: [{ tp: old, reason: 'fenced' }], published: 1 });
    expect(await stored(store)).toEqual(['old/0']);
    expect((await store.load(old)).nextOffset).toBe('10');
  });

  it('keeps the partition with its outbox when publishing fails, and reports why', async () => {
    const store = await storeWith([{ tp: old, alerts: ['a', 'b'] }]);
    const { sweep } = sweepOf(store, {
      drainTimeoutMs: 300,
      publish: async () => {
        throw new Error('broker away');
      },
    });
    const report = await sweep.run();
    expect(report.dropped).toEqual([]);
    expect(report.kept).toEqual([{ tp: old, reason: 'error', error: expect.objectContaining({ message: expect.stringMatching(/old:0 failed: broker away/) }) }]);
    expect(await store.outboxSize(old)).toBe(2);
    expect(await stored(store)).toEqual(['old/0']);
  });

  it('stops before the next partition once the service is stopping, leaving the rest for later', async () => {
    const store = await storeWith([{ tp: old }, { tp: { topic: 'old', partition: 1 } }]);
    let stopping = false;
    const { sweep } = sweepOf(store, {
      assigned: async () => {
        stopping = true; // the service starts stopping while the first partition is being swept
        return new Set<string>();
      },
      stopped: () => stopping,
    });
    const report = await sweep.run();
    expect(report.dropped.length + report.kept.length).toBeLessThan(2);
    expect((await stored(store)).length).toBeGreaterThanOrEqual(1);
  });
});

