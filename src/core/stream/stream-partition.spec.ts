import fc from 'fast-check';
import { compileRule, Engine, KeyEvictor, type KeySnapshot, type MatchRecord } from '../engine';
import { RULE_DEFAULTS, type RuleDefinition } from '../rules/rule';
import { DEFAULT_STREAM_SETTINGS, type StreamSettings } from './settings';
import { StreamPartition, type StreamRecord } from './stream-partition';

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

const PATTERNS = [
  'every a=A -> b=B where timer:within(1500 msec)',
  'every a=A -> (timer:interval(1 sec) and not b=B)',
  'every a=A -> b=B(x > a.x) -> c=C',
  '[2] a=A until b=B',
  'every (a=A and b=B) where timer:within(2 sec)',
];
const rules = PATTERNS.map((p, i) => compileRule(def(`r${i}`, p)));

/** Both engine runtimes; CEPHEUS_TEST_SEQUENCE_FAST_PATH=0 forces the general one. */
const FAST = process.env.CEPHEUS_TEST_SEQUENCE_FAST_PATH !== '0';

const settings = (s: Partial<StreamSettings> = {}): StreamSettings => ({ ...DEFAULT_STREAM_SETTINGS, ...s });

type Ev = { type: string; k: string; x: number; id: string; timestamp: number };
let offsetSeq = 0;
const rec = (event: Ev, offset = offsetSeq++): StreamRecord<string> => ({ offset, position: `t/0/${offset}`, event, raw: event.id });

const strip = (ms: MatchRecord[]) => JSON.parse(JSON.stringify(ms));

function inOrder(events: Ev[], until: number): MatchRecord[] {
  const engine = new Engine({ sequenceFastPath: FAST });
  for (const r of rules) engine.addRule(r);
  const out: MatchRecord[] = [];
  for (const e of [...events].sort((a, b) => a.timestamp - b.timestamp)) out.push(...engine.process(e));
  out.push(...engine.advanceTo(until));
  return out;
}

const eventsArb = fc
  .array(
    fc.record({
      type: fc.constantFrom('A', 'B', 'C'),
      k: fc.constantFrom('k1', 'k2'),
      x: fc.integer({ min: 0, max: 4 }),
      gap: fc.integer({ min: 1, max: 700 }),
      delay: fc.integer({ min: 0, max: 1000 }),
    }),
    { maxLength: 40 },
  )
  .map((xs) => {
    let t = 1_000_000;
    return xs.map((x, i) => ({ ev: { type: x.type, k: x.k, x: x.x, id: `e${i}`, timestamp: (t += x.gap) }, delay: x.delay }));
  });

