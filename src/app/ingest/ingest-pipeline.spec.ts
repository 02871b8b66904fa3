/**
 * The ingest path without HTTP: positions given by a source (as Kafka will) make the alert ids, metrics are
 * reported once per batch, and the engine's drop counts stay monotonic across rule restarts.
 */
import pino from 'pino';
import { compileRule } from '../../core/engine';
import type { Alert } from '../../core/ports/alert';
import type { AlertSink } from '../../core/ports/alert-sink';
import type { ServiceMetrics } from '../../core/ports/metrics';
import { parseRuleText } from '../../core/rules/rule-text';
import { AlertFactory } from '../alerts/alert-factory';
import { EngineHost } from '../engine/engine-host';
import { IngestPipeline } from './ingest-pipeline';

const RULE = `id: two
partitionBy: user
pattern: every f=login_failed -> s=login_succeeded
`;

function compiled(text: string) {
  const { rules, diagnostics } = parseRuleText(text, 'test.yaml', 'yaml');
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return compileRule(rules[0]);
}

function setup(maxPartialMatchesPerKey = 100, maxEventFutureMs: number | null = null) {
  const host = new EngineHost({ maxPartialMatchesPerKey, maxEventFutureMs });
  const rule = compiled(RULE);
  host.apply([{ id: 'two', compiled: rule, version: 3, origin: 'api' }]);
  const published: Alert[][] = [];
  const sink: AlertSink = { publish: async (a) => void published.push([...a]), flush: async () => undefined };
  const calls: string[] = [];
  const metrics = new Proxy({} as ServiceMetrics, { get: (_t, name) => (...args: unknown[]) => calls.push(`${String(name)}:${JSON.stringify(args, (_k, v) => (v instanceof Map ? [...v] : v))}`) });
  const factory = new AlertFactory(host);
  const pipeline = new IngestPipeline(host, factory, sink, metrics, pino({ level: 'silent' }));
  return { host, rule, pipeline, published, calls, factory };
}

const ev = (type: string, user: string, timestamp: number) => ({ type, user, timestamp });

