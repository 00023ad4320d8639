import { describe, expect, it } from 'vitest';
import { nextFiring, ScheduleExpressionError, zonedToUtc } from '../../../cli/schedule-expression';

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
    ['cron(0 3 15W * ? *)', /'W'/],
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
});
