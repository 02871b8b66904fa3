/**
 * Esper itself is the oracle: generated patterns and event streams run on Esper 8.9 (from Maven Central, see
 * scripts/esper-oracle) and on Cepheus' engine, and must give the same multiset of matches.
 *
 * The generator leaves out one documented difference (README, "Two rules of Esper's"): when one event passes
 * several filters with a condition, Esper orders them by its filter indexes. So per event type, a pattern has
 * either only `x = k` conditions (an event passes at most one value, and equal ones share an index node, in
 * start order) or a single filter with another condition.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EsperCase, EsperResult, runEsper } from '../../scripts/esper-oracle';
import { mulberry32 } from '../../src/bench/random';
import { ConformanceMatch, TestEvent, canonical, runPattern } from '../support/pattern-harness';

const TYPES = ['A', 'B', 'C'];

class PatternGenerator {
  private tagCount = 0;
  private readonly conditions = new Map<string, { equalities: number; other: boolean }>();

  constructor(private readonly random: () => number) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  /** A tagged filter; `ref` is a tag bound before it (a condition on that tag's x is then possible). */
  filter(ref?: string): string {
    const type = this.pick(TYPES);
    const tag = `t${++this.tagCount}`;
    const used = this.conditions.get(type) ?? { equalities: 0, other: false };
    this.conditions.set(type, used);
    const r = this.random();
    let condition = '';
    if (r < 0.4) condition = '';
    else if (r < 0.6 && !used.other) {
      used.equalities++;
      condition = `x = ${this.int(0, 9)}`;
    } else if (!used.other && used.equalities === 0) {
      used.other = true;
      condition = this.pick([
        `x > ${this.int(0, 8)}`,
        `x < ${this.int(1, 9)}`,
        `x in (${this.int(0, 9)}, ${this.int(0, 9)})`,
        `x between ${this.int(0, 4)} and ${this.int(4, 9)}`,
        ...(ref ? [`x > ${ref}.x`, `x != ${ref}.x`] : []),
      ]);
    }
    return condition ? `${tag}=${type}(${condition})` : `${tag}=${type}`;
  }

  private duration(): string {
    return this.pick(['500 msec', '1 sec', '2 sec', '3 sec', '5 sec']);
  }

  pattern(depth: number): string {
    if (depth <= 0 || this.random() < 0.25) return this.filter();
    const r = this.random();
    const sub = (): string => this.pattern(depth - 1);
    if (r < 0.2) return `${sub()} -> ${sub()}`;
    if (r < 0.27) {
      const first = this.filter();
      return `(${first} -> ${this.filter(first.split('=')[0])})`;
    }
    if (r < 0.36) return `(${sub()}) and (${sub()})`;
    if (r < 0.45) return `(${sub()}) or (${sub()})`;
    if (r < 0.57) return `every (${sub()})`;
    if (r < 0.63) return `not ${this.filter()}`;
    if (r < 0.7) return `(${sub()}) where timer:within(${this.duration()})`;
    if (r < 0.74) return `timer:interval(${this.duration()})`;
    if (r < 0.78) return `[${this.int(1, 3)}] ${this.filter()}`;
    if (r < 0.84) return `${this.pick(['[2] ', '[1:2] ', '[2:3] ', '[:2] ', '[1:] ', ''])}(${sub()}) until (${sub()})`;
    if (r < 0.88) return `(${sub()}) -[${this.int(1, 2)}]> (${sub()})`;
    if (r < 0.92) return `(${sub()}) where timer:withinmax(${this.duration()}, ${this.int(1, 3)})`;
    if (r < 0.96) {
      const f = this.filter();
      return `every-distinct(${f.split('=')[0]}.x) ${f}`;
    }
    const f = this.filter();
    return `(${f} -> ${this.filter()}) while (${f.split('=')[0]}.x > ${this.int(0, 5)})`;
  }
}

