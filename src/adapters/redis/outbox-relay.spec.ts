import type { Alert } from '../../core/ports/alert';
import type { CheckpointStore, TopicPartition } from '../../core/ports/checkpoint-store';
import { MemoryCheckpointStore } from '../memory/memory-checkpoint-store';
import { OutboxRelay } from './outbox-relay';

const tp: TopicPartition = { topic: 'events', partition: 2 };
const alert = (id: string): Alert => ({ id, rule: 'r', ruleVersion: 1, key: 'k', time: 1, events: {}, fields: {}, severity: 'warning', labels: {} });

async function storeWith(ids: string[]): Promise<{ store: MemoryCheckpointStore; epoch: number; add(more: string[]): Promise<void> }> {
  const store = new MemoryCheckpointStore();
  const { epoch } = await store.load(tp);
  let offset = 0;
  const add = async (more: string[]) => {
    offset += more.length;
    await store.commit(tp, { epoch, nextOffset: String(offset), clock: 1, changed: [], deleted: [], alerts: more.map(alert) });
  };
  await add(ids);
  return { store, epoch, add };
}

const until = async (cond: () => boolean | Promise<boolean>, ms = 3000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('OutboxRelay', () => {
  it('publishes in commit order, in batches, and acks only after publish resolved', async () => {
    const { store } = await storeWith(['a', 'b', 'c', 'd', 'e']);
    const calls: string[][] = [];
    const pendingAtPublish: number[] = [];
    const relay = new OutboxRelay({
      store,
      partition: tp,
      batchSize: 2,
      publish: async (alerts) => {
        pendingAtPublish.push(await store.outboxSize(tp));
        calls.push(alerts.map((a) => a.id));
      },
    }).start();
    await relay.drain();
    await relay.stop();
    expect(calls).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(pendingAtPublish).toEqual([5, 3, 1]); // nothing acked before its publish
    expect(await store.outboxSize(tp)).toBe(0);
    expect(relay.stats).toMatchObject({ published: 5, acked: 5, failures: 0 });
  });

  it('retries a failing publish with backoff and re-sends the same ids; nothing is lost or acked early', async () => {
    const { store } = await storeWith(['a', 'b']);
    const calls: string[][] = [];
    const errors: string[] = [];
    let failures = 3;
    const relay = new OutboxRelay({
      store,
      partition: tp,
      initialBackoffMs: 5,
      publish: async (alerts) => {
        calls.push(alerts.map((a) => a.id));
        if (failures-- > 0) throw new Error('broker down');
      },
      onError: (e, stage) => errors.push(`${stage}: ${(e as Error).message}`),
    }).start();
    await relay.drain();
    await relay.stop();
    expect(calls).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b'], ['a', 'b']]);
    expect(errors).toEqual(['publish: broker down', 'publish: broker down', 'publish: broker down']);
    expect(await store.outboxSize(tp)).toBe(0);
    expect(relay.stats.consecutiveFailures).toBe(0);
  });

  it('backs off exponentially up to the cap', async () => {
    const { store } = await storeWith(['a']);
    const times: number[] = [];
    const relay = new OutboxRelay({
      store,
      partition: tp,
      initialBackoffMs: 20,
      maxBackoffMs: 80,
      publish: async () => {
        times.push(Date.now());
        throw new Error('no');
      },
    }).start();
    await until(() => times.length >= 6);
    await relay.stop();
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(15);
    expect(gaps[1]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThanOrEqual(75);
    expect(Math.max(...gaps)).toBeLessThan(200);
  });

  it('store failures (read and ack) are retried; a crash between publish and ack re-sends with the same ids', async () => {
    const { store } = await storeWith(['a', 'b']);
    let readFailures = 1;
    let ackFailures = 100;
    const flaky: CheckpointStore = Object.assign(Object.create(store) as CheckpointStore, {
      pendingAlerts: (p: TopicPartition, n: number) => (readFailures-- > 0 ? Promise.reject(new Error('read down')) : store.pendingAlerts(p, n)),
      ackAlerts: (p: TopicPartition, ids: readonly string[]) => (ackFailures-- > 0 ? Promise.reject(new Error('ack down')) : store.ackAlerts(p, ids)),
    });
    const first: string[][] = [];
    const stages: string[] = [];
    const relay = new OutboxRelay({
      store: flaky,
      partition: tp,
      initialBackoffMs: 2,
      publish: async (a) => void first.push(a.map((x) => x.id)),
      onError: (_e, stage) => stages.push(stage),
    }).start();
    await until(() => stages.filter((s) => s === 'ack').length >= 2);
    // The replica dies before any ack got through: the alerts are still in the outbox.
    await relay.stop();
    expect(first).toEqual([['a', 'b']]);
    expect(stages[0]).toBe('read');
    expect(await store.outboxSize(tp)).toBe(2);

    const second: string[][] = [];
    const next = new OutboxRelay({ store, partition: tp, publish: async (a) => void second.push(a.map((x) => x.id)) }).start();
    await next.drain();
    await next.stop();
    expect(second).toEqual([['a', 'b']]); // re-sent with the same ids: consumers de-duplicate
    expect(await store.outboxSize(tp)).toBe(0);
  });

  it('stop() lets the publish in flight finish and acks it, then publishes nothing more', async () => {
    const { store, add } = await storeWith(['a']);
    let release!: () => void;
    const calls: string[][] = [];
    const relay = new OutboxRelay({
      store,
      partition: tp,
      publish: (alerts) => {
        calls.push(alerts.map((a) => a.id));
        return new Promise<void>((r) => (release = r));
      },
    }).start();
    await until(() => calls.length === 1);
    const stopped = relay.stop();
    await add(['b']);
    release();
    await stopped;
    expect(relay.isRunning).toBe(false);
    expect(calls).toEqual([['a']]);
    expect((await store.pendingAlerts(tp, 10)).map((a) => a.id)).toEqual(['b']);
  });

  it('notify() wakes an idle relay at once instead of waiting for the next poll', async () => {
    const { store, add } = await storeWith([]);
    const calls: string[][] = [];
    const relay = new OutboxRelay({ store, partition: tp, idleMs: 60_000, publish: async (a) => void calls.push(a.map((x) => x.id)) }).start();
    await until(() => relay.idle);
    await add(['x']);
    const t0 = Date.now();
    relay.notify();
    await until(() => calls.length === 1);
    expect(Date.now() - t0).toBeLessThan(500);
    await add(['y']);
    await relay.drain();
    expect(calls).toEqual([['x'], ['y']]);
    await relay.stop();
  });

  describe('alerts handed over by committed()', () => {
    /** The store, counting the alerts its reads return; `gate` (when set) holds each read's answer until released. */
    function counting(store: CheckpointStore) {
      const seen = { reads: 0, alertsRead: 0 };
      let gate: Promise<void> | undefined;
      const wrapped: CheckpointStore = Object.assign(Object.create(store) as CheckpointStore, {
        pendingAlerts: async (p: TopicPartition, n: number) => {
          seen.reads++;
          const read = await store.pendingAlerts(p, n);
          if (gate) await gate;
          seen.alertsRead += read.length;
          return read;
        },
      });
      return { wrapped, seen, hold: (g: Promise<void> | undefined) => (gate = g) };
    }

    it('are published from memory, in order, without reading them back, once the outbox was read whole', async () => {
      const { store, add } = await storeWith([]);
      const { wrapped, seen } = counting(store);
      const calls: string[][] = [];
      const relay = new OutboxRelay({ store: wrapped, partition: tp, idleMs: 60_000, publish: async (a) => void calls.push(a.map((x) => x.id)) }).start();
      await until(() => relay.idle);
      await add(['x', 'y']);
      relay.committed(['x', 'y'].map(alert));
      await add(['z']);
      relay.committed([alert('z')]);
      await relay.drain();
      await relay.stop();
      expect(calls.flat()).toEqual(['x', 'y', 'z']);
      expect(seen.alertsRead).toBe(0);
      expect(await store.outboxSize(tp)).toBe(0);
    });

    it('an alert committed while a read is in flight is published once, whether or not the read saw it', async () => {
      for (const readSeesIt of [true, false]) {
        const { store, add } = await storeWith(['a']);
        const { wrapped, hold } = counting(store);
        let release: (() => void) | undefined;
        const delayedStore: CheckpointStore = readSeesIt
          ? Object.assign(Object.create(wrapped) as CheckpointStore, {
              // The first read reaches the store only after 'b' was committed and handed over.
              pendingAlerts: async (p: TopicPartition, n: number) => {
                if (!release) await new Promise<void>((r) => (release = r));
                return wrapped.pendingAlerts(p, n);
              },
            })
          : wrapped;
        if (!readSeesIt) hold(new Promise<void>((r) => (release = r)));
        const published: string[] = [];
        const relay = new OutboxRelay({ store: delayedStore, partition: tp, idleMs: 60_000, publish: async (a) => void published.push(...a.map((x) => x.id)) }).start();
        await until(() => release !== undefined);
        await add(['b']);
        relay.committed([alert('b')]);
        hold(undefined);
        release!();
        await until(() => published.length >= 2);
        await relay.drain();
        await relay.stop();
        expect(published).toEqual(['a', 'b']);
        expect(await store.outboxSize(tp)).toBe(0);
      }
    });

    it('an alert a read already returned is not queued again when its committed() comes after the read', async () => {
      const { store, add } = await storeWith(['a']);
      await add(['b']); // committed, but its committer has not called committed() yet
      let release!: () => void;
      const published: string[] = [];
      const relay = new OutboxRelay({
        store,
        partition: tp,
        idleMs: 60_000,
        publish: async (a) => {
          published.push(...a.map((x) => x.id));
          if (published.length === 2) await new Promise<void>((r) => (release = r));
        },
      }).start();
      await until(() => published.length === 2);
      relay.committed([alert('b')]);
      release();
      await relay.drain();
      await relay.stop();
      expect(published).toEqual(['a', 'b']);
      expect(await store.outboxSize(tp)).toBe(0);
    });

    it('an alert only in the store (its commit reply was lost) is published within idleMs while memory never runs dry', async () => {
      const { store, add } = await storeWith([]);
      const published: string[] = [];
      const relay = new OutboxRelay({
        store,
        partition: tp,
        idleMs: 100,
        batchSize: 1,
        publish: async (a) => {
          await new Promise((r) => setTimeout(r, 10));
          published.push(...a.map((x) => x.id));
        },
      }).start();
      await until(() => relay.idle);
      await add(['orphan']);
      const feedingUntil = Date.now() + 600;
      for (let i = 0; Date.now() < feedingUntil; i++) {
        await add([`m${i}`, `m${i}b`]);
        relay.committed([alert(`m${i}`), alert(`m${i}b`)]);
        await new Promise((r) => setTimeout(r, 5));
      }
      const publishedWhileFed = [...published];
      await relay.drain();
      await relay.stop();
      expect(publishedWhileFed).toContain('orphan');
      expect(published.filter((id) => id === 'orphan')).toHaveLength(1);
      expect(await store.outboxSize(tp)).toBe(0);
    });

    it('past maxInMemoryBytes the memory copy is dropped and the store is read again; nothing is lost or sent twice', async () => {
      const { store, add } = await storeWith([]);
      const { wrapped, seen } = counting(store);
      let release: (() => void) | undefined;
      const published: string[] = [];
      const relay = new OutboxRelay({
        store: wrapped,
        partition: tp,
        idleMs: 60_000,
        batchSize: 3,
        maxInMemoryBytes: 5 * JSON.stringify(alert('m00')).length,
        publish: async (a) => {
          // The first publish hangs (Kafka down) while commits go on.
          if (published.length === 0 && !release) await new Promise<void>((r) => (release = r));
          published.push(...a.map((x) => x.id));
        },
      }).start();
      await until(() => relay.idle);
      await add(['m00']);
      relay.committed([alert('m00')]);
      await until(() => release !== undefined);
      const readBefore = seen.alertsRead;
      for (let i = 1; i < 10; i++) {
        const id = `m0${i}`;
        await add([id]);
        relay.committed([alert(id)]);
      }
      release!();
      await relay.drain();
      await relay.stop();
      expect(published).toEqual(Array.from({ length: 10 }, (_, i) => `m0${i}`));
      expect(seen.alertsRead - readBefore).toBeGreaterThan(0); // the dropped memory copy was replaced by reads
      expect(await store.outboxSize(tp)).toBe(0);
    });

    it('alerts left from before start() go first; memory is used only after the outbox was read whole', async () => {
      const { store, add } = await storeWith(['a', 'b', 'c', 'd', 'e']);
      const published: string[] = [];
      const relay = new OutboxRelay({ store, partition: tp, batchSize: 2, publish: async (a) => void published.push(...a.map((x) => x.id)) }).start();
      await add(['f', 'g']);
      relay.committed(['f', 'g'].map(alert));
      await relay.drain();
      await add(['h']);
      relay.committed([alert('h')]);
      await relay.drain();
      await relay.stop();
      expect(published).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
      expect(await store.outboxSize(tp)).toBe(0);
    });

    it('a failing publish from memory is retried with the same alerts, and they are acked only after it went through', async () => {
      const { store, add } = await storeWith([]);
      const calls: string[][] = [];
      let failures = 2;
      const relay = new OutboxRelay({
        store,
        partition: tp,
        idleMs: 60_000,
        initialBackoffMs: 2,
        publish: async (a) => {
          calls.push(a.map((x) => x.id));
          expect(await store.outboxSize(tp)).toBe(a.length);
          if (failures-- > 0) throw new Error('broker down');
        },
      }).start();
      await until(() => relay.idle);
      await add(['x']);
      relay.committed([alert('x')]);
      await relay.drain();
      await relay.stop();
      expect(calls).toEqual([['x'], ['x'], ['x']]);
      expect(await store.outboxSize(tp)).toBe(0);
    });

    it('under random commits, read delays and publish failures, every committed alert is published, in commit order, and the outbox ends empty', async () => {
      let seed = 7;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let run = 0; run < 30; run++) {
        const initial = Array.from({ length: Math.floor(random() * 5) }, (_, i) => `r${run}-old${i}`);
        const { store, add } = await storeWith(initial);
        const slow: CheckpointStore = Object.assign(Object.create(store) as CheckpointStore, {
          pendingAlerts: async (p: TopicPartition, n: number) => {
            if (random() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(random() * 3)));
            const read = await store.pendingAlerts(p, n);
            if (random() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(random() * 3)));
            return read;
          },
        });
        const succeeded: string[] = [];
        const relay = new OutboxRelay({
          store: slow,
          partition: tp,
          batchSize: 1 + Math.floor(random() * 3),
          idleMs: 5,
          initialBackoffMs: 1,
          publish: async (a) => {
            if (random() < 0.2) throw new Error('broker hiccup');
            succeeded.push(...a.map((x) => x.id));
          },
        }).start();
        const committed = [...initial];
        for (let c = 0; c < 8; c++) {
          const ids = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => `r${run}-c${c}-${i}`);
          await add(ids);
          relay.committed(ids.map(alert));
          committed.push(...ids);
          if (random() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(random() * 4)));
        }
        await until(() => succeeded.length >= committed.length && relay.idle);
        await relay.stop();
        // A failed publish is retried with the same alerts, so a successful publish never repeats one.
        expect(succeeded).toEqual(committed);
        expect(await store.outboxSize(tp)).toBe(0);
      }
    });
  });
});
