/**
 * The Redis connection of the checkpoint store: one URL for a single node, Sentinel or Cluster (ioredis), and a
 * client that fails fast instead of queueing and never lets an ioredis error escape as an unhandled event.
 *
 * URL forms (see docs/redis.md):
 *
 *   redis://[[user]:password@]host[:port][/db]                 single node (port 6379)
 *   rediss://…                                                  single node over TLS
 *   redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/masterName[/db][?sentinelPassword=…&sentinelUsername=…]
 *                                                               Sentinel (port 26379); `sentinel://` is the same
 *   rediss+sentinel://…                                         Sentinel, TLS to the sentinels and the master
 *   redis+cluster://[[user]:password@]host[:port][,host[:port]…]
 *                                                               Cluster seed nodes (port 6379); `cluster://` is the same
 *   rediss+cluster://…                                          Cluster over TLS
 *
 * User names and passwords are percent-encoded (`p%40ss` for `p@ss`). The user and password apply to the data
 * nodes; Sentinel's own credentials go in the query.
 */
import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';

export interface RedisEndpoint {
  host: string;
  port: number;
}

interface Auth {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | ({ mode: 'single'; endpoint: RedisEndpoint; db: number } & Auth)
  | ({
      mode: 'sentinel';
      sentinels: RedisEndpoint[];
      /** The master group name Sentinel monitors. */
      name: string;
      db: number;
      sentinelUsername?: string;
      sentinelPassword?: string;
    } & Auth)
  | ({ mode: 'cluster'; nodes: RedisEndpoint[] } & Auth);

export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

const SCHEMES: Record<string, { mode: RedisTarget['mode']; tls: boolean }> = {
  redis: { mode: 'single', tls: false },
  rediss: { mode: 'single', tls: true },
  'redis+sentinel': { mode: 'sentinel', tls: false },
  sentinel: { mode: 'sentinel', tls: false },
  'rediss+sentinel': { mode: 'sentinel', tls: true },
  'redis+cluster': { mode: 'cluster', tls: false },
  cluster: { mode: 'cluster', tls: false },
  'rediss+cluster': { mode: 'cluster', tls: true },
};

const DEFAULT_PORT = { single: 6379, sentinel: 26379, cluster: 6379 } as const;

/** Hides the password: for logs and error messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)([^@/]*)@/i, (_m, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return `${scheme}${colon < 0 ? '***' : `${auth.slice(0, colon)}:***`}@`;
  });
}

function decode(part: string, what: string, url: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`bad percent-encoding in the ${what} of ${redactRedisUrl(url)}`);
  }
}

function parseHosts(list: string, defaultPort: number, url: string): RedisEndpoint[] {
  const out: RedisEndpoint[] = [];
  for (const item of list.split(',')) {
    if (item === '') throw new RedisUrlError(`empty host in ${redactRedisUrl(url)}`);
    // [v6]:port, [v6], host:port, host
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(item);
    if (!m) throw new RedisUrlError(`bad host '${item}' in ${redactRedisUrl(url)} (host, host:port or [ipv6]:port)`);
    const port = m[3] === undefined ? defaultPort : Number(m[3]);
    if (port < 1 || port > 65535) throw new RedisUrlError(`bad port ${m[3]} in ${redactRedisUrl(url)}`);
    out.push({ host: m[1] ?? m[2], port });
  }
  return out;
}

function parseDb(s: string | undefined, url: string): number {
  if (s === undefined || s === '') return 0;
  if (!/^\d{1,2}$/.test(s)) throw new RedisUrlError(`bad database number '${s}' in ${redactRedisUrl(url)}`);
  return Number(s);
}

/** Parses a Redis URL of one of the forms above; throws RedisUrlError with a redacted URL. */
export function parseRedisUrl(url: string): RedisTarget {
  const m = /^([a-z+]+):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(url.trim());
  if (!m) throw new RedisUrlError(`not a Redis URL: ${redactRedisUrl(url)}`);
  const scheme = SCHEMES[m[1].toLowerCase()];
  if (!scheme) {
    throw new RedisUrlError(`unknown scheme '${m[1]}' in ${redactRedisUrl(url)}; use ${Object.keys(SCHEMES).map((s) => `${s}://`).join(', ')}`);
  }
  const auth: Auth = { tls: scheme.tls };
  if (m[2] !== undefined) {
    const colon = m[2].indexOf(':');
    const user = colon < 0 ? m[2] : m[2].slice(0, colon);
    if (user !== '') auth.username = decode(user, 'user name', url);
    if (colon >= 0) auth.password = decode(m[2].slice(colon + 1), 'password', url);
  }
  if (m[3] === '') throw new RedisUrlError(`no host in ${redactRedisUrl(url)}`);
  const hosts = parseHosts(m[3], DEFAULT_PORT[scheme.mode], url);
  const path = (m[4] ?? '').split('/').slice(1);
  if (path.length > 0 && path[path.length - 1] === '') path.pop();
  const query = new URLSearchParams(m[5] ?? '');
  const allowed = scheme.mode === 'sentinel' ? ['sentinelUsername', 'sentinelPassword'] : [];
  for (const k of query.keys()) {
    if (!allowed.includes(k)) {
      throw new RedisUrlError(
        `unknown parameter '${k}' in ${redactRedisUrl(url)}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (none allowed)'}`,
      );
    }
  }

  switch (scheme.mode) {
    case 'single':
      if (hosts.length !== 1) throw new RedisUrlError(`a ${m[1]}:// URL has one host; use redis+cluster:// or redis+sentinel:// for several`);
      if (path.length > 1) throw new RedisUrlError(`bad path in ${redactRedisUrl(url)} (only /db)`);
      return { mode: 'single', endpoint: hosts[0], db: parseDb(path[0], url), ...auth };
    case 'sentinel': {
      if (path.length < 1 || path[0] === '') {
        throw new RedisUrlError(`${redactRedisUrl(url)} names no master: ${m[1]}://host:port,host:port/masterName[/db]`);
      }
      if (path.length > 2) throw new RedisUrlError(`bad path in ${redactRedisUrl(url)} (only /masterName[/db])`);
      const t: RedisTarget = { mode: 'sentinel', sentinels: hosts, name: decode(path[0], 'master name', url), db: parseDb(path[1], url), ...auth };
      const su = query.get('sentinelUsername');
      const sp = query.get('sentinelPassword');
      if (su !== null) t.sentinelUsername = su;
      if (sp !== null) t.sentinelPassword = sp;
      return t;
    }
    case 'cluster':
      if (path.length > 0) throw new RedisUrlError(`a cluster URL has no path (Redis Cluster has only database 0): ${redactRedisUrl(url)}`);
      return { mode: 'cluster', nodes: hosts, ...auth };
  }
}

/** Minimal structured logger (pino's `logger.warn(obj, msg)` fits). */
export interface RedisLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface RedisClientOptions {
  /** Per command (and per checkpoint script) timeout; default 5000 ms. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Longest pause between reconnect attempts; default 2000 ms. Reconnection never gives up. */
  maxReconnectDelayMs?: number;
  /** Default: the connection starts at once. */
  lazyConnect?: boolean;
  log?: RedisLog;
  /** Shown in logs and CLIENT LIST; default `cepheus`. */
  connectionName?: string;
}

export type RedisClient = Redis | Cluster;

/** Reconnect delays: 100, 200, 400, 800, 1600, then the cap (default 2000 ms); never null, so never gives up. */
export function reconnectDelay(times: number, maxMs = 2000): number {
  return Math.min(100 * 2 ** Math.max(0, Math.min(times - 1, 10)), maxMs);
}

/** Replies after which the connection should be re-established (a failover made the node a replica, …). */
const RECONNECT_ON = /^(READONLY|MASTERDOWN)\b/;

/**
 * The options every connection gets, and why:
 * - `enableOfflineQueue: false`: while disconnected a command fails at once instead of waiting in a queue, so
 *   the consumer learns immediately that Redis is down (it pauses and awaits RedisAvailability), and no stale
 *   checkpoint is sent minutes later when the connection returns.
 * - `maxRetriesPerRequest: 1`: a command in flight when the connection drops is re-sent once after reconnecting
 *   and then fails (bounded wait). Commits are idempotent, so a re-sent commit is harmless.
 * - `commandTimeout`: a hung server (not a closed socket) also fails the command within a bounded time.
 * - `retryStrategy`: reconnect forever with a capped backoff; the process never gives up on Redis.
 */
export function baseRedisOptions(opts: RedisClientOptions = {}): RedisOptions {
  return {
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    commandTimeout: opts.commandTimeoutMs ?? 5000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    enableReadyCheck: true,
    lazyConnect: opts.lazyConnect ?? false,
    connectionName: opts.connectionName ?? 'cepheus',
    retryStrategy: (times) => reconnectDelay(times, opts.maxReconnectDelayMs),
    reconnectOnError: (err) => (RECONNECT_ON.test(err.message) ? 2 : false),
  };
}

/** The ioredis options of a parsed target (exported for tests and docs). */
export function ioredisOptions(
  target: RedisTarget,
  opts: RedisClientOptions = {},
): { kind: 'redis'; options: RedisOptions } | { kind: 'cluster'; nodes: RedisEndpoint[]; options: ClusterOptions } {
  const base = baseRedisOptions(opts);
  const auth: RedisOptions = {};
  if (target.username !== undefined) auth.username = target.username;
  if (target.password !== undefined) auth.password = target.password;
  if (target.tls) auth.tls = {};
  switch (target.mode) {
    case 'single':
      return { kind: 'redis', options: { ...base, ...auth, host: target.endpoint.host, port: target.endpoint.port, db: target.db } };
    case 'sentinel':
      return {
        kind: 'redis',
        options: {
          ...base,
          ...auth,
          sentinels: target.sentinels,
          name: target.name,
          role: 'master',
          db: target.db,
          ...(target.sentinelUsername !== undefined ? { sentinelUsername: target.sentinelUsername } : {}),
          ...(target.sentinelPassword !== undefined ? { sentinelPassword: target.sentinelPassword } : {}),
          ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
          sentinelRetryStrategy: (times) => reconnectDelay(times, opts.maxReconnectDelayMs),
          // Subscribe to +switch-master so a failover is followed at once, not only after the old master drops.
          failoverDetector: true,
        },
      };
    case 'cluster': {
      const { lazyConnect, enableOfflineQueue, enableReadyCheck, retryStrategy: _unused, ...node } = base;
      void _unused;
      return {
        kind: 'cluster',
        nodes: target.nodes,
        options: {
          lazyConnect,
          enableOfflineQueue,
          enableReadyCheck,
          clusterRetryStrategy: (times) => reconnectDelay(times, opts.maxReconnectDelayMs),
          // Checkpoints always go to masters: a replica may lag behind the last commit.
          scaleReads: 'master',
          maxRedirections: 16,
          retryDelayOnFailover: 200,
          retryDelayOnClusterDown: 200,
          retryDelayOnTryAgain: 100,
          slotsRefreshTimeout: opts.connectTimeoutMs ?? 5000,
          redisOptions: { ...node, ...auth },
        },
      };
    }
  }
}

/**
 * A client for a Redis URL (or parsed target). It has an `error` listener from the start (logged, at most
 * once per distinct message per 10 s), so a connection error never becomes an unhandled `error` event that
 * would crash the process. Callers must still handle rejected command promises.
 */
export function createRedisClient(urlOrTarget: string | RedisTarget, opts: RedisClientOptions = {}): RedisClient {
  const target = typeof urlOrTarget === 'string' ? parseRedisUrl(urlOrTarget) : urlOrTarget;
  const spec = ioredisOptions(target, opts);
  const client: RedisClient = spec.kind === 'cluster' ? new Cluster(spec.nodes, spec.options) : new Redis(spec.options);
  const log = opts.log;
  const lastLogged = new Map<string, number>();
  const onError = (err: unknown, node?: string) => {
    if (!log) return;
    const message = err instanceof Error ? err.message : String(err);
    const now = Date.now();
    if ((lastLogged.get(message) ?? -Infinity) > now - 10_000) return;
    if (lastLogged.size > 100) lastLogged.clear();
    lastLogged.set(message, now);
    log.warn({ err: message, mode: target.mode, ...(node ? { node } : {}) }, 'redis connection error (reconnecting)');
  };
  client.on('error', (err: unknown) => onError(err));
  if (client instanceof Cluster) {
    client.on('node error', (err: unknown, node: string) => onError(err, node));
  }
  return client;
}

/** Closes a client: QUIT when connected (pending replies arrive), then disconnect. Never throws. */
export async function closeRedisClient(client: RedisClient, timeoutMs = 2000): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise((_r, reject) => {
        timer = setTimeout(() => reject(new Error('quit timed out')), timeoutMs);
      }),
    ]);
  } catch {
    // Not connected or not answering: just drop the connection.
  } finally {
    if (timer) clearTimeout(timer);
    // Also after a successful QUIT: only disconnect() ends a Sentinel client's failover-detector subscriptions.
    client.disconnect();
  }
}
