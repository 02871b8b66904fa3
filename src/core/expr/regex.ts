/**
 * Linear-time regular expressions for the `regexp` operator.
 *
 * Esper evaluates `x regexp 'p'` with `java.util.regex.Matcher.matches()`: the whole string must match. A
 * backtracking engine (Java's or V8's) can take exponential time on patterns such as `(a+)+b`, so a rule
 * could stall the engine. This module is our own engine instead: the pattern is parsed (Java syntax, the
 * subset listed below), compiled to a Thompson NFA and run as a lazily built DFA (one table lookup per
 * character; `^`, `$` and `\b` included): building a DFA state costs at most one pass over the program, so
 * matching is O(n·m) in the worst case for an input of n characters and a program of m instructions, never
 * worse, and O(n) once the states it meets are built. The DFA's cache is bounded; when it is full it is
 * flushed and rebuilt, which keeps the bound.
 *
 * Semantics follow Java, not JavaScript, where the two differ:
 * - the input and the pattern are sequences of code points (a surrogate pair is one character);
 * - `.` matches anything but the line terminators \n \r \u0085 \u2028 \u2029 (all of them with `(?s)`);
 * - `\d` `\w` `\s` are ASCII ([0-9], [a-zA-Z_0-9], [ \t\n\x0B\f\r]); `\h` and `\v` are Java's horizontal and
 *   vertical whitespace; `\p{Lower}` `\p{Alpha}`… are Java's POSIX (US-ASCII) classes, and with `(?i)`
 *   `\p{Lower}` and `\p{Upper}` are all ASCII letters;
 * - `$` and `\Z` match at the end or before a final line terminator, `\z` only at the end, `^` and `\A` at the
 *   start; an anchor or `\b` may be repeated (`^*`, `\b{2}`): it must hold at least the count's minimum times;
 * - `\b` uses Java's word characters (JDK 17; JDK 19 made them ASCII): letters, digits, `_`, and a non-spacing
 *   mark that follows a BMP letter or digit (through other BMP marks);
 * - `(?i)` is ASCII-only case folding (Java's CASE_INSENSITIVE without UNICODE_CASE); `(?s)` is DOTALL; inline
 *   flags apply to the end of the enclosing group, `(?i:X)` to X only;
 * - `\Q…\E` quotes, removed before parsing as Java does (in classes too; an empty `\Q\E` vanishes); octal
 *   `\0n`, `\xhh`, `\x{h…}`, `\uhhhh`, `\t \n \r \f \a \e \cX` escapes;
 * - `{` must start a valid count ("Illegal repetition" otherwise); with nothing before it, as at the start or
 *   after another count (`a{2}{3}`), it repeats the empty string, as in Java.
 *
 * test/conformance/java-regex-differential.spec.ts checks all this against java.util.regex itself.
 *
 * Rejected with a RegexSyntaxError (and so rejected at rule-compile time): backreferences, look-ahead and
 * look-behind, atomic groups, possessive quantifiers (they change which strings match), nested character
 * classes and class intersection (`[a[b]]`, `[a&&b]`, whose meaning differs between Java and other
 * flavours), a `]` as the first character of a class, `\G`, `\R`, `\X`, Unicode properties (`\p{IsLower}` is one
 * in Java, not the POSIX class), the flags other
 * than `i` and `s`, repetition counts above `maxRepeat`, and patterns whose compiled program would exceed
 * `maxProgramSize` instructions (the only way a pattern could make matching slow here).
 * Lazy quantifiers (`*?`) are accepted and behave like greedy ones: for a yes/no whole-string match there is
 * no difference.
 */

export class RegexSyntaxError extends Error {
  /** `position` is the index (in code points) in the pattern where the problem was found. */
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'RegexSyntaxError';
  }
}

export interface RegexLimits {
  /** Largest count allowed in `{m}`, `{m,}`, `{m,n}`. */
  maxRepeat: number;
  /** Largest number of NFA instructions a pattern may compile to. */
  maxProgramSize: number;
  /** Deepest nesting of groups. */
  maxDepth: number;
  /** Longest pattern accepted, in code points. */
  maxPatternLength: number;
  /** Memory bound of the lazy DFA: transition-table entries cached before the cache is flushed. */
  maxDfaTableEntries: number;
}

export const DEFAULT_REGEX_LIMITS: Readonly<RegexLimits> = Object.freeze({
  maxRepeat: 1000,
  maxProgramSize: 20_000,
  maxDepth: 100,
  maxPatternLength: 10_000,
  maxDfaTableEntries: 1 << 18,
});

export interface CompiledRegex {
  readonly source: string;
  /** How the pattern runs: a plain string comparison or the lazy DFA. */
  readonly mode: 'literal' | 'dfa';
  /** Java `Matcher.matches()`: true when the whole input matches. */
  matches(input: string): boolean;
  /** The DFA's states cached now, and how many matches went on without the cache (0 for a literal). */
  cacheStats(): { states: number; uncachedMatches: number };
}

export function compileRegex(pattern: string, limits: Partial<RegexLimits> = {}): CompiledRegex {
  const lim: RegexLimits = { ...DEFAULT_REGEX_LIMITS, ...limits };
  const ast = new Parser(pattern, lim).parse();
  const stripped = stripAnchors(ast, true, true);
  const literal = asLiteral(stripped);
  if (literal !== undefined) {
    return { source: pattern, mode: 'literal', matches: (s: string) => s === literal, cacheStats: () => ({ states: 0, uncachedMatches: 0 }) };
  }
  const size = programSize(stripped, lim.maxProgramSize);
  if (size > lim.maxProgramSize) {
    throw new RegexSyntaxError(
      `regexp is too large: it compiles to more than ${lim.maxProgramSize} states (reduce the repetition counts)`,
      0,
    );
  }
  const prog = new ProgramBuilder().build(stripped);
  const machine = new Machine(prog, lim.maxDfaTableEntries);
  return {
    source: pattern,
    mode: 'dfa',
    matches: (s: string) => machine.matches(s),
    cacheStats: () => ({ states: machine.states.length, uncachedMatches: machine.uncachedMatches }),
  };
}

// -------------------------------------------------------------------------------------------------
// Character sets: sorted, disjoint, non-adjacent inclusive ranges [lo0, hi0, lo1, hi1, ...] of code points.
// -------------------------------------------------------------------------------------------------

const MAX_CP = 0x10ffff;
type Ranges = number[];

