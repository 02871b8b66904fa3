/**
 * `timer:at(minutes, hours, days-of-month, months, days-of-week [, seconds])` schedules, evaluated in UTC.
 */
import type { AtPattern, CronField } from '../language/ast';

/** Each field: the allowed values, or null for any. */
export interface CronSchedule {
  seconds: ReadonlySet<number> | null;
  minutes: ReadonlySet<number> | null;
  hours: ReadonlySet<number> | null;
  daysOfMonth: ReadonlySet<number> | null;
  months: ReadonlySet<number> | null;
  daysOfWeek: ReadonlySet<number> | null;
}

function expand(field: CronField | undefined, min: number, max: number, absentMeans: 'any' | number): ReadonlySet<number> | null {
  if (!field) return absentMeans === 'any' ? null : new Set([absentMeans]);
  const values = new Set<number>();
  for (const item of field.items) {
    switch (item.kind) {
      case 'any':
        return null;
      case 'value':
        values.add(item.value);
        break;
      case 'range':
        for (let v = item.low; v <= item.high; v++) values.add(v);
        break;
      case 'step': {
        const low = item.low ?? min;
        const high = item.high ?? max;
        for (let v = low; v <= high; v += Math.max(1, item.step)) values.add(v);
        break;
      }
    }
  }
  return values;
}

export function cronSchedule(at: AtPattern): CronSchedule {
  return {
    // Without a seconds field the schedule fires at second 0 of each matching minute, as in Esper.
    seconds: expand(at.seconds, 0, 59, 0),
    minutes: expand(at.minutes, 0, 59, 'any'),
    hours: expand(at.hours, 0, 23, 'any'),
    daysOfMonth: expand(at.daysOfMonth, 1, 31, 'any'),
    months: expand(at.months, 1, 12, 'any'),
    daysOfWeek: expand(at.daysOfWeek, 0, 6, 'any'),
  };
}

const has = (set: ReadonlySet<number> | null, v: number) => set === null || set.has(v);

function dayMatches(s: CronSchedule, d: Date): boolean {
  // As in cron: when both day fields are restricted, a day matching either one qualifies.
  if (s.daysOfMonth !== null && s.daysOfWeek !== null) {
    return s.daysOfMonth.has(d.getUTCDate()) || s.daysOfWeek.has(d.getUTCDay());
  }
  return has(s.daysOfMonth, d.getUTCDate()) && has(s.daysOfWeek, d.getUTCDay());
}

const SEARCH_LIMIT_MS = 5 * 366 * 24 * 3600 * 1000;

/**
 * The first time strictly after `afterMs` that the schedule allows, or null when there is none within 5 years.
 * The schedule works in whole seconds and, as in Esper (ScheduleComputeHelper keeps the start's millisecond
 * field), the result carries the milliseconds of `afterMs`: started at 1.5 s, `timer:at(*, *, *, *, *)` is
 * due at 60.5 s.
 */
export function nextOccurrence(s: CronSchedule, afterMs: number): number | null {
  const wholeSecond = Math.floor(afterMs / 1000) * 1000;
  const ms = afterMs - wholeSecond;
  let t = wholeSecond + 1000;
  const limit = afterMs + SEARCH_LIMIT_MS;
  while (t <= limit) {
    const d = new Date(t);
    if (!has(s.months, d.getUTCMonth() + 1)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      continue;
    }
    if (!dayMatches(s, d)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      continue;
    }
    if (!has(s.hours, d.getUTCHours())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!has(s.minutes, d.getUTCMinutes())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes() + 1);
      continue;
    }
    if (!has(s.seconds, d.getUTCSeconds())) {
      t += 1000;
      continue;
    }
    return t + ms;
  }
  return null;
}
