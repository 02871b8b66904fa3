import type { MatchRecord } from '../engine/api';
import type { Severity } from '../rules/rule';

/**
 * A match as the service publishes it: the replay record (`rule`, `key`, `time`, `events`, `fields`, exactly
 * as `bin/cepheus replay` prints them) plus its identity and the rule's metadata at the time of the match.
 */
export interface Alert extends MatchRecord {
  /**
   * Deterministic: sha256 over (rule id, rule version, key, the source positions of the matched events),
   * hex, 32 characters. Processing the same events again yields the same id, so consumers can de-duplicate.
   */
  id: string;
  /** The version of the rule that matched (see RuleRegistry: REST versions, or file reloads). */
  ruleVersion: number;
  severity: Severity;
  labels: Record<string, string>;
  /**
   * Set when the alert was too large to store or send whole: `events` (and, if that was not enough,
   * `fields`) are then null. The id is unchanged, so it still identifies the match.
   */
  truncated?: true;
}

/** The alert without its events, or without its events and fields (`level`), for alerts over a size bound. */
export function truncateAlert(alert: Alert, level: 'events' | 'events+fields' = 'events'): Alert {
  return {
    ...alert,
    events: null as unknown as Alert['events'],
    ...(level === 'events+fields' ? { fields: null as unknown as Alert['fields'] } : {}),
    truncated: true,
  };
}

const SERIALIZED = Symbol('alert JSON');

/**
 * The alert's JSON, computed once: the checkpoint's outbox and the Kafka record carry the same text. Cached
 * on the object as a non-enumerable property, so a copy (`{ ...alert }`, truncateAlert) never inherits it;
 * alerts are not mutated after they are made.
 */
export function alertJson(alert: Alert): string {
  const cached = (alert as unknown as Record<symbol, string | undefined>)[SERIALIZED];
  if (cached !== undefined) return cached;
  const json = JSON.stringify(alert);
  Object.defineProperty(alert, SERIALIZED, { value: json, enumerable: false });
  return json;
}
