/**
 * Compiles expressions (filter predicates, guards, emit fields, every-distinct keys) into closures over
 * (current event, bindings). No code generation: every node becomes a closure once, at rule-compile time;
 * common shapes (a property of the current event compared with a literal, short property paths, `in` over
 * literals, ranges with literal bounds, constant sub-expressions) get dedicated closures.
 *
 * Semantics follow Esper (EPL reference, "Operators" chapter, and its ExprEqualsNode / ExprBetweenNode /
 * ExprInNode / ExprLikeNode / MinMaxType sources):
 *
 * - Three-valued logic with SQL nulls. A missing property, an unbound tag, an out-of-range index or a value of
 *   the wrong type reads as null; null propagates through arithmetic and comparisons (`2 != null` and
 *   `null = null` are null, as in Esper); `and` is false if either side is false, else null if either is null;
 *   `or` is true if either side is true, else null if either is null; `not null` is null. A value that is
 *   not a boolean counts as null in `and`/`or`/`not`. A predicate passes only when it is exactly `true`.
 * - `=` / `!=` compare numbers, strings and booleans without any coercion between those types. Esper rejects
 *   a comparison of two different known types at compile time ("Implicit conversion from datatype 'String'
 *   to 'Integer' is not allowed"), and so do we (`1 = '1'` is a compile-time error). When a type is only known
 *   at run time, Esper compares with Java `equals`, which is false across types: `x = '1'` is false for the
 *   number 1. Objects and arrays are not comparable: null.
 * - `<` `<=` `>` `>=` compare number with number and string with string (UTF-16 code unit order, as Java's
 *   String.compareTo); anything else is null (a compile-time error when both types are known).
 * - Arithmetic takes numbers only (Esper has no `+` on strings). Division is floating-point (Esper's default,
 *   integer division off), and so is division or modulo by zero, as with Esper's default
 *   (`divisionByZeroReturnsNull` off): `5 / 0` is Infinity, so `x / y > 100` holds for y = 0, and `5 % 0` is
 *   NaN, which no comparison passes. An emitted field holding one of them is null in the alert's JSON.
 * - `x in (a, b, …)`: true when x equals one of the values; otherwise null if a value was null, else false
 *   (Esper's and SQL's rule); a value that is an array is searched element by element (Esper's arrays and
 *   collections in `in`); `not in` negates, keeping null.
 * - `x between lo and hi` is `lo <= x <= hi`; `x in [lo:hi]`, `(lo:hi)`, `[lo:hi)`, `(lo:hi]` choose which end
 *   is included. All three operands are numbers, or all three strings. When lo > hi Esper swaps the bounds
 *   (the inclusion flags stay with the low and the high end), so `between 60 and 55` equals
 *   `between 55 and 60`. As in Esper (ExprBetweenNodeForgeEval) the result is never null: a null value is
 *   false, even under `not between`, and a null bound is false for `between` and true for `not between`; so
 *   `not (x between …)` is true for a null x. A value or bound of the wrong type reads as null.
 * - `like`: `%`, `_`, an escape character (backslash by default). The operand may be a string or a number
 *   (Esper converts a number with toString; we use the JavaScript spelling: 5 → '5', 1.5 → '1.5').
 * - `regexp`: Java `Matcher.matches()` semantics (the whole string must match) on our linear-time engine
 *   (regex.ts). The operand may be a string or a number, as with `like`. As in Esper, the string literals of
 *   a regexp expression are taken as written (`'\b\d+'` is a word boundary and digits), while every other
 *   string literal is unescaped (a backslash quotes the next character: `'a\_b'` is the like pattern `a_b`).
 * - A `like`/`regexp` pattern may be any string expression, as Esper allows. A literal pattern is compiled
 *   once and an invalid one is a compile-time error; a pattern computed at run time is compiled on first use
 *   into a small bounded cache, and an invalid one makes the result null.
 * - `&` `|` `^` (Esper's ExprBitWiseNode): on two integers as Java longs, on two booleans without shortcuts,
 *   null if either side is null; the operand types Esper refuses are refused at compile time (see bitwise).
 * - `cast(x, type)` / `cast(x as type)`: Esper's conversions to int, long, double, float, short, byte, boolean
 *   and string (cast.ts).
 * - `instanceof(x, type, …)`: whether x is of one of the Java classes (cast.ts).
 * - Functions: abs(n), lower(s), upper(s), length(s | array), coalesce(a, b, …) (the first non-null value;
 *   Esper requires at least two arguments of compatible types), min(a, b, …) and max(a, b, …) over numbers
 *   (at least two arguments, and null when any argument is null, as Esper's MinMaxType computers).
 *
 * Paths: the first segment names a tag when the scope resolves it (tags win over event properties), else a
 * property of the current event; `a[0].price` indexes a repeated tag's array; only own properties are read
 * (paths.ts). Evaluation never throws on any event content.
 */
import type { BetweenExpr, BitwiseOp, CallExpr, CaseExpr, CastExpr, Expr, InstanceofExpr, QuantifiedExpr, InListExpr, InRangeExpr, LikeExpr, NumberType, PathExpr, PathSegment, RegexpExpr, Span } from '../language/ast';
import { impliedNumberType } from '../language/ast';
import { Diagnostic, RuleError, diagnosticAt } from '../language/diagnostics';
import { castTarget, instanceofEvaluator, instanceofTest, javaClassOf } from './cast';
import { compileLike, LikeMatcher, LikePatternError } from './like';
import { eventPath, isInheritedName, pathPresent, Step, tagPath } from './paths';
import { compileRegex, RegexSyntaxError } from './regex';
import type { Bindings, CompiledExpr, EventRecord, Evaluator, ExprScope, Predicate, StaticType } from './types';

/** An expression compiled so far: its closure, its static type, and its value when known at compile time. */
interface Node {
  ev: Evaluator;
  type: StaticType;
  constant?: { value: unknown };
  /** Set for a path that reads one own property directly (see Access): fast paths inline the read. */
  access?: Access;
  /** For some boolean nodes: true exactly when `ev` gives true, as one closure (filters call it directly). */
  pred?: Predicate;
  /** Set when the node is a simple access plus a number (`a.price + 1`, `a.price - 1`): comparisons fuse it. */
  offset?: { access: Access; d: number };
  /**
   * For a number: Esper's type of it when known at compile time (literals, casts and what is computed from
   * them; a property's depends on the event). Only checks use it (`1 & 1L` and `x & 1.5` are refused, as in
   * Esper); every number is a double at run time.
   */
  num?: NumberType;
  /** An Esper dynamic property (`x?`): Java's type Object, which only equality, exists, typeof, instanceof and cast take. */
  object?: true;
}

/**
 * A path that is one property read: `price` (`tag` -1: the current event) or `a.price` (`tag`: the slot of a
 * tag that binds one event), where the name is not inherited (paths.ts), so `obj[key]` reads it safely.
 * Comparisons with such operands are fused into one closure that does the reads inline.
 */
export interface Access {
  tag: number;
  key: string;
}

type Obj = Record<string, unknown>;

const NULL_EV: Evaluator = () => null;
const KNOWN_FUNCTIONS = ['abs', 'coalesce', 'exists', 'length', 'lower', 'max', 'min', 'typeof', 'upper'];
const EMPTY_BINDINGS: Bindings = [];
/**
 * Patterns that come from event data get tighter bounds than the ones written in rules: a `like` or `regexp`
 * pattern computed at run time longer than this gives null (a like match costs up to input × pattern steps),
 * and so does a regexp compiling to more than 500 instructions (a match costs up to input × instructions
 * steps: 19 counts of {1000} in 141 characters took 9 s on a 100 KB field) or counting past 100.
 */
const RUNTIME_PATTERN_MAX_LENGTH = 1000;
const RUNTIME_REGEX_LIMITS = { maxPatternLength: RUNTIME_PATTERN_MAX_LENGTH, maxProgramSize: 500, maxRepeat: 100, maxDfaTableEntries: 1 << 14 };

/**
 * A filter test `x op y + d` (y: a simple read) or `x op d` (y null), where x and y are simple reads that must
 * be numbers; with `strings`, also `x op y` on two strings (d is then 0). Callers holding many tests that read
 * the same x and y can read once and compare many times (see linearTest).
 */
export interface LinearTest {
  op: '<' | '<=' | '>' | '>=';
  x: Access;
  y: Access | null;
  d: number;
  strings: boolean;
}

const LINEAR = new WeakMap<Predicate, LinearTest>();

/** The linear form of a predicate from compilePredicate, when it has one. */
export function linearTest(p: Predicate): LinearTest | undefined {
  return LINEAR.get(p);
}

function linear<P extends Predicate>(p: P, t: LinearTest): P {
  LINEAR.set(p, t);
  return p;
}

export function compileExpression(expr: Expr, scope: ExprScope): CompiledExpr {
  const c = new Compiler(scope);
  const node = c.compile(expr);
  if (c.errors.length > 0) throw new RuleError(c.errors);
  return {
    evaluate: node.ev,
    type: node.type,
    tags: c.tags,
    ...(node.constant ? { constant: node.constant } : {}),
    ...(node.num ? { num: node.num } : {}),
  };
}

/**
 * Compiles the predicates of a filter (`A(p1, p2, …)`, the commas meaning AND): the test passes when every
 * predicate is exactly `true`; an empty list always passes.
 */
