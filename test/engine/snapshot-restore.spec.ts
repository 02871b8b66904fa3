/**
 * Snapshot → JSON → restore → continue gives exactly the matches of never stopping, for random patterns
 * over every operator and random keyed streams, on both runtimes.
 */
import fc from 'fast-check';
import { Engine, KeySnapshot, MatchRecord, compileRule, stateRuntimeMarker } from '../../src/core/engine';
import { keyedStreamArb, patternArb, timedEvents } from '../../src/core/engine/testing/arbitraries';
import { ruleOf } from '../support/pattern-harness';

const streamArb = keyedStreamArb({ keys: ['k1', 'k2'], gaps: [0, 200, 600, 1100], maxLength: 40 });
const events = timedEvents;

function engineFor(pattern: string, partitioned: boolean, fast: boolean): Engine {
  const engine = new Engine({ startTime: 0, sequenceFastPath: fast, maxPartialMatchesPerKey: 3 });
  engine.addRule(compileRule(ruleOf(pattern, { partitionBy: partitioned ? 'k' : undefined })));
  return engine;
}

const strip = (ms: MatchRecord[]) => JSON.parse(JSON.stringify(ms));

function checkRoundTrip(pattern: string, evs: Array<Record<string, unknown>>, cut: number, partitioned: boolean, fast: boolean) {
  const whole = engineFor(pattern, partitioned, fast);
  const expected: MatchRecord[] = [];
  for (const e of evs) expected.push(...whole.process(e));
  expected.push(...whole.advanceTo(100_000));

  const first = engineFor(pattern, partitioned, fast);
  const actual: MatchRecord[] = [];
  for (const e of evs.slice(0, cut)) actual.push(...first.process(e));
  const saved = JSON.stringify({
    time: first.isStarted ? first.now : null,
    keys: first.keys('test').map((k) => [k, first.snapshotKey('test', k)]),
  });

  const second = engineFor(pattern, partitioned, fast);
  const { time, keys } = JSON.parse(saved) as { time: number | null; keys: Array<[string | null, KeySnapshot]> };
  for (const [k, snap] of keys) second.restoreKey('test', k, snap);
  if (time !== null) second.setTime(time);
  // A restored key snapshots to exactly what was saved: restoring changes nothing.
  for (const [k, snap] of keys) expect(second.snapshotKey('test', k)).toEqual(snap);
  expect(second.stats().partialMatches).toEqual(first.stats().partialMatches);
  for (const e of evs.slice(cut)) actual.push(...second.process(e));
  actual.push(...second.advanceTo(100_000));
  expect(strip(actual)).toEqual(strip(expected));
}