function normalize(pairs: Ranges): Ranges {
  const items: Array<[number, number]> = [];
  for (let i = 0; i < pairs.length; i += 2) items.push([pairs[i], pairs[i + 1]]);
  items.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Ranges = [];
  for (const [lo, hi] of items) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1] + 1) {
      if (hi > out[n - 1]) out[n - 1] = hi;
    } else {
      out.push(lo, hi);
    }
  }
  return out;
}

function negate(r: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i] > next) out.push(next, r[i] - 1);
    next = r[i + 1] + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

/** Adds the other ASCII case of every ASCII letter in the set (Java CASE_INSENSITIVE without UNICODE_CASE). */
function foldAscii(r: Ranges): Ranges {
  const extra: Ranges = [];
  for (let i = 0; i < r.length; i += 2) {
    addShifted(r[i], r[i + 1], 0x41, 0x5a, 0x20, extra);
    addShifted(r[i], r[i + 1], 0x61, 0x7a, -0x20, extra);
  }
  return extra.length === 0 ? r : normalize(r.concat(extra));
}

function addShifted(lo: number, hi: number, from: number, to: number, shift: number, out: Ranges): void {
  const a = Math.max(lo, from);
  const b = Math.min(hi, to);
  if (a <= b) out.push(a + shift, b + shift);
}

function single(c: number): Ranges {
  return [c, c];
}

const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = normalize([0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a]);
const SPACE: Ranges = normalize([0x09, 0x0d, 0x20, 0x20]);
const HSPACE: Ranges = normalize([
  0x09, 0x09, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x180e, 0x180e, 0x2000, 0x200a, 0x202f, 0x202f, 0x205f, 0x205f,
  0x3000, 0x3000,
]);
const VSPACE: Ranges = normalize([0x0a, 0x0d, 0x85, 0x85, 0x2028, 0x2029]);
/** Java's line terminators (without UNIX_LINES): what `.` does not match. */
const LINE_TERMINATORS: Ranges = normalize([0x0a, 0x0a, 0x0d, 0x0d, 0x85, 0x85, 0x2028, 0x2029]);
const DOT: Ranges = negate(LINE_TERMINATORS);
const ANY: Ranges = [0, MAX_CP];

const PUNCT: Ranges = normalize([0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e]);
const POSIX: Record<string, Ranges> = {
  Lower: [0x61, 0x7a],
  Upper: [0x41, 0x5a],
  ASCII: [0x00, 0x7f],
  Alpha: normalize([0x41, 0x5a, 0x61, 0x7a]),
  Digit: DIGIT,
  Alnum: normalize([0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a]),
  Punct: PUNCT,
  Graph: normalize([0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a, ...PUNCT]),
  Print: normalize([0x20, 0x20, 0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a, ...PUNCT]),
  Blank: normalize([0x20, 0x20, 0x09, 0x09]),
  Cntrl: normalize([0x00, 0x1f, 0x7f, 0x7f]),
  XDigit: normalize([0x30, 0x39, 0x41, 0x46, 0x61, 0x66]),
  Space: SPACE,
};

// -------------------------------------------------------------------------------------------------
// Syntax tree
// -------------------------------------------------------------------------------------------------

const A_BOL = 0; // ^ \A
const A_EOI = 1; // \z
const A_DOLLAR = 2; // $ \Z: end of input, or before a final line terminator
const A_WORDB = 3; // \b
const A_NWORDB = 4; // \B

type Node =
  | { t: 'empty' }
  | { t: 'set'; r: Ranges }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number } // max -1: unbounded
  | { t: 'assert'; kind: number };

const EMPTY: Node = { t: 'empty' };

interface Flags {
  i: boolean;
  s: boolean;
}

