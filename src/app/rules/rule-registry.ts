/**
 * The service's rules: those read from RULES_DIR and those written over REST, merged into the one set that
 * runs in the engine.
 *
 * - Rules from files win over REST rules with the same id: a REST rule whose id a rule file takes is kept
 *   but stops running ("shadowed") until the file rule goes away, and REST writes to an id owned by a file
 *   are refused (409). REST cannot create an id that a file already uses.
 * - Every change (a REST write, a file reload that changed a rule) compiles first, then is applied to the
 *   engine in one synchronous step, so events see the old rule set or the new one, never a mix.
 * - A changed pattern, partitionBy or event mapping starts the rule's state afresh; a change of metadata only
 *   (severity, labels, emit, description) keeps it (Engine.updateRule). Disabling a rule drops its state.
 * - Writes are serialized: one change at a time, in arrival order.
 * - A write that changes nothing (PUT of the same text, enable of an enabled rule, rollback to a version
 *   like the current one) adds no version. The newest RULE_VERSIONS_KEPT versions of each rule are kept.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { CompiledRule } from '../../core/engine';
import type { Diagnostic } from '../../core/language/diagnostics';
import type { ServiceMetrics } from '../../core/ports/metrics';
import {
  dropOldVersions,
  pageOfVersions,
  RuleStoreConflictError,
  type RuleChange,
  type RuleStore,
  type RuleVersionsPage,
  type RuleVersionsQuery,
  type StoredRuleFormat,
  type StoredRuleVersion,
} from '../../core/ports/rule-store';
import type { RuleDefinition } from '../../core/rules/rule';
import { canonicalJson } from '../common/canonical-json';
import { EngineHost, type ApplyOutcome, type RunningRule } from '../engine/engine-host';
import type { Logger } from '../logging/logger';
import { LOGGER, RULE_STORE, SERVICE_METRICS } from '../tokens';
import { compileRuleBody } from './rule-body';
import { RuleConflictError, RuleInvalidError, RuleNotFoundError, toProblem, type RuleProblem } from './rule-errors';

export type RuleStatus = 'running' | 'disabled' | 'shadowed';

/** A rule as GET /rules shows it: its definition (where it sits in its file aside) and its state. */
export interface RuleView extends Omit<RuleDefinition, 'origin'> {
  version: number;
  origin: 'file' | 'api';
  /** For file rules: the file, relative to RULES_DIR. */
  file?: string;
  status: RuleStatus;
  /** For REST rules: the text as sent, and its format. */
  format?: StoredRuleFormat;
  text?: string;
  /** When this version was written (REST) or loaded (file). */
  updatedAt: string;
  warnings: RuleProblem[];
  /** For a file rule: the REST rule with the same id that it shadows. */
  shadows?: { origin: 'api'; version: number };
}

export interface RuleVersionView {
  id: string;
  version: number;
  createdAt: string;
  change: RuleChange | 'file';
  enabled: boolean;
  format?: StoredRuleFormat;
  text?: string;
  restoredFrom?: number;
  /** For file rules: the file it was read from and the definition read. */
  file?: string;
  definition?: Omit<RuleDefinition, 'origin'>;
}

/** One valid rule of the rule files, compiled. */
export interface FileRuleInput {
  definition: RuleDefinition;
  compiled: CompiledRule;
  warnings: Diagnostic[];
  /** Display name of its file (relative to RULES_DIR). */
  file: string;
}

interface FileRuleState extends FileRuleInput {
  version: number;
  loadedAt: string;
  fingerprint: string;
}

interface ApiRuleState {
  stored: StoredRuleVersion;
  definition: RuleDefinition;
  compiled: CompiledRule;
  warnings: Diagnostic[];
}

export interface FileRulesOutcome extends ApplyOutcome {
  /** File rules whose definition changed (new version). */
  changed: string[];
  /** REST rules that a file rule now shadows. */
  shadowed: string[];
}

@Injectable()
export class RuleRegistry {
  private files = new Map<string, FileRuleState>();
  private readonly fileHistory = new Map<string, RuleVersionView[]>();
  private readonly api = new Map<string, ApiRuleState>();
  private queue: Promise<unknown> = Promise.resolve();
  private initialized = false;