export function compilePredicate(exprs: Expr[], scope: ExprScope): { test: Predicate; tags: Set<string> } {
  const c = new Compiler(scope);
  const parts: Node[] = [];
  let alwaysFalse = false;
  for (const expr of exprs) {
    const node = c.compile(expr);
    if (node.type === 'number' || node.type === 'string') {
      c.errors.push(diagnosticAt(expr.span, `a condition must be boolean, not ${node.type}`));
      continue;
    }
    if (node.constant) {
      if (node.constant.value === true) continue;
      alwaysFalse = true;
    }
    parts.push(node);
  }
  if (c.errors.length > 0) throw new RuleError(c.errors);
  return { test: conjunction(parts, alwaysFalse), tags: c.tags };
}

function conjunction(nodes: Node[], alwaysFalse: boolean): Predicate {
  if (alwaysFalse) return () => false;
  const parts = nodes.map((n) => n.ev);
  switch (parts.length) {
    case 0:
      return () => true;
    case 1: {
      const [p] = parts;
      return nodes[0].pred ?? ((e, b) => p(e, b) === true);
    }
    case 2: {
      const [p, q] = parts;
      const [pp, qp] = [nodes[0].pred, nodes[1].pred];
      if (pp !== undefined && qp !== undefined) return (e, b) => pp(e, b) && qp(e, b);
      return (e, b) => p(e, b) === true && q(e, b) === true;
    }
    case 3: {
      const [p, q, r] = parts;
      return (e, b) => p(e, b) === true && q(e, b) === true && r(e, b) === true;
    }
    default:
      return (e, b) => {
        for (let i = 0; i < parts.length; i++) if (parts[i](e, b) !== true) return false;
        return true;
      };
  }
}

function typeOfValue(v: unknown): StaticType {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      return 'unknown';
  }
}

function constantNode(value: unknown): Node {
  const v = value === undefined ? null : value;
  return { ev: () => v, type: typeOfValue(v), constant: { value: v } };
}

/** A type that is known and not null: the only kind that can clash. */
function known(t: StaticType): boolean {
  return t === 'number' || t === 'string' || t === 'boolean';
}

function isPrimitive(v: unknown): boolean {
  const t = typeof v;
  return t === 'number' || t === 'string' || t === 'boolean';
}

/**
 * Equality with Esper's run-time semantics: null if either side is null or not comparable (object/array),
 * otherwise strict equality (false across types).
 */
function equals(x: unknown, y: unknown): boolean | null {
  if (x === null || y === null || !isPrimitive(x) || !isPrimitive(y)) return null;
  return x === y;
}

/** A small bounded cache for patterns computed at run time (FIFO eviction). */
class PatternCache<T> {
  private readonly map = new Map<string, T | null>();
  constructor(
    private readonly compile: (pattern: string) => T | null,
    private readonly capacity = 32,
    private readonly maxKeyLength = 1024,
  ) {}

  get(pattern: string): T | null {
    const hit = this.map.get(pattern);
    if (hit !== undefined) return hit;
    const compiled = this.compile(pattern);
    if (pattern.length <= this.maxKeyLength) {
      if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value as string);
      this.map.set(pattern, compiled);
    }
    return compiled;
  }
}

function describe(t: StaticType): string {
  return t === 'null' ? 'null' : `a ${t}`;
}

function numberTypeName(n: NumberType): string {
  return n === 'int' ? 'an int' : `a ${n}`;
}

class Compiler {
  readonly errors: Diagnostic[] = [];
  readonly tags = new Set<string>();
  /** Inside a regexp expression: string literals keep their backslashes (LiteralExpr.raw). */
  private rawStrings = false;

  constructor(private readonly scope: ExprScope) {}

  private error(span: Span, message: string): Node {
    this.errors.push(diagnosticAt(span, message));
    return { ev: NULL_EV, type: 'unknown' };
  }

  /** Compiles an operand of one of the operators that take Esper's Object type (dynamic properties). */
  private operand(expr: Expr): Node {
    return expr.kind === 'path' && isDynamic(expr) ? this.dynamicPath(expr, true) : this.compile(expr);
  }

  compile(expr: Expr): Node {
    if (expr.kind === 'path' && isDynamic(expr)) return this.dynamicPath(expr, false);
    switch (expr.kind) {
      case 'literal': {
        const node = constantNode(this.rawStrings && expr.raw !== undefined ? expr.raw : expr.value);
        if (typeof expr.value === 'number') node.num = expr.numberType ?? impliedNumberType(expr.value);
        return node;
      }
      case 'path':
        return this.path(expr);
      case 'unary': {
        const x = this.compile(expr.operand);
        return withNum(this.unary(expr.op, x, expr.operand.span), expr.op === 'not' ? undefined : widest([x.num]));
      }
      case 'binary': {
        const takesObject = expr.op === '=' || expr.op === '!=' || expr.op === 'is' || expr.op === 'isNot';
        const l = takesObject ? this.operand(expr.left) : this.compile(expr.left);
        const r = takesObject ? this.operand(expr.right) : this.compile(expr.right);
        switch (expr.op) {
          case 'and':
          case 'or':
            return this.logical(expr.op, l, r, expr.left.span, expr.right.span);
          case '+':
          case '-':
          case '*':
          case '/':
          case '%':
            // Esper's division is floating-point (integer division off): a double whatever its operands.
            return withNum(this.arithmetic(expr.op, l, r, expr.left.span, expr.right.span), expr.op === '/' ? 'double' : widest([l.num, r.num]));
          case '&':
          case '|':
          case '^':
            return this.bitwise(expr.op, l, r, expr);
          case '=':
          case '!=':
            return this.equality(expr.op, l, r, expr.span);
          case 'is':
          case 'isNot':
            return this.isEquality(expr.op === 'isNot', l, r, expr.span);
          case '||':
            return this.concat(l, r, expr.left.span, expr.right.span);
          default:
            return this.relational(expr.op, l, r, expr.span);
        }
      }
      case 'inList':
        return this.inList(expr);
      case 'inRange':
        return this.range(expr, expr.lowInclusive, expr.highInclusive, 'in');
      case 'between':
        return this.range(expr, true, true, 'between');
      case 'like':
        return this.like(expr);
      case 'regexp':
        return this.regexp(expr);
      case 'isNull': {
        const x = this.operand(expr.operand);
        const f = x.ev;
        const node: Node = {
          ev: expr.negated ? (e, b) => f(e, b) !== null : (e, b) => f(e, b) === null,
          type: 'boolean',
        };
        return fold(node, [x]);
      }
      case 'call':
        return this.call(expr);
      case 'case':
        return this.caseExpr(expr);
      case 'cast':
        return this.cast(expr);
      case 'quantified':
        return this.quantified(expr);
      case 'instanceof':
        return this.instanceofExpr(expr);
    }
  }

  /** Esper's instanceof (cast.ts): never null. */
  private instanceofExpr(expr: InstanceofExpr): Node {
    const x = this.operand(expr.operand);
    const tests: Array<(cls: string) => boolean> = [];
    for (const t of expr.types) {
      const test = instanceofTest(t.name);
      if (typeof test === 'string') this.error(t.span, test);
      else tests.push(test);
    }
    if (tests.length < expr.types.length) return { ev: NULL_EV, type: 'unknown' };
    const f = x.ev;
    const test = instanceofEvaluator(tests, x.num);
    return fold({ type: 'boolean', ev: (e, b) => test(f(e, b)) }, [x]);
  }

  // ---- paths ----

  /**
   * `x?`, `item?.price`: Esper's dynamic property. It reads as the path without `?` does (every property of a
   * JSON event is looked up at run time), but has Java's type Object, as in Esper: only `=`, `!=`, `is [not]`,
   * `is [not] null`, exists, typeof, instanceof and cast take it (Esper refuses the rest: "Implicit conversion
   * from datatype 'Object' to numeric is not allowed").
   */
  private dynamicPath(expr: PathExpr, allowed: boolean): Node {
    if (!allowed) {
      return this.error(
        expr.span,
        `'${pathText(expr)}' is a dynamic property, of Java's type Object as in Esper: only =, !=, is [not], is [not] null, exists, typeof, instanceof and cast take it (write cast(${pathText(expr)}, double) to compare it as a number)`,
      );
    }
    if (expr.segments[0].dynamic && this.scope.resolve(expr.segments[0].name)) {
      return this.error(expr.span, `'${expr.segments[0].name}' is a tag, not a property: put the '?' on a property (${expr.segments[0].name}.x?)`);
    }
    // It reads as the path does (its access included); only its type differs.
    const node = this.path(expr);
    node.object = true;
    return node;
  }

  /**
   * Where a path's value is read from: a tag's binding (`slot`, and `index` for a repeated tag) or, with slot
   * -1, the current event; `steps` from there. `bareRepeatedTag`: a repeated tag alone (its array) is a value.
   */
  private pathRoot(expr: PathExpr, bareRepeatedTag: boolean): { slot: number; index: number | undefined; steps: Step[] } | Node {
    const [first, ...rest] = expr.segments;
    const step = (s: PathSegment): Step => (s.index === undefined ? { name: s.name } : { name: s.name, index: s.index });
    const tag = this.scope.resolve(first.name);
    if (tag) {
      this.tags.add(first.name);
      if (first.index !== undefined && !tag.multi) return this.error(expr.span, `tag '${first.name}' is not repeated: it binds one event and cannot be indexed`);
      if (tag.multi && first.index === undefined && (rest.length > 0 || !bareRepeatedTag)) {
        const example = bareRepeatedTag ? `${first.name}[0].${rest[0].name}` : `${first.name}[0]`;
        return this.error(expr.span, `tag '${first.name}' is repeated and binds an array of events: index it, as in ${example}`);
      }
      return { slot: tag.slot, index: first.index, steps: rest.map(step) };
    }
    const reason = this.scope.unavailable(first.name);
    if (reason !== undefined) return this.error(expr.span, reason);
    if (this.scope.tagsOnly) return this.error(expr.span, `unknown tag '${first.name}'`);
    return { slot: -1, index: undefined, steps: expr.segments.map(step) };
  }

