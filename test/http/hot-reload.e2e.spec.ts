/**
 * RULES_DIR is watched: changes are picked up while running (debounced); an invalid set keeps the previous
 * rules, counts a failed reload and logs its errors; file rules win over REST rules with the same id.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, json, LOGIN_RULE, loginEvents, metricValue, startService, tempDir, yaml, type RunningService } from './harness';

const ruleA = LOGIN_RULE.replace('failed-then-success', 'rule-a');
const ruleB = `id: rule-b
severity: warning
partitionBy: host
pattern: every d=disk_full -> r=restart(host = d.host)
emit:
  host: d.host
`;

// fs.watch normally reports a change within milliseconds; the waits allow for the 5 s stat poll fallback.
jest.setTimeout(90_000);

describe('hot reload of RULES_DIR', () => {
  let svc: RunningService;
  let files: ReturnType<typeof tempDir>;
  const reloads = async (result: 'success' | 'failure') =>
    metricValue(await (await svc.request('/metrics')).text(), 'cep_rule_reloads_total', { result });
  const ids = async () => ((await svc.json('/rules')).body as Array<{ id: string }>).map((r) => r.id);

  beforeEach(async () => {
    files = tempDir({ 'a.yaml': ruleA });
    svc = await startService({ rulesDir: files.dir, rulesReloadDebounceMs: 50 });
  });
  afterEach(async () => {
    await svc.close();
    files.cleanup();
  });

  it('picks up a new file, keeps the rules of an invalid set, and applies the fix', async () => {
    expect(await ids()).toEqual(['rule-a']);
    expect(await reloads('success')).toBe(0);

    files.write('b.yaml', ruleB);
    await eventually(async () => (await ids()).includes('rule-b'), 15_000, 'rule-b to load');
    expect(await reloads('success')).toBe(1);

    // Broken: rule-a's pattern does not parse, and b has an unknown key.
    files.write('a.yaml', ruleA.replace('-> s=login_succeeded', '-> s=login_succeeded('));
    files.write('b.yaml', ruleB.replace('severity:', 'severty:'));
    await eventually(async () => (await reloads('failure')) === 1, 15_000, 'a failed reload');
    expect(await ids()).toEqual(['rule-a', 'rule-b']);
    const errors = svc.logs.filter((l) => l.level === 'error' && typeof l.file === 'string');
    expect(errors.map((l) => [l.file, l.line, l.column])).toEqual(
      expect.arrayContaining([
        [join(files.dir, 'a.yaml'), 4, 52],
        [join(files.dir, 'b.yaml'), 2, 1],
      ]),
    );
    expect(errors.find((l) => String(l.file).endsWith('b.yaml'))!.msg).toMatch(/b\.yaml:2:1: unknown key 'severty'/);
    expect(svc.logs.some((l) => l.level === 'error' && /rule reload failed with 2 errors; the previous rules keep running/.test(l.msg))).toBe(true);
    // The previous rules still match.
    await svc.json('/events', json(loginEvents('u1', 1000)));
    expect((await svc.json('/alerts?rule=rule-a')).body).toHaveLength(1);

    // Fixed, with a metadata change to rule-b: a new version.
    files.write('a.yaml', ruleA);
    files.write('b.yaml', ruleB.replace('severity: warning', 'severity: critical'));
    await eventually(async () => (await svc.json('/rules/rule-b')).body.severity === 'critical', 15_000, 'the fix');
    expect(await reloads('success')).toBe(2);
    expect((await svc.json('/rules/rule-b')).body.version).toBe(2);
    expect((await svc.json('/rules/rule-a')).body.version).toBe(1);

    rmSync(join(files.dir, 'b.yaml'));
    await eventually(async () => !(await ids()).includes('rule-b'), 15_000, 'rule-b to go');
    expect(await reloads('success')).toBe(3);
  });

  it('a metadata change in a file keeps the rule state; a pattern change restarts it', async () => {
    await svc.json('/events', json([{ type: 'login_failed', user: 'k', ip: '1', timestamp: 1000 }]));
    files.write('a.yaml', ruleA.replace('severity: critical', 'severity: info'));
    await eventually(async () => (await svc.json('/rules/rule-a')).body.severity === 'info', 15_000, 'the reload');
    await svc.json('/events', json([{ type: 'login_succeeded', user: 'k', ip: '2', timestamp: 2000 }]));
    const alerts = (await svc.json('/alerts')).body;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: 'rule-a', severity: 'info', ruleVersion: 2 });

    await svc.json('/events', json([{ type: 'login_failed', user: 'm', ip: '1', timestamp: 3000 }]));
    files.write('a.yaml', ruleA.replace('-> s=login_succeeded', '-> s=login_succeeded(ip != f.ip)'));
    await eventually(async () => (await svc.json('/rules/rule-a')).body.version === 3, 15_000, 'the pattern change');
    await svc.json('/events', json([{ type: 'login_succeeded', user: 'm', ip: '2', timestamp: 4000 }]));
    expect((await svc.json('/alerts')).body).toHaveLength(1);
  });

  it('a file rule wins over a REST rule with the same id, which comes back when the file rule goes', async () => {
    const rest = LOGIN_RULE.replace('failed-then-success', 'shared').replace('severity: critical', 'severity: info');
    expect((await svc.json('/rules', yaml(rest))).status).toBe(201);
    files.write('shared.yaml', LOGIN_RULE.replace('failed-then-success', 'shared'));
    await eventually(async () => (await svc.json('/rules/shared')).body.origin === 'file', 15_000, 'the file rule');
    const shown = (await svc.json('/rules/shared')).body;
    expect(shown).toMatchObject({ origin: 'file', severity: 'critical', shadows: { origin: 'api', version: 1 } });
    expect((await svc.json('/rules')).body.filter((r: { id: string }) => r.id === 'shared')).toHaveLength(1);
    await svc.json('/events', json(loginEvents('z', 1000)));
    expect((await svc.json('/alerts?rule=shared')).body.map((a: { severity: string }) => a.severity)).toEqual(['critical']);

    rmSync(join(files.dir, 'shared.yaml'));
    await eventually(async () => (await svc.json('/rules/shared')).body.origin === 'api', 15_000, 'the REST rule to return');
    expect((await svc.json('/rules/shared')).body).toMatchObject({ status: 'running', severity: 'info', version: 1 });
  });
});