function generatedCases(seed: number, count: number): EsperCase[] {
  const random = mulberry32(seed);
  const cases: EsperCase[] = [];
  for (let i = 0; i < count; i++) {
    const pattern = new PatternGenerator(random).pattern(1 + Math.floor(random() * 3));
    const events: TestEvent[] = [];
    const perType: Record<string, number> = {};
    let t = 0;
    const n = 4 + Math.floor(random() * 11);
    for (let j = 0; j < n; j++) {
      t += [0, 200, 500, 1000, 1000, 1500, 2000, 3000][Math.floor(random() * 8)];
      const type = TYPES[Math.floor(random() * TYPES.length)];
      perType[type] = (perType[type] ?? 0) + 1;
      events.push({ type, id: `${type}${perType[type]}`, timestamp: t, x: Math.floor(random() * 10) });
    }
    cases.push({ pattern, events, types: TYPES, until: t + 20_000 });
  }
  return cases;
}

interface ConformanceSuite {
  events: TestEvent[];
  cases: Array<{ pattern: string; partitionBy?: string; expected: ConformanceMatch[] }>;
}

const manual: Array<EsperCase & { expected: ConformanceMatch[] }> = (
  JSON.parse(readFileSync(resolve(__dirname, '../../../shared/conformance/esper-docs-patterns.json'), 'utf8')).suites as ConformanceSuite[]
).flatMap((s) => s.cases.filter((c) => c.partitionBy === undefined).map((c) => ({ pattern: c.pattern, events: s.events, expected: c.expected })));

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const PER_SEED = 125;
const generated = SEEDS.flatMap((seed) => generatedCases(seed, PER_SEED));

let esperManual: EsperResult[];
let esperGenerated: EsperResult[];

beforeAll(() => {
  const results = runEsper([...manual, ...generated]);
  esperManual = results.slice(0, manual.length);
  esperGenerated = results.slice(manual.length);
}, 300_000);

function describeCase(c: EsperCase): string {
  return `${c.pattern}\n  events: ${c.events.map((e) => `${e.id}@${e.timestamp}{x:${String(e.x)}}`).join(' ')}`;
}

describe('Esper 8.9 as the oracle', () => {
  it("reproduces every example of Esper's reference manual in the shared conformance file (the oracle runs Esper as specified)", () => {
    expect(manual.length).toBeGreaterThan(0);
    manual.forEach((c, i) => {
      expect({ pattern: c.pattern, matches: canonical(esperManual[i].matches ?? []), error: esperManual[i].error }).toEqual({
        pattern: c.pattern,
        matches: canonical(c.expected),
        error: undefined,
      });
    });
  });

  it(`gives the same matches as Cepheus for ${SEEDS.length * PER_SEED} generated patterns and event streams`, () => {
    const differences: string[] = [];
    let compared = 0;
    generated.forEach((c, i) => {
      const esper = esperGenerated[i];
      let ours: ConformanceMatch[] | undefined;
      let ourError: string | undefined;
      try {
        ours = runPattern(c.pattern, c.events as TestEvent[], { startTime: 0, until: c.until, maxPartialMatchesPerKey: 1_000_000 });
      } catch (e) {
        ourError = (e as Error).message.split('\n')[0];
      }
      if (esper.error !== undefined || ourError !== undefined) {
        if (esper.error === undefined || ourError === undefined) {
          differences.push(`${describeCase(c)}\n  esper: ${esper.error ?? 'accepted'}\n  cepheus: ${ourError ?? 'accepted'}`);
        }
        return;
      }
      compared++;
      const theirs = JSON.stringify(canonical(esper.matches));
      const mine = JSON.stringify(canonical(ours!));
      if (theirs !== mine) differences.push(`${describeCase(c)}\n  esper:   ${theirs}\n  cepheus: ${mine}`);
    });
    expect(differences).toEqual([]);
    // Nearly every generated case is valid on both sides: the comparison is not vacuous.
    expect(compared).toBeGreaterThan(generated.length * 0.95);
  });
});
