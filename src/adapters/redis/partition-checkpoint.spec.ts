import { createHash } from 'node:crypto';
import { compileRule, Engine, type EvictionSettings, type MatchRecord } from '../../core/engine';
import type { Alert } from '../../core/ports/alert';
import { splitChanges, type CheckpointCommit, type CheckpointStore } from '../../core/ports/checkpoint-store';
import { RULE_DEFAULTS, type RuleDefinition } from '../../core/rules/rule';
import { DEFAULT_STREAM_SETTINGS } from '../../core/stream/settings';
import { StreamPartition } from '../../core/stream/stream-partition';
import { watchPages } from '../../../test/support/checkpoint-pages';
import { MemoryCheckpointStore } from '../memory/memory-checkpoint-store';
import { mergeCommits, PartitionCheckpoint, rememberPositions, ruleStateVersion, withPositions } from './partition-checkpoint';

const def = (id: string, pattern: string, extra: Partial<RuleDefinition> = {}): RuleDefinition => ({
  id,
  severity: 'warning',
  source: 'events',
  emit: {},
  labels: {},
  enabled: true,
  event: { ...RULE_DEFAULTS.event },
  pattern,
  partitionBy: 'k',
  ...extra,
});

describe('ruleStateVersion', () => {
  it('is a safe integer that ignores metadata and follows the state shape', () => {
    const a = def('r', 'every a=A -> b=B');
    const v = ruleStateVersion(a);
    expect(Number.isSafeInteger(v)).toBe(true);
    const meta: RuleDefinition = { ...a, severity: 'critical', labels: { x: 'y' }, emit: { n: 'a.x' }, description: 'd' };
    expect(ruleStateVersion(meta)).toBe(v);
    expect(ruleStateVersion({ ...a, pattern: 'every a=A -> b=C' })).not.toBe(v);
    expect(ruleStateVersion({ ...a, partitionBy: 'u' })).not.toBe(v);
    expect(ruleStateVersion({ ...a, event: { typeField: 'kind', timeField: 'timestamp' } })).not.toBe(v);
    // A runtime marker only where one is given: every other rule keeps the version it had before markers.
    expect(ruleStateVersion(a, '')).toBe(v);
    expect(ruleStateVersion(a, 'general')).not.toBe(v);
  });
});

describe('positions in snapshots', () => {
  it('round-trip through JSON and are remembered for the restored objects', () => {
    const e1 = { type: 'A', k: '1' };
    const e2 = { type: 'B', k: '1' };
    const positions = new Map<unknown, string>([
      [e1, 't/0/1'],
      [e2, 't/0/2'],
    ]);
    const snap = { v: 1 as const, ended: false, seq: 1, events: [e1], root: null, sequence: { events: [e1, e2] } as never };
    const stored = JSON.parse(JSON.stringify(withPositions(snap, (e) => positions.get(e)!)));
    expect(stored.pos).toEqual(['t/0/1']);
    expect(stored.spos).toEqual(['t/0/1', 't/0/2']);
    const remembered = new Map<object, string>();
    const back = rememberPositions(stored, (e, p) => remembered.set(e, p));
    expect(back).not.toHaveProperty('pos');
    expect(back).not.toHaveProperty('spos');
    expect(remembered.get(back.events[0] as object)).toBe('t/0/1');
    expect(remembered.get((back.sequence as { events: object[] }).events[1])).toBe('t/0/2');
  });
});

describe('mergeCommits', () => {
  const alert = (id: string) => ({ id }) as Alert;
  const base: CheckpointCommit = {
    epoch: 3,
    nextOffset: '10',
    clock: 5,
    stream: { a: 1 },
    changed: [
      { rule: 'r', version: 1, key: 'x', snapshot: { seq: 1 } as never },
      { rule: 'r', version: 1, key: 'y', snapshot: { seq: 1 } as never },
      { rule: 'old', version: 7, key: 'z', snapshot: { seq: 1 } as never },
    ],
    deleted: [{ rule: 'r', version: 1, key: 'w' }],
    alerts: [alert('a1'), alert('a2')],
  };
  it('keeps the latest snapshot per key, the union of alerts in order, the largest offset', () => {
    const m = mergeCommits(base, {
      epoch: 3,
      nextOffset: '20',
      clock: 9,
      changed: [
        { rule: 'r', version: 1, key: 'x', snapshot: { seq: 2 } as never },
        { rule: 'r', version: 1, key: 'w', snapshot: { seq: 2 } as never },
      ],
      deleted: [{ rule: 'r', version: 1, key: 'y' }],
      dropVersions: [{ rule: 'old', version: 7 }],
      alerts: [alert('a2'), alert('a3')],
    });
    expect(m.nextOffset).toBe('20');
    expect(m.clock).toBe(9);
    expect(m.stream).toEqual({ a: 1 });
    expect(m.changed.map((c) => [c.key, (c.snapshot as { seq: number }).seq])).toEqual([
      ['x', 2],
      ['w', 2],
    ]);
    expect(m.deleted.map((d) => d.key)).toEqual(['y']);
    expect(m.dropVersions).toEqual([{ rule: 'old', version: 7 }]);
    expect(m.alerts.map((a) => a.id)).toEqual(['a1', 'a2', 'a3']);
  });
});