function isDigitCp(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The result of an escape sequence: one character, a predefined set or an assertion. */
type Escape = { k: 'char'; c: number } | { k: 'set'; r: Ranges } | { k: 'assert'; kind: number };

/**
 * Java's first step (Pattern.RemoveQEQuoting): every `\Q…\E` is rewritten into escaped characters before the
 * pattern is parsed, inside character classes too, so an empty `\Q\E` vanishes (`a\Q\E*` is `a*`) and a
 * quantifier after a quote repeats its last character. A quoted digit that opens the quote becomes `\x3n`, so it
 * cannot extend an escape before the quote. `origin[k]` is the index in the pattern that character k came
 * from, for error positions.
 */
function removeQuoting(cps: number[]): { cps: number[]; origin: number[] } {
  const n = cps.length;
  const at = (i: number): number => (i < n ? cps[i] : 0);
  let i = 0;
  while (i < n - 1) {
    if (cps[i] !== 0x5c) i += 1;
    else if (cps[i + 1] !== 0x51 /* Q */) i += 2;
    else break;
  }
  const identity = (): number[] => cps.map((_, k) => k);
  if (i >= n - 1) return { cps, origin: identity() };
  const out = cps.slice(0, i);
  const origin = identity().slice(0, i);
  const emit = (c: number, from: number): void => {
    out.push(c);
    origin.push(from);
  };
  i += 2;
  let inQuote = true;
  let beginQuote = true;
  while (i < n) {
    const from = i;
    const c = cps[i++];
    if (c > 0x7f || isAsciiLetter(c)) {
      emit(c, from);
    } else if (isDigitCp(c)) {
      if (beginQuote) for (const e of [0x5c, 0x78, 0x33]) emit(e, from);
      emit(c, from);
    } else if (c !== 0x5c) {
      if (inQuote) emit(0x5c, from);
      emit(c, from);
    } else if (inQuote) {
      if (at(i) === 0x45 /* E */) {
        i++;
        inQuote = false;
      } else {
        emit(0x5c, from);
        emit(0x5c, from);
      }
    } else if (at(i) === 0x51 /* Q */) {
      i++;
      inQuote = true;
      beginQuote = true;
      continue;
    } else {
      emit(c, from);
      if (i !== n) emit(cps[i], i++);
    }
    beginQuote = false;
  }
  return { cps: out, origin };
}

class Parser {
  private readonly cps: number[];
  /** Index in the pattern as written of each character of `cps` (see removeQuoting), and its length. */
  private readonly origin: number[];
  private readonly written: number;
  private pos = 0;
  private depth = 0;
  private flags: Flags = { i: false, s: false };

  constructor(
    private readonly source: string,
    private readonly lim: RegexLimits,
  ) {
    const written = Array.from(source, (ch) => ch.codePointAt(0) as number);
    if (written.length > lim.maxPatternLength) {
      throw new RegexSyntaxError(`regexp is too long (more than ${lim.maxPatternLength} characters)`, lim.maxPatternLength);
    }
    ({ cps: this.cps, origin: this.origin } = removeQuoting(written));
    this.written = written.length;
  }

  parse(): Node {
    const node = this.parseAlt();
    if (this.pos < this.cps.length) {
      // Only an unmatched ')' stops parseAlt before the end.
      throw this.error("unmatched closing ')'");
    }
    return node;
  }

  private error(message: string, at = this.pos): RegexSyntaxError {
    const written = at < this.origin.length ? this.origin[at] : this.written;
    return new RegexSyntaxError(`${message} at position ${written} of the regexp`, written);
  }

  private peek(offset = 0): number {
    const i = this.pos + offset;
    return i < this.cps.length ? this.cps[i] : -1;
  }

  private eof(): boolean {
    return this.pos >= this.cps.length;
  }

  private parseAlt(): Node {
    const items: Node[] = [this.parseCat()];
    while (this.peek() === 0x7c /* | */) {
      this.pos++;
      items.push(this.parseCat());
    }
    return items.length === 1 ? items[0] : { t: 'alt', items };
  }

  private parseCat(): Node {
    const items: Node[] = [];
    while (!this.eof()) {
      const c = this.peek();
      if (c === 0x7c /* | */ || c === 0x29 /* ) */) break;
      const atom = this.parseAtom();
      if (atom === null) continue; // an inline flag group: nothing to match
      const node = this.parseQuantifier(atom);
      if (node.t !== 'empty') items.push(node);
    }
    if (items.length === 0) return EMPTY;
    return items.length === 1 ? items[0] : { t: 'cat', items };
  }

  /** One atom, or null for an inline flag group. */
  private parseAtom(): Node | null {
    const start = this.pos;
    const c = this.cps[this.pos++];
    switch (c) {
      case 0x28 /* ( */:
        return this.parseGroup(start);
      case 0x5b /* [ */:
        return { t: 'set', r: this.parseClass(start) };
      case 0x2e /* . */:
        return { t: 'set', r: this.flags.s ? ANY : DOT };
      case 0x5e /* ^ */:
        return { t: 'assert', kind: A_BOL };
      case 0x24 /* $ */:
        return { t: 'assert', kind: A_DOLLAR };
      case 0x2a /* * */:
      case 0x2b /* + */:
      case 0x3f /* ? */:
        throw this.error(`dangling meta character '${String.fromCodePoint(c)}' (nothing to repeat)`, start);
      case 0x7b /* { */:
        // With nothing before it, Java repeats the empty string: `{2}` and `a{2}{3}` match as `` and `aa`.
        // The count must still be well formed ("Illegal repetition" otherwise).
        if (!isDigitCp(this.peek())) throw this.error("illegal repetition: '{' must start a count such as {2} (escape it as \\{)", start);
        this.pos--;
        return EMPTY;
      case 0x5c /* \ */: {
        const e = this.parseEscape(false, start);
        switch (e.k) {
          case 'char':
            return this.charNode(e.c);
          case 'set':
            return { t: 'set', r: e.r };
          case 'assert':
            return { t: 'assert', kind: e.kind };
        }
        break;
      }
      default:
        return this.charNode(c);
    }
    /* istanbul ignore next */
    throw this.error('internal error');
  }

  private charNode(c: number): Node {
    return { t: 'set', r: this.flags.i ? foldAscii(single(c)) : single(c) };
  }

  private parseGroup(start: number): Node | null {
    if (++this.depth > this.lim.maxDepth) {
      throw this.error(`regexp nests groups more than ${this.lim.maxDepth} deep`, start);
    }
    // Java restores the flags when a group ends: an inline (?i) lasts until the end of the enclosing group.
    const saved = { ...this.flags };
    if (this.peek() === 0x3f /* ? */) {
      this.pos++;
      const k = this.peek();
      if (k === 0x3a /* : */) {
        this.pos++;
      } else if (k === 0x3c /* < */ && (this.peek(1) === 0x3d || this.peek(1) === 0x21)) {
        throw this.error('look-behind (?<= / (?<! is not supported', start);
      } else if (k === 0x3c /* < */) {
        this.pos++;
        const nameStart = this.pos;
        while (!this.eof() && (isAsciiLetter(this.peek()) || isDigitCp(this.peek()))) this.pos++;
        if (this.pos === nameStart || !isAsciiLetter(this.cps[nameStart]) || this.peek() !== 0x3e /* > */) {
          throw this.error('invalid group name in (?<name>...)', nameStart);
        }
        this.pos++;
      } else if (k === 0x3d /* = */ || k === 0x21 /* ! */) {
        throw this.error('look-ahead (?= / (?! is not supported', start);
      } else if (k === 0x3e /* > */) {
        throw this.error('atomic groups (?>...) are not supported', start);
      } else {
        // Inline flags: (?is-is) for the rest of the enclosing group, or (?is-is:X) for X only.
        let on = true;
        let any = false;
        for (;;) {
          const f = this.peek();
          if (f === 0x69 /* i */ || f === 0x73 /* s */) {
            if (f === 0x69) this.flags.i = on;
            else this.flags.s = on;
            any = true;
            this.pos++;
          } else if (f === 0x2d /* - */ && on) {
            on = false;
            this.pos++;
          } else if (f === 0x29 /* ) */) {
            if (!any && on) throw this.error('empty inline flag group (?)', start);
            this.pos++;
            this.depth--;
            return null; // the flags stay in effect until the end of the enclosing group
          } else if (f === 0x3a /* : */) {
            this.pos++;
            break;
          } else if (f === -1) {
            throw this.error("unclosed group: missing ')'", start);
          } else {
            const ch = String.fromCodePoint(f);
            throw this.error(
              /[dmuxUc]/.test(ch)
                ? `inline flag '${ch}' is not supported (only i and s are)`
                : `unknown inline flag or group construct '(?${ch}'`,
              this.pos,
            );
          }
        }
      }
    }
    const inner = this.parseAlt();
    if (this.peek() !== 0x29 /* ) */) throw this.error("unclosed group: missing ')'", start);
    this.pos++;
    this.depth--;
    this.flags = saved;
    return inner;
  }

  private parseQuantifier(atom: Node): Node {
    const c = this.peek();
    let min: number;
    let max: number;
    const qStart = this.pos;
    if (c === 0x2a /* * */) {
      min = 0;
      max = -1;
      this.pos++;
    } else if (c === 0x2b /* + */) {
      min = 1;
      max = -1;
      this.pos++;
    } else if (c === 0x3f /* ? */) {
      min = 0;
      max = 1;
      this.pos++;
    } else if (c === 0x7b /* { */) {
      this.pos++;
      min = this.parseCount(qStart);
      if (this.peek() === 0x2c /* , */) {
        this.pos++;
        max = this.peek() === 0x7d /* } */ ? -1 : this.parseCount(qStart);
      } else {
        max = min;
      }
      if (this.peek() !== 0x7d /* } */) throw this.error('illegal repetition: unclosed {m,n}', qStart);
      this.pos++;
      if (max !== -1 && max < min) throw this.error(`illegal repetition range {${min},${max}}`, qStart);
    } else {
      return atom;
    }
    if (this.peek() === 0x3f /* ? lazy: same yes/no answer */) {
      this.pos++;
    } else if (this.peek() === 0x2b /* + possessive */) {
      throw this.error('possessive quantifiers (*+, ++, ?+, {n}+) are not supported', this.pos);
    }
    const next = this.peek();
    // A `{` here starts a count of its own, of the empty string (see parseAtom).
    if (next === 0x2a || next === 0x2b || next === 0x3f) {
      throw this.error(`dangling meta character '${String.fromCodePoint(next)}' (a quantifier cannot be repeated; use a group)`);
    }
    // Java repeats an anchor or boundary too: it must hold (at the same position) at least `min` times.
    if (atom.t === 'empty' || (atom.t === 'assert' && min > 0)) return atom;
    // x{0} matches the empty string. As a node it would still be walked `min` times by each enclosing count
    // while compiling to nothing: ((x{0}){1000}){1000}... would take hours to compile.
    if (atom.t === 'assert' || max === 0) return EMPTY;
    return { t: 'rep', node: atom, min, max };
  }

  private parseCount(qStart: number): number {
    const start = this.pos;
    let n = 0;
    while (isDigitCp(this.peek())) {
      n = n * 10 + (this.peek() - 0x30);
      if (n > this.lim.maxRepeat) {
        throw this.error(`repetition count above the limit of ${this.lim.maxRepeat}`, start);
      }
      this.pos++;
    }
    if (this.pos === start) throw this.error('illegal repetition: expected a number in {m,n}', qStart);
    return n;
  }

  /** After the backslash. */
  private parseEscape(inClass: boolean, start: number): Escape {
    if (this.eof()) throw this.error('unexpected end of regexp after a backslash', start);
    const c = this.cps[this.pos++];
    switch (c) {
      case 0x64 /* d */:
        return { k: 'set', r: DIGIT };
      case 0x44 /* D */:
        return { k: 'set', r: negate(DIGIT) };
      case 0x77 /* w */:
        return { k: 'set', r: WORD };
      case 0x57 /* W */:
        return { k: 'set', r: negate(WORD) };
      case 0x73 /* s */:
        return { k: 'set', r: SPACE };
      case 0x53 /* S */:
        return { k: 'set', r: negate(SPACE) };
      case 0x68 /* h */:
        return { k: 'set', r: HSPACE };
      case 0x48 /* H */:
        return { k: 'set', r: negate(HSPACE) };
      case 0x76 /* v */:
        return { k: 'set', r: VSPACE };
      case 0x56 /* V */:
        return { k: 'set', r: negate(VSPACE) };
      case 0x70 /* p */:
      case 0x50 /* P */: {
        const r = this.parseProperty(start);
        return { k: 'set', r: c === 0x50 ? negate(r) : r };
      }
      case 0x74 /* t */:
        return { k: 'char', c: 0x09 };
      case 0x6e /* n */:
        return { k: 'char', c: 0x0a };
      case 0x72 /* r */:
        return { k: 'char', c: 0x0d };
      case 0x66 /* f */:
        return { k: 'char', c: 0x0c };
      case 0x61 /* a */:
        return { k: 'char', c: 0x07 };
      case 0x65 /* e */:
        return { k: 'char', c: 0x1b };
      case 0x63 /* c */: {
        if (this.eof()) throw this.error('\\c must be followed by a character', start);
        return { k: 'char', c: this.cps[this.pos++] ^ 64 };
      }
      case 0x30 /* 0 */: {
        // Java: \0n, \0nn, \0mnn (m <= 3).
        const d1 = this.peek();
        if (d1 < 0x30 || d1 > 0x37) throw this.error('illegal octal escape: \\0 must be followed by octal digits', start);
        let v = 0;
        let digits = 0;
        while (digits < 3 && this.peek() >= 0x30 && this.peek() <= 0x37) {
          const nv = v * 8 + (this.peek() - 0x30);
          if (nv > 0xff) break;
          v = nv;
          digits++;
          this.pos++;
        }
        return { k: 'char', c: v };
      }
      case 0x78 /* x */: {
        if (this.peek() === 0x7b /* { */) {
          this.pos++;
          let v = 0;
          let digits = 0;
          while (hexVal(this.peek()) >= 0) {
            v = v * 16 + hexVal(this.peek());
            if (v > MAX_CP) throw this.error('hexadecimal code point is out of range', start);
            digits++;
            this.pos++;
          }
          if (digits === 0 || this.peek() !== 0x7d /* } */) throw this.error('illegal hexadecimal escape \\x{...}', start);
          this.pos++;
          return { k: 'char', c: v };
        }
        return { k: 'char', c: this.hexDigits(2, start) };
      }
      case 0x75 /* u */: {
        let v = this.hexDigits(4, start);
        // A surrogate pair written as two \u escapes is one code point, as in Java.
        if (v >= 0xd800 && v <= 0xdbff && this.peek() === 0x5c && this.peek(1) === 0x75) {
          const save = this.pos;
          this.pos += 2;
          const lo = this.tryHexDigits(4);
          if (lo >= 0xdc00 && lo <= 0xdfff) v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
          else this.pos = save;
        }
        return { k: 'char', c: v };
      }
      case 0x62 /* b */:
      case 0x42 /* B */:
        if (inClass) throw this.error('\\b is not allowed inside a character class', start);
        return { k: 'assert', kind: c === 0x62 ? A_WORDB : A_NWORDB };
      case 0x41 /* A */:
        if (inClass) break;
        return { k: 'assert', kind: A_BOL };
      case 0x7a /* z */:
        if (inClass) break;
        return { k: 'assert', kind: A_EOI };
      case 0x5a /* Z */:
        if (inClass) break;
        return { k: 'assert', kind: A_DOLLAR };
      case 0x6b /* k */:
        throw this.error('backreferences (\\k<name>) are not supported', start);
      case 0x47 /* G */:
      case 0x52 /* R */:
      case 0x58 /* X */:
      case 0x4e /* N */:
        throw this.error(`\\${String.fromCodePoint(c)} is not supported`, start);
      default:
        if (c >= 0x31 && c <= 0x39) throw this.error('backreferences (\\1 ...) are not supported', start);
        if (!isAsciiLetter(c) && !isDigitCp(c)) return { k: 'char', c };
    }
    throw this.error(`illegal or unsupported escape sequence \\${String.fromCodePoint(c)}`, start);
  }

  private hexDigits(n: number, start: number): number {
    const v = this.tryHexDigits(n);
    if (v < 0) throw this.error('illegal hexadecimal escape sequence', start);
    return v;
  }

  private tryHexDigits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const h = hexVal(this.peek());
      if (h < 0) return -1;
      v = v * 16 + h;
      this.pos++;
    }
    return v;
  }

  private parseProperty(start: number): Ranges {
    let name: string;
    if (this.peek() === 0x7b /* { */) {
      this.pos++;
      const nameStart = this.pos;
      while (!this.eof() && this.peek() !== 0x7d) this.pos++;
      if (this.eof()) throw this.error('unclosed \\p{...}', start);
      name = String.fromCodePoint(...this.cps.slice(nameStart, this.pos));
      this.pos++;
    } else {
      if (this.eof()) throw this.error('\\p must be followed by a property name', start);
      name = String.fromCodePoint(this.cps[this.pos++]);
    }
    // Java: with (?i), \p{Lower} and \p{Upper} are both all ASCII letters (and \P{Lower} neither case).
    // \p{IsLower} and the like are not the POSIX classes in Java but Unicode properties: refused below.
    const r = this.flags.i && (name === 'Lower' || name === 'Upper') ? POSIX.Alpha : Object.hasOwn(POSIX, name) ? POSIX[name] : undefined;
    if (!r) {
      throw this.error(
        `character property \\p{${name}} is not supported (supported: ${Object.keys(POSIX).join(', ')})`,
        start,
      );
    }
    return r;
  }

  /** After the '['. */
  private parseClass(start: number): Ranges {
    let negated = false;
    if (this.peek() === 0x5e /* ^ */) {
      negated = true;
      this.pos++;
    }
    if (this.peek() === 0x5d /* ] */) {
      throw this.error("a ']' right after '[' or '[^' is ambiguous between regexp flavours: escape it as \\]");
    }
    const pairs: Ranges = [];
    const sets: Ranges[] = [];
    for (;;) {
      if (this.eof()) throw this.error("unclosed character class: missing ']'", start);
      const c = this.peek();
      if (c === 0x5d /* ] */) {
        this.pos++;
        break;
      }
      if (c === 0x5b /* [ */) {
        throw this.error("nested character classes are not supported (escape '[' as \\[)");
      }
      if (c === 0x26 /* & */ && this.peek(1) === 0x26) {
        throw this.error('character class intersection (&&) is not supported');
      }
      const itemStart = this.pos;
      const lo = this.classAtom();
      if (lo.k === 'set') {
        if (this.peek() === 0x2d /* - */ && this.peek(1) !== 0x5d && this.peek(1) !== -1) {
          throw this.error('illegal character range: a range cannot start with a class such as \\d', itemStart);
        }
        sets.push(lo.r);
        continue;
      }
      if (this.peek() === 0x2d /* - */ && this.peek(1) !== 0x5d /* ] */ && this.peek(1) !== -1) {
        if (this.peek(1) === 0x5b /* [ */) {
          throw this.error("nested character classes are not supported (escape '[' as \\[)", this.pos + 1);
        }
        this.pos++;
        const hi = this.classAtom();
        if (hi.k === 'set') throw this.error('illegal character range: a range cannot end with a class such as \\d', itemStart);
        if (hi.c < lo.c) throw this.error('illegal character range (the end is before the start)', itemStart);
        pairs.push(lo.c, hi.c);
      } else {
        pairs.push(lo.c, lo.c);
      }
    }
    let r = normalize(pairs);
    if (this.flags.i) r = foldAscii(r);
    for (const s of sets) r = normalize(r.concat(s));
    return negated ? negate(r) : r;
  }

  private classAtom(): { k: 'char'; c: number } | { k: 'set'; r: Ranges } {
    const start = this.pos;
    const c = this.cps[this.pos++];
    if (c !== 0x5c /* \ */) return { k: 'char', c };
    const e = this.parseEscape(true, start);
    if (e.k === 'char' || e.k === 'set') return e;
    throw this.error('this escape is not allowed inside a character class', start);
  }
}

