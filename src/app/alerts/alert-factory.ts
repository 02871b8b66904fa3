/**
 * Turns engine matches into alerts: the replay record plus a deterministic id and the rule's metadata.
 *
 * The id is sha256(rule id, rule version, key, source positions of the matched events), hex, 32 characters.
 * A match its events do not pin down can repeat with the same events (`every timer:interval(1 sec)` with none,
 * `a=A -> every B` at every B), so its id also takes the position of the event that completed it when that is
 * not one of its bound events, or its time when a timer completed it. And identical identities within one
 * batch of matches (`every A -> b=B` over A, A, B: one B completes both) are numbered from the second on.
 * All of it depends only on the events and their positions, so processing them again gives the same ids.
 * An event's position comes from its source when the source knows one (Kafka: `topic/partition/offset`,
 * recorded at ingest with remember()); otherwise it is the sha256 of the event's canonical JSON, computed
 * only for events that end up in a match. So replaying the same events through the same rule version gives
 * the same ids.
 */
import { Injectable } from '@nestjs/common';
import { COMPLETED_BY, type MatchRecord } from '../../core/engine/api';
import type { Alert } from '../../core/ports/alert';
import { canonicalJson } from '../common/canonical-json';
import { sha256Hex } from '../common/sha256';
import { EngineHost } from '../engine/engine-host';

/**
 * Where an event's position is kept: a symbol-keyed property on the event object itself (the service's own
 * parse of the record), because a WeakMap entry per event costs several times more to write and makes every
 * garbage collection trace the ephemeron table; at ingest rates that was a tenth of the Kafka path's CPU.
 * Symbol keys are invisible to JSON, Object.keys and snapshots.
 */
const POSITION: unique symbol = Symbol('cepheus.position');
type Positioned = { [POSITION]?: string };

@Injectable()
export class AlertFactory {
  /** Positions of events that cannot carry one (frozen or sealed objects). */
  private readonly sealed = new WeakMap<object, string>();

  constructor(private readonly host: EngineHost) {}

  /** Records the source position of an event before it is processed. */
  remember(event: object, position: string): void {
    if (Object.isExtensible(event)) (event as Positioned)[POSITION] = position;
    else this.sealed.set(event, position);
  }

  /** The source position remembered for the event, else (and then remembered) the hash of its content. */
  positionOf(event: unknown): string {
    if (typeof event !== 'object' || event === null) return contentHash(event);
    const p = (event as Positioned)[POSITION] ?? this.sealed.get(event);
    if (p !== undefined) return p;
    const hash = contentHash(event);
    this.remember(event, hash);
    return hash;
  }

  /** The alerts of one batch of matches (one process() output or more, in order). */
  toAlerts(matches: readonly MatchRecord[]): Alert[] {
    const seen = new Map<string, number>();
    return matches.map((m) => this.toAlert(m, seen));
  }

  private toAlert(match: MatchRecord, seen: Map<string, number>): Alert {
    const rule = this.host.rule(match.rule);
    const version = rule?.version ?? 0;
    const def = rule?.compiled.definition;
    const positions: unknown[] = [];
    for (const tag of Object.keys(match.events)) {
      const bound = match.events[tag];
      positions.push(bound === null ? null : Array.isArray(bound) ? bound.map((e) => this.positionOf(e)) : this.positionOf(bound));
    }
    const identity: unknown[] = [match.rule, version, match.key, positions];
    if (COMPLETED_BY in match) {
      const completing = match[COMPLETED_BY];
      identity.push(completing ? this.positionOf(completing) : match.time);
    }
    let text = JSON.stringify(identity);
    const before = seen.get(text) ?? 0;
    seen.set(text, before + 1);
    if (before > 0) text += `#${before}`;
    const id = sha256Hex(text).slice(0, 32);
    return {
      id,
      rule: match.rule,
      key: match.key,
      time: match.time,
      events: match.events,
      fields: match.fields,
      ruleVersion: version,
      severity: def?.severity ?? 'warning',
      labels: def?.labels ?? {},
    };
  }
}

function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
