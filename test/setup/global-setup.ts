/**
 * Jest global setup: gives the run a real Kafka broker and Redis.
 *
 * - KAFKA_BROKERS / REDIS_URL already set -> used as they are (e.g. after `npm run infra:up`).
 * - otherwise, if a selected test file needs them (see needs-infra.ts) -> started here
 *   (scripts/infra) and the env vars set for the test files; stopped by global-teardown.ts.
 *   A run of unit tests only (`jest src/core/foo.spec.ts`) starts nothing.
 * - CEPHEUS_TEST_INFRA=on  -> always start them.
 * - CEPHEUS_TEST_INFRA=off -> never; tests that need Kafka/Redis fail with a clear message
 *   (test/support/env.ts). `npm run test:unit` uses this and excludes test/integration/.
 */
import type { Infra } from '../../scripts/infra';
import { testsNeedingInfra } from './needs-infra';

declare global {
  // eslint-disable-next-line no-var
  var __CEPHEUS_INFRA__: Partial<Infra> | undefined;
}

export default async function globalSetup(
  globalConfig: Parameters<typeof testsNeedingInfra>[0],
  projectConfig: Parameters<typeof testsNeedingInfra>[1],
): Promise<void> {
  // kafkajs prints a one-off partitioner notice on every producer otherwise.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

  const mode = (process.env.CEPHEUS_TEST_INFRA ?? 'auto').toLowerCase();
  if (mode === 'off') {
    process.stderr.write('\n[infra] CEPHEUS_TEST_INFRA=off: not starting Kafka/Redis; integration tests will fail if run.\n');
    return;
  }
  const needKafka = !process.env.KAFKA_BROKERS;
  const needRedis = !process.env.REDIS_URL;
  if (!needKafka && !needRedis) {
    process.stderr.write(`\n[infra] using KAFKA_BROKERS=${process.env.KAFKA_BROKERS} REDIS_URL=${process.env.REDIS_URL}\n`);
    return;
  }
  if (mode !== 'on') {
    const needing = testsNeedingInfra(globalConfig, projectConfig);
    if (needing && needing.length === 0) {
      process.env.CEPHEUS_TEST_INFRA_SKIPPED = 'auto';
      process.stderr.write('\n[infra] no selected test file needs Kafka/Redis: not starting them (CEPHEUS_TEST_INFRA=on forces it).\n');
      return;
    }
  }
  // Plain CommonJS, required at run time so it is not transformed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const infra: typeof import('../../scripts/infra') = require('../../scripts/infra');
  process.stderr.write('\n');
  const t0 = Date.now();
  const started = await infra.startInfra({ kafka: needKafka ? {} : false, redis: needRedis ? {} : false });
  globalThis.__CEPHEUS_INFRA__ = started;
  Object.assign(process.env, started.env);
  process.stderr.write(
    `[infra] ready in ${Date.now() - t0} ms: KAFKA_BROKERS=${process.env.KAFKA_BROKERS} REDIS_URL=${process.env.REDIS_URL}\n`,
  );
}
