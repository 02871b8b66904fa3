/**
 * The service and `bin/cepheus replay` run the same engine: the same rules and events give identical
 * matches, in the same order, whether the events go through POST /events (in batches of every form) or
 * through the command line.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, json, ndjson, ROOT, startService, tempDir } from './harness';
import { mulberry32 } from '../../src/bench/random';

/** Rules of every kind: partitioned and not, YAML and .cep, timers, `not`, repetition, ISO times. */
const RULES: Record<string, string> = {
  'brute-force.yaml': `id: brute-force-login
severity: critical
partitionBy: user_id
pattern: |
  every first=login_failed
    -> (
         ([4] failed=login_failed)
           -> (success=login_succeeded and not login_failed)
       ) where timer:within(10 min)
emit:
  user: success.user_id
  first_ip: first.ip
  last_ip: failed[3].ip
---
id: cart-abandonment
severity: info
partitionBy: session_id
pattern: >-
  every cart=add_to_cart
  -> (timer:interval(30 min) and not checkout)
emit:
  session: cart.session_id
  value: cart.price * cart.quantity
`,
  'travel.cep': `@name('impossible-travel')
@severity('critical')
partition by user_id
select login.user_id as user, login.country as from_country, purchase.country as to_country, purchase.amount as amount
from pattern [every login=login -> purchase=purchase(country != login.country) where timer:within(5 min)]
`,
  'trades.cep': `@name('block-trade-reversal')
partition by symbol
select block.symbol as symbol, (block.price - sale.price) / block.price * 100 as drop_percent
from pattern [
  every block=BUY(volume >= 10000)
    -> sale=SELL(price <= block.price * 0.995) where timer:within(2 min)
]
`,
  'overheat.yaml': `id: sensor-overheat
partitionBy: sensor_id
event:
  typeField: type
  timeField: ts
pattern: >-
  every first=reading(temperature > 80)
  -> ([2] more=reading(temperature > 80)) where timer:within(1 min)
emit:
  sensor: first.sensor_id
  peak: max(first.temperature, more[0].temperature, more[1].temperature)
`,
  'global.yaml': `id: any-two-alarms
severity: warning
pattern: every a=alarm -> b=alarm(zone = a.zone and level > a.level) where timer:within(3 min)
emit:
  zone: a.zone
  levels: a.level + b.level
`,
};

/** JSON lines: events for every rule above, a few late ones, a few malformed lines. */
function generateEvents(count: number, seed: number): string[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const users = ['ann', 'bob', 'cid', 'dee'];
  const lines: string[] = [];
  let t = 1_700_000_000_000;
  for (let i = 0; i < count; i++) {
    t += Math.floor(rnd() * 20_000);
    if (rnd() < 0.01) t += 40 * 60_000; // fire the cart timers
    const at = rnd() < 0.03 ? t - 30_000 : t; // late
    const r = rnd();
    let e: Record<string, unknown>;
    if (r < 0.3) e = { type: rnd() < 0.75 ? 'login_failed' : 'login_succeeded', user_id: pick(users), ip: `10.0.0.${Math.floor(rnd() * 4)}`, timestamp: at };
    else if (r < 0.45) e = { type: pick(['add_to_cart', 'add_to_cart', 'checkout']), session_id: `s${Math.floor(rnd() * 5)}`, price: 10 + Math.floor(rnd() * 90), quantity: 1 + Math.floor(rnd() * 3), timestamp: at };
    else if (r < 0.6) e = { type: pick(['login', 'purchase']), user_id: pick(users), country: pick(['DE', 'FR', 'US']), amount: Math.floor(rnd() * 500), timestamp: new Date(at).toISOString() };
    else if (r < 0.75) e = { type: pick(['BUY', 'SELL']), symbol: pick(['INTC', 'AAPL']), volume: pick([100, 5000, 12000, 20000]), price: 27 + Math.floor(rnd() * 100) / 100, seq: i, timestamp: at };
    else if (r < 0.9) {
      // Readings come in bursts of one to three.
      const sensor = `t${Math.floor(rnd() * 2)}`;
      const n = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < n - 1; k++) {
        lines.push(JSON.stringify({ type: 'reading', sensor_id: sensor, temperature: 76 + Math.floor(rnd() * 20), ts: new Date(at + k * 1000).toISOString() }));
      }
      e = { type: 'reading', sensor_id: sensor, temperature: 76 + Math.floor(rnd() * 20), ts: new Date(at + (n - 1) * 1000).toISOString() };
    }
    else e = { type: 'alarm', zone: pick(['north', 'south']), level: Math.floor(rnd() * 5), timestamp: at };
    lines.push(JSON.stringify(e));
    if (rnd() < 0.005) lines.push('{"type": "broken"'); // malformed JSON
    if (rnd() < 0.005) lines.push(JSON.stringify({ note: 'no type', timestamp: at })); // no rule can use it
  }
  return lines;
}

