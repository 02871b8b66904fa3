/**
 * POST /events bodies → the items of one ingest batch.
 *
 * - application/json: one event (an object), or an array of events. Invalid JSON is a 400 for the whole
 *   body, since nothing in it can be told apart.
 * - application/x-ndjson (also application/jsonl, application/x-jsonlines, application/jsonlines): one
 *   event per line; blank lines are skipped; a line that is not JSON (or not UTF-8) is rejected as
 *   invalid_json and the others go on. The index of an item is its position among the non-blank lines.
 * - An event nested deeper than MAX_EVENT_DEPTH is rejected as too_deep (the others go on).
 */
import { isUtf8 } from 'node:buffer';
import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import type { SourcedEvent } from '../../core/ports/event-batch';
import { MAX_EVENT_DEPTH, nestingExceeds, valueDepth } from '../../core/stream/classify';
import { decodeUtf8Text } from '../../core/text/utf8';
import { isJsonMediaType, unsupportedMediaType } from '../common/body';

export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines'];

export type EventsBodyKind = 'json' | 'ndjson';

/** How a body of this media type is read; 415 for any other type. */
export function eventsBodyKind(type: string): EventsBodyKind {
  if (isJsonMediaType(type)) return 'json';
  if (NDJSON_TYPES.includes(type)) return 'ndjson';
  throw unsupportedMediaType(type, ['application/json', 'application/x-ndjson']);
}

export function parseEventsBody(text: string, kind: EventsBodyKind, maxEvents: number): SourcedEvent[] {
  return kind === 'json' ? parseJson(text, maxEvents) : parseNdjson(text, maxEvents);
}

/**
 * JSON lines as bytes: a line that is not UTF-8 is one unparsable event (invalid_json) and the other lines
 * still count, as Kafka dead-letters such a record alone. (A JSON body is read with readBody: UTF-8 as a whole.)
 */
export function parseNdjsonBytes(body: Buffer, maxEvents: number): SourcedEvent[] {
  const whole = decodeUtf8Text(body);
  if (whole.ok) return parseNdjson(whole.text, maxEvents);
  const lines: Array<string | null> = [];
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf(10, start);
    if (end < 0) end = body.length;
    const line = body.subarray(start, end);
    // Only the first line may start with a byte-order mark (decodeUtf8Text drops it; toString keeps it).
    const first = start === 0 ? decodeUtf8Text(line) : undefined;
    lines.push(first !== undefined ? (first.ok ? first.text : null) : isUtf8(line) ? line.toString('utf8') : null);
    start = end + 1;
  }
  return parseLines(lines, maxEvents);
}

function tooMany(n: number, max: number): PayloadTooLargeException {
  return new PayloadTooLargeException(`too many events in one request: ${n}, at most ${max}`);
}

function parseJson(text: string, maxEvents: number): SourcedEvent[] {
  if (text.trim() === '') throw new BadRequestException('the request body is empty: send a JSON event or an array of events');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BadRequestException(`the request body is not valid JSON: ${(e as Error).message}`);
  }
  // The text scan is cheap and almost always negative; only then are the events measured one by one.
  const deep = nestingExceeds(text, MAX_EVENT_DEPTH);
  const item = (event: unknown): SourcedEvent => (deep && valueDepth(event) > MAX_EVENT_DEPTH ? { tooDeep: true } : { event });
  if (!Array.isArray(value)) return [item(value)];
  if (value.length > maxEvents) throw tooMany(value.length, maxEvents);
  return value.map(item);
}

function parseNdjson(text: string, maxEvents: number): SourcedEvent[] {
  return parseLines(text.split('\n'), maxEvents);
}

/** JSON lines, each decoded or null when its bytes are not UTF-8. */
function parseLines(lines: ReadonlyArray<string | null>, maxEvents: number): SourcedEvent[] {
  const out: SourcedEvent[] = [];
  for (const raw of lines) {
    const line = raw?.trim();
    if (line === '') continue;
    if (out.length >= maxEvents) throw tooMany(lines.filter((l) => l === null || l.trim() !== '').length, maxEvents);
    if (line === undefined) {
      out.push({ unparsable: true });
      continue;
    }
    if (nestingExceeds(line, MAX_EVENT_DEPTH)) {
      out.push({ tooDeep: true });
      continue;
    }
    try {
      out.push({ event: JSON.parse(line) });
    } catch {
      out.push({ unparsable: true });
    }
  }
  return out;
}
