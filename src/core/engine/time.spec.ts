/**
 * Event time: what eventTime accepts, what it rejects, and that the result never depends on the host's timezone.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { Engine, InvalidEventError, compileRule } from './index';
import { eventTime } from './time';
import { ruleOf } from '../../../test/support/pattern-harness';

/** Epoch ms of a UTC date-time (years 0-99 too, which Date.UTC would move to 1900-1999). */
function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

describe('eventTime: accepted values', () => {
  it.each<[string, unknown, number]>([
    // [case, value, epoch ms]
    ['epoch ms', 1735725600000, 1735725600000],
    ['epoch ms zero', 0, 0],
    ['negative epoch ms', -1000, -1000],
    ['fractional epoch ms', 1.5, 1.5],
    ['the largest time Date holds', 8.64e15, 8.64e15],
    ['the smallest time Date holds', -8.64e15, -8.64e15],
    ['Z', '2025-01-01T10:00:00Z', utc(2025, 1, 1, 10)],
    ['+hh:mm offset', '2025-01-01T10:00:00+01:00', utc(2025, 1, 1, 9)],
    ['-hh:mm offset', '2025-01-01T10:00:00-05:30', utc(2025, 1, 1, 15, 30)],
    ['+hhmm offset', '2025-01-01T10:00:00+0100', utc(2025, 1, 1, 9)],
    ['-00:00 offset', '2025-01-01T10:00:00-00:00', utc(2025, 1, 1, 10)],
    ['+23:59 offset', '2025-01-01T10:00:00+23:59', utc(2024, 12, 31, 10, 1)],
    ['fraction, 1 digit', '2025-01-01T10:00:00.1Z', utc(2025, 1, 1, 10, 0, 0, 100)],
    ['fraction, 3 digits', '2025-01-01T10:00:00.123Z', utc(2025, 1, 1, 10, 0, 0, 123)],
    ['fraction, 9 digits (truncated to ms)', '2025-01-01T10:00:00.123456789Z', utc(2025, 1, 1, 10, 0, 0, 123)],
    ['fraction, .9995 (truncated, not rounded)', '2025-01-01T10:00:00.9995Z', utc(2025, 1, 1, 10, 0, 0, 999)],
    ['fraction with offset', '2025-01-01T10:00:00.5+02:00', utc(2025, 1, 1, 8, 0, 0, 500)],
    ['no seconds, Z', '2025-01-01T10:00Z', utc(2025, 1, 1, 10)],
    ['space instead of T', '2025-01-01 10:00:00Z', utc(2025, 1, 1, 10)],
    ['24:00 is the next midnight', '2025-12-31T24:00:00Z', utc(2026, 1, 1)],
    ['24:00:00.000', '2025-01-01T24:00:00.000Z', utc(2025, 1, 2)],
    ['leap day in a leap year', '2024-02-29T12:00:00Z', utc(2024, 2, 29, 12)],
    ['leap day in a year divisible by 400', '2000-02-29', utc(2000, 2, 29)],
    ['year 0000', '0000-01-01T00:00:00Z', utc(0, 1, 1)],
    ['year 0099 (not 1999)', '0099-06-15', utc(99, 6, 15)],
    ['year 9999', '9999-12-31T23:59:59.999Z', utc(9999, 12, 31, 23, 59, 59, 999)],
    // Without an offset: UTC, whatever the host's timezone.
    ['no offset is UTC', '2025-01-01T10:00:00', utc(2025, 1, 1, 10)],
    ['no offset, summer date, is UTC', '2025-07-01T10:00:00', utc(2025, 7, 1, 10)],
    ['no offset, fraction, is UTC', '2025-01-01T10:00:00.1', utc(2025, 1, 1, 10, 0, 0, 100)],
    ['no offset, no seconds, is UTC', '2025-01-01T10:00', utc(2025, 1, 1, 10)],
    ['no offset, space, is UTC', '2025-01-01 10:00', utc(2025, 1, 1, 10)],
    ['date only is midnight UTC', '2025-01-01', utc(2025, 1, 1)],
  ])('%s: %p', (_case, value, expected) => {
    expect(eventTime(value)).toBe(expected);
  });

  it('agrees with Date.parse on every string with an offset', () => {
    for (const s of ['2025-03-09T02:30:00Z', '1969-12-31T23:59:59.999Z', '2025-01-01T10:00:00.123456+05:45', '2025-01-01T24:00-08:00'])
      expect(eventTime(s)).toBe(Date.parse(s));
  });
});

