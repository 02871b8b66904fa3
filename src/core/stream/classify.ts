/**
 * Deciding, before an event is buffered or re-produced, whether the rules reading its topic can use it, and
 * what its event time is. The checks are the engine's own (see Engine.process and InvalidEventError), made
 * up front so that a bad record is dead-lettered when it is read, not later when the watermark releases it.
 */
import { eventTime } from '../engine/time';
import type { EventRecord } from '../expr/types';
import type { RuleDefinition } from '../rules/rule';
import type { TimeMode } from './settings';

/** Why a record read from a source topic is rejected (label of cep_events_rejected_total, DLQ `reason`). */
export type StreamRejectReason = 'oversize' | 'invalid_json' | 'not_an_object' | 'missing_type' | 'missing_time' | 'missing_key';

/** Every reason a record reaches the dead-letter topic. */
export type DeadLetterReason = StreamRejectReason | 'late' | 'processing_error';

export type Classification = { ok: true; event: EventRecord; time: number } | { ok: false; reason: StreamRejectReason };

/** The parts of a rule that decide whether it can use an event. */
export type EventShape = Pick<RuleDefinition, 'event' | 'partitionBy'>;

interface Group {
  typeField: string;
  timeField: string;
  /** Some rule of the group has no partitionBy: any event it can read is keyed well enough. */
  unpartitioned: boolean;
  partitionFields: string[];
}

/** The engine's partition key of an event (engine.ts): strings, numbers and booleans. */
export function partitionKeyOf(event: EventRecord, field: string): string | undefined {
  const v = Object.prototype.hasOwnProperty.call(event, field) ? event[field] : undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Parses a record's value; `bytes` is its size, checked against `maxBytes` first. */
export function parseRecordValue(
  text: string | null,
  bytes: number,
  maxBytes: number,
): { ok: true; value: unknown } | { ok: false; reason: 'oversize' | 'invalid_json' } {
  if (bytes > maxBytes) return { ok: false, reason: 'oversize' };
  if (text === null) return { ok: false, reason: 'invalid_json' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}

export class EventClassifier {
  private readonly groups: Group[] = [];
  readonly timeFields: readonly string[];

  constructor(
    rules: readonly EventShape[],
    private readonly mode: TimeMode = 'event',
  ) {
    const byKey = new Map<string, Group>();
    for (const r of rules) {
      const k = `${r.event.typeField}\u0000${r.event.timeField}`;
      let g = byKey.get(k);
      if (!g) {
        g = { typeField: r.event.typeField, timeField: r.event.timeField, unpartitioned: false, partitionFields: [] };
        byKey.set(k, g);
        this.groups.push(g);
      }
      if (r.partitionBy === undefined) g.unpartitioned = true;
      else if (!g.partitionFields.includes(r.partitionBy)) g.partitionFields.push(r.partitionBy);
    }
    this.timeFields = [...new Set(this.groups.map((g) => g.timeField))];
  }

  get empty(): boolean {
    return this.groups.length === 0;
  }

  /**
   * Whether some rule can use the event: a non-empty string type, a usable time (event-time mode), and a
   * partition key when every such rule is partitioned. The time is that of the first usable rule (rules
   * reading one topic normally share one event mapping); NaN in processing-time mode.
   */
  classify(value: unknown): Classification {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'not_an_object' };
    const event = value as EventRecord;
    let reason: StreamRejectReason | undefined;
    let time: number | undefined;
    let keyed = false;
    for (const g of this.groups) {
      const type = event[g.typeField];
      if (typeof type !== 'string' || type.length === 0) {
        reason ??= 'missing_type';
        continue;
      }
      let t = Number.NaN;
      if (this.mode === 'event') {
        const et = eventTime(event[g.timeField]);
        if (et === undefined) {
          reason = 'missing_time';
          continue;
        }
        t = et;
      }
      if (!keyed) {
        if (g.unpartitioned) keyed = true;
        else for (const f of g.partitionFields) if (partitionKeyOf(event, f) !== undefined) keyed = true;
      }
      if (time === undefined) time = t;
    }
    if (time === undefined) return { ok: false, reason: reason ?? 'missing_type' };
    if (!keyed) return { ok: false, reason: 'missing_key' };
    return { ok: true, event, time };
  }
}
