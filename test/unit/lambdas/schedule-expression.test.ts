import { describe, expect, it } from 'vitest';
import {
  nextFiring,
  ScheduleExpressionError,
  toCronerPattern,
  zonedToUtc,
} from '../../../lambdas/shared/schedule-expression';

const now = new Date('2026-03-04T10:17:30Z'); // a Wednesday
const next = (expr: string, opts: Partial<Parameters<typeof nextFiring>[1]> = {}) =>
  nextFiring(expr, { now, ...opts })?.toISOString();

describe('nextFiring', () => {
  it.each([
    ['cron(0 3 * * ? *)', '2026-03-05T03:00:00.000Z'],
    ['cron(30 10 * * ? *)', '2026-03-04T10:30:00.000Z'],
    ['cron(*/15 * * * ? *)', '2026-03-04T10:30:00.000Z'],
    ['cron(0/20 9-11 * * ? *)', '2026-03-04T10:20:00.000Z'],
    ['cron(0 8 ? * MON-FRI *)', '2026-03-05T08:00:00.000Z'],
    ['cron(0 8 ? * 1 *)', '2026-03-08T08:00:00.000Z'],
    ['cron(0 12 1,15 * ? *)', '2026-03-15T12:00:00.000Z'],
    ['cron(0 0 L * ? *)', '2026-03-31T00:00:00.000Z'],
    ['cron(0 0 1 JAN ? *)', '2027-01-01T00:00:00.000Z'],
    ['cron(0 9 ? * 2#1 *)', '2026-04-06T09:00:00.000Z'],
    ['cron(0 9 ? * 6L *)', '2026-03-27T09:00:00.000Z'],
    ['cron(0 0 29 2 ? *)', '2028-02-29T00:00:00.000Z'],
    ['cron(0 0 1 1 ? 2030)', '2030-01-01T00:00:00.000Z'],
    // L: the last day of the month (February of a leap year too), or the last weekday n of it.
    ['cron(0 0 L FEB ? *)', '2027-02-28T00:00:00.000Z'],
    ['cron(0 0 L FEB ? 2028)', '2028-02-29T00:00:00.000Z'],
    ['cron(0 9 ? * FRIL *)', '2026-03-27T09:00:00.000Z'],
    // L alone in day-of-week: the last day of the week, Saturday.
    ['cron(0 9 ? * L *)', '2026-03-07T09:00:00.000Z'],
    // W: the weekday nearest the day, within its month. 15 March 2026 is a Sunday, 1 August a
    // Saturday (→ Monday the 3rd, not Friday 31 July), 31 May a Sunday (→ Friday the 29th).
    ['cron(0 3 15W * ? *)', '2026-03-16T03:00:00.000Z'],
    ['cron(0 3 1W AUG ? *)', '2026-08-03T03:00:00.000Z'],
    ['cron(0 3 31W MAY ? *)', '2026-05-29T03:00:00.000Z'],
    ['cron(0 3 LW MAY ? *)', '2026-05-29T03:00:00.000Z'],
    // #: the k-th weekday n. March 2026's second Monday is the 9th; the first month with a fifth
    // Friday after now is May (1, 8, 15, 22, 29).
    ['cron(0 9 ? * MON#2 *)', '2026-03-09T09:00:00.000Z'],
    ['cron(0 9 ? * 6#5 *)', '2026-05-29T09:00:00.000Z'],
    // The year field: lists, ranges with steps, the last year AWS accepts.
    ['cron(0 0 1 1 ? 2026,2031)', '2031-01-01T00:00:00.000Z'],
    ['cron(0 12 ? * MON#1 2027-2029/2)', '2027-01-04T12:00:00.000Z'],
    ['cron(0 0 1 1 ? 2199)', '2199-01-01T00:00:00.000Z'],
  ])('%s (UTC) → %s', (expr, expected) => {
    expect(next(expr)).toBe(expected);
  });

  it('is strictly after now when now is exactly a firing', () => {
    expect(next('cron(* * * * ? *)', { now: new Date('2026-03-04T10:18:00Z') })).toBe(
      '2026-03-04T10:19:00.000Z',
    );
  });

  it('honours the time zone, across a daylight-saving change', () => {
    // 03:00 in New York: EST (UTC-5) before 8 March 2026, EDT (UTC-4) after.
    expect(next('cron(0 3 * * ? *)', { timezone: 'America/New_York' })).toBe('2026-03-05T08:00:00.000Z');
    expect(
      next('cron(0 3 * * ? *)', { timezone: 'America/New_York', now: new Date('2026-03-08T12:00:00Z') }),
    ).toBe('2026-03-09T07:00:00.000Z');
    expect(next('cron(0 9 * * ? *)', { timezone: 'Asia/Kolkata' })).toBe('2026-03-05T03:30:00.000Z');
  });

  it('maps a wall time skipped by daylight saving past the gap', () => {
    // 02:30 on 8 March 2026 does not exist in New York (02:00 → 03:00 EDT).
    expect(new Date(zonedToUtc(2026, 3, 8, 2, 30, 'America/New_York')).toISOString()).toBe(
      '2026-03-08T07:30:00.000Z',
    );
  });

  it('computes rate() from the start date, else the creation date', () => {
    const start = new Date('2026-03-04T10:00:00Z');
    expect(next('rate(5 minutes)', { startDate: start })).toBe('2026-03-04T10:20:00.000Z');
    expect(next('rate(1 hour)', { creationDate: start })).toBe('2026-03-04T11:00:00.000Z');
    expect(next('rate(2 days)', { startDate: new Date('2026-03-10T00:00:00Z') })).toBe(
      '2026-03-10T00:00:00.000Z',
    );
  });

  it('returns at() once, in its time zone, and nothing after it passed', () => {
    expect(next('at(2026-03-04T12:00:00)', { timezone: 'Europe/Berlin' })).toBe('2026-03-04T11:00:00.000Z');
    expect(next('at(2026-03-04T10:00:00)')).toBeUndefined();
  });

  it('respects start and end dates', () => {
    expect(next('cron(0 3 * * ? *)', { startDate: new Date('2026-04-01T00:00:00Z') })).toBe(
      '2026-04-01T03:00:00.000Z',
    );
    expect(next('cron(0 3 * * ? *)', { endDate: new Date('2026-03-05T02:00:00Z') })).toBeUndefined();
  });

  it('returns nothing for a cron that never fires again', () => {
    expect(next('cron(0 0 1 1 ? 2020)')).toBeUndefined();
    expect(next('cron(0 0 30 2 ? *)')).toBeUndefined();
  });

  it.each([
    ['cron(0 3 * * *)', /6 fields/],
    ['cron(0 3 * * 1 *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 3 ? * ? *)', /exactly one/],
    ['cron(61 3 * * ? *)', /outside 0-59/],
    ['cron(0 3 32W * ? *)', /'32' is outside 1-31 in the day-of-month field/],
    ['cron(0 3 ? * 0 *)', /'0' is outside 1-7 in the day-of-week field/],
    ['cron(0 3 ? * 8#1 *)', /'8' is outside 1-7 in the day-of-week field/],
    ['cron(0 3 ? * MON#6 *)', /cannot read 'MON#6' in the day-of-week field/],
    ['cron(0 0 1 1 ? 1969)', /'1969' is outside 1970-2199 in the year field/],
    ['cron(0 0 1 1 ? 2200)', /'2200' is outside 1970-2199 in the year field/],
    ['cron(0 3 * 5-2 ? *)', /bad range '5-2' in the month field/],
    ['cron(0 3 * FOO ? *)', /'FOO'/],
    ['rate(0 minutes)', /rate\(\)/],
    ['rate(5 weeks)', /rate\(\)/],
    ['at(2026-03-04 12:00)', /at\(\)/],
    ['every day', /Not a schedule expression/],
  ])('rejects %s', (expr, message) => {
    expect(() => next(expr)).toThrow(ScheduleExpressionError);
    expect(() => next(expr)).toThrow(message);
  });

  it('rejects an unknown time zone', () => {
    expect(() => next('cron(0 3 * * ? *)', { timezone: 'Mars/Olympus' })).toThrow(/Unknown time zone/);
  });

  it('steps through the years of a year range, and stops at 2199 for *', () => {
    expect(next('cron(0 12 ? * MON#1 2027-2029/2)', { now: new Date('2027-01-04T12:00:00Z') })).toBe(
      '2027-02-01T12:00:00.000Z',
    );
    expect(next('cron(0 12 1 1 ? 2027-2029/2)', { now: new Date('2027-01-04T12:00:00Z') })).toBe(
      '2029-01-01T12:00:00.000Z',
    );
    // 29 February: 2196 has one; 2200 is no leap year, and * means up to 2199.
    expect(next('cron(0 0 29 2 ? *)', { now: new Date('2197-01-01T00:00:00Z') })).toBeUndefined();
  });

  it('skips a time that daylight saving skips, as EventBridge Scheduler does', () => {
    // New York, 8 March 2026: 02:00 EST → 03:00 EDT, so 02:30 does not exist that day.
    const ny = { timezone: 'America/New_York' };
    expect(next('cron(30 2 * * ? *)', { ...ny, now: new Date('2026-03-07T12:00:00Z') })).toBe(
      '2026-03-09T06:30:00.000Z', // 02:30 EDT on the 9th
    );
    // Every 30 minutes: 01:30 EST, then 03:00 EDT.
    expect(next('cron(*/30 * * * ? *)', { ...ny, now: new Date('2026-03-08T06:45:00Z') })).toBe(
      '2026-03-08T07:00:00.000Z',
    );
    // Berlin, 29 March 2026: 02:00 CET → 03:00 CEST; the Sunday 02:30 run moves to next Sunday.
    expect(
      next('cron(30 2 ? * SUN *)', { timezone: 'Europe/Berlin', now: new Date('2026-03-22T12:00:00Z') }),
    ).toBe('2026-04-05T00:30:00.000Z');
  });

  it('fires once on a time daylight saving repeats, as EventBridge Scheduler does', () => {
    // New York, 1 November 2026: 02:00 EDT → 01:00 EST, so 01:00-01:59 happens twice.
    const ny = { timezone: 'America/New_York' };
    expect(next('cron(30 1 * * ? *)', { ...ny, now: new Date('2026-10-31T12:00:00Z') })).toBe(
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
    );
    expect(next('cron(30 1 * * ? *)', { ...ny, now: new Date('2026-11-01T05:30:00Z') })).toBe(
      '2026-11-02T06:30:00.000Z', // not 01:30 EST on the 1st
    );
    // Every 30 minutes: 01:30 EDT, then 02:00 EST (01:00 and 01:30 EST are repeats).
    expect(next('cron(*/30 * * * ? *)', { ...ny, now: new Date('2026-11-01T05:45:00Z') })).toBe(
      '2026-11-01T07:00:00.000Z',
    );
  });
});