describe('engine state snapshots', () => {
  it('restore and continue exactly like an engine that never stopped (general runtime)', () => {
    fc.assert(
      fc.property(patternArb(), streamArb, fc.nat(), fc.boolean(), (pattern, stream, cutSeed, partitioned) => {
        const evs = events(stream);
        checkRoundTrip(pattern, evs, evs.length === 0 ? 0 : cutSeed % (evs.length + 1), partitioned, false);
      }),
      { numRuns: 300 },
    );
  });

  it('restore and continue exactly like an engine that never stopped (sequence fast path)', () => {
    const seq = fc.constantFrom(
      'every a=A -> b=B(x > a.x) where timer:within(1 sec)',
      'every a=A -> (b=B -> c=C(x >= b.x)) where timer:within(2 sec)',
      'every a=A(x > 1) -> b=B -> c=A where timer:within(700 msec)',
      'every a=A -> b=A',
    );
    fc.assert(
      fc.property(seq, streamArb, fc.nat(), fc.boolean(), (pattern, stream, cutSeed, partitioned) => {
        const evs = events(stream);
        checkRoundTrip(pattern, evs, evs.length === 0 ? 0 : cutSeed % (evs.length + 1), partitioned, true);
      }),
      { numRuns: 300 },
    );
  });

  it('every-distinct keeps the keys of each spawned instance across a restore, at every cut', () => {
    const pattern = 'every-distinct(a.x) (a=A -> b=B(x = a.x) where timer:within(1 sec))';
    const evs = [
      { type: 'A', x: 1, k: 'k1', timestamp: 0 },
      { type: 'B', x: 1, k: 'k1', timestamp: 100 },
      { type: 'A', x: 2, k: 'k1', timestamp: 200 },
      { type: 'A', x: 1, k: 'k1', timestamp: 1500 },
      { type: 'B', x: 1, k: 'k1', timestamp: 1600 },
    ];
    for (let cut = 0; cut <= evs.length; cut++) for (const partitioned of [false, true]) checkRoundTrip(pattern, evs, cut, partitioned, false);
  });

  it('every-distinct snapshots of one instance are in the format versions before 2026-11-24 read and wrote (one set for the node)', () => {
    const rule = compileRule(ruleOf('every-distinct(a.x) (a=A -> b=B)'));
    const engine = new Engine({ startTime: 0 });
    engine.addRule(rule);
    engine.process({ type: 'A', x: 1, timestamp: 0 });
    engine.process({ type: 'B', timestamp: 1 });
    const saved = JSON.parse(JSON.stringify(engine.snapshotKey('test', null))) as KeySnapshot;
    // One spawned instance: the node is stored with `k` alone, which is also what versions before 2026-11-24
    // wrote and read (one set for the node), so snapshots stay readable both ways across a rolling deploy.
    expect(JSON.stringify(saved)).toContain('"k":[["[1]",null]]');
    expect(JSON.stringify(saved)).not.toContain('"ks"');
    const restored = new Engine({ startTime: 0 });
    restored.addRule(rule);
    restored.restoreKey('test', null, saved);
    restored.setTime(1);
    // Key 1 was seen: A/B with x 1 again passes nothing, x 2 passes.
    expect([{ type: 'A', x: 1, timestamp: 2 }, { type: 'B', timestamp: 3 }].flatMap((e) => restored.process(e))).toEqual([]);
    expect([{ type: 'A', x: 2, timestamp: 4 }, { type: 'B', timestamp: 5 }].flatMap((e) => restored.process(e))).toHaveLength(1);
  });

  it('a snapshot of the other runtime (the rule changed runtime between versions) restores as a fresh key, not a dead one', () => {
    const pattern = 'every a=A -> b=B where timer:within(10 sec)';
    const snapshotOn = (fast: boolean) => {
      const e = engineFor(pattern, true, fast);
      e.process({ type: 'A', k: 'k1', timestamp: 1000 });
      return JSON.parse(JSON.stringify(e.snapshotKey('test', 'k1'))) as KeySnapshot;
    };
    for (const [from, to] of [
      [true, false],
      [false, true],
    ]) {
      const engine = engineFor(pattern, true, to);
      expect(() => engine.restoreKey('test', 'k1', snapshotOn(from))).not.toThrow();
      engine.setTime(1000);
      // The old partial match is gone; the key is live: a new A then B match.
      expect(engine.process({ type: 'B', k: 'k1', timestamp: 2000 })).toEqual([]);
      engine.process({ type: 'A', k: 'k1', timestamp: 3000 });
      expect(engine.process({ type: 'B', k: 'k1', timestamp: 4000 })).toHaveLength(1);
    }
  });

  it('rules that changed runtime between versions (a zero-length or calendar within) get their own state version marker', () => {
    const marker = (p: string) => stateRuntimeMarker(compileRule(ruleOf(p)).pattern);
    expect(marker('every a=A -> b=B where timer:within(1 month)')).toBe('general');
    expect(marker('every a=A -> b=B where timer:within(0 sec)')).toBe('general');
    expect(marker('every a=A -> b=B where timer:within(30 days)')).toBe('');
    expect(marker('every a=A -> (b=B and not C) where timer:within(1 month)')).toBe('');
  });

  it('periods computed from tags, including ones that are not numbers, continue across a restore at every cut', () => {
    const pattern = 'every a=A -> (timer:interval(a.d) or (b=B where timer:within(a.d * 2)))';
    const evs = [
      { type: 'A', id: 'A1', timestamp: 0, k: 'k1', d: 1 },
      { type: 'A', id: 'A2', timestamp: 100, k: 'k1' },
      { type: 'B', id: 'B1', timestamp: 500, k: 'k1' },
      { type: 'A', id: 'A3', timestamp: 900, k: 'k2', d: 'soon' },
      { type: 'A', id: 'A4', timestamp: 900, k: 'k2', d: 0.3 },
      { type: 'B', id: 'B2', timestamp: 1000, k: 'k2' },
      { type: 'X', id: 'X1', timestamp: 3000, k: 'k1' },
    ];
    for (const partitioned of [false, true]) {
      for (let cut = 0; cut <= evs.length; cut++) checkRoundTrip(pattern, evs, cut, partitioned, false);
    }
  });

  it('timer:schedule keeps its plan, count and last time across a restore at every cut', () => {
    const evs = [
      { type: 'A', id: 'A1', timestamp: 0, k: 'k1', d: 1, n: 3, s: '1970-01-01T00:00:02.500Z' },
      { type: 'A', id: 'A2', timestamp: 700, k: 'k1', d: 2, n: -1, s: 'not a date' },
      { type: 'B', id: 'B1', timestamp: 1500, k: 'k1' },
      { type: 'A', id: 'A3', timestamp: 2200, k: 'k2', d: 0.5, n: 0, s: '1970-01-01' },
      { type: 'A', id: 'A4', timestamp: 3100, k: 'k2', d: 'soon', n: 2, s: '1970-01-01T00:00:04Z' },
      { type: 'B', id: 'B2', timestamp: 4000, k: 'k2' },
      { type: 'X', id: 'X1', timestamp: 9000, k: 'k1' },
    ];
    const patterns = [
      'every a=A -> every timer:schedule(period: a.d sec, repetitions: a.n)',
      'every a=A -> (every timer:schedule(date: a.s, period: 1500 msec, repetitions: 4)) where timer:within(6 sec)',
      "every timer:schedule(iso: 'R/1970-01-01T00:00:00.250Z/PT1S') and not B",
      "a=A -> every timer:schedule(iso: 'R3/P1M')",
      "every a=A -> (timer:schedule(iso: 'PT2S') or b=B)",
    ];
    for (const pattern of patterns) {
      for (const partitioned of [false, true]) {
        for (let cut = 0; cut <= evs.length; cut++) checkRoundTrip(pattern, evs, cut, partitioned, false);
      }
    }
  });

  it('snapshots are plain JSON with events stored once', () => {
    const engine = engineFor('every a=A -> (b=B and c=C)', false, false);
    const ev = { type: 'A', id: 'A1', timestamp: 1, x: 1 };
    engine.process(ev);
    engine.process({ type: 'B', id: 'B1', timestamp: 2, x: 1 });
    const snap = engine.snapshotKey('test', null)!;
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(snap.events.filter((e) => (e as { id: string }).id === 'A1')).toHaveLength(1);
  });
});