describe('PartitionCheckpoint', () => {
  const rules = [
    compileRule(def('pairs', 'every a=A -> b=B(x > a.x) where timer:within(10 sec)')),
    compileRule(def('triple', 'every a=A -> b=B -> c=C', { partitionBy: undefined })),
    compileRule(def('absent', 'every a=A(x > 8) -> (timer:interval(1 sec) and not b=B)')),
  ];
  const versionOf = (id: string) => {
    const r = rules.find((x) => x.definition.id === id);
    return r ? ruleStateVersion(r.definition) : undefined;
  };
  const events = Array.from({ length: 300 }, (_, i) => ({
    type: ['A', 'B', 'C'][(i * 7) % 3],
    k: `k${(i * i) % 13}`,
    x: (i * 37) % 11,
    timestamp: 1_000 + i * 100,
  }));

  /** A memory store that counts the key lookups (lazy reloads). */
  class CountingStore extends MemoryCheckpointStore {
    lookups: Array<{ rule: string; keys: number }> = [];
    override loadKeys(...args: Parameters<MemoryCheckpointStore['loadKeys']>) {
      this.lookups.push({ rule: args[1], keys: args[3].length });
      return super.loadKeys(...args);
    }
  }

  interface RunResult {
    published: string[];
    evicted: number;
    reloaded: number;
    /** Most resident keys seen right after an eviction pass. */
    maxResident: number;
    store: CountingStore;
  }

  /**
   * Runs the events through a partition in batches of `every` (keys reloaded before a batch, a checkpoint
   * after it, then eviction) and restarts from the checkpoint after `crashAt`.
   */
  async function run(crashAt: number | null, every = 17, eviction?: EvictionSettings): Promise<RunResult> {
    const store = new CountingStore();
    const tp = { topic: 'events', partition: 0 };
    const positions = new WeakMap<object, string>();
    const positionOf = (e: unknown) => positions.get(e as object) ?? 'unknown';
    const remember = (e: object, p: string) => positions.set(e, p);
    const idOf = (m: MatchRecord) =>
      createHash('sha256')
        .update(JSON.stringify([m.rule, m.key, Object.values(m.events).map((e) => (Array.isArray(e) ? e.map(positionOf) : e === null ? null : positionOf(e)))]))
        .digest('hex');
    const fresh = () =>
      new StreamPartition<null>({ settings: { ...DEFAULT_STREAM_SETTINGS, maxOutOfOrderness: 300 }, rules, trackChanges: true, remember });
    const result: RunResult = { published: [], evicted: 0, reloaded: 0, maxResident: 0, store };
    let partition = fresh();
    const open = async () => {
      const c = new PartitionCheckpoint({ store, tp, versionOf, positionOf, remember, eviction });
      const loaded = await c.load(partition, 0);
      result.evicted += loaded.evicted;
      return { c, next: Number(loaded.nextOffset ?? 0) };
    };
    let { c: cp, next } = await open();
    let alerts: Alert[] = [];
    let crashed = false;
    while (next < events.length) {
      const batch = events.slice(next, Math.min(events.length, (Math.floor(next / every) + 1) * every)).map((e) => ({ ...e }));
      result.reloaded += (await cp.reload(partition, batch)).restored;
      for (const event of batch) {
        const offset = next;
        partition.add({ offset, position: `events/0/${offset}`, event, raw: null }, offset * 10);
        next = offset + 1;
        for (const m of partition.take().matches) alerts.push({ id: idOf(m) } as Alert);
        if (!crashed && crashAt !== null && next === crashAt) break;
      }
      if (!crashed && crashAt !== null && next === crashAt) {
        crashed = true;
        // Lost: everything since the last checkpoint.
        partition = fresh();
        alerts = [];
        ({ c: cp, next } = await open());
        continue;
      }
      cp.stage(partition, next, alerts);
      alerts = [];
      await cp.flush();
      result.evicted += cp.evict(partition, next * 10);
      result.maxResident = Math.max(result.maxResident, partition.engineView.residentKeyCount());
      for (const a of await store.pendingAlerts(tp, 1000)) result.published.push(a.id);
      await store.ackAlerts(tp, result.published);
    }
    return result;
  }

  it('a restart from the checkpoint gives exactly the alert ids of an uninterrupted run', async () => {
    const baseline = (await run(null)).published;
    expect(baseline.length).toBeGreaterThan(20);
    for (const crashAt of [40, 123, 250]) {
      const got = (await run(crashAt)).published;
      expect([...new Set(got)]).toEqual(baseline);
    }
  });

  it('evicting every idle key after each checkpoint and reloading before each batch gives the same alert ids, restarts included', async () => {
    const baseline = await run(null);
    expect(baseline.store.lookups).toEqual([]); // nothing evicted: no lookups
    for (const crashAt of [null, 40, 123, 250]) {
      const got = await run(crashAt, 17, { idleMs: 0, maxKeys: null });
      expect([...new Set(got.published)]).toEqual(baseline.published);
      expect(got.evicted).toBeGreaterThan(50);
      expect(got.reloaded).toBeGreaterThan(50);
      // Left in memory after a pass: keys with a pending absence timer and keys of buffered events.
      expect(got.maxResident).toBeLessThan(13);
    }
  });

  it('a cap on resident keys evicts the least recently active down to 10% under it, alert ids unchanged', async () => {
    const baseline = await run(null);
    const got = await run(123, 17, { idleMs: null, maxKeys: 6 });
    expect([...new Set(got.published)]).toEqual(baseline.published);
    expect(got.evicted).toBeGreaterThan(20);
    expect(got.maxResident).toBeLessThanOrEqual(6);
  });

  it('looks keys up once per rule per batch, only for keys not in memory', async () => {
    const got = await run(null, 50, { idleMs: 0, maxKeys: null });
    const batches = Math.ceil(events.length / 50);
    // The first batch runs before anything was evicted.
    const perBatch = new Map<string, number>();
    for (const l of got.store.lookups) perBatch.set(l.rule, (perBatch.get(l.rule) ?? 0) + 1);
    expect(perBatch.get('triple')).toBeUndefined(); // unpartitioned: never evicted
    expect(perBatch.get('pairs')).toBe(batches - 1);
    expect(perBatch.get('absent')).toBe(batches - 1);
    for (const l of got.store.lookups) expect(l.keys).toBeLessThanOrEqual(13);
  });

  it('a load evicts the restored keys at once, except those with a buffered event; keys with a timer come back before the clock reaches it', async () => {
    const store = new MemoryCheckpointStore();
    const tp = { topic: 'events', partition: 0 };
    const opts = { store, tp, versionOf, positionOf: () => 'p', remember: () => undefined };
    const make = () => new StreamPartition<null>({ settings: { ...DEFAULT_STREAM_SETTINGS, maxOutOfOrderness: 500 }, rules, trackChanges: true });
    const add = (p: StreamPartition<null>, offset: number, e: Record<string, unknown>) => p.add({ offset, position: `p${offset}`, event: e, raw: null }, 0);
    const first = make();
    const cp = new PartitionCheckpoint(opts);
    await cp.load(first);
    add(first, 0, { type: 'A', k: 'timer', x: 9, timestamp: 10_000 }); // pairs, and absent with a timer at 11 000
    add(first, 1, { type: 'A', k: 'idle', x: 1, timestamp: 10_100 }); // pairs, absent (no timer)
    add(first, 2, { type: 'C', k: 'other', x: 0, timestamp: 10_700 }); // watermark 10 200: releases the two As
    add(first, 3, { type: 'B', k: 'idle', x: 2, timestamp: 10_600 }); // waits in the buffer
    cp.stage(first, 4, []);
    await cp.flush();
    expect(first.take().matches).toEqual([]);

    const second = make();
    const secondCp = new PartitionCheckpoint({ ...opts, eviction: { idleMs: 60_000, maxKeys: null } });
    const loaded = await secondCp.load(second, 1_000_000);
    // Restored: pairs/idle, pairs/timer, absent/idle, absent/timer, triple; evicted: pairs/timer and absent/timer
    // (dormant until 11 000); idle stays for the buffered B.
    expect([loaded.restored, loaded.evicted]).toEqual([5, 2]);
    expect(second.engineView.keys('pairs')).toEqual(['idle']);
    expect(second.engineView.keys('absent')).toEqual(['idle']);
    expect(second.engineView.keys('triple')).toEqual([null]);
    expect(second.engineView.nextDormantDue()).toBe(11_000);
    // As the consumer does before a batch: the C at 20 000 can take the clock past 11 000, so absent/timer
    // comes back with it; then the buffered B completes idle's pair from memory, and the absence fires.
    const batch = [{ type: 'C', k: 'other', x: 0, timestamp: 20_000 }];
    const reloaded = await secondCp.reload(second, batch, second.wakeBound(batch, [], 0, 0));
    expect(reloaded).toEqual({ looked: 1, restored: 1, woken: 1, lost: 0 });
    expect(second.engineView.keys('absent').sort()).toEqual(['idle', 'timer']);
    add(second, 4, batch[0]);
    expect(second.take().matches.filter((m) => m.key !== null).map((m) => [m.rule, m.key])).toEqual([
      ['pairs', 'idle'],
      ['absent', 'timer'],
    ]);
  });

  /** A store whose keys can disappear (as after Redis lost its data). */
  class ForgetfulStore extends MemoryCheckpointStore {
    forgotten = false;
    override async loadKeys(...args: Parameters<MemoryCheckpointStore['loadKeys']>) {
      return this.forgotten ? args[3].map(() => null) : super.loadKeys(...args);
    }
  }

  /** A partition whose key 'gone' was checkpointed and evicted with the absence rule's timer due at 11 000. */
  async function withDormantKey() {
    const store = new ForgetfulStore();
    const tp = { topic: 'events', partition: 0 };
    const cp = new PartitionCheckpoint({ store, tp, versionOf, positionOf: () => 'p', remember: () => undefined, eviction: { idleMs: 0, maxKeys: null } });
    const p = new StreamPartition<null>({ settings: { ...DEFAULT_STREAM_SETTINGS, maxOutOfOrderness: 0 }, rules, trackChanges: true });
    await cp.load(p);
    p.add({ offset: 0, position: 'p0', event: { type: 'A', k: 'gone', x: 9, timestamp: 10_000 }, raw: null }, 0);
    cp.stage(p, 1, []);
    await cp.flush();
    expect(cp.evict(p, 0)).toBeGreaterThan(0);
    expect([p.engineView.isDormant('absent', 'gone'), p.engineView.nextDormantDue()]).toEqual([true, 11_000]);
    return { store, cp, p };
  }

  it('a dormant key whose stored state is gone is forgotten, and what waited for it goes on', async () => {
    const { store, cp, p } = await withDormantKey();
    // The next event waits for the key's timer at 11 000; then its stored state disappears.
    p.add({ offset: 1, position: 'p1', event: { type: 'C', k: 'other', x: 0, timestamp: 12_000 }, raw: null }, 0);
    expect([p.waitsForKeys, p.bufferedCount]).toEqual([true, 1]);
    store.forgotten = true;
    expect(await cp.reload(p, [])).toEqual({ looked: 1, restored: 0, woken: 0, lost: 1 });
    expect([p.waitsForKeys, p.bufferedCount, p.engineView.dormantCount, p.engineView.now]).toEqual([false, 0, 0, 12_000]);
  });

  it('a dormant key an event wants that is gone from the store is forgotten too (it starts afresh and waits for nothing)', async () => {
    const { store, cp, p } = await withDormantKey();
    store.forgotten = true;
    // An event of the key before its timer: looked up for the event (not as due), not found.
    const event = { type: 'B', k: 'gone', x: 0, timestamp: 10_500 };
    const r = await cp.reload(p, [event], p.wakeBound([event], [], 0, 0));
    expect(r.lost).toBeGreaterThanOrEqual(1);
    expect([p.engineView.isDormant('absent', 'gone'), p.engineView.dormantCount]).toEqual([false, 0]);
  });

  it('a load restores page by page: the cap (or idle eviction) holds after every page, not only at the end', async () => {
    const PAGE = 25;
    const KEYS = 500;
    const tp = { topic: 'events', partition: 0 };
    const opts = { tp, versionOf, positionOf: () => 'p', remember: () => undefined };
    const make = () => new StreamPartition<null>({ settings: { ...DEFAULT_STREAM_SETTINGS, maxOutOfOrderness: 0 }, rules, trackChanges: true });
    /** Resident keys of `watched` each time load asks for the next page (so after each page was restored). */
    class WatchedStore extends MemoryCheckpointStore {
      watched: StreamPartition<null> | undefined;
      residentAtPage: number[] = [];
      override async load(...args: Parameters<MemoryCheckpointStore['load']>) {
        return watchPages(await super.load(...args), () => {
          if (this.watched) this.residentAtPage.push(this.watched.engineView.residentKeyCount());
        });
      }
    }
    const store = new WatchedStore({}, PAGE);
    const first = make();
    const cp = new PartitionCheckpoint({ ...opts, store });
    await cp.load(first);
    for (let i = 0; i < KEYS; i++) first.add({ offset: i, position: `p${i}`, event: { type: 'A', k: `u${i}`, x: 1, timestamp: 1_000 + i }, raw: null }, 0);
    cp.stage(first, KEYS, []);
    await cp.flush();
    const stored = first.engineView.residentKeyCount(); // pairs and absent per key
    expect(stored).toBe(2 * KEYS);

    for (const eviction of [
      { idleMs: null, maxKeys: 100 },
      { idleMs: 60_000, maxKeys: null },
    ]) {
      const second = make();
      store.watched = second;
      store.residentAtPage = [];
      const loaded = await new PartitionCheckpoint({ ...opts, store, eviction }).load(second, 1_000_000);
      expect(loaded.restored).toBe(stored + 1); // and triple's single instance
      expect(store.residentAtPage.length).toBeGreaterThanOrEqual(stored / PAGE);
      // With the cap: at most the cap after each page; with idle eviction: nothing stays (no timer, no buffer).
      expect(Math.max(...store.residentAtPage)).toBeLessThanOrEqual(eviction.maxKeys ?? 0);
      expect(second.engineView.residentKeyCount()).toBeLessThanOrEqual(eviction.maxKeys ?? 0);
    }
  });

  it('a store that comes back with an older checkpoint than it acknowledged refuses the next commit as lost', async () => {
    const tp = { topic: 't', partition: 2 };
    const acknowledged = new MemoryCheckpointStore();
    // The same partition as an older save of the store held it: same epoch, an earlier offset.
    const older = new MemoryCheckpointStore();
    let current: CheckpointStore = acknowledged;
    const store = new Proxy({} as CheckpointStore, { get: (_, name) => (current[name as keyof CheckpointStore] as (...a: unknown[]) => unknown).bind(current) });
    const cp = new PartitionCheckpoint({ store, tp, versionOf, positionOf: () => 'p', remember: () => undefined });
    const { epoch } = await cp.load(undefined);
    for (const offset of [4, 10]) {
      cp.stage(undefined, offset, []);
      await cp.flush();
    }
    expect((await older.load(tp)).epoch).toBe(epoch);
    await older.commit(tp, { epoch, nextOffset: '4', clock: null, changed: [], deleted: [], alerts: [] });
    current = older;
    cp.stage(undefined, 15, []);
    await expect(cp.flush()).rejects.toMatchObject({ name: 'CheckpointLostError', since: '10', stored: '4' });
    expect((await older.load(tp)).nextOffset).toBe('4'); // nothing written
    // The acknowledged store goes on, and a retry after an applied commit whose reply was lost goes through.
    current = acknowledged;
    await acknowledged.commit(tp, { epoch, nextOffset: '15', clock: null, changed: [], deleted: [], alerts: [] });
    await cp.flush();
    expect((await acknowledged.load(tp)).nextOffset).toBe('15');
  });

  it('processing time: alerts from restored (and reloaded) partial matches show the events as received, not the engine copies', async () => {
    const store = new MemoryCheckpointStore();
    const tp = { topic: 'events', partition: 3 };
    const pair = [compileRule(def('pair', 'every a=A -> b=B'))];
    const pairVersion = (id: string) => (id === 'pair' ? ruleStateVersion(pair[0].definition) : undefined);
    const positions = new WeakMap<object, string>();
    const opts = { store, tp, versionOf: pairVersion, positionOf: (e: unknown) => positions.get(e as object) ?? '?', remember: (e: object, p: string) => positions.set(e, p) };
    const make = () => new StreamPartition<null>({ settings: { ...DEFAULT_STREAM_SETTINGS, timeMode: 'processing' }, rules: pair, trackChanges: true, remember: opts.remember });
    const a = { type: 'A', k: 'u', x: 1, timestamp: 5 }; // its own time field: the engine's copy carries the processing time
    const b = { type: 'B', k: 'u', x: 2 }; // none: the copy has one
    const expected = { a: { ...a }, b: { ...b } };

    // Uninterrupted: the alert shows the events as received.
    const whole = make();
    whole.add({ offset: 0, position: 'p0', event: { ...a }, raw: null }, 1_000);
    whole.add({ offset: 1, position: 'p1', event: { ...b }, raw: null }, 2_000);
    expect(whole.take().matches.map((m) => m.events)).toEqual([expected]);

    for (const eviction of [undefined, { idleMs: 0, maxKeys: null }]) {
      const first = make();
      const cp = new PartitionCheckpoint({ ...opts, ...(eviction ? { eviction } : {}) });
      await cp.load(first, 0);
      first.add({ offset: 0, position: 'p0', event: { ...a }, raw: null }, 1_000);
      cp.stage(first, 1, []);
      await cp.flush();

      // Restored by a load (kept in memory, or evicted at once and reloaded for the batch).
      const second = make();
      const cp2 = new PartitionCheckpoint({ ...opts, ...(eviction ? { eviction } : {}) });
      const loaded = await cp2.load(second, 5_000);
      expect(loaded.evicted).toBe(eviction ? 1 : 0);
      const next = { ...b };
      expect((await cp2.reload(second, [next])).restored).toBe(eviction ? 1 : 0);
      second.add({ offset: 1, position: 'p1', event: next, raw: null }, 6_000);
      const [m] = second.take().matches;
      expect(m.events).toEqual(expected);
      expect(positions.get(m.events.a as object)).toBe('p0');
    }
  });

  it('a commit of another epoch is fenced', async () => {
    const store = new MemoryCheckpointStore();
    const tp = { topic: 't', partition: 1 };
    const opts = { store, tp, versionOf, positionOf: () => 'p', remember: () => undefined };
    const a = new PartitionCheckpoint(opts);
    await a.load(undefined);
    const b = new PartitionCheckpoint(opts);
    await b.load(undefined);
    a.stage(undefined, 5, []);
    await expect(a.flush()).rejects.toMatchObject({ name: 'CheckpointFencedError' });
    b.stage(undefined, 5, []);
    await b.flush();
    expect((await store.load(tp)).nextOffset).toBe('5');
  });
});

