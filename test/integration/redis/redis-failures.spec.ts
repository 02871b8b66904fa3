/**
 * Redis going away and coming back, on test-local servers (the shared one is never restarted):
 * - a crash (SIGKILL) and restart with AOF: the guard reports unavailable then available, commits in between
 *   fail fast with CheckpointUnavailableError, a commit after recovery succeeds (the server lost the script
 *   cache: NOSCRIPT → EVAL) and the data committed before the crash is there;
 * - a hung server (SIGSTOP): the socket stays open, commands and PINGs time out, the guard reports it;
 * - no ioredis error ever escapes as an uncaught exception or unhandled rejection;
 * - Sentinel: the redis+sentinel:// URL finds the master and the store works through it; after a failover
 *   (SENTINEL FAILOVER) the client follows to the promoted replica and the next commit succeeds there.
 */
import type { RedisHandle } from '../../../scripts/infra';
import { RedisAvailability } from '../../../src/adapters/redis/redis-availability';
import { RedisCheckpointStore } from '../../../src/adapters/redis/redis-checkpoint-store';
import { RedisClient, RedisLog, closeRedisClient, createRedisClient } from '../../../src/adapters/redis/redis-connection';
import { CheckpointUnavailableError, TopicPartition, allStoredKeys } from '../../../src/core/ports/checkpoint-store';
import { alertOf, uniqueTopic } from './checkpoint-store.contract';
import { SentinelSetup, infra, startSentinel, waitFor } from './servers';

const snap = (n: number) => ({ v: 1 as const, ended: false, seq: n, events: [], root: null });

/** Counts process-level failures while a test runs (ioredis errors must never get there). */
function watchProcess(): { stop(): string[] } {
  const seen: string[] = [];
  const onException = (e: unknown) => seen.push(`uncaughtException: ${String(e)}`);
  const onRejection = (e: unknown) => seen.push(`unhandledRejection: ${String(e)}`);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    stop() {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
      return seen;
    },
  };
}

function memoryLog(): RedisLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (o, m) => lines.push(`info ${m} ${JSON.stringify(o)}`),
    warn: (o, m) => lines.push(`warn ${m} ${JSON.stringify(o)}`),
  };
}

