/**
 * Eviction of cold keys: an engine that evicts keys (their snapshots kept in a store, as a checkpoint would)
 * and reloads them before an event needs them gives exactly what an engine that never evicts gives, for
 * random patterns over every operator (general runtime) and families of sequence rules (fast path).
 *
 * CEPHEUS_PROPERTY_RUNS=6000 runs the two properties longer (default 300 cases each).
 */
import fc from 'fast-check';
import { ruleDefinition } from '../rules/rule';
import type { MatchRecord } from './api';
import { DormantKeyError, Engine, compileRule, type KeySnapshot } from './engine';
import { KeyEvictor, capTarget, chooseEvictions } from './eviction';
import { keyedStreamArb, patternArb, sequenceRulesArb, timedEvents, type StreamItem } from './testing/arbitraries';

type Ev = ReturnType<typeof timedEvents>[number];

function engineOf(patterns: readonly string[], o: { fast: boolean; max: number; track?: boolean; partitioned?: boolean }): Engine {
  const engine = new Engine({ startTime: 0, sequenceFastPath: o.fast, maxPartialMatchesPerKey: o.max, trackChanges: o.track });
  patterns.forEach((p, i) => engine.addRule(compileRule(ruleDefinition(`r${i}`, p, { partitionBy: o.partitioned === false ? undefined : 'k' }))));
  return engine;
}

const strip = (ms: MatchRecord[]) => JSON.parse(JSON.stringify(ms)) as unknown;

/**
 * What the Kafka consumer does around a bare engine: before an event, reload the keys it needs that are not
 * in memory from the store, and those evicted with a timer due by the event's time; at a checkpoint, store the
 * drained changes (as JSON, like Redis); evict.
 */
class EvictingRunner {
  readonly engine: Engine;
  /** rule → key → snapshot JSON: the checkpoint. */
  readonly store = new Map<string, Map<string, string>>();
  reloads = 0;
  evictions = 0;
  /** Keys reloaded because their timer was coming due. */
  woken = 0;

  constructor(patterns: readonly string[], fast: boolean, max: number) {
    this.engine = engineOf(patterns, { fast, max, track: true });
  }

  process(event: Ev, activity: number): MatchRecord[] {
    this.engine.setActivityTime(activity);
    const wanted = new Map<string, Set<string>>();
    this.engine.partitionKeys(event, (rule, key) => {
      if (!wanted.has(rule)) wanted.set(rule, new Set());
      wanted.get(rule)!.add(key);
    });
    for (const [rule, keys] of wanted) this.reload(rule, [...keys]);
    this.wake(Number(event.timestamp));
    return this.engine.process(event);
  }

  /** Before the clock moves to `time`: reloads the keys evicted with a timer due by then. */
  wake(time: number): void {
    const due = new Map<string, string[]>();
    this.engine.dormantKeysDueBy(time, (rule, key) => due.set(rule, [...(due.get(rule) ?? []), key]));
    for (const [rule, keys] of due) {
      this.reload(rule, keys);
      this.woken += keys.length;
    }
  }

  reload(rule: string, keys: string[]): void {
    const entries: Array<[string, KeySnapshot]> = [];
    for (const key of keys) {
      const json = this.store.get(rule)?.get(key);
      if (json !== undefined && !this.engine.isResident(rule, key)) entries.push([key, JSON.parse(json) as KeySnapshot]);
    }
    this.engine.reloadKeys(rule, entries);
    this.reloads += entries.length;
  }

  reloadAll(): void {
    for (const [rule, keys] of this.store) this.reload(rule, [...keys.keys()]);
  }

  checkpoint(): void {
    for (const c of this.engine.drainChanges()) {
      if (!this.store.has(c.rule)) this.store.set(c.rule, new Map());
      if (c.snapshot === null) this.store.get(c.rule)!.delete(c.key!);
      else this.store.get(c.rule)!.set(c.key!, JSON.stringify(c.snapshot));
    }
  }

  /** Tries to evict every key in memory: the engine must refuse the changed ones. */
  evictEverything(): void {
    for (const rule of this.engine.ruleIds()) {
      for (const key of this.engine.keys(rule)) if (key !== null && this.engine.evictKey(rule, key)) this.evictions++;
    }
    this.engine.compactEvicted();
  }
}

