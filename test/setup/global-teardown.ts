/** Jest global teardown: stops what global-setup.ts started (nothing when the env vars were given). */
import type {} from './global-setup'; // for the globalThis.__CEPHEUS_INFRA__ declaration

export default async function globalTeardown(): Promise<void> {
  const started = globalThis.__CEPHEUS_INFRA__;
  if (!started) return;
  globalThis.__CEPHEUS_INFRA__ = undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const infra: typeof import('../../scripts/infra') = require('../../scripts/infra');
  // KEEP_INFRA_DIRS=1 keeps the broker/redis dirs (logs) for debugging.
  await infra.stopInfra(started, { keepDirs: process.env.KEEP_INFRA_DIRS === '1' });
}
