/**
 * Which cold keys to evict from memory (their state stays in the checkpoint store and is reloaded before an
 * event needs it; docs/redis.md "Memory"). Pure: times are the engine's activity clock (Engine.activityTime),
 * which the Kafka consumer sets to the wall clock in ms.
 */
import type { Engine, EvictableKey } from './engine';

export interface EvictionSettings {
  /** Keys idle at least this long are evicted; null: no idle eviction (only the cap). */
  idleMs: number | null;
  /**
   * Most resident keys (live and ended, partitioned rules); above it, the least recently active evictable
   * keys are evicted down to `capTarget(maxKeys)`. null: no cap.
   */
  maxKeys: number | null;
}

/**
 * Where a pass over the cap evicts down to: 10% below it, so that a partition sitting at its cap does not
 * scan and sort its keys on every batch.
 */
export function capTarget(maxKeys: number): number {
  return maxKeys - Math.floor(maxKeys / 10);
}

/**
 * The keys to evict out of `candidates` (the evictable ones), with `resident` keys in memory at activity
 * time `now`: every candidate idle for `idleMs` or more, then, while still above `maxKeys`, the least
 * recently active others (ties in candidate order) until `capTarget(maxKeys)` is reached or none is left.
 */
export function chooseEvictions(candidates: readonly EvictableKey[], resident: number, now: number, s: EvictionSettings): EvictableKey[] {
  const chosen: EvictableKey[] = [];
  const rest: EvictableKey[] = [];
  for (const c of candidates) {
    if (s.idleMs !== null && now - c.active >= s.idleMs) chosen.push(c);
    else rest.push(c);
  }
  if (s.maxKeys !== null && resident - chosen.length > s.maxKeys) {
    const need = resident - chosen.length - capTarget(s.maxKeys);
    rest.sort((a, b) => a.active - b.active);
    for (let i = 0; i < need && i < rest.length; i++) chosen.push(rest[i]);
  }
  return chosen;
}

/**
 * One partition's eviction policy: idle scans at most every `min(idleMs / 4, 30 s)` of activity time (a
 * scan visits every resident key), a pass whenever the resident keys exceed the cap.
 */
export class KeyEvictor {
  private lastScan = Number.NEGATIVE_INFINITY;

  constructor(readonly settings: EvictionSettings) {}

  private get scanEvery(): number {
    return Math.min((this.settings.idleMs ?? 0) / 4, 30_000);
  }

  /** Whether an idle scan is due at activity time `now` (a partition without batches still lets keys go). */
  scanDue(now: number): boolean {
    return this.settings.idleMs !== null && now - this.lastScan >= this.scanEvery;
  }

  /**
   * Evicts from `engine` what the policy picks at activity time `now`, except keys `held` says must stay (the
   * caller's: events of them wait in a reorder buffer). The caller runs it only when the checkpoint holds
   * every change (right after a successful commit). `force` scans even when the interval has not passed.
   * Returns the keys evicted.
   */
  run(engine: Engine, now: number, held: () => (rule: string, key: string) => boolean, force = false): EvictableKey[] {
    const resident = engine.residentKeyCount();
    const over = this.settings.maxKeys !== null && resident > this.settings.maxKeys;
    if ((!force && !over && !this.scanDue(now)) || resident === 0) return [];
    this.lastScan = now;
    const isHeld = held();
    const candidates = engine.evictableKeys().filter((c) => !isHeld(c.rule, c.key));
    const chosen = chooseEvictions(candidates, resident, now, this.settings);
    const evicted = chosen.filter((c) => engine.evictKey(c.rule, c.key));
    if (evicted.length > 0) engine.compactEvicted();
    return evicted;
  }
}