type Mode = { kind: 'every-key' } | { kind: 'policy'; idleMs: number | null; maxKeys: number | null };

const modeArb: fc.Arbitrary<Mode> = fc.oneof(
  fc.constant<Mode>({ kind: 'every-key' }),
  fc.record({
    kind: fc.constant('policy' as const),
    idleMs: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
    maxKeys: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
  }),
);

function counts(engine: Engine) {
  const s = engine.stats();
  return engine.ruleIds().map((id) => ({ id, partials: s.partialMatches.get(id), drops: Object.fromEntries(s.dropped.get(id)!) }));
}

/** Every key's snapshot, per rule (keys sorted). */
function state(engine: Engine) {
  return engine.ruleIds().map((id) => ({
    id,
    keys: engine
      .keys(id)
      .map(String)
      .sort()
      .map((k) => [k, engine.snapshotKey(id, k)]),
  }));
}

/**
 * Runs `events` on a reference engine and on an evicting one (checkpoints where `commits` says, eviction as
 * `mode` says), comparing after every event; `exactCounts`: partial counts equal at every step too (general
 * runtime: an evicted key's timers cannot fire while it is away, so its partial matches cannot change).
 */
function compareWithEviction(patterns: string[], events: Ev[], commits: boolean[], mode: Mode, fast: boolean, max: number, exactCounts: boolean) {
  const reference = engineOf(patterns, { fast, max });
  const run = new EvictingRunner(patterns, fast, max);
  const evictor = mode.kind === 'policy' ? new KeyEvictor({ idleMs: mode.idleMs, maxKeys: mode.maxKeys }) : undefined;
  events.forEach((e, i) => {
    expect(strip(run.process(e, i))).toEqual(strip(reference.process(e)));
    if (commits[i % commits.length]) {
      run.checkpoint();
      if (evictor) run.evictions += evictor.run(run.engine, i, () => () => false).length;
    }
    if (!evictor) run.evictEverything();
    if (exactCounts) expect(counts(run.engine)).toEqual(counts(reference));
    else expect(counts(run.engine).map((c) => c.drops)).toEqual(counts(reference).map((c) => c.drops));
  });
  run.wake(100_000);
  expect(strip(run.engine.advanceTo(100_000))).toEqual(strip(reference.advanceTo(100_000)));
  // Every evicted key back: the same keys with the same state, and the same counts.
  run.checkpoint();
  run.reloadAll();
  expect(state(run.engine)).toEqual(state(reference));
  expect(counts(run.engine)).toEqual(counts(reference));
  return run;
}

const commitsArb = fc.array(fc.boolean(), { minLength: 1, maxLength: 5 });

/** The property over `numRuns` random cases; checks too that keys were evicted and reloaded along the way. */
function checkEquivalence(
  patterns: fc.Arbitrary<string[]>,
  stream: fc.Arbitrary<StreamItem[]>,
  o: { fast: boolean; max: fc.Arbitrary<number>; exactCounts: boolean },
): number {
  let evicted = 0;
  let reloaded = 0;
  let woken = 0;
  fc.assert(
    fc.property(patterns, stream, commitsArb, modeArb, o.max, (ps, items, commits, mode, max) => {
      const run = compareWithEviction(ps, timedEvents(items), commits, mode, o.fast, max, o.exactCounts);
      evicted += run.evictions;
      reloaded += run.reloads;
      woken += run.woken;
    }),
    { numRuns: Number(process.env.CEPHEUS_PROPERTY_RUNS ?? 300) },
  );
  expect(evicted).toBeGreaterThan(300);
  expect(reloaded).toBeGreaterThan(100);
  return woken;
}

