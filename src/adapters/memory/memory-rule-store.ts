/**
 * REST-created rules and their newest RULE_VERSIONS_KEPT versions, in memory (lost on restart; Redis-backed
 * with issue 5).
 */
import {
  dropOldVersions,
  pageOfVersions,
  RULE_VERSIONS_KEPT,
  RuleStoreConflictError,
  type NewRuleVersion,
  type RuleHistory,
  type RuleStore,
  type RuleVersionsPage,
  type RuleVersionsQuery,
  type StoredRuleVersion,
} from '../../core/ports/rule-store';

interface Entry {
  /** The kept versions, oldest first. */
  versions: StoredRuleVersion[];
  /** The version that created the live incarnation. */
  first: number;
  deleted: boolean;
  /** Creation order of the live incarnation. */
  order: number;
}

export class MemoryRuleStore implements RuleStore {
  private readonly rules = new Map<string, Entry>();
  private order = 0;

  constructor(
    private readonly now: () => Date = () => new Date(),
    /** Versions kept per rule (RULE_VERSIONS_KEPT; smaller in tests). */
    private readonly keep: number = RULE_VERSIONS_KEPT,
  ) {}

  async list(): Promise<StoredRuleVersion[]> {
    return [...this.rules.values()]
      .filter((e) => !e.deleted)
      .sort((a, b) => a.order - b.order)
      .map((e) => e.versions[e.versions.length - 1]);
  }

  async get(id: string): Promise<StoredRuleVersion | undefined> {
    const e = this.live(id);
    return e ? e.versions[e.versions.length - 1] : undefined;
  }

  async versions(id: string, query: RuleVersionsQuery): Promise<(RuleVersionsPage<StoredRuleVersion> & { history: RuleHistory }) | undefined> {
    const e = this.live(id);
    if (!e) return undefined;
    const history = { first: e.first, oldest: e.versions[0].version, newest: e.versions[e.versions.length - 1].version };
    return { ...pageOfVersions(e.versions, query), history };
  }

  async version(id: string, version: number): Promise<StoredRuleVersion | undefined> {
    return this.live(id)?.versions.find((v) => v.version === version);
  }

  async append(id: string, next: NewRuleVersion, expectedVersion: number | null): Promise<StoredRuleVersion> {
    const e = this.rules.get(id);
    const current = e && !e.deleted ? e.versions[e.versions.length - 1].version : null;
    if (current !== expectedVersion) throw new RuleStoreConflictError(id, expectedVersion, current);
    const last = e ? e.versions[e.versions.length - 1].version : 0;
    const stored: StoredRuleVersion = { ...next, id, version: last + 1, createdAt: this.now().toISOString() };
    if (!e || e.deleted) {
      // A re-created rule starts a new history but never reuses a version number.
      this.rules.set(id, { versions: [stored], first: stored.version, deleted: false, order: this.order++ });
    } else {
      e.versions.push(stored);
      dropOldVersions(e.versions, this.keep);
    }
    return stored;
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    const e = this.rules.get(id);
    const current = e && !e.deleted ? e.versions[e.versions.length - 1].version : null;
    if (!e || current !== expectedVersion) throw new RuleStoreConflictError(id, expectedVersion, current);
    e.deleted = true;
    // Keep only the last version number, so a re-created rule continues after it.
    e.versions = [e.versions[e.versions.length - 1]];
  }

  private live(id: string): Entry | undefined {
    const e = this.rules.get(id);
    return e && !e.deleted ? e : undefined;
  }
}