describe('eventTime: rejected values', () => {
  it.each<[string, unknown]>([
    // Date holds no time there, so timers computed from it would be NaN (that froze every timer of the engine)
    ['epoch ms past Date\'s range', 8.64e15 + 1],
    ['epoch ms before Date\'s range', -9e15],
    ['Feb 30', '2025-02-30'],
    ['Feb 30 with a time', '2025-02-30T10:00:00Z'],
    ['Feb 29 in a common year', '2025-02-29'],
    ['Feb 29 in a year divisible by 100 only', '1900-02-29'],
    ['Apr 31', '2025-04-31T00:00:00Z'],
    ['month 13', '2025-13-01'],
    ['month 00', '2025-00-10'],
    ['day 00', '2025-01-00'],
    ['day 32', '2025-01-32'],
    ['hour 25', '2025-01-01T25:00:00Z'],
    ['hour 24 with minutes', '2025-01-01T24:01:00Z'],
    ['hour 24 with a fraction', '2025-01-01T24:00:00.001Z'],
    ['minute 60', '2025-01-01T10:60:00Z'],
    ['second 60', '2025-01-01T23:59:60Z'],
    ['second 61, no offset', '2025-01-01T10:00:61'],
    ['offset hour 24', '2025-01-01T10:00:00+24:00'],
    ['offset minute 60', '2025-01-01T10:00:00+12:60'],
    ['not a date', 'yesterday'],
    ['lowercase t and z', '2025-01-01t10:00:00z'],
    ['offset on a date only', '2025-01-01+01:00'],
    ['10 fraction digits', '2025-01-01T10:00:00.1234567890Z'],
    ['digits as a string', '1735725600000'],
    ['empty string', ''],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['null', null],
    ['undefined', undefined],
    ['boolean', true],
    ['object', { t: 1 }],
  ])('%s: %p', (_case, value) => {
    expect(eventTime(value)).toBeUndefined();
  });

  it.each(['2025-02-30T10:00:00Z', '2025-13-01', '2025-01-01T25:00:00'])(
    'the engine rejects an event with time %s as missing_time',
    (timestamp) => {
      const engine = new Engine();
      engine.addRule(compileRule(ruleOf('every a=A')));
      let error: unknown;
      try {
        engine.process({ type: 'A', timestamp });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidEventError);
      expect((error as InvalidEventError).reason).toBe('missing_time');
    },
  );
});

describe('eventTime: independent of the host timezone', () => {
  const inputs = [
    '2025-01-01T10:00:00',
    '2025-07-01T10:00:00.250',
    '2025-03-30 02:30',
    '2025-11-02T01:30:00',
    '2025-01-01',
    '1969-12-31T23:00:00',
    '2025-01-01T10:00:00Z',
    '2025-01-01T10:00:00+05:30',
  ];

  /** Runs eventTime in a separate node process with TZ set; also returns that process's local offset, to prove TZ took effect. */
  function inTimezone(tz: string): { offset: number; times: Array<number | null> } {
    const source = fs.readFileSync(path.join(__dirname, 'time.ts'), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } })
      .outputText;
    const script = `
      const module = { exports: {} };
      (function (exports, module) { ${js}\n })(module.exports, module);
      const inputs = ${JSON.stringify(inputs)};
      process.stdout.write(JSON.stringify({
        offset: new Date(2025, 0, 1, 10).getTimezoneOffset(),
        times: inputs.map((s) => module.exports.eventTime(s) ?? null),
      }));`;
    const run = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, TZ: tz }, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`node -e failed under TZ=${tz}: ${run.stderr}`);
    return JSON.parse(run.stdout) as { offset: number; times: Array<number | null> };
  }

  it('gives the same epoch ms under TZ=UTC, America/New_York and Asia/Kolkata, equal to Date.UTC', () => {
    const expected = inputs.map((s) => Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(s) ? s : `${s.replace(' ', 'T')}Z`));
    const runs = ['UTC', 'America/New_York', 'Asia/Kolkata'].map(inTimezone);
    // The timezones really differ in those processes (else the comparison would prove nothing).
    expect(runs.map((r) => r.offset)).toEqual([0, 300, -330]);
    for (const r of runs) expect(r.times).toEqual(expected);
    expect(expected[0]).toBe(Date.UTC(2025, 0, 1, 10));
    // And in this process, whatever its TZ.
    expect(inputs.map((s) => eventTime(s))).toEqual(expected);
  });
});
