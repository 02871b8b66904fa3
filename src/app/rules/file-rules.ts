/**
 * Rules from RULES_DIR: loaded at startup (an invalid set stops the startup), then watched. Changes are
 * debounced (RULES_RELOAD_DEBOUNCE_MS) and reloaded as a whole set: a set with any error keeps the previous
 * rules running, is counted as a failed reload (cep_rule_reloads_total{result="failure"}) and its errors are
 * logged, one log line per problem.
 *
 * Watching uses fs.watch on the directory (which also sees Kubernetes ConfigMap updates, done by swapping a
 * `..data` symlink) plus a cheap stat poll every few seconds as a fallback for file systems without change
 * notification.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, relative } from 'node:path';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { compileRule } from '../../core/engine';
import { formatDiagnostic, RuleError, type Diagnostic } from '../../core/language/diagnostics';
import type { ServiceMetrics } from '../../core/ports/metrics';
import type { RuleFileReader } from '../../core/ports/rule-files';
import { fileDiagnostic, isRuleFileName } from '../../core/rules/rule-text';
import type { ServiceConfig } from '../../config/config';
import { SERVICE_CONFIG } from '../../config/config.module';
import type { Logger } from '../logging/logger';
import { LOGGER, RULE_FILES, SERVICE_METRICS } from '../tokens';
import { RuleRegistry, type FileRuleInput } from './rule-registry';

export interface FileRuleSet {
  rules: FileRuleInput[];
  errors: Diagnostic[];
  warnings: Diagnostic[];
  sources: Map<string, string>;
  /** Identity of the files' names and contents. */
  fingerprint: string;
}

export type ReloadOutcome = 'success' | 'failure' | 'unchanged';

/** The initial rule files are invalid: the service does not start. */
export class RuleFilesInvalidError extends Error {
  constructor(
    readonly dir: string,
    readonly errors: Diagnostic[],
  ) {
    super(`${errors.length} error${errors.length === 1 ? '' : 's'} in the rule files of ${dir}; the service does not start`);
    this.name = 'RuleFilesInvalidError';
  }
}

/** How often the fallback poll compares the rule files' names, sizes and modification times. */
export const POLL_INTERVAL_MS = 5000;

