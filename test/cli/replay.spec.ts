import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { BIN, cepheus, ensureBuilt, jsonl, lines, scratch } from './helpers';

beforeAll(() => ensureBuilt(), 600_000);

const PAIR_RULE = [
  'id: pair',
  'partitionBy: user',
  'pattern: every a=A -> b=B where timer:within(1 min)',
  'emit:',
  '  total: a.n + b.n',
  '  missing: a.nothing',
  '',
].join('\n');

describe('cepheus replay: output', () => {
  const s = scratch({ 'rules/pair.yaml': PAIR_RULE });
  afterAll(() => s.cleanup());

  it('prints one JSON line per match with rule, key, time, events and fields, in that order', () => {
    const events = jsonl([
      { type: 'A', user: 'u1', n: 1, timestamp: 1000 },
      { type: 'A', user: 'u2', n: 5, timestamp: 1500 },
      { type: 'B', user: 'u1', n: 2, timestamp: 2000 },
      { type: 'B', user: 'u2', n: 3, timestamp: 2500 },
    ]);
    writeFileSync(s.path('events.jsonl'), events);
    const r = cepheus(['replay', '--rules', s.path('rules'), '--events', s.path('events.jsonl')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      '{"rule":"pair","key":"u1","time":2000,"events":{"a":{"type":"A","user":"u1","n":1,"timestamp":1000},' +
        '"b":{"type":"B","user":"u1","n":2,"timestamp":2000}},"fields":{"total":3,"missing":null}}\n' +
        '{"rule":"pair","key":"u2","time":2500,"events":{"a":{"type":"A","user":"u2","n":5,"timestamp":1500},' +
        '"b":{"type":"B","user":"u2","n":3,"timestamp":2500}},"fields":{"total":8,"missing":null}}\n',
    );
  });

  it('accepts ISO-8601 times, prints events as given and match times in epoch ms', () => {
    const events = jsonl([
      { type: 'A', user: 'u1', n: 1, timestamp: '2024-05-01T10:00:00Z' },
      { type: 'B', user: 'u1', n: 2, timestamp: '2024-05-01T10:00:30.250Z' },
    ]);
    const r = cepheus(['replay', '--rules', s.path('rules/pair.yaml'), '--events', '-'], { input: events });
    expect(r.code).toBe(0);
    const [match, ...rest] = lines(r.stdout).map((l) => JSON.parse(l));
    expect(rest).toEqual([]);
    expect(match.time).toBe(Date.parse('2024-05-01T10:00:30.250Z'));
    expect(match.events.b.timestamp).toBe('2024-05-01T10:00:30.250Z');
    expect(match.key).toBe('u1');
  });

  it('reads events from standard input with --events -', () => {
    const events = jsonl([
      { type: 'A', user: 'x', n: 1, timestamp: 1 },
      { type: 'B', user: 'x', n: 1, timestamp: 2 },
    ]);
    const r = cepheus(['replay', '--rules', s.path('rules'), '--events', '-'], { input: events });
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => JSON.parse(l).fields.total)).toEqual([2]);
  });

  it('prints null as the key of an unpartitioned rule and null for an unbound tag', () => {
    const t = scratch({
      'r.yaml': ['id: either', 'pattern: every (a=A or b=B)', ''].join('\n'),
    });
    try {
      const r = cepheus(['replay', '--rules', t.path('r.yaml'), '--events', '-'], {
        input: jsonl([{ type: 'A', timestamp: 5 }]),
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('{"rule":"either","key":null,"time":5,"events":{"a":{"type":"A","timestamp":5},"b":null},"fields":{}}\n');
    } finally {
      t.cleanup();
    }
  });

  it('runs only enabled rules', () => {
    const t = scratch({
      'rules/on.yaml': ['id: on', 'pattern: every a=A', ''].join('\n'),
      'rules/off.cep': "@name('off') @enabled(false) select * from pattern [every a=A]\n",
    });
    try {
      const r = cepheus(['replay', '--rules', t.path('rules'), '--events', '-'], { input: jsonl([{ type: 'A', timestamp: 1 }]) });
      expect(r.code).toBe(0);
      expect(lines(r.stdout).map((l) => JSON.parse(l).rule)).toEqual(['on']);
    } finally {
      t.cleanup();
    }
  });
});

describe('cepheus replay: clock (--start, --until)', () => {
  const s = scratch({
    'within.yaml': ['id: early-a', 'pattern: a=A where timer:within(10 sec)', ''].join('\n'),
    'silence.yaml': ['id: silence', 'pattern: every a=A -> (timer:interval(30 sec) and not B)', 'emit:', '  n: a.n', ''].join('\n'),
  });
  afterAll(() => s.cleanup());
  const A_AT_15S = jsonl([{ type: 'A', n: 1, timestamp: 15_000 }]);

  it('starts an unpartitioned rule at the first event by default', () => {
    const r = cepheus(['replay', '--rules', s.path('within.yaml'), '--events', '-'], { input: A_AT_15S });
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => JSON.parse(l).time)).toEqual([15_000]);
  });

  it('starts an unpartitioned rule at --start', () => {
    const late = cepheus(['replay', '--rules', s.path('within.yaml'), '--events', '-', '--start', '0'], { input: A_AT_15S });
    expect(late.code).toBe(0);
    expect(late.stdout).toBe('');
    const inTime = cepheus(['replay', '--rules', s.path('within.yaml'), '--events', '-', '--start', '10000'], { input: A_AT_15S });
    expect(lines(inTime.stdout).map((l) => JSON.parse(l).time)).toEqual([15_000]);
  });

  it('accepts --start as ISO-8601', () => {
    const input = jsonl([{ type: 'A', n: 1, timestamp: '2024-01-01T00:00:15Z' }]);
    const r = cepheus(['replay', '--rules', s.path('within.yaml'), '--events', '-', '--start', '2024-01-01T00:00:00Z'], { input });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('leaves the clock at the last event without --until, so later timers do not fire', () => {
    const r = cepheus(['replay', '--rules', s.path('silence.yaml'), '--events', '-'], { input: A_AT_15S });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('fires the timers due up to --until after the last event', () => {
    const before = cepheus(['replay', '--rules', s.path('silence.yaml'), '--events', '-', '--until', '44999'], { input: A_AT_15S });
    expect(before.stdout).toBe('');
    const r = cepheus(['replay', '--rules', s.path('silence.yaml'), '--events', '-', '--until', '60000'], { input: A_AT_15S });
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => JSON.parse(l))).toEqual([
      { rule: 'silence', key: null, time: 45_000, events: { a: { type: 'A', n: 1, timestamp: 15_000 } }, fields: { n: 1 } },
    ]);
  });
});

describe('cepheus replay: invalid rules', () => {
  it('exits 2 with file:line:column, the line and a caret on stderr, and runs nothing', () => {
    const s = scratch({
      'rules/a-good.yaml': ['id: good', 'pattern: every a=A', ''].join('\n'),
      'rules/b-bad.yaml': ['id: bad', 'severity: urgent', 'pattern: every a=A', ''].join('\n'),
    });
    try {
      writeFileSync(s.path('events.jsonl'), jsonl([{ type: 'A', timestamp: 1 }]));
      const r = cepheus(['replay', '--rules', s.path('rules'), '--events', s.path('events.jsonl')]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        [
          `${s.path('rules/b-bad.yaml')}:2:11: invalid severity 'urgent'`,
          '  severity: urgent',
          '            ^^^^^^',
          '  expected one of: info, warning, critical',
          '',
        ].join('\n'),
      );
    } finally {
      s.cleanup();
    }
  });

  it('reports a pattern error on a later line of a YAML block scalar at its file position', () => {
    const s = scratch({ 'bad.yaml': ['id: bad', 'pattern: |', '  every a=A', '    -> b=B(x > )', ''].join('\n') });
    try {
      const r = cepheus(['replay', '--rules', s.path('bad.yaml'), '--events', s.path('does-not-exist.jsonl')]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const [first, source, caret, expected] = r.stderr.split('\n');
      expect(first).toBe(`${s.path('bad.yaml')}:4:16: unexpected ')'`);
      expect(source).toBe('      -> b=B(x > )');
      expect(caret).toBe(`  ${' '.repeat(15)}^`);
      expect(expected).toMatch(/^  expected one of: .*identifier/);
    } finally {
      s.cleanup();
    }
  });

  it('reports a .cep syntax error with the expected tokens', () => {
    const s = scratch({ 'bad.cep': ["@name('bad')", 'select * from pattern [every a=A -> ]', ''].join('\n') });
    try {
      const r = cepheus(['replay', '--rules', s.path('bad.cep'), '--events', '-']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^${escape(s.path('bad.cep'))}:2:\\d+: `));
      expect(r.stderr).toContain('^');
      expect(r.stderr).toMatch(/expected/);
    } finally {
      s.cleanup();
    }
  });
});

describe('cepheus replay: malformed input', () => {
  it('reports each malformed line with its number, skips it, processes the rest and prints a summary', () => {
    const s = scratch({ 'r.yaml': ['id: each-a', 'pattern: every a=A', 'emit:', '  n: a.n', ''].join('\n') });
    try {
      const input = [
        JSON.stringify({ type: 'A', n: 1, timestamp: 1 }),
        '{"type": "A", "n": 2, ',
        '',
        '[1, 2]',
        JSON.stringify({ n: 3, timestamp: 3 }),
        JSON.stringify({ type: 'A', n: 4, timestamp: 'yesterday' }),
        JSON.stringify({ type: 'A', n: 5, timestamp: 5 }),
      ].join('\n');
      writeFileSync(s.path('events.jsonl'), input + '\n');
      const r = cepheus(['replay', '--rules', s.path('r.yaml'), '--events', s.path('events.jsonl')]);
      expect(r.code).toBe(0);
      expect(lines(r.stdout).map((l) => JSON.parse(l).fields.n)).toEqual([1, 5]);
      const err = lines(r.stderr);
      const ev = s.path('events.jsonl');
      expect(err).toHaveLength(5);
      expect(err[0]).toMatch(new RegExp(`^${escape(ev)}:2: skipped malformed line: invalid JSON`));
      expect(err[1]).toBe(`${ev}:4: skipped malformed line: expected a JSON object, found an array`);
      expect(err[2]).toMatch(new RegExp(`^${escape(ev)}:5: skipped malformed line: invalid event: missing type`));
      expect(err[3]).toMatch(new RegExp(`^${escape(ev)}:6: skipped malformed line: invalid event: missing time`));
      expect(err[4]).toBe('cepheus replay: 4 malformed lines skipped (lines 2, 4, 5, 6); 2 events processed');
    } finally {
      s.cleanup();
    }
  });

  it('skips a line that is not valid UTF-8 (as the service rejects it) and reads CRLF and a last line without a break', () => {
    const s = scratch({ 'r.yaml': ['id: each-a', 'pattern: every a=A', 'partitionBy: u', 'emit:', '  n: a.n', ''].join('\n') });
    try {
      const good = (n: number, u: string) => Buffer.from(JSON.stringify({ type: 'A', n, u, timestamp: n }), 'utf8');
      // Line 2's key has a lone 0xff byte; decoded leniently it would become "u\uFFFD" and merge with others.
      const bad = Buffer.concat([Buffer.from('{"type":"A","n":2,"u":"u', 'utf8'), Buffer.from([0xff]), Buffer.from('","timestamp":2}', 'utf8')]);
      const crlf = Buffer.from('\r\n');
      writeFileSync(s.path('events.jsonl'), Buffer.concat([good(1, 'ü'), crlf, bad, crlf, good(3, 'é'), Buffer.from('\n'), good(4, 'x')]));
      const r = cepheus(['replay', '--rules', s.path('r.yaml'), '--events', s.path('events.jsonl')]);
      expect(r.code).toBe(0);
      expect(lines(r.stdout).map((l) => [JSON.parse(l).key, JSON.parse(l).fields.n])).toEqual([['ü', 1], ['é', 3], ['x', 4]]);
      const ev = s.path('events.jsonl');
      expect(lines(r.stderr)).toEqual([`${ev}:2: skipped malformed line: not valid UTF-8`, 'cepheus replay: 1 malformed line skipped (line 2); 3 events processed']);
    } finally {
      s.cleanup();
    }
  });

  it('names standard input <stdin> in malformed-line reports', () => {
    const s = scratch({ 'r.yaml': ['id: each-a', 'pattern: every a=A', ''].join('\n') });
    try {
      const r = cepheus(['replay', '--rules', s.path('r.yaml'), '--events', '-'], { input: 'nope\n' });
      expect(r.code).toBe(0);
      expect(lines(r.stderr)[0]).toMatch(/^<stdin>:1: skipped malformed line: invalid JSON/);
    } finally {
      s.cleanup();
    }
  });

  it('exits 2 when a rules path cannot be read, as for invalid rules, which --help states', () => {
    const s = scratch({ 'ev.jsonl': jsonl([{ type: 'A', timestamp: 1 }]) });
    try {
      const r = cepheus(['replay', '--rules', s.path('missing'), '--events', s.path('ev.jsonl')]);
      expect(r.stderr).toBe(`${s.path('missing')}:1:1: cannot read rules: no such file or directory\n`);
      expect(r.code).toBe(2);
      expect(cepheus(['--help']).stdout).toContain('2  invalid rules (a rule file or directory that cannot be read included), or a usage error');
    } finally {
      s.cleanup();
    }
  });

  it('exits 1 when the events file cannot be read', () => {
    const s = scratch({ 'r.yaml': ['id: each-a', 'pattern: every a=A', ''].join('\n') });
    try {
      const r = cepheus(['replay', '--rules', s.path('r.yaml'), '--events', s.path('missing.jsonl')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot read events');
    } finally {
      s.cleanup();
    }
  });
});

describe('cepheus replay: many rules', () => {
  it('runs 200 rules from one directory over one input, every match in the order it happens', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++) {
      const id = `rule-${String(i).padStart(3, '0')}`;
      files[`rules/${id}.yaml`] = [
        `id: ${id}`,
        'partitionBy: account',
        `pattern: every a=A(level >= ${i}) -> b=B(amount > a.amount) where timer:within(1 min)`,
        'emit:',
        '  account: a.account',
        '',
      ].join('\n');
    }
    const s = scratch(files);
    try {
      const events: object[] = [];
      for (let k = 0; k < 50; k++) {
        events.push({ type: 'A', account: `acc-${k}`, level: k * 5, amount: 10, timestamp: k * 1000 });
        events.push({ type: 'B', account: `acc-${k}`, amount: 20, timestamp: k * 1000 + 500 });
      }
      writeFileSync(s.path('events.jsonl'), jsonl(events));
      const started = Date.now();
      const r = cepheus(['replay', '--rules', s.path('rules'), '--events', s.path('events.jsonl')]);
      expect(r.code).toBe(0);
      const out = lines(r.stdout).map((l) => JSON.parse(l));
      // Account k's A has level 5k, so it matches the rules 0..5k (all 200 from k = 40 on).
      const expected = events
        .filter((_, i) => i % 2 === 1)
        .flatMap((b, k) =>
          Array.from({ length: Math.min(200, 5 * k + 1) }, () => ({ key: `acc-${k}`, time: (b as { timestamp: number }).timestamp })),
        );
      expect(out.length).toBe(expected.length);
      expect(out.map((m) => ({ key: m.key, time: m.time }))).toEqual(expected);
      expect(new Set(out.map((m) => m.rule)).size).toBe(200);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      s.cleanup();
    }
  });
});

describe('cepheus: usage', () => {
  it('prints usage and exits 2 on an unknown option', () => {
    const r = cepheus(['replay', '--rules', 'rules', '--events', '-', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^cepheus: Unknown option '--bogus'/);
    expect(r.stderr).toContain('Usage:');
  });

  it('exits 2 when a required option or the command is missing, or a time is not a time', () => {
    expect(cepheus(['replay', '--events', '-']).code).toBe(2);
    expect(cepheus(['replay', '--rules', 'rules']).code).toBe(2);
    expect(cepheus([]).code).toBe(2);
    expect(cepheus(['frobnicate']).code).toBe(2);
    const r = cepheus(['replay', '--rules', 'rules', '--events', '-', '--until', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--until must be a time in epoch milliseconds or ISO-8601, found 'soon'");
  });

  it('prints help on --help and exits 0', () => {
    for (const args of [['--help'], ['replay', '--help'], ['check', '-h']]) {
      const r = cepheus(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('cepheus replay --rules <file|dir> --events <file.jsonl|->');
    }
  });

  it('tells to run npm run build when dist/ is missing', () => {
    const s = scratch();
    try {
      mkdirSync(s.path('bin'));
      copyFileSync(BIN, s.path('bin/cepheus'));
      const r = cepheus(['--help'], { bin: s.path('bin/cepheus'), cwd: s.dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('npm run build');
    } finally {
      s.cleanup();
    }
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