describe('IngestPipeline', () => {
  it('uses source positions for alert ids when the source gives them', async () => {
    const a = setup();
    await a.pipeline.ingest({ source: 't', events: [{ event: ev('login_failed', 'u', 1), position: 't/0/10' }, { event: ev('login_succeeded', 'u', 2), position: 't/0/11' }] });
    const b = setup();
    await b.pipeline.ingest({ source: 't', events: [{ event: ev('login_failed', 'u', 1), position: 't/0/10' }, { event: ev('login_succeeded', 'u', 2), position: 't/0/11' }] });
    const c = setup();
    await c.pipeline.ingest({ source: 't', events: [{ event: ev('login_failed', 'u', 1), position: 't/1/10' }, { event: ev('login_succeeded', 'u', 2), position: 't/1/11' }] });
    const d = setup();
    await d.pipeline.ingest({ source: 'http', events: [{ event: ev('login_failed', 'u', 1) }, { event: ev('login_succeeded', 'u', 2) }] });
    const id = (x: ReturnType<typeof setup>) => x.published[0][0].id;
    expect(id(a)).toBe(id(b));
    expect(id(c)).not.toBe(id(a));
    expect(id(d)).not.toBe(id(a));
    expect(a.published[0][0]).toMatchObject({ rule: 'two', key: 'u', ruleVersion: 3, severity: 'warning' });
  });

  it('reports metrics once per batch with aggregated counts', async () => {
    const { pipeline, calls } = setup();
    const result = await pipeline.ingest({
      source: 'http',
      events: [
        { event: ev('login_failed', 'u', 10) },
        { unparsable: true },
        { event: 'x' },
        { event: ev('login_failed', 'v', 5) },
        { event: ev('login_succeeded', 'u', 20) },
        { event: ev('login_succeeded', 'v', 21) },
      ],
    });
    expect(result).toEqual({
      accepted: 4,
      rejected: [
        { index: 1, reason: 'invalid_json' },
        { index: 2, reason: 'not_an_object' },
      ],
      alerts: 2,
    });
    expect(calls.filter((c) => !c.startsWith('batchProcessed'))).toEqual([
      'eventsReceived:["http",6]',
      'eventsRejected:[[["invalid_json",1],["not_an_object",1]]]',
      'eventsLate:["http",1]',
      'ruleMatches:[[["two",{"severity":"warning","count":2}]]]',
      'alertsProduced:[2]',
    ]);
    expect(calls.filter((c) => c.startsWith('batchProcessed'))).toHaveLength(1);
  });

  it('counts the keys freed in a new key\'s state per rule, kept across a restart of the rule', async () => {
    const { host, pipeline } = setup();
    // 12,000 users fail then succeed: each key is back in a new key's state, and a sweep starts after 10,000.
    const events = [];
    for (let i = 0; i < 12_000; i++) events.push({ event: ev('login_failed', `u${i}`, 2 * i) }, { event: ev('login_succeeded', `u${i}`, 2 * i + 1) });
    await pipeline.ingest({ source: 'http', events });
    const freed = host.keysFreed().get('two') ?? 0;
    expect(freed).toBeGreaterThan(5_000);
    expect(host.keysInMemory().get('two')).toBe(12_000 - freed);
    host.apply([{ id: 'two', compiled: compiled(RULE.replace('-> s=login_succeeded', '-> s=login_succeeded(user = f.user)')), version: 4, origin: 'api' }]);
    expect(host.keysFreed().get('two')).toBe(freed);
  });

  it('keeps drop counts monotonic when a rule restarts or goes', async () => {
    const { host, pipeline } = setup(1);
    await pipeline.ingest({ source: 'http', events: [1, 2, 3].map((t) => ({ event: ev('login_failed', 'u', t) })) });
    expect(host.droppedPartialMatches().get('two')?.get('max_partial_matches_per_key')).toBe(2);
    // A new pattern: a fresh runtime, whose own count starts at 0.
    host.apply([{ id: 'two', compiled: compiled(RULE.replace('-> s=login_succeeded', '-> s=login_succeeded(user = f.user)')), version: 4, origin: 'api' }]);
    await pipeline.ingest({ source: 'http', events: [4, 5].map((t) => ({ event: ev('login_failed', 'u', t) })) });
    expect(host.droppedPartialMatches().get('two')?.get('max_partial_matches_per_key')).toBe(3);
    host.apply([]);
    expect(host.droppedPartialMatches().get('two')?.get('max_partial_matches_per_key')).toBe(3);
  });

  it('refuses batches after close()', async () => {
    const { pipeline } = setup();
    pipeline.close();
    await expect(pipeline.ingest({ source: 'http', events: [] })).rejects.toThrow(/shutting down/);
  });

  it('rejects an event nested too deep and one too far in the future; neither moves the clock or costs a later match', async () => {
    const { pipeline, published, host } = setup(100, 60_000);
    const now = Date.now();
    const result = await pipeline.ingest({
      source: 'http',
      events: [
        { event: ev('login_failed', 'u', now - 1000) },
        { tooDeep: true },
        { event: ev('login_failed', 'u', now + 3_600_000) },
        { event: { ...ev('login_failed', 'u', 0), timestamp: '9999-12-31T23:59:59Z' } },
        { event: ev('login_succeeded', 'u', now - 500) },
      ],
    });
    expect(result).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, reason: 'too_deep' },
        { index: 2, reason: 'future_time' },
        { index: 3, reason: 'future_time' },
      ],
      alerts: 1,
    });
    expect(host.engine.now).toBe(now - 500);
    expect(published.flat().map((a) => a.key)).toEqual(['u']);
  });

  it('takes any time when EVENT_MAX_FUTURE is off', async () => {
    const { pipeline } = setup(100, null);
    const result = await pipeline.ingest({ source: 'http', events: [{ event: ev('login_failed', 'u', Date.now() + 86_400_000 * 365) }] });
    expect(result).toEqual({ accepted: 1, rejected: [], alerts: 0 });
  });

  it('checks the time of every rule\'s time field against EVENT_MAX_FUTURE, not only the first one found', async () => {
    const { host, pipeline } = setup(100, 60_000);
    const other = compiled('id: by-ts\npattern: every a=A\nevent:\n  timeField: ts\n');
    host.apply([...host.runningRules(), { id: 'by-ts', compiled: other, version: 1, origin: 'api' }]);
    const now = Date.now();
    const result = await pipeline.ingest({ source: 'http', events: [{ event: { type: 'A', user: 'u', timestamp: now, ts: now + 3_600_000 } }] });
    expect(result.rejected).toEqual([{ index: 0, reason: 'future_time' }]);
  });

  it('frees the keys of users whose partial matches ended (memory follows the keys with state), alerting on each', async () => {
    const { pipeline, host } = setup();
    const users = 30_000;
    let alerts = 0;
    for (let start = 0; start < users; start += 1000) {
      const events = [];
      for (let i = start; i < start + 1000; i++) events.push({ event: ev('login_failed', `user${i}`, i * 2) }, { event: ev('login_succeeded', `user${i}`, i * 2 + 1) });
      alerts += (await pipeline.ingest({ source: 'http', events })).alerts;
    }
    expect(alerts).toBe(users);
    expect(host.keysInMemory().get('two')).toBeLessThan(12_000);
  });
});