  private path(expr: PathExpr): Node {
    if (expr.segments.length === 0) return this.error(expr.span, 'empty property path');
    const root = this.pathRoot(expr, true);
    if ('ev' in root) return root;
    const { slot, index, steps } = root;
    const node: Node = { ev: slot < 0 ? eventPath(steps) : tagPath(slot, index, steps), type: 'unknown' };
    // One own property of the event or of a tag binding one event (a repeated tag here is indexed, or bare).
    if (index === undefined && steps.length === 1 && steps[0].index === undefined && !isInheritedName(steps[0].name)) {
      node.access = { tag: slot, key: steps[0].name };
    }
    return node;
  }

  // ---- operators ----

  private unary(op: 'not' | '-' | '+', x: Node, span: Span): Node {
    const f = x.ev;
    if (op === 'not') {
      if (x.type === 'number' || x.type === 'string') return this.error(span, `'not' needs a boolean, not ${describe(x.type)}`);
      return fold({ ev: (e, b) => notValue(f(e, b)), type: 'boolean' }, [x]);
    }
    if (x.type === 'string' || x.type === 'boolean') return this.error(span, `unary '${op}' needs a number, not ${describe(x.type)}`);
    const ev: Evaluator =
      op === '-'
        ? (e, b) => {
            const v = f(e, b);
            return typeof v === 'number' ? -v : null;
          }
        : (e, b) => {
            const v = f(e, b);
            return typeof v === 'number' ? v : null;
          };
    return fold({ ev, type: 'number' }, [x]);
  }

  private logical(op: 'and' | 'or', l: Node, r: Node, ls: Span, rs: Span): Node {
    let bad = false;
    for (const [n, s] of [
      [l, ls],
      [r, rs],
    ] as const) {
      if (n.type === 'number' || n.type === 'string') {
        this.error(s, `'${op}' needs boolean operands, not ${describe(n.type)}`);
        bad = true;
      }
    }
    if (bad) return { ev: NULL_EV, type: 'unknown' };
    // false and x = false, true or x = true, whatever x is (x has no side effects).
    const absorbing = op === 'and' ? false : true;
    if (l.constant?.value === absorbing || r.constant?.value === absorbing) return constantNode(absorbing);
    const f = l.ev;
    const g = r.ev;
    const ev: Evaluator =
      op === 'and'
        ? (e, b) => {
            const x = f(e, b);
            if (x === false) return false;
            const y = g(e, b);
            if (y === false) return false;
            return x === true && y === true ? true : null;
          }
        : (e, b) => {
            const x = f(e, b);
            if (x === true) return true;
            const y = g(e, b);
            if (y === true) return true;
            return x === false && y === false ? false : null;
          };
    return fold({ ev, type: 'boolean' }, [l, r]);
  }

  private arithmetic(op: '+' | '-' | '*' | '/' | '%', l: Node, r: Node, ls: Span, rs: Span): Node {
    let bad = false;
    for (const [n, s] of [
      [l, ls],
      [r, rs],
    ] as const) {
      if (n.type === 'string' || n.type === 'boolean') {
        this.error(s, `arithmetic '${op}' needs numbers, not ${describe(n.type)}`);
        bad = true;
      }
    }
    if (bad) return { ev: NULL_EV, type: 'unknown' };
    if (l.access && typeof r.constant?.value === 'number') {
      const k = r.constant.value;
      // x - k is x + (-k) exactly in IEEE arithmetic.
      const offset = op === '+' || op === '-' ? { access: l.access, d: op === '+' ? k : -k } : undefined;
      return { ev: accessArithmetic(op, l.access, k, false), type: 'number', offset };
    }
    if (r.access && typeof l.constant?.value === 'number') {
      const k = l.constant.value;
      const offset = op === '+' ? { access: r.access, d: k } : undefined;
      return { ev: accessArithmetic(op, r.access, k, true), type: 'number', offset };
    }
    const f = l.ev;
    const g = r.ev;
    let ev: Evaluator;
    switch (op) {
      case '+':
        ev = (e, b) => {
          const x = f(e, b);
          if (typeof x !== 'number') return null;
          const y = g(e, b);
          return typeof y === 'number' ? x + y : null;
        };
        break;
      case '-':
        ev = (e, b) => {
          const x = f(e, b);
          if (typeof x !== 'number') return null;
          const y = g(e, b);
          return typeof y === 'number' ? x - y : null;
        };
        break;
      case '*':
        ev = (e, b) => {
          const x = f(e, b);
          if (typeof x !== 'number') return null;
          const y = g(e, b);
          return typeof y === 'number' ? x * y : null;
        };
        break;
      case '/':
        ev = (e, b) => {
          const x = f(e, b);
          if (typeof x !== 'number') return null;
          const y = g(e, b);
          return typeof y === 'number' ? x / y : null;
        };
        break;
      case '%':
        ev = (e, b) => {
          const x = f(e, b);
          if (typeof x !== 'number') return null;
          const y = g(e, b);
          return typeof y === 'number' ? x % y : null;
        };
        break;
    }
    return fold({ ev, type: 'number' }, [l, r]);
  }

  /**
   * `&`, `|`, `^`: Esper's ExprBitWiseNode. Two integers give their bitwise and, or, exclusive or (as Java
   * longs: an int's result is the same), two booleans their logical and, or, xor, without `and`'s shortcuts:
   * null if either side is null, so `null & false` is null. As Esper refuses at compile time: strings, null,
   * doubles and floats (`x & 1.5`, `x & (y / 2)`), and operands of two known types (`b & 1`, `1 & 1L`).
   * At run time a number that is not an integer, or a number with a boolean, gives null (Esper's declared
   * types rule both out); a number beyond Java's long range counts as Long.MIN_VALUE or MAX_VALUE, as Java's
   * (long) cast of a double does.
   */
  private bitwise(op: BitwiseOp, l: Node, r: Node, expr: Expr & { left: Expr; right: Expr }): Node {
    let bad = false;
    for (const [n, s] of [
      [l, expr.left.span],
      [r, expr.right.span],
    ] as const) {
      if (n.type === 'string' || n.type === 'null') {
        this.error(s, `bitwise '${op}' needs integers or booleans, not ${describe(n.type)}`);
        bad = true;
      } else if (n.type === 'number' && (n.num === 'double' || n.num === 'float')) {
        this.error(s, `bitwise '${op}' needs integers or booleans, not ${numberTypeName(n.num)} (Esper refuses floating-point operands)`);
        bad = true;
      }
    }
    if (bad) return { ev: NULL_EV, type: 'unknown' };
    if (known(l.type) && known(r.type) && l.type !== r.type) {
      return this.error(expr.span, `bitwise '${op}' needs operands of one type, not ${describe(l.type)} and ${describe(r.type)}`);
    }
    if (l.num !== undefined && r.num !== undefined && l.num !== r.num) {
      return this.error(
        expr.span,
        `bitwise '${op}' needs operands of one type, not ${numberTypeName(l.num)} and ${numberTypeName(r.num)}, as in Esper${[l.num, r.num].includes('long') ? ' (write 10L for a long literal)' : ''}`,
      );
    }
    const f = l.ev;
    const g = r.ev;
    const type: StaticType = known(l.type) ? l.type : r.type;
    const ops = BITWISE[op];
    const node = fold({ type, ev: (e, b) => bitwiseValue(ops, f(e, b), g(e, b)) }, [l, r]);
    return withNum(node, l.num ?? r.num);
  }

  /**
   * `x is y` / `x is not y`: Esper's null-safe equality (ExprEqualsNode with `is`): two nulls are equal, a null
   * and a value are not, values compare as `=` does; never null (values that `=` cannot compare are not equal).
   */
  private isEquality(neg: boolean, l: Node, r: Node, span: Span): Node {
    const mismatch = this.typeMismatch('is', l, r, span);
    if (mismatch) return mismatch;
    const f = l.ev;
    const g = r.ev;
    // With a dynamic property, Java's equals (the classes must match).
    const same = l.object || r.object ? javaEquals(l, r) : equals;
    return fold(
      {
        type: 'boolean',
        ev: (e, b) => {
          const x = f(e, b);
          const y = g(e, b);
          if (x === null || y === null) return (x === y) !== neg;
          return (same(x, y) === true) !== neg;
        },
      },
      [l, r],
    );
  }

  /** `a || b`: string concatenation (Esper's ExprConcatNode); null when either side is null or not a string. */
  private concat(l: Node, r: Node, ls: Span, rs: Span): Node {
    let bad = false;
    for (const [n, s] of [
      [l, ls],
      [r, rs],
    ] as const) {
      if (known(n.type) && n.type !== 'string') {
        this.error(s, `'||' concatenates strings, not ${describe(n.type)}`);
        bad = true;
      }
    }
    if (bad) return { ev: NULL_EV, type: 'unknown' };
    const f = l.ev;
    const g = r.ev;
    return fold(
      {
        type: 'string',
        ev: (e, b) => {
          const x = f(e, b);
          if (typeof x !== 'string') return null;
          const y = g(e, b);
          return typeof y === 'string' ? x + y : null;
        },
      },
      [l, r],
    );
  }

