/**
 * The recent alerts, in memory: a bounded ring buffer (the oldest alert is overwritten once it is full) and
 * the live subscribers of `GET /alerts/stream`. It is an AlertSink, so the ingest pipeline publishes to it as
 * it will publish to the Kafka outbox.
 */
import type { Alert } from '../../core/ports/alert';
import type { AlertFeed, AlertSink } from '../../core/ports/alert-sink';

export class MemoryAlertStore implements AlertSink, AlertFeed {
  private readonly ring: Array<Alert | undefined>;
  /** Index where the next alert goes. */
  private head = 0;
  private size = 0;
  private readonly listeners = new Set<(alerts: readonly Alert[]) => void>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.ring = new Array<Alert | undefined>(capacity);
  }

  async publish(alerts: readonly Alert[]): Promise<void> {
    this.append(alerts);
  }

  /** Synchronous publish: alerts are visible to recent() and listeners when this returns. */
  append(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    const start = Math.max(0, alerts.length - this.capacity);
    for (let i = start; i < alerts.length; i++) {
      this.ring[this.head] = alerts[i];
      this.head = (this.head + 1) % this.capacity;
    }
    this.size = Math.min(this.capacity, this.size + alerts.length);
    for (const listener of this.listeners) {
      try {
        listener(alerts);
      } catch {
        // A failing subscriber (a closed stream) must not stop ingestion or the other subscribers.
      }
    }
  }

  async flush(): Promise<void> {
    // Nothing is buffered beyond memory.
  }

  recent(query: { rule?: string; limit: number }): Alert[] {
    const out: Alert[] = [];
    const limit = Math.max(0, Math.min(query.limit, this.capacity));
    // Walk from the newest backwards, then reverse: newest last.
    for (let i = 0; i < this.size && out.length < limit; i++) {
      const a = this.ring[(this.head - 1 - i + this.capacity) % this.capacity]!;
      if (query.rule === undefined || a.rule === query.rule) out.push(a);
    }
    return out.reverse();
  }

  after(id: string, rule?: string): Alert[] | undefined {
    const all = this.recent({ limit: this.capacity });
    let at = -1;
    for (let i = all.length - 1; i >= 0; i--) {
      if (all[i].id === id) {
        at = i;
        break;
      }
    }
    if (at < 0) return undefined;
    return all.slice(at + 1).filter((a) => rule === undefined || a.rule === rule);
  }

  subscribe(listener: (alerts: readonly Alert[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}
