/**
 * Per-source stream settings: how a source topic's records are keyed and how its event time is tracked.
 *
 * They belong to the topic, not to a rule (several rules read one topic once, with one watermark per
 * partition), so they are configured per topic, with `*` as the default for every topic:
 *
 *   {"*": {"idleTimeout": "30s"}, "user-events": {"keyedBy": "user_id", "maxOutOfOrderness": "5s"}}
 *
 * Durations are milliseconds (a number) or text: `500ms`, `5s`, `5 sec`, `1.5 min`, `2m`, `1h`.
 */

export type TimeMode = 'event' | 'processing';

export interface StreamSettings {
  /** The field the topic's producers key records by (rules partitioned by it read the topic directly). */
  keyedBy?: string;
  /** Bound on disorder in event time (ms): the watermark trails the largest event time by this much. */
  maxOutOfOrderness: number;
  /** How far behind the watermark a late event may be and still be processed (ms). */
  allowedLateness: number;
  /** After this long without records (wall clock, ms), a partition's watermark follows the wall clock; null: never. */
  idleTimeout: number | null;
  /** `event`: time is read from the events; `processing`: time is the wall clock when a record is processed. */
  timeMode: TimeMode;
}

export const DEFAULT_STREAM_SETTINGS: Readonly<StreamSettings> = Object.freeze({
  maxOutOfOrderness: 0,
  allowedLateness: 0,
  idleTimeout: 30_000,
  timeMode: 'event',
});

export const STREAM_SETTING_KEYS = ['keyedBy', 'maxOutOfOrderness', 'allowedLateness', 'idleTimeout', 'timeMode'] as const;

/** Longest accepted duration: 30 days. */
const MAX_DURATION_MS = 30 * 24 * 3600 * 1000;

const UNITS: Record<string, number> = {
  ms: 1,
  msec: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** Milliseconds of a duration (a number of ms, or text like `5s`, `1.5 min`), or undefined when invalid. */
export function parseDuration(value: unknown): number | undefined {
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
    if (!m) return undefined;
    const unit = m[2].toLowerCase();
    const factor = unit === '' ? 1 : Object.hasOwn(UNITS, unit) ? UNITS[unit] : undefined;
    if (factor === undefined) return undefined;
    ms = Number(m[1]) * factor;
  } else return undefined;
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DURATION_MS) return undefined;
  return Math.round(ms);
}

export interface SourceSettingsTable {
  /** Settings of topics not listed (`*`, over the built-in defaults). */
  defaults: StreamSettings;
  topics: Map<string, StreamSettings>;
}

/** The settings of one topic. */
export function settingsFor(table: SourceSettingsTable | undefined, topic: string): StreamSettings {
  return table?.topics.get(topic) ?? table?.defaults ?? { ...DEFAULT_STREAM_SETTINGS };
}

const FIELD_BAD_RE = /[\s\u0000-\u001f]/;

/**
 * Validates a settings table given as a JSON value (the parsed `KAFKA_SOURCES`). Errors name the topic and
 * key; an invalid table yields no table.
 */
export function parseSourceSettings(value: unknown): { table?: SourceSettingsTable; errors: string[] } {
  const errors: string[] = [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { errors: ['expected a JSON object of topic name (or "*") to settings'] };
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const readOne = (topic: string, raw: unknown, base: StreamSettings): StreamSettings => {
    const out: StreamSettings = { ...base };
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      errors.push(`${topic}: expected an object with ${STREAM_SETTING_KEYS.join(', ')}`);
      return out;
    }
    for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
      switch (key) {
        case 'keyedBy':
          if (typeof v !== 'string' || v.length === 0 || v.length > 256 || FIELD_BAD_RE.test(v)) {
            errors.push(`${topic}.keyedBy: expected an event field name, found ${JSON.stringify(v)}`);
          } else out.keyedBy = v;
          break;
        case 'maxOutOfOrderness':
        case 'allowedLateness': {
          const d = parseDuration(v);
          if (d === undefined) errors.push(`${topic}.${key}: expected a duration such as 5000, "5s" or "1 min", found ${JSON.stringify(v)}`);
          else out[key] = d;
          break;
        }
        case 'idleTimeout': {
          if (v === 'off' || v === false || v === null) {
            out.idleTimeout = null;
            break;
          }
          const d = parseDuration(v);
          if (d === undefined || d === 0)
            errors.push(`${topic}.idleTimeout: expected a positive duration such as "30s", or "off", found ${JSON.stringify(v)}`);
          else out.idleTimeout = d;
          break;
        }
        case 'timeMode':
          if (v !== 'event' && v !== 'processing') errors.push(`${topic}.timeMode: expected "event" or "processing", found ${JSON.stringify(v)}`);
          else out.timeMode = v;
          break;
        default:
          errors.push(`${topic}: unknown key '${key}' (expected ${STREAM_SETTING_KEYS.join(', ')})`);
      }
    }
    return out;
  };
  const star = entries.find(([k]) => k === '*');
  const defaults = star ? readOne('*', star[1], { ...DEFAULT_STREAM_SETTINGS }) : { ...DEFAULT_STREAM_SETTINGS };
  const topics = new Map<string, StreamSettings>();
  for (const [topic, raw] of entries) {
    if (topic === '*') continue;
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
      errors.push(`${JSON.stringify(topic)}: not a Kafka topic name`);
      continue;
    }
    topics.set(topic, readOne(topic, raw, defaults));
  }
  if (errors.length > 0) return { errors };
  return { table: { defaults, topics }, errors };
}