describe('eviction of cold keys', () => {
  it('gives the matches, match order, partial counts, drops and final state of never evicting (general runtime, every operator, keys with timers reloaded as they come due)', () => {
    const woken = checkEquivalence(
      fc.array(patternArb(), { minLength: 1, maxLength: 2 }),
      keyedStreamArb({ keys: ['k1', 'k2', 'k3'], gaps: [0, 200, 600, 1100], maxLength: 40 }),
      // Small bounds: nested `every` can open partial matches exponentially.
      { fast: false, max: fc.constantFrom(1, 3, 20), exactCounts: true },
    );
    expect(woken).toBeGreaterThan(50);
  });

  it('gives the matches, match order, drops and final state of never evicting (sequence fast path, rule families)', () => {
    // Partial counts are compared once every key is back: an evicted run past its deadline is counted until
    // its key is reloaded (expiry is lazy), where the reference engine drops it when stats() is read.
    checkEquivalence(
      sequenceRulesArb,
      keyedStreamArb({ keys: ['k1', 'k2', 'k3'], gaps: [0, 100, 400, 700, 1500], maxLength: 50 }),
      { fast: true, max: fc.constantFrom(1, 3, 10_000), exactCounts: false },
    );
  });

  it('counts the partial matches of evicted sequence keys until they are reloaded', () => {
    const run = new EvictingRunner(['every a=A -> b=B where timer:within(10 sec)', 'every a=A(x > 1) -> b=B where timer:within(10 sec)'], true, 100);
    run.process({ type: 'A', k: 'k1', x: 2, id: 'a1', timestamp: 0 }, 0);
    run.process({ type: 'A', k: 'k2', x: 0, id: 'a2', timestamp: 1 }, 1);
    run.checkpoint();
    run.evictEverything();
    expect(run.engine.residentKeyCount()).toBe(0);
    expect(run.engine.stats().partialMatches).toEqual(new Map([['r0', 2], ['r1', 1]]));
    const matches = run.process({ type: 'B', k: 'k1', x: 0, id: 'b1', timestamp: 2 }, 2);
    expect(matches.map((m) => [m.rule, m.key])).toEqual([['r0', 'k1'], ['r1', 'k1']]);
    expect(run.engine.stats().partialMatches).toEqual(new Map([['r0', 1], ['r1', 0]]));
  });

  it('evicts a key with a pending absence, interval or within timer (general runtime), and will not move the clock to that timer until the key is back', () => {
    for (const pattern of [
      'every a=A -> (timer:interval(1 sec) and not b=B)',
      'every a=A -> timer:interval(1 sec)',
      'every a=A -> (b=B where timer:within(1 sec))',
    ]) {
      const run = new EvictingRunner([pattern], false, 100);
      run.process({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 0 }, 0);
      run.process({ type: 'A', k: 'k2', x: 0, id: 'a2', timestamp: 400 }, 1);
      run.checkpoint();
      expect([pattern, run.engine.evictableKeys().map((k) => k.key)]).toEqual([pattern, ['k1', 'k2']]);
      run.evictEverything();
      expect([pattern, run.engine.residentKeyCount(), run.engine.dormantCount, run.engine.nextDormantDue()]).toEqual([pattern, 0, 2, 1000]);
      expect(run.engine.stats().partialMatches.get('r0')).toBe(2);
      // Up to the timer the clock moves freely; the timer's own millisecond needs the key in memory.
      expect(run.engine.advanceTo(999)).toEqual([]);
      expect(() => run.engine.advanceTo(1000)).toThrow(DormantKeyError);
      expect(() => run.engine.process({ type: 'B', k: 'k3', x: 0, timestamp: 1200 })).toThrow(DormantKeyError);
      const woken: string[] = [];
      run.engine.dormantKeysDueBy(1399, (_rule, key) => woken.push(key));
      expect(woken).toEqual(['k1']);
      run.wake(1399);
      expect([pattern, run.engine.dormantCount, run.engine.nextDormantDue()]).toEqual([pattern, 1, 1400]);
      const fired = run.engine.advanceTo(1399).map((m) => m.key);
      expect([pattern, fired]).toEqual([pattern, pattern.includes('within') ? [] : ['k1']]);
    }
  });

  it('fires the timers of a reloaded key in the order they were set, among the resident keys\' timers of the same millisecond', () => {
    const pattern = 'every a=A -> (timer:interval(1 sec) and not b=B)';
    const reference = engineOf([pattern], { fast: false, max: 100 });
    const run = new EvictingRunner([pattern], false, 100);
    const events = ['k1', 'k2', 'k3'].map((k, i) => ({ type: 'A', k, x: 0, id: `a${i}`, timestamp: 0 }));
    for (const [i, e] of events.entries()) {
      run.process(e, i);
      reference.process(e);
    }
    run.checkpoint();
    // k1 and k3 go, k2 stays: reloaded, k1's timer was still set first.
    expect(run.engine.evictKey('r0', 'k1')).toBe(true);
    expect(run.engine.evictKey('r0', 'k3')).toBe(true);
    run.wake(1000);
    expect(run.engine.advanceTo(1000).map((m) => m.key)).toEqual(reference.advanceTo(1000).map((m) => m.key));
    expect(run.woken).toBe(2);
  });

  it('stops waiting for a dormant key whose stored state is gone, and for the keys of a removed rule', () => {
    const run = new EvictingRunner(['every a=A -> timer:interval(1 sec)', 'every a=A -> timer:interval(2 sec)'], false, 100);
    run.process({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 0 }, 0);
    run.checkpoint();
    run.evictEverything();
    expect(run.engine.dormantCount).toBe(2);
    run.engine.forgetDormant('r0', 'k1');
    expect([run.engine.dormantCount, run.engine.nextDormantDue(), run.engine.stats().partialMatches.get('r0')]).toEqual([1, 2000, 0]);
    run.engine.removeRule('r1');
    expect([run.engine.dormantCount, run.engine.nextDormantDue()]).toEqual([0, Number.POSITIVE_INFINITY]);
    expect(run.engine.advanceTo(5000)).toEqual([]);
  });

  it('a key reloaded and evicted again leaves one dormant entry, which its reload removes', () => {
    const run = new EvictingRunner(['every a=A -> (timer:interval(1 sec) and not b=B)'], false, 100);
    run.process({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 0 }, 0);
    run.checkpoint();
    run.evictEverything();
    run.reload('r0', ['k1']);
    run.engine.drainChanges();
    // Evicted again (unchanged since), and once more after an event that starts a second timer.
    expect(run.engine.evictKey('r0', 'k1')).toBe(true);
    expect([run.engine.dormantCount, run.engine.nextDormantDue()]).toEqual([1, 1000]);
    run.process({ type: 'A', k: 'k1', x: 0, id: 'a2', timestamp: 500 }, 1);
    run.checkpoint();
    expect(run.engine.evictKey('r0', 'k1')).toBe(true);
    expect([run.engine.dormantCount, run.engine.nextDormantDue()]).toEqual([1, 1000]);
    run.wake(1000);
    expect([run.engine.dormantCount, run.engine.nextDormantDue()]).toEqual([0, Number.POSITIVE_INFINITY]);
    expect(run.engine.advanceTo(2000).map((m) => m.time)).toEqual([1000, 1500]);
  });

  it('keeps keys with timers in memory while rules read time from different fields, and refuses an event whose later time passes a dormant timer before any rule sees it', () => {
    const engine = engineOf(['every a=A -> (timer:interval(1 sec) and not b=B)'], { fast: false, max: 10_000, track: true });
    engine.process({ type: 'A', k: 'k1', timestamp: 0 });
    engine.drainChanges();
    expect(engine.mayEvictTimers).toBe(true);
    expect(engine.evictKey('r0', 'k1')).toBe(true);
    expect(engine.nextDormantDue()).toBe(1000);
    // A second rule with another time field: an event's clock is then the latest of its times.
    engine.addRule(compileRule(ruleDefinition('r1', 'every c=C', { partitionBy: 'k', event: { typeField: 'type', timeField: 'at' } })));
    expect(engine.mayEvictTimers).toBe(false);
    expect(engine.latestTimeOf({ type: 'C', k: 'k2', timestamp: 500, at: 5000 })).toBe(5000);
    expect(() => engine.process({ type: 'C', k: 'k2', timestamp: 500, at: 5000 })).toThrow(DormantKeyError);
    expect(engine.stats().keys.get('r1')).toBe(0);
    // The key evicted before the change holds the clock until it is back, whatever its timer's time.
    expect(engine.nextDormantDue()).toBe(Number.NEGATIVE_INFINITY);
    const due: string[] = [];
    engine.dormantKeysDueBy(0, (_rule, key) => due.push(key));
    expect(due).toEqual(['k1']);
    engine.forgetDormant('r0', 'k1');
    engine.process({ type: 'A', k: 'k3', timestamp: 600, at: 600 });
    engine.drainChanges();
    expect(engine.evictKey('r0', 'k3')).toBe(false);
    expect(engine.evictableKeys().map((k) => k.key)).toEqual([]);
  });

  it('a dormant key that starts afresh and is evicted again counts its partial matches once', () => {
    const engine = engineOf(['every a=A -> (timer:interval(1 sec) and not b=B)'], { fast: false, max: 10_000, track: true });
    engine.process({ type: 'A', k: 'k1', timestamp: 0 });
    engine.drainChanges();
    expect(engine.evictKey('r0', 'k1')).toBe(true);
    expect(engine.stats().partialMatches.get('r0')).toBe(1);
    // Its state was not found: an event starts it afresh (one partial match), and it is evicted again.
    engine.forgetDormant('r0', 'k1');
    engine.process({ type: 'A', k: 'k1', timestamp: 100 });
    engine.drainChanges();
    expect(engine.evictKey('r0', 'k1')).toBe(true);
    expect([engine.stats().partialMatches.get('r0'), engine.dormantCount]).toEqual([1, 1]);
  });

  it('evicts sequence keys waiting under within (the deadline is checked when an event comes; expiry emits nothing)', () => {
    const run = new EvictingRunner(['every a=A -> b=B where timer:within(1 sec)'], true, 100);
    run.process({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 0 }, 0);
    run.checkpoint();
    expect(run.engine.evictableKeys()).toEqual([{ rule: 'r0', key: 'k1', active: 0 }]);
    expect(run.engine.evictKey('r0', 'k1')).toBe(true);
    // Past the deadline: the reloaded run has expired and the B matches nothing.
    expect(run.process({ type: 'B', k: 'k1', x: 0, id: 'b1', timestamp: 1500 }, 1)).toEqual([]);
    expect(run.reloads).toBe(1);
    expect(run.engine.stats().partialMatches.get('r0')).toBe(0);
  });

  it('refuses to evict a key changed since the last drain, and unpartitioned rules', () => {
    const run = new EvictingRunner(['every a=A -> b=B'], false, 100);
    run.process({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 0 }, 0);
    expect(run.engine.evictKey('r0', 'k1')).toBe(false);
    run.checkpoint();
    expect(run.engine.evictKey('r0', 'k1')).toBe(true);
    expect(run.engine.evictKey('r0', 'k1')).toBe(false);

    const single = engineOf(['every a=A -> b=B'], { fast: true, max: 100, track: true, partitioned: false });
    single.process({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 0 });
    single.drainChanges();
    expect(single.evictableKeys()).toEqual([]);
    expect(single.residentKeyCount()).toBe(0);
    expect(single.keys('r0')).toEqual([null]);
  });

  it('a partial match dropped for the cap while a node starts leaves no node outside the tree (timers, partial counts)', () => {
    // With one partial match per key, opening the 900 ms interval drops the oldest partial match, an
    // ancestor, which ends the instance: the interval must not start anyway (a timer firing on the ended
    // instance would report its evicted tombstone as deleted).
    const run = new EvictingRunner(['(timer:interval(300 msec)) -> ((timer:interval(300 msec)) -> (timer:interval(900 msec)))'], false, 1);
    run.process({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 0 }, 0);
    run.engine.advanceTo(1100);
    run.checkpoint();
    expect(run.engine.stats().pendingTimers).toBe(0);
    expect(run.engine.evictKey('r0', 'k1')).toBe(true);
    run.engine.advanceTo(2000);
    expect(run.engine.drainChanges()).toEqual([]);
    // Spawning under `every` drops its own every: the spawned child must not be counted as a partial match.
    const engine = engineOf(['(every (t0=A)) -> (every (every (timer:interval(300 msec))))'], { fast: false, max: 1, track: true });
    engine.process({ type: 'A', k: 'k1', x: 0, timestamp: 0 });
    const snapshot = engine.snapshotKey('r0', 'k1')!;
    const restored = engineOf(['(every (t0=A)) -> (every (every (timer:interval(300 msec))))'], { fast: false, max: 1 });
    restored.restoreKey('r0', 'k1', JSON.parse(JSON.stringify(snapshot)) as KeySnapshot);
    expect(restored.snapshotKey('r0', 'k1')).toEqual(snapshot);
    expect(restored.stats().partialMatches).toEqual(engine.stats().partialMatches);
  });

  it('ended keys (tombstones) are evicted and, reloaded, still keep their pattern from starting again', () => {
    const run = new EvictingRunner(['a=A -> b=B'], false, 100);
    run.process({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 0 }, 0);
    expect(run.process({ type: 'B', k: 'k1', x: 0, id: 'b1', timestamp: 1 }, 1)).toHaveLength(1);
    run.checkpoint();
    expect(JSON.parse(run.store.get('r0')!.get('k1')!)).toMatchObject({ ended: true });
    expect(run.engine.evictKey('r0', 'k1')).toBe(true);
    expect(run.engine.residentKeyCount()).toBe(0);
    run.process({ type: 'A', k: 'k1', x: 0, id: 'a2', timestamp: 2 }, 2);
    expect(run.reloads).toBe(1);
    expect(run.process({ type: 'B', k: 'k1', x: 0, id: 'b2', timestamp: 3 }, 3)).toEqual([]);
    // Without the reload, the key would start over and match: what the reload prevents.
    const forgetful = engineOf(['a=A -> b=B'], { fast: false, max: 100, track: true });
    forgetful.process({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 0 });
    forgetful.process({ type: 'B', k: 'k1', x: 0, id: 'b1', timestamp: 1 });
    forgetful.drainChanges();
    forgetful.evictKey('r0', 'k1');
    forgetful.process({ type: 'A', k: 'k1', x: 0, id: 'a2', timestamp: 2 });
    expect(forgetful.process({ type: 'B', k: 'k1', x: 0, id: 'b2', timestamp: 3 })).toHaveLength(1);
  });

  it('records the activity time of the last event that reached a key, and of restores', () => {
    const engine = engineOf(['every a=A -> b=B', 'a=C -> b=B'], { fast: true, max: 100, track: true });
    engine.setActivityTime(5);
    engine.process({ type: 'A', k: 'k1', x: 0, timestamp: 0 });
    engine.setActivityTime(3); // never goes back
    engine.process({ type: 'C', k: 'k2', x: 0, timestamp: 1 });
    expect(engine.activityTime).toBe(5);
    expect([engine.lastActive('r0', 'k1'), engine.lastActive('r1', 'k2'), engine.lastActive('r0', 'k9')]).toEqual([5, 5, undefined]);
    engine.setActivityTime(9);
    engine.process({ type: 'B', k: 'k2', x: 0, timestamp: 2 }); // r1 ends for k2: the tombstone is stamped
    expect(engine.lastActive('r1', 'k2')).toBe(9);
    expect(engine.lastActive('r0', 'k1')).toBe(5);
    engine.drainChanges();
    const snapshot = engine.snapshotKey('r0', 'k1')!;
    expect(engine.evictKey('r0', 'k1')).toBe(true);
    expect(engine.lastActive('r0', 'k1')).toBeUndefined();
    engine.setActivityTime(12);
    engine.reloadKeys('r0', [['k1', snapshot]]);
    expect(engine.lastActive('r0', 'k1')).toBe(12);
  });

  it('keeps the activity of sequence keys when a rule change rebuilds their family', () => {
    const engine = engineOf(['every a=A -> b=B(x > a.x)', 'every a=A -> b=B'], { fast: true, max: 100, track: true });
    engine.setActivityTime(5);
    engine.process({ type: 'A', k: 'k1', x: 0, timestamp: 0 });
    engine.setActivityTime(50);
    engine.removeRule('r1'); // r0 moves to a family of its own, with its keys
    expect(engine.lastActive('r0', 'k1')).toBe(5);
    expect(engine.process({ type: 'B', k: 'k1', x: 1, timestamp: 1 }).map((m) => m.rule)).toEqual(['r0']);
  });

  it('lists for an event the keys of the rules it reaches, by type', () => {
    const engine = new Engine({ sequenceFastPath: true });
    engine.addRule(compileRule(ruleDefinition('seq', 'every a=A -> b=B', { partitionBy: 'k' })));
    engine.addRule(compileRule(ruleDefinition('gen', 'every a=C -> (b=B and c=C)', { partitionBy: 'user' })));
    engine.addRule(compileRule(ruleDefinition('timed', 'every timer:interval(1 sec) -> c=C', { partitionBy: 'k' })));
    engine.addRule(compileRule(ruleDefinition('single', 'every a=A -> b=B')));
    const keysOf = (e: Record<string, unknown>) => {
      const out: string[] = [];
      engine.partitionKeys(e, (rule, key) => out.push(`${rule}:${key}`));
      return [...new Set(out)].sort();
    };
    expect(keysOf({ type: 'B', k: 'k1', user: 'u1', timestamp: 0 })).toEqual(['gen:u1', 'seq:k1', 'timed:k1']);
    expect(keysOf({ type: 'A', k: 7, timestamp: 0 })).toEqual(['seq:7', 'timed:7']);
    expect(keysOf({ type: 'D', k: 'k1', timestamp: 0 })).toEqual(['timed:k1']);
    expect(keysOf({ k: 'k1', timestamp: 0 })).toEqual([]);
    expect(engine.partitionKeyOf('gen', { user: true })).toBe('true');
    expect(engine.partitionKeyOf('single', { k: 'k1' })).toBeUndefined();
  });
});

