/**
 * The rules shipped in rules/: each one on events that should match (with the exact match records) and on
 * near misses that should not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadRuleFiles } from '../../src/adapters/files/rule-files';
import { compileRule, Engine, type CompiledRule, type MatchRecord } from '../../src/core/engine';
import type { EventRecord } from '../../src/core/expr/types';
import type { RuleDefinition } from '../../src/core/rules/rule';

const ROOT = resolve(__dirname, '..', '..');
const RULES_DIR = join(ROOT, 'rules');
const SEC = 1000;
const MIN = 60 * SEC;

let definitions: RuleDefinition[];
const compiled = new Map<string, CompiledRule>();

beforeAll(async () => {
  const loaded = await loadRuleFiles(RULES_DIR);
  expect(loaded.diagnostics).toEqual([]);
  definitions = loaded.rules;
  for (const def of definitions) compiled.set(def.id, compileRule(def));
});

/** Runs one shipped rule alone over `events`, then advances the clock to `until` when given. */
function run(id: string, events: EventRecord[], until?: number): MatchRecord[] {
  const engine = new Engine();
  engine.addRule(compiled.get(id)!);
  const out: MatchRecord[] = [];
  for (const e of events) out.push(...engine.process(e));
  if (until !== undefined) out.push(...engine.advanceTo(until));
  return out;
}

describe('the shipped rule set', () => {
  it('holds the five rules, in both forms, one file with several YAML documents, all valid and bounded in time', () => {
    expect(definitions.map((d) => [d.id, d.origin?.file?.slice(RULES_DIR.length + 1)])).toEqual(
      expect.arrayContaining([
        ['block-trade-reversal', 'block-trade-reversal.cep'],
        ['impossible-travel', 'impossible-travel.cep'],
        ['sensor-overheat', 'sensor-overheat.yaml'],
        ['brute-force-login', 'storefront.yaml'],
        ['cart-abandonment', 'storefront.yaml'],
      ]),
    );
    for (const def of definitions) {
      expect(def.enabled).toBe(true);
      expect(Object.keys(def.emit).length).toBeGreaterThan(0);
      expect(def.partitionBy).toBeDefined();
      expect(compiled.get(def.id)!.info.warnings).toEqual([]);
    }
  });
});

describe('impossible-travel', () => {
  const T = Date.parse('2024-03-10T09:00:00Z');
  const login = (user: string, country: string, t: number): EventRecord => ({
    type: 'login',
    user_id: user,
    country,
    ip: '203.0.113.7',
    timestamp: t,
  });
  const purchase = (user: string, country: string, t: number, order = 'o-1'): EventRecord => ({
    type: 'purchase',
    user_id: user,
    country,
    order_id: order,
    amount: 499.99,
    timestamp: t,
  });

  it('matches a purchase from another country within 5 minutes of a login', () => {
    const l = login('u1', 'US', T);
    const p = purchase('u1', 'FR', T + 2 * MIN);
    expect(run('impossible-travel', [l, login('u2', 'DE', T + 10 * SEC), p])).toEqual([
      {
        rule: 'impossible-travel',
        key: 'u1',
        time: T + 2 * MIN,
        events: { login: l, purchase: p },
        fields: { user: 'u1', from_country: 'US', to_country: 'FR', order_id: 'o-1', amount: 499.99 },
      },
    ]);
  });

  it('does not match a purchase from the same country', () => {
    expect(run('impossible-travel', [login('u1', 'US', T), purchase('u1', 'US', T + MIN)])).toEqual([]);
  });

  it('does not match a foreign purchase 6 minutes after the login', () => {
    expect(run('impossible-travel', [login('u1', 'US', T), purchase('u1', 'FR', T + 6 * MIN)])).toEqual([]);
  });

  it("does not match another user's foreign purchase", () => {
    expect(run('impossible-travel', [login('u1', 'US', T), purchase('u2', 'FR', T + MIN)])).toEqual([]);
  });
});

