import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig, loadConfig, VARIABLES } from './config';

const ROOT = join(__dirname, '..', '..');

describe('loadConfig', () => {
  it('gives the embedded defaults for an empty environment', () => {
    const { config, errors } = loadConfig({}, ROOT);
    expect(errors).toEqual([]);
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      rulesDir: join(ROOT, 'rules'),
      apiToken: null,
      logLevel: 'info',
      maxPartialMatchesPerKey: 10_000,
      alertsBufferSize: 1000,
      limits: { eventsBodyBytes: 1024 * 1024, eventsPerRequest: 10_000, rulesBodyBytes: 64 * 1024 },
      kafka: null,
      redis: null,
    });
  });

  it('reads every variable', () => {
    const { config, errors, warnings } = loadConfig(
      {
        PORT: '9000',
        HOST: '127.0.0.1',
        RULES_DIR: 'rules',
        API_TOKEN: 'a-long-enough-token-value',
        LOG_LEVEL: 'DEBUG',
        MAX_PARTIAL_MATCHES_PER_KEY: '50',
        TIMER_CATCH_UP_LIMIT: '2000',
        TIMER_MOVE_LIMIT: '3000',
        ALERTS_BUFFER_SIZE: '7',
        RULES_RELOAD_DEBOUNCE_MS: '0',
        EVENTS_MAX_BODY_BYTES: '2MiB',
        EVENTS_MAX_PER_REQUEST: '5',
        RULES_MAX_BODY_BYTES: '32KiB',
        SHUTDOWN_TIMEOUT_MS: '500',
        KAFKA_BROKERS: 'k1:9092, k2:9093',
        KAFKA_CLIENT_ID: 'c',
        KAFKA_GROUP_ID: 'g',
        ALERTS_TOPIC: 'alerts',
        DLQ_TOPIC: 'dlq',
        REDIS_URL: 'redis://redis:6379/0',
      },
      ROOT,
    );
    expect(errors).toEqual([]);
    expect(config).toEqual({
      port: 9000,
      host: '127.0.0.1',
      rulesDir: join(ROOT, 'rules'),
      apiToken: 'a-long-enough-token-value',
      logLevel: 'debug',
      maxPartialMatchesPerKey: 50,
      timerCatchUpLimit: 2000,
      timerMoveLimit: 3000,
      alertsBufferSize: 7,
      rulesReloadDebounceMs: 0,
      limits: { eventsBodyBytes: 2 * 1024 * 1024, eventsPerRequest: 5, rulesBodyBytes: 32 * 1024 },
      shutdownTimeoutMs: 500,
      kafka: expect.objectContaining({ brokers: ['k1:9092', 'k2:9093'], clientId: 'c', groupId: 'g', alertsTopic: 'alerts', dlqTopic: 'dlq' }),
      redis: {
        url: 'redis://redis:6379/0',
        eviction: { idleMs: 600_000, maxKeys: 100_000 },
        limits: { maxSnapshotBytes: 1024 * 1024, maxAlertBytes: 1024 * 1024, maxStreamBytes: 8 * 1024 * 1024, maxOutbox: 100_000 },
        orphanAfterMs: 3_600_000,
      },
      maxEventFutureMs: 86_400_000,
    });
    // Kafka mode's own settings (src/adapters/kafka/kafka-options.spec.ts) default sensibly.
    expect(config!.kafka).toMatchObject({ fromBeginning: true, maxEventBytes: 1024 * 1024, tls: null, sasl: null });
    // Kafka mode with Redis: checkpoints are used, nothing to warn about.
    expect(warnings.join('\n')).not.toMatch(/KAFKA_BROKERS|REDIS_URL/);
  });

  it('accepts Sentinel and Cluster REDIS_URLs, and warns that Redis is unused without KAFKA_BROKERS', () => {
    for (const url of ['redis+sentinel://s1:26379,s2:26379/mymaster', 'redis+cluster://n1:7000,n2:7001', 'rediss://u:p@h:6380/2']) {
      const { config, errors, warnings } = loadConfig({ RULES_DIR: '', REDIS_URL: url, KAFKA_BROKERS: 'k:9092' }, ROOT);
      expect(errors).toEqual([]);
      expect(config!.redis).toMatchObject({ url, eviction: { idleMs: 600_000, maxKeys: 100_000 } });
      expect(warnings.join('\n')).not.toMatch(/REDIS_URL/);
    }
    const embedded = loadConfig({ RULES_DIR: '', REDIS_URL: 'redis://r:6379' }, ROOT);
    expect(embedded.warnings.join('\n')).toMatch(/REDIS_URL is set, but without KAFKA_BROKERS/);
  });

  it('reads the eviction of cold keys: a duration or off, a key count or off; warns when set without REDIS_URL', () => {
    const base = { RULES_DIR: '', KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://r:6379' };
    const evictionOf = (env: Record<string, string>) => loadConfig({ ...base, ...env }, ROOT).config!.redis!.eviction;
    expect(evictionOf({ STATE_EVICT_IDLE: '90s', STATE_EVICT_MAX_KEYS: '5000' })).toEqual({ idleMs: 90_000, maxKeys: 5000 });
    expect(evictionOf({ STATE_EVICT_IDLE: '0', STATE_EVICT_MAX_KEYS: 'OFF' })).toEqual({ idleMs: 0, maxKeys: null });
    expect(evictionOf({ STATE_EVICT_IDLE: 'off', STATE_EVICT_MAX_KEYS: '' })).toEqual({ idleMs: null, maxKeys: 100_000 });
    expect(loadConfig({ ...base, STATE_EVICT_IDLE: 'soon', STATE_EVICT_MAX_KEYS: '0' }, ROOT).errors).toEqual([
      'STATE_EVICT_IDLE="soon": expected a duration (milliseconds, or e.g. 30s, 10 min, 1h, 2d; at most 30 days) or off',
      'STATE_EVICT_MAX_KEYS="0": expected an integer from 1 to 1000000000, or off',
    ]);
    const memoryOnly = loadConfig({ RULES_DIR: '', STATE_EVICT_IDLE: '1m' }, ROOT);
    expect(memoryOnly.errors).toEqual([]);
    expect(memoryOnly.warnings.join('\n')).toMatch(/STATE_EVICT_IDLE is set, but without REDIS_URL/);
  });

  it('reads how far ahead of the wall clock an event time may be: a duration or off', () => {
    const futureOf = (value: string) => loadConfig({ RULES_DIR: '', EVENT_MAX_FUTURE: value }, ROOT).config!.maxEventFutureMs;
    expect(futureOf('')).toBe(86_400_000);
    expect(futureOf('2d')).toBe(172_800_000);
    expect(futureOf('15 min')).toBe(900_000);
    expect(futureOf('OFF')).toBeNull();
    expect(loadConfig({ RULES_DIR: '', EVENT_MAX_FUTURE: 'tomorrow' }, ROOT).errors).toEqual([
      'EVENT_MAX_FUTURE="tomorrow": expected a duration (milliseconds, or e.g. 30s, 10 min, 1h, 2d; at most 30 days) or off',
    ]);
  });

  it('reads when orphaned checkpoints are removed: a duration or off; warns when set without REDIS_URL', () => {
    const base = { RULES_DIR: '', KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://r:6379' };
    const orphanAfterOf = (value: string) => loadConfig({ ...base, STATE_ORPHAN_AFTER: value }, ROOT).config!.redis!.orphanAfterMs;
    expect(orphanAfterOf('2h')).toBe(2 * 3_600_000);
    expect(orphanAfterOf('off')).toBeNull();
    expect(orphanAfterOf('')).toBe(3_600_000);
    expect(loadConfig({ ...base, STATE_ORPHAN_AFTER: 'later' }, ROOT).errors).toEqual([
      'STATE_ORPHAN_AFTER="later": expected a duration (milliseconds, or e.g. 30s, 10 min, 1h, 2d; at most 30 days) or off',
    ]);
    expect(loadConfig({ RULES_DIR: '', STATE_ORPHAN_AFTER: '1h' }, ROOT).warnings.join('\n')).toMatch(/STATE_ORPHAN_AFTER is set, but without REDIS_URL/);
  });

  it('reads the checkpoint size bounds (sizes with units, an outbox count); rejects values out of range; warns without REDIS_URL', () => {
    const base = { RULES_DIR: '', KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://r:6379' };
    const limitsOf = (env: Record<string, string>) => loadConfig({ ...base, ...env }, ROOT).config!.redis!.limits;
    expect(limitsOf({ CHECKPOINT_MAX_SNAPSHOT_BYTES: '4MiB', CHECKPOINT_MAX_ALERT_BYTES: '512KiB', CHECKPOINT_MAX_STREAM_BYTES: '65536', CHECKPOINT_MAX_OUTBOX: '500' })).toEqual({
      maxSnapshotBytes: 4 * 1024 * 1024,
      maxAlertBytes: 512 * 1024,
      maxStreamBytes: 65_536,
      maxOutbox: 500,
    });
    const bad = loadConfig({ ...base, CHECKPOINT_MAX_SNAPSHOT_BYTES: '10', CHECKPOINT_MAX_OUTBOX: 'many' }, ROOT).errors;
    expect(bad).toHaveLength(2);
    expect(bad[0]).toMatch(/^CHECKPOINT_MAX_SNAPSHOT_BYTES="10": /);
    expect(bad[1]).toMatch(/^CHECKPOINT_MAX_OUTBOX="many": /);
    const memoryOnly = loadConfig({ RULES_DIR: '', CHECKPOINT_MAX_OUTBOX: '10' }, ROOT);
    expect(memoryOnly.warnings.join('\n')).toMatch(/CHECKPOINT_MAX_OUTBOX is set, but without REDIS_URL/);
  });

  it('reports one line per bad value, naming the variable, the value and what is expected', () => {
    const { config, errors } = loadConfig(
      {
        PORT: '70000',
        API_TOKEN: 'has space',
        EVENTS_MAX_BODY_BYTES: 'lots',
        KAFKA_BROKERS: 'k1:9092,nohost',
        ALERTS_TOPIC: 'bad topic',
        REDIS_URL: 'redis://:pw@',
      },
      ROOT,
    );
    expect(config).toBeUndefined();
    expect(errors).toEqual([
      'PORT="70000": expected an integer from 0 to 65535',
      'API_TOKEN=<hidden>: expected printable ASCII characters without spaces',
      'EVENTS_MAX_BODY_BYTES="lots": expected a size from 1024 bytes to 256 MiB (e.g. 65536, 64KiB, 1MiB)',
      'ALERTS_TOPIC="bad topic": expected a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)',
      'KAFKA_BROKERS="k1:9092,nohost": expected a comma-separated list of host:port (bad: "nohost")',
      'REDIS_URL="redis://:***@": expected a URL like redis://host:6379/0 or rediss://user:password@host:6380',
    ]);
  });

  it('tolerates a missing default rules directory but not a missing explicit one; RULES_DIR="" means none', () => {
    const missingDefault = loadConfig({}, '/nonexistent');
    expect(missingDefault.config?.rulesDir).toBeNull();
    expect(missingDefault.warnings[0]).toMatch(/RULES_DIR is not set/);
    expect(loadConfig({ RULES_DIR: 'nope' }, '/nonexistent').errors[0]).toMatch(/^RULES_DIR="nope": expected an existing directory/);
    expect(loadConfig({ RULES_DIR: '' }, ROOT).config?.rulesDir).toBeNull();
  });

  it('defaultConfig is the configuration of an empty environment without rule files', () => {
    expect(defaultConfig({ port: 1 })).toMatchObject({ port: 1, rulesDir: null, logLevel: 'info' });
  });

  it('every variable is documented in docs/service.md', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'service.md'), 'utf8');
    for (const v of VARIABLES) expect([v.name, doc.includes(`\`${v.name}\``)]).toEqual([v.name, true]);
  });
});
