/**
 * reclaimFreshKeys: an engine that frees the keys whose state is what a new key starts with gives exactly the
 * matches of one that keeps every key, on both runtimes, and its memory follows the keys that hold state
 * instead of every key ever seen.
 */
import fc from 'fast-check';
import { Engine, EngineOptions, KeySnapshot, MatchRecord, compileRule } from '../../src/core/engine';
import { keyedStreamArb, patternArb, sequenceRulesArb, timedEvents } from '../../src/core/engine/testing/arbitraries';
import { ruleOf } from '../support/pattern-harness';

const streamArb = keyedStreamArb({ keys: ['k1', 'k2', 'k3', 'k4', 'k5'], gaps: [0, 200, 600, 1100], maxLength: 60 });

function engineOf(patterns: string[], options: EngineOptions): Engine {
  const engine = new Engine({ startTime: 0, ...options });
  patterns.forEach((p, i) => engine.addRule(compileRule(ruleOf(p, { id: `r${i}`, partitionBy: 'k' }))));
  return engine;
}

const strip = (ms: MatchRecord[]) => JSON.parse(JSON.stringify(ms));

const drops = (engine: Engine) => [...engine.stats().dropped].map(([rule, byReason]) => [rule, [...byReason]]);

/**
 * Feeds both engines the events, comparing the matches and partial-match drops of each step (the open
 * partial-match counts differ: a new key's own ones go with it); returns the keys the first freed.
 */
function sameMatches(patterns: string[], stream: Array<Record<string, unknown>>, options: EngineOptions): number {
  const reclaiming = engineOf(patterns, { ...options, reclaimFreshKeys: true, reclaimAfterNewKeys: 1 });
  const keeping = engineOf(patterns, options);
  for (const e of stream) {
    expect(strip(reclaiming.process(e))).toEqual(strip(keeping.process(e)));
    expect(drops(reclaiming)).toEqual(drops(keeping));
  }
  expect(strip(reclaiming.advanceTo(100_000))).toEqual(strip(keeping.advanceTo(100_000)));
  return reclaiming.reclaimedKeyCount;
}

/** Two rules reading time from different fields; the events give a match that a rebuilt r1 key would miss. */
function twoTimeFields(options: EngineOptions): Engine {
  const engine = new Engine(options);
  engine.addRule(compileRule(ruleOf('every (a=A -> (b=B where timer:within(0 sec)))', { id: 'r1', partitionBy: 'k' })));
  engine.addRule(compileRule(ruleOf('every x=X', { id: 'r2', partitionBy: 'k', event: { typeField: 'type', timeField: 't2' } })));
  return engine;
}

const TWO_TIME_FIELD_EVENTS = [
  { type: 'B', k: 'u', timestamp: 1000, id: '1' },
  { type: 'A', k: 'u', timestamp: 2000, t2: 3000, id: '2' },
  { type: 'A', k: 'u', timestamp: 4000, id: '3' },
  { type: 'B', k: 'u', timestamp: 4000, id: '4' },
];

/** Random patterns seldom restart from the top; these do, so their keys keep coming back to a new key's state. */
const restartingArb = fc.constantFrom(
  'every a=A -> (b=B(x > a.x) and not C) where timer:within(1 sec)',
  'every ((a=A -> b=B(x > a.x)) where timer:within(1 sec))',
  'every a=A -> (every b=B(x > a.x)) where timer:within(500 msec)',
  'every a=A -> (timer:interval(1 sec) and not b=B(x = a.x))',
  'every (a=A or b=B(x > 2))',
  'every [2] a=A(x > 1)',
  'every (a=A and b=B) where timer:within(1 sec)',
  'every a=A -> b=B until c=C',
);

/** A checkpoint store: (rule, key) to the snapshot as JSON, as Redis holds it. */
type Store = Map<string, { rule: string; key: string | null; snapshot: string }>;

/** Applies the engine's drained changes to `store`, a null snapshot deleting; returns the stored keys deleted. */
function checkpointInto(store: Store, engine: Engine): number {
  let deleted = 0;
  for (const c of engine.drainChanges()) {
    const id = JSON.stringify([c.rule, c.key]);
    if (c.snapshot !== null) store.set(id, { rule: c.rule, key: c.key, snapshot: JSON.stringify(c.snapshot) });
    else if (store.delete(id)) deleted++;
  }
  return deleted;
}

