/**
 * Next firing time of an EventBridge Scheduler expression: `at(...)`, `rate(...)` or the
 * six-field `cron(minutes hours day-of-month month day-of-week year)`, in the schedule's time zone.
 *
 * Supported cron syntax: `*`, `?`, values, names (JAN-DEC, SUN-SAT), ranges, `/` steps, lists,
 * `L` (last day of month; `nL` last weekday n of the month) and `n#k` (k-th weekday n).
 * `W` is not supported (a ScheduleExpressionError says so). Day-of-week 1 = Sunday.
 */

export class ScheduleExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleExpressionError';
  }
}

export interface NextFiringOptions {
  readonly now: Date;
  /** IANA zone of the expression. @default 'UTC' */
  readonly timezone?: string;
  /** Schedule start: no firing before it; anchors rate(). */
  readonly startDate?: Date;
  readonly endDate?: Date;
  /** Anchors rate() when there is no start date. */
  readonly creationDate?: Date;
}

const MINUTE = 60_000;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const RATE_UNITS: Record<string, number> = { minute: MINUTE, hour: 60 * MINUTE, day: 1440 * MINUTE };
const LAST_YEAR = 2199;

/** The next firing strictly after `now`, or undefined when the schedule never fires again. */
export function nextFiring(expression: string, options: NextFiringOptions): Date | undefined {
  const tz = options.timezone || 'UTC';
  const match = /^(at|rate|cron)\((.*)\)$/.exec(expression.trim());
  if (!match) throw new ScheduleExpressionError(`Not a schedule expression: '${expression}'`);
  const [, kind, body] = match;
  const notBefore = Math.max(options.now.getTime() + 1, options.startDate?.getTime() ?? 0);
  let next: number | undefined;
  if (kind === 'at') next = atTime(body, tz, notBefore);
  else if (kind === 'rate') next = rateTime(body, options, notBefore);
  else next = cronTime(parseCron(body), tz, notBefore);
  if (next === undefined || (options.endDate && next > options.endDate.getTime())) return undefined;
  return new Date(next);
}

function atTime(body: string, tz: string, notBefore: number): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body.trim());
  if (!m) throw new ScheduleExpressionError(`at() needs yyyy-mm-ddThh:mm:ss; got '${body}'`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const at = zonedToUtc(y, mo, d, h, mi, tz) + s * 1000;
  return at >= notBefore ? at : undefined;
}

function rateTime(body: string, options: NextFiringOptions, notBefore: number): number {
  const m = /^(\d+)\s+(minute|hour|day)s?$/.exec(body.trim());
  const value = m ? Number(m[1]) : 0;
  if (!m || value < 1)
    throw new ScheduleExpressionError(`rate() needs '<n> minutes|hours|days'; got '${body}'`);
  const period = value * RATE_UNITS[m[2]];
  const anchor = (options.startDate ?? options.creationDate ?? options.now).getTime();
  if (anchor >= notBefore) return anchor;
  return anchor + Math.ceil((notBefore - anchor) / period) * period;
}

interface Cron {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly dayOfMonth: DayRule;
  readonly months: ReadonlySet<number>;
  readonly dayOfWeek: DayRule;
  readonly years: ReadonlySet<number> | undefined;
}

/** Matches a calendar day; `undefined` means `?` / `*` (any day). */
type DayRule = ((y: number, m: number, d: number) => boolean) | undefined;

export function parseCron(body: string): Cron {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(
      `cron() needs 6 fields (minutes hours day-of-month month day-of-week year); got ${fields.length} in '${body}'`,
    );
  }
  const [min, hour, dom, month, dow, year] = fields;
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleExpressionError(
      `cron(): exactly one of day-of-month and day-of-week must be '?' in '${body}'`,
    );
  }
  return {
    minutes: [...values(min, 0, 59, 'minutes')].sort((a, b) => a - b),
    hours: [...values(hour, 0, 23, 'hours')].sort((a, b) => a - b),
    dayOfMonth: dayOfMonthRule(dom),
    months: values(month, 1, 12, 'month', MONTHS),
    dayOfWeek: dayOfWeekRule(dow),
    years: year === '*' ? undefined : values(year, 1970, LAST_YEAR, 'year'),
  };
}

