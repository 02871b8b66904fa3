/**
 * Compiles a pattern's AST into the automaton (automaton.ts): checks tag scoping the way Esper does,
 * assigns a binding slot per tag, and turns every expression into a closure once.
 */
import { compileExpression, compilePredicate } from '../expr/compile';
import type { Bindings, CompiledExpr, Evaluator, ExprScope, TagInfo } from '../expr/types';
import type { Duration, EveryDistinctPattern, Expr, PatternNode, SchedulePattern, Span } from '../language/ast';
import { Diagnostic, RuleError, diagnosticAt, relocate } from '../language/diagnostics';
import { periodSeconds, wholeMilliseconds } from '../language/grammar/lexer';
import { parseExpression, parsePattern } from '../language/parser';
import type { RuleDefinition, TextOrigin } from '../rules/rule';
import type { CompiledPattern, NodeSpec, ScheduleSpec, TimedPeriod } from './automaton';
import { parseIsoSchedule, scheduleDate, type SchedulePlan } from './schedule';
import { MAX_DATE_MS, type Period } from './time';
import { cronSchedule } from './cron';

/** The one name a tag may not have: it is the key of `events` in every match (see emitMatch in engine.ts). */
const RESERVED_NAME = '__proto__';

interface TagDef {
  name: string;
  slot: number;
  span: Span;
  eventType: string;
  insideNot: boolean;
  /** Bound inside a repeat: holds an array of events after it. */
  arrayed: boolean;
}

/** Tags visible at one point of the pattern, and why the others are not. */
class Scope implements ExprScope {
  constructor(
    private readonly all: Map<string, TagDef>,
    private readonly visible: ReadonlyMap<string, TagInfo>,
    private readonly siblings: ReadonlyMap<string, string>,
    readonly tagsOnly: boolean,
  ) {}

  resolve(name: string): TagInfo | undefined {
    return this.visible.get(name);
  }

  unavailable(name: string): string | undefined {
    if (this.visible.has(name)) return undefined;
    const def = this.all.get(name);
    if (!def) return undefined;
    if (def.insideNot) return `tag '${name}' is bound inside 'not' and cannot be used anywhere`;
    const op = this.siblings.get(name);
    if (op) return `tag '${name}' is bound on the other side of '${op}' and cannot be used here`;
    return `tag '${name}' is not bound at this point: it is bound later in the pattern`;
  }
}

export interface PatternCompileResult {
  pattern: CompiledPattern;
  warnings: Diagnostic[];
  /**
   * True when starting an instance already starts a timer or can match at once (`not A`), so a key's instance
   * must start at the key's first event of any type.
   */
  startsOnAnyEvent: boolean;
  /** Scope for emit/select expressions: every tag outside `not`. */
  emitScope: ExprScope;
}

class PatternCompiler {
  private readonly tags = new Map<string, TagDef>();
  private readonly specs: NodeSpec[] = [];
  private readonly errors: Diagnostic[] = [];
  private readonly warnings: Diagnostic[] = [];
  private readonly eventTypes = new Set<string>();

  compile(ast: PatternNode): PatternCompileResult {
    this.collectTags(ast, false, false, []);
    const root = this.node(ast, new Map(), new Map()).spec;
    if (this.errors.length > 0) throw new RuleError(this.errors);
    const warnings: Diagnostic[] = [...this.warnings];
    const unbounded = findUnboundedStep(ast, false);
    if (unbounded) {
      warnings.push(
        diagnosticAt(
          unbounded.span,
          'nothing bounds this rule in time: partial matches can wait here forever (add "where timer:within(...)")',
          'warning',
        ),
      );
    }
    const all = new Map<string, TagInfo>();
    for (const t of this.tags.values()) if (!t.insideNot) all.set(t.name, { slot: t.slot, multi: t.arrayed, eventType: t.eventType });
    const tagNames: string[] = [];
    for (const t of this.tags.values()) tagNames[t.slot] = t.name;
    const visibleTags = [...this.tags.values()].filter((t) => !t.insideNot).map((t) => ({ name: t.name, slot: t.slot }));
    return {
      pattern: { root, specs: this.specs, tags: tagNames, visibleTags, eventTypes: this.eventTypes },
      warnings,
      startsOnAnyEvent: startsTimer(root) || trueAtStart(root),
      emitScope: new Scope(this.tags, all, new Map(), true),
    };
  }