describe('reclaiming keys that hold what a new key would', () => {
  it('changes no match on the general runtime, for random patterns over every operator', () => {
    let freed = 0;
    fc.assert(
      fc.property(fc.oneof(patternArb(), restartingArb), streamArb, fc.constantFrom(3, 50), (pattern, stream, max) => {
        freed += sameMatches([pattern], timedEvents(stream), { sequenceFastPath: false, maxPartialMatchesPerKey: max });
      }),
      { numRuns: 400 },
    );
    // Not vacuous: many keys were freed and built again along the way.
    expect(freed).toBeGreaterThan(150);
  });

  it('changes no match on the sequence automaton, for families of rules sharing runs', () => {
    let freed = 0;
    fc.assert(
      fc.property(sequenceRulesArb, streamArb, fc.constantFrom(1, 3, 10_000), (patterns, stream, max) => {
        freed += sameMatches(patterns, timedEvents(stream), { maxPartialMatchesPerKey: max });
      }),
      { numRuns: 300 },
    );
    expect(freed).toBeGreaterThan(400);
  });

  it.each([
    ['sequence automaton', 'every a=A -> b=B(x > a.x) where timer:within(10 sec)'],
    ['general runtime', 'every a=A -> (b=B(x > a.x) and not C) where timer:within(10 sec)'],
    ['general runtime, every restarting a followed-by', 'every (a=A -> b=B(x > a.x) where timer:within(10 sec))'],
  ])('keeps memory to the keys with state while 100,000 users come and go (%s)', (_, pattern) => {
    const engine = engineOf([pattern], { reclaimFreshKeys: true });
    let peak = 0;
    for (let i = 0; i < 100_000; i++) {
      engine.process({ type: 'A', k: `user${i}`, x: 1, timestamp: i * 10 });
      if (i % 1000 === 0) peak = Math.max(peak, engine.residentKeysByRule().get('r0')!);
    }
    // Each user's partial match lasts 10 s, that is 1,000 users; a sweep starts after 10,000 new keys at least.
    expect(peak).toBeLessThan(25_000);
    expect(engine.reclaimedKeyCount).toBeGreaterThan(70_000);
    const keeping = engineOf([pattern], {});
    for (let i = 0; i < 20_000; i++) keeping.process({ type: 'A', k: `user${i}`, x: 1, timestamp: i * 10 });
    expect(keeping.residentKeysByRule().get('r0')).toBe(20_000);
  });

  it('frees nothing while rules read time from two fields (a clock move within one event could tell a rebuilt key apart)', () => {
    const engines = [true, false].map((reclaim) => twoTimeFields({ reclaimFreshKeys: reclaim, reclaimAfterNewKeys: 1 }));
    const [reclaiming, keeping] = engines.map((engine) => strip(TWO_TIME_FIELD_EVENTS.flatMap((e) => engine.process(e))));
    expect(reclaiming).toEqual(keeping);
    expect(keeping.map((m: MatchRecord) => [m.events.a, m.events.b].map((e) => (e as { id: string }).id))).toEqual([['3', '4']]);
    expect(engines[0].reclaimedKeyCount).toBe(0);
  });

  it('frees the keys of a large family of sequence rules, each key once for all its rules', () => {
    const patterns = Array.from({ length: 50 }, (_, i) => `every a=A(x > ${i}) -> b=B where timer:within(1 sec)`);
    const engine = engineOf(patterns, { reclaimFreshKeys: true });
    let peak = 0;
    for (let i = 0; i < 60_000; i++) {
      engine.process({ type: 'A', k: `user${i}`, x: 0, timestamp: i * 10 });
      if (i % 1000 === 0) peak = Math.max(peak, engine.residentKeysByRule().get('r0')!);
    }
    expect(peak).toBeLessThan(25_000);
    expect(engine.reclaimedKeyCount).toBeGreaterThan(40_000 * 50);
  });

  it('with a checkpoint, evicting frees nothing either while rules read time from two fields', () => {
    // Each event: reload the key from the store if it left, process, checkpoint, evict everything that may go.
    const run = (engine: Engine) => {
      const store: Store = new Map();
      const out: MatchRecord[] = [];
      for (const e of TWO_TIME_FIELD_EVENTS) {
        const stored = store.get(JSON.stringify(['r1', 'u']));
        if (!engine.isResident('r1', 'u') && stored) engine.reloadKeys('r1', [['u', JSON.parse(stored.snapshot) as KeySnapshot]]);
        out.push(...engine.process(e));
        checkpointInto(store, engine);
        for (const { rule, key } of engine.evictableKeys()) engine.evictKey(rule, key);
        checkpointInto(store, engine);
      }
      return strip(out);
    };
    const reclaiming = twoTimeFields({ reclaimFreshKeys: true, trackChanges: true });
    expect(run(reclaiming)).toEqual(run(twoTimeFields({ trackChanges: true })));
    expect(reclaiming.reclaimedKeyCount).toBe(0);
  });

  it('sweeps as often with another rule’s ended keys around (tombstones are not looked at, so they do not space sweeps out)', () => {
    const engine = engineOf(['every a=A -> (b=B(x > a.x) and not C) where timer:within(10 sec)', 'a=A -> b=B'], { reclaimFreshKeys: true });
    let peak = 0;
    for (let i = 0; i < 60_000; i++) {
      engine.process({ type: 'A', k: `user${i}`, x: 1, timestamp: i * 20 });
      engine.process({ type: 'B', k: `user${i}`, x: 0, timestamp: i * 20 + 1 });
      if (i % 1000 === 0) peak = Math.max(peak, engine.residentKeysByRule().get('r0')!);
    }
    expect(engine.residentKeysByRule().get('r1')).toBe(60_000);
    // Two new keys per user (one per rule): a sweep every 10,000 of them, that is every 5,000 users.
    expect(peak).toBeLessThan(12_000);
  });

  it('never frees the keys of a rule whose new key drops a partial match at its start (the drop would count again)', () => {
    const pattern = '(every (a=A -> b=B)) and (every (c=C -> d=D))';
    const stream = Array.from({ length: 20 }, (_, i) => ({ type: 'B', k: `k${i % 3}`, x: 0, id: `${i}`, timestamp: i * 10 }));
    expect(sameMatches([pattern], stream, { sequenceFastPath: false, maxPartialMatchesPerKey: 1 })).toBe(0);
  });

  it.each([
    ['a key whose pattern ended (it must not start again)', 'a=A -> b=B', ['A', 'B']],
    ['a key waiting for its second event', 'a=A -> b=B', ['A']],
    ['a key that has seen a distinct value', 'every-distinct(a.x) a=A', ['A']],
    ['a key whose new instance starts a timer', 'every (a=A where timer:within(1 hour))', ['A']],
  ])('keeps %s', (_, pattern, types) => {
    const engine = engineOf([pattern as string], { reclaimFreshKeys: true, reclaimAfterNewKeys: 1 });
    let t = 0;
    for (let i = 0; i < 50; i++) for (const type of types as string[]) engine.process({ type, k: `user${i}`, x: i, timestamp: t++ });
    expect(engine.reclaimedKeyCount).toBe(0);
    expect(engine.residentKeysByRule().get('r0')).toBe(50);
  });

  it.each([
    ['general runtime', false],
    ['sequence automaton', true],
  ])('with a checkpoint, records freed keys as deletions: an engine rebuilt from the stored keys at any point matches as one that kept every key (%s)', (_, fast) => {
    const patternsArb = fast ? sequenceRulesArb : fc.oneof({ arbitrary: patternArb(), weight: 1 }, { arbitrary: restartingArb, weight: 2 }).map((p) => [p]);
    let deleted = 0;
    fc.assert(
      fc.property(patternsArb, streamArb, fc.array(fc.constantFrom(false, false, false, false, true), { minLength: 60, maxLength: 60 }), fc.constantFrom(3, 50), (patterns, stream, restarts, max) => {
        const options = { sequenceFastPath: fast, maxPartialMatchesPerKey: max };
        const checkpointed = () => engineOf(patterns, { ...options, reclaimFreshKeys: true, reclaimAfterNewKeys: 1, trackChanges: true });
        let engine = checkpointed();
        const keeping = engineOf(patterns, options);
        const store: Store = new Map();
        timedEvents(stream).forEach((e, i) => {
          expect(strip(engine.process(e))).toEqual(strip(keeping.process(e)));
          deleted += checkpointInto(store, engine);
          if (restarts[i]) {
            // A restart (another replica, or this one after a crash) from what the store holds.
            const now = engine.now;
            engine = checkpointed();
            for (const { rule, key, snapshot } of store.values()) engine.restoreKey(rule, key, JSON.parse(snapshot) as KeySnapshot);
            engine.setTime(now);
          }
        });
        // Nothing is evicted here: a stored key not in memory would be a freed key whose deletion was lost.
        for (const { rule, key } of store.values()) expect(engine.isResident(rule, key!)).toBe(true);
        expect(strip(engine.advanceTo(100_000))).toEqual(strip(keeping.advanceTo(100_000)));
      }),
      { numRuns: fast ? 200 : 300 },
    );
    // Not vacuous: many stored keys were deleted because they were freed.
    expect(deleted).toBeGreaterThan(30);
  });

  it('with a checkpoint, evicting a key in a new key\'s state deletes it instead of keeping it stored', () => {
    for (const fast of [true, false]) {
      const engine = engineOf(['every a=A -> b=B(x > a.x) where timer:within(1 sec)'], { sequenceFastPath: fast, reclaimFreshKeys: true, trackChanges: true });
      for (let i = 0; i < 10; i++) engine.process({ type: 'A', k: `user${i}`, x: 0, timestamp: i * 100 });
      engine.drainChanges();
      // At 2 s every partial match has expired (a change of each key); user9 opens a new one.
      engine.process({ type: 'A', k: 'user9', x: 0, timestamp: 2000 });
      expect(engine.drainChanges()).toHaveLength(10);
      for (const { rule, key } of engine.evictableKeys()) expect(engine.evictKey(rule, key)).toBe(true);
      const deletions = engine.drainChanges();
      expect(deletions.map((c) => c.snapshot)).toEqual(Array(9).fill(null));
      expect(deletions.map((c) => c.key).sort()).toEqual(Array.from({ length: 9 }, (_, i) => `user${i}`));
      expect(engine.reclaimedKeyCount).toBe(9);
      // user9's partial match went to the store and still counts as open.
      expect(engine.stats().partialMatches.get('r0')).toBe(1);
    }
  });
});

