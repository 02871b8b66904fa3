/**
 * Which topics Cepheus reads for a set of rules, and how.
 *
 * Per-key correctness needs every event of a key in one partition, read by one engine. For each enabled
 * rule on source topic S:
 *
 * - partitioned by P, and S is keyed by P (`keyedBy: P` on the rule or on the source's settings): the rule
 *   reads S directly, one engine per partition of S ("direct");
 * - S has a single partition: the rule reads S directly (every key is in that partition already);
 * - partitioned by P otherwise: S is repartitioned by P, as Kafka Streams does: its records are re-produced,
 *   keyed by P, to an internal topic with as many partitions as S, and the rule reads that topic;
 * - not partitioned: it needs every event of S in one engine, so a multi-partition S is repartitioned to a
 *   one-partition internal topic.
 *
 * Each topic is read once, whatever the number of rules: a source topic's records are validated once,
 * re-produced once per repartition target, and offered once to the engine of its partition (which runs
 * every direct rule of the topic).
 */
import type { RuleDefinition } from '../rules/rule';
import { settingsFor, type SourceSettingsTable, type StreamSettings } from './settings';

/** Where a source's events are re-produced: keyed by `field` (null: the one partition of a global topic). */
export interface RepartitionTarget {
  field: string | null;
  topic: string;
  partitions: number;
}

export interface SourcePlan {
  topic: string;
  settings: StreamSettings;
  /** Every rule reading the source, directly or through a repartition topic (validation of its records). */
  rules: string[];
  /** The rules reading the source topic directly (its partitions' engines); may be empty. */
  direct: string[];
  targets: RepartitionTarget[];
}

export interface StreamPlan {
  /** The topic whose partitions each run one engine: a source topic, or an internal repartition topic. */
  topic: string;
  source: string;
  kind: 'direct' | 'repartitioned';
  /** For repartition topics: the key field (null: global). */
  field: string | null;
  rules: string[];
  settings: StreamSettings;
  /** Partitions of the source topic (a repartition topic's partitions merge all of them). */
  sourcePartitions: number;
}

export interface Topology {
  sources: Map<string, SourcePlan>;
  /** By topic; a source topic with direct rules is also a stream. */
  streams: Map<string, StreamPlan>;
  /** Internal topics to create, with their partition counts. */
  internal: RepartitionTarget[];
  /** Source topics that do not exist (yet): their rules do not run until they do. */
  missing: string[];
}

export type RuleInfo = Pick<RuleDefinition, 'id' | 'source' | 'partitionBy' | 'keyedBy'>;

const TOPIC_MAX = 249;

/**
 * The internal topic a source is repartitioned to: `<groupId>-<source>-by-<field>-repartition`, or
 * `<groupId>-<source>-global-repartition`. A field that is not a valid topic name fragment, or a name past
 * Kafka's 249 characters, is replaced by a hash.
 */
export function repartitionTopic(groupId: string, source: string, field: string | null, hash: (s: string) => string): string {
  const part = field === null ? 'global' : /^[A-Za-z0-9._-]+$/.test(field) ? `by-${field}` : `by-${hash(field).slice(0, 12)}`;
  const name = `${groupId}-${source}-${part}-repartition`;
  if (name.length <= TOPIC_MAX) return name;
  return `${groupId.slice(0, 100)}-${hash(JSON.stringify([groupId, source, field])).slice(0, 24)}-repartition`;
}

export interface PlanOptions {
  groupId: string;
  settings?: SourceSettingsTable;
  /** Partition counts of the existing source topics; a source not in it is missing. */
  partitions: ReadonlyMap<string, number>;
  /** A stable hash (hex) for topic names. */
  hash: (s: string) => string;
}

export function planTopology(rules: readonly RuleInfo[], options: PlanOptions): Topology {
  const sources = new Map<string, SourcePlan>();
  const streams = new Map<string, StreamPlan>();
  const internal = new Map<string, RepartitionTarget>();
  const missing = new Set<string>();

  for (const rule of rules) {
    const count = options.partitions.get(rule.source);
    if (count === undefined) {
      missing.add(rule.source);
      continue;
    }
    const settings = settingsFor(options.settings, rule.source);
    let src = sources.get(rule.source);
    if (!src) {
      src = { topic: rule.source, settings, rules: [], direct: [], targets: [] };
      sources.set(rule.source, src);
    }
    src.rules.push(rule.id);

    const keyedBy = rule.keyedBy ?? settings.keyedBy;
    // A one-partition topic has every key (and every event) in one partition already.
    const direct = count === 1 || (rule.partitionBy !== undefined && keyedBy === rule.partitionBy);
    if (direct) {
      src.direct.push(rule.id);
      let s = streams.get(rule.source);
      if (!s) {
        s = { topic: rule.source, source: rule.source, kind: 'direct', field: null, rules: [], settings, sourcePartitions: count };
        streams.set(rule.source, s);
      }
      s.rules.push(rule.id);
      continue;
    }
    const field = rule.partitionBy ?? null;
    const topic = repartitionTopic(options.groupId, rule.source, field, options.hash);
    let target = src.targets.find((t) => t.topic === topic);
    if (!target) {
      target = { field, topic, partitions: field === null ? 1 : count };
      src.targets.push(target);
      internal.set(topic, target);
    }
    let s = streams.get(topic);
    if (!s) {
      s = { topic, source: rule.source, kind: 'repartitioned', field, rules: [], settings, sourcePartitions: count };
      streams.set(topic, s);
    }
    s.rules.push(rule.id);
  }
  return { sources, streams, internal: [...internal.values()], missing: [...missing] };
}

/** Every topic the consumer group subscribes to: the sources and the internal topics. */
export function subscribedTopics(t: Topology): string[] {
  return [...new Set([...t.sources.keys(), ...t.internal.map((i) => i.topic)])].sort();
}

/** The field a source topic's records are keyed by, as its rules and settings declare it (`keyedBy`). */
export type DeclaredKey = { field: string | null } | { conflict: Array<{ rule: string; field: string }> };

/**
 * What a producer writing to `topic` must key its records by to keep the promise its rules rely on:
 * `keyedBy` of each rule on the topic, else of the topic's settings. None declared: no key is needed (the
 * rules repartition the topic or read one partition). Two different fields: no producer can satisfy both.
 */
export function declaredKeyField(rules: readonly RuleInfo[], settings: SourceSettingsTable | undefined, topic: string): DeclaredKey {
  const topicDefault = settingsFor(settings, topic).keyedBy;
  const declared: Array<{ rule: string; field: string }> = [];
  for (const r of rules) {
    if (r.source !== topic) continue;
    const field = r.keyedBy ?? topicDefault;
    if (field !== undefined) declared.push({ rule: r.id, field });
  }
  const fields = new Set(declared.map((d) => d.field));
  if (fields.size > 1) return { conflict: declared };
  return { field: fields.size === 1 ? declared[0].field : null };
}