function values(field: string, min: number, max: number, what: string, names?: string[]): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw new ScheduleExpressionError(`cron(): cannot read '${part}' in the ${what} field`);
    const from = m[1] === '*' ? min : value(m[1], min, max, what, names);
    const to = m[2] !== undefined ? value(m[2], min, max, what, names) : m[1] === '*' || m[3] ? max : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (step < 1 || to < from)
      throw new ScheduleExpressionError(`cron(): bad range '${part}' in the ${what} field`);
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

function value(text: string, min: number, max: number, what: string, names?: string[]): number {
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  const n = named >= 0 ? named + min : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new ScheduleExpressionError(`cron(): '${text}' is outside ${min}-${max} in the ${what} field`);
  }
  return n;
}

function dayOfMonthRule(field: string): DayRule {
  if (field === '?' || field === '*') return undefined;
  if (/W/i.test(field))
    throw new ScheduleExpressionError(`cron(): 'W' (nearest weekday) is not supported: '${field}'`);
  if (field === 'L') return (y, m, d) => d === daysIn(y, m);
  const days = values(field, 1, 31, 'day-of-month');
  return (_y, _m, d) => days.has(d);
}

function dayOfWeekRule(field: string): DayRule {
  if (field === '?' || field === '*') return undefined;
  const nth = /^([A-Za-z0-9]+)#([1-5])$/.exec(field);
  if (nth) {
    const day = value(nth[1], 1, 7, 'day-of-week', DAYS);
    const k = Number(nth[2]);
    return (y, m, d) => weekday(y, m, d) === day && Math.ceil(d / 7) === k;
  }
  const last = /^([A-Za-z0-9]*)L$/.exec(field);
  if (last) {
    const day = last[1] ? value(last[1], 1, 7, 'day-of-week', DAYS) : 7;
    return (y, m, d) => weekday(y, m, d) === day && d + 7 > daysIn(y, m);
  }
  const days = values(field, 1, 7, 'day-of-week', DAYS);
  return (y, m, d) => days.has(weekday(y, m, d));
}

function cronTime(cron: Cron, tz: string, notBefore: number): number | undefined {
  // Walk wall-clock days in the zone from the day of `notBefore`; within a day try times in order.
  const start = utcToWall(notBefore, tz);
  let day = Date.UTC(start.y, start.m - 1, start.d);
  const lastYear = cron.years ? Math.max(...cron.years) : LAST_YEAR;
  for (;;) {
    const date = new Date(day);
    const y = date.getUTCFullYear();
    const m = date.getUTCMonth() + 1;
    const d = date.getUTCDate();
    if (y > lastYear) return undefined;
    if (matchesDay(cron, y, m, d)) {
      for (const h of cron.hours) {
        for (const mi of cron.minutes) {
          const at = zonedToUtc(y, m, d, h, mi, tz);
          if (at >= notBefore) return at;
        }
      }
    }
    day += 1440 * MINUTE;
  }
}

function matchesDay(cron: Cron, y: number, m: number, d: number): boolean {
  if (cron.years && !cron.years.has(y)) return false;
  if (!cron.months.has(m)) return false;
  if (cron.dayOfMonth && !cron.dayOfMonth(y, m, d)) return false;
  if (cron.dayOfWeek && !cron.dayOfWeek(y, m, d)) return false;
  return true;
}

/** 1 = Sunday … 7 = Saturday, as in cron. */
function weekday(y: number, m: number, d: number): number {
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 1;
}

function daysIn(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new ScheduleExpressionError(`Unknown time zone '${tz}'`);
    }
    formats.set(tz, f);
  }
  return f;
}

function utcToWall(ms: number, tz: string) {
  const parts = Object.fromEntries(
    formatter(tz)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, Number(p.value)]),
  );
  return { y: parts.year, m: parts.month, d: parts.day, h: parts.hour, mi: parts.minute, s: parts.second };
}

/** Offset of the zone at an instant, ms (wall clock minus UTC). */
function offsetAt(ms: number, tz: string): number {
  const w = utcToWall(ms, tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/** The instant a wall-clock time in `tz` names (a time skipped by DST maps past the gap). */
export function zonedToUtc(y: number, m: number, d: number, h: number, mi: number, tz: string): number {
  const wall = Date.UTC(y, m - 1, d, h, mi);
  const first = wall - offsetAt(wall, tz);
  const second = wall - offsetAt(first, tz);
  return first === second ? first : Math.max(first, second);
}