  /** First pass: every tag, its slot, whether it sits inside `not` or a repeat; duplicates are errors. */
  private collectTags(node: PatternNode, insideNot: boolean, arrayed: boolean, orBranches: string[]): void {
    switch (node.kind) {
      case 'filter': {
        if (!node.tag) return;
        if (node.tag === RESERVED_NAME) {
          // Matches report tags as the keys of a plain object, where '__proto__' would set its prototype.
          this.errors.push(
            diagnosticAt(node.tagSpan ?? node.span, `invalid tag name '${node.tag}': it is reserved, choose another name`),
          );
        }
        const existing = this.tags.get(node.tag);
        const here = orBranches.join('/');
        if (existing) {
          // The same tag may name alternatives in different branches of one `or`.
          const sameOr = this.orPaths.get(node.tag)?.some((p) => divergesInOr(p, here));
          if (!sameOr || existing.eventType !== node.eventType) {
            this.errors.push(diagnosticAt(node.tagSpan ?? node.span, `tag '${node.tag}' is bound more than once`));
          }
          this.orPaths.get(node.tag)?.push(here);
          return;
        }
        this.orPaths.set(node.tag, [here]);
        this.tags.set(node.tag, {
          name: node.tag,
          slot: this.tags.size,
          span: node.tagSpan ?? node.span,
          eventType: node.eventType,
          insideNot,
          arrayed,
        });
        return;
      }
      case 'followedBy':
      case 'and':
        for (const c of node.children) this.collectTags(c, insideNot, arrayed, orBranches);
        return;
      case 'or':
        node.children.forEach((c, i) => this.collectTags(c, insideNot, arrayed, [...orBranches, `${node.span.offset}:${i}`]));
        return;
      case 'not':
        this.collectTags(node.child, true, arrayed, orBranches);
        return;
      case 'every':
      case 'everyDistinct':
      case 'guard':
        this.collectTags(node.child, insideNot, arrayed, orBranches);
        return;
      case 'repeat':
        this.collectTags(node.child, insideNot, true, orBranches);
        if (node.until) this.collectTags(node.until, insideNot, arrayed, orBranches);
        return;
      case 'interval':
      case 'at':
      case 'schedule':
        return;
    }
  }

  private readonly orPaths = new Map<string, string[]>();

  private nextId(): number {
    return this.specs.length;
  }

  private register<T extends NodeSpec>(spec: T): T {
    this.specs[spec.id] = spec;
    return spec;
  }

  private scope(visible: ReadonlyMap<string, TagInfo>, siblings: ReadonlyMap<string, string>, tagsOnly: boolean): Scope {
    return new Scope(this.tags, visible, siblings, tagsOnly);
  }

  private tagInfo(name: string, arrayedOutside: boolean): TagInfo {
    const def = this.tags.get(name)!;
    return { slot: def.slot, multi: arrayedOutside && def.arrayed, eventType: def.eventType };
  }