  constructor(
    private readonly host: EngineHost,
    @Inject(RULE_STORE) private readonly store: RuleStore,
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Whether the initial rule set was loaded (readiness). */
  get ready(): boolean {
    return this.initialized;
  }

  /** Counts for the startup message and /health. */
  counts(): { running: number; files: number; api: number } {
    return { running: this.host.size, files: this.files.size, api: this.api.size };
  }

  /**
   * Loads the REST rules kept by the store and installs the initial file rules, as one change. A stored
   * rule that no longer compiles is logged and left out.
   */
  async init(fileRules: readonly FileRuleInput[]): Promise<void> {
    await this.exclusive(async () => {
      for (const stored of await this.store.list()) {
        try {
          const body = compileRuleBody(stored.text, stored.format);
          this.api.set(stored.id, { stored, definition: body.definition, compiled: body.compiled, warnings: body.warnings });
        } catch (e) {
          if (!(e instanceof RuleInvalidError)) throw e;
          this.logger.error({ rule: stored.id, version: stored.version, problems: e.problems }, `stored rule '${stored.id}' does not compile; it is not running`);
        }
      }
      this.replaceFileRules(fileRules, 'rules installed');
      this.initialized = true;
    });
  }

  /** Replaces the file rules (a successful reload of RULES_DIR) in one change. */
  async setFileRules(fileRules: readonly FileRuleInput[]): Promise<FileRulesOutcome> {
    return this.exclusive(async () => this.replaceFileRules(fileRules, 'file rules reloaded'));
  }

  // ------------------------------------------------------------------------------------------
  // Reads
  // ------------------------------------------------------------------------------------------

  list(): RuleView[] {
    const out: RuleView[] = [];
    for (const f of this.files.values()) out.push(this.fileView(f));
    for (const a of this.api.values()) if (!this.files.has(a.stored.id)) out.push(this.apiView(a));
    return out;
  }

  get(id: string): RuleView {
    const f = this.files.get(id);
    if (f) return this.fileView(f);
    const a = this.api.get(id);
    if (a) return this.apiView(a);
    throw notFound(id);
  }

  /** A page of a rule's kept versions, newest first. */
  async versions(id: string, query: RuleVersionsQuery): Promise<RuleVersionsPage<RuleVersionView>> {
    if (this.files.has(id)) return pageOfVersions(this.fileHistory.get(id) ?? [], query);
    const page = this.api.has(id) ? await this.store.versions(id, query) : undefined;
    if (!page) throw notFound(id);
    return { versions: page.versions.map(storedVersionView), more: page.more };
  }

  /** Checks one rule text as POST /rules would, saving nothing. Throws RuleInvalidError. */
  validate(text: string, format: StoredRuleFormat): { id: string; warnings: RuleProblem[] } {
    const body = compileRuleBody(text, format);
    return { id: body.definition.id, warnings: body.warnings.map((w) => toProblem(w, text)) };
  }

  // ------------------------------------------------------------------------------------------
  // REST writes
  // ------------------------------------------------------------------------------------------

  async create(text: string, format: StoredRuleFormat): Promise<RuleView> {
    const body = compileRuleBody(text, format);
    const id = body.definition.id;
    return this.exclusive(async () => {
      this.assertNotFileRule(id);
      const existing = this.api.get(id);
      if (existing) {
        throw new RuleConflictError(`rule '${id}' already exists (version ${existing.stored.version}); change it with PUT /rules/${id}`);
      }
      const stored = await this.append(id, { change: 'create', format, text, enabled: body.definition.enabled }, null);
      this.api.set(id, { stored, definition: body.definition, compiled: body.compiled, warnings: body.warnings });
      this.applyToEngine(`rule '${id}' created`);
      return this.get(id);
    });
  }

  async update(id: string, text: string, format: StoredRuleFormat): Promise<RuleView> {
    const body = compileRuleBody(text, format);
    if (body.definition.id !== id) {
      const { line, column, length } = body.idLoc;
      throw new RuleInvalidError([
        { severity: 'error', line, column, length, message: `the rule's id '${body.definition.id}' differs from '${id}' in the path` },
      ], text);
    }
    return this.exclusive(async () => {
      const current = this.apiRule(id);
      const next = { format, text, enabled: body.definition.enabled };
      if (sameContent(current.stored, next)) return this.get(id);
      const stored = await this.append(id, { change: 'update', ...next }, current.stored.version);
      this.api.set(id, { stored, definition: body.definition, compiled: body.compiled, warnings: body.warnings });
      this.applyToEngine(`rule '${id}' updated to version ${stored.version}`);
      return this.get(id);
    });
  }

  async remove(id: string): Promise<void> {
    await this.exclusive(async () => {
      const current = this.apiRule(id);
      try {
        await this.store.delete(id, current.stored.version);
      } catch (e) {
        throw conflict(e);
      }
      this.api.delete(id);
      this.applyToEngine(`rule '${id}' deleted`);
    });
  }

  /** Enables or disables a REST rule; a new version, unless it already is in that state. */
  async setEnabled(id: string, enabled: boolean): Promise<RuleView> {
    return this.exclusive(async () => {
      const current = this.apiRule(id);
      if (current.stored.enabled === enabled) return this.get(id);
      const { format, text } = current.stored;
      const stored = await this.append(id, { change: enabled ? 'enable' : 'disable', format, text, enabled }, current.stored.version);
      this.api.set(id, { ...current, stored });
      this.applyToEngine(`rule '${id}' ${enabled ? 'enabled' : 'disabled'}`);
      return this.get(id);
    });
  }

  /** Makes an earlier version current again, as a new version with that version's text and state. */
  async rollback(id: string, version: number): Promise<RuleView> {
    return this.exclusive(async () => {
      const current = this.apiRule(id);
      const target = await this.store.version(id, version);
      if (!target) throw await this.missingVersion(id, version);
      if (sameContent(current.stored, target)) return this.get(id);
      const body = compileRuleBody(target.text, target.format);
      const stored = await this.append(
        id,
        { change: 'rollback', format: target.format, text: target.text, enabled: target.enabled, restoredFrom: version },
        current.stored.version,
      );
      this.api.set(id, { stored, definition: body.definition, compiled: body.compiled, warnings: body.warnings });
      this.applyToEngine(`rule '${id}' rolled back to version ${version} (now version ${stored.version})`);
      return this.get(id);
    });
  }

  // ------------------------------------------------------------------------------------------
  // Internals
  // ------------------------------------------------------------------------------------------

  /** Why a REST rule has no such version: never had it, or no longer keeps it. */
  private async missingVersion(id: string, version: number): Promise<RuleNotFoundError> {
    const history = (await this.store.versions(id, { limit: 0 }))?.history;
    if (!history) return notFound(id);
    const { first, oldest, newest } = history;
    if (version >= first && version < oldest) {
      // Versions of one rule's life are consecutive: what is kept is oldest..newest.
      return new RuleNotFoundError(`rule '${id}' no longer keeps version ${version}: only its last ${newest - oldest + 1} versions are kept (${oldest}..${newest})`);
    }
    return new RuleNotFoundError(`rule '${id}' has no version ${version} (versions ${oldest}..${newest})`);
  }

  private replaceFileRules(fileRules: readonly FileRuleInput[], what: string): FileRulesOutcome {
    const now = new Date().toISOString();
    const next = new Map<string, FileRuleState>();
    const changed: string[] = [];
    for (const input of fileRules) {
      const fingerprint = definitionFingerprint(input.definition);
      const prev = this.files.get(input.definition.id);
      if (prev && prev.fingerprint === fingerprint) {
        // Unchanged: keep the running compiled rule (no engine change), note where it is now.
        next.set(prev.definition.id, { ...prev, file: input.file });
        continue;
      }
      const history = this.fileHistory.get(input.definition.id) ?? [];
      const version = (history[history.length - 1]?.version ?? 0) + 1;
      history.push({
        id: input.definition.id,
        version,
        createdAt: now,
        change: 'file',
        enabled: input.definition.enabled,
        file: input.file,
        definition: withoutOrigin(input.definition),
      });
      dropOldVersions(history);
      this.fileHistory.set(input.definition.id, history);
      next.set(input.definition.id, { ...input, version, loadedAt: now, fingerprint });
      if (prev) changed.push(input.definition.id);
    }
    const shadowed = [...next.keys()].filter((id) => this.api.has(id) && !this.files.has(id));
    for (const id of shadowed) {
      this.logger.warn({ rule: id }, `rule file ${next.get(id)!.file} defines '${id}', which exists over REST: the file rule wins, the REST rule stops running`);
    }
    this.files = next;
    const outcome = this.applyToEngine(what);
    return { ...outcome, changed, shadowed };
  }

  private desired(): RunningRule[] {
    const out: RunningRule[] = [];
    for (const f of this.files.values()) {
      if (f.definition.enabled) out.push({ id: f.definition.id, compiled: f.compiled, version: f.version, origin: 'file' });
    }
    for (const a of this.api.values()) {
      if (a.stored.enabled && !this.files.has(a.stored.id)) {
        out.push({ id: a.stored.id, compiled: a.compiled, version: a.stored.version, origin: 'api' });
      }
    }
    return out;
  }

  private applyToEngine(what: string): ApplyOutcome {
    const outcome = this.host.apply(this.desired());
    this.metrics.rulesLoaded(this.host.size);
    this.logger.info(
      { added: outcome.added, removed: outcome.removed, keptState: outcome.kept, restarted: outcome.restarted, running: this.host.size },
      what,
    );
    return outcome;
  }

  private assertNotFileRule(id: string): void {
    const f = this.files.get(id);
    if (f) {
      throw new RuleConflictError(
        `rule '${id}' is defined in rule file ${f.file}; change it there (rules from files win over REST rules with the same id)`,
      );
    }
  }

  private apiRule(id: string): ApiRuleState {
    this.assertNotFileRule(id);
    const a = this.api.get(id);
    if (!a) throw notFound(id);
    return a;
  }

  private async append(id: string, next: Parameters<RuleStore['append']>[1], expected: number | null): Promise<StoredRuleVersion> {
    try {
      return await this.store.append(id, next, expected);
    } catch (e) {
      throw conflict(e);
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private fileView(f: FileRuleState): RuleView {
    const shadowed = this.api.get(f.definition.id);
    return {
      id: f.definition.id,
      version: f.version,
      origin: 'file',
      file: f.file,
      enabled: f.definition.enabled,
      status: f.definition.enabled ? 'running' : 'disabled',
      ...viewFields(f.definition),
      updatedAt: f.loadedAt,
      warnings: f.warnings.map((w) => toProblem(w)),
      ...(shadowed ? { shadows: { origin: 'api' as const, version: shadowed.stored.version } } : {}),
    };
  }

  private apiView(a: ApiRuleState): RuleView {
    const shadowed = this.files.has(a.stored.id);
    return {
      id: a.stored.id,
      version: a.stored.version,
      origin: 'api',
      enabled: a.stored.enabled,
      status: shadowed ? 'shadowed' : a.stored.enabled ? 'running' : 'disabled',
      ...viewFields(a.definition),
      format: a.stored.format,
      text: a.stored.text,
      updatedAt: a.stored.createdAt,
      warnings: a.warnings.map((w) => toProblem(w)),
    };
  }
}

function notFound(id: string): RuleNotFoundError {
  return new RuleNotFoundError(`no rule '${id}'`);
}

function conflict(e: unknown): unknown {
  return e instanceof RuleStoreConflictError ? new RuleConflictError(e.message) : e;
}

function withoutOrigin(def: RuleDefinition): Omit<RuleDefinition, 'origin'> {
  const { origin: _origin, ...rest } = def;
  return rest;
}

function viewFields(def: RuleDefinition) {
  return {
    ...(def.description !== undefined ? { description: def.description } : {}),
    severity: def.severity,
    source: def.source,
    ...(def.partitionBy !== undefined ? { partitionBy: def.partitionBy } : {}),
    ...(def.keyedBy !== undefined ? { keyedBy: def.keyedBy } : {}),
    pattern: def.pattern,
    emit: def.emit,
    labels: def.labels,
    event: def.event,
  };
}

/** Whether a write would store what is stored already: the same text, format and state. */
function sameContent(a: Pick<StoredRuleVersion, 'format' | 'text' | 'enabled'>, b: Pick<StoredRuleVersion, 'format' | 'text' | 'enabled'>): boolean {
  return a.format === b.format && a.text === b.text && a.enabled === b.enabled;
}

function storedVersionView(v: StoredRuleVersion): RuleVersionView {
  return {
    id: v.id,
    version: v.version,
    createdAt: v.createdAt,
    change: v.change,
    enabled: v.enabled,
    format: v.format,
    text: v.text,
    ...(v.restoredFrom !== undefined ? { restoredFrom: v.restoredFrom } : {}),
  };
}

/** Identity of a definition's content, where it sits in its file aside. */
export function definitionFingerprint(def: RuleDefinition): string {
  return canonicalJson(withoutOrigin(def));
}

