import { kafkaClientConfig, loadKafkaOptions } from './kafka-options';

const basics = { brokers: ['k1:9092'], clientId: 'c', groupId: 'g', alertsTopic: 'a', dlqTopic: 'd' };
const files: Record<string, string> = { '/ca.pem': 'CA', '/cert.pem': 'CERT', '/key.pem': 'KEY' };
const readFile = (p: string) => {
  if (!(p in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  return files[p];
};

describe('Kafka options', () => {
  it('defaults: every source in event time, no TLS or SASL, 1 MiB records, earliest', () => {
    const { options, errors } = loadKafkaOptions({}, basics, readFile);
    expect(errors).toEqual([]);
    expect(options).toMatchObject({
      ...basics,
      tls: null,
      sasl: null,
      maxEventBytes: 1024 * 1024,
      fromBeginning: true,
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3000,
      maxWaitMs: 500,
      repartitionReplicationFactor: -1,
    });
    expect(options!.sources.defaults).toEqual({ maxOutOfOrderness: 0, allowedLateness: 0, idleTimeout: 30_000, timeMode: 'event' });
    expect(kafkaClientConfig(options!)).toMatchObject({ clientId: 'c', brokers: ['k1:9092'] });
    expect(kafkaClientConfig(options!).ssl).toBeUndefined();
  });

  it('reads per-source settings, TLS files, SASL and tuning', () => {
    const { options, errors } = loadKafkaOptions(
      {
        KAFKA_SOURCES: '{"*":{"idleTimeout":"10s"},"auth":{"keyedBy":"user_id","maxOutOfOrderness":"5s"}}',
        KAFKA_SSL_CA_FILE: '/ca.pem',
        KAFKA_SSL_CERT_FILE: '/cert.pem',
        KAFKA_SSL_KEY_FILE: '/key.pem',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'svc',
        KAFKA_SASL_PASSWORD: 's3cret',
        KAFKA_MAX_EVENT_BYTES: '256KiB',
        KAFKA_AUTO_OFFSET_RESET: 'latest',
        KAFKA_MAX_WAIT_MS: '100',
      },
      basics,
      readFile,
    );
    expect(errors).toEqual([]);
    expect(options!.sources.topics.get('auth')).toEqual({ keyedBy: 'user_id', maxOutOfOrderness: 5000, allowedLateness: 0, idleTimeout: 10_000, timeMode: 'event' });
    expect(options).toMatchObject({ maxEventBytes: 256 * 1024, fromBeginning: false, maxWaitMs: 100 });
    expect(kafkaClientConfig(options!)).toMatchObject({
      ssl: { rejectUnauthorized: true, ca: ['CA'], cert: 'CERT', key: 'KEY' },
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 's3cret' },
    });
  });

  it('KAFKA_SSL=true alone uses the system CAs', () => {
    const { options } = loadKafkaOptions({ KAFKA_SSL: 'true' }, basics, readFile);
    expect(kafkaClientConfig(options!).ssl).toBe(true);
  });

  it('reports one line per bad value and never shows the password', () => {
    const { options, errors } = loadKafkaOptions(
      {
        KAFKA_SOURCES: '{"t":{"timeMode":"wall"}}',
        KAFKA_SSL: 'maybe',
        KAFKA_SSL_CA_FILE: '/missing.pem',
        KAFKA_SSL_CERT_FILE: '/cert.pem',
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_SASL_PASSWORD: 'hunter2',
        KAFKA_MAX_EVENT_BYTES: 'huge',
        KAFKA_AUTO_OFFSET_RESET: 'middle',
        KAFKA_SESSION_TIMEOUT_MS: '2000',
        KAFKA_HEARTBEAT_INTERVAL_MS: '3000',
        KAFKA_REPARTITION_REPLICATION_FACTOR: '0',
      },
      basics,
      readFile,
    );
    expect(options).toBeUndefined();
    expect(errors).toEqual([
      'KAFKA_SOURCES: t.timeMode: expected "event" or "processing", found "wall"',
      'KAFKA_SSL_CA_FILE="/missing.pem": expected a readable PEM file (ENOENT)',
      'KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE',
      'KAFKA_SSL="maybe": expected true or false',
      'KAFKA_SASL_MECHANISM="gssapi": expected plain, scram-sha-256 or scram-sha-512',
      'KAFKA_MAX_EVENT_BYTES="huge": expected a size from 64 bytes to 64 MiB (e.g. 65536, 64KiB, 1MiB)',
      'KAFKA_AUTO_OFFSET_RESET="middle": expected earliest or latest',
      'KAFKA_HEARTBEAT_INTERVAL_MS must be lower than KAFKA_SESSION_TIMEOUT_MS',
      'KAFKA_REPARTITION_REPLICATION_FACTOR="0": expected -1 or a positive integer',
    ]);
    expect(errors.join('\n')).not.toContain('hunter2');
    expect(loadKafkaOptions({ KAFKA_SOURCES: '{nope' }, basics, readFile).errors[0]).toMatch(/^KAFKA_SOURCES: expected JSON/);
    expect(loadKafkaOptions({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }, basics, readFile).errors).toEqual([
      'KAFKA_SASL_MECHANISM=plain needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    ]);
  });
});