  private guarded<T>(fallback: T, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof RuleError) {
        this.errors.push(...e.diagnostics);
        return fallback;
      }
      throw e;
    }
  }

  private expression(expr: Expr, scope: Scope, what: string): Evaluator {
    return this.guarded<Evaluator>(
      () => null,
      () => {
        const compiled = compileExpression(expr, scope);
        if (compiled.type !== 'boolean' && compiled.type !== 'unknown' && compiled.type !== 'null' && what === 'condition') {
          throw new RuleError([diagnosticAt(expr.span, `a condition must be boolean, not ${compiled.type}`)]);
        }
        return compiled.evaluate;
      },
    );
  }

  /**
   * The keys and expiry of `every-distinct(...)`, as Esper validates them: an expression whose value is known
   * at compile time is never a key; when it is the last parameter it must be a number, the expiry in seconds
   * (ignored unless positive); earlier ones are left out with a warning. At least one key must remain.
   */
  private distinctKeys(node: EveryDistinctPattern, scope: Scope): { keys: Evaluator[]; expiry: Period | null } {
    const keys: Evaluator[] = [];
    let expiry = node.expiry ? periodOf(node.expiry) : null;
    let failed = false;
    node.keys.forEach((k, i) => {
      const compiled = this.guarded<CompiledExpr | null>(null, () => compileExpression(k, scope));
      if (compiled === null) {
        failed = true;
        return;
      }
      if (compiled.constant === undefined) {
        keys.push(compiled.evaluate);
        return;
      }
      const value = compiled.constant.value;
      // Rounded to milliseconds first, as Esper's deltaForSecondsNumber: 0.0001 seconds is no expiry.
      const ms = typeof value === 'number' ? Math.round(value * 1000) : 0;
      if (i < node.keys.length - 1 || node.expiry) {
        this.warnings.push(diagnosticAt(k.span, 'this parameter is a constant, so it is not a distinct key: it is left out', 'warning'));
      } else if (typeof value !== 'number') {
        failed = true;
        this.errors.push(diagnosticAt(k.span, 'the last parameter of every-distinct is a constant, so it is the expiry: it must be a time period or a number of seconds'));
      } else if (ms > 0) {
        expiry = { ms };
      } else {
        this.warnings.push(diagnosticAt(k.span, `an expiry of ${value} seconds is ignored: it must be at least a millisecond`, 'warning'));
      }
    });
    if (keys.length === 0 && !failed) {
      this.errors.push(diagnosticAt(node.span, 'every-distinct needs at least one key whose value depends on the events (constants are not keys)'));
    }
    return { keys, expiry };
  }

  /**
   * Compiles one node. `visible` holds the tags bound before it; `siblings` names the tags bound by the other
   * children of an enclosing and/or (for a precise error). Returns the spec and the tags it binds.
   */
  private node(
    node: PatternNode,
    visible: ReadonlyMap<string, TagInfo>,
    siblings: ReadonlyMap<string, string>,
  ): { spec: NodeSpec; binds: Map<string, TagInfo> } {
    const id = this.nextId();
    this.specs.push(undefined as unknown as NodeSpec); // reserve the id: pre-order numbering
    switch (node.kind) {
      case 'filter': {
        this.eventTypes.add(node.eventType);
        const errorsBefore = this.errors.length;
        for (const p of node.predicates) this.checkCondition(p, this.scope(visible, siblings, false));
        const test =
          this.errors.length > errorsBefore
            ? () => false
            : this.guarded(
                () => false,
                () => compilePredicate(node.predicates, this.scope(visible, siblings, false)).test,
              );
        const binds = new Map<string, TagInfo>();
        if (node.tag && this.tags.has(node.tag)) binds.set(node.tag, this.tagInfo(node.tag, false));
        const slot = node.tag && this.tags.has(node.tag) ? this.tags.get(node.tag)!.slot : -1;
        return { spec: this.register({
          kind: 'filter',
          id,
          eventType: node.eventType,
          slot,
          test,
          conditional: node.predicates.some((p) => this.indexedByEsper(p)),
        }), binds };
      }
      case 'followedBy': {
        let bound = new Map(visible);
        const all = new Map<string, TagInfo>();
        const children: NodeSpec[] = [];
        for (const child of node.children) {
          const r = this.node(child, bound, siblings);
          children.push(r.spec);
          bound = new Map([...bound, ...r.binds]);
          for (const [k, v] of r.binds) all.set(k, v);
        }
        const limits = [null, ...node.limits];
        return { spec: this.register({ kind: 'followedBy', id, children, limits }), binds: all };
      }
      case 'and':
      case 'or': {
        const childTags = node.children.map((c) => this.tagsOf(c));
        const all = new Map<string, TagInfo>();
        const children: NodeSpec[] = [];
        node.children.forEach((child, i) => {
          const others = new Map(siblings);
          childTags.forEach((tags, j) => {
            if (j !== i) for (const t of tags) others.set(t, node.kind);
          });
          const r = this.node(child, visible, others);
          children.push(r.spec);
          for (const [k, v] of r.binds) all.set(k, v);
        });
        return { spec: this.register({ kind: node.kind, id, children }), binds: all };
      }
      case 'not': {
        const r = this.node(node.child, visible, siblings);
        return { spec: this.register({ kind: 'not', id, child: r.spec }), binds: new Map() };
      }
      case 'every': {
        const r = this.node(node.child, visible, siblings);
        return { spec: this.register({ kind: 'every', id, child: r.spec }), binds: r.binds };
      }
      case 'everyDistinct': {
        const r = this.node(node.child, visible, siblings);
        const keyScope = this.scope(new Map([...visible, ...r.binds]), siblings, true);
        const { keys, expiry } = this.distinctKeys(node, keyScope);
        return { spec: this.register({ kind: 'everyDistinct', id, child: r.spec, keys, expiry }), binds: r.binds };
      }
      case 'repeat': {
        this.checkRepeat(node);
        const m = this.node(node.child, visible, siblings);
        const u = node.until ? this.node(node.until, visible, siblings) : null;
        // Esper recurses until its stack overflows here (each restart is true at once and restarts again).
        if (node.high === undefined && endsTrueAtStart(m.spec)) {
          this.errors.push(
            diagnosticAt(node.span, 'the repeated sub-expression is true and ends as soon as it starts (a zero timer:interval, an and of nots), so an open-ended repeat would restart it without end'),
          );
        }
        const binds = new Map<string, TagInfo>();
        const arrayedSlots: number[] = [];
        for (const name of m.binds.keys()) {
          binds.set(name, this.tagInfo(name, true));
          arrayedSlots.push(this.tags.get(name)!.slot);
        }
        if (u) for (const [k, v] of u.binds) binds.set(k, v);
        return {
          spec: this.register({
            kind: 'repeat',
            id,
            child: m.spec,
            until: u ? u.spec : null,
            low: node.low ?? null,
            high: node.high ?? null,
            arrayedSlots,
          }),
          binds,
        };
      }
      case 'guard': {
        const r = this.node(node.child, visible, siblings);
        const g = node.guard;
        let guard: import('./automaton').GuardKind;
        if (g.kind === 'within') guard = { kind: 'within', ...this.period(g.duration, visible, siblings) };
        else if (g.kind === 'withinMax') {
          if (!Number.isInteger(g.max) || g.max < 1) this.errors.push(diagnosticAt(g.span, 'timer:withinmax needs a whole count of at least 1'));
          guard = { kind: 'withinMax', ...this.period(g.duration, visible, siblings), max: g.max };
        } else {
          const scope = this.scope(new Map([...visible, ...r.binds]), siblings, true);
          guard = { kind: 'while', condition: this.expression(g.condition, scope, 'condition') };
        }
        return { spec: this.register({ kind: 'guard', id, child: r.spec, guard }), binds: r.binds };
      }
      case 'interval':
        return { spec: this.register({ kind: 'interval', id, ...this.period(node.duration, visible, siblings) }), binds: new Map() };
      case 'at':
        return { spec: this.register({ kind: 'at', id, schedule: cronSchedule(node) }), binds: new Map() };
      case 'schedule':
        return { spec: this.register({ kind: 'schedule', id, plan: this.schedulePlan(node, visible, siblings) }), binds: new Map() };
    }
  }

  /**
   * The plan of a `timer:schedule`, typed as Esper types its parameters: `iso` a string, `date` a string or a
   * long (epoch ms; an int is refused, as in Esper: write 5000L), `repetitions` an int or long, `period` a time
   * period. Constants are checked here; values read from tags are checked as it starts, and one that is not
   * usable (a date that does not parse, a period of zero or less) gives no match from it.
   */
  private schedulePlan(node: SchedulePattern, visible: ReadonlyMap<string, TagInfo>, siblings: ReadonlyMap<string, string>): ScheduleSpec['plan'] {
    const never: ScheduleSpec['plan'] = () => null;
    const errorsBefore = this.errors.length;
    const param = (name: string, expr: Expr | undefined, accepts: (c: CompiledExpr) => string | null): CompiledExpr | null => {
      if (!expr) return null;
      const c = this.guarded<CompiledExpr | null>(null, () => compileExpression(expr, this.scope(visible, siblings, true)));
      if (c === null) return null;
      const wrong = accepts(c);
      if (wrong) this.errors.push(diagnosticAt(expr.span, `the '${name}' parameter of timer:schedule must be ${wrong}`));
      return wrong ? null : c;
    };
    const integral = (c: CompiledExpr) => c.num === undefined || c.num === 'int' || c.num === 'long' || c.num === 'short' || c.num === 'byte';
    const iso = param('iso', node.iso, (c) => (c.type === 'string' || c.type === 'unknown' ? null : `a string, not ${c.type === 'null' ? 'null' : `a ${c.type}`}`));
    const date = param('date', node.date, (c) => {
      if (c.type === 'string' || c.type === 'unknown') return null;
      if (c.type === 'number' && (c.num === undefined || c.num === 'long')) return null;
      return c.type === 'number' ? `a string or a long number of epoch milliseconds, not ${c.num === 'int' ? 'an int (write 5000L)' : `a ${c.num}`}` : `a string or a long, not ${c.type === 'null' ? 'null' : `a ${c.type}`}`;
    });
    const repetitions = param('repetitions', node.repetitions, (c) =>
      (c.type === 'number' && integral(c)) || c.type === 'unknown' ? null : `an int or a long, not ${c.type === 'number' ? `a ${c.num}` : c.type === 'null' ? 'null' : `a ${c.type}`}`,
    );
    const period = node.period ? this.period(node.period, visible, siblings) : null;
    const calendarMonths = period?.calendar ? period.calendar.years * 12 + period.calendar.months : 0;
    if (period && !period.computed && !(period.ms > 0) && calendarMonths === 0) {
      this.errors.push(diagnosticAt(node.period!.span, 'the period of timer:schedule must be more than zero'));
    }
    if (this.errors.length > errorsBefore) return never;

    // Each part: a value known now, or read as it starts; `undefined` when the value is not usable.
    const isoOf = (v: unknown): SchedulePlan | undefined => {
      if (typeof v !== 'string') return undefined;
      const parsed = parseIsoSchedule(v);
      return typeof parsed === 'string' ? undefined : parsed;
    };
    const dateOf = (v: unknown): number | undefined => {
      if (typeof v === 'string') return scheduleDate(v) ?? undefined;
      return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_DATE_MS ? v : undefined;
    };
    // As in Esper, a null count is no count (the period then fires once); any other number counts whole.
    const repetitionsOf = (v: unknown): number | null | undefined =>
      v === null || v === undefined ? null : typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : undefined;

    if (iso?.constant) {
      const parsed = typeof iso.constant.value === 'string' ? parseIsoSchedule(iso.constant.value) : 'it is not a string';
      if (typeof parsed === 'string') {
        this.errors.push(diagnosticAt(node.iso!.span, `timer:schedule: ${parsed}`));
        return never;
      }
      return () => parsed;
    }
    if (iso) {
      const evaluate = iso.evaluate;
      return (b) => isoOf(evaluate(undefined, b)) ?? null;
    }
    // A value known now is read once; one from the tags as each schedule starts.
    const reader = <T>(c: CompiledExpr | null, read: (v: unknown) => T, absent: T): ((b: Bindings) => T) => {
      if (c === null) return () => absent;
      if (c.constant) {
        const value = read(c.constant.value);
        return () => value;
      }
      const evaluate = c.evaluate;
      return (b) => read(evaluate(undefined, b));
    };
    if (date?.constant && dateOf(date.constant.value) === undefined) {
      this.errors.push(diagnosticAt(node.date!.span, `timer:schedule: ${JSON.stringify(date.constant.value)} is not an ISO-8601 date such as 2025-01-31T08:00:00Z`));
      return never;
    }
    const dateAt = reader<number | null | undefined>(date, dateOf, null);
    const repetitionsAt = reader<number | null | undefined>(repetitions, repetitionsOf, null);
    const fixedPeriod: Period | null = period && !period.computed ? { ms: period.ms, ...(period.calendar ? { calendar: period.calendar } : {}) } : null;
    return (b) => {
      const d = dateAt(b);
      if (d === undefined) return null;
      let p = fixedPeriod;
      if (period?.computed) {
        const ms = period.computed(b);
        if (ms === null || ms <= 0) return null;
        p = { ms };
      }
      const r = repetitionsAt(b);
      if (r === undefined) return null;
      return { date: d, period: p, repetitions: r };
    };
  }

  /**
   * The period of a guard or observer. A computed one (`timer:interval(a.delay)`) reads the tags bound before
   * it and gives whole milliseconds, rounded as Esper's TimeAbacus rounds seconds (Math.round), or null when
   * its value is not a finite number; a value known at compile time becomes a fixed period.
   */
  private period(d: Duration, visible: ReadonlyMap<string, TagInfo>, siblings: ReadonlyMap<string, string>): TimedPeriod {
    if (!d.computed) return periodOf(d);
    const { expr, unitMs } = d.computed;
    // A tag alone (`timer:interval(a)`, or `a[0]` of a repeat) is an event, not a number: Esper refuses it too.
    if (expr.kind === 'path' && expr.segments.length === 1 && visible.has(expr.segments[0].name)) {
      this.errors.push(diagnosticAt(expr.span, `a time period must be a number, not the event tagged '${expr.segments[0].name}'`));
      return { ms: 0 };
    }
    const compiled = this.guarded<CompiledExpr | null>(null, () => compileExpression(expr, this.scope(visible, siblings, true)));
    if (compiled === null) return { ms: 0 };
    if (compiled.type === 'string' || compiled.type === 'boolean') {
      this.errors.push(diagnosticAt(expr.span, `a time period must be a number, not a ${compiled.type}`));
      return { ms: 0 };
    }
    // A value that overflows (1e306 sec) is no period either: a timer at Infinity cannot be checkpointed.
    const msOf = (v: unknown) => (typeof v === 'number' ? wholeMilliseconds(periodSeconds(v, unitMs)) : Number.NaN);
    if (compiled.constant) {
      const ms = msOf(compiled.constant.value);
      if (!Number.isFinite(ms)) {
        this.errors.push(diagnosticAt(expr.span, 'this time period is not a finite number'));
        return { ms: 0 };
      }
      return { ms };
    }
    const evaluate = compiled.evaluate;
    return {
      ms: 0,
      computed: (bindings) => {
        const ms = msOf(evaluate(undefined, bindings));
        return Number.isFinite(ms) ? ms : null;
      },
    };
  }

  private checkCondition(expr: Expr, scope: Scope): void {
    this.guarded(undefined, () => {
      const t = compileExpression(expr, scope).type;
      if (t === 'number' || t === 'string') {
        throw new RuleError([diagnosticAt(expr.span, `a condition must be boolean, not ${t}`)]);
      }
    });
  }

  /**
   * Would Esper put a filter with this condition into its filter index (which orders it before the filters
   * without one, see KeyInstance.dispatch)? Only a condition that reads the filtered event itself: `B(true)`
   * and `B(a.x > 0)` sit with the unconditioned filters. An `and` needs one such side, an `or` both.
   */
  private indexedByEsper(e: Expr): boolean {
    if (e.kind === 'binary' && e.op === 'and') return this.indexedByEsper(e.left) || this.indexedByEsper(e.right);
    if (e.kind === 'binary' && e.op === 'or') return this.indexedByEsper(e.left) && this.indexedByEsper(e.right);
    return this.readsEvent(e);
  }

  /** Does the expression read a field of the filtered event (a path not starting with a tag)? */
  private readsEvent(e: Expr): boolean {
    switch (e.kind) {
      case 'literal':
        return false;
      case 'path':
        return !this.tags.has(e.segments[0].name);
      case 'unary':
        return this.readsEvent(e.operand);
      case 'binary':
        return this.readsEvent(e.left) || this.readsEvent(e.right);
      case 'inList':
      case 'quantified':
        return this.readsEvent(e.operand) || e.values.some((v) => this.readsEvent(v));
      case 'inRange':
      case 'between':
        return this.readsEvent(e.operand) || this.readsEvent(e.low) || this.readsEvent(e.high);
      case 'like':
      case 'regexp':
        return this.readsEvent(e.operand) || this.readsEvent(e.pattern);
      case 'isNull':
      case 'cast':
      case 'instanceof':
        return this.readsEvent(e.operand);
      case 'call':
        return e.args.some((a) => this.readsEvent(a));
      case 'case':
        return (
          (e.operand !== undefined && this.readsEvent(e.operand)) ||
          e.whens.some((w) => this.readsEvent(w.when) || this.readsEvent(w.then)) ||
          (e.otherwise !== undefined && this.readsEvent(e.otherwise))
        );
    }
  }

  private checkRepeat(node: Extract<PatternNode, { kind: 'repeat' }>): void {
    const { low, high } = node;
    if (low !== undefined && high !== undefined && low > high) {
      this.errors.push(diagnosticAt(node.span, `repeat range [${low}:${high}] has its lower bound above its upper bound`));
    }
    if ((node.exact && (low ?? 0) < 1) || (high !== undefined && high < 1)) {
      this.errors.push(diagnosticAt(node.span, 'a repeat count must be at least 1'));
    }
    const tight = low !== undefined && high !== undefined && low === high;
    if (!tight && !node.until) {
      this.errors.push(diagnosticAt(node.span, "a repeat without an exact count needs 'until' to end it"));
    }
  }

  private tagsOf(node: PatternNode): string[] {
    const out: string[] = [];
    const walk = (n: PatternNode): void => {
      switch (n.kind) {
        case 'filter':
          if (n.tag) out.push(n.tag);
          return;
        case 'followedBy':
        case 'and':
        case 'or':
          n.children.forEach(walk);
          return;
        case 'not':
          return;
        case 'every':
        case 'everyDistinct':
        case 'guard':
          walk(n.child);
          return;
        case 'repeat':
          walk(n.child);
          if (n.until) walk(n.until);
          return;
        default:
          return;
      }
    };
    walk(node);
    return out;
  }
}