describe('brute-force-login', () => {
  const T = Date.parse('2024-03-10T02:00:00Z');
  const failed = (user: string, n: number, t: number): EventRecord => ({
    type: 'login_failed',
    user_id: user,
    ip: `10.0.0.${n}`,
    timestamp: t,
  });
  const succeeded = (user: string, t: number): EventRecord => ({ type: 'login_succeeded', user_id: user, ip: '10.0.0.99', timestamp: t });

  it('matches five failed logins and then a success within 10 minutes', () => {
    const failures = [1, 2, 3, 4, 5].map((n) => failed('alice', n, T + (n - 1) * MIN));
    const success = succeeded('alice', T + 6 * MIN);
    expect(run('brute-force-login', [...failures, success])).toEqual([
      {
        rule: 'brute-force-login',
        key: 'alice',
        time: T + 6 * MIN,
        events: { first: failures[0], failed: failures.slice(1), success },
        fields: { user: 'alice', first_failure_ip: '10.0.0.1', last_failure_ip: '10.0.0.5', success_ip: '10.0.0.99' },
      },
    ]);
  });

  it('reports a longer burst of failures once, with the last five failures before the success', () => {
    const failures = [1, 2, 3, 4, 5, 6, 7].map((n) => failed('alice', n, T + n * 30 * SEC));
    const success = succeeded('alice', T + 5 * MIN);
    const matches = run('brute-force-login', [...failures, success]);
    expect(matches).toHaveLength(1);
    expect(matches[0].events).toEqual({ first: failures[2], failed: failures.slice(3), success });
  });

  it('does not match four failures and a success', () => {
    const failures = [1, 2, 3, 4].map((n) => failed('alice', n, T + n * MIN));
    expect(run('brute-force-login', [...failures, succeeded('alice', T + 5 * MIN)])).toEqual([]);
  });

  it('does not match when the success comes more than 10 minutes after the first of five failures', () => {
    const failures = [1, 2, 3, 4, 5].map((n) => failed('alice', n, T + (n - 1) * MIN));
    expect(run('brute-force-login', [...failures, succeeded('alice', T + 10 * MIN + SEC)])).toEqual([]);
  });

  it('does not add up failures of different accounts', () => {
    const events = [
      failed('alice', 1, T),
      failed('bob', 2, T + MIN),
      failed('alice', 3, T + 2 * MIN),
      failed('bob', 4, T + 3 * MIN),
      failed('alice', 5, T + 4 * MIN),
      succeeded('alice', T + 5 * MIN),
      succeeded('bob', T + 5 * MIN),
    ];
    expect(run('brute-force-login', events)).toEqual([]);
  });
});

describe('cart-abandonment', () => {
  const T = Date.parse('2024-03-10T18:00:00Z');
  const cart: EventRecord = {
    type: 'add_to_cart',
    session_id: 's1',
    user_id: 'u1',
    sku: 'SKU-1',
    price: 19.99,
    quantity: 2,
    timestamp: T,
  };
  const otherCart: EventRecord = { ...cart, session_id: 's2', user_id: 'u2', sku: 'SKU-2', timestamp: T + 5 * MIN };
  const checkout: EventRecord = { type: 'checkout', session_id: 's2', user_id: 'u2', order_id: 'o-9', timestamp: T + 20 * MIN };

  it('matches an add-to-cart with no checkout 30 minutes later, when the clock gets there', () => {
    expect(run('cart-abandonment', [cart, otherCart, checkout], T + 60 * MIN)).toEqual([
      {
        rule: 'cart-abandonment',
        key: 's1',
        time: T + 30 * MIN,
        events: { cart },
        fields: { session: 's1', user: 'u1', sku: 'SKU-1', value: 39.98 },
      },
    ]);
  });

  it('does not match before 30 minutes have passed', () => {
    expect(run('cart-abandonment', [cart], T + 30 * MIN - 1)).toEqual([]);
  });

  it('does not match a cart checked out within 30 minutes', () => {
    expect(run('cart-abandonment', [otherCart, checkout], T + 2 * 60 * MIN)).toEqual([]);
  });
});

describe('sensor-overheat', () => {
  const T = Date.parse('2024-03-10T12:00:00Z');
  const reading = (sensor: string, temperature: number, t: number): EventRecord => ({
    type: 'reading',
    sensor_id: sensor,
    site: 'plant-a',
    temperature,
    ts: new Date(t).toISOString(),
  });

  it('matches three readings above 80 within one minute (times in ts, ISO-8601)', () => {
    const r0 = reading('s-17', 82.5, T);
    const r1 = reading('s-17', 79, T + 20 * SEC);
    const r2 = reading('s-17', 85, T + 30 * SEC);
    const r3 = reading('s-17', 91, T + 50 * SEC);
    expect(run('sensor-overheat', [r0, r1, r2, r3])).toEqual([
      {
        rule: 'sensor-overheat',
        key: 's-17',
        time: T + 50 * SEC,
        events: { first: r0, more: [r2, r3] },
        fields: { sensor: 's-17', site: 'plant-a', first_temperature: 82.5, last_temperature: 91, peak_temperature: 91 },
      },
    ]);
  });

  it('does not match three hot readings spread over more than a minute', () => {
    const events = [reading('s-18', 81, T), reading('s-18', 83, T + 40 * SEC), reading('s-18', 84, T + 70 * SEC)];
    expect(run('sensor-overheat', events)).toEqual([]);
  });

  it('does not count a reading of exactly 80, nor readings of another sensor', () => {
    const events = [
      reading('s-19', 81, T),
      reading('s-19', 80, T + 10 * SEC),
      reading('s-20', 95, T + 20 * SEC),
      reading('s-19', 82, T + 30 * SEC),
    ];
    expect(run('sensor-overheat', events)).toEqual([]);
  });
});

