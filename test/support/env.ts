/**
 * Connection settings of the real test infrastructure (started by test/setup/global-setup.ts,
 * or given from outside, e.g. by `npm run infra:up`).
 */

function required(name: 'KAFKA_BROKERS' | 'REDIS_URL'): string {
  const value = process.env[name];
  if (value) return value;
  const why =
    process.env.CEPHEUS_TEST_INFRA === 'off'
      ? 'CEPHEUS_TEST_INFRA=off, so no test infrastructure was started'
      : process.env.CEPHEUS_TEST_INFRA_SKIPPED === 'auto'
        ? 'the jest global setup found no selected test file that needs it: a file needs it when it is under ' +
          'test/integration/ or imports test/support/{kafka,redis,env} or scripts/infra; set CEPHEUS_TEST_INFRA=on to force it'
        : 'the jest global setup did not provide it';
  throw new Error(
    `${name} is not set (${why}). This test needs the real Kafka/Redis: run \`npm test\` without ` +
      'CEPHEUS_TEST_INFRA=off, or `npm run infra:up` and export the printed variables. ' +
      'For unit tests only, use `npm run test:unit`.',
  );
}

/** Kafka bootstrap brokers from KAFKA_BROKERS (comma-separated); throws a clear error when absent. */
export function kafkaBrokers(): string[] {
  return required('KAFKA_BROKERS').split(',').map((b) => b.trim()).filter(Boolean);
}

/** Redis URL from REDIS_URL; throws a clear error when absent. */
export function redisUrl(): string {
  return required('REDIS_URL');
}

/**
 * Throws the same clear error when CEPHEUS_TEST_INFRA=off. For tests that start dedicated
 * servers themselves (scripts/infra startKafka/startRedis), so that "off" means no broker
 * or Redis is started at all.
 */
export function assertInfraEnabled(): void {
  if (process.env.CEPHEUS_TEST_INFRA === 'off') {
    throw new Error(
      'CEPHEUS_TEST_INFRA=off: this test starts its own Kafka/Redis and is not a unit test. ' +
        'Run it with `npm test`, or exclude it with `npm run test:unit`.',
    );
  }
}