function divergesInOr(a: string, b: string): boolean {
  const pa = a ? a.split('/') : [];
  const pb = b ? b.split('/') : [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const [oa] = pa[i].split(':');
    const [ob] = pb[i].split(':');
    return oa === ob;
  }
  return false;
}

/** Does starting this node start a timer right away? */
function startsTimer(spec: NodeSpec): boolean {
  switch (spec.kind) {
    case 'filter':
      return false;
    case 'followedBy':
      // A child true as it starts (`not A`) starts the next one at once: `not A -> (b=B where timer:within(1 sec))`.
      for (const child of spec.children) {
        if (startsTimer(child)) return true;
        if (!trueAtStart(child)) return false;
      }
      return false;
    case 'and':
    case 'or':
      return spec.children.some(startsTimer);
    case 'not':
    case 'every':
    case 'everyDistinct':
      return spec.child.kind === 'filter' ? false : startsTimer(spec.child);
    case 'repeat':
      return startsTimer(spec.child) || (spec.until !== null && startsTimer(spec.until));
    case 'guard':
      return spec.guard.kind !== 'while' || startsTimer(spec.child);
    case 'interval':
    case 'at':
    case 'schedule':
      return true;
  }
}

/** Can this sub-expression be true as it starts, before any event (`not A`, `(a=A) or (not B)`)? */
function trueAtStart(spec: NodeSpec): boolean {
  switch (spec.kind) {
    case 'filter':
    case 'every':
    case 'everyDistinct':
      return false;
    case 'followedBy':
    case 'and':
      return spec.children.every(trueAtStart);
    case 'or':
      return spec.children.some(trueAtStart);
    case 'not':
      return true;
    case 'repeat':
      return trueAtStart(spec.child) || (spec.until !== null && trueAtStart(spec.until));
    case 'guard':
      return trueAtStart(spec.child);
    case 'interval':
    case 'at':
      return true;
    case 'schedule':
      // Always due after its start, never at it.
      return false;
  }
}