/**
 * Removes anchors that cannot fail: a `^` reached only at the start of the input, and a `$`/`\Z`/`\z` after
 * which nothing can be consumed (a whole-string match must end at the end of the input anyway, and `$` before
 * a final line terminator would leave that terminator unmatched). Fewer assertions mean fewer DFA states.
 */
function stripAnchors(node: Node, atStart: boolean, atEnd: boolean): Node {
  switch (node.t) {
    case 'assert':
      if (atStart && node.kind === A_BOL) return EMPTY;
      if (atEnd && (node.kind === A_DOLLAR || node.kind === A_EOI)) return EMPTY;
      return node;
    case 'alt':
      return { t: 'alt', items: node.items.map((n) => stripAnchors(n, atStart, atEnd)) };
    case 'cat': {
      const items = node.items.slice();
      if (atStart) {
        for (let i = 0; i < items.length; i++) {
          items[i] = stripAnchors(items[i], true, false);
          if (items[i].t !== 'empty') break;
        }
      }
      if (atEnd) {
        for (let j = items.length - 1; j >= 0; j--) {
          items[j] = stripAnchors(items[j], false, true);
          if (items[j].t !== 'empty') break;
        }
      }
      const rest = items.filter((n) => n.t !== 'empty');
      if (rest.length === 0) return EMPTY;
      return rest.length === 1 ? rest[0] : { t: 'cat', items: rest };
    }
    default:
      return node;
  }
}