type Match = { rule: string; key: string | null; time: number; events: unknown; fields: unknown };

function replay(rulesDir: string, eventsFile: string): Match[] {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'cepheus'), 'replay', '--rules', rulesDir, '--events', eventsFile], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`cepheus replay exited ${run.status}:\n${run.stderr}`);
  return run.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Match);
}

async function throughService(rulesDir: string, lines: string[], seed: number): Promise<Match[]> {
  const svc = await startService({ rulesDir, alertsBufferSize: 1_000_000, logLevel: 'warn' });
  try {
    const rnd = mulberry32(seed);
    for (let i = 0; i < lines.length; ) {
      const batch = lines.slice(i, i + 1 + Math.floor(rnd() * 60));
      i += batch.length;
      const parsable = batch.every((l) => {
        try {
          JSON.parse(l);
          return true;
        } catch {
          return false;
        }
      });
      const res =
        parsable && rnd() < 0.5
          ? await svc.json('/events', json(`[${batch.join(',')}]`))
          : batch.length === 1 && parsable && rnd() < 0.5
            ? await svc.json('/events', json(batch[0]))
            : await svc.json('/events', ndjson(batch));
      expect(res.status).toBe(202);
    }
    const alerts = (await svc.json('/alerts?limit=1000000')).body as Array<Match & { id: string }>;
    return alerts.map(({ rule, key, time, events, fields }) => ({ rule, key, time, events, fields }));
  } finally {
    await svc.close();
  }
}

describe('POST /events and cepheus replay give identical matches', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeAll(() => {
    ensureBuilt();
    dir = tempDir();
  }, 120_000);
  afterAll(() => dir.cleanup());

  it('for rules of every kind over 3000 generated events', async () => {
    const rulesDir = join(dir.dir, 'rules');
    mkdirSync(rulesDir);
    for (const [name, text] of Object.entries(RULES)) writeFileSync(join(rulesDir, name), text);
    const lines = generateEvents(3000, 42);
    const eventsFile = join(dir.dir, 'events.jsonl');
    writeFileSync(eventsFile, lines.join('\n') + '\n');

    const fromReplay = replay(rulesDir, eventsFile);
    const fromService = await throughService(rulesDir, lines, 7);
    const perRule = (ms: Match[]) => ms.reduce<Record<string, number>>((acc, m) => ({ ...acc, [m.rule]: (acc[m.rule] ?? 0) + 1 }), {});
    // Every rule matched at least once, so the comparison means something.
    expect(Object.keys(perRule(fromReplay)).sort()).toEqual(
      ['any-two-alarms', 'block-trade-reversal', 'brute-force-login', 'cart-abandonment', 'impossible-travel', 'sensor-overheat'],
    );
    expect(fromService.length).toBe(fromReplay.length);
    expect(fromService).toEqual(fromReplay);
  }, 120_000);

  it("for the project's own rules directory", async () => {
    const rulesDir = join(dir.dir, 'project-rules');
    cpSync(join(ROOT, 'rules'), rulesDir, { recursive: true });
    const lines = generateEvents(1500, 99);
    const eventsFile = join(dir.dir, 'events2.jsonl');
    writeFileSync(eventsFile, lines.join('\n') + '\n');
    const fromReplay = replay(rulesDir, eventsFile);
    const fromService = await throughService(rulesDir, lines, 3);
    expect(fromService).toEqual(fromReplay);
  }, 120_000);
});
