/**
 * SQL `LIKE` matching (Esper: case-sensitive, `%` any run of characters, `_` exactly one character, an escape
 * character that makes the next pattern character literal; backslash unless `escape '…'` says otherwise).
 *
 * Esper's own matcher (LikeUtil) backtracks recursively and is exponential on patterns such as `%a%a%a%b`;
 * this one never backtracks: the pattern is cut at its `%`s into fixed-length pieces, the first piece must
 * match at the start, the last at the end, and every piece in between is placed at its leftmost possible
 * position after the previous one. Leftmost placement is always safe because each piece has a fixed length,
 * so matching takes O(n·m) time at worst (n = input length, m = pattern length) and O(n) for pieces
 * without `_` (they are found with `indexOf`).
 *
 * Characters are UTF-16 code units, as Java's `char`s are in Esper.
 */

export class LikePatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LikePatternError';
  }
}

export type LikeMatcher = (input: string) => boolean;

/** A run of the pattern between two `%`: literal code units, with `_` positions marked in `wild`. */
interface Piece {
  text: string;
  /** Null when the piece has no `_`. */
  wild: Uint8Array | null;
}

/**
 * Compiles a LIKE pattern. `escape` is the escape character: Esper's default is a backslash; an empty string
 * or null means none. A pattern longer than `maxLength` (UTF-16 units) is refused. An escape character at the very end of the pattern escapes nothing and is ignored, as
 * in Esper.
 */
export function compileLike(pattern: string, escape: string | null = '\\', maxLength = Number.POSITIVE_INFINITY): LikeMatcher {
  if (pattern.length > maxLength) throw new LikePatternError(`the like pattern is longer than ${maxLength} characters`);
  if (escape !== null && escape.length > 1) {
    throw new LikePatternError(`the like escape must be a single character, not '${escape}'`);
  }
  const esc = escape === null || escape.length === 0 ? -1 : escape.charCodeAt(0);
  const pieces: Piece[] = [];
  let text = '';
  let wild: number[] = [];
  let percents = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === esc) {
      // Esper's LikeUtil skips an escape character that ends the pattern: it escapes nothing.
      if (i + 1 >= pattern.length) break;
      text += pattern[++i];
    } else if (c === 0x25 /* % */) {
      pieces.push(piece(text, wild));
      text = '';
      wild = [];
      percents++;
    } else if (c === 0x5f /* _ */) {
      wild.push(text.length);
      text += '_';
    } else {
      text += pattern[i];
    }
  }
  pieces.push(piece(text, wild));
  return build(pieces, percents > 0);
}

function piece(text: string, wildAt: number[]): Piece {
  if (wildAt.length === 0) return { text, wild: null };
  const wild = new Uint8Array(text.length);
  for (const i of wildAt) wild[i] = 1;
  return { text, wild };
}

function build(pieces: Piece[], hasPercent: boolean): LikeMatcher {
  if (!hasPercent) {
    const only = pieces[0];
    if (only.wild === null) {
      const lit = only.text;
      return (s) => s === lit;
    }
    return (s) => s.length === only.text.length && pieceAt(s, 0, only);
  }
  const prefix = pieces[0];
  const suffix = pieces[pieces.length - 1];
  const middles = pieces.slice(1, -1).filter((p) => p.text.length > 0);
  const noWild = pieces.every((p) => p.wild === null);
  if (noWild && middles.length === 0) {
    const pre = prefix.text;
    const suf = suffix.text;
    if (pre === '' && suf === '') return () => true;
    if (suf === '') return (s) => s.startsWith(pre);
    if (pre === '') return (s) => s.endsWith(suf);
    const min = pre.length + suf.length;
    return (s) => s.length >= min && s.startsWith(pre) && s.endsWith(suf);
  }
  if (noWild && middles.length === 1 && prefix.text === '' && suffix.text === '') {
    const mid = middles[0].text;
    return (s) => s.includes(mid);
  }
  let minLength = prefix.text.length + suffix.text.length;
  for (const m of middles) minLength += m.text.length;
  return (s) => {
    const n = s.length;
    if (n < minLength) return false;
    const end = n - suffix.text.length;
    if (!pieceAt(s, 0, prefix) || !pieceAt(s, end, suffix)) return false;
    let pos = prefix.text.length;
    for (let k = 0; k < middles.length; k++) {
      const m = middles[k];
      const at = findPiece(s, m, pos, end - m.text.length);
      if (at < 0) return false;
      pos = at + m.text.length;
    }
    return true;
  };
}

function pieceAt(s: string, at: number, p: Piece): boolean {
  const t = p.text;
  const w = p.wild;
  if (w === null) return s.startsWith(t, at);
  for (let i = 0; i < t.length; i++) {
    if (w[i] === 0 && s.charCodeAt(at + i) !== t.charCodeAt(i)) return false;
  }
  return true;
}

/** Leftmost position in [from, last] where the piece matches, or -1. */
function findPiece(s: string, p: Piece, from: number, last: number): number {
  if (last < from) return -1;
  if (p.wild === null) {
    const at = s.indexOf(p.text, from);
    return at >= 0 && at <= last ? at : -1;
  }
  for (let at = from; at <= last; at++) if (pieceAt(s, at, p)) return at;
  return -1;
}
