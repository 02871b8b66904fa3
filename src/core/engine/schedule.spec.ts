/**
 * timer:schedule's arithmetic: how an ISO-8601 schedule and its dates are read, and when it is due. Its
 * behaviour inside patterns is compared with Esper 8.9 in test/conformance (scheduleSuite and generated cases).
 */
import { nextScheduled, parseIsoSchedule, scheduleDate, startSchedule, type SchedulePlan } from './schedule';

const utc = (iso: string): number => Date.parse(iso);
const SEC = 1000;

describe('scheduleDate: the dates Esper reads through XMLGregorianCalendar', () => {
  it.each<[string, string, number | null]>([
    ['a date-time with Z', '2025-01-31T08:00:00Z', utc('2025-01-31T08:00:00Z')],
    ['a date-time without a zone is UTC', '2025-01-31T08:00:00', utc('2025-01-31T08:00:00Z')],
    ['an offset', '2025-01-31T08:00:00+01:30', utc('2025-01-31T06:30:00Z')],
    ['the largest offset, -14:00', '2025-01-31T08:00:00-14:00', utc('2025-01-31T22:00:00Z')],
    ['a fraction, truncated to ms', '2025-01-31T08:00:00.123999Z', utc('2025-01-31T08:00:00.123Z')],
    ['a date alone is midnight', '2025-01-31', utc('2025-01-31T00:00:00Z')],
    ['a date alone with a zone', '2025-01-31Z', utc('2025-01-31T00:00:00Z')],
    ['24:00:00 is the next midnight', '2025-01-31T24:00:00Z', utc('2025-02-01T00:00:00Z')],
    ['a leap second is the next minute', '2025-01-31T08:00:60Z', utc('2025-01-31T08:01:00Z')],
    ['Feb 29 of a leap year', '2024-02-29T00:00:00Z', utc('2024-02-29T00:00:00Z')],
    ['Feb 29 of another year', '2025-02-29T00:00:00Z', null],
    ['Feb 30', '2024-02-30T00:00:00Z', null],
    ['year 0 (XML Schema 1.0 has none)', '0000-01-01T00:00:00Z', null],
    ['an offset beyond 14 hours', '2025-01-31T08:00:00+14:30', null],
    ['an offset without its colon', '2025-01-31T08:00:00+0100', null],
    ['no seconds', '2025-01-31T08:00Z', null],
    ['a space for the T', '2025-01-31 08:00:00Z', null],
    ['a one-digit month', '2025-1-31T08:00:00Z', null],
    ['a fraction point without digits', '2025-01-31T08:00:00.Z', null],
    ['a year and month only (refused here, unlike Esper)', '2025-01', null],
    ['a plus sign before the year', '+2025-01-31T08:00:00Z', null],
    ['25:00', '2025-01-31T25:00:00Z', null],
  ])('%s: %s', (_, text, expected) => {
    expect(scheduleDate(text)).toBe(expected);
  });
});

describe('parseIsoSchedule: the forms of TimerScheduleISO8601Parser', () => {
  const date = utc('2025-01-01T00:00:00Z');
  it.each<[string, string, SchedulePlan]>([
    ['a date alone', '2025-01-01T00:00:00Z', { date, period: null, repetitions: null }],
    ['a period alone', 'PT10S', { date: null, period: { ms: 10 * SEC }, repetitions: null }],
    ['a date and a period', '2025-01-01T00:00:00Z/PT1M', { date, period: { ms: 60 * SEC }, repetitions: null }],
    ['a count and a period', 'R3/PT2S', { date: null, period: { ms: 2 * SEC }, repetitions: 3 }],
    ['R alone repeats without end', 'R/PT2S', { date: null, period: { ms: 2 * SEC }, repetitions: -1 }],
    ['all three', 'R2/2025-01-01T00:00:00Z/P1D', { date, period: { ms: 86_400 * SEC }, repetitions: 2 }],
    ['a count of zero', 'R0/PT1S', { date: null, period: { ms: SEC }, repetitions: 0 }],
    ['spaces around it are trimmed', '  R2/PT1S ', { date: null, period: { ms: SEC }, repetitions: 2 }],
    ['weeks, days and time', 'P1W2DT3H4M5S', { date: null, period: { ms: ((9 * 24 + 3) * 3600 + 4 * 60 + 5) * SEC }, repetitions: null }],
    ['years and months on the calendar', 'P1Y2M', { date: null, period: { ms: 0, calendar: { years: 1, months: 2 } }, repetitions: null }],
    ['a zero part beside one that is not', 'P0YT1S', { date: null, period: { ms: SEC }, repetitions: null }],
  ])('%s: %s', (_, iso, plan) => {
    expect(parseIsoSchedule(iso)).toEqual(plan);
  });

  it.each<[string, string, RegExp]>([
    ['empty', '   ', /empty/],
    ['a trailing slash', 'R2/', /lacks its period/],
    ['four parts', 'R2/2025-01-01T00:00:00Z/PT1S/PT1S', /more than three parts/],
    ['a zero period', 'PT0S', /it is zero/],
    ['a fractional period', 'PT1.5S', /invalid period/],
    ['a lower-case period', 'R2/pt2s', /invalid period/],
    ['a lower-case r', 'r2/PT2S', /not an ISO-8601 date/],
    ['a fractional count', 'R2.5/PT1S', /invalid repeat/],
    ['a count beyond a long', 'R99999999999999999999/PT1S', /invalid repeat/],
    ['a number beyond an int', 'PT3000000000S', /too large/],
    ['nothing before the period', '/PT1S', /expected a repeat or a date/],
    ['three parts without R', '2025-01-01T00:00:00Z/2025-01-01T00:00:00Z/PT1S', /expected R/],
    ['a bad date', 'R2/2025-13-01T00:00:00Z/PT1S', /not an ISO-8601 date/],
    ['longer than 200 characters', `R2/PT${'1'.repeat(200)}S`, /longer than 200/],
  ])('refuses %s: %s', (_, iso, message) => {
    expect(parseIsoSchedule(iso)).toMatch(message);
  });
});

