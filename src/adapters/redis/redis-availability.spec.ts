import { EventEmitter } from 'node:events';
import type { RedisClient } from './redis-connection';
import { RedisAvailability, RedisAvailabilityStoppedError } from './redis-availability';

/** Just enough of an ioredis client: status, events, ping(). */
class FakeClient extends EventEmitter {
  status = 'connecting';
  pingResult: 'ok' | 'fail' | 'hang' = 'ok';
  pings = 0;
  ping(): Promise<string> {
    this.pings++;
    if (this.pingResult === 'fail') return Promise.reject(new Error("Stream isn't writeable"));
    if (this.pingResult === 'hang') return new Promise(() => undefined);
    return Promise.resolve('PONG');
  }
  up() {
    this.status = 'ready';
    this.emit('ready');
  }
  down() {
    this.status = 'reconnecting';
    this.emit('close');
    this.emit('reconnecting');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RedisAvailability', () => {
  let guard: RedisAvailability | undefined;
  afterEach(() => guard?.stop());

  it('follows connection events and releases whenAvailable() waiters when Redis is back', async () => {
    const c = new FakeClient();
    const g = (guard = new RedisAvailability(c as unknown as RedisClient, { pingIntervalMs: 10_000 }));
    const changes: Array<[boolean, string]> = [];
    g.onChange((a, r) => changes.push([a, r]));
    expect(g.ready).toBe(false);
    let resolved = false;
    const w = g.whenAvailable().then(() => (resolved = true));
    await sleep(5);
    expect(resolved).toBe(false);
    c.up();
    await w;
    expect(g.ready).toBe(true);
    await g.whenAvailable(); // at once now
    c.down();
    expect(g.ready).toBe(false);
    c.emit('error', new Error('ECONNREFUSED')); // an error event is recorded, never thrown
    expect(g.lastError).toBe('ECONNREFUSED');
    c.up();
    expect(changes).toEqual([
      [true, 'ready'],
      [false, 'connection closed'],
      [true, 'ready'],
    ]);
    expect(g.transitions).toBe(3);
  });

  it('reportFailure() flips to unavailable; a successful PING flips back', async () => {
    const c = new FakeClient();
    c.status = 'ready';
    const g = (guard = new RedisAvailability(c as unknown as RedisClient, { pingIntervalMs: 20 }));
    expect(g.ready).toBe(true);
    g.reportFailure(new Error('Command timed out'));
    expect(g.ready).toBe(false);
    expect(g.downSince).toBeDefined();
    await g.whenAvailable();
    expect(g.ready).toBe(true);
    expect(c.pings).toBeGreaterThan(0);
  });

  it('a failing or hanging PING makes it unavailable even when the socket looks fine', async () => {
    const c = new FakeClient();
    c.status = 'ready';
    const g = (guard = new RedisAvailability(c as unknown as RedisClient, { pingIntervalMs: 10_000, pingTimeoutMs: 30 }));
    c.pingResult = 'hang';
    expect(await g.check()).toBe(false);
    expect(g.lastError).toMatch(/PING took longer than 30 ms/);
    c.pingResult = 'ok';
    expect(await g.check()).toBe(true);
    c.pingResult = 'fail';
    expect(await g.check()).toBe(false);
  });

  it('a PING that succeeds while the client is not ready does not count', async () => {
    const c = new FakeClient();
    const g = (guard = new RedisAvailability(c as unknown as RedisClient, { pingIntervalMs: 10_000 }));
    expect(await g.check()).toBe(false);
  });

  it('listeners that throw do not break it; stop() and abort reject waiters and detach from the client', async () => {
    const c = new FakeClient();
    const g = (guard = new RedisAvailability(c as unknown as RedisClient, { pingIntervalMs: 10_000 }));
    g.onChange(() => {
      throw new Error('bad listener');
    });
    const ac = new AbortController();
    const aborted = g.whenAvailable(ac.signal);
    ac.abort(new Error('shutting down'));
    await expect(aborted).rejects.toThrow('shutting down');
    const pending = g.whenAvailable();
    g.stop();
    await expect(pending).rejects.toBeInstanceOf(RedisAvailabilityStoppedError);
    await expect(g.whenAvailable()).rejects.toBeInstanceOf(RedisAvailabilityStoppedError);
    expect(c.listenerCount('ready')).toBe(0);
    expect(c.listenerCount('error')).toBe(0);
    c.up(); // no throw, no change after stop
    expect(g.ready).toBe(false);
  });
});