describe('StreamPartition', () => {
  it('frees keys in a new key\'s state, and with checkpoints deletes their stored copies too', () => {
    const login = compileRule(def('login', 'every a=A -> b=B where timer:within(1 sec)'));
    const run = (trackChanges: boolean) => {
      const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ idleTimeout: null, maxOutOfOrderness: 0 }), rules: [login], trackChanges });
      // What a checkpoint store would hold, fed each 1,000 events' changes (a batch).
      const store = new Set<string>();
      let stored = 0;
      for (let i = 0; i < 25_000; i++) {
        p.add(rec({ type: 'A', k: `user${i}`, x: 0, id: `a${i}`, timestamp: i * 100 }), 0);
        if (trackChanges && i % 1000 === 999) {
          for (const c of p.engineView.drainChanges()) {
            if (c.snapshot === null) store.delete(`${c.rule}/${c.key}`);
            else store.add(`${c.rule}/${c.key}`);
          }
          stored = Math.max(stored, store.size);
        }
      }
      return { reclaims: p.engineView.reclaimsFreshKeys, keys: p.engineView.residentKeysByRule().get('login')!, stored };
    };
    const embedded = run(false);
    expect(embedded.reclaims).toBe(true);
    expect(embedded.keys).toBeLessThan(15_000);
    // Each user's partial match lasts 1 s (10 users); a sweep starts after 10,000 new keys.
    const checkpointed = run(true);
    expect(checkpointed.reclaims).toBe(true);
    expect(checkpointed.keys).toBeLessThan(15_000);
    expect(checkpointed.stored).toBeGreaterThan(9_000);
    expect(checkpointed.stored).toBeLessThan(15_000);
  });

  it('goes on after moving the engine clock throws (a defect in a timer), reporting it as a failure', () => {
    const absent = compileRule(def('absent', 'every a=A -> (timer:interval(1 sec) and not b=B)'));
    const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ idleTimeout: null, maxOutOfOrderness: 500 }), rules: [absent] });
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 1_000 }), 0);
    const advance = jest.spyOn(p.engineView, 'advanceTo').mockImplementationOnce(() => {
      throw new Error('timer defect');
    });
    // The watermark reaches 2 s, k1's timer: moving the clock there throws.
    expect(() => p.add(rec({ type: 'A', k: 'k2', x: 0, id: 'a2', timestamp: 2_500 }), 0)).not.toThrow();
    let out = p.take();
    expect(out.failed.map((f) => [f.raw, f.position, (f.error as Error).message])).toEqual([[undefined, 'timers up to 2000', 'timer defect']]);
    // The next move fires what is due: both keys' absences, nothing lost or stuck.
    p.add(rec({ type: 'C', k: 'k3', x: 0, id: 'c', timestamp: 5_000 }), 0);
    out = p.take();
    expect(out.failed).toEqual([]);
    expect(out.matches.map((m) => [m.key, (m.events.a as Ev).id])).toEqual([
      ['k1', 'a1'],
      ['k2', 'a2'],
    ]);
    expect(advance).toHaveBeenCalledTimes(2);
  });

  it('events out of order within maxOutOfOrderness give the matches of the same events in order', () => {
    fc.assert(
      fc.property(eventsArb, (items) => {
        const ooo = 1000;
        // Arrival order: by time + a delay of at most maxOutOfOrderness, so nothing is late.
        const arrival = [...items].sort((a, b) => a.ev.timestamp + a.delay - (b.ev.timestamp + b.delay)).map((x) => x.ev);
        const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ maxOutOfOrderness: ooo, idleTimeout: 1 }), rules });
        let offset = 0;
        for (const e of arrival) expect(p.add(rec(e, offset++), 0)).toBe('buffered');
        p.tick(5_000); // idle: the watermark passes everything
        const out = p.take();
        expect(out.lateDropped).toEqual([]);
        const until = p.watermark;
        expect(strip(out.matches)).toEqual(strip(inOrder(arrival, until)));
      }),
      { numRuns: 200 },
    );
  });

  it('merging origins read at different moments adds no disorder (repartition topics)', () => {
    fc.assert(
      fc.property(eventsArb, fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), (items, sides) => {
        const events = items.map((x) => x.ev);
        // Each origin's events in time order, but the origins' runs read one after the other in chunks.
        const origins = [0, 1].map((o) => events.filter((_, i) => sides[i] === (o === 1)));
        const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ idleTimeout: 1000 }), rules });
        p.expectOrigins(['s/0', 's/1'], 0);
        let offset = 0;
        const sent = [0, 0];
        for (const chunk of [7, 20, 3, 40]) {
          for (const o of [1, 0]) {
            for (const e of origins[o].slice(sent[o], sent[o] + chunk)) {
              expect(p.add({ ...rec(e, offset++), origin: { partition: `s/${o}`, offset: sent[o] } }, 0)).toBe('buffered');
              sent[o]++;
            }
            const last = origins[o][sent[o] - 1];
            if (last) p.mark(`s/${o}`, last.timestamp, 0);
          }
        }
        // Both origins are caught up; then the wall clock moves the watermark on.
        p.markIdle('s/0', 5_000);
        p.markIdle('s/1', 5_000);
        p.tick(5_000);
        const out = p.take();
        expect(out.lateDropped).toEqual([]);
        expect(strip(out.matches)).toEqual(strip(inOrder(events, p.watermark)));
      }),
      { numRuns: 150 },
    );
  });

  it('merging origins: events of equal time reach the engine in (origin, offset) order, whichever arrived first', () => {
    const pair = compileRule(def('pair', 'every a=A -> b=B'));
    const T = 1_000_000;
    const run = (first: 'A' | 'B') => {
      const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ idleTimeout: null }), rules: [pair] });
      p.expectOrigins(['s/0', 's/1'], 0);
      const a = { offset: 0, position: 's/0/7', origin: { partition: 's/0', offset: 7 }, event: { type: 'A', k: 'x', timestamp: T }, raw: 'a' };
      const b = { offset: 0, position: 's/1/3', origin: { partition: 's/1', offset: 3 }, event: { type: 'B', k: 'x', timestamp: T }, raw: 'b' };
      const [x, y] = first === 'A' ? [a, b] : [b, a];
      p.add({ ...x, offset: 0 }, 0);
      p.add({ ...y, offset: 1 }, 0);
      p.mark('s/0', T + 5000, 0);
      p.mark('s/1', T + 5000, 0);
      return strip(p.take().matches);
    };
    expect(run('B')).toEqual(run('A'));
    expect(run('B')).toHaveLength(1);
  });

  it('sends late events beyond allowedLateness to the dead letters, processes those within', () => {
    const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ allowedLateness: 500 }), rules: [rules[0]] });
    expect(p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 10_000 }), 0)).toBe('buffered');
    expect(p.add(rec({ type: 'A', k: 'k2', x: 0, id: 'a2', timestamp: 9_400 }), 0)).toBe('late_dropped');
    expect(p.add(rec({ type: 'B', k: 'k1', x: 0, id: 'b1', timestamp: 9_600 }), 0)).toBe('late_accepted');
    const out = p.take();
    expect(out.lateDropped).toEqual([{ raw: 'a2', position: expect.stringMatching(/^t\/0\/\d+$/), time: 9_400, watermark: 10_000 }]);
    expect(out.lateAccepted).toBe(1);
    // The accepted late event is processed at the clock (10 000): a1 -> b1 matches.
    expect(out.matches.map((m) => [m.key, m.time, (m.events.b as Ev).id])).toEqual([['k1', 10_000, 'b1']]);
  });

  it('fires an absence timer on an idle partition as the wall clock passes it', () => {
    const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ idleTimeout: 1000 }), rules: [rules[1]] });
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a', timestamp: 50_000 }), 100);
    p.tick(900); // quiet for 0.8 s: not idle
    expect(p.take().matches).toEqual([]);
    p.tick(1_099); // idle; watermark 50_999
    expect(p.take().matches).toEqual([]);
    p.tick(1_100); // watermark 51_000: the interval ends
    expect(p.take().matches.map((m) => [m.key, m.time])).toEqual([['k1', 51_000]]);
  });

  it('skips offsets already read, and re-sent copies of source records (repartition topics)', () => {
    const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings(), rules: [rules[0]] });
    const a = { type: 'A', k: 'k1', x: 0, id: 'a', timestamp: 1 };
    expect(p.add({ ...rec(a, 5), origin: { partition: 'src/1', offset: 40 } }, 0)).toBe('buffered');
    expect(p.add({ ...rec(a, 5), origin: { partition: 'src/1', offset: 40 } }, 0)).toBe('seen');
    expect(p.add({ ...rec(a, 6), origin: { partition: 'src/1', offset: 40 } }, 0)).toBe('duplicate');
    expect(p.add({ ...rec(a, 7), origin: { partition: 'src/2', offset: 40 } }, 0)).toBe('buffered');
    expect(p.nextOffset).toBe(8);
  });

  it('commits only up to the oldest buffered event', () => {
    const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ maxOutOfOrderness: 100 }), rules: [rules[0]] });
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a', timestamp: 1000 }, 10), 0);
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'b', timestamp: 1050 }, 11), 0);
    expect(p.safeOffset()).toBe(10);
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'c', timestamp: 1110 }, 12), 0);
    expect(p.safeOffset()).toBe(11);
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'd', timestamp: 5000 }, 13), 0);
    expect(p.safeOffset()).toBe(13);
  });

  it('releases the oldest buffered events on demand; later events older than them are late', () => {
    const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ maxOutOfOrderness: 60_000 }), rules: [rules[0]] });
    p.add(rec({ type: 'B', k: 'k1', x: 0, id: 'b1', timestamp: 1_400 }), 0);
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 1_000 }), 0);
    p.add(rec({ type: 'A', k: 'k2', x: 0, id: 'a2', timestamp: 1_200 }), 0);
    p.add(rec({ type: 'B', k: 'k2', x: 0, id: 'b2', timestamp: 5_000 }), 0);
    expect(p.bufferedCount).toBe(4);

    // The two oldest (a1, a2) go now; a1 -> b1 waits for b1, which is still buffered.
    expect(p.releaseBuffered(2)).toBe(2);
    expect(p.watermark).toBe(1_200);
    expect(p.take().matches).toEqual([]);
    expect(p.releaseBuffered(1)).toBe(1);
    expect(p.take().matches.map((m) => [m.key, (m.events.b as Ev).id])).toEqual([['k1', 'b1']]);
    expect(p.add(rec({ type: 'B', k: 'k2', x: 0, id: 'late', timestamp: 1_300 }), 0)).toBe('late_dropped');
    expect(p.releaseBuffered(0)).toBe(0);
    expect(p.bufferedCount).toBe(1);
  });

  it('leaves events no rule can use aside', () => {
    const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings(), rules: [rules[0]] });
    expect(p.add({ offset: 0, position: 'p', event: { type: 'A', k: 'k1' }, raw: 'x' }, 0)).toBe('unusable');
  });

  it('processing time: events are timed by the wall clock and alerts carry the events as received', () => {
    const remembered: Array<[object, string]> = [];
    const p = new StreamPartition<string>({
      sequenceFastPath: FAST,
      settings: settings({ timeMode: 'processing' }),
      rules: [rules[0]],
      remember: (e, pos) => remembered.push([e, pos]),
    });
    const a = { type: 'A', k: 'k1', id: 'a' } as unknown as Ev;
    const b = { type: 'B', k: 'k1', id: 'b', timestamp: 1 } as unknown as Ev;
    p.add({ offset: 0, position: 't/0/0', event: a, raw: 'a' }, 10_000);
    p.add({ offset: 1, position: 't/0/1', event: b, raw: 'b' }, 11_000);
    const m = p.take().matches;
    expect(m).toHaveLength(1);
    expect(m[0].time).toBe(11_000);
    expect(m[0].events.a).toBe(a);
    expect(m[0].events.b).toBe(b);
    expect(remembered.filter(([e]) => e === a || e === b).map(([, pos]) => pos)).toEqual(['t/0/0', 't/0/1']);
    // Timers follow the wall clock.
    const q = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ timeMode: 'processing' }), rules: [rules[1]] });
    q.add({ offset: 0, position: 'p', event: a, raw: 'a' }, 10_000);
    q.tick(10_999);
    expect(q.take().matches).toEqual([]);
    q.tick(11_000);
    expect(q.take().matches.map((x) => x.time)).toEqual([11_000]);
  });

  it('keeps state across rule metadata changes and drops removed rules', () => {
    const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings(), rules: [rules[0], rules[1]] });
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a', timestamp: 1000 }), 0);
    const renamed = compileRule({ ...rules[0].definition, severity: 'critical' });
    p.setRules([renamed]);
    expect(p.ruleIds).toEqual(['r0']);
    p.add(rec({ type: 'B', k: 'k1', x: 0, id: 'b', timestamp: 1100 }), 0);
    expect(p.take().matches.map((m) => m.rule)).toEqual(['r0']);
  });

  it('snapshot → JSON → restore continues exactly like a partition that never stopped', () => {
    fc.assert(
      fc.property(eventsArb, fc.nat(), (items, cutSeed) => {
        const arrival = [...items].sort((a, b) => a.ev.timestamp + a.delay - (b.ev.timestamp + b.delay)).map((x) => x.ev);
        const cut = arrival.length === 0 ? 0 : cutSeed % (arrival.length + 1);
        const make = () => new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ maxOutOfOrderness: 1000, idleTimeout: 1 }), rules });
        const whole = make();
        arrival.forEach((e, i) => whole.add(rec(e, i), 0));
        whole.tick(5_000);
        const expected = whole.take().matches;

        const first = make();
        arrival.slice(0, cut).forEach((e, i) => first.add(rec(e, i), 0));
        const before = first.take().matches;
        const saved = JSON.stringify(first.snapshot());
        const second = make();
        second.restore(JSON.parse(saved), 0);
        // A re-delivery of what was read before the snapshot is skipped.
        arrival.forEach((e, i) => second.add(rec(e, i), 0));
        second.tick(5_000);
        expect(strip([...before, ...second.take().matches])).toEqual(strip(expected));
      }),
      { numRuns: 150 },
    );
  });
});

