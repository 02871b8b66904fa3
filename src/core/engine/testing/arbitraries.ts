/**
 * fast-check generators shared by the engine's property tests: random patterns over every operator (general
 * runtime), sets of sequence rules that form families (fast path), and random keyed event streams.
 */
import fc from 'fast-check';

export const TYPES = ['A', 'B', 'C'];

/** Random patterns over every operator; each tag is used once. */
export function patternArb(): fc.Arbitrary<string> {
  let tag = 0;
  const nextTag = () => `t${tag++}`;
  const atom: fc.Arbitrary<() => string> = fc.oneof(
    fc.record({ type: fc.constantFrom(...TYPES), limit: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }) }).map(
      ({ type, limit }) => () => `${nextTag()}=${type}${limit === undefined ? '' : `(x > ${limit})`}`,
    ),
    fc.constantFrom(300, 900, 2000).map((ms) => () => `timer:interval(${ms} msec)`),
    fc
      .constantFrom("timer:schedule(iso: 'R2/PT1S')", '(every timer:schedule(period: 700 msec, repetitions: 3))', "timer:schedule(iso: '1970-01-01T00:00:02.500Z')")
      .map((s) => () => s),
  );
  const { node } = fc.letrec<{ node: () => string }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      atom,
      tie('node').map((x) => () => `every (${x()})`),
      atom.map((x) => () => `not ${x()}`),
      fc.tuple(tie('node'), tie('node'), fc.constantFrom('->', 'and', 'or')).map(([a, b, op]) => () => `(${a()}) ${op} (${b()})`),
      fc.tuple(tie('node'), fc.constantFrom(500, 1500)).map(([a, ms]) => () => `(${a()}) where timer:within(${ms} msec)`),
      fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom(...TYPES)).map(([n, t]) => () => `[${n}] ${nextTag()}=${t}`),
      fc.tuple(fc.constantFrom(...TYPES), fc.constantFrom(...TYPES)).map(([a, b]) => () => `${nextTag()}=${a} until ${nextTag()}=${b}`),
      fc.constantFrom(...TYPES).map((t) => () => {
        const g = nextTag();
        return `every-distinct(${g}.x) ${g}=${t}`;
      }),
    ) as fc.Arbitrary<() => string>,
  }));
  return node.map((build) => {
    tag = 0;
    return build();
  });
}

const TAGS = 'abcdefghijkl'.split('');
const COND = ['none', 'gt', 'eq', 'own', 'lit', 'off'] as const;

interface Shape {
  startType: string;
  items: Array<{ types: string[]; withinMs: number | undefined }>;
}

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  startType: fc.constantFrom(...TYPES),
  items: fc.array(
    fc.record({
      types: fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 3 }),
      withinMs: fc.option(fc.constantFrom(500, 1000, 2500), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

/**
 * A rule of a shape: predicates drawn per filter, so rules of one shape differ only in predicates. A palette
 * limits the conditions of all rules of a case, so that families whose tests can be read once (only numeric
 * literal comparisons, or only comparisons with the previous tag) come up often.
 */
const PALETTES: ReadonlyArray<ReadonlyArray<(typeof COND)[number]>> = [COND, ['lit', 'own'], ['off', 'gt']];

const conditionsArb = (palette: ReadonlyArray<(typeof COND)[number]>, startAlways: boolean) =>
  fc.record({
    start: startAlways ? fc.integer({ min: 0, max: 4 }) : fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
    steps: fc.array(fc.record({ cond: fc.constantFrom(...palette), k: fc.integer({ min: -1, max: 3 }) }), { minLength: 9, maxLength: 9 }),
  });

function patternOf(shape: Shape, c: { start: number | undefined; steps: Array<{ cond: (typeof COND)[number]; k: number }> }): string {
  let t = 0;
  let s = 0;
  const start = `every ${TAGS[t++]}=${shape.startType}${c.start === undefined ? '' : `(x > ${c.start})`}`;
  const parts = shape.items.map((item) => {
    const types = item.withinMs === undefined ? item.types.slice(0, 1) : item.types;
    const filters = types.map((type) => {
      const prev = TAGS[t - 1];
      const tag = TAGS[t++];
      const { cond, k } = c.steps[s++];
      const expr = {
        none: '',
        gt: `(x > ${prev}.x)`,
        eq: `(x = ${prev}.x)`,
        own: '(x >= 2)',
        lit: `(x > ${k})`,
        off: `(x > ${prev}.x + ${k})`,
      }[cond];
      return `${tag}=${type}${expr}`;
    });
    const body = filters.join(' -> ');
    if (item.withinMs === undefined) return body;
    return filters.length > 1 ? `(${body}) where timer:within(${item.withinMs} msec)` : `${body} where timer:within(${item.withinMs} msec)`;
  });
  return [start, ...parts].join(' -> ');
}

/** 1–6 flat sequence rules over one or two shapes (mostly one, so that families form on the fast path). */
export const sequenceRulesArb: fc.Arbitrary<string[]> = fc
  .tuple(fc.constantFrom(...PALETTES), fc.boolean())
  .chain(([palette, startAlways]) =>
    fc.tuple(shapeArb, shapeArb, fc.array(fc.tuple(fc.nat(3), conditionsArb(palette, startAlways)), { minLength: 1, maxLength: 6 })),
  )
  .map(([s1, s2, rules]) => rules.map(([which, c]) => patternOf(which === 3 ? s2 : s1, c)));

export interface StreamItem {
  type: string;
  x: number;
  k: string;
  gap: number;
}

/** Events of types A–C with a small `x`, keys from `keys`, and time gaps (ms) from `gaps`. */
export function keyedStreamArb(o: { keys: string[]; gaps: number[]; minLength?: number; maxLength: number }): fc.Arbitrary<StreamItem[]> {
  return fc.array(
    fc.record({
      type: fc.constantFrom(...TYPES),
      x: fc.integer({ min: 0, max: 5 }),
      k: fc.constantFrom(...o.keys),
      gap: fc.constantFrom(...o.gaps),
    }),
    { minLength: o.minLength ?? 0, maxLength: o.maxLength },
  );
}

/** The stream's events: ids e0, e1… and timestamps adding up the gaps from 0. */
export function timedEvents(stream: readonly StreamItem[]): Array<{ type: string; x: number; k: string; id: string; timestamp: number }> {
  let t = 0;
  return stream.map((e, i) => ({ type: e.type, x: e.x, k: e.k, id: `e${i}`, timestamp: (t += e.gap) }));
}
