/**
 * Test-local Redis topologies started with scripts/infra: a one-node Redis Cluster (all 16384 slots on one
 * server, which still enforces Cluster's same-slot rule for scripts) and a Sentinel watching a master.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import type { RedisHandle } from '../../../scripts/infra';
import { assertInfraEnabled } from '../../support/env';
import { eventually } from '../../support/eventually';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const infra: typeof import('../../../scripts/infra') = require('../../../scripts/infra');

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  await eventually(cond, timeoutMs, what);
}

/** A cluster-enabled redis-server owning every slot; `url` is a redis+cluster:// URL. */
export async function startOneNodeCluster(): Promise<{ server: RedisHandle; url: string }> {
  assertInfraEnabled();
  const server = await infra.startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1'] });
  const admin = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: true });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitFor(async () => /cluster_state:ok/.test(String(await admin.call('CLUSTER', 'INFO'))), 10_000, 'cluster_state:ok');
  } catch (e) {
    await infra.stopInfra({ redis: server });
    throw e;
  } finally {
    admin.disconnect();
  }
  return { server, url: `redis+cluster://127.0.0.1:${server.port}` };
}

export interface SentinelSetup {
  master: RedisHandle;
  /** With `withReplica`: a replica of the master, which a failover promotes. */
  replica?: RedisHandle;
  sentinel: RedisHandle;
  url: string;
  stop(): Promise<void>;
}

/** A master (and optionally a replica) plus one Sentinel monitoring it as `mymaster`; `url` is redis+sentinel://. */
export async function startSentinel(opts: { withReplica?: boolean } = {}): Promise<SentinelSetup> {
  assertInfraEnabled();
  const master = await infra.startRedis();
  let sentinel: RedisHandle | undefined;
  let replica: RedisHandle | undefined;
  try {
    if (opts.withReplica) {
      replica = await infra.startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port), '--replica-announce-ip', '127.0.0.1'] });
      const probe = new Redis(replica.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      probe.on('error', () => undefined);
      try {
        await waitFor(async () => /master_link_status:up/.test(await probe.info('replication')), 10_000, 'replica in sync');
      } finally {
        probe.disconnect();
      }
    }
    const port = await infra.freePort();
    const dir = fs.mkdtempSync(path.join(master.dir, 'sentinel-'));
    const conf = path.join(dir, 'sentinel.conf');
    fs.writeFileSync(conf, `sentinel monitor mymaster 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds mymaster 2000\n`);
    // startRedis passes --port/--dir/--logfile…; Sentinel mode needs its (writable) config file first.
    const bin = path.join(dir, 'redis-sentinel.sh');
    fs.writeFileSync(bin, `#!/bin/sh\nexec redis-server "${conf}" --sentinel "$@"\n`, { mode: 0o755 });
    sentinel = await infra.startRedis({ port, dir, bin });
  } catch (e) {
    await infra.stopInfra({ redis: replica });
    await infra.stopInfra({ redis: master });
    throw e;
  }
  const s = sentinel;
  return {
    master,
    replica,
    sentinel: s,
    url: `redis+sentinel://127.0.0.1:${s.port}/mymaster`,
    async stop() {
      await infra.stopInfra({ redis: s });
      await infra.stopInfra({ redis: replica });
      await infra.stopInfra({ redis: master });
    },
  };
}