describe('PartitionCheckpoint with keys freed in a new key\'s state', () => {
  const tp = { topic: 'events', partition: 0 };
  const setUp = (pattern: string, fast = true) => {
    const rules = [compileRule(def('pairs', pattern))];
    const versionOf = (id: string) => (id === 'pairs' ? ruleStateVersion(rules[0].definition) : undefined);
    const partition = () => new StreamPartition<null>({ settings: { ...DEFAULT_STREAM_SETTINGS, maxOutOfOrderness: 0 }, rules, trackChanges: true, sequenceFastPath: fast });
    const checkpoint = (store: MemoryCheckpointStore, eviction?: EvictionSettings) =>
      new PartitionCheckpoint({ store, tp, versionOf, positionOf: () => 'p', remember: () => undefined, ...(eviction ? { eviction } : {}) });
    return { partition, checkpoint };
  };
  const storedKeys = async (store: MemoryCheckpointStore) => {
    const keys: Array<string | null> = [];
    for await (const page of (await store.load(tp)).state!.keyPages()) for (const k of page) keys.push(k.key);
    return keys.sort();
  };

  it.each([true, false])(
    'a sweep leaves a key changed since its checkpoint, so a batch retried before the next checkpoint cannot reload its older stored state (sequence automaton: %s)',
    async (fast) => {
      const { partition, checkpoint } = setUp('every a=A -> b=B', fast);
      const p = partition();
      const cp = checkpoint(new MemoryCheckpointStore(), { idleMs: 1000, maxKeys: null });
      await cp.load(p, 0);
      let offset = 0;
      const matches: MatchRecord[] = [];
      const add = (event: Record<string, unknown>, wall: number) => {
        p.add({ offset, position: `events/0/${offset++}`, event, raw: null }, wall);
        matches.push(...p.take().matches);
      };
      // Batch 1: the victim's A is checkpointed; another key goes cold, so batches look keys up from now on.
      add({ type: 'A', k: 'cold', timestamp: 500 }, 0);
      add({ type: 'A', k: 'victim', id: 'A1', timestamp: 1000 }, 5000);
      cp.stage(p, offset, []);
      await cp.flush();
      expect(cp.evict(p, 5500)).toBe(1);
      // Batch 2: B completes the victim's match (a new key's state again), then 10,200 new keys start a sweep.
      // Its checkpoint is not written (sending its dead letters failed, say): the batch will be read again.
      const batch2 = [{ type: 'B', k: 'victim', id: 'B2', timestamp: 2000 }, ...Array.from({ length: 10_200 }, (_, i) => ({ type: 'A', k: `u${i}`, timestamp: 2000 + i }))];
      await cp.reload(p, batch2);
      for (const e of batch2) add(e, 6000);
      // Before 2026-11-25's fix the sweep freed the victim here, and batch 3 reloaded A1 and matched it again.
      expect(p.engineView.isResident('pairs', 'victim')).toBe(true);
      // Batch 3: another B of the victim; its stored state (A1 open) must not come back.
      const batch3 = [{ type: 'B', k: 'victim', id: 'B3', timestamp: 20_000 }];
      await cp.reload(p, batch3);
      for (const e of batch3) add(e, 7000);
      expect(matches.map((m) => [(m.events.a as { id: string }).id, (m.events.b as { id: string }).id])).toEqual([['A1', 'B2']]);
    },
  );

  it.each([
    ['idle eviction', { idleMs: 60_000, maxKeys: null }],
    ['a cap of one key', { idleMs: null, maxKeys: 1 }],
  ])('a load deletes the stored keys its eviction frees (%s), once', async (_, eviction) => {
    const { partition, checkpoint } = setUp('every a=A -> b=B where timer:within(1 sec)');
    const store = new MemoryCheckpointStore({}, 2);
    const owner = partition();
    const cp = checkpoint(store);
    await cp.load(owner, 0);
    let offset = 0;
    for (let i = 0; i < 6; i++) owner.add({ offset, position: `events/0/${offset++}`, event: { type: 'A', k: `u${i}`, timestamp: 1000 + i }, raw: null }, 0);
    // Nine seconds later the six keys' windows have passed: each is stored holding no run, a new key's state.
    owner.add({ offset, position: `events/0/${offset++}`, event: { type: 'A', k: 'late', timestamp: 10_000 }, raw: null }, 0);
    cp.stage(owner, offset, []);
    await cp.flush();
    expect(await storedKeys(store)).toEqual(['late', 'u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
    // A new owner loads the partition in pages of two keys: it frees the six and stages their deletions.
    const taker = partition();
    const cp2 = checkpoint(store, eviction);
    await cp2.load(taker, 0);
    expect(taker.engineView.reclaimedKeyCount).toBe(6);
    expect(cp2.hasPending).toBe(true);
    expect(cp2.pendingOffset).toBe(String(offset));
    await cp2.flush();
    expect(await storedKeys(store)).toEqual(['late']);
    // The next load finds nothing more to free.
    const again = partition();
    await checkpoint(store, eviction).load(again, 0);
    expect(again.engineView.reclaimedKeyCount).toBe(0);
  });
  it('a key evicted while waiting under within leaves the store once its runs have ended, without being reloaded', async () => {
    const { partition, checkpoint } = setUp('every a=A -> b=B where timer:within(1 sec)');
    const store = new MemoryCheckpointStore();
    const p = partition();
    const cp = checkpoint(store, { idleMs: 1000, maxKeys: null });
    await cp.load(p, 0);
    let offset = 0;
    const batch = async (events: Array<Record<string, unknown>>, wall: number) => {
      const reloaded = await cp.reload(p, events);
      for (const event of events) p.add({ offset, position: `events/0/${offset++}`, event, raw: null }, wall);
      p.take();
      cp.stage(p, offset, []);
      await cp.flush();
      return reloaded.restored;
    };
    // Looked up as a batch would (store.load would take the partition away from `cp`).
    const version = ruleStateVersion(def('pairs', 'every a=A -> b=B where timer:within(1 sec)'));
    const stored = async (keys: string[]) => {
      const found = await store.loadKeys(tp, 'pairs', version, keys);
      return keys.filter((_, i) => found[i] !== null);
    };
    await batch([{ type: 'A', k: 'waiting', timestamp: 1000 }], 0);
    expect(cp.evict(p, 5000)).toBe(1);
    // 1500: its run is still open (until 2000), so it stays stored; 2000: it has ended.
    await batch([{ type: 'A', k: 'other', timestamp: 1500 }], 5000);
    expect(await stored(['other', 'waiting'])).toEqual(['other', 'waiting']);
    expect(await batch([{ type: 'C', k: 'third', timestamp: 2000 }], 5000)).toBe(0);
    expect(await stored(['other', 'waiting'])).toEqual(['other']);
    expect(p.engineView.reclaimedKeyCount).toBe(1);
    expect(p.engineView.isResident('pairs', 'waiting')).toBe(false);
  });

  it('a load deletes the stored keys whose runs ended before the stored clock, and keeps those still open', async () => {
    const { partition, checkpoint } = setUp('every a=A -> b=B where timer:within(1 sec)');
    const rule = compileRule(def('pairs', 'every a=A -> b=B where timer:within(1 sec)'));
    // Snapshots taken when each key's run was open; the clock then moved on without reaching the keys (say,
    // the replica evicted them and stopped before the clock passed their runs' end).
    const engine = new Engine({ trackChanges: true, startTime: 0 });
    engine.addRule(rule);
    engine.process({ type: 'A', k: 'ended', timestamp: 1000 });
    const stored = engine.drainChanges();
    engine.process({ type: 'A', k: 'open', timestamp: 4500 });
    // (Only open's change: the clock at 4500 ended ended's run, which the store must still hold.)
    stored.push(...engine.drainChanges().filter((c) => c.key === 'open'));
    expect(stored.map((c) => [c.key, c.snapshot?.sequence?.runs.length])).toEqual([['ended', 1], ['open', 1]]);
    const store = new MemoryCheckpointStore();
    const { epoch } = await store.load(tp);
    const { changed } = splitChanges(stored, () => ruleStateVersion(rule.definition));
    await store.commit(tp, { epoch, nextOffset: '7', clock: 5000, changed, deleted: [], alerts: [] });
    const taker = partition();
    const cp = checkpoint(store, { idleMs: 60_000, maxKeys: null });
    expect((await cp.load(taker, 0)).evicted).toBe(2);
    expect(taker.engineView.reclaimedKeyCount).toBe(1);
    expect(cp.pendingOffset).toBe('7');
    // A batch before that deletion is written: ended starts afresh instead of reading back its stale state
    // (which would take its ended run out of the open partial-match count a second time).
    expect(await cp.reload(taker, [{ type: 'B', k: 'ended', timestamp: 5100 }])).toEqual({ looked: 0, restored: 0, woken: 0, lost: 0 });
    expect(taker.engineView.stats().partialMatches.get('pairs')).toBe(1);
    await cp.flush();
    expect(await storedKeys(store)).toEqual(['open']);
    // The open one still counts as a partial match and is deleted when its run ends (5500).
    expect(taker.engineView.stats().partialMatches.get('pairs')).toBe(1);
    expect(taker.engineView.expiringEvictedCount).toBe(1);
  });
});

describe('PartitionCheckpoint.shed (a commit refused for size is made to fit)', () => {
  const tp = { topic: 'events', partition: 0 };
  const grow = compileRule(def('grow', 'every a=A -> b=B(x > a.x)'));
  const versionOf = (id: string) => (id === 'grow' ? ruleStateVersion(grow.definition) : undefined);
  const pad = 'p'.repeat(300);

  async function setUp(limits: { maxSnapshotBytes?: number; maxAlertBytes?: number }) {
    const store = new MemoryCheckpointStore(limits);
    const partition = new StreamPartition<null>({ settings: { ...DEFAULT_STREAM_SETTINGS, maxOutOfOrderness: 0 }, rules: [grow], trackChanges: true });
    const cp = new PartitionCheckpoint({ store, tp, versionOf, positionOf: () => 'p', remember: () => undefined });
    await cp.load(partition);
    let offset = 0;
    const add = (type: string, k: string, x: number, padding = pad) => {
      partition.add({ offset, position: `events/0/${offset}`, event: { type, k, x, pad: padding, timestamp: 1_000 + offset }, raw: null }, 0);
      offset++;
    };
    return { store, partition, cp, add, next: () => offset };
  }

  it('trims the key whose snapshot is over the bound to its newest partial matches, counting the dropped ones', async () => {
    const { store, partition, cp, add, next } = await setUp({ maxSnapshotBytes: 2_000 });
    for (let i = 0; i < 10; i++) add('A', 'big', i);
    cp.stage(partition, next(), []);
    const refused = await cp.flush().catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: 'snapshot', ref: { rule: 'grow', key: 'big' }, size: { limit: 2_000 } });

    const shed = cp.shed(refused, partition);
    expect(shed).toMatchObject({ kind: 'snapshot', rule: 'grow', key: 'big' });
    const { dropped, kept } = shed as { dropped: number; kept: number };
    expect(dropped + kept).toBe(10);
    expect(kept).toBeGreaterThanOrEqual(1);
    await cp.flush();
    const [stored] = await store.loadKeys(tp, 'grow', versionOf('grow')!, ['big']);
    expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThanOrEqual(2_000);
    expect(partition.engineView.stats().dropped.get('grow')!.get('checkpoint_size_limit')).toBe(dropped);
    // The newest A's are the ones kept: a B above the highest x matches exactly `kept` of them, the newest.
    add('B', 'big', 100);
    const xs = partition.take().matches.map((m) => (m.events.a as { x: number }).x).sort((a, b) => a - b);
    expect(xs).toEqual(Array.from({ length: kept }, (_, i) => 10 - kept + i));
  });

  it('resets the key when even one partial match is over the bound, counts it as dropped and deletes its stored state', async () => {
    const { store, partition, cp, add, next } = await setUp({ maxSnapshotBytes: 2_000 });
    for (let i = 0; i < 3; i++) add('A', 'small', i);
    cp.stage(partition, next(), []);
    await cp.flush();
    add('A', 'big', 0, 'h'.repeat(2_500));
    cp.stage(partition, next(), []);
    const refused = await cp.flush().catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'CheckpointLimitError', kind: 'snapshot', ref: { rule: 'grow', key: 'big' } });

    expect(cp.shed(refused, partition)).toEqual({ kind: 'snapshot', rule: 'grow', key: 'big', dropped: 1, kept: 0 });
    await cp.flush();
    const [bigStored, smallStored] = await store.loadKeys(tp, 'grow', versionOf('grow')!, ['big', 'small']);
    expect(bigStored).toBeNull();
    expect(smallStored).not.toBeNull();
    expect(partition.engineView.stats().dropped.get('grow')!.get('checkpoint_size_limit')).toBe(1);
    expect(partition.engineView.stats().partialMatches.get('grow')).toBe(3);

    // The key starts afresh: a new A and a B match once, and its state fits again.
    add('A', 'big', 1);
    add('B', 'big', 5);
    expect(partition.take().matches.map((m) => m.key)).toEqual(['big']);
    cp.stage(partition, next(), []);
    await cp.flush();
  });

  it('keeps an oversize alert without its events (then without its fields), with the same id', async () => {
    const { store, partition, cp, next } = await setUp({ maxAlertBytes: 600 });
    const big: Alert = { id: 'a1', rule: 'grow', key: 'k', time: 1, events: { a: { pad: pad + pad } }, fields: { n: 1 }, ruleVersion: 1, severity: 'warning', labels: {} };
    cp.stage(partition, next(), [big]);
    const refused = await cp.flush().catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: 'alert', ref: { alertId: 'a1' } });
    expect(cp.shed(refused, partition)).toEqual({ kind: 'alert', rule: 'grow', alertId: 'a1' });
    await cp.flush();
    const [kept] = await store.pendingAlerts(tp, 10);
    expect(kept).toEqual({ ...big, events: null, truncated: true });

    const huge: Alert = { ...big, id: 'a2', events: {}, fields: { text: pad + pad } };
    cp.stage(partition, next(), [huge]);
    const first = await cp.flush().catch((e: unknown) => e);
    expect(cp.shed(first, partition)).toMatchObject({ kind: 'alert', alertId: 'a2' });
    const second = await cp.flush().catch((e: unknown) => e);
    expect(cp.shed(second, partition)).toMatchObject({ kind: 'alert', alertId: 'a2' });
    await cp.flush();
    expect((await store.pendingAlerts(tp, 10))[1]).toEqual({ ...huge, events: null, fields: null, truncated: true });
  });

  it('leaves other refusals (outbox full, fenced) to the caller', async () => {
    const { store, partition, cp, next } = await setUp({});
    const other = new PartitionCheckpoint({ store, tp, versionOf, positionOf: () => 'p', remember: () => undefined });
    await other.load(undefined);
    cp.stage(partition, next(), []);
    const fenced = await cp.flush().catch((e: unknown) => e);
    expect(fenced).toMatchObject({ name: 'CheckpointFencedError' });
    expect(cp.shed(fenced, partition)).toBeUndefined();
  });
});
