/**
 * Persistence of the rules created over REST, with their recent versions. In memory today; Redis later
 * (issue 5), so every method is asynchronous and writes use optimistic concurrency (`expectedVersion`).
 *
 * A store keeps the newest RULE_VERSIONS_KEPT versions of each rule and drops older ones as new ones come,
 * so that a rule written again and again costs bounded memory; version numbers still only grow.
 *
 * The store keeps rule *text* (as the user sent it) rather than parsed definitions: the definition is
 * derived from the text by the same parser and schema as rule files, so a stored rule can always be shown
 * as written and re-validated.
 */

/** The textual forms accepted over REST. JSON is parsed with the YAML reader (JSON is YAML), keeping positions. */
export type StoredRuleFormat = 'yaml' | 'json' | 'cep';

/** What produced a version. */
export type RuleChange = 'create' | 'update' | 'enable' | 'disable' | 'rollback';

export interface StoredRuleVersion {
  id: string;
  /** 1, 2, 3, ... per id; never reused, also across a delete and a re-create. */
  version: number;
  /** ISO-8601. */
  createdAt: string;
  change: RuleChange;
  format: StoredRuleFormat;
  text: string;
  /** Whether this version runs. Set from the text on create/update; toggled by enable/disable. */
  enabled: boolean;
  /** For `change: 'rollback'`: the version whose text and state were restored. */
  restoredFrom?: number;
}

export type NewRuleVersion = Omit<StoredRuleVersion, 'id' | 'version' | 'createdAt'>;

/** Versions kept of each rule (REST rules in the store, file rules in the registry): the newest. */
export const RULE_VERSIONS_KEPT = 100;

/** Which versions of a rule exist. */
export interface RuleHistory {
  /** The version that created the rule (since its last delete): versions from here to `oldest` were dropped. */
  first: number;
  /** The oldest version kept. */
  oldest: number;
  /** The current version. */
  newest: number;
}

/** A page of versions, newest first: at most `limit`, those below `before` when given. */
export interface RuleVersionsQuery {
  limit: number;
  before?: number;
}

export interface RuleVersionsPage<V> {
  /** Newest first. */
  versions: V[];
  /** Whether older versions than the page's are kept (ask again with `before` = the page's last version). */
  more: boolean;
}

/** A page of `kept` (oldest first, as kept). */
export function pageOfVersions<V extends { version: number }>(kept: readonly V[], query: RuleVersionsQuery): RuleVersionsPage<V> {
  let end = kept.length;
  if (query.before !== undefined) while (end > 0 && kept[end - 1].version >= query.before) end--;
  const start = Math.max(0, end - query.limit);
  return { versions: kept.slice(start, end).reverse(), more: start > 0 };
}

/** Drops the oldest of `kept` (oldest first) past RULE_VERSIONS_KEPT, or past `keep`. */
export function dropOldVersions<V>(kept: V[], keep: number = RULE_VERSIONS_KEPT): void {
  if (kept.length > keep) kept.splice(0, kept.length - keep);
}

/** Thrown when `expectedVersion` does not match the stored current version (another writer won). */
export class RuleStoreConflictError extends Error {
  constructor(
    readonly id: string,
    readonly expected: number | null,
    readonly actual: number | null,
  ) {
    super(
      expected === null
        ? `rule '${id}' already exists (version ${actual})`
        : actual === null
          ? `rule '${id}' does not exist`
          : `rule '${id}' changed meanwhile: expected version ${expected}, found ${actual}`,
    );
    this.name = 'RuleStoreConflictError';
  }
}

export interface RuleStore {
  /** The current version of every rule that exists (not deleted), in creation order. */
  list(): Promise<StoredRuleVersion[]>;
  /** The current version of a rule, or undefined when it does not exist (never created, or deleted). */
  get(id: string): Promise<StoredRuleVersion | undefined>;
  /** A page of the kept versions of an existing rule, newest first; undefined when it does not exist. */
  versions(id: string, query: RuleVersionsQuery): Promise<(RuleVersionsPage<StoredRuleVersion> & { history: RuleHistory }) | undefined>;
  /** One kept version of an existing rule; undefined when it is not kept (dropped, never written, or before a delete). */
  version(id: string, version: number): Promise<StoredRuleVersion | undefined>;
  /**
   * Appends a version, and drops the oldest past RULE_VERSIONS_KEPT. `expectedVersion` is the current version
   * the caller based its change on, or null to create (the rule must not exist). Throws RuleStoreConflictError
   * otherwise.
   */
  append(id: string, next: NewRuleVersion, expectedVersion: number | null): Promise<StoredRuleVersion>;
  /** Deletes a rule (its history goes with it; its version numbers are not reused). */
  delete(id: string, expectedVersion: number): Promise<void>;
}
