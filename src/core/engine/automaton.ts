/**
 * The compiled form of a pattern: a tree of node specifications (the automaton's states) with every
 * predicate already compiled into a closure. Specs are immutable and shared by all keys of a rule; the
 * per-key runtime state (states.ts) points at them by `id`, which is also what snapshots store.
 */
import type { Period } from './time';
import type { Bindings, Evaluator, Predicate } from '../expr/types';
import type { CronSchedule } from './cron';
import type { SchedulePlan } from './schedule';

interface SpecBase {
  /** Index into CompiledPattern.specs; stable for a given pattern text (snapshots refer to it). */
  id: number;
}

export interface FilterSpec extends SpecBase {
  kind: 'filter';
  eventType: string;
  /** Binding slot of the tag, or -1 for an untagged filter. */
  slot: number;
  test: Predicate;
  /** A condition on the event itself (`A(x > 5)`; not `A`, `A(a.x > 0)`): see KeyInstance.dispatch for its order. */
  conditional: boolean;
}

export interface FollowedBySpec extends SpecBase {
  kind: 'followedBy';
  children: NodeSpec[];
  /** limits[i]: max concurrent instances of children[i] (from `-[n]>` before it); null = unlimited. */
  limits: Array<number | null>;
}

export interface AndSpec extends SpecBase {
  kind: 'and';
  children: NodeSpec[];
}

export interface OrSpec extends SpecBase {
  kind: 'or';
  children: NodeSpec[];
}

export interface NotSpec extends SpecBase {
  kind: 'not';
  child: NodeSpec;
}

export interface EverySpec extends SpecBase {
  kind: 'every';
  child: NodeSpec;
}

export interface EveryDistinctSpec extends SpecBase {
  kind: 'everyDistinct';
  child: NodeSpec;
  keys: Evaluator[];
  /** Keys are forgotten this long after they were first seen; null = never. */
  expiry: Period | null;
}

export interface RepeatSpec extends SpecBase {
  kind: 'repeat';
  child: NodeSpec;
  until: NodeSpec | null;
  low: number | null;
  high: number | null;
  /** Slots of the tags bound inside `child`: after the repeat they hold arrays of events. */
  arrayedSlots: number[];
}

/**
 * A period that the tags bound before it decide (`timer:within(a.ttl sec)`), in milliseconds, computed as its
 * guard or observer starts; null when the value is not a finite number. The spec's fixed `ms` is then 0.
 */
export type ComputedPeriod = (bindings: Bindings) => number | null;

/** A fixed period, or (with `computed`) one decided as it starts. */
export type TimedPeriod = Period & { computed?: ComputedPeriod };

export type GuardKind =
  | ({ kind: 'within' } & TimedPeriod)
  | ({ kind: 'withinMax'; max: number } & TimedPeriod)
  /** Passes while the condition is true; null lets the match through without ending the guard (as Esper). */
  | { kind: 'while'; condition: Evaluator };

export interface GuardSpec extends SpecBase {
  kind: 'guard';
  child: NodeSpec;
  guard: GuardKind;
}

export type IntervalSpec = SpecBase & TimedPeriod & { kind: 'interval' };

export interface AtSpec extends SpecBase {
  kind: 'at';
  schedule: CronSchedule;
}

/** `timer:schedule(...)`: its plan, computed as it starts from the tags bound before it; null when unusable. */
export interface ScheduleSpec extends SpecBase {
  kind: 'schedule';
  plan: (bindings: Bindings) => SchedulePlan | null;
}

export type NodeSpec =
  | FilterSpec
  | FollowedBySpec
  | AndSpec
  | OrSpec
  | NotSpec
  | EverySpec
  | EveryDistinctSpec
  | RepeatSpec
  | GuardSpec
  | IntervalSpec
  | AtSpec
  | ScheduleSpec;

export interface CompiledPattern {
  root: NodeSpec;
  /** All specs by id. */
  specs: NodeSpec[];
  /** Tag names by slot. */
  tags: string[];
  /** Tags a match reports (all but those bound inside `not`). */
  visibleTags: Array<{ name: string; slot: number }>;
  /** Event types any filter listens to. */
  eventTypes: Set<string>;
}
