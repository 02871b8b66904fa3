import type { Alert } from './alert';

/**
 * Where alerts go once the engine produced them: the in-memory ring buffer today, a Kafka topic through an
 * outbox later (issue 5).
 *
 * Contract:
 * - `publish` is called in match order, one call per processed batch; an implementation keeps that order
 *   across calls (a call may start before the previous one's promise settled).
 * - The promise resolves once the alerts are durable for this sink (in memory: at once).
 * - `flush` resolves once everything published before it is durable; called on graceful shutdown.
 */
export interface AlertSink {
  publish(alerts: readonly Alert[]): Promise<void>;
  flush(): Promise<void>;
}

/** Read side of the recent alerts: `GET /alerts` and the live stream `GET /alerts/stream`. */
export interface AlertFeed {
  /** The most recent alerts, oldest first (newest last); `rule` filters by rule id; `limit` keeps the last n. */
  recent(query: { rule?: string; limit: number }): Alert[];
  /** Alerts published after the alert with this id, if it is still buffered (SSE `Last-Event-ID`). */
  after(id: string, rule?: string): Alert[] | undefined;
  /** Calls `listener` with every alert batch published from now on; returns the unsubscribe function. */
  subscribe(listener: (alerts: readonly Alert[]) => void): () => void;
  /** Upper bound of `recent()`. */
  readonly capacity: number;
}
