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
  /** Keys freed because they held only what a new key would (sweeps, eviction), per rule id, cumulative. */
  keysFreed(): Map<string, number>;
}

/** Adds `src`'s counts into `into`, key by key (per-rule counts, or one rule's per-reason counts). */
export function addCounts(into: Map<string, number>, src: ReadonlyMap<string, number>): void {
  for (const [k, n] of src) into.set(k, (into.get(k) ?? 0) + n);
}

/** Per-rule counts added up (over partitions, or over the embedded engine and the Kafka replica's). */
export function sumByRule(maps: ReadonlyArray<ReadonlyMap<string, number>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of maps) addCounts(out, m);
  return out;
}

/** Adds per-rule, per-reason counts (drops) into `into`. */
export function addByRuleAndReason(into: Map<string, Map<string, number>>, src: ReadonlyMap<string, ReadonlyMap<string, number>>): void {
  for (const [rule, byReason] of src) {
    let m = into.get(rule);
    if (!m) into.set(rule, (m = new Map()));
    addCounts(m, byReason);
  }
}

/** Per-rule, per-reason counts added up. */
export function sumByRuleAndReason(maps: ReadonlyArray<ReadonlyMap<string, ReadonlyMap<string, number>>>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const m of maps) addByRuleAndReason(out, m);
  return out;
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
