/**
 * The service's configuration, read from environment variables and validated once at startup. Every bad
 * value yields one line naming the variable, the value found and what is expected; the process then exits 1.
 *
 * VARIABLES below is the single list of what is read: docs/service.md documents each entry (a test checks).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { KAFKA_VARIABLES, loadKafkaOptions, type KafkaOptions } from '../adapters/kafka/kafka-options';
import { parseRedisUrl } from '../adapters/redis/redis-connection';
import {
  DEFAULT_MAX_PARTIAL_MATCHES_PER_KEY,
  DEFAULT_TIMER_CATCH_UP_LIMIT,
  DEFAULT_TIMER_MOVE_LIMIT,
  type EvictionSettings,
} from '../core/engine';
import { DEFAULT_CHECKPOINT_LIMITS, type CheckpointLimits } from '../core/ports/checkpoint-store';
import { parseDuration } from '../core/stream/settings';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServiceConfig {
  port: number;
  host: string;
  /** A directory (or one file) of rule files; null when file rules are switched off (RULES_DIR=""). */
  rulesDir: string | null;
  apiToken: string | null;
  logLevel: LogLevel;
  maxPartialMatchesPerKey: number;
  /** Timers one key may fire between two of its events (EngineOptions.timerCatchUpLimit). */
  timerCatchUpLimit: number;
  /** Timers all keys may fire in one move of the clock (EngineOptions.timerMoveLimit). */
  timerMoveLimit: number;
  alertsBufferSize: number;
  rulesReloadDebounceMs: number;
  limits: {
    /** Bytes of one POST /events body. */
    eventsBodyBytes: number;
    /** Events (array elements or NDJSON lines) of one POST /events body. */
    eventsPerRequest: number;
    /** Bytes of one rule write body (POST/PUT /rules, /rules/validate). */
    rulesBodyBytes: number;
  };
  shutdownTimeoutMs: number;
  /**
   * EVENT_MAX_FUTURE: an event whose time is further ahead of the wall clock is rejected (`future_time`); null:
   * no bound. One far-future event would otherwise move the clock (and a partition's watermark) so far that
   * every later event is late.
   */
  maxEventFutureMs: number | null;
  /** Kafka mode (KAFKA_BROKERS set): consumer group, topics, per-source settings. Null in embedded mode. */
  kafka: KafkaOptions | null;
  /**
   * Redis state (REDIS_URL): with Kafka mode, the owned partitions' state is checkpointed there once per batch
   * and alerts leave through its outbox (docs/redis.md). Null when unset. `eviction`: when cold keys leave
   * memory (STATE_EVICT_IDLE, STATE_EVICT_MAX_KEYS; both null: never). `orphanAfterMs`: when the checkpoint
   * of a partition nobody reads any more is removed (STATE_ORPHAN_AFTER; null: never).
   */
  redis: { url: string; eviction: EvictionSettings; limits: CheckpointLimits; orphanAfterMs: number | null } | null;
}

export const DEFAULT_EVICT_IDLE_MS = 10 * 60_000;
export const DEFAULT_EVICT_MAX_KEYS = 100_000;
export const DEFAULT_ORPHAN_AFTER_MS = 60 * 60_000;
export const DEFAULT_EVENT_MAX_FUTURE_MS = 24 * 60 * 60_000;

export interface VariableSpec {
  name: string;
  default: string;
  description: string;
}

