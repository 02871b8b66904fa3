/**
 * Test support only (imported by the specs of src/core/expr, never by production code): a small parser for
 * the expression language that builds the same AST as src/core/language/parser.ts, so that the compiler's
 * specs read as `price > 10` rather than as nested node constructors, and do not depend on the real parser
 * while it evolves. Spans follow the parser's conventions: a node spans from its first to its last token.
 */
import type { Expr, PathSegment, Span } from '../../language/ast';
import { rawString, unquote } from '../../language/grammar/lexer';

type TokKind = 'num' | 'str' | 'id' | 'op' | 'eof';

interface Tok {
  kind: TokKind;
  text: string;
  value?: number | string;
  offset: number;
  end: number;
}

const OPS = ['<>', '!=', '<=', '>=', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', '.', ':'];

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      i += m[0].length;
      toks.push({ kind: 'num', text: m[0], value: Number(m[0]), offset: start, end: i });
      continue;
    }
    if (c === "'" || c === '"') {
      // Where the string ends is found here; its value (escapes, doubled quotes) is the real lexer's.
      i++;
      for (;;) {
        if (i >= src.length) throw new Error(`unterminated string at ${start}`);
        if (src[i] === '\\') {
          i += 2;
          continue;
        }
        if (src[i] === c) {
          if (src[i + 1] === c) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      const text = src.slice(start, i);
      toks.push({ kind: 'str', text, value: unquote(text), offset: start, end: i });
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i))!;
      i += m[0].length;
      toks.push({ kind: 'id', text: m[0], offset: start, end: i });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new Error(`unexpected character '${c}' at ${i}`);
    i += op.length;
    toks.push({ kind: 'op', text: op, offset: start, end: i });
  }
  toks.push({ kind: 'eof', text: '', offset: src.length, end: src.length });
  return toks;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'between', 'like', 'regexp', 'escape', 'is', 'null', 'true', 'false']);