describe('StreamPartition restored by another process', () => {
  it('the time it was not read is not quiet time: no absence fires for the downtime, and the backlog is not late', () => {
    const T = 1_700_000_000_000;
    const absence = compileRule(def('absence', 'every a=A -> (timer:interval(60 sec) and not b=B)'));
    const make = () => new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ idleTimeout: 30_000 }), rules: [absence] });
    const first = make();
    first.add({ offset: 0, position: 'p/0/0', event: { type: 'A', k: 'x', timestamp: T }, raw: 'a' }, T);
    const saved = JSON.parse(JSON.stringify(first.snapshot()));
    // The replica died; another one restores the partition an hour later, ticks, then reads the backlog.
    const second = make();
    second.restore(saved, T + 3_600_000);
    second.tick(T + 3_600_000 + 250);
    const backlog = second.add({ offset: 1, position: 'p/0/1', event: { type: 'B', k: 'x', timestamp: T + 10_000 }, raw: 'b' }, T + 3_600_000 + 500);
    expect(backlog).toBe('buffered');
    expect(second.take()).toMatchObject({ matches: [], lateDropped: [] });
    // Quiet for idleTimeout after the restore: now the wall clock moves the watermark again.
    second.add({ offset: 2, position: 'p/0/2', event: { type: 'A', k: 'y', timestamp: T + 20_000 }, raw: 'c' }, T + 3_600_000 + 1000);
    second.tick(T + 3_600_000 + 1000 + 30_000 + 61_000);
    expect(second.take().matches.map((m) => m.key)).toEqual(['y']);
  });
});