/** Every environment variable the service reads. */
export const VARIABLES: readonly VariableSpec[] = [
  { name: 'PORT', default: '8080', description: 'TCP port of the HTTP API (0 = any free port).' },
  { name: 'HOST', default: '0.0.0.0', description: 'Address to listen on.' },
  {
    name: 'RULES_DIR',
    default: './rules',
    description:
      'Directory (or single file) of rule files (*.yaml, *.yml, *.cep), watched for changes. Empty = no file rules. ' +
      'A missing default directory is tolerated (warning); a missing directory given explicitly is an error.',
  },
  { name: 'API_TOKEN', default: '(unset)', description: 'When set, every write needs `Authorization: Bearer <token>`.' },
  { name: 'LOG_LEVEL', default: 'info', description: `One of ${LOG_LEVELS.join(', ')}.` },
  {
    name: 'MAX_PARTIAL_MATCHES_PER_KEY',
    default: String(DEFAULT_MAX_PARTIAL_MATCHES_PER_KEY),
    description: 'Open partial matches per rule and key; the oldest are dropped beyond it (cep_partial_matches_dropped_total).',
  },
  {
    name: 'TIMER_CATCH_UP_LIMIT',
    default: String(DEFAULT_TIMER_CATCH_UP_LIMIT),
    description:
      'Timers one rule key may fire between two of its events; past it (a jump, such as an event from 1970 then one from today) the key starts afresh (cep_partial_matches_dropped_total{reason="timer_catch_up_limit"}).',
  },
  {
    name: 'TIMER_MOVE_LIMIT',
    default: String(DEFAULT_TIMER_MOVE_LIMIT),
    description: 'Timers all keys together may fire in one move of the clock (memory safety net); past it, each key whose timer comes due is reset as for TIMER_CATCH_UP_LIMIT.',
  },
  { name: 'ALERTS_BUFFER_SIZE', default: '1000', description: 'Alerts kept in memory for GET /alerts (ring buffer).' },
  { name: 'RULES_RELOAD_DEBOUNCE_MS', default: '300', description: 'Quiet time after the last change in RULES_DIR before reloading.' },
  { name: 'EVENTS_MAX_BODY_BYTES', default: '1MiB', description: 'Largest POST /events body (413 past it). Bytes; KiB/MiB suffixes allowed.' },
  { name: 'EVENTS_MAX_PER_REQUEST', default: '10000', description: 'Most events in one POST /events (413 past it).' },
  { name: 'RULES_MAX_BODY_BYTES', default: '64KiB', description: 'Largest rule body for POST/PUT /rules and /rules/validate (413 past it).' },
  { name: 'SHUTDOWN_TIMEOUT_MS', default: '10000', description: 'On SIGTERM, how long in-flight work may take before the process exits 1.' },
  {
    name: 'EVENT_MAX_FUTURE',
    default: '24h',
    description:
      'An event whose time is further ahead of the wall clock is rejected as future_time (dead-lettered in Kafka mode): one such event would make every later event late. A duration (1h, 2d; at most 30 days), or off.',
  },
  {
    name: 'KAFKA_BROKERS',
    default: '(unset)',
    description: 'Comma-separated host:port list. Set = Kafka mode (docs/kafka.md); unset = embedded mode (events over HTTP).',
  },
  { name: 'KAFKA_CLIENT_ID', default: 'cepheus', description: 'Kafka client id (with KAFKA_BROKERS).' },
  { name: 'KAFKA_GROUP_ID', default: 'cepheus', description: 'Consumer group shared by all replicas (with KAFKA_BROKERS).' },
  { name: 'ALERTS_TOPIC', default: 'cep.alerts', description: 'Topic alerts are produced to (with KAFKA_BROKERS).' },
  { name: 'DLQ_TOPIC', default: 'cep.dlq', description: 'Dead-letter topic for rejected events (with KAFKA_BROKERS).' },
  ...KAFKA_VARIABLES,
  {
    name: 'REDIS_URL',
    default: '(unset)',
    description:
      'Redis for pattern state checkpoints and the alert outbox (Kafka mode): redis://, rediss:// (single node), redis+sentinel://host:port,.../master, redis+cluster://host:port,... (docs/redis.md). Unset = state in memory only.',
  },
  {
    name: 'STATE_EVICT_IDLE',
    default: '10m',
    description:
      'With REDIS_URL: a key (rule, partition key) no event reached for this long (wall clock) leaves memory after the next checkpoint, and is reloaded from Redis when an event needs it. A duration (ms, or 30s, 10 min); 0 = after every checkpoint; off = never for idleness.',
  },
  {
    name: 'STATE_EVICT_MAX_KEYS',
    default: '100000',
    description:
      'With REDIS_URL: most keys the replica keeps in memory, shared equally by its owned partitions; beyond its share, a partition sends its least recently active keys to Redis after a checkpoint (down to 10% under the share). Keys with a pending timer stay. An integer, or off.',
  },
  {
    name: 'STATE_ORPHAN_AFTER',
    default: '1h',
    description:
      'With REDIS_URL: the checkpoint of a partition whose topic no rule reads any more (no member of the group has it) is removed this long after its last commit, after its pending alerts are published. A duration (30m, 1h, 24h; at most 30 days), or off.',
  },
  {
    name: 'CHECKPOINT_MAX_SNAPSHOT_BYTES',
    default: '1MiB',
    description:
      "With REDIS_URL: largest stored state of one key (rule, partition key). A key over it keeps its newest partial matches that fit and the others are dropped and counted (docs/redis.md#limits). 1KiB to 256MiB.",
  },
  {
    name: 'CHECKPOINT_MAX_ALERT_BYTES',
    default: '1MiB',
    description: "With REDIS_URL: largest alert in the outbox; a larger one is stored and sent without its events (truncated: true). Keep it at or under the alerts topic's max.message.bytes. 1KiB to 64MiB.",
  },
  {
    name: 'CHECKPOINT_MAX_STREAM_BYTES',
    default: '8MiB',
    description: "With REDIS_URL: largest stored stream state of a partition (mostly its reorder buffer); over it, the oldest buffered events are processed early. 64KiB to 256MiB.",
  },
  {
    name: 'CHECKPOINT_MAX_OUTBOX',
    default: '100000',
    description: 'With REDIS_URL: most alerts waiting in one partition\'s outbox (Kafka slow or down); at the bound the partition pauses until the relay catches up.',
  },
];

