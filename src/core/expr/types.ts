/**
 * Contracts between the expression compiler and the pattern engine.
 *
 * Expressions compile once into closures over (current event, bindings). Bindings are the tags bound so
 * far in one partial match, stored by slot number so that evaluation never looks up a tag by name.
 */
import type { NumberType } from '../language/ast';

/** A parsed event: a JSON object. */
export type EventRecord = Record<string, unknown>;

/** Slot i holds the event bound to tag i, an array of events for a repeated tag, or undefined while unbound. */
export type Bindings = ReadonlyArray<unknown>;

export interface TagInfo {
  slot: number;
  /** A tag under a repeat operator (`[3] a=A`) binds an array; `a[0].price` indexes it. */
  multi: boolean;
  /** The event type its filter names (`a=A`: 'A'), for typeof(a). */
  eventType?: string;
}

/** What an expression may refer to, decided by the pattern compiler at the expression's position. */
export interface ExprScope {
  /** A tag bound before this point, or undefined. */
  resolve(name: string): TagInfo | undefined;
  /**
   * When `name` is a tag of this pattern that cannot be used here (bound later, inside `not`, on the other
   * side of an `and`), the reason to report; undefined otherwise.
   */
  unavailable(name: string): string | undefined;
  /**
   * True where there is no current event (emit/select fields, `every-distinct` keys): the first segment of
   * every path must then be a tag.
   */
  tagsOnly: boolean;
}

export type Evaluator = (event: EventRecord | undefined, bindings: Bindings) => unknown;

export type StaticType = 'number' | 'string' | 'boolean' | 'null' | 'unknown';

export interface CompiledExpr {
  evaluate: Evaluator;
  /** The type known at compile time ('unknown' when it depends on the event). */
  type: StaticType;
  /** Tags the expression refers to. */
  tags: Set<string>;
  /** Set when the value is known at compile time (a literal, or an expression of literals). */
  constant?: { value: unknown };
  /** For a number: Esper's type of it when known at compile time (`5` an int, `5L` a long). */
  num?: NumberType;
}

export type Predicate = (event: EventRecord | undefined, bindings: Bindings) => boolean;