  /** The error for an equality (`=`, `!=`, `is`) between two known, different types: none converts. */
  private typeMismatch(op: string, l: Node, r: Node, span: Span): Node | undefined {
    if (!known(l.type) || !known(r.type) || l.type === r.type) return undefined;
    return this.error(span, `cannot compare ${describe(l.type)} with ${describe(r.type)} ('${op}' does not convert between types)`);
  }

  private equality(op: '=' | '!=', l: Node, r: Node, span: Span): Node {
    const mismatch = this.typeMismatch(op, l, r, span);
    if (mismatch) return mismatch;
    const neg = op === '!=';
    if (l.object || r.object) return { ev: equalityEv(l.ev, r.ev, neg, javaEquals(l, r)), type: 'boolean' };
    if (l.constant && r.constant) return fold({ ev: equalityEv(l.ev, r.ev, neg), type: 'boolean' }, [l, r]);
    // Fast path: one side a non-null literal.
    const [x, k] = r.constant ? [l, r] : l.constant ? [r, l] : [undefined, undefined];
    if (x && k) {
      const c = k.constant!.value;
      if (c === null) return constantNode(null); // x = null is null for every x
      const f = x.ev;
      const acc = x.access;
      if (acc !== undefined) {
        const { tag, key } = acc;
        return {
          type: 'boolean',
          ev: (e, b) => {
            const o = tag < 0 ? e : b[tag];
            if (o === null || typeof o !== 'object') return null;
            const v = (o as Obj)[key];
            if (v === undefined || v === null) return null;
            if (v === c) return !neg;
            return typeof v === 'object' ? null : neg;
          },
        };
      }
      return {
        type: 'boolean',
        ev: (e, b) => {
          const v = f(e, b);
          if (v === null) return null;
          if (v === c) return !neg;
          return typeof v === 'object' ? null : neg;
        },
      };
    }
    if (l.access && r.access) return { type: 'boolean', ev: fusedEquality(l.access, r.access, neg) };
    return { ev: equalityEv(l.ev, r.ev, neg), type: 'boolean' };
  }

  private relational(op: '<' | '<=' | '>' | '>=', l: Node, r: Node, span: Span): Node {
    if (l.type === 'boolean' || r.type === 'boolean') {
      return this.error(span, `'${op}' compares numbers or strings, not booleans`);
    }
    if (known(l.type) && known(r.type) && l.type !== r.type) {
      return this.error(span, `cannot compare ${describe(l.type)} with ${describe(r.type)} using '${op}'`);
    }
    const cmp = COMPARATORS[op];
    if (l.constant && r.constant) return fold({ ev: relationalEv(cmp, l.ev, r.ev), type: 'boolean' }, [l, r]);
    if (r.constant || l.constant) {
      const c = (r.constant ?? l.constant)!.value;
      if (typeof c !== 'number' && typeof c !== 'string') return constantNode(null);
      const x = r.constant ? l : r;
      // Orient the comparison so that the variable is on the left: 5 < x is x > 5.
      const op2 = r.constant ? op : FLIPPED[op];
      const pred = typeof c === 'number' && x.access !== undefined ? literalComparisonPredicate(op2, c, x.access) : undefined;
      return { type: 'boolean', ev: literalComparison(op2, c, x.ev, x.access), pred };
    }
    if (l.access && r.access) {
      return { type: 'boolean', ev: fusedRelational(op, l.access, r.access, false), pred: fusedRelational(op, l.access, r.access, true) };
    }
    // Both sides are pure, so the order they are read in is free: orient the access to the left.
    if (l.access && r.offset) {
      return { type: 'boolean', ev: offsetRelational(op, l.access, r.offset, false), pred: offsetRelational(op, l.access, r.offset, true) };
    }
    if (r.access && l.offset) {
      const op2 = FLIPPED[op];
      return { type: 'boolean', ev: offsetRelational(op2, r.access, l.offset, false), pred: offsetRelational(op2, r.access, l.offset, true) };
    }
    const [acc, other, op3] = l.access ? [l.access, r, op] : r.access ? [r.access, l, FLIPPED[op]] : [undefined, undefined, op];
    if (acc !== undefined && other !== undefined) {
      return { type: 'boolean', ev: accessRelational(op3, acc, other.ev, false), pred: accessRelational(op3, acc, other.ev, true) };
    }
    return { ev: relationalEv(cmp, l.ev, r.ev), type: 'boolean' };
  }

  private inList(expr: InListExpr): Node {
    const x = this.compile(expr.operand);
    const values = expr.values.map((v) => this.compile(v));
    let bad = false;
    values.forEach((v, i) => {
      if (known(x.type) && known(v.type) && v.type !== x.type) {
        this.error(expr.values[i].span, `'in' compares ${describe(x.type)} with ${describe(v.type)}: the types must match`);
        bad = true;
      }
    });
    if (bad) return { ev: NULL_EV, type: 'unknown' };
    const neg = expr.negated;
    const f = x.ev;
    if (values.every((v) => v.constant)) {
      const set = new Set<unknown>();
      let hasNull = false;
      for (const v of values) {
        if (v.constant!.value === null) hasNull = true;
        else set.add(v.constant!.value);
      }
      const miss = hasNull ? null : neg;
      return fold(
        {
          type: 'boolean',
          ev: (e, b) => {
            const v = f(e, b);
            if (v === null || typeof v === 'object') return null;
            return set.has(v) ? !neg : miss;
          },
        },
        [x],
      );
    }
    const evs = values.map((v) => v.ev);
    return {
      type: 'boolean',
      ev: (e, b) => {
        const v = f(e, b);
        if (v === null || !isPrimitive(v)) return null;
        let sawNull = false;
        for (let i = 0; i < evs.length; i++) {
          const w = evs[i](e, b);
          if (w === v) return !neg;
          if (w === null) {
            sawNull = true;
          } else if (Array.isArray(w)) {
            for (let j = 0; j < w.length; j++) {
              const item: unknown = w[j];
              if (item === v) return !neg;
              if (item === null || item === undefined) sawNull = true;
            }
          }
        }
        return sawNull ? null : neg;
      },
    };
  }

  private range(expr: InRangeExpr | BetweenExpr, lowInc: boolean, highInc: boolean, what: 'in' | 'between'): Node {
    const x = this.compile(expr.operand);
    const lo = this.compile(expr.low);
    const hi = this.compile(expr.high);
    const parts: Array<[Node, Span]> = [
      [x, expr.operand.span],
      [lo, expr.low.span],
      [hi, expr.high.span],
    ];
    let bad = false;
    let kind: StaticType | undefined;
    for (const [n, s] of parts) {
      if (n.type === 'boolean') {
        this.error(s, `'${what}' ranges need numbers or strings, not a boolean`);
        bad = true;
      } else if (known(n.type)) {
        if (kind === undefined) kind = n.type;
        else if (kind !== n.type && !bad) {
          this.error(s, `'${what}' range mixes ${describe(kind)} with ${describe(n.type)}: all three must be numbers or all strings`);
          bad = true;
        }
      }
    }
    if (bad) return { ev: NULL_EV, type: 'unknown' };
    const neg = expr.negated;
    const f = x.ev;
    if (lo.constant && hi.constant && typeof lo.constant.value === 'number' && typeof hi.constant.value === 'number') {
      let a = lo.constant.value;
      let z = hi.constant.value;
      if (a > z) [a, z] = [z, a];
      const low = a;
      const high = z;
      const acc = x.access;
      if (acc !== undefined) {
        const { tag, key } = acc;
        return {
          type: 'boolean',
          ev: (e, b) => {
            const o = tag < 0 ? e : b[tag];
            if (o === null || typeof o !== 'object') return false;
            const v = (o as Obj)[key];
            if (typeof v !== 'number') return false;
            return ((lowInc ? v >= low : v > low) && (highInc ? v <= high : v < high)) !== neg;
          },
        };
      }
      const test = (v: number): boolean => (lowInc ? v >= low : v > low) && (highInc ? v <= high : v < high);
      return fold(
        {
          type: 'boolean',
          ev: (e, b) => {
            const v = f(e, b);
            return typeof v === 'number' && test(v) !== neg;
          },
        },
        [x],
      );
    }
    const g = lo.ev;
    const h = hi.ev;
    return fold(
      {
        type: 'boolean',
        ev: (e, b) => inRange(f(e, b), g(e, b), h(e, b), lowInc, highInc, neg),
      },
      [x, lo, hi],
    );
  }

  private like(expr: LikeExpr): Node {
    const escape = expr.escape ?? '\\';
    return this.patternMatch(
      expr,
      'like',
      (p, runtime) => compileLike(p, escape, runtime ? RUNTIME_PATTERN_MAX_LENGTH : undefined),
      (e) => e instanceof LikePatternError,
    );
  }

  private regexp(expr: RegexpExpr): Node {
    // Esper does not unescape the string constants of a regexp expression (ASTConstantHelper.isRegexpNode).
    const outer = this.rawStrings;
    this.rawStrings = true;
    try {
      return this.patternMatch(
        expr,
        'regexp',
        (p, runtime) => {
          const re = compileRegex(p, runtime ? RUNTIME_REGEX_LIMITS : undefined);
          return (s: string) => re.matches(s);
        },
        (e) => e instanceof RegexSyntaxError,
      );
    } finally {
      this.rawStrings = outer;
    }
  }

