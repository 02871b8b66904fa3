/**
 * Persistence of the rules created over REST, with every version. In memory today; Redis later (issue 5),
 * so every method is asynchronous and writes use optimistic concurrency (`expectedVersion`).
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
  /** Every version of an existing rule, oldest first ([] when it does not exist). */
  versions(id: string): Promise<StoredRuleVersion[]>;
  /**
   * Appends a version. `expectedVersion` is the current version the caller based its change on, or null to
   * create (the rule must not exist). Throws RuleStoreConflictError otherwise.
   */
  append(id: string, next: NewRuleVersion, expectedVersion: number | null): Promise<StoredRuleVersion>;
  /** Deletes a rule (its history goes with it; its version numbers are not reused). */
  delete(id: string, expectedVersion: number): Promise<void>;
}