/** The string a pattern matches when it is a plain sequence of single characters; undefined otherwise. */
function asLiteral(node: Node): string | undefined {
  const items = node.t === 'cat' ? node.items : [node];
  let out = '';
  for (const n of items) {
    if (n.t === 'empty') continue;
    if (n.t !== 'set' || n.r.length !== 2 || n.r[0] !== n.r[1]) return undefined;
    out += String.fromCodePoint(n.r[0]);
  }
  return out;
}

function programSize(node: Node, cap: number): number {
  switch (node.t) {
    case 'empty':
      return 0;
    case 'set':
    case 'assert':
      return 1;
    case 'cat': {
      let s = 0;
      for (const n of node.items) {
        s += programSize(n, cap);
        if (s > cap) return cap + 1;
      }
      return s;
    }
    case 'alt': {
      let s = 2 * (node.items.length - 1);
      for (const n of node.items) {
        s += programSize(n, cap);
        if (s > cap) return cap + 1;
      }
      return s;
    }
    case 'rep': {
      const b = programSize(node.node, cap);
      const s = node.min * b + (node.max === -1 ? b + 2 : (node.max - node.min) * (b + 1));
      return Math.min(s, cap + 1);
    }
  }
}

// -------------------------------------------------------------------------------------------------
// Program (Thompson NFA)
// -------------------------------------------------------------------------------------------------