  /** `like` and `regexp`: the operand is a string (or a number, as text); the pattern a string. */
  private patternMatch(
    expr: LikeExpr | RegexpExpr,
    what: 'like' | 'regexp',
    make: (pattern: string, runtime: boolean) => LikeMatcher,
    isPatternError: (e: unknown) => boolean,
  ): Node {
    const x = this.compile(expr.operand);
    const p = this.compile(expr.pattern);
    let bad = false;
    if (x.type === 'boolean') {
      this.error(expr.operand.span, `'${what}' needs a string (or a number) to match, not a boolean`);
      bad = true;
    }
    if (p.type === 'number' || p.type === 'boolean') {
      this.error(expr.pattern.span, `the ${what} pattern must be a string, not ${describe(p.type)}`);
      bad = true;
    }
    if (p.constant && p.constant.value === null) {
      this.error(expr.pattern.span, `the ${what} pattern is null`);
      bad = true;
    }
    if (bad) return { ev: NULL_EV, type: 'unknown' };
    const neg = expr.negated;
    const f = x.ev;
    if (p.constant) {
      let m: LikeMatcher;
      try {
        m = make(p.constant.value as string, false);
      } catch (err) {
        if (!isPatternError(err)) throw err;
        return this.error(expr.pattern.span, `invalid ${what} pattern: ${(err as Error).message}`);
      }
      const acc = x.access;
      if (acc !== undefined) {
        const { tag, key } = acc;
        return {
          type: 'boolean',
          ev: (e, b) => {
            const o = tag < 0 ? e : b[tag];
            if (o === null || typeof o !== 'object') return null;
            const v = (o as Obj)[key];
            if (typeof v === 'string') return m(v) !== neg;
            return typeof v === 'number' ? m(String(v)) !== neg : null;
          },
        };
      }
      return fold(
        {
          type: 'boolean',
          ev: (e, b) => {
            const v = f(e, b);
            if (typeof v === 'string') return m(v) !== neg;
            return typeof v === 'number' ? m(String(v)) !== neg : null;
          },
        },
        [x],
      );
    }
    const cache = new PatternCache<LikeMatcher>((pattern) => {
      try {
        return make(pattern, true);
      } catch {
        return null; // an invalid pattern computed at run time: the result is null
      }
    });
    const g = p.ev;
    return {
      type: 'boolean',
      ev: (e, b) => {
        const v = f(e, b);
        const s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
        if (s === null) return null;
        const pattern = g(e, b);
        if (typeof pattern !== 'string') return null;
        const m = cache.get(pattern);
        return m === null ? null : m(s) !== neg;
      },
    };
  }

  // ---- case ----

  /**
   * Esper's ExprCaseNode: the searched form takes the result of the first condition that is exactly true; the
   * simple form the first value that `is` the operand (null matches null). Conditions must be boolean, values
   * of the operand's type, and results of one type, as Esper checks at compile time.
   */
  private caseExpr(expr: CaseExpr): Node {
    const errorsBefore = this.errors.length;
    const operand = expr.operand ? this.compile(expr.operand) : undefined;
    let firstKnownWhen: Node | undefined;
    const whens = expr.whens.map((w) => {
      const when = this.compile(w.when);
      if (operand) {
        // Each value against the operand and, when the operand's type is not known, against the others (Esper
        // coerces them to one type and refuses `when 1 ... when 'b'`).
        if (!this.typeMismatch('case', operand, when, w.when.span) && firstKnownWhen) this.typeMismatch('case', firstKnownWhen, when, w.when.span);
        if (firstKnownWhen === undefined && known(when.type)) firstKnownWhen = when;
      } else if (when.type === 'number' || when.type === 'string') {
        this.error(w.when.span, `a 'when' condition must be boolean, not ${describe(when.type)}`);
      }
      return { when, then: this.compile(w.then), thenSpan: w.then.span };
    });
    const otherwise = expr.otherwise ? this.compile(expr.otherwise) : undefined;
    const results = whens.map((w): [Node, Span] => [w.then, w.thenSpan]);
    if (otherwise && expr.otherwise) results.push([otherwise, expr.otherwise.span]);
    let kind: StaticType | undefined;
    for (const [r, s] of results) {
      if (!known(r.type)) continue;
      if (kind === undefined) kind = r.type;
      else if (kind !== r.type) this.error(s, `the results of 'case' mix ${describe(kind)} with ${describe(r.type)}: they must have one type`);
    }
    if (results.every(([r]) => r.type === 'null')) this.error(expr.span, "every result of this 'case' is null (Esper refuses it too)");
    if (this.errors.length > errorsBefore) return { ev: NULL_EV, type: 'unknown' };
    // Without an else, no match gives null, so the type is only known when every result's is.
    const allKnown = results.every(([r]) => r.type !== 'unknown');
    const type: StaticType = allKnown ? (kind ?? 'null') : 'unknown';
    const conditions = whens.map((w) => w.when.ev);
    const thens = whens.map((w) => w.then.ev);
    const fallback = otherwise?.ev ?? NULL_EV;
    const n = conditions.length;
    let ev: Evaluator;
    if (operand) {
      const f = operand.ev;
      ev = (e, b) => {
        const x = f(e, b);
        for (let i = 0; i < n; i++) {
          const v = conditions[i](e, b);
          if (x === null ? v === null : v !== null && equals(x, v) === true) return thens[i](e, b);
        }
        return fallback(e, b);
      };
    } else {
      ev = (e, b) => {
        for (let i = 0; i < n; i++) if (conditions[i](e, b) === true) return thens[i](e, b);
        return fallback(e, b);
      };
    }
    const inputs = [...(operand ? [operand] : []), ...whens.flatMap((w) => [w.when, w.then]), ...(otherwise ? [otherwise] : [])];
    return withNum(fold({ ev, type }, inputs), commonNum(results.map(([r]) => r)));
  }

  // ---- any / some / all ----

  /**
   * `x = any (…)` and its kin, as Esper's ExprEqualsAllAnyNode and ExprRelationalOpAllAnyNode evaluate them
   * (their interpreted evaluators; see the functions below for the null rules, which differ between `=` and
   * `<`). Types are checked as Esper does: the values must have the operand's type, and `<` `<=` `>` `>=`
   * take numbers. Esper 8.9 also documents strings for those, but there `any` is always false and `all` fails
   * to compile, so strings are refused; a string met at run time (a field) compares as `<` compares.
   */
  private quantified(expr: QuantifiedExpr): Node {
    const x = this.compile(expr.operand);
    const values = expr.values.map((v) => this.compile(v));
    const relational = expr.op !== '=' && expr.op !== '!=';
    const what = `'${expr.op} ${expr.quantifier}'`;
    let bad = false;
    const nodes: Array<[Node, Span]> = [[x, expr.operand.span], ...values.map((v, i): [Node, Span] => [v, expr.values[i].span])];
    let kind: StaticType | undefined;
    for (const [n, s] of nodes) {
      if (relational && (n.type === 'boolean' || n.type === 'string')) {
        this.error(s, n.type === 'boolean' ? `${what} compares numbers, not booleans` : `${what} on strings is refused: Esper 8.9 gets it wrong (any is always false, all does not compile)`);
        bad = true;
      } else if (known(n.type)) {
        if (kind === undefined) kind = n.type;
        else if (n.type !== kind && !bad) {
          this.error(s, `${what} compares ${describe(kind)} with ${describe(n.type)}: the types must match`);
          bad = true;
        }
      }
    }
    if (!bad && values.length > 0 && values.every((v) => v.type === 'null')) {
      this.error(expr.span, `${what} with only null values: Esper 8.9 fails to compile it`);
      bad = true;
    }
    if (bad) return { ev: NULL_EV, type: 'unknown' };
    const f = x.ev;
    const evs = values.map((v) => v.ev);
    const all = expr.quantifier === 'all';
    const ev: Evaluator = relational
      ? relationalQuantified(COMPARATORS[expr.op as '<' | '<=' | '>' | '>='], all, f, evs)
      : equalityQuantified(expr.op === '!=', all, f, evs);
    return fold({ type: 'boolean', ev }, [x, ...values]);
  }

  // ---- cast ----

  /**
   * Esper's cast function (ExprCastNode) to int, long, double, float, short, byte, boolean or string. See
   * cast.ts for the conversions. A constant that does not convert is refused, as Esper refuses it while
   * compiling (`cast('x', int)`); at run time it gives null, where Esper throws (see cast.ts).
   */
  private cast(expr: CastExpr): Node {
    const x = this.operand(expr.operand);
    const target = castTarget(expr.type);
    if (typeof target === 'string') return this.error(expr.typeSpan, target);
    if (target.type === 'string' && isPrimitiveLiteral(expr.operand)) {
      // Esper 8.9 generates `1.toString()` for it, which its Java compiler (Janino) refuses.
      return this.error(expr.operand.span, "Esper 8.9 cannot compile the cast of a number or boolean literal to string: write it as a string ('1')");
    }
    const convert = target.converter(x.num);
    const node = fold({ type: target.type, ev: (e, b) => convert(x.ev(e, b)) }, [x]);
    if (node.constant?.value === null) {
      if (typeof x.constant?.value === 'string') {
        return this.error(expr.operand.span, `cannot cast ${JSON.stringify(x.constant.value)} to ${expr.type} (Esper refuses it too)`);
      }
      node.type = target.type; // `cast(null, int)` is a null int, as in Esper
    }
    return withNum(node, target.num);
  }

