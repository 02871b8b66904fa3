import { MemoryRuleStore } from '../../adapters/memory/memory-rule-store';
import type { ServiceMetrics } from '../../core/ports/metrics';
import { RULE_VERSIONS_KEPT } from '../../core/ports/rule-store';
import { EngineHost } from '../engine/engine-host';
import { createLogger } from '../logging/logger';
import { compileRuleBody } from './rule-body';
import { RuleNotFoundError } from './rule-errors';
import { RuleRegistry, type FileRuleInput } from './rule-registry';

const metrics = { rulesLoaded: () => undefined } as unknown as ServiceMetrics;

function registry(store = new MemoryRuleStore()): RuleRegistry {
  return new RuleRegistry(new EngineHost({ maxPartialMatchesPerKey: 100 }), store, metrics, createLogger('silent'));
}

const ruleText = (id: string, description: string) => `id: ${id}\ndescription: ${description}\npattern: every a=A -> b=B\n`;

function fileRule(id: string, description: string): FileRuleInput {
  const body = compileRuleBody(ruleText(id, description), 'yaml');
  return { definition: body.definition, compiled: body.compiled, warnings: [], file: `${id}.yaml` };
}

describe('RuleRegistry versions', () => {
  it(`keeps the newest ${RULE_VERSIONS_KEPT} versions of a file rule (it kept every reload's), numbers growing`, async () => {
    const rules = registry();
    await rules.init([fileRule('f', 'd0')]);
    for (let n = 1; n <= RULE_VERSIONS_KEPT + 5; n++) await rules.setFileRules([fileRule('f', `d${n}`)]);
    const page = await rules.versions('f', { limit: 1000 });
    expect(page.versions).toHaveLength(RULE_VERSIONS_KEPT);
    expect(page.versions[0]).toMatchObject({ version: RULE_VERSIONS_KEPT + 6, change: 'file', definition: expect.objectContaining({ description: `d${RULE_VERSIONS_KEPT + 5}` }) });
    expect(page.versions[RULE_VERSIONS_KEPT - 1].version).toBe(7);
    expect(page.more).toBe(false);
    expect((await rules.versions('f', { limit: 2, before: 8 })).versions.map((v) => v.version)).toEqual([7]);
  });

  it('a PUT of the same text, format and state adds no version and returns the rule as it is', async () => {
    const rules = registry();
    await rules.init([]);
    const text = ruleText('r', 'same');
    await rules.create(text, 'yaml');
    expect(await rules.update('r', text, 'yaml')).toMatchObject({ version: 1, text });
    // Another format, or a disabled rule the text enables again, is a change.
    await rules.setEnabled('r', false);
    expect(await rules.update('r', text, 'yaml')).toMatchObject({ version: 3, enabled: true });
    expect((await rules.versions('r', { limit: 10 })).versions.map((v) => v.change)).toEqual(['update', 'disable', 'create']);
  });

  it('a rollback to a version like the current one adds no version', async () => {
    const rules = registry();
    await rules.init([]);
    await rules.create(ruleText('r', 'one'), 'yaml');
    await rules.update('r', ruleText('r', 'two'), 'yaml');
    expect(await rules.rollback('r', 1)).toMatchObject({ version: 3, description: 'one' });
    expect(await rules.rollback('r', 1)).toMatchObject({ version: 3, description: 'one' });
  });

  it('a rollback to a version no longer kept says so, and which are', async () => {
    const rules = registry(new MemoryRuleStore(undefined, 3));
    await rules.init([]);
    await rules.create(ruleText('r', 'd1'), 'yaml');
    for (let n = 2; n <= 5; n++) await rules.update('r', ruleText('r', `d${n}`), 'yaml');
    await expect(rules.rollback('r', 2)).rejects.toThrow(new RuleNotFoundError("rule 'r' no longer keeps version 2: only its last 3 versions are kept (3..5)"));
    await expect(rules.rollback('r', 9)).rejects.toThrow(new RuleNotFoundError("rule 'r' has no version 9 (versions 3..5)"));
    expect(await rules.rollback('r', 3)).toMatchObject({ version: 6, description: 'd3' });
  });

  it('a rollback to a version of the rule before it was deleted says which versions it has', async () => {
    const rules = registry();
    await rules.init([]);
    await rules.create(ruleText('r', 'd1'), 'yaml');
    await rules.remove('r');
    await rules.create(ruleText('r', 'd2'), 'yaml');
    await expect(rules.rollback('r', 1)).rejects.toThrow(new RuleNotFoundError("rule 'r' has no version 1 (versions 2..2)"));
  });
});