const OP_SET = 0;
const OP_SPLIT = 1;
const OP_JMP = 2;
const OP_ASSERT = 3;
const OP_MATCH = 4;

interface Program {
  op: Int32Array;
  /** OP_SET: set index; OP_SPLIT/OP_JMP: target; OP_ASSERT: kind. */
  a: Int32Array;
  /** OP_SPLIT: second target. */
  b: Int32Array;
  sets: Ranges[];
}

class ProgramBuilder {
  private op: number[] = [];
  private a: number[] = [];
  private b: number[] = [];
  private sets: Ranges[] = [];
  private setIndex = new Map<string, number>();

  build(node: Node): Program {
    this.emit(node);
    this.push(OP_MATCH, 0, 0);
    return {
      op: Int32Array.from(this.op),
      a: Int32Array.from(this.a),
      b: Int32Array.from(this.b),
      sets: this.sets,
    };
  }

  private push(op: number, a: number, b: number): number {
    this.op.push(op);
    this.a.push(a);
    this.b.push(b);
    return this.op.length - 1;
  }

  private emit(node: Node): void {
    switch (node.t) {
      case 'empty':
        return;
      case 'set': {
        const key = node.r.join(',');
        let idx = this.setIndex.get(key);
        if (idx === undefined) {
          idx = this.sets.length;
          this.sets.push(node.r);
          this.setIndex.set(key, idx);
        }
        this.push(OP_SET, idx, 0);
        return;
      }
      case 'assert':
        this.push(OP_ASSERT, node.kind, 0);
        return;
      case 'cat':
        for (const n of node.items) this.emit(n);
        return;
      case 'alt': {
        const jumps: number[] = [];
        for (let i = 0; i < node.items.length; i++) {
          if (i < node.items.length - 1) {
            const split = this.push(OP_SPLIT, 0, 0);
            this.a[split] = this.op.length;
            this.emit(node.items[i]);
            jumps.push(this.push(OP_JMP, 0, 0));
            this.b[split] = this.op.length;
          } else {
            this.emit(node.items[i]);
          }
        }
        for (const j of jumps) this.a[j] = this.op.length;
        return;
      }
      case 'rep': {
        for (let i = 0; i < node.min; i++) this.emit(node.node);
        if (node.max === -1) {
          const split = this.push(OP_SPLIT, 0, 0);
          this.a[split] = this.op.length;
          this.emit(node.node);
          this.push(OP_JMP, split, 0);
          this.b[split] = this.op.length;
        } else {
          const splits: number[] = [];
          for (let i = node.min; i < node.max; i++) {
            const split = this.push(OP_SPLIT, 0, 0);
            this.a[split] = this.op.length;
            splits.push(split);
            this.emit(node.node);
          }
          for (const s of splits) this.b[s] = this.op.length;
        }
        return;
      }
    }
  }
}

// -------------------------------------------------------------------------------------------------
// Matching
// -------------------------------------------------------------------------------------------------

interface DState {
  /**
   * Sorted program counters of the OP_SET / OP_MATCH instructions this DFA state stands for, and of the
   * OP_ASSERT instructions waiting for the next character (an assertion looks at both sides of a position).
   */
  pcs: Int32Array;
  /** Context bits of the position the state stands at: AT_START, PREV_WORD, HAS_BASE. */
  flags: number;
  dead: boolean;
  /** Whether the input may end here: 1 yes, 0 no, -1 not computed yet. */
  acceptAtEnd: number;
  /** Per transition index (the character class; with \b times 4 plus its word code, see wordCode): the next state, -1 when not computed yet. */
  next: Int32Array;
}

/** Where a match stands: the instructions of its state, and the context bits of its position. */
interface Position {
  readonly pcs: ArrayLike<number>;
  readonly flags: number;
}

/**
 * A match that has built this many new states, at least one per THRASH_CHARS_PER_STATE characters, goes on
 * without the cache (see Machine.matchUncached). Transitions filled in between known states do not count:
 * a small DFA over many character classes warms up through them and then runs from the cache.
 */
const THRASH_MIN_STATES = 256;
const THRASH_CHARS_PER_STATE = 4;

/** The start of the input (for `^` and `\A`). */
const AT_START = 1;
/** The character before the position is a word character (for `\b` and `\B`). */
const PREV_WORD = 2;
/**
 * The input before the position ends in a BMP letter or digit and then zero or more BMP non-spacing marks: a
 * non-spacing mark here would be a word character (Java's hasBaseCharacter, which scans back by UTF-16 unit,
 * so a supplementary character, whose low surrogate it meets first, is never a base).
 */
const HAS_BASE = 4;

/** What the assertions at one position may look at. */
interface Context {
  flags: number;
  /** The character after the position is a word character. */
  nextWord: boolean;
  /** `$` holds: the end, or before a final line terminator. */
  dollar: boolean;
  /** The end of the input (`\z`). */
  end: boolean;
}

const LETTER_OR_DIGIT_RE = /^[\p{L}\p{Nd}]$/u;
const NON_SPACING_MARK_RE = /^\p{Mn}$/u;
const KNOWN = 1;
const LETTER_OR_DIGIT = 2;
const NON_SPACING_MARK = 4;
/** Per BMP character, filled as met: KNOWN plus LETTER_OR_DIGIT or NON_SPACING_MARK. */
const bmpKinds = new Uint8Array(0x10000);