describe('StreamPartition evicting cold keys', () => {
  /** Restores keys from a store of JSON snapshots (as the consumer does from Redis); returns how many. */
  const reloadFrom = (p: StreamPartition<string>, store: Map<string, string>, wanted: Map<string, string[]>): number => {
    let n = 0;
    for (const [rule, keys] of wanted) {
      const stored = keys.filter((k) => store.has(`${rule}/${k}`) && !p.engineView.isResident(rule, k));
      p.engineView.reloadKeys(rule, stored.map((k) => [k, JSON.parse(store.get(`${rule}/${k}`)!) as KeySnapshot]));
      n += stored.length;
    }
    return n;
  };

  it.each([
    ['in order within maxOutOfOrderness', { maxOutOfOrderness: 1000, idleTimeout: 1 }],
    ['with late events accepted', { maxOutOfOrderness: 200, allowedLateness: 5000, idleTimeout: 1 }],
  ])('keeps the keys of events waiting in the reorder buffer, reloads keys evicted with timers before the clock reaches them, and gives the matches of never evicting (%s)', (_name, s) => {
    let evictedWhileBuffered = 0;
    let woken = 0;
    let late = 0;
    fc.assert(
      fc.property(eventsArb, fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }), (items, sizes) => {
        const arrival = [...items].sort((a, b) => a.ev.timestamp + a.delay - (b.ev.timestamp + b.delay)).map((x) => x.ev);
        const make = () => new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings(s), rules, trackChanges: true });
        const plain = make();
        arrival.forEach((e, i) => plain.add(rec(e, i), 0));
        plain.tick(5_000);

        // As the Kafka consumer does per batch: reload the batch's keys and the keys with timers due by the time
        // the batch can reach, add its records, checkpoint, evict.
        const p = make();
        const store = new Map<string, string>();
        const evictor = new KeyEvictor({ idleMs: 0, maxKeys: 0 });
        for (let i = 0, b = 0; i < arrival.length; b++) {
          const batch = arrival.slice(i, i + sizes[b % sizes.length]);
          reloadFrom(p, store, p.keysNotResident(batch));
          woken += reloadFrom(p, store, p.keysToWake(p.wakeBound(batch, [], 0, 0)));
          expect(p.waitsForKeys).toBe(false);
          for (const e of batch) if (p.add(rec(e, i++), 0) === 'late_accepted') late++;
          for (const c of p.engineView.drainChanges()) {
            if (c.snapshot === null) store.delete(`${c.rule}/${c.key}`);
            else store.set(`${c.rule}/${c.key}`, JSON.stringify(c.snapshot));
          }
          const evicted = p.evictColdKeys(evictor, 0).length;
          if (p.bufferedCount > 0) evictedWhileBuffered += evicted;
        }
        // The tick moves the watermark by the wall clock: events and the clock wait for the keys it reaches.
        p.tick(5_000);
        if (p.waitsForKeys) {
          woken += reloadFrom(p, store, p.keysToWake());
          p.resume();
        }
        expect(p.waitsForKeys).toBe(false);
        const out = p.take();
        expect(out.failed).toEqual([]);
        expect(strip(out.matches)).toEqual(strip(plain.take().matches));
      }),
      { numRuns: 200 },
    );
    expect(evictedWhileBuffered).toBeGreaterThan(100);
    expect(woken).toBeGreaterThan(20);
    if ('allowedLateness' in s) expect(late).toBeGreaterThan(50);
  });

  /** A partition in event order (no reorder buffer) recording changes, as checkpointing runs it. */
  const inOrder = (running: typeof rules) => new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ maxOutOfOrderness: 0 }), rules: running, trackChanges: true });

  it('holds events and the clock at the timer of a key evicted with it, and goes on once the key is back', () => {
    const p = inOrder([rules[1]]);
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 1000 }), 0);
    const [change] = p.engineView.drainChanges();
    expect(p.evictColdKeys(new KeyEvictor({ idleMs: 0, maxKeys: 0 }), 0).map((k) => k.key)).toEqual(['k1']);
    // Past the timer (2000): the event at 2500 waits, and so does the clock.
    expect(p.add(rec({ type: 'C', k: 'k2', x: 0, id: 'c1', timestamp: 2500 }), 0)).toBe('buffered');
    expect([p.waitsForKeys, p.bufferedCount, p.engineView.now]).toEqual([true, 1, 1000]);
    expect(p.keysToWake()).toEqual(new Map([['r1', ['k1']]]));
    expect(p.take().matches).toEqual([]);
    p.engineView.reloadKeys('r1', [['k1', JSON.parse(JSON.stringify(change.snapshot)) as KeySnapshot]]);
    p.resume();
    expect([p.waitsForKeys, p.bufferedCount, p.engineView.now]).toEqual([false, 0, 2500]);
    expect(p.take().matches.map((m) => [m.key, m.time])).toEqual([['k1', 2000]]);
  });

  it('does not let an event the batch will reject as future_time raise the bound of the keys to wake', () => {
    const p = inOrder([rules[1]]);
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 1000 }), 0);
    const future = { type: 'B', k: 'k2', x: 0, id: 'b', timestamp: 9_000_000 };
    expect(p.wakeBound([future], [], 0, 0)).toBe(9_000_000);
    expect(p.wakeBound([future], [], 0, 0, 100_000)).toBe(1000);
  });

  it('a rule change that removes the rule whose dormant keys held the clock lets the held events go', () => {
    const p = inOrder([rules[0], rules[1]]);
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a1', timestamp: 1000 }), 0);
    p.engineView.drainChanges();
    p.evictColdKeys(new KeyEvictor({ idleMs: 0, maxKeys: 0 }), 0);
    p.add(rec({ type: 'C', k: 'k2', x: 0, id: 'c1', timestamp: 3500 }), 0);
    expect([p.waitsForKeys, p.bufferedCount]).toEqual([true, 1]);
    p.setRules([rules[0]]);
    expect([p.waitsForKeys, p.bufferedCount, p.engineView.now, p.hasOutput]).toEqual([false, 0, 3500, false]);
  });

  it('reports the keys of a batch that are not in memory, once per rule', () => {
    const p = new StreamPartition<string>({ sequenceFastPath: FAST, settings: settings({ maxOutOfOrderness: 1000 }), rules: [rules[0], rules[2]], trackChanges: true });
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a', timestamp: 1000 }), 0);
    p.add(rec({ type: 'A', k: 'k1', x: 0, id: 'a', timestamp: 3000 }), 0); // releases the first
    const batch = [
      { type: 'B', k: 'k1', x: 0, id: 'b1', timestamp: 3100 },
      { type: 'B', k: 'k2', x: 0, id: 'b2', timestamp: 3100 },
      { type: 'B', k: 'k2', x: 0, id: 'b3', timestamp: 3100 },
      { type: 'C', k: 'k3', x: 0, id: 'c', timestamp: 3100 },
    ];
    expect(p.keysNotResident(batch)).toEqual(
      new Map([
        ['r0', ['k2']],
        ['r2', ['k2', 'k3']],
      ]),
    );
    // k1's second A waits in the buffer: held, for both rules it reaches.
    const held = p.heldKeys();
    expect([held('r0', 'k1'), held('r2', 'k1'), held('r0', 'k2')]).toEqual([true, true, false]);
  });
});