export interface ConfigResult {
  config?: ServiceConfig;
  /** One line per bad value. */
  errors: string[];
  /** Things that work but deserve attention (logged at startup). */
  warnings: string[];
}

const KAFKA_TOPIC_RE = /^[A-Za-z0-9._-]{1,249}$/;

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration. Pure apart from checking that RULES_DIR exists. */
export function loadConfig(env: Env, cwd: string = process.cwd()): ConfigResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const bad = (name: string, value: string, expected: string, secret = false) =>
    errors.push(`${name}=${secret ? '<hidden>' : JSON.stringify(value)}: expected ${expected}`);
  const raw = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined ? undefined : v.trim();
  };

  const int = (name: string, fallback: number, min: number, max: number, orElse = ''): number => {
    const v = raw(name);
    if (v === undefined || v === '') return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      bad(name, v, `an integer from ${min} to ${max}${orElse}`);
      return fallback;
    }
    return Number(v);
  };

  const bytes = (name: string, fallback: number, min: number, max: number): number => {
    const v = raw(name);
    if (v === undefined || v === '') return fallback;
    const m = /^(\d+)\s*(B|KiB|MiB|kB|KB|MB)?$/i.exec(v);
    const unit = m?.[2]?.toLowerCase();
    const n = m ? Number(m[1]) * (unit === 'kib' || unit === 'kb' ? 1024 : unit === 'mib' || unit === 'mb' ? 1024 * 1024 : 1) : NaN;
    if (!m || !(n >= min && n <= max)) {
      bad(name, v, `a size from ${min} bytes to ${max / 1024 / 1024} MiB (e.g. 65536, 64KiB, 1MiB)`);
      return fallback;
    }
    return n;
  };

  /** A duration (ms or text, see parseDuration), or `off` (null). */
  const durationOrOff = (name: string, fallback: number): number | null => {
    const v = raw(name);
    if (v === undefined || v === '') return fallback;
    if (v.toLowerCase() === 'off') return null;
    const ms = parseDuration(v);
    if (ms === undefined) {
      bad(name, v, 'a duration (milliseconds, or e.g. 30s, 10 min, 1h, 2d; at most 30 days) or off');
      return fallback;
    }
    return ms;
  };

  const intOrOff = (name: string, fallback: number, min: number, max: number): number | null =>
    raw(name)?.toLowerCase() === 'off' ? null : int(name, fallback, min, max, ', or off');

  const port = int('PORT', 8080, 0, 65535);

  const host = raw('HOST') || '0.0.0.0';
  if (!/^[A-Za-z0-9.:[\]%-]+$/.test(host)) bad('HOST', host, 'an IP address or host name to listen on');

  // RULES_DIR: default ./rules (tolerated when missing), "" = no file rules.
  let rulesDir: string | null = null;
  const rulesRaw = env.RULES_DIR;
  if (rulesRaw === undefined || rulesRaw.trim() !== '') {
    const given = rulesRaw === undefined ? './rules' : rulesRaw.trim();
    const path = resolve(cwd, given);
    let kind: 'dir' | 'file' | 'missing' | 'other' = 'missing';
    try {
      const st = statSync(path);
      kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    } catch {
      kind = 'missing';
    }
    if (kind === 'dir' || kind === 'file') rulesDir = path;
    else if (rulesRaw === undefined) warnings.push(`RULES_DIR is not set and ${path} does not exist: no rules are loaded from files`);
    else bad('RULES_DIR', rulesRaw, kind === 'missing' ? `an existing directory or rule file (${path} does not exist)` : 'a directory or a rule file');
  }

  let apiToken: string | null = null;
  const token = env.API_TOKEN;
  if (token !== undefined && token !== '') {
    // A header value: visible ASCII without spaces (RFC 6750 token68 is a subset of this).
    if (!/^[\x21-\x7e]+$/.test(token)) bad('API_TOKEN', token, 'printable ASCII characters without spaces', true);
    else apiToken = token;
    if (apiToken && apiToken.length < 16) warnings.push('API_TOKEN is shorter than 16 characters: use a long random token');
  }

  const levelRaw = (raw('LOG_LEVEL') || 'info').toLowerCase();
  let logLevel: LogLevel = 'info';
  if ((LOG_LEVELS as readonly string[]).includes(levelRaw)) logLevel = levelRaw as LogLevel;
  else bad('LOG_LEVEL', env.LOG_LEVEL ?? '', `one of ${LOG_LEVELS.join(', ')}`);

  const maxPartialMatchesPerKey = int('MAX_PARTIAL_MATCHES_PER_KEY', DEFAULT_MAX_PARTIAL_MATCHES_PER_KEY, 1, 100_000_000);
  const timerCatchUpLimit = int('TIMER_CATCH_UP_LIMIT', DEFAULT_TIMER_CATCH_UP_LIMIT, 1, 1_000_000_000);
  const timerMoveLimit = int('TIMER_MOVE_LIMIT', DEFAULT_TIMER_MOVE_LIMIT, 1, 1_000_000_000);
  const alertsBufferSize = int('ALERTS_BUFFER_SIZE', 1000, 1, 1_000_000);
  const rulesReloadDebounceMs = int('RULES_RELOAD_DEBOUNCE_MS', 300, 0, 600_000);
  const eventsBodyBytes = bytes('EVENTS_MAX_BODY_BYTES', 1024 * 1024, 1024, 256 * 1024 * 1024);
  const eventsPerRequest = int('EVENTS_MAX_PER_REQUEST', 10_000, 1, 10_000_000);
  const rulesBodyBytes = bytes('RULES_MAX_BODY_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024);
  const shutdownTimeoutMs = int('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 3_600_000);

  let kafka: ServiceConfig['kafka'] = null;
  const brokersRaw = raw('KAFKA_BROKERS');
  const topic = (name: string, fallback: string): string => {
    const v = raw(name) || fallback;
    if (!KAFKA_TOPIC_RE.test(v) || v === '.' || v === '..') bad(name, v, 'a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)');
    return v;
  };
  const kafkaId = (name: string): string => {
    const v = raw(name) || 'cepheus';
    if (!/^[A-Za-z0-9._-]{1,255}$/.test(v)) bad(name, v, '1-255 of A-Z a-z 0-9 . _ -');
    return v;
  };
  const clientId = kafkaId('KAFKA_CLIENT_ID');
  const groupId = kafkaId('KAFKA_GROUP_ID');
  const alertsTopic = topic('ALERTS_TOPIC', 'cep.alerts');
  const dlqTopic = topic('DLQ_TOPIC', 'cep.dlq');
  if (brokersRaw) {
    const brokers = brokersRaw.split(',').map((b) => b.trim());
    const invalid = brokers.filter((b) => !/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(b) || Number(b.slice(b.lastIndexOf(':') + 1)) > 65535);
    if (invalid.length > 0 || brokers.length === 0) {
      bad('KAFKA_BROKERS', brokersRaw, `a comma-separated list of host:port (bad: ${invalid.map((b) => JSON.stringify(b)).join(', ')})`);
    } else {
      const k = loadKafkaOptions(env, { brokers, clientId, groupId, alertsTopic, dlqTopic });
      errors.push(...k.errors);
      kafka = k.options ?? null;
    }
  }

  const evictIdleMs = durationOrOff('STATE_EVICT_IDLE', DEFAULT_EVICT_IDLE_MS);
  const evictMaxKeys = intOrOff('STATE_EVICT_MAX_KEYS', DEFAULT_EVICT_MAX_KEYS, 1, 1_000_000_000);
  const orphanAfterMs = durationOrOff('STATE_ORPHAN_AFTER', DEFAULT_ORPHAN_AFTER_MS);
  const maxEventFutureMs = durationOrOff('EVENT_MAX_FUTURE', DEFAULT_EVENT_MAX_FUTURE_MS);

  const limits: CheckpointLimits = {
    maxSnapshotBytes: bytes('CHECKPOINT_MAX_SNAPSHOT_BYTES', DEFAULT_CHECKPOINT_LIMITS.maxSnapshotBytes, 1024, 256 * 1024 * 1024),
    maxAlertBytes: bytes('CHECKPOINT_MAX_ALERT_BYTES', DEFAULT_CHECKPOINT_LIMITS.maxAlertBytes, 1024, 64 * 1024 * 1024),
    maxStreamBytes: bytes('CHECKPOINT_MAX_STREAM_BYTES', DEFAULT_CHECKPOINT_LIMITS.maxStreamBytes, 64 * 1024, 256 * 1024 * 1024),
    maxOutbox: int('CHECKPOINT_MAX_OUTBOX', DEFAULT_CHECKPOINT_LIMITS.maxOutbox, 1, 100_000_000),
  };

  let redis: ServiceConfig['redis'] = null;
  const redisRaw = raw('REDIS_URL');
  if (redisRaw) {
    let ok = false;
    try {
      parseRedisUrl(redisRaw);
      ok = true;
    } catch {
      ok = false;
    }
    if (!ok) bad('REDIS_URL', maskUrl(redisRaw), 'a URL like redis://host:6379/0 or rediss://user:password@host:6380');
    else {
      redis = { url: redisRaw, eviction: { idleMs: evictIdleMs, maxKeys: evictMaxKeys }, limits, orphanAfterMs };
      if (!brokersRaw) warnings.push('REDIS_URL is set, but without KAFKA_BROKERS (embedded mode) pattern state stays in memory only');
    }
  } else {
    for (const name of ['STATE_EVICT_IDLE', 'STATE_EVICT_MAX_KEYS']) {
      if (raw(name)) warnings.push(`${name} is set, but without REDIS_URL there is nowhere to evict keys to: every key that holds state stays in memory (keys in a new key's state are freed)`);
    }
    if (raw('STATE_ORPHAN_AFTER')) warnings.push('STATE_ORPHAN_AFTER is set, but without REDIS_URL nothing is stored');
    for (const name of ['CHECKPOINT_MAX_SNAPSHOT_BYTES', 'CHECKPOINT_MAX_ALERT_BYTES', 'CHECKPOINT_MAX_STREAM_BYTES', 'CHECKPOINT_MAX_OUTBOX']) {
      if (raw(name)) warnings.push(`${name} is set, but without REDIS_URL nothing is checkpointed`);
    }
  }

  if (errors.length > 0) return { errors, warnings };
  return {
    config: {
      port,
      host,
      rulesDir,
      apiToken,
      logLevel,
      maxPartialMatchesPerKey,
      timerCatchUpLimit,
      timerMoveLimit,
      alertsBufferSize,
      rulesReloadDebounceMs,
      limits: { eventsBodyBytes, eventsPerRequest, rulesBodyBytes },
      shutdownTimeoutMs,
      maxEventFutureMs,
      kafka,
      redis,
    },
    errors,
    warnings,
  };
}

export type ServiceMode = 'embedded' | 'kafka';

/** Kafka mode when KAFKA_BROKERS is set, embedded mode otherwise (the startup line and GET / say which). */
export function serviceMode(config: Pick<ServiceConfig, 'kafka'>): ServiceMode {
  return config.kafka ? 'kafka' : 'embedded';
}

/** A URL with its password replaced, for messages. */
export function maskUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@');
}

/** Test and embedding convenience: the configuration of an empty environment, with overrides. */
export function defaultConfig(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  const { config } = loadConfig({ RULES_DIR: '' });
  return { ...config!, ...overrides, limits: { ...config!.limits, ...overrides.limits } };
}
