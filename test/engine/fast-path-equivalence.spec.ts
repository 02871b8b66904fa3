/**
 * The flat sequence automaton (sequence.ts) must be indistinguishable from the general state-tree runtime:
 * same matches in the same order, same partial-match counts and drops, on random patterns of its shape and
 * random keyed event streams.
 */
import fc from 'fast-check';
import { Engine, MatchRecord, compileRule } from '../../src/core/engine';
import { ruleOf } from '../support/pattern-harness';

const TYPES = ['A', 'B', 'C'];
const TAGS = 'abcdefghijkl'.split('');

/** `every a=T(..) -> step -> ...` where a step is a filter, a guarded filter or a guarded group of filters. */
const sequencePattern = fc
  .record({
    startType: fc.constantFrom(...TYPES),
    startLimit: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
    items: fc.array(
      fc.record({
        filters: fc.array(
          fc.record({ type: fc.constantFrom(...TYPES), correlate: fc.constantFrom('none', 'gt', 'eq', 'own') }),
          { minLength: 1, maxLength: 3 },
        ),
        withinMs: fc.option(fc.constantFrom(500, 1000, 2500), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ startType, startLimit, items }) => {
    let t = 0;
    const start = `every ${TAGS[t++]}=${startType}${startLimit === undefined ? '' : `(x > ${startLimit})`}`;
    const parts = items.map((item) => {
      const filters = (item.withinMs === undefined ? item.filters.slice(0, 1) : item.filters).map((f) => {
        const prev = TAGS[t - 1];
        const tag = TAGS[t++];
        const cond = { none: '', gt: `(x > ${prev}.x)`, eq: `(x = ${prev}.x)`, own: '(x >= 2)' }[f.correlate];
        return `${tag}=${f.type}${cond}`;
      });
      const body = filters.join(' -> ');
      if (item.withinMs === undefined) return body;
      return filters.length > 1 ? `(${body}) where timer:within(${item.withinMs} msec)` : `${body} where timer:within(${item.withinMs} msec)`;
    });
    return [start, ...parts].join(' -> ');
  });

const eventStream = fc.array(
  fc.record({
    type: fc.constantFrom(...TYPES),
    x: fc.integer({ min: 0, max: 5 }),
    k: fc.constantFrom('k1', 'k2'),
    gap: fc.constantFrom(0, 100, 400, 700, 1500),
  }),
  { maxLength: 60 },
);

function run(pattern: string, events: Array<Record<string, unknown>>, fast: boolean, partitioned: boolean, max: number) {
  const engine = new Engine({ startTime: 0, maxPartialMatchesPerKey: max, sequenceFastPath: fast });
  engine.addRule(compileRule(ruleOf(pattern, { partitionBy: partitioned ? 'k' : undefined })));
  const trace: Array<MatchRecord[] | [number, number]> = [];
  for (const e of events) {
    trace.push(engine.process(e));
    const stats = engine.stats();
    trace.push([stats.partialMatches.get('test')!, stats.dropped.get('test')!.get('max_partial_matches_per_key') ?? 0]);
  }
  return trace;
}

function timed(stream: Array<{ type: string; x: number; k: string; gap: number }>) {
  let t = 0;
  return stream.map((e, i) => ({ type: e.type, x: e.x, k: e.k, id: `e${i}`, timestamp: (t += e.gap) }));
}

describe('sequence fast path', () => {
  it('is chosen for every-led followed-by chains and not for other shapes', () => {
    const isFast = (p: string) => {
      const engine = new Engine();
      engine.addRule(compileRule(ruleOf(p)));
      return (engine as unknown as { rules: Map<string, object> }).rules.get('test')!.constructor.name === 'SequenceRuntime';
    };
    expect(isFast('every a=A -> b=B where timer:within(1 sec)')).toBe(true);
    expect(isFast('every a=A -> (b=B -> c=C) where timer:within(1 sec)')).toBe(true);
    expect(isFast('every a=A -> b=B and c=C')).toBe(false);
    expect(isFast('every (a=A -> b=B)')).toBe(false);
    expect(isFast('every a=A -[2]> b=B')).toBe(false);
  });

  it('gives the same matches, order, partial counts and drops as the general runtime', () => {
    fc.assert(
      fc.property(sequencePattern, eventStream, fc.boolean(), fc.constantFrom(1, 2, 3, 10_000), (pattern, stream, partitioned, max) => {
        const events = timed(stream);
        expect(run(pattern, events, true, partitioned, max)).toEqual(run(pattern, events, false, partitioned, max));
      }),
      { numRuns: 400 },
    );
  });
});
