/**
 * Event time: epoch milliseconds, or an ISO-8601 date-time string. The string is read field by field, not
 * with `Date.parse`, so that the result never depends on the host: a date-time without an offset (`Z` or
 * `±hh:mm`/`±hhmm`) is UTC, and so is a date alone (`2025-01-01` is midnight UTC).
 */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):?(\d{2}))?)?$/;

const DAY_MS = 86_400_000;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** Days from 1970-01-01 to the proleptic Gregorian date (month 1-12); exact for any year, unlike Date.UTC for 0-99. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** A date and a time of day as written, in a zone `offset` minutes east of UTC (a regex match's numbers). */
export interface WrittenDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** The digits after the decimal point of the seconds ('' when none). */
  fraction: string;
  offset: number;
}

/**
 * Epoch ms of a written date-time, or undefined when it names no real date or time: a month or day that does
 * not exist, minute 60, a second past `maxSecond`, or any 24:xx but 24:00 (ISO-8601's end of the day, the next
 * midnight). Milliseconds are the fraction's first three digits, truncated, as Date.parse does.
 */
export function writtenTime(t: WrittenDateTime, maxSecond = 59): number | undefined {
  const { year, month, day, hour, minute, second, fraction } = t;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (minute > 59 || second > maxSecond) return undefined;
  if (hour > 24 || (hour === 24 && (minute !== 0 || second !== 0 || /[1-9]/.test(fraction)))) return undefined;
  const millis = fraction === '' ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute - t.offset) * 60 + second) * 1000 + millis;
}

/** Epoch ms of an ISO-8601 string matched by ISO_8601, or undefined when it names no real date or time. */
function isoTime(m: RegExpExecArray): number | undefined {
  let offset = 0;
  if (m[8] !== undefined) {
    const offsetHours = Number(m[9]);
    const offsetMinutes = Number(m[10]);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    offset = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  }
  const [hour, minute, second] = [m[4], m[5], m[6]].map((v) => (v === undefined ? 0 : Number(v)));
  return writtenTime({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour, minute, second, fraction: m[7] ?? '', offset });
}

/** The largest epoch ms Date represents (ECMAScript's time value range). */
export const MAX_DATE_MS = 8.64e15;

/**
 * Epoch ms of a time value, or undefined when it is not a usable time (the engine then rejects the event as
 * `missing_time`). Accepted: a number of epoch ms within ±8.64e15 (Date's range), or an ISO-8601 string `YYYY-MM-DD`, optionally followed
 * by `T` or a space, `hh:mm`, optional `:ss` and `.fraction` (up to 9 digits, truncated to ms), and an optional
 * `Z` or `±hh:mm`/`±hhmm` offset. A string without an offset is read as UTC, whatever the host's timezone;
 * a date alone is midnight UTC. Dates and times that do not exist (Feb 30, month 13, hour 25, minute 60, ...)
 * are not usable times; `24:00` is the next day's midnight.
 */
export function eventTime(value: unknown): number | undefined {
  // Beyond ±8.64e15 ms (about ±273,790 years) Date holds no time, so neither can a calendar period or timer:at.
  if (typeof value === 'number') return Math.abs(value) <= MAX_DATE_MS ? value : undefined;
  if (typeof value === 'string' && value.length <= 40) {
    const m = ISO_8601.exec(value);
    return m === null ? undefined : isoTime(m);
  }
  return undefined;
}

/** A time period: whole calendar years and months (optional), then a fixed number of milliseconds. */
export interface Period {
  ms: number;
  calendar?: { readonly years: number; readonly months: number };
}

/**
 * The time `period` after `time`. Years and months are added on the calendar, in UTC, as Esper adds them
 * (java.util.Calendar.add, years first, then months): the day of the month stays, or becomes the month's last
 * day when the month is shorter (Jan 31 + 1 month is Feb 28, or 29 in a leap year); the time of day stays.
 */
export function afterPeriod(time: number, period: Period): number {
  const c = period.calendar;
  if (!c) return time + period.ms;
  const d = new Date(time);
  const addMonths = (n: number) => {
    if (n === 0) return;
    const day = d.getUTCDate();
    const target = d.getUTCMonth() + n;
    d.setUTCDate(1);
    d.setUTCMonth(target);
    d.setUTCDate(Math.min(day, daysInMonth(d.getUTCFullYear(), d.getUTCMonth() + 1)));
  };
  addMonths(12 * c.years);
  addMonths(c.months);
  return d.getTime() + period.ms;
}

