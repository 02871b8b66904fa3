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
export type StreamRejectReason =
  | 'oversize'
  | 'invalid_json'
  | 'too_deep'
  | 'not_an_object'
  | 'missing_type'
  | 'missing_time'
  | 'future_time'
  | 'missing_key';

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

/**
 * Deepest nesting of arrays and objects an event may have. Alerts, checkpoints and alert ids serialize events
 * recursively, and a few thousand levels (a few KB of `[`) overflow the stack there, after the event was
 * accepted: its match was lost, or its partition stalled on an alert that could never be written.
 */
export const MAX_EVENT_DEPTH = 512;

/** Whether the JSON text nests arrays and objects deeper than `max` (strings skipped; one pass, no parse). */
export function nestingExceeds(text: string, max: number): boolean {
  // Deeper than `max` needs more than `max` opening and as many closing brackets: count the openings first
  // with indexOf (native, ~30× faster than the scan below), and scan only texts that have enough of them.
  if (text.length <= 2 * max) return false;
  let openings = 0;
  for (let i = text.indexOf('['); i >= 0 && openings <= max; i = text.indexOf('[', i + 1)) openings++;
  for (let i = text.indexOf('{'); i >= 0 && openings <= max; i = text.indexOf('{', i + 1)) openings++;
  if (openings <= max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: to its closing quote, stepping over escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Nesting depth of a parsed JSON value (iterative: the value may be deeper than the stack allows). */
export function valueDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > deepest) deepest = d + 1;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return deepest;
}

/** Parses a record's value; `bytes` is its size, checked against `maxBytes` first. */
export function parseRecordValue(
  text: string | null,
  bytes: number,
  maxBytes: number,
): { ok: true; value: unknown } | { ok: false; reason: 'oversize' | 'invalid_json' | 'too_deep' } {
  if (bytes > maxBytes) return { ok: false, reason: 'oversize' };
  if (text === null) return { ok: false, reason: 'invalid_json' };
  if (nestingExceeds(text, MAX_EVENT_DEPTH)) return { ok: false, reason: 'too_deep' };
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
   * reading one topic normally share one event mapping); NaN in processing-time mode. A time after `latest`
   * (the wall clock plus EVENT_MAX_FUTURE) is refused: one such event would move the watermark so far that
   * every later event of the partition is late.
   */
  classify(value: unknown, latest = Number.POSITIVE_INFINITY): Classification {
    const t = this.timeOf(value, latest);
    return typeof t === 'number' ? { ok: true, event: value as EventRecord, time: t } : { ok: false, reason: t };
  }

  /**
   * classify() without a result object (the batch loop calls it per record): the event's time (NaN in
   * processing-time mode) when some rule can use it, else why not.
   */
  timeOf(value: unknown, latest = Number.POSITIVE_INFINITY): number | StreamRejectReason {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not_an_object';
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
    if (time === undefined) return reason ?? 'missing_type';
    if (time > latest) return 'future_time';
    if (!keyed) return 'missing_key';
    return time;
  }
}