  // ---- functions ----

  /**
   * `exists(x?)`, `exists(a.item?.price)` (Esper's ExprPropertyExistsNode): whether the property is there, a
   * property holding null included; never null. Esper takes a property only (dynamic or not).
   */
  private exists(expr: CallExpr): Node {
    const [arg] = expr.args;
    if (expr.args.length !== 1 || arg.kind !== 'path') {
      expr.args.forEach((a) => this.operand(a));
      return this.error(expr.span, 'exists() takes one property, as in exists(x?) or exists(a.item?.price)');
    }
    const root = this.pathRoot(arg, false);
    if ('ev' in root) return root;
    const { slot, index, steps } = root;
    if (slot < 0) return { type: 'boolean', ev: (e) => pathPresent(e, steps) };
    if (index !== undefined) {
      return {
        type: 'boolean',
        ev: (_e, b) => {
          const events = b[slot];
          return Array.isArray(events) && index < events.length && pathPresent(events[index], steps);
        },
      };
    }
    // A bare tag (`exists(a)`): whether it is bound.
    if (steps.length === 0) return { type: 'boolean', ev: (_e, b) => b[slot] !== undefined && b[slot] !== null };
    return { type: 'boolean', ev: (_e, b) => pathPresent(b[slot], steps) };
  }

  /**
   * `typeof(x)` (Esper's ExprTypeofNode): the simple name of the value's Java class (cast.ts javaClassOf:
   * 'Long', 'Double', 'String', 'Boolean', 'Integer' for an int literal, ...), 'Map' for a JSON object and
   * 'Object[]' for an array; null for null. A bare tag gives its event type's name, as in Esper.
   */
  private typeofCall(expr: CallExpr): Node {
    if (expr.args.length !== 1) {
      expr.args.forEach((a) => this.operand(a));
      return this.error(expr.span, `typeof() takes 1 argument, got ${expr.args.length}`);
    }
    const [arg] = expr.args;
    if (arg.kind === 'path' && arg.segments.length === 1 && !arg.segments[0].dynamic && arg.segments[0].index === undefined) {
      const tag = this.scope.resolve(arg.segments[0].name);
      if (tag !== undefined) {
        this.tags.add(arg.segments[0].name);
        if (tag.eventType === undefined || tag.multi) return this.error(arg.span, `typeof() of tag '${arg.segments[0].name}' is not supported here (index a repeated tag: ${arg.segments[0].name}[0])`);
        const name = tag.eventType;
        const slot = tag.slot;
        return { type: 'string', ev: (_e, b) => (b[slot] === undefined || b[slot] === null ? null : name) };
      }
    }
    const x = this.operand(arg);
    const f = x.ev;
    const from = x.num;
    return fold({ type: 'string', ev: (e, b) => javaSimpleName(f(e, b), from) }, [x]);
  }

  private call(expr: CallExpr): Node {
    const name = expr.name.toLowerCase();
    if (!KNOWN_FUNCTIONS.includes(name)) {
      expr.args.forEach((a) => this.compile(a)); // report errors inside the arguments too
      return this.error(expr.span, `unknown function '${expr.name}' (known functions: ${KNOWN_FUNCTIONS.join(', ')})`);
    }
    if (name === 'exists') return this.exists(expr);
    if (name === 'typeof') return this.typeofCall(expr);
    const args = expr.args.map((a) => this.compile(a));
    const n = args.length;
    const arity = (min: number, max: number): boolean => {
      if (n >= min && n <= max) return true;
      const want = min === max ? `${min} argument${min === 1 ? '' : 's'}` : `at least ${min} arguments`;
      this.error(expr.span, `${name}() takes ${want}, got ${n}`);
      return false;
    };
    const argType = (i: number, allowed: StaticType[], what: string): boolean => {
      const t = args[i].type;
      if (!known(t) || allowed.includes(t)) return true;
      this.error(expr.args[i].span, `${name}() needs ${what}, not ${describe(t)}`);
      return false;
    };
    const fail: Node = { ev: NULL_EV, type: 'unknown' };
    switch (name) {
      case 'abs': {
        if (!arity(1, 1) || !argType(0, ['number'], 'a number')) return fail;
        const f = args[0].ev;
        const node = fold(
          {
            type: 'number',
            ev: (e, b) => {
              const v = f(e, b);
              return typeof v === 'number' ? Math.abs(v) : null;
            },
          },
          args,
        );
        return withNum(node, widest([args[0].num]));
      }
      case 'lower':
      case 'upper': {
        if (!arity(1, 1) || !argType(0, ['string'], 'a string')) return fail;
        const f = args[0].ev;
        const ev: Evaluator =
          name === 'lower'
            ? (e, b) => {
                const v = f(e, b);
                return typeof v === 'string' ? v.toLowerCase() : null;
              }
            : (e, b) => {
                const v = f(e, b);
                return typeof v === 'string' ? v.toUpperCase() : null;
              };
        return fold({ type: 'string', ev }, args);
      }
      case 'length': {
        if (!arity(1, 1) || !argType(0, ['string'], 'a string or an array')) return fail;
        const f = args[0].ev;
        return fold(
          {
            type: 'number',
            ev: (e, b) => {
              const v = f(e, b);
              if (typeof v === 'string') return v.length;
              return Array.isArray(v) ? v.length : null;
            },
          },
          args,
        );
      }
      case 'coalesce': {
        if (!arity(2, Infinity)) return fail;
        let kind: StaticType | undefined;
        let allKnown = true;
        for (let i = 0; i < n; i++) {
          const t = args[i].type;
          if (t === 'unknown') allKnown = false;
          if (!known(t)) continue;
          if (kind === undefined) kind = t;
          else if (kind !== t) {
            return this.error(expr.args[i].span, `coalesce() mixes ${describe(kind)} with ${describe(t)}: the arguments must have one type`);
          }
        }
        const evs = args.map((a) => a.ev);
        const type: StaticType = allKnown ? (kind ?? 'null') : 'unknown';
        const node = fold(
          {
            type,
            ev: (e, b) => {
              for (let i = 0; i < evs.length; i++) {
                const v = evs[i](e, b);
                if (v !== null) return v;
              }
              return null;
            },
          },
          args,
        );
        return withNum(node, commonNum(args));
      }
      case 'min':
      case 'max': {
        if (!arity(2, Infinity)) return fail;
        let ok = true;
        for (let i = 0; i < n; i++) ok = argType(i, ['number'], 'numbers') && ok;
        if (!ok) return fail;
        const evs = args.map((a) => a.ev);
        const isMax = name === 'max';
        let ev: Evaluator;
        if (n === 2) {
          const [f, g] = evs;
          ev = (e, b) => {
            const x = f(e, b);
            if (typeof x !== 'number') return null;
            const y = g(e, b);
            if (typeof y !== 'number') return null;
            return isMax ? (x >= y ? x : y) : x <= y ? x : y;
          };
        } else {
          ev = (e, b) => {
            let best = 0;
            for (let i = 0; i < evs.length; i++) {
              const v = evs[i](e, b);
              if (typeof v !== 'number') return null;
              if (i === 0 || (isMax ? v > best : v < best)) best = v;
            }
            return best;
          };
        }
        return withNum(fold({ type: 'number', ev }, args), commonNum(args));
      }
    }
    /* istanbul ignore next */
    return fail;
  }
}

/**
 * `x = any (…)` (`neg`: `!=`) as ExprEqualsAllAnyNodeForgeEvalAnyNoColl, `x = all (…)` as …AllNoColl:
 * - any: true at the first value equal to x (`!=`: different from it); otherwise null when x is null, a value
 *   was null or there was none, else false;
 * - all: null when x is null; false at the first value different from x (`!=`: equal to it); otherwise null
 *   when a value was null or there was none, else true.
 * Values compare as `=` does (a value of another type is different); one `=` cannot compare counts as null.
 */
function equalityQuantified(neg: boolean, all: boolean, f: Evaluator, evs: Evaluator[]): Evaluator {
  const n = evs.length;
  return (e, b) => {
    // An x `=` cannot compare gives null either way (with no value, as with values: evaluation has no effects).
    const x = f(e, b);
    if (x === null || !isPrimitive(x)) return null;
    let sawNull = false;
    let sawValue = false;
    for (let i = 0; i < n; i++) {
      const equal = equals(x, evs[i](e, b));
      if (equal === null) {
        sawNull = true;
        continue;
      }
      sawValue = true;
      const different = !equal;
      if (all ? different !== neg : different === neg) return !all;
    }
    return !sawValue || sawNull ? null : all;
  };
}

/**
 * `x < any (…)`, `x >= all (…)`, … as ExprRelationalOpAllAnyNodeForgeEval without collections: an empty
 * list gives true for all and false for any, as Esper's generated code does; otherwise
 * - any: true at the first value x compares true with; at the end null when x was null or every value was,
 *   else false (a null value alone does not make it null);
 * - all: null at the first null value, false at the first value x compares false with (in list order); at
 *   the end null when x was null, else true.
 * Two numbers or two strings compare; any other value, or one of another type than x, counts as null.
 */
function relationalQuantified(cmp: Comparator, all: boolean, f: Evaluator, evs: Evaluator[]): Evaluator {
  const n = evs.length;
  if (n === 0) return () => all;
  return (e, b) => {
    const x = f(e, b);
    const left = typeof x === 'number' || typeof x === 'string' ? x : null;
    let sawValue = false;
    for (let i = 0; i < n; i++) {
      const v = evs[i](e, b);
      const right = typeof v === 'number' || typeof v === 'string' ? v : null;
      if (right === null || (left !== null && typeof left !== typeof right)) {
        if (all) return null;
        continue;
      }
      sawValue = true;
      if (left === null) continue;
      const holds = cmp(left, right);
      if (holds !== all) return holds;
    }
    return !sawValue || left === null ? null : all;
  };
}