/** Does this sub-expression turn true and end as it starts (`timer:interval(0)`), so restarting it never stops? */
function endsTrueAtStart(spec: NodeSpec): boolean {
  switch (spec.kind) {
    case 'interval':
      // A computed interval is known only as it starts: RepeatState's backstop catches one that is 0 then.
      return !spec.computed && !(spec.ms > 0) && !spec.calendar;
    case 'or':
      return spec.children.some(endsTrueAtStart);
    case 'and':
      // An and ends once only nots are left (AndState): `(not C) and (not A)` ends true as it starts.
      return spec.children.every((c) => c.kind === 'not' || endsTrueAtStart(c));
    case 'followedBy':
      return spec.children.every(endsTrueAtStart);
    case 'guard':
      // A while guard is taken to pass: refusing a rule that might loop beats looping.
      return endsTrueAtStart(spec.child);
    case 'repeat': {
      const tight = spec.low !== null && spec.low === spec.high;
      // An until side merely true as it starts (`not C`) already ends the repeat (RepeatState.untilStarting).
      return (tight && endsTrueAtStart(spec.child)) || (spec.until !== null && trueAtStart(spec.until));
    }
    default:
      return false;
  }
}

/** Does this sub-expression end by itself after some time, whatever the events? */
function endsInTime(n: PatternNode): boolean {
  switch (n.kind) {
    case 'filter':
    case 'not':
    case 'every':
    case 'everyDistinct':
      return false;
    case 'followedBy':
      return n.children.every(endsInTime);
    case 'and': {
      const positive = n.children.filter((c) => c.kind !== 'not');
      return positive.length > 0 && positive.every(endsInTime);
    }
    case 'or':
      return n.children.some(endsInTime);
    case 'repeat':
      return (n.until !== undefined && endsInTime(n.until)) || (n.exact && endsInTime(n.child));
    case 'guard':
      return n.guard.kind !== 'while' || endsInTime(n.child);
    case 'interval':
    case 'at':
    case 'schedule':
      return true;
  }
}