describe('block-trade-reversal', () => {
  const T = 10 * 60 * MIN; // 10:00:00.000 as ms of the trading day, as in the stocks dataset
  let seq = 100;
  const trade = (type: 'BUY' | 'SELL', symbol: string, volume: number, price: number, t: number): EventRecord => ({
    type,
    symbol,
    seq: seq++,
    volume,
    price,
    timestamp: t,
  });

  it('matches a block BUY followed within 2 minutes by a SELL at least 0.5% lower', () => {
    const block = trade('BUY', 'INTC', 12_000, 27.85, T);
    const small = trade('SELL', 'INTC', 300, 27.8, T + 30 * SEC);
    const sale = trade('SELL', 'INTC', 500, 27.7, T + 60 * SEC);
    expect(run('block-trade-reversal', [block, small, sale])).toEqual([
      {
        rule: 'block-trade-reversal',
        key: 'INTC',
        time: T + 60 * SEC,
        events: { block, sale },
        fields: {
          symbol: 'INTC',
          block_volume: 12_000,
          block_price: 27.85,
          sell_price: 27.7,
          drop_percent: ((27.85 - 27.7) / 27.85) * 100,
        },
      },
    ]);
  });

  it('does not match a purchase under 10,000 shares', () => {
    expect(run('block-trade-reversal', [trade('BUY', 'INTC', 9_999, 27.85, T), trade('SELL', 'INTC', 100, 27.0, T + SEC)])).toEqual([]);
  });

  it('does not match a lower sale after more than 2 minutes, or on another symbol', () => {
    const events = [
      trade('BUY', 'INTC', 20_000, 27.85, T),
      trade('SELL', 'MSFT', 100, 20.0, T + 10 * SEC),
      trade('SELL', 'INTC', 100, 27.0, T + 2 * MIN + SEC),
    ];
    expect(run('block-trade-reversal', events)).toEqual([]);
  });

  const DATASET = join(ROOT, '..', 'shared', 'datasets', 'stocks', 'time-and-sales-2008.txt.gz');
  (existsSync(DATASET) ? it : it.skip)('finds only genuine reversals in the 2008 time-and-sales day', () => {
    const events = gunzipSync(readFileSync(DATASET))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((line) => {
        // SYMBOL SEQUENCE VOLUME PRICE HH:MM:SS.mmm SIDE; the milliseconds are written without leading zeros.
        const [symbol, s, volume, price, time, side] = line.trim().split(/\s+/);
        const [h, m, rest] = time.split(':');
        const [sec, ms] = rest.split('.');
        const timestamp = ((Number(h) * 60 + Number(m)) * 60 + Number(sec)) * 1000 + Number(ms ?? 0);
        return { type: side === 'B' ? 'BUY' : 'SELL', symbol, seq: Number(s), volume: Number(volume), price: Number(price), timestamp };
      });
    expect(events).toHaveLength(224_473);
    const matches = run('block-trade-reversal', events);
    expect(matches.length).toBeGreaterThan(0);
    for (const m of matches) {
      const block = m.events.block as { symbol: string; volume: number; price: number; timestamp: number; type: string };
      const sale = m.events.sale as { symbol: string; price: number; timestamp: number; type: string };
      expect([block.type, sale.type]).toEqual(['BUY', 'SELL']);
      expect(m.key).toBe(block.symbol);
      expect(sale.symbol).toBe(block.symbol);
      expect(block.volume).toBeGreaterThanOrEqual(10_000);
      expect(sale.price).toBeLessThanOrEqual(block.price * 0.995);
      expect(sale.timestamp - block.timestamp).toBeLessThanOrEqual(2 * MIN);
      expect(m.time).toBe(sale.timestamp);
    }
  });
});