describe('eviction policy', () => {
  const c = (key: string, active: number) => ({ rule: 'r', key, active });

  it('evicts keys idle for the threshold, then the least recently active down to 10% under the cap', () => {
    const cands = [c('a', 5), c('b', 1), c('c', 9), c('d', 2), c('e', 7)];
    expect(chooseEvictions(cands, 5, 10, { idleMs: 8, maxKeys: null }).map((k) => k.key)).toEqual(['b', 'd']);
    expect(chooseEvictions(cands, 5, 10, { idleMs: null, maxKeys: 5 })).toEqual([]);
    expect(chooseEvictions(cands, 5, 10, { idleMs: null, maxKeys: 3 }).map((k) => k.key)).toEqual(['b', 'd']);
    expect(chooseEvictions(cands, 25, 10, { idleMs: 8, maxKeys: 20 }).map((k) => k.key)).toEqual(['b', 'd', 'a', 'e', 'c']);
    expect(capTarget(20)).toBe(18);
    expect(capTarget(5)).toBe(5);
  });

  it('scans for idle keys at most every quarter of the idle threshold, but at once over the cap', () => {
    const engine = engineOf(['every a=A -> b=B'], { fast: true, max: 100, track: true });
    const evictor = new KeyEvictor({ idleMs: 100, maxKeys: 3 });
    const none = () => () => false;
    const add = (k: string, t: number) => {
      engine.setActivityTime(t);
      engine.process({ type: 'A', k, x: 0, timestamp: t });
      engine.drainChanges();
    };
    add('k1', 0);
    expect(evictor.run(engine, 95, none)).toEqual([]); // scanned: nothing idle yet
    expect(evictor.run(engine, 105, none)).toEqual([]); // k1 is idle now, but the last scan was 10 ago (< 25)
    expect(engine.isResident('r0', 'k1')).toBe(true);
    add('k2', 110);
    expect(evictor.run(engine, 120, none).map((k) => k.key)).toEqual(['k1']);
    expect(engine.isResident('r0', 'k1')).toBe(false);
    add('k3', 121);
    add('k4', 122);
    add('k5', 123);
    expect(evictor.run(engine, 124, none).map((k) => k.key)).toEqual(['k2']); // over the cap (4 > 3): down to 3
    expect(evictor.run(engine, 125, none)).toEqual([]); // not over, scanned 1 ago
    expect(evictor.run(engine, 125, none, true)).toEqual([]); // forced, but nothing idle
    const held = () => (_rule: string, key: string) => key === 'k3';
    expect(evictor.run(engine, 300, held).map((k) => k.key).sort()).toEqual(['k4', 'k5']);
  });
});
