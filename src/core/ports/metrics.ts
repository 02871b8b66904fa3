/**
 * What the application layer reports. Implemented with prom-client in src/adapters/metrics. Every call is
 * made once per batch with aggregated counts, never once per event.
 */
import type { RejectReason } from './event-batch';

export type ReloadResult = 'success' | 'failure';

/** Engine gauges and drop counters, read when metrics are scraped (not on the hot path). */
export interface EngineGaugeSource {
  /** Active partial matches per rule id. */
  partialMatches(): Map<string, number>;
  /** Keys (live or ended instances of a partitioned rule) held in memory per rule id. */
  keysInMemory(): Map<string, number>;
  /** Partial matches dropped per rule id and reason, cumulative and monotonic. */
  droppedPartialMatches(): Map<string, Map<string, number>>;
}

export interface ServiceMetrics {
  eventsReceived(source: string, count: number): void;
  eventsRejected(counts: ReadonlyMap<RejectReason, number>): void;
  eventsLate(source: string, count: number): void;
  /** Matches of one batch per (rule, severity). */
  ruleMatches(counts: ReadonlyMap<string, { severity: string; count: number }>): void;
  alertsProduced(count: number): void;
  /** Engine time of one batch. */
  batchProcessed(seconds: number): void;
  rulesLoaded(count: number): void;
  ruleReload(result: ReloadResult): void;
  /** Registers what the engine gauges are read from at scrape time. */
  setEngineSource(source: EngineGaugeSource): void;
}
