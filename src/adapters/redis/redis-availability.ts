/**
 * Whether Redis is reachable right now, for the consumer: while it is not, the consumer stops committing,
 * pauses its partitions and reports not-ready; `await whenAvailable()` resumes it.
 *
 * Sources: the client's connection events (`ready` → available; `close`, `reconnecting`, `end` → unavailable),
 * a periodic PING with a timeout (catches a hung server whose socket stays open), and `reportFailure()` from
 * callers whose command failed at the connection level (RedisCheckpointStore's `onUnavailable`). A failure
 * report flips to unavailable at once; only a successful PING or a `ready` event flips back.
 *
 * It never throws from an event handler and never rejects `whenAvailable()` except on `stop()` or an abort.
 */
import type { RedisClient, RedisLog } from './redis-connection';

export interface RedisAvailabilityOptions {
  /** PING period (default 1000 ms); also the recovery check period after a failure. */
  pingIntervalMs?: number;
  /** A PING slower than this counts as unavailable (default 2000 ms). */
  pingTimeoutMs?: number;
  log?: RedisLog;
}

export type AvailabilityListener = (available: boolean, reason: string) => void;

export class RedisAvailabilityStoppedError extends Error {
  constructor() {
    super('redis availability guard stopped');
    this.name = 'RedisAvailabilityStoppedError';
  }
}

export class RedisAvailability {
  private available: boolean;
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private readonly listeners = new Set<AvailabilityListener>();
  private timer: NodeJS.Timeout | undefined;
  private pinging = false;
  private stopped = false;
  private readonly pingIntervalMs: number;
  private readonly pingTimeoutMs: number;
  private readonly detach: Array<() => void> = [];
  /** Epoch ms of the last transition to unavailable (undefined while available). */
  downSince: number | undefined;
  lastError: string | undefined;
  /** Number of transitions (either way), for tests and metrics. */
  transitions = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly options: RedisAvailabilityOptions = {},
  ) {
    this.pingIntervalMs = options.pingIntervalMs ?? 1000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 2000;
    this.available = client.status === 'ready';
    if (!this.available) this.downSince = Date.now();
    const on = (event: string, handler: (...args: unknown[]) => void) => {
      client.on(event, handler);
      this.detach.push(() => client.off(event, handler));
    };
    on('ready', () => this.set(true, 'ready'));
    on('close', () => this.set(false, 'connection closed'));
    on('reconnecting', () => this.set(false, 'reconnecting'));
    on('end', () => this.set(false, 'connection ended'));
    on('error', (err) => {
      this.lastError = err instanceof Error ? err.message : String(err);
    });
    this.schedule();
  }

  /** Whether Redis answered last (connection ready and PING ok). */
  get ready(): boolean {
    return this.available;
  }

  /** Resolves at once when available, else when it next becomes available. Rejects on stop() or abort. */
  whenAvailable(signal?: AbortSignal): Promise<void> {
    if (this.stopped) return Promise.reject(new RedisAvailabilityStoppedError());
    if (this.available) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Calls `listener(available, reason)` on every transition; returns the unsubscribe function. */
  onChange(listener: AvailabilityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A command failed at the connection level: unavailable until a PING (soon) or a `ready` says otherwise. */
  reportFailure(err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.lastError = reason;
    this.set(false, reason);
  }

  /** Runs one PING now (also what the timer does); resolves to the resulting availability. */
  async check(): Promise<boolean> {
    if (this.stopped || this.pinging) return this.available;
    this.pinging = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.ping(),
        new Promise((_r, reject) => {
          timer = setTimeout(() => reject(new Error(`PING took longer than ${this.pingTimeoutMs} ms`)), this.pingTimeoutMs);
        }),
      ]);
      // A PING answered while the client is not 'ready' (e.g. mid-reconnect) does not count.
      if (this.client.status === 'ready') this.set(true, 'ping ok');
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.set(false, `ping failed: ${this.lastError}`);
    } finally {
      if (timer) clearTimeout(timer);
      this.pinging = false;
    }
    return this.available;
  }

  /** Stops pinging, detaches from the client and rejects pending waiters. Does not close the client. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.detach) d();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new RedisAvailabilityStoppedError());
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, this.pingIntervalMs);
    this.timer.unref();
  }

  private set(available: boolean, reason: string): void {
    if (this.stopped || available === this.available) return;
    this.available = available;
    this.transitions++;
    this.downSince = available ? undefined : Date.now();
    this.options.log?.[available ? 'info' : 'warn']({ reason }, available ? 'redis available' : 'redis unavailable');
    for (const l of this.listeners) {
      try {
        l(available, reason);
      } catch {
        // A listener's failure must not break the guard or the other listeners.
      }
    }
    if (available) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.resolve();
    }
  }
}
