/**
 * Kafka mode's settings beyond the basic ones of ServiceConfig.kafka (brokers, ids, topics): per-source
 * event-time settings, TLS and SASL, record size limit and consumer tuning. Read from the environment and
 * validated at startup like the rest of the configuration: every bad value is one line naming the variable.
 */
import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { parseSourceSettings, type SourceSettingsTable, DEFAULT_STREAM_SETTINGS } from '../../core/stream/settings';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaTls {
  /** PEM text read from the files given. */
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  alertsTopic: string;
  dlqTopic: string;
  /** Per-topic event-time settings and keyedBy (KAFKA_SOURCES). */
  sources: SourceSettingsTable;
  tls: KafkaTls | null;
  sasl: { mechanism: SaslMechanism; username: string; password: string } | null;
  /** Records larger than this (value bytes) are dead-lettered as `oversize`. */
  maxEventBytes: number;
  /** Where a group without committed offsets starts reading a source topic. */
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Longest wait of a fetch for new records (latency of a quiet topic). */
  maxWaitMs: number;
  /** Replication factor of the internal repartition topics (-1: the broker's default.replication.factor). */
  repartitionReplicationFactor: number;
  /** How often idle partitions' watermarks, pending outputs and missing source topics are looked at (ms). */
  tickMs: number;
  /**
   * How often missing source topics are looked for again, source topics' partition counts are compared with
   * the plan, and the consumer refreshes its metadata (so it rejoins when partitions are added) (ms).
   */
  topicRecheckMs: number;
}

export interface KafkaVariable {
  name: string;
  default: string;
  description: string;
}

/** The variables read here (ServiceConfig's VARIABLES lists the basic ones). */
export const KAFKA_VARIABLES: readonly KafkaVariable[] = [
  {
    name: 'KAFKA_SOURCES',
    default: '(unset)',
    description:
      'JSON object of per-topic settings, "*" for every topic: keyedBy, maxOutOfOrderness, allowedLateness, idleTimeout ("off" to disable), timeMode (event|processing). Durations in ms or "5s", "1 min".',
  },
  { name: 'KAFKA_SSL', default: 'false', description: 'true: connect with TLS (also implied by any KAFKA_SSL_* file).' },
  { name: 'KAFKA_SSL_CA_FILE', default: '(unset)', description: 'PEM file of the CA(s) to trust (default: the system CAs).' },
  { name: 'KAFKA_SSL_CERT_FILE', default: '(unset)', description: 'PEM client certificate (mutual TLS), with KAFKA_SSL_KEY_FILE.' },
  { name: 'KAFKA_SSL_KEY_FILE', default: '(unset)', description: 'PEM private key of KAFKA_SSL_CERT_FILE.' },
  { name: 'KAFKA_SSL_REJECT_UNAUTHORIZED', default: 'true', description: 'false: accept any broker certificate (testing only).' },
  { name: 'KAFKA_SASL_MECHANISM', default: '(unset)', description: 'plain, scram-sha-256 or scram-sha-512; needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD.' },
  { name: 'KAFKA_SASL_USERNAME', default: '(unset)', description: 'SASL user name.' },
  { name: 'KAFKA_SASL_PASSWORD', default: '(unset)', description: 'SASL password (never logged).' },
  { name: 'KAFKA_MAX_EVENT_BYTES', default: '1MiB', description: 'Larger records go to the dead-letter topic with reason oversize.' },
  { name: 'KAFKA_AUTO_OFFSET_RESET', default: 'earliest', description: 'Where a new consumer group starts on a source topic: earliest or latest.' },
  { name: 'KAFKA_SESSION_TIMEOUT_MS', default: '30000', description: 'Consumer group session timeout.' },
  { name: 'KAFKA_HEARTBEAT_INTERVAL_MS', default: '3000', description: 'Consumer group heartbeat interval.' },
  { name: 'KAFKA_MAX_WAIT_MS', default: '500', description: 'Longest wait of a fetch for new records.' },
  {
    name: 'KAFKA_REPARTITION_REPLICATION_FACTOR',
    default: '-1',
    description: "Replication factor of the internal repartition topics; -1 = the broker's default.replication.factor.",
  },
];

type Env = Record<string, string | undefined>;

export interface KafkaBasics {
  brokers: string[];
  clientId: string;
  groupId: string;
  alertsTopic: string;
  dlqTopic: string;
}

/**
 * Reads the Kafka variables. `readFile` reads the TLS files (injectable for tests). Returns the options, or
 * one error line per bad value (`NAME="value": expected ...`; secrets hidden).
 */
