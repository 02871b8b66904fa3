/**
 * The engine's public contract, used by the CLI, the service and the adapters.
 */
import type { EventRecord } from '../expr/types';
import type { Diagnostic } from '../language/diagnostics';
import type { RuleDefinition } from '../rules/rule';

/**
 * Set (non-enumerable, so records print and compare as before) on a match that its bound events do not pin
 * down: the event that completed it when that event is not one of its bound events (`a=A -> every B`), or null
 * when a timer did. Such matches can repeat with the same bound events, so an alert's id also takes the
 * completing event's position, or the time (see AlertFactory).
 */
export const COMPLETED_BY: unique symbol = Symbol('cepheus.completedBy');

/** One completed pattern match, as `bin/cepheus replay` prints it and `/alerts` returns it. */
export interface MatchRecord {
  rule: string;
  /** The partition key (as a string) of a partitioned rule; null otherwise. */
  key: string | null;
  /** Epoch ms at which the match completed. */
  time: number;
  /** Each tag of the pattern → its event, an array of events for a repeated tag, or null when unbound. */
  events: Record<string, EventRecord | EventRecord[] | null>;
  /** The rule's `emit` fields evaluated over the tags. */
  fields: Record<string, unknown>;
  /** The completing event that is not a bound one, or null for a timer (see COMPLETED_BY; non-enumerable). */
  readonly [COMPLETED_BY]?: EventRecord | null;
}

/**
 * Why partial matches were dropped (label of cep_partial_matches_dropped_total): the per-key cap (the oldest go), or a key whose state grew past what a
 * checkpoint may store (the key's whole state goes; see Engine.resetKey), or a key whose timers fired more than
 * the catch-up limit in one move of the clock (see EngineOptions.timerCatchUpLimit).
 */
export type DropReason = 'max_partial_matches_per_key' | 'checkpoint_size_limit' | 'timer_catch_up_limit';

export interface EngineStats {
  /** Active partial matches per rule id. */
  partialMatches: Map<string, number>;
  /** Dropped partial matches per rule id and reason since the engine started. */
  dropped: Map<string, Map<DropReason, number>>;
}

/** A rule compiled once: its automaton, predicates as closures, and the warnings found. */
export interface CompiledRuleInfo {
  readonly id: string;
  readonly definition: RuleDefinition;
  readonly warnings: Diagnostic[];
  /** Tag names in slot order. */
  readonly tags: readonly string[];
}