describe('toCronerPattern (the AWS dialect in croner syntax)', () => {
  it.each([
    ['0 3 * * ? *', '0 0 3 * * * 1970-2199'],
    ['0 8 ? * MON-FRI *', '0 0 8 * * 2-6 1970-2199'],
    ['0/20 9-11 * * ? *', '0 0-59/20 9-11 * * * 1970-2199'],
    ['*/15 * ? jan,Jul SUN,7 *', '0 0-59/15 * * 1,7 1,7 1970-2199'],
    ['*/90 * * * ? *', '0 0 * * * * 1970-2199'],
    ['0 3 15W * ? *', '0 0 3 15W * * 1970-2199'],
    ['0 3 lw * ? *', '0 0 3 LW * * 1970-2199'],
    ['0 0 L * ? *', '0 0 0 L * * 1970-2199'],
    ['0 9 ? * 6L *', '0 0 9 * * 6#L 1970-2199'],
    ['0 9 ? * L *', '0 0 9 * * 7 1970-2199'],
    ['0 9 ? * fri#2 2027', '0 0 9 * * 6#2 2027'],
    ['0 0 1 1 ? 2027-2035/4', '0 0 0 1 1 * 2027-2035/4'],
  ])('%s → %s', (body, pattern) => {
    expect(toCronerPattern(body)).toBe(pattern);
  });
});
