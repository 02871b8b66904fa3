/**
 * duration.ne: time periods (every unit and abbreviation, combinations in descending order, a bare number being
 * seconds) wherever they appear, and every form of timer:at parameters.
 */
import { parsePattern } from '../parser';
import { stripSpans, everyDistinct, F, p, within, withinMax, interval } from '../testing/ast-shorthand';
import { durationCases, timerAtCases } from '../testing/duration.cases';

// Every row with three values: a missing one would make jest pass its `done` callback in its place.
const cases = durationCases.map(([text, ms, calendar]) => [text, ms, calendar ?? null] as const);

describe('time periods', () => {
  it.each(cases)('timer:interval(%s) is %d ms (after the calendar part %j)', (text, ms, calendar) => {
    expect(stripSpans(parsePattern(`timer:interval(${text})`))).toEqual(interval(ms, calendar ?? undefined));
  });

  it.each(cases)('timer:within(%s) is %d ms (after the calendar part %j)', (text, ms, calendar) => {
    expect(stripSpans(parsePattern(`A where timer:within(${text})`))).toEqual(within(ms, F('A'), calendar ?? undefined));
  });

  it('with years or months, takes every part as a whole number, as Esper does', () => {
    expect(stripSpans(parsePattern('timer:interval(1.5 months)'))).toEqual(interval(0, { years: 0, months: 1 }));
    expect(stripSpans(parsePattern('timer:interval(1 month 1.5 sec)'))).toEqual(interval(1000, { years: 0, months: 1 }));
    expect(stripSpans(parsePattern('timer:interval(0.5 year)'))).toEqual(interval(0, { years: 0, months: 0 }));
    // Without them, fractions stay.
    expect(stripSpans(parsePattern('timer:interval(1 day 1.5 sec)'))).toEqual(interval(86_401_500));
  });

  it('refuses a calendar period past 10,000 years (its end would not be a time)', () => {
    expect(stripSpans(parsePattern('timer:interval(10000 years)'))).toEqual(interval(0, { years: 10_000, months: 0 }));
    expect(() => parsePattern('A where timer:within(300000 years)')).toThrow(/a time period of more than 10000 years/);
    expect(() => parsePattern('timer:interval(9999 years 13 months)')).toThrow(/more than 10000 years/);
  });

  it('timer:withinmax takes a time period and a count', () => {
    expect(stripSpans(parsePattern('A where timer:withinmax(1 hour 30 min, 10)'))).toEqual(withinMax(90 * 60 * 1000, 10, F('A')));
  });

  it('an every-distinct expiry is a time period with a unit', () => {
    expect(stripSpans(parsePattern('every-distinct(a.x, 2 days 3 hours) a=A'))).toEqual(
      everyDistinct([p('a.x')], F('a=A'), (2 * 24 + 3) * 3600 * 1000),
    );
  });

  it('a time period spans from its first number to its last unit', () => {
    const node = parsePattern('timer:interval( 2 minutes  5 seconds )');
    if (node.kind !== 'interval') throw new Error('expected interval');
    expect(node.duration.span).toEqual({ offset: 16, line: 1, column: 17, length: 20 });
  });

  it('a bare number of seconds spans the number', () => {
    const node = parsePattern('timer:interval(15)');
    if (node.kind !== 'interval') throw new Error('expected interval');
    expect(node.duration).toEqual({ ms: 15000, span: { offset: 15, line: 1, column: 16, length: 2 } });
  });
});

describe('timer:at', () => {
  it.each(timerAtCases)('%s: %s', (_behaviour, text, expected) => {
    expect(stripSpans(parsePattern(text))).toEqual(expected);
  });

  it('each field spans its parameter', () => {
    const node = parsePattern('timer:at(*/5, [1, 2], *, 1:3, *)');
    if (node.kind !== 'at') throw new Error('expected at');
    expect(node.minutes.span).toEqual({ offset: 9, line: 1, column: 10, length: 3 });
    expect(node.hours.span).toEqual({ offset: 14, line: 1, column: 15, length: 6 });
    expect(node.months.span).toEqual({ offset: 25, line: 1, column: 26, length: 3 });
    expect(node.seconds).toBeUndefined();
  });
});
