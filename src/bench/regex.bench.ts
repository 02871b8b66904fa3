/**
 * npm run bench:regex — the cost of the `regexp` operator on long fields: ns per character of one
 * whole-string match over a 300 KB field, for patterns of each kind (plain, with `\b` or `$`, and a large
 * alternation of 400 words between `\b`s, about 4,000 program instructions), and patterns with more
 * possible DFA states than the cache holds: one whose states met on the field stay few, and the worst case,
 * where nearly every character meets a new state. Matching is linear in the field's length
 * (src/core/expr/regex.ts); this prints the constant.
 */
import { compileRegex } from '../core/expr/regex';
import { mulberry32 } from './random';

const FIELD_CHARS = 300_000;

function word(next: () => number, min: number, max: number): string {
  const n = min + Math.floor(next() * (max - min + 1));
  let w = '';
  for (let i = 0; i < n; i++) w += String.fromCharCode(97 + Math.floor(next() * 26));
  return w;
}

/** A log-like field of `chars` characters: words, numbers and punctuation, ending in a line feed. */
function field(chars: number, seed: number): string {
  const next = mulberry32(seed);
  const parts: string[] = [];
  let n = 0;
  while (n < chars) {
    const p = next() < 0.2 ? `${Math.floor(next() * 100000)},` : word(next, 2, 9);
    parts.push(p);
    n += p.length + 1;
  }
  return parts.join(' ').slice(0, chars - 1) + '\n';
}

const vocabulary = (() => {
  const next = mulberry32(7);
  const words = new Set<string>();
  while (words.size < 400) words.add(word(next, 6, 10) + 'q'); // 'q' last: never a word of the field
  return [...words];
})();

const patterns: Array<[name: string, pattern: string]> = [
  ['plain: a word and a number anywhere', '(?s).*(?:error|fail(?:ed|ure))\\s+code\\s+[0-9]{3}.*'],
  ['\\b: a whole word anywhere', '(?s).*\\b(?:error|failure)\\b.*'],
  ['\\b: an id pattern anywhere', '(?s).*\\b[A-Z]{3}-[0-9]{4}\\b.*'],
  ['$: ends with a number, before the final line feed', '(?s).*\\s[0-9]+$\\n?'],
  ['plain: one of 400 words anywhere (large)', `(?s).*(?:${vocabulary.join('|')}).*`],
  ['\\b: one of 400 words anywhere (large)', `(?s).*\\b(?:${vocabulary.join('|')})\\b.*`],
  // 2^21 possible DFA states, of which this field meets few (an `a` is rare in it): they stay cached.
  ['2^21 possible states, few met: an `a` 20 characters before the end', '(?s).*a.{20}'],
  // The worst case: the states met outnumber what the cache holds, so nearly every character needs a new one.
  ['worst case, large: one of 400 words or an `a`, 20 characters before the end', `(?s).*(?:${vocabulary.join('|')}|a).{20}`],
];

/**
 * Mean ns per character of `matches(input)`: repeated until at least `minMs` ms have passed, after a first
 * run on the cold cache (timed apart: it builds the states).
 */
function nsPerChar(
  matches: (s: string) => boolean,
  input: string,
  minMs: number,
): { ns: number; result: boolean; runs: number; firstMs: number } {
  const first = process.hrtime.bigint();
  const result = matches(input);
  const firstMs = Number(process.hrtime.bigint() - first) / 1e6;
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  do {
    matches(input);
    runs++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  } while (elapsed < minMs);
  return { ns: (elapsed * 1e6) / runs / input.length, result, runs, firstMs };
}

function main(): void {
  const input = field(FIELD_CHARS, 1);
  console.log(`regexp benchmark: whole-string match over a ${(input.length / 1000).toFixed(0)} KB field (node ${process.version}, ${new Date().toISOString()})`);
  console.log('');
  console.log('| pattern | runs on | matched | first run (cold cache), ms | then ns per character | ms per field | DFA states | runs without the cache |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, pattern] of patterns) {
    const re = compileRegex(pattern);
    const { ns, result, runs, firstMs } = nsPerChar((s) => re.matches(s), input, 1000);
    const { states, uncachedMatches } = re.cacheStats();
    console.log(
      `| ${name} | ${re.mode} | ${result} | ${firstMs.toFixed(1)} | ${ns.toFixed(1)} (${runs} runs) | ${((ns * input.length) / 1e6).toFixed(1)} | ${states} | ${uncachedMatches} of ${runs + 1} |`,
    );
  }
}

main();
