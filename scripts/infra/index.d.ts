/** Types for scripts/infra/index.js (plain CommonJS, usable from TS tests). */

export interface StopOptions {
  /** SIGKILL instead of a graceful SIGTERM: simulates a crash. */
  hard?: boolean;
}

interface ServerHandle {
  port: number;
  /** Working/data dir; restart() reuses it. */
  dir: string;
  /** Pid of the server (= its process group id). Changes on restart(). */
  pid: number;
  /** The server's own log file. */
  logFile: string;
  /** Stops the server, keeps the data dir. Idempotent. */
  stop(opts?: StopOptions): Promise<void>;
  /** stop() then start again on the same port(s) with the same data dir; resolves when it answers again. */
  restart(opts?: StopOptions): Promise<void>;
}

export interface RedisHandle extends ServerHandle {
  /** e.g. redis://127.0.0.1:36379 */
  url: string;
}

export interface KafkaHandle extends ServerHandle {
  /** e.g. 127.0.0.1:39092 */
  brokers: string;
  controllerPort: number;
  /** Milliseconds the last (re)start took until kafkajs listTopics succeeded. */
  startMs?: number;
}

export interface RedisOptions {
  port?: number;
  dir?: string;
  /** Enable AOF (default false). */
  appendonly?: boolean;
  /** RDB save policy, e.g. '1 1' (default '' = off). */
  save?: string;
  /** Extra redis-server arguments. */
  args?: string[];
  /** No watchdog: the server outlives this process (infra:up). */
  detached?: boolean;
  timeoutMs?: number;
  bin?: string;
}

export interface KafkaOptions {
  port?: number;
  controllerPort?: number;
  dir?: string;
  /** Extra or overriding server.properties entries. */
  properties?: Record<string, string>;
  /** -Xmx, default '512m'. */
  heap?: string;
  detached?: boolean;
  timeoutMs?: number;
}

export interface Infra {
  kafka?: KafkaHandle;
  redis?: RedisHandle;
  env: { KAFKA_BROKERS?: string; REDIS_URL?: string };
}

export function startRedis(opts?: RedisOptions): Promise<RedisHandle>;
export function startKafka(opts?: KafkaOptions): Promise<KafkaHandle>;
/** Starts both in parallel; pass `false` to skip one. */
export function startInfra(opts?: { kafka?: KafkaOptions | false; redis?: RedisOptions | false }): Promise<Infra>;
/** Stops both and removes their temp dirs (unless keepDirs). Never throws. */
export function stopInfra(infra: Partial<Infra> | undefined, opts?: { keepDirs?: boolean }): Promise<void>;
/** Fetches the broker jars into kafkaLibsDir(version) unless already there; returns that dir. */
export function ensureKafkaJars(opts?: { version?: string }): string;
/** .cache/kafka/libs for the default version, .cache/kafka/<version>/libs for an override. */
export function kafkaLibsDir(version?: string): string;
export function freePort(): Promise<number>;
export function stopGroup(pid: number, opts?: { hard?: boolean; timeoutMs?: number }): Promise<void>;
export function groupAlive(pgid: number): boolean;
export const KAFKA_LIBS: string;
export const CACHE_DIR: string;
export const DEFAULT_KAFKA_VERSION: string;
