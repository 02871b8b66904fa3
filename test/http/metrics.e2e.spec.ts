/**
 * GET /metrics: the documented series with the right values, counted per batch, no user keys in labels,
 * and the whole text accepted by `promtool check metrics`.
 */
import { spawnSync } from 'node:child_process';
import { json, LOGIN_RULE, loginEvents, metricValue, ndjson, startService, yaml, type RunningService } from './harness';

const REQUIRED = [
  'cep_events_received_total',
  'cep_events_rejected_total',
  'cep_events_late_total',
  'cep_rule_matches_total',
  'cep_alerts_produced_total',
  'cep_partial_matches',
  'cep_partial_matches_dropped_total',
  'cep_keys_in_memory',
  'cep_keys_freed_total',
  'cep_event_processing_duration_seconds',
  'cep_rules_loaded',
  'cep_rule_reloads_total',
  'cep_kafka_consumer_lag',
  'cep_dependency_up',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_heap_size_used_bytes',
];

describe('GET /metrics', () => {
  let svc: RunningService;
  let text: string;
  const user = 'user-with-a-secret-key';

  beforeAll(async () => {
    svc = await startService({ maxPartialMatchesPerKey: 2 });
    await svc.json('/rules', yaml(LOGIN_RULE));
    // Batch 1: five failures of one user (three partial matches dropped past 2), one bad line.
    const failures = [1, 2, 3, 4, 5].map((t) => ({ type: 'login_failed', user, ip: `ip${t}`, timestamp: t * 1000 }));
    expect((await svc.json('/events', ndjson([...failures, 'oops']))).body.rejected).toEqual([{ index: 5, reason: 'invalid_json' }]);
    // Batch 2: the success matches the two partial matches left; an event from the past is late.
    await svc.json('/events', json([{ type: 'login_succeeded', user, ip: 'x', timestamp: 10_000 }, { type: 'noise', timestamp: 500 }, { nope: 1 }]));
    // Batch 3: another user matches; a third one leaves a partial match open.
    await svc.json('/events', json([...loginEvents('other', 20_000), { type: 'login_failed', user: 'third', ip: 'y', timestamp: 30_000 }]));
    const res = await svc.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
  });
  afterAll(async () => {
    await svc.close();
  });

  it('has every documented metric', () => {
    for (const name of REQUIRED) expect([name, text.includes(`# TYPE ${name} `)]).toEqual([name, true]);
  });

  it('counts what happened', () => {
    const v = (name: string, labels: Record<string, string> = {}) => metricValue(text, name, labels);
    expect(v('cep_events_received_total', { source: 'http' })).toBe(12);
    expect(v('cep_events_rejected_total', { reason: 'invalid_json' })).toBe(1);
    expect(v('cep_events_rejected_total', { reason: 'missing_type' })).toBe(1);
    expect(v('cep_events_late_total', { source: 'http' })).toBe(1);
    expect(v('cep_rule_matches_total', { rule: 'failed-then-success', severity: 'critical' })).toBe(3);
    expect(v('cep_alerts_produced_total')).toBe(3);
    expect(v('cep_partial_matches_dropped_total', { rule: 'failed-then-success', reason: 'max_partial_matches_per_key' })).toBe(3);
    expect(v('cep_partial_matches', { rule: 'failed-then-success' })).toBe(1);
    // Three users reached the partitioned rule; far fewer than the 10,000 new keys that start a sweep.
    expect(v('cep_keys_in_memory', { rule: 'failed-then-success' })).toBe(3);
    expect(v('cep_event_processing_duration_seconds_count')).toBe(3);
    expect(v('cep_rules_loaded')).toBe(1);
    expect(v('cep_rule_reloads_total', { result: 'success' })).toBe(0);
    expect(v('cep_rule_reloads_total', { result: 'failure' })).toBe(0);
    // Embedded mode: no Kafka or Redis series.
    expect(text).not.toMatch(/^cep_dependency_up\{/m);
    expect(text).not.toMatch(/^cep_kafka_consumer_lag\{/m);
  });

  it('no label carries a user key', () => {
    expect(text).not.toContain(user);
    expect(text).not.toContain('"other"');
  });

  it('passes promtool check metrics', () => {
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error) throw new Error(`promtool is not installed (apt-get install -y prometheus): ${promtool.error.message}`);
    expect({ status: promtool.status, output: promtool.stdout + promtool.stderr }).toEqual({ status: 0, output: '' });
  });
});
