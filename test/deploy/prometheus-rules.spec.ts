/**
 * helm/cepheus/files/prometheus-rules.yaml — the file the chart embeds into its
 * PrometheusRule — checked by promtool (`check rules`, and `test rules` with
 * test/deploy/prometheus/alerts.test.yaml), plus coverage: every alert has a unit test
 * where it fires and one where it stays silent, and every metric it reads is one Cepheus
 * exports. Mutated copies of the file must fail promtool.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { CEPHEUS_METRICS, metricsIn } from './support/metrics';
import { CHART_DIR, requireTool, removeScratch, scratchDir } from './support/repo';

afterAll(removeScratch);

const RULES_FILE = path.join(CHART_DIR, 'files', 'prometheus-rules.yaml');
const UNIT_TESTS = path.join(__dirname, 'prometheus', 'alerts.test.yaml');

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> };
type RulesFile = { groups: { name: string; rules: Rule[] }[] };
type UnitTests = { rule_files: string[]; tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };

function promtool(...args: string[]) {
  const res = spawnSync(requireTool('promtool', 'prometheus'), args, { encoding: 'utf8' });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

const rules = YAML.parse(fs.readFileSync(RULES_FILE, 'utf8')) as RulesFile;
const alerts = rules.groups.flatMap((g) => g.rules).filter((r): r is Rule & { alert: string } => !!r.alert);

describe('Prometheus alerting rules (helm/cepheus/files/prometheus-rules.yaml)', () => {
  it('pass promtool check rules', () => {
    const res = promtool('check', 'rules', RULES_FILE);
    expect(res).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${alerts.length} rules found`) });
  });

  it('pass the promtool unit tests', () => {
    const res = promtool('test', 'rules', UNIT_TESTS);
    expect(res).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('cover the alerts the chart promises', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'CepheusConsumerLagHigh',
        'CepheusDeadLetterRateHigh',
        'CepheusDependencyDown',
        'CepheusPartialMatchesDropped',
        'CepheusProcessingLatencyHigh',
        'CepheusRuleMatched',
        'CepheusRuleReloadFailed',
      ].sort(),
    );
  });

  it('route rule matches by the rule severity and everything else by a fixed severity', () => {
    for (const a of alerts) {
      if (a.alert === 'CepheusRuleMatched') {
        // The severity label must come from the metric (the rule's severity), never be overwritten.
        expect(a.labels ?? {}).not.toHaveProperty('severity');
        expect(a.expr).toMatch(/by \([^)]*\bseverity\b/);
      } else {
        expect({ alert: a.alert, severity: a.labels?.severity }).toEqual({ alert: a.alert, severity: expect.stringMatching(/^(warning|critical)$/) });
      }
    }
  });

  it('read only metrics that Cepheus exports', () => {
    const unknown = alerts.flatMap((a) => metricsIn(a.expr).filter((m) => !CEPHEUS_METRICS.includes(m)).map((m) => `${a.alert}: ${m}`));
    expect(unknown).toEqual([]);
  });

  it('have unit tests in which every alert fires and in which it stays silent', () => {
    const tests = YAML.parse(fs.readFileSync(UNIT_TESTS, 'utf8')) as UnitTests;
    expect(tests.rule_files.map((f) => path.resolve(path.dirname(UNIT_TESTS), f))).toEqual([RULES_FILE]);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const coverage = alerts.map((a) => ({
      alert: a.alert,
      fires: cases.some((c) => c.alertname === a.alert && c.exp_alerts.length > 0),
      silent: cases.some((c) => c.alertname === a.alert && c.exp_alerts.length === 0),
    }));
    expect(coverage).toEqual(alerts.map((a) => ({ alert: a.alert, fires: true, silent: true })));
  });

  describe('a broken rules file fails promtool', () => {
    /** Copies of the rules file (mutated) and the unit tests (pointing at the copy). */
    function mutated(from: string | RegExp, to: string): { rules: string; tests: string } {
      const dir = scratchDir('prom-rules');
      const text = fs.readFileSync(RULES_FILE, 'utf8');
      const changed = text.replace(from, to);
      if (changed === text) throw new Error(`mutation did not apply: ${from}`);
      const rulesCopy = path.join(dir, 'prometheus-rules.yaml');
      fs.writeFileSync(rulesCopy, changed);
      const tests = YAML.parse(fs.readFileSync(UNIT_TESTS, 'utf8')) as UnitTests;
      tests.rule_files = ['prometheus-rules.yaml'];
      const testsCopy = path.join(dir, 'alerts.test.yaml');
      fs.writeFileSync(testsCopy, YAML.stringify(tests));
      return { rules: rulesCopy, tests: testsCopy };
    }

    it('an invalid expression fails check rules', () => {
      const m = mutated('cep_dependency_up == 0', 'cep_dependency_up == ');
      expect(promtool('check', 'rules', m.rules).status).not.toBe(0);
    });

    it("dropping the first-match arm of CepheusRuleMatched fails the unit tests (a rule's first match would not page)", () => {
      const m = mutated(/\n\s+or\n\s+\(\n\s+sum by \(namespace, job, rule, severity\) \(\n\s+cep_rule_matches_total unless cep_rule_matches_total offset 5m\n\s+\) > 0\n\s+\)/, '');
      expect(promtool('check', 'rules', m.rules).status).toBe(0);
      const res = promtool('test', 'rules', m.tests);
      expect(res.status).not.toBe(0);
      expect(res.output).toMatch(/alertname: CepheusRuleMatched/);
    });

    it('counting a partition twice fails the consumer-lag unit test', () => {
      const m = mutated('max by (namespace, job, topic, partition) (cep_kafka_consumer_lag)', 'cep_kafka_consumer_lag');
      const res = promtool('test', 'rules', m.tests);
      expect(res.status).not.toBe(0);
      expect(res.output).toMatch(/alertname: CepheusConsumerLagHigh/);
    });
  });
});