/** A number or boolean literal, maybe signed (`1`, `-1.5`, `true`). */
function isPrimitiveLiteral(e: Expr): boolean {
  if (e.kind === 'unary' && e.op !== 'not') return e.operand.kind === 'literal' && typeof e.operand.value === 'number';
  return e.kind === 'literal' && (typeof e.value === 'number' || typeof e.value === 'boolean');
}

/** Evaluates a node once when all of its inputs are constants. Evaluation is pure and never throws. */
function fold(node: Node, inputs: Node[]): Node {
  if (!inputs.every((n) => n.constant)) return node;
  return constantNode(node.ev(undefined as EventRecord | undefined, EMPTY_BINDINGS));
}

/** The node with Node.num set (when `num` is known and the node is a number). */
function withNum(node: Node, num: NumberType | undefined): Node {
  if (num !== undefined && node.type !== 'string' && node.type !== 'boolean') node.num = num;
  return node;
}

const NUMBER_RANK: Record<NumberType, number> = { byte: 0, short: 0, int: 0, long: 1, float: 2, double: 3 };

/**
 * The type Esper computes from numbers of these types (arithmetic, and the common type of `case`, `coalesce`,
 * `min`, `max`): the widest, a float with a double being a double. Unknown when one is unknown, unless another
 * is a double: nothing is wider.
 */
function widest(nums: Array<NumberType | undefined>): NumberType | undefined {
  if (nums.includes('double')) return 'double';
  if (nums.includes(undefined)) return undefined;
  let best: NumberType = 'int'; // bytes and shorts compute as ints, as in Java
  for (const n of nums as NumberType[]) if (NUMBER_RANK[n] > NUMBER_RANK[best]) best = n;
  return best;
}