export function loadKafkaOptions(
  env: Env,
  basics: KafkaBasics,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): { options?: KafkaOptions; errors: string[] } {
  const errors: string[] = [];
  const raw = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const bad = (name: string, value: string, expected: string) => errors.push(`${name}=${JSON.stringify(value)}: expected ${expected}`);
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = raw(name);
    if (v === undefined) return fallback;
    if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      bad(name, v, `an integer from ${min} to ${max}`);
      return fallback;
    }
    return Number(v);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const v = raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    bad(name, env[name]!, 'true or false');
    return fallback;
  };

  let sources: SourceSettingsTable = { defaults: { ...DEFAULT_STREAM_SETTINGS }, topics: new Map() };
  const sourcesRaw = raw('KAFKA_SOURCES');
  if (sourcesRaw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(sourcesRaw);
    } catch (e) {
      errors.push(`KAFKA_SOURCES: expected JSON (${(e as Error).message})`);
    }
    if (parsed !== undefined) {
      const r = parseSourceSettings(parsed);
      if (r.table) sources = r.table;
      for (const e of r.errors) errors.push(`KAFKA_SOURCES: ${e}`);
    }
  }

  const file = (name: string): string | undefined => {
    const p = raw(name);
    if (p === undefined) return undefined;
    try {
      return readFile(p);
    } catch (e) {
      bad(name, p, `a readable PEM file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return undefined;
    }
  };
  const ca = file('KAFKA_SSL_CA_FILE');
  const cert = file('KAFKA_SSL_CERT_FILE');
  const key = file('KAFKA_SSL_KEY_FILE');
  const certGiven = raw('KAFKA_SSL_CERT_FILE') !== undefined;
  const keyGiven = raw('KAFKA_SSL_KEY_FILE') !== undefined;
  if (certGiven !== keyGiven) {
    errors.push(certGiven ? 'KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE' : 'KAFKA_SSL_KEY_FILE is set without KAFKA_SSL_CERT_FILE');
  }
  const anyFile = ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'].some((n) => raw(n) !== undefined);
  const sslOn = bool('KAFKA_SSL', anyFile);
  const rejectUnauthorized = bool('KAFKA_SSL_REJECT_UNAUTHORIZED', true);
  const tls: KafkaTls | null = sslOn || anyFile ? { ca, cert, key, rejectUnauthorized } : null;

  let sasl: KafkaOptions['sasl'] = null;
  const mech = raw('KAFKA_SASL_MECHANISM')?.toLowerCase();
  const username = env.KAFKA_SASL_USERNAME;
  const password = env.KAFKA_SASL_PASSWORD;
  if (mech !== undefined) {
    if (mech !== 'plain' && mech !== 'scram-sha-256' && mech !== 'scram-sha-512') {
      bad('KAFKA_SASL_MECHANISM', env.KAFKA_SASL_MECHANISM!, 'plain, scram-sha-256 or scram-sha-512');
    } else if (!username || !password) {
      errors.push(`KAFKA_SASL_MECHANISM=${mech} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
    } else sasl = { mechanism: mech, username, password };
  } else if (username || password) {
    errors.push('KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set without KAFKA_SASL_MECHANISM');
  }

  let maxEventBytes = 1024 * 1024;
  const maxRaw = raw('KAFKA_MAX_EVENT_BYTES');
  if (maxRaw !== undefined) {
    const m = /^(\d+)\s*(B|KiB|MiB|kB|KB|MB)?$/i.exec(maxRaw);
    const unit = m?.[2]?.toLowerCase();
    const n = m ? Number(m[1]) * (unit === 'kib' || unit === 'kb' ? 1024 : unit === 'mib' || unit === 'mb' ? 1024 * 1024 : 1) : NaN;
    if (!(n >= 64 && n <= 64 * 1024 * 1024)) bad('KAFKA_MAX_EVENT_BYTES', maxRaw, 'a size from 64 bytes to 64 MiB (e.g. 65536, 64KiB, 1MiB)');
    else maxEventBytes = n;
  }

  const reset = (raw('KAFKA_AUTO_OFFSET_RESET') ?? 'earliest').toLowerCase();
  if (reset !== 'earliest' && reset !== 'latest') bad('KAFKA_AUTO_OFFSET_RESET', env.KAFKA_AUTO_OFFSET_RESET!, 'earliest or latest');

  const sessionTimeoutMs = int('KAFKA_SESSION_TIMEOUT_MS', 30_000, 1000, 3_600_000);
  const heartbeatIntervalMs = int('KAFKA_HEARTBEAT_INTERVAL_MS', 3000, 100, 600_000);
  if (heartbeatIntervalMs >= sessionTimeoutMs) errors.push('KAFKA_HEARTBEAT_INTERVAL_MS must be lower than KAFKA_SESSION_TIMEOUT_MS');
  const maxWaitMs = int('KAFKA_MAX_WAIT_MS', 500, 0, 60_000);
  const repartitionReplicationFactor = int('KAFKA_REPARTITION_REPLICATION_FACTOR', -1, -1, 32);
  if (repartitionReplicationFactor === 0) bad('KAFKA_REPARTITION_REPLICATION_FACTOR', '0', '-1 or a positive integer');

  if (errors.length > 0) return { errors };
  return {
    options: {
      ...basics,
      sources,
      tls,
      sasl,
      maxEventBytes,
      fromBeginning: reset === 'earliest',
      sessionTimeoutMs,
      heartbeatIntervalMs,
      maxWaitMs,
      repartitionReplicationFactor,
      tickMs: 250,
      topicRecheckMs: 10_000,
    },
    errors,
  };
}

/** The kafkajs client configuration of the options (logging is added by the caller). */
export function kafkaClientConfig(o: KafkaOptions): KafkaConfig {
  const config: KafkaConfig = {
    clientId: o.clientId,
    brokers: o.brokers,
    connectionTimeout: 5000,
    retry: { initialRetryTime: 200, retries: 8 },
  };
  if (o.tls) {
    config.ssl =
      o.tls.ca === undefined && o.tls.cert === undefined && o.tls.rejectUnauthorized
        ? true
        : {
            rejectUnauthorized: o.tls.rejectUnauthorized,
            ...(o.tls.ca !== undefined ? { ca: [o.tls.ca] } : {}),
            ...(o.tls.cert !== undefined ? { cert: o.tls.cert } : {}),
            ...(o.tls.key !== undefined ? { key: o.tls.key } : {}),
          };
  }
  if (o.sasl) config.sasl = { mechanism: o.sasl.mechanism, username: o.sasl.username, password: o.sasl.password } as SASLOptions;
  return config;
}
