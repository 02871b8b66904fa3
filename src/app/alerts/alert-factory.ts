/**
 * Turns engine matches into alerts: the replay record plus a deterministic id and the rule's metadata.
 *
 * The id is sha256(rule id, rule version, key, source positions of the matched events), hex, 32 characters.
 * An event's position comes from its source when the source knows one (Kafka: `topic/partition/offset`,
 * recorded at ingest with remember()); otherwise it is the sha256 of the event's canonical JSON, computed
 * only for events that end up in a match. So replaying the same events through the same rule version gives
 * the same ids.
 */
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { MatchRecord } from '../../core/engine/api';
import type { Alert } from '../../core/ports/alert';
import { canonicalJson } from '../common/canonical-json';
import { EngineHost } from '../engine/engine-host';

@Injectable()
export class AlertFactory {
  /** Positions given by sources, and content hashes computed so far, per event object. */
  private readonly positions = new WeakMap<object, string>();

  constructor(private readonly host: EngineHost) {}

  /** Records the source position of an event before it is processed. */
  remember(event: object, position: string): void {
    this.positions.set(event, position);
  }

  positionOf(event: unknown): string {
    if (typeof event !== 'object' || event === null) return contentHash(event);
    let p = this.positions.get(event);
    if (p === undefined) {
      p = contentHash(event);
      this.positions.set(event, p);
    }
    return p;
  }

  toAlert(match: MatchRecord): Alert {
    const rule = this.host.rule(match.rule);
    const version = rule?.version ?? 0;
    const def = rule?.compiled.definition;
    const positions: unknown[] = [];
    for (const tag of Object.keys(match.events)) {
      const bound = match.events[tag];
      positions.push(bound === null ? null : Array.isArray(bound) ? bound.map((e) => this.positionOf(e)) : this.positionOf(bound));
    }
    const id = createHash('sha256')
      .update(JSON.stringify([match.rule, version, match.key, positions]))
      .digest('hex')
      .slice(0, 32);
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
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
