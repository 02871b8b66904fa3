/**
 * ioredis helpers for tests against the real Redis (REDIS_URL).
 *
 *   await withRedis(async (redis) => { await redis.set('k', 'v'); });
 */
import Redis, { RedisOptions } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { redisUrl } from './env';

export { redisUrl };

/** A new ioredis client for the test Redis (fails fast instead of queueing when down). Call `quit()` when done. */
export function testRedis(opts: RedisOptions = {}, url = redisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 3000, ...opts });
}

/** Runs `fn` with a fresh client and always closes it. */
export async function withRedis<T>(fn: (redis: Redis) => Promise<T>, opts: RedisOptions = {}): Promise<T> {
  const redis = testRedis(opts);
  try {
    return await fn(redis);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** A key prefix unique to this test run (`test:<hex>:`), so tests sharing one Redis do not collide. */
export function uniquePrefix(name = 'test'): string {
  return `${name}:${randomBytes(4).toString('hex')}:`;
}