/** Every time the plan is due, starting at `start`, as the engine asks: at the start, then at each due time. */
function dueTimes(plan: SchedulePlan, start: number, limit = 50): number[] {
  const progress = startSchedule(plan, start);
  const out: number[] = [];
  let due = nextScheduled(plan, progress, start);
  while (due !== null && out.length < limit) {
    out.push(due);
    due = nextScheduled(plan, progress, due);
  }
  return out;
}

describe('nextScheduled: when a schedule is due (TimerScheduleObserver.computeNextSetLastScheduled)', () => {
  const t0 = utc('2025-01-31T10:00:00Z');
  const plan = (iso: string): SchedulePlan => parseIsoSchedule(iso) as SchedulePlan;

  it('R3/PT2S fires three times, one period apart, from one period after its start', () => {
    expect(dueTimes(plan('R3/PT2S'), t0)).toEqual([t0 + 2 * SEC, t0 + 4 * SEC, t0 + 6 * SEC]);
  });

  it('a period alone fires once, one period after the start', () => {
    expect(dueTimes(plan('PT5S'), t0)).toEqual([t0 + 5 * SEC]);
  });

  it('a date alone fires once at the date, and never when the date is not after the start', () => {
    expect(dueTimes(plan('2025-02-01T00:00:00Z'), t0)).toEqual([utc('2025-02-01T00:00:00Z')]);
    expect(dueTimes(plan('2025-01-31T10:00:00Z'), t0)).toEqual([]);
  });

  it('a date and a period without a count fire once, one period after the date (Esper reads it so)', () => {
    expect(dueTimes(plan('2025-02-01T00:00:00Z/PT1H'), t0)).toEqual([utc('2025-02-01T01:00:00Z')]);
  });

  it('with a date, the date is the first time, and the times already past count against the number', () => {
    expect(dueTimes(plan('R3/2025-02-01T00:00:00Z/PT1H'), t0)).toEqual([
      utc('2025-02-01T00:00:00Z'),
      utc('2025-02-01T01:00:00Z'),
      utc('2025-02-01T02:00:00Z'),
    ]);
    // Started at 10:00 on Jan 31 from 08:00 the same day: 08:00, 09:00 and 10:00 are past, so one time is left.
    expect(dueTimes(plan('R4/2025-01-31T08:00:00Z/PT1H'), t0)).toEqual([utc('2025-01-31T11:00:00Z')]);
    expect(dueTimes(plan('R3/2025-01-31T08:00:00Z/PT1H'), t0)).toEqual([]);
  });

  it('R without a number goes on without end, from the first time after the start', () => {
    expect(dueTimes(plan('R/2000-01-01T00:00:00Z/P1D'), t0, 3)).toEqual([
      utc('2025-02-01T00:00:00Z'),
      utc('2025-02-02T00:00:00Z'),
      utc('2025-02-03T00:00:00Z'),
    ]);
  });

  it('a count of zero never fires', () => {
    expect(dueTimes(plan('R0/PT1S'), t0)).toEqual([]);
  });

  it('months are added on the calendar, each from the last time, as Calendar.add does', () => {
    // Jan 31 + 1 month is Feb 28; the next is a month after Feb 28.
    expect(dueTimes(plan('R4/2025-01-31T00:00:00Z/P1M'), utc('2025-01-01T00:00:00Z'))).toEqual([
      utc('2025-01-31T00:00:00Z'),
      utc('2025-02-28T00:00:00Z'),
      utc('2025-03-28T00:00:00Z'),
      utc('2025-04-28T00:00:00Z'),
    ]);
    // Years first, then months: Feb 29, 2024 + 1 year 1 month is Mar 28, 2025 (not Mar 29).
    expect(dueTimes(plan('R2/2024-02-29T00:00:00Z/P1Y1M'), utc('2024-01-01T00:00:00Z'))).toEqual([
      utc('2024-02-29T00:00:00Z'),
      utc('2025-03-28T00:00:00Z'),
    ]);
  });

  it('jumps over many past periods at once, landing where Esper lands (checked on Esper 8.9)', () => {
    // From Jan 31, 2000 by months, started on Jul 15, 2024: Esper adds one month (Feb 29), then multiplies from
    // there and steps back, so the day is the 28th; stepping month by month would give the same here.
    const start = utc('2024-07-15T12:34:56Z');
    expect(dueTimes(plan('R/2000-01-31T00:00:00Z/P1M'), start, 2)).toEqual([utc('2024-07-28T00:00:00Z'), utc('2024-08-28T00:00:00Z')]);
  });

  it('a time beyond what a date holds ends the schedule instead of setting a timer there', () => {
    expect(dueTimes(plan('R/P2000000000Y'), t0)).toEqual([]);
  });
});
