/**
 * Every worked example of ../shared/conformance/esper-docs-patterns.json (from Esper's reference manual)
 * must give exactly the expected multiset of matches.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConformanceMatch, TestEvent, canonical, runPattern } from '../support/pattern-harness';

interface Suite {
  name: string;
  source: string;
  events: TestEvent[];
  cases: Array<{ pattern: string; partitionBy?: string; expected: ConformanceMatch[] }>;
}

const file = resolve(__dirname, '../../../shared/conformance/esper-docs-patterns.json');
const suites: Suite[] = JSON.parse(readFileSync(file, 'utf8')).suites;

describe('Esper reference manual examples (shared conformance file)', () => {
  it('loads a non-empty set of cases', () => {
    expect(suites.reduce((n, s) => n + s.cases.length, 0)).toBeGreaterThan(0);
  });

  for (const suite of suites) {
    describe(suite.name, () => {
      it.each(suite.cases.map((c) => [c.pattern, c] as const))('%s matches exactly as in Esper', (_p, c) => {
        const actual = runPattern(c.pattern, suite.events, { partitionBy: c.partitionBy, startTime: 0 });
        expect(canonical(actual)).toEqual(canonical(c.expected));
      });
    });
  }
});
