/**
 * `timer:schedule`: Esper's ISO-8601 repeating-interval observer (TimerScheduleObserver and its helpers), in
 * UTC. A schedule has an optional start date, an optional period and an optional repetition count:
 *
 * - `<date>` fires once at the date (never when the date is not after the start);
 * - `<period>`, or `<date>/<period>` without a count, fires once, one period after the start or the date;
 * - `R<n>/<period>` fires n times, one period apart, from one period after the start; `R<n>/<date>/<period>`
 *   fires at the date and then every period, n times in all, counting the times already past as it starts;
 *   `R/...` (or a count of -1) repeats without end.
 */
import type { Period } from './time';
import { MAX_DATE_MS, afterPeriod, writtenTime } from './time';

export interface SchedulePlan {
  /** Epoch ms of the start date, or null: the schedule then counts from the time it starts. */
  date: number | null;
  period: Period | null;
  /** How many times it fires; -1 without end; null when not given. */
  repetitions: number | null;
}

/** Where a running schedule is; kept in snapshots. */
export interface ScheduleProgress {
  /** The date, or the time the schedule started. */
  anchor: number;
  /** The last time it was due, once computed. */
  last: number | null;
  /** The times it has fired or skipped so far; null once it has ended. */
  count: number | null;
}

/** Java's Integer.MAX_VALUE: Esper parses each number of an ISO schedule as an int (a repetition count as a long). */
const INT_MAX = 2_147_483_647;
const HOUR_MS = 3_600_000;

/**
 * A date as javax.xml's XMLGregorianCalendar reads it for Esper: an xsd:dateTime
 * (`2025-01-31T08:00:00`, optional fraction and zone) or an xsd:date (`2025-01-31`, midnight). Without a zone
 * (`Z` or `±hh:mm`) the time is UTC. Returns epoch ms, or null when the text is not such a date. (Esper also
 * takes XML's partial dates such as `2025-01`; they are refused here.)
 */
const XSD_DATE = /^(-?\d{4,})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$/;