export function parseTestExpression(src: string): Expr {
  const toks = tokenize(src);
  let p = 0;

  const span = (from: number, to: number): Span => {
    const before = src.slice(0, from);
    const line = before.split('\n').length;
    const column = from - (before.lastIndexOf('\n') + 1) + 1;
    return { offset: from, line, column, length: to - from };
  };
  const peek = (k = 0): Tok => toks[Math.min(p + k, toks.length - 1)];
  const isKw = (t: Tok, kw: string): boolean => t.kind === 'id' && t.text.toLowerCase() === kw;
  const isOp = (t: Tok, op: string): boolean => t.kind === 'op' && t.text === op;
  const expectOp = (op: string): Tok => {
    const t = peek();
    if (!isOp(t, op)) throw new Error(`expected '${op}' at ${t.offset} in ${src}`);
    p++;
    return t;
  };
  const expectKw = (kw: string): Tok => {
    const t = peek();
    if (!isKw(t, kw)) throw new Error(`expected '${kw}' at ${t.offset} in ${src}`);
    p++;
    return t;
  };
  const end = (e: Expr): number => e.span.offset + e.span.length;

  function or(): Expr {
    let l = and();
    while (isKw(peek(), 'or')) {
      p++;
      const r = and();
      l = { kind: 'binary', op: 'or', left: l, right: r, span: span(l.span.offset, end(r)) };
    }
    return l;
  }

  function and(): Expr {
    let l = not();
    while (isKw(peek(), 'and')) {
      p++;
      const r = not();
      l = { kind: 'binary', op: 'and', left: l, right: r, span: span(l.span.offset, end(r)) };
    }
    return l;
  }

  function not(): Expr {
    if (isKw(peek(), 'not')) {
      const t = peek();
      p++;
      const operand = not();
      return { kind: 'unary', op: 'not', operand, span: span(t.offset, end(operand)) };
    }
    return comparison();
  }

  function comparison(): Expr {
    const l = additive();
    const t = peek();
    if (t.kind === 'op' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(t.text)) {
      p++;
      const r = additive();
      const op = (t.text === '<>' ? '!=' : t.text) as '=' | '!=' | '<' | '<=' | '>' | '>=';
      return { kind: 'binary', op, left: l, right: r, span: span(l.span.offset, end(r)) };
    }
    if (isKw(t, 'is')) {
      p++;
      let negated = false;
      if (isKw(peek(), 'not')) {
        p++;
        negated = true;
      }
      const n = expectKw('null');
      return { kind: 'isNull', operand: l, negated, span: span(l.span.offset, n.end) };
    }
    let negated = false;
    if (isKw(t, 'not') && ['in', 'between', 'like', 'regexp'].some((k) => isKw(peek(1), k))) {
      p++;
      negated = true;
    }
    const k = peek();
    if (isKw(k, 'in')) {
      p++;
      const open = peek();
      if (!isOp(open, '(') && !isOp(open, '[')) throw new Error(`expected '(' or '[' after in`);
      p++;
      const first = additive();
      if (isOp(peek(), ':')) {
        p++;
        const high = additive();
        const close = peek();
        if (!isOp(close, ')') && !isOp(close, ']')) throw new Error(`expected ')' or ']' in range`);
        p++;
        return {
          kind: 'inRange',
          operand: l,
          low: first,
          high,
          lowInclusive: open.text === '[',
          highInclusive: close.text === ']',
          negated,
          span: span(l.span.offset, close.end),
        };
      }
      if (open.text !== '(') throw new Error(`expected ':' in range`);
      const values = [first];
      while (isOp(peek(), ',')) {
        p++;
        values.push(additive());
      }
      const close = expectOp(')');
      return { kind: 'inList', operand: l, values, negated, span: span(l.span.offset, close.end) };
    }
    if (isKw(k, 'between')) {
      p++;
      const low = additive();
      expectKw('and');
      const high = additive();
      return { kind: 'between', operand: l, low, high, negated, span: span(l.span.offset, end(high)) };
    }
    if (isKw(k, 'like')) {
      p++;
      const pattern = additive();
      let escape: string | undefined;
      let last = end(pattern);
      if (isKw(peek(), 'escape')) {
        p++;
        const e = peek();
        if (e.kind !== 'str') throw new Error('expected a string after escape');
        p++;
        escape = e.value as string;
        last = e.end;
      }
      const node: Expr = { kind: 'like', operand: l, pattern, negated, span: span(l.span.offset, last) };
      if (escape !== undefined) node.escape = escape;
      return node;
    }
    if (isKw(k, 'regexp')) {
      p++;
      const pattern = additive();
      return { kind: 'regexp', operand: l, pattern, negated, span: span(l.span.offset, end(pattern)) };
    }
    return l;
  }

  function additive(): Expr {
    let l = multiplicative();
    while (isOp(peek(), '+') || isOp(peek(), '-')) {
      const op = peek().text as '+' | '-';
      p++;
      const r = multiplicative();
      l = { kind: 'binary', op, left: l, right: r, span: span(l.span.offset, end(r)) };
    }
    return l;
  }

  function multiplicative(): Expr {
    let l = unary();
    while (isOp(peek(), '*') || isOp(peek(), '/') || isOp(peek(), '%')) {
      const op = peek().text as '*' | '/' | '%';
      p++;
      const r = unary();
      l = { kind: 'binary', op, left: l, right: r, span: span(l.span.offset, end(r)) };
    }
    return l;
  }

  function unary(): Expr {
    const t = peek();
    if (isOp(t, '-') || isOp(t, '+')) {
      p++;
      const operand = unary();
      return { kind: 'unary', op: t.text as '-' | '+', operand, span: span(t.offset, end(operand)) };
    }
    return primary();
  }

  function primary(): Expr {
    const t = peek();
    if (t.kind === 'num' || t.kind === 'str') {
      p++;
      const raw = t.kind === 'str' && t.text.includes('\\') ? { raw: rawString(t.text) } : {};
      return { kind: 'literal', value: t.value as number | string, ...raw, span: span(t.offset, t.end) };
    }
    if (isOp(t, '(')) {
      p++;
      const e = or();
      expectOp(')');
      return e;
    }
    if (t.kind === 'id') {
      const lower = t.text.toLowerCase();
      if (lower === 'true' || lower === 'false') {
        p++;
        return { kind: 'literal', value: lower === 'true', span: span(t.offset, t.end) };
      }
      if (lower === 'null') {
        p++;
        return { kind: 'literal', value: null, span: span(t.offset, t.end) };
      }
      if (isOp(peek(1), '(')) {
        p += 2;
        const args: Expr[] = [];
        if (!isOp(peek(), ')')) {
          args.push(or());
          while (isOp(peek(), ',')) {
            p++;
            args.push(or());
          }
        }
        const close = expectOp(')');
        return { kind: 'call', name: lower, args, span: span(t.offset, close.end) };
      }
      if (KEYWORDS.has(lower)) throw new Error(`unexpected keyword '${t.text}' at ${t.offset}`);
      const segments: PathSegment[] = [];
      let last = t.end;
      for (;;) {
        const name = peek();
        if (name.kind !== 'id') throw new Error(`expected a name at ${name.offset}`);
        p++;
        const seg: PathSegment = { name: name.text };
        last = name.end;
        if (isOp(peek(), '[')) {
          p++;
          const n = peek();
          if (n.kind !== 'num') throw new Error('expected an index');
          p++;
          seg.index = n.value as number;
          last = expectOp(']').end;
        }
        segments.push(seg);
        if (!isOp(peek(), '.')) break;
        p++;
      }
      return { kind: 'path', segments, span: span(t.offset, last) };
    }
    throw new Error(`unexpected '${t.text}' at ${t.offset} in ${src}`);
  }

  const e = or();
  if (peek().kind !== 'eof') throw new Error(`unexpected '${peek().text}' at ${peek().offset} in ${src}`);
  return e;
}