describe('redis crash and restart (AOF, appendfsync always)', () => {
  let server: RedisHandle | undefined;
  let client: RedisClient | undefined;
  let guard: RedisAvailability | undefined;
  afterEach(async () => {
    guard?.stop();
    if (client) await closeRedisClient(client);
    await infra.stopInfra({ redis: server });
    server = client = guard = undefined;
  });

  it('guard: available → unavailable → available; commits fail fast while down and succeed after', async () => {
    const watch = watchProcess();
    server = await infra.startRedis({ appendonly: true, args: ['--appendfsync', 'always'] });
    const log = memoryLog();
    client = createRedisClient(server.url, { commandTimeoutMs: 1000, connectTimeoutMs: 1000, maxReconnectDelayMs: 200, log });
    const g = (guard = new RedisAvailability(client, { pingIntervalMs: 100, pingTimeoutMs: 500, log }));
    const store = new RedisCheckpointStore(client, { onUnavailable: (e) => g.reportFailure(e) });
    await g.whenAvailable();
    expect(g.ready).toBe(true);
    const changes: boolean[] = [];
    g.onChange((available) => changes.push(available));

    const tp: TopicPartition = { topic: uniqueTopic('restart'), partition: 0 };
    const { epoch } = await store.load(tp);
    await store.commit(tp, { epoch, nextOffset: '10', clock: 10, changed: [{ rule: 'r', version: 1, key: 'a', snapshot: snap(1) }], deleted: [], alerts: [alertOf('before')] });

    await server.stop({ hard: true });
    await waitFor(() => !g.ready, 5000, 'guard to report unavailable');
    const waiting = g.whenAvailable();

    // While down: every call fails fast (no offline queue) with the store's error, never hangs.
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const err = await store
        .commit(tp, { epoch, nextOffset: '20', clock: 20, changed: [{ rule: 'r', version: 1, key: 'b', snapshot: snap(2) }], deleted: [], alerts: [alertOf('during')] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointUnavailableError);
      expect(Date.now() - t0).toBeLessThan(1500);
    }
    await expect(store.ping()).rejects.toBeInstanceOf(CheckpointUnavailableError);
    await new Promise((r) => setTimeout(r, 500)); // a few reconnect attempts and PINGs fail meanwhile
    expect(g.ready).toBe(false);

    await server.restart();
    await waiting;
    expect(g.ready).toBe(true);
    expect(changes[0]).toBe(false);
    expect(changes[changes.length - 1]).toBe(true);

    // After recovery: the pre-crash checkpoint is there; the retried commit succeeds (script re-sent by EVAL).
    await store.commit(tp, { epoch, nextOffset: '20', clock: 20, changed: [{ rule: 'r', version: 1, key: 'b', snapshot: snap(2) }], deleted: [], alerts: [alertOf('during')] });
    const l = await store.load(tp);
    expect(l.nextOffset).toBe('20');
    expect((await allStoredKeys(l.state!)).map((k) => k.key).sort()).toEqual(['a', 'b']);
    expect((await store.pendingAlerts(tp, 10)).map((a) => a.id)).toEqual(['before', 'during']);

    expect(watch.stop()).toEqual([]);
    expect(log.lines.some((l) => l.startsWith('warn redis unavailable'))).toBe(true);
    expect(log.lines.some((l) => l.startsWith('info redis available'))).toBe(true);
  }, 60_000);

  it('a hung server (SIGSTOP) is detected by command and PING timeouts, and recovers on SIGCONT', async () => {
    const watch = watchProcess();
    server = await infra.startRedis();
    client = createRedisClient(server.url, { commandTimeoutMs: 300, connectTimeoutMs: 1000, maxReconnectDelayMs: 200 });
    const g = (guard = new RedisAvailability(client, { pingIntervalMs: 100, pingTimeoutMs: 300 }));
    const store = new RedisCheckpointStore(client, { onUnavailable: (e) => g.reportFailure(e) });
    await g.whenAvailable();
    const tp: TopicPartition = { topic: uniqueTopic('hang'), partition: 1 };
    const { epoch } = await store.load(tp);

    process.kill(server.pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const err = await store.commit(tp, { epoch, nextOffset: '1', clock: 1, changed: [], deleted: [], alerts: [] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointUnavailableError);
      expect(Date.now() - t0).toBeLessThan(1500);
      await waitFor(() => !g.ready, 3000, 'guard to report unavailable');
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    await g.whenAvailable();
    // The commit that timed out may have been applied after SIGCONT: retrying the same commit is harmless.
    await store.commit(tp, { epoch, nextOffset: '1', clock: 1, changed: [], deleted: [], alerts: [] });
    expect((await store.load(tp)).nextOffset).toBe('1');
    expect(watch.stop()).toEqual([]);
  }, 30_000);

  it('a client whose server is not there yet starts unavailable, without crashing, and becomes available', async () => {
    const watch = watchProcess();
    const port = await infra.freePort();
    client = createRedisClient(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 500, maxReconnectDelayMs: 100 });
    const g = (guard = new RedisAvailability(client, { pingIntervalMs: 100 }));
    expect(g.ready).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(g.ready).toBe(false);
    server = await infra.startRedis({ port });
    await g.whenAvailable();
    expect(g.ready).toBe(true);
    expect(watch.stop()).toEqual([]);
  }, 30_000);
});

describe('redis sentinel', () => {
  let servers: SentinelSetup | undefined;
  let client: RedisClient | undefined;
  afterEach(async () => {
    if (client) await closeRedisClient(client);
    await servers?.stop();
    servers = client = undefined;
    // ioredis closes the failover detector's sentinel connections asynchronously; let them go before jest exits.
    await new Promise((r) => setTimeout(r, 1500));
  });

  it('a redis+sentinel:// URL reaches the master and the store commits and loads through it', async () => {
    servers = await startSentinel();
    client = createRedisClient(servers.url, { connectTimeoutMs: 2000 });
    const guard = new RedisAvailability(client);
    try {
      await guard.whenAvailable();
      const store = new RedisCheckpointStore(client);
      const tp = { topic: uniqueTopic('sentinel'), partition: 0 };
      const { epoch } = await store.load(tp);
      await store.commit(tp, { epoch, nextOffset: '5', clock: 5, changed: [{ rule: 'r', version: 1, key: 'k', snapshot: snap(1) }], deleted: [], alerts: [alertOf('s1')] });
      const l = await store.load(tp);
      expect(l.nextOffset).toBe('5');
      expect(await allStoredKeys(l.state!)).toHaveLength(1);
      expect(l.outboxSize).toBe(1);
      // The data is on the master the Sentinel names.
      const direct = createRedisClient(servers.master.url);
      try {
        await waitFor(() => direct.status === 'ready', 5000, 'direct client');
        expect(await direct.hget(store.keys.meta(tp), 'offset')).toBe('5');
      } finally {
        await closeRedisClient(direct);
      }
    } finally {
      guard.stop();
    }
  }, 60_000);

  it('follows a failover: unavailable, then available on the promoted replica, and the same commit succeeds', async () => {
    const watch = watchProcess();
    servers = await startSentinel({ withReplica: true });
    client = createRedisClient(servers.url, { connectTimeoutMs: 1000, commandTimeoutMs: 1000, maxReconnectDelayMs: 200 });
    const guard = new RedisAvailability(client, { pingIntervalMs: 100, pingTimeoutMs: 500 });
    try {
      await guard.whenAvailable();
      const store = new RedisCheckpointStore(client, { onUnavailable: (e) => guard.reportFailure(e) });
      const tp = { topic: uniqueTopic('failover'), partition: 0 };
      const { epoch } = await store.load(tp);
      await store.commit(tp, { epoch, nextOffset: '5', clock: 5, changed: [{ rule: 'r', version: 1, key: 'k', snapshot: snap(1) }], deleted: [], alerts: [alertOf('f1')] });
      // Make sure the replica has it before the failover (what WAIT gives a deployment that needs no loss).
      expect(await client.call('WAIT', '1', '5000')).toBe(1);

      const changes: boolean[] = [];
      guard.onChange((a) => changes.push(a));
      const admin = createRedisClient(servers.sentinel.url);
      try {
        await waitFor(() => admin.status === 'ready', 5000, 'sentinel admin');
        // Sentinel learns about the replica from the master's INFO (and refuses with NOGOODSLAVE until then).
        await waitFor(
          () =>
            admin.call('SENTINEL', 'FAILOVER', 'mymaster').then(
              (r) => r === 'OK',
              (e: unknown) => {
                if (/NOGOODSLAVE/.test(String(e))) return false;
                throw e;
              },
            ),
          20_000,
          'sentinel to accept the failover',
        );
        await waitFor(
          async () => ((await admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[])[1] === String(servers!.replica!.port),
          20_000,
          'sentinel to name the replica as master',
        );
      } finally {
        await closeRedisClient(admin);
      }
      // The client ends up on the new master, whether or not the guard saw a short outage.
      const servedBy = () =>
        client!
          .info('server')
          .then((i) => Number(/tcp_port:(\d+)/.exec(i)?.[1]))
          .catch(() => -1);
      await waitFor(async () => (await servedBy()) === servers!.replica!.port, 20_000, 'client on the new master');
      let committed = false;
      await waitFor(
        async () => {
          await guard.whenAvailable();
          committed = await store
            .commit(tp, { epoch, nextOffset: '6', clock: 6, changed: [], deleted: [], alerts: [alertOf('f2')] })
            .then(() => true)
            .catch((e: unknown) => {
              if (e instanceof CheckpointUnavailableError || /READONLY/.test(String(e))) return false;
              throw e;
            });
          return committed;
        },
        20_000,
        'a commit on the new master',
      );
      const l = await store.load(tp);
      expect(l.nextOffset).toBe('6');
      expect((await store.pendingAlerts(tp, 10)).map((a) => a.id)).toEqual(['f1', 'f2']);
      // The switch closed the old connection (unavailable) and the guard came back on the new master.
      expect(changes[0]).toBe(false);
      expect(guard.ready).toBe(true);
      expect(watch.stop()).toEqual([]);
    } finally {
      guard.stop();
    }
  }, 90_000);
});