@Injectable()
export class FileRuleWatcher implements OnModuleDestroy {
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private statSignature = '';
  private lastAttempt = '';
  private reloading: Promise<ReloadOutcome> | undefined;
  private again = false;
  private stopped = false;
  private readonly dir: string | null;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly registry: RuleRegistry,
    @Inject(RULE_FILES) private readonly reader: RuleFileReader,
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.dir = config.rulesDir;
  }

  /** The initial set, logged; throws RuleFilesInvalidError when it has errors. */
  async loadInitial(): Promise<FileRuleInput[]> {
    if (this.dir === null) return [];
    const set = await this.load();
    this.logProblems(set);
    this.lastAttempt = set.fingerprint;
    this.statSignature = await this.signature();
    if (set.errors.length > 0) throw new RuleFilesInvalidError(this.dir, set.errors);
    return set.rules;
  }

  /** Starts watching RULES_DIR for changes. */
  start(): void {
    if (this.dir === null || this.stopped) return;
    const dir = this.dir;
    void stat(dir).then(
      (st) => {
        if (this.stopped) return;
        const watched = st.isDirectory() ? dir : dirname(dir);
        try {
          this.watcher = watch(watched, { persistent: false }, () => this.schedule());
          this.watcher.on('error', (e) => {
            this.logger.warn({ err: e, dir: watched }, 'watching the rules directory failed; falling back to polling');
            this.watcher?.close();
            this.watcher = undefined;
          });
        } catch (e) {
          this.logger.warn({ err: e, dir: watched }, 'cannot watch the rules directory; polling it instead');
        }
      },
      () => undefined,
    );
    this.poller = setInterval(() => void this.poll(), POLL_INTERVAL_MS);
    this.poller.unref();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
    this.poller = this.debounce = undefined;
  }

  onModuleDestroy(): void {
    this.stop();
  }

  /** Resolves when the reload in progress (if any) is done. */
  async settled(): Promise<void> {
    while (this.reloading) await this.reloading;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reload();
    }, this.config.rulesReloadDebounceMs);
    this.debounce.unref();
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.reloading) return;
    const sig = await this.signature();
    if (sig !== this.statSignature) this.schedule();
  }

  /**
   * Reads and compiles the whole set; applies it when valid. A set identical to the last one tried is not
   * reloaded again.
   */
  reload(): Promise<ReloadOutcome> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    const run = (async (): Promise<ReloadOutcome> => {
      let outcome: ReloadOutcome = 'unchanged';
      do {
        this.again = false;
        if (this.stopped || this.dir === null) break;
        outcome = await this.reloadOnce();
      } while (this.again);
      return outcome;
    })().finally(() => {
      this.reloading = undefined;
    });
    this.reloading = run;
    return run;
  }

  private async reloadOnce(): Promise<ReloadOutcome> {
    this.statSignature = await this.signature();
    let set: FileRuleSet;
    try {
      set = await this.load();
    } catch (e) {
      this.logger.error({ err: e, dir: this.dir }, 'reading the rule files failed; the previous rules keep running');
      this.metrics.ruleReload('failure');
      return 'failure';
    }
    if (set.fingerprint === this.lastAttempt) return 'unchanged';
    this.lastAttempt = set.fingerprint;
    if (set.errors.length > 0) {
      this.logProblems(set);
      this.metrics.ruleReload('failure');
      this.logger.error(
        { dir: this.dir, errors: set.errors.length, result: 'failure' },
        `rule reload failed with ${set.errors.length} error${set.errors.length === 1 ? '' : 's'}; the previous rules keep running`,
      );
      return 'failure';
    }
    if (this.stopped) return 'unchanged';
    this.logProblems(set);
    const outcome = await this.registry.setFileRules(set.rules);
    this.metrics.ruleReload('success');
    this.logger.info(
      {
        dir: this.dir,
        result: 'success',
        fileRules: set.rules.length,
        added: outcome.added,
        removed: outcome.removed,
        changed: outcome.changed,
        keptState: outcome.kept,
        restarted: outcome.restarted,
      },
      `rules reloaded from ${this.dir}: ${set.rules.length} file rule${set.rules.length === 1 ? '' : 's'}`,
    );
    return 'success';
  }

  /** Reads and compiles every rule file; problems are returned, never thrown. */
  async load(): Promise<FileRuleSet> {
    const dir = this.dir;
    const empty: FileRuleSet = { rules: [], errors: [], warnings: [], sources: new Map(), fingerprint: 'empty' };
    if (dir === null) return empty;
    const info = await stat(dir).catch(() => undefined);
    if (!info) {
      return { ...empty, errors: [fileDiagnostic(dir, 'the rules directory does not exist (any more)')], fingerprint: 'missing' };
    }
    const loaded = await this.reader.load(dir);
    const display = (file: string) => (info.isDirectory() ? relative(dir, file) : basename(file));
    const errors: Diagnostic[] = [];
    const warnings: Diagnostic[] = [];
    for (const d of loaded.diagnostics) (d.severity === 'error' ? errors : warnings).push(d);
    const rules: FileRuleInput[] = [];
    for (const definition of loaded.rules) {
      const file = definition.origin?.file ?? dir;
      const inFile = (d: Diagnostic): Diagnostic => ({ ...d, file: d.file ?? file });
      try {
        const compiled = compileRule(definition);
        const ruleWarnings = compiled.info.warnings.map(inFile);
        warnings.push(...ruleWarnings);
        rules.push({ definition, compiled, warnings: ruleWarnings, file: display(file) });
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        for (const d of e.diagnostics.map(inFile)) (d.severity === 'error' ? errors : warnings).push(d);
      }
    }
    const order = new Map(loaded.files.map((f, i) => [f, i]));
    const byFile = (a: Diagnostic, b: Diagnostic) =>
      (order.get(a.file ?? '') ?? -1) - (order.get(b.file ?? '') ?? -1) || a.line - b.line || a.column - b.column;
    errors.sort(byFile);
    warnings.sort(byFile);
    const hash = createHash('sha256');
    for (const file of loaded.files) hash.update(`${file}\u0000${loaded.sources.get(file) ?? ''}\u0000`);
    // A file refused before it was read (too large, not a regular file, unreadable) is in no source: its error
    // stands for it, so that removing it changes the set and reloads.
    for (const d of errors) hash.update(`\u0001${d.file ?? ''}:${d.line}:${d.column}:${d.message}\u0000`);
    return { rules, errors, warnings, sources: loaded.sources, fingerprint: hash.digest('hex') };
  }

  private logProblems(set: FileRuleSet): void {
    for (const d of [...set.errors, ...set.warnings]) {
      const text = formatDiagnostic(d, d.file ? set.sources.get(d.file) : undefined);
      const fields = { file: d.file, line: d.line, column: d.column, diagnostic: d.message };
      if (d.severity === 'error') this.logger.error(fields, text);
      else this.logger.warn(fields, text);
    }
  }

  /** Names, sizes and modification times of the rule files (what the fallback poll compares). */
  private async signature(): Promise<string> {
    const dir = this.dir;
    if (dir === null) return '';
    try {
      const info = await stat(dir);
      const files = info.isDirectory() ? (await readdir(dir)).filter(isRuleFileName).sort() : [''];
      const parts: string[] = [];
      for (const name of files) {
        const path = name === '' ? dir : `${dir}/${name}`;
        const st = await stat(path).catch(() => undefined);
        parts.push(`${name}:${st?.size ?? -1}:${st?.mtimeMs ?? -1}`);
      }
      return parts.join('|');
    } catch {
      return 'missing';
    }
  }
}
