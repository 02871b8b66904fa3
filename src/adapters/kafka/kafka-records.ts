/**
 * The records Cepheus writes to Kafka, and what it reads back from its own repartition topics.
 *
 * - Alert: value = the alert JSON (the record of GET /alerts), key = the rule's partition key (none for an
 *   unpartitioned rule), headers `rule` and `severity`.
 * - Dead letter: value and key = the original record's bytes, the original headers, plus `cepheus.reason`,
 *   `cepheus.source.topic`, `cepheus.source.partition`, `cepheus.source.offset`, `cepheus.source.timestamp`
 *   and, when there is one, `cepheus.error`.
 * - Repartitioned event: the original value, headers and timestamp, keyed by the partition field's value,
 *   with `cepheus.origin` = `topic/partition/offset` of the source record (alert ids, DLQ, de-duplication).
 * - Watermark mark (repartition topics, one to each partition after each source batch): no key or value,
 *   `cepheus.origin` = the source partition's last record, `cepheus.watermark` = the largest event time it
 *   read. A repartition topic's partitions merge all source partitions; the marks tell each of them how far
 *   every source partition got, so the merge adds no disorder (see WatermarkTracker).
 * - Idle mark: like a watermark mark, with `cepheus.idle: 1` instead of a time: the source partition is caught
 *   up, so it does not hold the repartition topic's watermark back until it sends again.
 */
import { isUtf8 } from 'node:buffer';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { EventRecord } from '../../core/expr/types';
import { alertJson, truncateAlert, type Alert } from '../../core/ports/alert';
import { parseRecordValue, type DeadLetterReason } from '../../core/stream/classify';

export const ORIGIN_HEADER = 'cepheus.origin';
/** On a watermark mark: the largest event time its source partition had read. */
export const WATERMARK_HEADER = 'cepheus.watermark';
/** On an idle mark: the source partition is caught up (nothing more to read for now). */
export const IDLE_HEADER = 'cepheus.idle';

/** Where a record was read from: the source topic's record, also for one read back from a repartition topic. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

/** A record as read, kept to dead-letter or re-produce it byte for byte. */
export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** The original headers (without Cepheus' own). */
  headers: IHeaders;
  timestamp: string;
  source: SourcePosition;
}

export function positionString(p: SourcePosition): string {
  return `${p.topic}/${p.partition}/${p.offset}`;
}