/** The stored sequence runs of a snapshot (JSON), or 0 for a general-runtime snapshot. */
const storedRuns = (snapshot: string) => (JSON.parse(snapshot) as KeySnapshot).sequence?.runs.length ?? 0;

/** Sequence rules whose every run is under a `within`, so that evicted keys often hold several that end apart. */
const withinRulesArb = fc.subarray(
  [
    'every a=A -> b=B(x > a.x) where timer:within(1 sec)',
    'every a=A(x > 1) -> (b=B -> c=C(x >= b.x)) where timer:within(2500 msec)',
    'every a=A -> b=B where timer:within(500 msec) -> c=C where timer:within(1 sec)',
    'every a=A(x > 2) -> b=B(x > a.x) where timer:within(1 sec)',
  ],
  { minLength: 1 },
);

describe('evicted sequence keys waiting under within', () => {
  const pattern = 'every a=A -> b=B(x > a.x) where timer:within(1 sec)';
  const options = { reclaimFreshKeys: true, trackChanges: true };

  /** u1 opens runs ending at 1000 and 1300 and is evicted at 300; u2's run keeps the family busy. */
  function evictedWaiting(): { engine: Engine; store: Store } {
    const engine = engineOf([pattern], options);
    const store: Store = new Map();
    engine.process({ type: 'A', k: 'u1', x: 0, timestamp: 0 });
    engine.process({ type: 'A', k: 'u2', x: 0, timestamp: 100 });
    engine.process({ type: 'A', k: 'u1', x: 0, timestamp: 300 });
    checkpointInto(store, engine);
    expect(engine.evictKey('r0', 'u1')).toBe(true);
    expect(engine.drainChanges()).toEqual([]);
    expect(engine.expiringEvictedCount).toBe(1);
    return { engine, store };
  }

  it('deletes the stored key when the clock passes its last run\'s deadline, without reloading it', () => {
    const { engine, store } = evictedWaiting();
    expect(engine.stats().partialMatches.get('r0')).toBe(3);
    // 1200: the run opened at 0 has ended, the one opened at 300 has not: u1 stays stored.
    engine.process({ type: 'B', k: 'u2', x: 0, timestamp: 1200 });
    expect(checkpointInto(store, engine)).toBe(0);
    expect(store.has(JSON.stringify(['r0', 'u1']))).toBe(true);
    // 1300: both have ended; u1's stored state is a new key's, so it goes (another key's event moved the clock).
    engine.process({ type: 'A', k: 'u3', x: 0, timestamp: 1300 });
    expect(checkpointInto(store, engine)).toBe(1);
    expect([...store.values()].map((s) => s.key)).toEqual(['u2', 'u3']);
    expect(engine.reclaimedKeyCount).toBe(1);
    expect(engine.isResident('r0', 'u1')).toBe(false);
    expect([engine.expiringEvictedCount, engine.stats().partialMatches.get('r0')]).toEqual([0, 1]);
  });

  it('frees it on a clock move without events too (a tick), and when the engine is set to a time past it (a load)', () => {
    const ticked = evictedWaiting();
    ticked.engine.advanceTo(1300);
    expect(checkpointInto(ticked.store, ticked.engine)).toBe(1);
    const loaded = evictedWaiting();
    loaded.engine.setTime(5000);
    // (u2's run has ended too: a change of the key, which stays in memory.)
    expect(loaded.engine.drainChanges().filter((c) => c.key === 'u1')).toEqual([{ rule: 'r0', key: 'u1', snapshot: null }]);
  });

  it('does not restore a freed key whose deletion is not drained yet: it starts afresh, and the open partial matches of other keys still count', () => {
    const { engine, store } = evictedWaiting();
    engine.process({ type: 'A', k: 'u3', x: 0, timestamp: 1300 });
    expect(engine.stats().partialMatches.get('r0')).toBe(1);
    engine.reloadKeys('r0', [['u1', JSON.parse(store.get(JSON.stringify(['r0', 'u1']))!.snapshot) as KeySnapshot]]);
    expect(engine.isResident('r0', 'u1')).toBe(false);
    expect(engine.stats().partialMatches.get('r0')).toBe(1);
    expect(engine.drainChanges().filter((c) => c.key === 'u1')).toEqual([{ rule: 'r0', key: 'u1', snapshot: null }]);
  });

  it('forgets the entry of a key whose stored state is gone (Redis lost it), so nothing frees it again later', () => {
    const { engine } = evictedWaiting();
    engine.forgetDormant('r0', 'u1');
    expect([engine.expiringEvictedCount, engine.stats().partialMatches.get('r0')]).toEqual([0, 1]);
    engine.process({ type: 'A', k: 'u1', x: 0, timestamp: 400 });
    engine.drainChanges();
    engine.advanceTo(5000);
    expect(engine.reclaimedKeyCount).toBe(0);
  });

  it('keeps a key reloaded before its deadline: its runs match, and the clock passing the deadline frees nothing', () => {
    const { engine, store } = evictedWaiting();
    engine.reloadKeys('r0', [['u1', JSON.parse(store.get(JSON.stringify(['r0', 'u1']))!.snapshot) as KeySnapshot]]);
    expect(engine.expiringEvictedCount).toBe(0);
    expect(engine.process({ type: 'B', k: 'u1', x: 1, timestamp: 900 })).toHaveLength(2);
    engine.advanceTo(1300);
    expect(engine.reclaimedKeyCount).toBe(0);
    expect(engine.isResident('r0', 'u1')).toBe(true);
  });

  it('frees at once a key evicted when its runs have ended already (expiry is lazy: nothing offered to the family since)', () => {
    const engine = engineOf([pattern], options);
    engine.process({ type: 'A', k: 'u1', x: 0, timestamp: 0 });
    engine.drainChanges();
    engine.advanceTo(5000);
    expect(engine.evictKey('r0', 'u1')).toBe(true);
    expect(engine.drainChanges()).toEqual([{ rule: 'r0', key: 'u1', snapshot: null }]);
    expect([engine.expiringEvictedCount, engine.reclaimedKeyCount]).toEqual([0, 1]);
  });

  it('keeps stored a key whose runs have no deadline (they may still match at any time)', () => {
    const engine = engineOf(['every a=A -> b=B(x > a.x)'], options);
    engine.process({ type: 'A', k: 'u1', x: 0, timestamp: 0 });
    engine.drainChanges();
    expect(engine.evictKey('r0', 'u1')).toBe(true);
    engine.advanceTo(10_000_000);
    expect([engine.drainChanges(), engine.expiringEvictedCount, engine.stats().partialMatches.get('r0')]).toEqual([[], 0, 1]);
  });

  it('keeps at most maxExpiryEntries entries: past it an evicted key stays stored until its next event (bounded heap)', () => {
    const engine = engineOf([pattern], { ...options, maxExpiryEntries: 2 });
    for (const k of ['u1', 'u2', 'u3']) engine.process({ type: 'A', k, x: 0, timestamp: 0 });
    engine.drainChanges();
    for (const k of ['u1', 'u2', 'u3']) expect(engine.evictKey('r0', k)).toBe(true);
    expect(engine.expiringEvictedCount).toBe(2);
    engine.advanceTo(5000);
    expect(engine.drainChanges().map((c) => [c.key, c.snapshot])).toEqual([['u1', null], ['u2', null]]);
    // u3's run still counts as open: its stored copy is the truth until it comes back.
    expect([engine.reclaimedKeyCount, engine.stats().partialMatches.get('r0')]).toEqual([2, 1]);
  });

  it('stops waiting for the keys of a removed rule', () => {
    const { engine } = evictedWaiting();
    engine.removeRule('r0');
    engine.advanceTo(5000);
    expect([engine.expiringEvictedCount, engine.reclaimedKeyCount]).toEqual([0, 0]);
  });

  it('with eviction and reloads, matches as an engine that keeps every key, and stores no evicted key once its runs have all ended', () => {
    let freedWithRuns = 0;
    fc.assert(
      // Three keys and short gaps: keys come back while some of their runs are still open and others ended.
      fc.property(fc.oneof(sequenceRulesArb, withinRulesArb, withinRulesArb), keyedStreamArb({ keys: ['k1', 'k2', 'k3'], gaps: [0, 100, 300, 700], maxLength: 60 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), fc.constantFrom(1, 3, 10_000), (patterns, stream, commits, max) => {
        const engine = engineOf(patterns, { ...options, maxPartialMatchesPerKey: max });
        const keeping = engineOf(patterns, { maxPartialMatchesPerKey: max });
        const store: Store = new Map();
        timedEvents(stream).forEach((e, i) => {
          // As the Kafka runtime does: the keys the event needs come back from the store first.
          const wanted = new Map<string, string[]>();
          engine.partitionKeys(e, (rule, key) => wanted.set(rule, [...(wanted.get(rule) ?? []), key]));
          for (const [rule, keys] of wanted) {
            const entries = [...new Set(keys)].flatMap((key): Array<[string, KeySnapshot]> => {
              const stored = store.get(JSON.stringify([rule, key]));
              return stored && !engine.isResident(rule, key) ? [[key, JSON.parse(stored.snapshot) as KeySnapshot]] : [];
            });
            engine.reloadKeys(rule, entries);
          }
          expect(strip(engine.process(e))).toEqual(strip(keeping.process(e)));
          if (commits[i % commits.length]) {
            freedWithRuns += applyCounting(store, engine);
            for (const { rule, key } of engine.evictableKeys()) engine.evictKey(rule, key);
            engine.compactEvicted();
            freedWithRuns += applyCounting(store, engine);
          }
        });
        engine.advanceTo(100_000);
        keeping.advanceTo(100_000);
        freedWithRuns += applyCounting(store, engine);
        // Open partial matches: never fewer than the keeping engine's (an evicted key counts runs that ended
        // until it is back or freed; none is taken out twice).
        const open = engine.stats().partialMatches;
        for (const [rule, n] of keeping.stats().partialMatches) expect([rule, open.get(rule)! >= n]).toEqual([rule, true]);
        // What stays stored of an evicted key holds runs that the keeping engine still has open (no deadline).
        for (const { rule, key } of store.values()) {
          if (engine.isResident(rule, key!)) continue;
          expect([rule, key, keeping.snapshotKey(rule, key)?.sequence?.runs.length ?? 0]).not.toEqual([rule, key, 0]);
        }
      }),
      { numRuns: 300 },
    );
    // Not vacuous: many evicted keys were deleted while the store still held their (ended) runs.
    expect(freedWithRuns).toBeGreaterThan(50);
  });
});

/** checkpointInto, also counting the deletions of stored keys that still held sequence runs. */
function applyCounting(store: Store, engine: Engine): number {
  let withRuns = 0;
  for (const c of engine.drainChanges()) {
    const id = JSON.stringify([c.rule, c.key]);
    const stored = store.get(id);
    if (c.snapshot !== null) store.set(id, { rule: c.rule, key: c.key, snapshot: JSON.stringify(c.snapshot) });
    else if (stored) {
      if (storedRuns(stored.snapshot) > 0) withRuns++;
      store.delete(id);
    }
  }
  return withRuns;
}