/** The number type of a result that is one of `nodes` (coalesce, min, max, case): the widest; nulls aside. */
function commonNum(nodes: Node[]): NumberType | undefined {
  const numbers = nodes.filter((n) => n.type !== 'null');
  return numbers.length === 0 ? undefined : widest(numbers.map((n) => n.num));
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** A double as Java's (long) cast converts it: whole, saturating at the ends of long's range. */
function toLong(v: number): bigint {
  if (v >= 2 ** 63) return LONG_MAX;
  if (v <= -(2 ** 63)) return LONG_MIN;
  return BigInt(Math.trunc(v));
}

/** Each bitwise operator on ints, longs and booleans (chosen once per expression, not per event). */
interface BitwiseOps {
  int(x: number, y: number): number;
  long(x: bigint, y: bigint): bigint;
  bool(x: boolean, y: boolean): boolean;
}

const BITWISE: Record<BitwiseOp, BitwiseOps> = {
  '&': { int: (x, y) => x & y, long: (x, y) => x & y, bool: (x, y) => x && y },
  '|': { int: (x, y) => x | y, long: (x, y) => x | y, bool: (x, y) => x || y },
  '^': { int: (x, y) => x ^ y, long: (x, y) => x ^ y, bool: (x, y) => x !== y },
};

/** See Compiler.bitwise. */
function bitwiseValue(ops: BitwiseOps, x: unknown, y: unknown): number | boolean | null {
  if (typeof x === 'number' && typeof y === 'number') {
    if (!Number.isInteger(x) || !Number.isInteger(y)) return null;
    // Within int's range JavaScript's 32-bit operators give the (sign-extended) 64-bit result.
    if ((x | 0) === x && (y | 0) === y) return ops.int(x, y);
    return Number(ops.long(toLong(x), toLong(y)));
  }
  if (typeof x === 'boolean' && typeof y === 'boolean') return ops.bool(x, y);
  return null;
}

function notValue(v: unknown): boolean | null {
  return v === true ? false : v === false ? true : null;
}

function equalityEv(f: Evaluator, g: Evaluator, neg: boolean, same: (x: unknown, y: unknown) => boolean | null = equals): Evaluator {
  return (e, b) => {
    const x = f(e, b);
    if (x === null) return null;
    const r = same(x, g(e, b));
    return r === null ? null : r !== neg;
  };
}

type Comparator = (x: number | string, y: number | string) => boolean;

const COMPARATORS: Record<'<' | '<=' | '>' | '>=', Comparator> = {
  '<': (x, y) => x < y,
  '<=': (x, y) => x <= y,
  '>': (x, y) => x > y,
  '>=': (x, y) => x >= y,
};

const FLIPPED: Record<'<' | '<=' | '>' | '>=', '<' | '<=' | '>' | '>='> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/**
 * `x op lit` with a number or string literal. Number literals (the common case: `price > 100`) get one
 * closure per operator with the comparison inlined, and the property read too when x is a simple access.
 */
function literalComparison(op: '<' | '<=' | '>' | '>=', lit: number | string, f: Evaluator, acc: Access | undefined): Evaluator {
  if (typeof lit === 'string') {
    const cmp = COMPARATORS[op];
    return (e, b) => {
      const v = f(e, b);
      return typeof v === 'string' ? cmp(v, lit) : null;
    };
  }
  const n = lit;
  if (acc !== undefined) {
    const { tag, key } = acc;
    switch (op) {
      case '<':
        return (e, b) => {
          const o = tag < 0 ? e : b[tag];
          if (o === null || typeof o !== 'object') return null;
          const v = (o as Obj)[key];
          return typeof v === 'number' ? v < n : null;
        };
      case '<=':
        return (e, b) => {
          const o = tag < 0 ? e : b[tag];
          if (o === null || typeof o !== 'object') return null;
          const v = (o as Obj)[key];
          return typeof v === 'number' ? v <= n : null;
        };
      case '>':
        return (e, b) => {
          const o = tag < 0 ? e : b[tag];
          if (o === null || typeof o !== 'object') return null;
          const v = (o as Obj)[key];
          return typeof v === 'number' ? v > n : null;
        };
      case '>=':
        return (e, b) => {
          const o = tag < 0 ? e : b[tag];
          if (o === null || typeof o !== 'object') return null;
          const v = (o as Obj)[key];
          return typeof v === 'number' ? v >= n : null;
        };
    }
  }
  switch (op) {
    case '<':
      return (e, b) => {
        const v = f(e, b);
        return typeof v === 'number' ? v < n : null;
      };
    case '<=':
      return (e, b) => {
        const v = f(e, b);
        return typeof v === 'number' ? v <= n : null;
      };
    case '>':
      return (e, b) => {
        const v = f(e, b);
        return typeof v === 'number' ? v > n : null;
      };
    case '>=':
      return (e, b) => {
        const v = f(e, b);
        return typeof v === 'number' ? v >= n : null;
      };
  }
}

/** literalComparison for a number literal and a simple access, as a predicate (see Node.pred). */
function literalComparisonPredicate(op: '<' | '<=' | '>' | '>=', n: number, acc: Access): Predicate {
  return linear(literalComparisonClosure(op, n, acc), { op, x: acc, y: null, d: n, strings: false });
}

function literalComparisonClosure(op: '<' | '<=' | '>' | '>=', n: number, acc: Access): Predicate {
  const { tag, key } = acc;
  switch (op) {
    case '<':
      return (e, b) => {
        const o = tag < 0 ? e : b[tag];
        if (o === null || typeof o !== 'object') return false;
        const v = (o as Obj)[key];
        return typeof v === 'number' && v < n;
      };
    case '<=':
      return (e, b) => {
        const o = tag < 0 ? e : b[tag];
        if (o === null || typeof o !== 'object') return false;
        const v = (o as Obj)[key];
        return typeof v === 'number' && v <= n;
      };
    case '>':
      return (e, b) => {
        const o = tag < 0 ? e : b[tag];
        if (o === null || typeof o !== 'object') return false;
        const v = (o as Obj)[key];
        return typeof v === 'number' && v > n;
      };
    case '>=':
      return (e, b) => {
        const o = tag < 0 ? e : b[tag];
        if (o === null || typeof o !== 'object') return false;
        const v = (o as Obj)[key];
        return typeof v === 'number' && v >= n;
      };
  }
}

const OP_LT = 0;
const OP_LE = 1;
const OP_GT = 2;
const OP_GE = 3;
const OP_CODES: Record<'<' | '<=' | '>' | '>=', number> = { '<': OP_LT, '<=': OP_LE, '>': OP_GT, '>=': OP_GE };

/**
 * `x op y` where both are simple accesses (`price > a.price`): both reads and the comparison in one closure.
 * `asPredicate`: false instead of null (see Node.pred).
 */
function fusedRelational(op: '<' | '<=' | '>' | '>=', l: Access, r: Access, asPredicate: false): Evaluator;
function fusedRelational(op: '<' | '<=' | '>' | '>=', l: Access, r: Access, asPredicate: true): Predicate;
function fusedRelational(op: '<' | '<=' | '>' | '>=', l: Access, r: Access, asPredicate: boolean): Evaluator {
  const lt = l.tag;
  const lk = l.key;
  const rt = r.tag;
  const rk = r.key;
  const code = OP_CODES[op];
  if (asPredicate) {
    const p: Predicate = (e, b) => {
      const lo = lt < 0 ? e : b[lt];
      if (lo === null || typeof lo !== 'object') return false;
      const x = (lo as Obj)[lk];
      const ro = rt < 0 ? e : b[rt];
      if (ro === null || typeof ro !== 'object') return false;
      const y = (ro as Obj)[rk];
      if (typeof x === 'number') {
        if (typeof y !== 'number') return false;
      } else if (typeof x !== 'string' || typeof y !== 'string') {
        return false;
      }
      return compare(code, x, y);
    };
    // Adding 0 changes no comparison (-0 compares as 0), so this is `x op y + 0`.
    return linear(p, { op, x: l, y: r, d: 0, strings: true });
  }
  return (e, b) => {
    const lo = lt < 0 ? e : b[lt];
    if (lo === null || typeof lo !== 'object') return null;
    const x = (lo as Obj)[lk];
    const ro = rt < 0 ? e : b[rt];
    if (ro === null || typeof ro !== 'object') return null;
    const y = (ro as Obj)[rk];
    if (typeof x === 'number') {
      if (typeof y !== 'number') return null;
    } else if (typeof x !== 'string' || typeof y !== 'string') {
      return null;
    }
    switch (code) {
      case OP_LT:
        return x < y;
      case OP_LE:
        return x <= y;
      case OP_GT:
        return x > y;
      default:
        return x >= y;
    }
  };
}

function compare(code: number, x: number | string, y: number | string): boolean {
  switch (code) {
    case OP_LT:
      return x < y;
    case OP_LE:
      return x <= y;
    case OP_GT:
      return x > y;
    default:
      return x >= y;
  }
}

/** `x op g` where x is a simple access and g any expression (`price > a.price + 1`): x read inline. */
function accessRelational(op: '<' | '<=' | '>' | '>=', acc: Access, g: Evaluator, asPredicate: false): Evaluator;
function accessRelational(op: '<' | '<=' | '>' | '>=', acc: Access, g: Evaluator, asPredicate: true): Predicate;
function accessRelational(op: '<' | '<=' | '>' | '>=', acc: Access, g: Evaluator, asPredicate: boolean): Evaluator {
  const { tag, key } = acc;
  const code = OP_CODES[op];
  if (asPredicate) {
    return (e, b) => {
      const o = tag < 0 ? e : b[tag];
      if (o === null || typeof o !== 'object') return false;
      const x = (o as Obj)[key];
      if (typeof x === 'number') {
        const y = g(e, b);
        return typeof y === 'number' && compare(code, x, y);
      }
      if (typeof x === 'string') {
        const y = g(e, b);
        return typeof y === 'string' && compare(code, x, y);
      }
      return false;
    };
  }
  return (e, b) => {
    const o = tag < 0 ? e : b[tag];
    if (o === null || typeof o !== 'object') return null;
    const x = (o as Obj)[key];
    if (typeof x === 'number') {
      const y = g(e, b);
      return typeof y === 'number' ? compare(code, x, y) : null;
    }
    if (typeof x === 'string') {
      const y = g(e, b);
      return typeof y === 'string' ? compare(code, x, y) : null;
    }
    return null;
  };
}

/** `x op y + d` where x and y are simple accesses (`price > a.price + 0.05`): one closure. */
function offsetRelational(op: '<' | '<=' | '>' | '>=', l: Access, r: { access: Access; d: number }, asPredicate: false): Evaluator;
function offsetRelational(op: '<' | '<=' | '>' | '>=', l: Access, r: { access: Access; d: number }, asPredicate: true): Predicate;
function offsetRelational(op: '<' | '<=' | '>' | '>=', l: Access, r: { access: Access; d: number }, asPredicate: boolean): Evaluator {
  const lt = l.tag;
  const lk = l.key;
  const rt = r.access.tag;
  const rk = r.access.key;
  const d = r.d;
  const code = OP_CODES[op];
  // A string x meets a number or null on the right: null, as is anything but a number.
  const none = asPredicate ? false : null;
  const ev: Evaluator = (e, b) => {
    const lo = lt < 0 ? e : b[lt];
    if (lo === null || typeof lo !== 'object') return none;
    const x = (lo as Obj)[lk];
    if (typeof x !== 'number') return none;
    const ro = rt < 0 ? e : b[rt];
    if (ro === null || typeof ro !== 'object') return none;
    const y = (ro as Obj)[rk];
    return typeof y === 'number' ? compare(code, x, y + d) : none;
  };
  return asPredicate ? linear(ev as Predicate, { op, x: l, y: r.access, d, strings: false }) : ev;
}

/** `x op k` (or `k op x` when `constantFirst`) where x is a simple access and k a number: the read inline. */
function accessArithmetic(op: '+' | '-' | '*' | '/' | '%', acc: Access, k: number, constantFirst: boolean): Evaluator {
  const { tag, key } = acc;
  if (op === '+') {
    return (e, b) => {
      const o = tag < 0 ? e : b[tag];
      if (o === null || typeof o !== 'object') return null;
      const x = (o as Obj)[key];
      return typeof x === 'number' ? (constantFirst ? k + x : x + k) : null;
    };
  }
  if (op === '-' && !constantFirst) {
    return (e, b) => {
      const o = tag < 0 ? e : b[tag];
      if (o === null || typeof o !== 'object') return null;
      const x = (o as Obj)[key];
      return typeof x === 'number' ? x - k : null;
    };
  }
  return (e, b) => {
    const o = tag < 0 ? e : b[tag];
    if (o === null || typeof o !== 'object') return null;
    const v = (o as Obj)[key];
    if (typeof v !== 'number') return null;
    const x = constantFirst ? k : v;
    const y = constantFirst ? v : k;
    switch (op) {
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '/':
        return x / y;
      default:
        return x % y;
    }
  };
}

/** `x = y` / `x != y` where both are simple accesses (`country != a.country`). */
function fusedEquality(l: Access, r: Access, neg: boolean): Evaluator {
  const lt = l.tag;
  const lk = l.key;
  const rt = r.tag;
  const rk = r.key;
  return (e, b) => {
    const lo = lt < 0 ? e : b[lt];
    if (lo === null || typeof lo !== 'object') return null;
    const x = (lo as Obj)[lk];
    if (x === undefined || x === null || typeof x === 'object') return null;
    const ro = rt < 0 ? e : b[rt];
    if (ro === null || typeof ro !== 'object') return null;
    const y = (ro as Obj)[rk];
    if (y === undefined || y === null || typeof y === 'object') return null;
    return (x === y) !== neg;
  };
}

function relationalEv(cmp: Comparator, f: Evaluator, g: Evaluator): Evaluator {
  return (e, b) => {
    const x = f(e, b);
    if (typeof x === 'number') {
      const y = g(e, b);
      return typeof y === 'number' ? cmp(x, y) : null;
    }
    if (typeof x === 'string') {
      const y = g(e, b);
      return typeof y === 'string' ? cmp(x, y) : null;
    }
    return null;
  };
}

/**
 * Esper's between/in-range (ExprBetweenNodeForgeEval with its computers): numbers or strings, reversed bounds
 * swapped, inclusion flags kept per end, `neg` for `not`. Never null: a null value is false, a null bound
 * gives `neg`. A value of another kind than two agreeing bounds counts as a null value, a bound of another
 * kind than the value as a null bound.
 */
function inRange(v: unknown, lo: unknown, hi: unknown, lowInc: boolean, highInc: boolean, neg: boolean): boolean {
  if (typeof v !== 'number' && typeof v !== 'string') return false;
  const kind = typeof v;
  if (typeof lo !== kind || typeof hi !== kind) {
    // Bounds of one kind that the value is not: the value is of the wrong type (as with literal bounds).
    const boundsAgree = typeof lo === typeof hi && (typeof lo === 'number' || typeof lo === 'string');
    return boundsAgree ? false : neg;
  }
  let a = lo as number | string;
  let z = hi as number | string;
  if (a > z) [a, z] = [z, a];
  return ((lowInc ? v >= a : v > a) && (highInc ? v <= z : v < z)) !== neg;
}

function isDynamic(expr: PathExpr): boolean {
  return expr.segments.some((s) => s.dynamic === true);
}

/** A path as written: `item?.price`, `items[0]?`. */
function pathText(expr: PathExpr): string {
  return expr.segments.map((s) => `${s.name}${s.index === undefined ? '' : `[${s.index}]`}${s.dynamic ? '?' : ''}`).join('.');
}

/** typeof's answer for a value: see Compiler.typeofCall. */
function javaSimpleName(v: unknown, from: NumberType | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object') return Array.isArray(v) ? 'Object[]' : 'Map';
  return javaClassOf(v, from);
}

/**
 * Equality with an operand of Java's type Object (a dynamic property), as Esper computes it: Java's equals,
 * so values of different classes differ (`x? = 1` is false for x = 1, a Long against an Integer; `x? = 1L`
 * is true). Null when either side is null, or is an object or array (not compared here, as with `=`).
 */
function javaEquals(l: Node, r: Node): (x: unknown, y: unknown) => boolean | null {
  // A constant side's class is known once (`x? = 1L`); the other's is found per value.
  const classOf = (n: Node): ((v: unknown) => string | null) => {
    if (!n.constant) return (v) => javaClassOf(v, n.num);
    const known = javaClassOf(n.constant.value, n.num);
    return () => known;
  };
  const lClass = classOf(l);
  const rClass = classOf(r);
  return (x, y) => {
    const v = equals(x, y);
    return v === true ? lClass(x) === rClass(y) : v;
  };
}