function charKind(c: number): number {
  if (c <= 0xffff && bmpKinds[c] !== 0) return bmpKinds[c];
  const text = String.fromCodePoint(c);
  const kind = KNOWN | (LETTER_OR_DIGIT_RE.test(text) ? LETTER_OR_DIGIT : 0) | (NON_SPACING_MARK_RE.test(text) ? NON_SPACING_MARK : 0);
  if (c <= 0xffff) bmpKinds[c] = kind;
  return kind;
}

/**
 * What a character means to `\b` and `\B` (Java's Bound), given whether the position before it has a base
 * (HAS_BASE): a word character is a letter, a digit or '_', or a non-spacing mark with a base; seen from the
 * right of it, a supplementary non-spacing mark never has one. As a code, with the context bits of the
 * position after the character (WORD_CODE_FLAGS) and whether it is a word character to its left
 * (WORD_CODE_NEXT_WORD):
 * 0: not a word character on either side; 1: a word character that is no base ('_', a supplementary letter);
 * 2: a word character and a base (a BMP letter or digit, or a BMP mark with a base); 3: a supplementary mark
 * with a base, a word character to the position before it but not to the one after it.
 */
function wordCode(c: number, hasBase: boolean): number {
  if (c === 0x5f) return 1;
  if (c < 0x80) return isDigitCp(c) || isAsciiLetter(c) ? 2 : 0;
  const kind = charKind(c);
  if (kind & LETTER_OR_DIGIT) return c <= 0xffff ? 2 : 1;
  if (kind & NON_SPACING_MARK && hasBase) return c <= 0xffff ? 2 : 3;
  return 0;
}
const WORD_CODE_NEXT_WORD = [false, true, true, true];
const WORD_CODE_FLAGS = [0, PREV_WORD, PREV_WORD | HAS_BASE, 0];

function isLineTerminator(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029;
}

/** Java's `$` without MULTILINE: at the end, or before a line terminator that ends the input (not inside \r\n). */
function dollarHolds(s: string, i: number): boolean {
  const n = s.length;
  if (i === n) return true;
  if (i === n - 2) return s.charCodeAt(i) === 0x0d && s.charCodeAt(i + 1) === 0x0a;
  if (i === n - 1) {
    const c = s.charCodeAt(i);
    if (c === 0x0a) return !(i > 0 && s.charCodeAt(i - 1) === 0x0d);
    return isLineTerminator(c);
  }
  return false;
}

function assertionHolds(kind: number, ctx: Context): boolean {
  switch (kind) {
    case A_BOL:
      return (ctx.flags & AT_START) !== 0;
    case A_EOI:
      return ctx.end;
    case A_DOLLAR:
      return ctx.dollar;
    case A_WORDB:
      return ((ctx.flags & PREV_WORD) !== 0) !== ctx.nextWord;
    case A_NWORDB:
      return ((ctx.flags & PREV_WORD) !== 0) === ctx.nextWord;
    default:
      return false;
  }
}

/**
 * A lazily built DFA over the program. Assertions are part of it too (as in RE2): a state records what the
 * position it stands at may need (the start of the input, whether the previous character is a word
 * character) and keeps its assertions pending until the next character is known; stepping on that character
 * first follows the assertions that hold, then consumes it. `$` only holds in the last two positions, so
 * those steps are computed without the cache when it holds. One table lookup per character either way.
 */
class Machine {
  private readonly classPoints: Int32Array;
  private readonly asciiClass: Uint16Array;
  /** member[setIndex][class] = 1 when the class's characters are in the set. */
  private readonly member: Uint8Array[];
  private readonly numClasses: number;
  /** The program has \b or \B: transitions also depend on whether the character is a word character. */
  private readonly wordSensitive: boolean;
  /** The program has `$`: the last two positions may need a step outside the cache. */
  private readonly dollarSensitive: boolean;
  private readonly maxStates: number;
  /** Read by CompiledRegex.cacheStats. */
  states: DState[] = [];
  uncachedMatches = 0;
  private index = new Map<string, number>();
  private start = -1;
  private readonly mark: Uint32Array;
  private markGen = 0;
  private readonly stack: Int32Array;

  constructor(
    private readonly prog: Program,
    dfaTableEntries: number,
  ) {
    const pts = new Set<number>([0]);
    for (const r of prog.sets) {
      for (let i = 0; i < r.length; i += 2) {
        pts.add(r[i]);
        if (r[i + 1] < MAX_CP) pts.add(r[i + 1] + 1);
      }
    }
    this.classPoints = Int32Array.from([...pts].sort((x, y) => x - y));
    this.numClasses = this.classPoints.length;
    this.asciiClass = new Uint16Array(128);
    for (let c = 0; c < 128; c++) this.asciiClass[c] = this.searchClass(c);
    this.member = prog.sets.map((r) => {
      const m = new Uint8Array(this.numClasses);
      for (let k = 0; k < this.numClasses; k++) m[k] = inRanges(r, this.classPoints[k]) ? 1 : 0;
      return m;
    });
    let word = false;
    let dollar = false;
    for (let pc = 0; pc < prog.op.length; pc++) {
      if (prog.op[pc] !== OP_ASSERT) continue;
      if (prog.a[pc] === A_WORDB || prog.a[pc] === A_NWORDB) word = true;
      if (prog.a[pc] === A_DOLLAR) dollar = true;
    }
    this.wordSensitive = word;
    this.dollarSensitive = dollar;
    this.maxStates = Math.max(8, Math.floor(dfaTableEntries / (this.numClasses * (word ? 4 : 1))));
    this.mark = new Uint32Array(prog.op.length);
    this.stack = new Int32Array(prog.op.length * 3 + 3);
  }

