/**
 * Owns the one Engine of the service and the set of rules running in it.
 *
 * Rule changes are applied with apply(), synchronously: JavaScript runs one batch or one rule change at a
 * time, so a batch of events always sees either the whole old rule set or the whole new one.
 */
import { Inject, Injectable } from '@nestjs/common';
import { Engine, engineLimits, type CompiledRule, type EngineLimits } from '../../core/engine';
import { addByRuleAndReason, sumByRuleAndReason, type EngineGaugeSource } from '../../core/ports/metrics';
import { SERVICE_CONFIG } from '../../config/config.module';
import type { ServiceConfig } from '../../config/config';

export type RuleOrigin = 'file' | 'api';

/** A rule as it runs: the compiled rule and the identity alerts are derived from. */
export interface RunningRule {
  id: string;
  compiled: CompiledRule;
  version: number;
  origin: RuleOrigin;
}

export interface ApplyOutcome {
  added: string[];
  removed: string[];
  /** Replaced rules that kept their state (only metadata changed). */
  kept: string[];
  /** Replaced rules that started afresh (pattern, partitionBy or event mapping changed). */
  restarted: string[];
}

@Injectable()
export class EngineHost implements EngineGaugeSource {
  readonly engine: Engine;
  private running = new Map<string, RunningRule>();
  /** Distinct event time fields of the running rules (to count late events). */
  private timeFieldList: string[] = [];
  /** Drops of rule instances that were removed or restarted, so that the totals never go back. */
  private readonly retiredDrops = new Map<string, Map<string, number>>();
  /** Told the new running set after every apply() (Kafka mode runs the rules in per-partition engines too). */
  private readonly applyListeners = new Set<(running: readonly RunningRule[]) => void>();

  /** EVENT_MAX_FUTURE: events whose time is further ahead of the wall clock are rejected; null: no bound. */
  readonly maxEventFutureMs: number | null;

  constructor(
    @Inject(SERVICE_CONFIG) config: EngineLimits & Partial<Pick<ServiceConfig, 'maxEventFutureMs'>>,
  ) {
    // No startTime: unpartitioned rules start at the first event's time, as `cepheus replay` does by default.
    // Nothing is checkpointed here, so keys holding only what a new key would are freed instead of kept.
    this.engine = new Engine({ ...engineLimits(config), reclaimFreshKeys: true });
    this.maxEventFutureMs = config.maxEventFutureMs ?? null;
  }

  /** The running rule with this id, if any. */
  rule(id: string): RunningRule | undefined {
    return this.running.get(id);
  }

  get size(): number {
    return this.running.size;
  }

  /** The running rules, in order. */
  runningRules(): RunningRule[] {
    return [...this.running.values()];
  }

  /** Calls `listener` with the running set after every apply(); returns the unsubscribe function. */
  onApply(listener: (running: readonly RunningRule[]) => void): () => void {
    this.applyListeners.add(listener);
    return () => this.applyListeners.delete(listener);
  }

  get timeFields(): readonly string[] {
    return this.timeFieldList;
  }

  /**
   * Makes `desired` (in order) the running rule set. Rules not in it stop; new ones are added in the given
   * order; a rule whose compiled form changed is replaced through Engine.updateRule, which keeps its state
   * when only metadata changed.
   */
  apply(desired: readonly RunningRule[]): ApplyOutcome {
    const outcome: ApplyOutcome = { added: [], removed: [], kept: [], restarted: [] };
    const next = new Map(desired.map((r) => [r.id, r]));
    for (const id of this.running.keys()) {
      if (!next.has(id)) {
        this.addRetired(id, this.engine.stats().dropped.get(id));
        this.engine.removeRule(id);
        outcome.removed.push(id);
      }
    }
    for (const rule of desired) {
      const current = this.running.get(rule.id);
      if (!current) {
        this.engine.addRule(rule.compiled);
        outcome.added.push(rule.id);
      } else if (current.compiled !== rule.compiled) {
        const before = this.engine.stats().dropped.get(rule.id);
        if (this.engine.updateRule(rule.compiled)) {
          outcome.kept.push(rule.id);
        } else {
          // A fresh runtime counts from zero: keep what the old one dropped.
          this.addRetired(rule.id, before);
          outcome.restarted.push(rule.id);
        }
      }
    }
    this.running = next;
    this.timeFieldList = [...new Set(desired.map((r) => r.compiled.definition.event.timeField))];
    for (const listener of this.applyListeners) listener(desired);
    return outcome;
  }

  partialMatches(): Map<string, number> {
    return this.engine.stats().partialMatches;
  }

  keysInMemory(): Map<string, number> {
    return this.engine.residentKeysByRule();
  }

  droppedPartialMatches(): Map<string, Map<string, number>> {
    return sumByRuleAndReason([this.retiredDrops, this.engine.stats().dropped]);
  }

  keysFreed(): Map<string, number> {
    return this.engine.reclaimedKeysByRule();
  }

  private addRetired(id: string, counts: ReadonlyMap<string, number> | undefined): void {
    if (!counts || counts.size === 0) return;
    addByRuleAndReason(this.retiredDrops, new Map([[id, counts]]));
  }
}
