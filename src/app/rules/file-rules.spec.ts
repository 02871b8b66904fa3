import { mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRuleFiles } from '../../adapters/files/rule-files';
import type { ServiceConfig } from '../../config/config';
import type { ServiceMetrics } from '../../core/ports/metrics';
import type { Logger } from '../logging/logger';
import { FileRuleWatcher } from './file-rules';
import type { RuleRegistry } from './rule-registry';

const RULE = 'id: r\npattern: every a=A -> b=B where timer:within(1 min)\n';

describe('FileRuleWatcher.loadInitial', () => {
  let dir: string;
  let logs: Array<[level: string, message: string, fields: Record<string, unknown>]>;
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const watcher = () => {
    const log = (level: string) => (fields: Record<string, unknown>, message: string) => logs.push([level, message, fields]);
    const logger = { error: log('error'), warn: log('warn'), info: log('info') } as unknown as Logger;
    const config = { rulesDir: dir, rulesReloadDebounceMs: 10 } as ServiceConfig;
    return new FileRuleWatcher(config, {} as RuleRegistry, { load: (path) => loadRuleFiles(path) }, {} as ServiceMetrics, logger);
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cepheus-file-rules-'));
    logs = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('skips hidden files: an editor lock file (a broken symbolic link) does not stop the startup', async () => {
    write('storefront.yaml', RULE);
    symlinkSync('user@host.1234:1700000000', join(dir, '.#storefront.yaml'));
    write('.draft.yaml', 'id: [');
    const rules = await watcher().loadInitial();
    expect(rules.map((r) => [r.definition.id, r.file])).toEqual([['r', 'storefront.yaml']]);
    expect(logs).toEqual([]);
  });

  it('accepts a directory without rule files (hidden ones do not count) as an empty set, and logs a warning naming it', async () => {
    write('.draft.yaml', RULE);
    expect(await watcher().loadInitial()).toEqual([]);
    expect(logs).toEqual([['warn', `${dir}:1:1: warning: no rule files (*.yaml, *.yml, *.cep) in this directory`, expect.objectContaining({ file: dir })]]);
  });

  it('a file refused before it is read counts in the set: removing it changes the fingerprint, so a reload drops its rules', async () => {
    // A valid b.yaml replaced by one too large to read, then removed: with only the files read in the
    // fingerprint, the set with the refused file looked like the set without it, and the removal was ignored
    // (b.yaml's rules kept running).
    write('a.yaml', RULE);
    const w = watcher();
    const withoutB = (await w.load()).fingerprint;
    write('b.yaml', '');
    truncateSync(join(dir, 'b.yaml'), 17 * 1024 * 1024);
    const refused = await w.load();
    expect(refused.errors.map((e) => e.message)).toEqual([expect.stringMatching(/too large/)]);
    expect(refused.fingerprint).not.toBe(withoutB);
    rmSync(join(dir, 'b.yaml'));
    expect((await w.load()).fingerprint).toBe(withoutB);
  });

  it('logs a warning naming a file that defines no rule, and starts', async () => {
    write('a.yaml', RULE);
    write('notes.cep', '// to do\n');
    expect((await watcher().loadInitial()).map((r) => r.definition.id)).toEqual(['r']);
    expect(logs).toEqual([['warn', `${join(dir, 'notes.cep')}:1:1: warning: this file defines no rule\n  // to do\n  ^`, expect.objectContaining({ file: join(dir, 'notes.cep') })]]);
  });
});