/**
 * The first followed-by step that can hold partial matches forever: a step after the first that neither
 * ends in time itself nor sits under a `timer:within` guard.
 */
function findUnboundedStep(n: PatternNode, bounded: boolean): PatternNode | undefined {
  if (bounded) return undefined;
  switch (n.kind) {
    case 'guard':
      return n.guard.kind === 'while' ? findUnboundedStep(n.child, false) : undefined;
    case 'followedBy': {
      for (let i = 1; i < n.children.length; i++) {
        if (!endsInTime(n.children[i])) return n.children[i];
      }
      for (const c of n.children) {
        const found = findUnboundedStep(c, false);
        if (found) return found;
      }
      return undefined;
    }
    case 'and':
    case 'or':
      for (const c of n.children) {
        const found = findUnboundedStep(c, false);
        if (found) return found;
      }
      return undefined;
    case 'not':
    case 'every':
    case 'everyDistinct':
      return findUnboundedStep(n.child, false);
    case 'repeat':
      return findUnboundedStep(n.child, false) ?? (n.until ? findUnboundedStep(n.until, false) : undefined);
    default:
      return undefined;
  }
}

/**
 * The period of a parsed duration (its calendar part only when it has one, so fixed specs stay as they were),
 * in whole milliseconds as Esper's TimeAbacus rounds them: `timer:interval(0.0004)` is 0, `1.0005` is 1001 ms.
 */
