/**
 * Runs a pattern over a list of events the way the conformance file describes, and reports matches in its
 * format: `at` = id of the first event whose timestamp is >= the match time, `tags` = tag → event id(s).
 */
import { Engine, MatchRecord, compileRule } from '../../src/core/engine';
import { RuleDefinition, ruleDefinition } from '../../src/core/rules/rule';

export interface TestEvent {
  type: string;
  id: string;
  timestamp: number;
  [field: string]: unknown;
}

export interface ConformanceMatch {
  at: string | null;
  tags: Record<string, string | string[]>;
}

export function ruleOf(pattern: string, extra: Partial<RuleDefinition> = {}): RuleDefinition {
  return ruleDefinition('test', pattern, extra);
}

export interface RunOptions {
  partitionBy?: string;
  startTime?: number;
  /** Advance the clock here after the last event. */
  until?: number;
  maxPartialMatchesPerKey?: number;
  emit?: Record<string, string>;
}

export function runPatternRaw(pattern: string, events: TestEvent[], opts: RunOptions = {}): MatchRecord[] {
  const rule = compileRule(ruleOf(pattern, { partitionBy: opts.partitionBy, emit: opts.emit ?? {} }));
  const engine = new Engine({ startTime: opts.startTime ?? 0, maxPartialMatchesPerKey: opts.maxPartialMatchesPerKey });
  engine.addRule(rule);
  const out: MatchRecord[] = [];
  for (const e of events) out.push(...engine.process(e));
  if (opts.until !== undefined) out.push(...engine.advanceTo(opts.until));
  return out;
}

export function toConformance(matches: MatchRecord[], events: TestEvent[]): ConformanceMatch[] {
  return matches.map((m) => {
    const at = events.find((e) => e.timestamp >= m.time)?.id ?? null;
    const tags: Record<string, string | string[]> = {};
    for (const [tag, v] of Object.entries(m.events)) {
      if (v === null) continue;
      tags[tag] = Array.isArray(v) ? v.map((e) => String(e.id)) : String(v.id);
    }
    return { at, tags };
  });
}

export function runPattern(pattern: string, events: TestEvent[], opts: RunOptions = {}): ConformanceMatch[] {
  return toConformance(runPatternRaw(pattern, events, opts), events);
}

/** Order-insensitive comparison form of a multiset of matches (duplicates kept). */
export function canonical(matches: ConformanceMatch[]): string[] {
  return matches
    .map((m) => JSON.stringify({ at: m.at, tags: Object.fromEntries(Object.entries(m.tags).sort(([a], [b]) => a.localeCompare(b))) }))
    .sort();
}

/** Builds events from a compact script: "A1 B1@2500 C1{x:1}" — type = leading letters, ids as written. */
export function events(script: string, step = 1000): TestEvent[] {
  const out: TestEvent[] = [];
  let t = 0;
  for (const token of script.trim().split(/\s+/)) {
    const m = /^([A-Za-z_]+)(\d*)(?:@(\d+))?(?:\{(.*)\})?$/.exec(token);
    if (!m) throw new Error(`bad event token ${token}`);
    t = m[3] !== undefined ? Number(m[3]) : t + step;
    const fields: Record<string, unknown> = {};
    if (m[4]) {
      for (const kv of m[4].split(',')) {
        const [k, v] = kv.split(':');
        const num = Number(v);
        fields[k] = v === 'true' ? true : v === 'false' ? false : Number.isNaN(num) ? v : num;
      }
    }
    out.push({ type: m[1], id: `${m[1]}${m[2]}`, timestamp: t, ...fields });
  }
  return out;
}