export function scheduleDate(text: string): number | null {
  const m = XSD_DATE.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  // XML Schema 1.0 has no year 0.
  if (!Number.isSafeInteger(year) || year === 0) return null;
  let offset = 0;
  if (m[8] !== undefined && m[8] !== 'Z') {
    const hours = Number(m[8].slice(1, 3));
    const minutes = Number(m[8].slice(4, 6));
    if (minutes > 59 || hours * 60 + minutes > 14 * 60) return null;
    offset = (m[8][0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const [hour, minute, second] = [m[4], m[5], m[6]].map((v) => (v === undefined ? 0 : Number(v)));
  // A second of 60 (a leap second) is the next minute's first, as the calendar reads it.
  const ms = writtenTime({ year, month: Number(m[2]), day: Number(m[3]), hour, minute, second, fraction: m[7] ?? '', offset }, 60);
  return ms !== undefined && Math.abs(ms) <= MAX_DATE_MS ? ms : null;
}

const ISO_PERIOD = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** An ISO-8601 period of whole numbers (`P1Y2M`, `PT10S`, `P1W`); at least one part must not be zero. */
function isoPeriod(text: string): Period | string {
  const m = ISO_PERIOD.exec(text);
  if (!m) return `invalid period '${text}'`;
  const n = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  if (n.some((v) => v > INT_MAX)) return `invalid period '${text}': a number is too large`;
  if (n.every((v) => v === 0)) return `invalid period '${text}': it is zero`;
  const [years, months, weeks, days, hours, minutes, seconds] = n;
  const ms = ((weeks * 7 + days) * 24 + hours) * HOUR_MS + minutes * 60_000 + seconds * 1000;
  return years !== 0 || months !== 0 ? { ms, calendar: { years, months } } : { ms };
}

/**
 * Parses an ISO-8601 repeating interval as Esper does (TimerScheduleISO8601Parser): `R<n>/<date>/<period>`,
 * `R<n>/<period>`, `<date>/<period>`, `<date>` or `<period>`; `R` without a number repeats without end.
 * Returns the plan, or a message saying what is wrong.
 */
export function parseIsoSchedule(iso: string): SchedulePlan | string {
  // Bounded, as a schedule may be read from an event.
  if (iso.length > 200) return 'the schedule is longer than 200 characters';
  const text = iso.trim();
  if (text === '') return 'the schedule is empty';
  if (text.endsWith('/')) return `'${text}' lacks its period`;
  const parts = text.split('/');
  if (parts.length > 3) return `'${text}' has more than three parts`;
  const fail = (why: string) => `cannot read '${text}': ${why}`;
  // Which part is which: three are R/date/period; two are R/period or date/period; one is a period or a date.
  let repeatPart: string | undefined;
  let datePart: string | undefined;
  let periodPart: string | undefined;
  if (parts.length === 3) {
    if (!parts[0].startsWith('R')) return fail(`invalid repeat '${parts[0]}', expected R`);
    [repeatPart, datePart, periodPart] = parts;
  } else if (parts.length === 2) {
    if (parts[0] === '') return fail('expected a repeat or a date before the period');
    if (parts[0].startsWith('R')) repeatPart = parts[0];
    else datePart = parts[0];
    periodPart = parts[1];
  } else if (parts[0].startsWith('P')) {
    periodPart = parts[0];
  } else {
    datePart = parts[0];
  }
  let repetitions: number | null = null;
  if (repeatPart !== undefined) {
    // `R` alone repeats without end; a number is read as Java's Long.parseLong reads it (an optional sign).
    const digits = repeatPart.slice(1);
    if (digits !== '' && (!/^[+-]?\d+$/.test(digits) || !Number.isSafeInteger(Number(digits)))) return fail(`invalid repeat '${repeatPart}'`);
    repetitions = digits === '' ? -1 : Number(digits);
  }
  let date: number | null = null;
  if (datePart !== undefined) {
    date = scheduleDate(datePart);
    if (date === null) return fail(`'${datePart}' is not an ISO-8601 date`);
  }
  let period: Period | null = null;
  if (periodPart !== undefined) {
    const p = isoPeriod(periodPart);
    if (typeof p === 'string') return fail(p);
    period = p;
  }
  return { date, period, repetitions };
}

/** `factor` periods after `time` (years, then months on the calendar, then the fixed part), as Calendar.add does. */
function addPeriods(time: number, period: Period, factor: number): number {
  const c = period.calendar;
  return afterPeriod(time, {
    ms: period.ms * factor,
    ...(c ? { calendar: { years: c.years * factor, months: c.months * factor } } : {}),
  });
}

/**
 * The first time after `now` that is `reference` plus a whole number of periods, and that number (Esper's
 * CalendarOpPlusFastAddHelper.computeNextDue: it jumps most of the way by multiplication, then steps, so
 * calendar periods land where Esper's land).
 */
function nextDue(now: number, period: Period, reference: number): { factor: number; time: number } {
  if (reference > now) return { factor: 0, time: reference };
  let work = addPeriods(reference, period, 1);
  if (work > now) return { factor: 1, time: work };
  let factor = 1;
  const multiplier = Math.trunc((now - reference) / (work - reference)) - 1;
  work = addPeriods(work, period, multiplier);
  factor += multiplier;
  if (work <= now) {
    while (work <= now) {
      work = addPeriods(work, period, 1);
      factor++;
    }
    return { factor, time: work };
  }
  while (work > now) {
    work = addPeriods(work, period, -1);
    factor--;
  }
  return { factor: factor + 1, time: addPeriods(work, period, 1) };
}

/** The progress of a schedule that starts at `now`. */
export function startSchedule(plan: SchedulePlan, now: number): ScheduleProgress {
  return { anchor: plan.date ?? now, last: null, count: 0 };
}

/**
 * The next time the schedule is due after `now`, updating `progress`; null when it has ended (Esper's
 * TimerScheduleObserver.computeNextSetLastScheduled).
 */
export function nextScheduled(plan: SchedulePlan, progress: ScheduleProgress, now: number): number | null {
  const due = dueAfter(plan, progress, now);
  // A time past what a date holds (a period of a billion years) is never reached.
  if (due !== null && !(Math.abs(due) <= MAX_DATE_MS)) {
    progress.count = null;
    return null;
  }
  return due;
}

function dueAfter(plan: SchedulePlan, progress: ScheduleProgress, now: number): number | null {
  if (progress.count === null) return null;
  if (plan.repetitions === null && plan.period === null) {
    // A date alone: once, at the date.
    progress.count = null;
    return progress.anchor > now ? progress.anchor : null;
  }
  if (plan.repetitions === null) {
    // A period without a count: once, one period after the date or the start.
    progress.count = null;
    const due = addPeriods(progress.anchor, plan.period!, 1);
    return due > now ? due : null;
  }
  if (progress.last === null) {
    progress.last = progress.anchor;
    if (plan.date !== null) progress.count = 1;
  }
  const next = nextDue(now, plan.period!, progress.last);
  if (plan.repetitions === -1) {
    progress.last = next.time;
    return next.time;
  }
  progress.count += next.factor;
  if (progress.count <= plan.repetitions) {
    progress.last = next.time;
    if (next.time > now) return next.time;
  }
  progress.count = null;
  return null;
}