function periodOf(d: Duration): Period {
  const ms = Math.round(d.ms);
  return d.calendar ? { ms, calendar: d.calendar } : { ms };
}

/** Parses and compiles a pattern's text; diagnostics are relative to that text. */
export function compilePattern(text: string): PatternCompileResult {
  return new PatternCompiler().compile(parsePattern(text));
}

export interface CompiledEmit {
  field: string;
  evaluate: Evaluator;
}

export interface RuleCompileResult {
  pattern: CompiledPattern;
  startsOnAnyEvent: boolean;
  emit: CompiledEmit[];
  warnings: Diagnostic[];
}

function place(d: Diagnostic, origin: TextOrigin | undefined, file: string | undefined, text: string): Diagnostic {
  return origin ? relocate(d, origin, origin.file ?? file, text) : { ...d, file: d.file ?? file };
}

/** Compiles a rule's pattern and emit fields; every diagnostic is placed in the rule file's coordinates. */
export function compileRuleParts(def: RuleDefinition): RuleCompileResult {
  const file = def.origin?.file;
  const patternOrigin = def.origin?.pattern;
  let result: PatternCompileResult;
  try {
    result = compilePattern(def.pattern);
  } catch (e) {
    if (e instanceof RuleError) throw new RuleError(e.diagnostics.map((d) => place(d, patternOrigin, file, def.pattern)));
    throw e;
  }
  const errors: Diagnostic[] = [];
  const emit: CompiledEmit[] = [];
  for (const [field, text] of Object.entries(def.emit)) {
    const origin = def.origin?.emit?.[field];
    try {
      const compiled = compileExpression(parseExpression(text), result.emitScope);
      emit.push({ field, evaluate: compiled.evaluate });
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      errors.push(...e.diagnostics.map((d) => place({ ...d, message: `emit '${field}': ${d.message}` }, origin, file, text)));
    }
  }
  if (errors.length > 0) throw new RuleError(errors);
  return {
    pattern: result.pattern,
    startsOnAnyEvent: result.startsOnAnyEvent,
    emit,
    warnings: result.warnings.map((d) => place(d, patternOrigin, file, def.pattern)),
  };
}