  private searchClass(c: number): number {
    const p = this.classPoints;
    let lo = 0;
    let hi = p.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (p[mid] <= c) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private classOf(c: number): number {
    return c < 128 ? this.asciiClass[c] : this.searchClass(c);
  }

  matches(s: string): boolean {
    let cur = this.start >= 0 ? this.start : (this.start = this.intern(this.closure([0], undefined), AT_START));
    let st = this.states[cur];
    const n = s.length;
    const word = this.wordSensitive;
    let built = 0;
    for (let i = 0; i < n; i++) {
      if (st.dead) return false;
      const at = i;
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      const cls = this.classOf(c);
      const code = word ? wordCode(c, (st.flags & HAS_BASE) !== 0) : 0;
      const nextWord = WORD_CODE_NEXT_WORD[code];
      const dollar = this.dollarSensitive && at >= n - 2 && dollarHolds(s, at);
      const t = word ? cls * 4 + code : cls;
      // Cached transitions assume `$` does not hold: where it does, the step is computed outside the cache.
      let nx = dollar ? -1 : st.next[t];
      if (nx < 0) {
        const target = this.step(st, cls, { flags: st.flags, nextWord, dollar, end: false });
        const flags = WORD_CODE_FLAGS[code];
        const known = this.states.length;
        if (known >= this.maxStates) {
          // Flush the cache (the bound on memory); matching goes on from the target state.
          this.flush();
          nx = this.intern(target, flags);
          built++;
        } else {
          nx = this.intern(target, flags);
          if (!dollar) st.next[t] = nx;
          if (this.states.length > known) built++;
        }
        if (built >= THRASH_MIN_STATES && built * THRASH_CHARS_PER_STATE > i) {
          // Nearly every character needs a new state (more than the cache holds): building them costs more
          // than it saves, so the rest of this input is simulated state set by state set.
          this.uncachedMatches++;
          return this.matchUncached(s, i + 1, { pcs: target, flags });
        }
      }
      cur = nx;
      st = this.states[cur];
    }
    if (st.acceptAtEnd < 0) st.acceptAtEnd = this.acceptsAtEnd(st) ? 1 : 0;
    return st.acceptAtEnd === 1;
  }

  /** The rest of a match from position `from` in state `cur`, without the cache (one closure per character). */
  private matchUncached(s: string, from: number, cur: Position): boolean {
    const n = s.length;
    const word = this.wordSensitive;
    for (let i = from; i < n; i++) {
      if (cur.pcs.length === 0) return false;
      const at = i;
      const c = s.codePointAt(i) as number;
      if (c > 0xffff) i++;
      const code = word ? wordCode(c, (cur.flags & HAS_BASE) !== 0) : 0;
      const dollar = this.dollarSensitive && at >= n - 2 && dollarHolds(s, at);
      cur = { pcs: this.step(cur, this.classOf(c), { flags: cur.flags, nextWord: WORD_CODE_NEXT_WORD[code], dollar, end: false }), flags: WORD_CODE_FLAGS[code] };
    }
    return this.acceptsAtEnd(cur);
  }

  /** Whether the input may end at a position in `pos`: a MATCH is reached through the assertions that hold at the end. */
  private acceptsAtEnd(pos: Position): boolean {
    const { op } = this.prog;
    for (let k = 0; k < pos.pcs.length; k++) if (op[pos.pcs[k]] === OP_MATCH) return true;
    const waiting = this.pending(pos);
    if (waiting.length === 0) return false;
    return this.closure(waiting, { flags: pos.flags, nextWord: false, dollar: true, end: true }).some((pc) => op[pc] === OP_MATCH);
  }

  private flush(): void {
    this.states = [];
    this.index.clear();
    this.start = -1;
  }

  /** The state's pending assertions (seeds for a closure in a context). */
  private pending(st: Position): number[] {
    const seeds: number[] = [];
    for (let k = 0; k < st.pcs.length; k++) if (this.prog.op[st.pcs[k]] === OP_ASSERT) seeds.push(st.pcs[k]);
    return seeds;
  }

  /** The state after consuming a character of class `cls` from `st`, whose position's context is `ctx`. */
  private step(st: Position, cls: number, ctx: Context): number[] {
    const { op, a } = this.prog;
    const seeds: number[] = [];
    const pcs = st.pcs;
    let waits = false;
    for (let k = 0; k < pcs.length; k++) {
      const pc = pcs[k];
      if (op[pc] === OP_SET) {
        if (this.member[a[pc]][cls] === 1) seeds.push(pc + 1);
      } else if (op[pc] === OP_ASSERT) waits = true;
    }
    if (waits) {
      const reached = this.closure(this.pending(st), ctx);
      for (let k = 0; k < reached.length; k++) {
        const pc = reached[k];
        if (op[pc] === OP_SET && this.member[a[pc]][cls] === 1) seeds.push(pc + 1);
      }
    }
    return this.closure(seeds, undefined);
  }

  /**
   * The SET/MATCH instructions reachable from the seeds through SPLIT/JMP, and through the assertions that
   * hold in `ctx`; without a context, assertions are not followed but kept (pending the next character).
   * Unordered (intern sorts what it keeps).
   */
  private closure(seeds: number[], ctx: Context | undefined): number[] {
    const { op, a, b } = this.prog;
    const gen = this.nextGen();
    const out: number[] = [];
    const stack = this.stack;
    let sp = 0;
    for (let k = seeds.length - 1; k >= 0; k--) stack[sp++] = seeds[k];
    while (sp > 0) {
      const pc = stack[--sp];
      if (this.mark[pc] === gen) continue;
      this.mark[pc] = gen;
      switch (op[pc]) {
        case OP_JMP:
          stack[sp++] = a[pc];
          break;
        case OP_SPLIT:
          stack[sp++] = b[pc];
          stack[sp++] = a[pc];
          break;
        case OP_ASSERT:
          if (ctx === undefined) out.push(pc);
          else if (assertionHolds(a[pc], ctx)) stack[sp++] = pc + 1;
          break;
        default:
          out.push(pc);
      }
    }
    return out;
  }

  private nextGen(): number {
    if (++this.markGen === 0xffffffff) {
      this.mark.fill(0);
      this.markGen = 1;
    }
    return this.markGen;
  }

  private intern(reached: number[], flags: number): number {
    const pcs = Int32Array.from(reached).sort();
    // The position's own context bits only matter to pending assertions; without any, states differing only
    // in them are one. HAS_BASE is kept: it decides what a later non-spacing mark is to `\b`.
    const { op } = this.prog;
    const waits = pcs.some((pc) => op[pc] === OP_ASSERT);
    const f = (waits ? flags : 0) | (flags & HAS_BASE);
    const key = `${f}:${pcs.join(',')}`;
    const found = this.index.get(key);
    if (found !== undefined) return found;
    const st: DState = {
      pcs,
      flags: f,
      dead: pcs.length === 0,
      acceptAtEnd: waits ? -1 : pcs.some((pc) => op[pc] === OP_MATCH) ? 1 : 0,
      next: new Int32Array(this.numClasses * (this.wordSensitive ? 4 : 1)).fill(-1),
    };
    this.states.push(st);
    this.index.set(key, this.states.length - 1);
    return this.states.length - 1;
  }
}

function inRanges(r: Ranges, c: number): boolean {
  let lo = 0;
  let hi = (r.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < r[2 * mid]) hi = mid - 1;
    else if (c > r[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}