export function parsePosition(s: string): SourcePosition | undefined {
  const m = /^([A-Za-z0-9._-]{1,249})\/(\d{1,10})\/(\d{1,19})$/.exec(s);
  return m ? { topic: m[1], partition: Number(m[2]), offset: m[3] } : undefined;
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/** A record read from `topic`/`partition`: from a repartition topic, its source is the `cepheus.origin` header. */
export function rawRecord(topic: string, partition: number, m: KafkaMessage, repartitioned = false): RawRecord {
  let source: SourcePosition = { topic, partition, offset: m.offset };
  const origin = repartitioned ? headerString(m.headers, ORIGIN_HEADER) : undefined;
  if (origin === undefined) return { key: m.key ?? null, value: m.value ?? null, headers: m.headers ?? NO_HEADERS, timestamp: m.timestamp, source };
  // Only a repartitioned record needs a copy of its headers (without Cepheus' own); every reader of
  // RawRecord.headers copies them before adding any, so the others share the record's object.
  const headers: IHeaders = { ...m.headers };
  delete headers[ORIGIN_HEADER];
  source = parsePosition(origin) ?? source;
  return { key: m.key ?? null, value: m.value ?? null, headers, timestamp: m.timestamp, source };
}
const NO_HEADERS: IHeaders = Object.freeze({}) as IHeaders;

export function alertMessage(alert: Alert): Message {
  return {
    key: alert.key,
    value: alertJson(alert),
    headers: { rule: alert.rule, severity: alert.severity },
  };
}

/** The alert without its events, when the whole alert is larger than the topic accepts. */
export function truncatedAlertMessage(alert: Alert): Message {
  return {
    key: alert.key,
    value: JSON.stringify(truncateAlert(alert)),
    headers: { rule: alert.rule, severity: alert.severity, 'cepheus.truncated': 'events' },
  };
}

export function deadLetterMessage(raw: RawRecord, reason: DeadLetterReason, error?: string): Message {
  const headers: IHeaders = {
    ...raw.headers,
    'cepheus.reason': reason,
    'cepheus.source.topic': raw.source.topic,
    'cepheus.source.partition': String(raw.source.partition),
    'cepheus.source.offset': raw.source.offset,
    'cepheus.source.timestamp': raw.timestamp,
  };
  if (error !== undefined) headers['cepheus.error'] = error.slice(0, 1000);
  return { key: raw.key, value: raw.value, headers };
}

export function repartitionMessage(raw: RawRecord, key: string | null): Message {
  return {
    key,
    value: raw.value,
    headers: { ...raw.headers, [ORIGIN_HEADER]: positionString(raw.source) },
    timestamp: raw.timestamp,
    ...(key === null ? { partition: 0 } : {}),
  };
}

export function watermarkMark(source: SourcePosition, maxEventTime: number, partition: number): Message {
  return {
    key: null,
    value: null,
    partition,
    headers: { [ORIGIN_HEADER]: positionString(source), [WATERMARK_HEADER]: String(maxEventTime) },
  };
}

export function idleMark(source: SourcePosition, partition: number): Message {
  return { key: null, value: null, partition, headers: { [ORIGIN_HEADER]: positionString(source), [IDLE_HEADER]: '1' } };
}

/** A record value as the batch loop parses it. */
export type ParsedValue = ReturnType<typeof parseRecordValue>;

/**
 * Parses a batch's record values once, as the batch loop would (index-aligned with `messages`; undefined for
 * records before `from` and for repartition marks), so that finding the keys a batch needs (cold-key reload)
 * and processing it share one parse.
 */
export function parseBatch(messages: readonly KafkaMessage[], from: number, repartitioned: boolean, maxEventBytes: number): Array<ParsedValue | undefined> {
  return messages.map((m) => {
    if (Number(m.offset) < from) return undefined;
    if (repartitioned && (headerString(m.headers, IDLE_HEADER) !== undefined || headerString(m.headers, WATERMARK_HEADER) !== undefined)) return undefined;
    return parseValue(m, repartitioned, maxEventBytes);
  });
}

/** The times of a repartition batch's watermark marks (from `from` on): how far they can move its watermark. */
export function markTimesOf(messages: readonly KafkaMessage[], from: number): number[] {
  const out: number[] = [];
  for (const m of messages) {
    if (Number(m.offset) < from) continue;
    const mark = Number(headerString(m.headers, WATERMARK_HEADER));
    if (Number.isFinite(mark)) out.push(mark);
  }
  return out;
}

/** A record's value parsed as the batch loop does it. */
export function parseValue(m: KafkaMessage, repartitioned: boolean, maxEventBytes: number): ParsedValue {
  // Too large is said first, before any scan or decoding of the bytes.
  if (!repartitioned && m.value && m.value.length > maxEventBytes) return { ok: false, reason: 'oversize' };
  // JSON is UTF-8: decoding invalid bytes would turn them into U+FFFD, and different bad keys into one. Decoding
  // turns every invalid sequence into U+FFFD, so a text without one came from valid UTF-8: the bytes are only
  // checked when it has one (a search that stops at once on a Latin-1 string, as the decoder makes for ASCII).
  const text = m.value ? m.value.toString('utf8') : null;
  if (text !== null && text.indexOf('\uFFFD') >= 0 && !isUtf8(m.value!)) return { ok: false, reason: 'invalid_json' };
  // Repartitioned records were size-checked at their source.
  return repartitioned ? parseRecordValue(text, 0, Infinity) : parseRecordValue(text, m.value?.length ?? 0, maxEventBytes);
}

/** The events (JSON objects) among parsed values. */
export function eventsOf(parsed: ReadonlyArray<ParsedValue | undefined>): EventRecord[] {
  const out: EventRecord[] = [];
  for (const p of parsed) {
    const v = p?.ok ? p.value : null;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(v as EventRecord);
  }
  return out;
}
