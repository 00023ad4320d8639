/**
 * Next firing time of an EventBridge Scheduler expression: `at(...)`, `rate(...)` or the
 * six-field `cron(minutes hours day-of-month month day-of-week year)`, in the schedule's time zone.
 *
 * Pure (no SDK, no aws-cdk-lib): the CLI (`sqs-jobs schedules`) and the construct library's
 * synth-time check both read expressions with it, so they agree on what is valid.
 *
 * cron() is computed by croner behind a small adapter (`toCronerPattern`) that checks the AWS
 * dialect field by field, with messages naming the field and the value, and translates it:
 *
 * - 6 AWS fields become croner's 7 (`0` seconds first; `mode: '7-part'`).
 * - `?` (required in exactly one of day-of-month and day-of-week) becomes `*`; with one of the two
 *   fields `*`, AND and OR agree, and `domAndDow: true` makes croner combine them with AND.
 * - Day-of-week 1-7 = SUN-SAT is croner's Quartz numbering (`alternativeWeekdays: true`).
 * - Names (JAN-DEC, SUN-SAT, any case) become numbers, so croner only sees numbers.
 * - Steps are spelt out as ranges: `n/step` becomes `n-max/step` and a step after `*` becomes
 *   `min-max/step` (croner takes only a range or `*` before a step, and no step longer than the
 *   field; a step past the end of its range leaves the start value alone).
 * - Day-of-month `L`, `LW` and `nW` pass through; day-of-week `nL` becomes `n#L` (last weekday n
 *   of the month), `n#k` passes through, and `L` alone is the last day of the week, Saturday (7).
 * - Year `*` becomes `1970-2199`, the years EventBridge Scheduler accepts.
 *
 * Daylight saving time, as EventBridge Scheduler documents it: a time that does not exist (clocks
 * go forward) is skipped, and a time that occurs twice (clocks go back) fires once, the first
 * time. croner instead moves a fixed time in the gap to the end of the gap and fires an interval
 * pattern on both occurrences, so `cronTime` drops those firings.
 */
import { Cron } from 'croner';

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
const FIRST_YEAR = 1970;
const LAST_YEAR = 2199;

/** The next firing strictly after `now`, or undefined when the schedule never fires again. */
export function nextFiring(expression: string, options: NextFiringOptions): Date | undefined {
  const tz = options.timezone || 'UTC';
  const match = /^(at|rate|cron)\((.*)\)$/.exec(expression.trim());
  if (!match) throw new ScheduleExpressionError(`Not a schedule expression: '${expression}'`);
  const [, kind, body] = match;
  formatter(tz); // an unknown zone fails here, whatever the kind of expression
  const notBefore = Math.max(options.now.getTime() + 1, options.startDate?.getTime() ?? 0);
  let next: number | undefined;
  if (kind === 'at') next = atTime(body, tz, notBefore);
  else if (kind === 'rate') next = rateTime(body, options, notBefore);
  else next = cronTime(toCronerPattern(body), tz, notBefore, options.endDate?.getTime());
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

/** The croner options every translated pattern is read with. */
const CRONER_OPTIONS = { mode: '7-part', domAndDow: true, alternativeWeekdays: true } as const;

/**
 * Checks the body of an AWS `cron(...)` and translates it into a 7-field croner pattern, to be
 * read with `{ mode: '7-part', domAndDow: true, alternativeWeekdays: true }` (see the module
 * comment for the rules). Throws ScheduleExpressionError naming the field and the value.
 */
export function toCronerPattern(body: string): string {
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
  return [
    '0',
    values(min, 0, 59, 'minutes'),
    values(hour, 0, 23, 'hours'),
    dayOfMonth(dom),
    values(month, 1, 12, 'month', MONTHS),
    dayOfWeek(dow),
    year === '*' ? `${FIRST_YEAR}-${LAST_YEAR}` : values(year, FIRST_YEAR, LAST_YEAR, 'year'),
  ].join(' ');
}

/** A list of `*`, values, ranges and steps, with names turned into numbers. */
function values(field: string, min: number, max: number, what: string, names?: string[]): string {
  return field
    .split(',')
    .map((part) => {
      const m = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(part);
      if (!m) throw new ScheduleExpressionError(`cron(): cannot read '${part}' in the ${what} field`);
      const from = m[1] === '*' ? min : value(m[1], min, max, what, names);
      const to = m[2] !== undefined ? value(m[2], min, max, what, names) : m[1] === '*' || m[3] ? max : from;
      const step = m[3] !== undefined ? Number(m[3]) : 1;
      if (step < 1 || to < from)
        throw new ScheduleExpressionError(`cron(): bad range '${part}' in the ${what} field`);
      if (part === '*') return '*';
      if (from === to || from + step > to) return String(from);
      return step === 1 ? `${from}-${to}` : `${from}-${to}/${step}`;
    })
    .join(',');
}

function value(text: string, min: number, max: number, what: string, names?: string[]): number {
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  const n = named >= 0 ? named + min : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new ScheduleExpressionError(`cron(): '${text}' is outside ${min}-${max} in the ${what} field`);
  }
  return n;
}

function dayOfMonth(field: string): string {
  if (field === '?' || field === '*') return '*';
  const upper = field.toUpperCase();
  if (upper === 'L' || upper === 'LW') return upper;
  const nearest = /^(\d+)W$/i.exec(field);
  if (nearest) return `${value(nearest[1], 1, 31, 'day-of-month')}W`;
  return values(field, 1, 31, 'day-of-month');
}

function dayOfWeek(field: string): string {
  if (field === '?' || field === '*') return '*';
  if (field.toUpperCase() === 'L') return '7';
  const nth = /^([A-Za-z0-9]+)#([1-5])$/.exec(field);
  if (nth) return `${value(nth[1], 1, 7, 'day-of-week', DAYS)}#${nth[2]}`;
  const last = /^([A-Za-z0-9]+)L$/i.exec(field);
  if (last) return `${value(last[1], 1, 7, 'day-of-week', DAYS)}#L`;
  return values(field, 1, 7, 'day-of-week', DAYS);
}

function cronTime(pattern: string, tz: string, notBefore: number, until?: number): number | undefined {
  let cron: Cron;
  try {
    cron = new Cron(pattern, { ...CRONER_OPTIONS, timezone: tz });
  } catch (error) {
    // The adapter should have caught it; say what croner said rather than fail unnamed.
    throw new ScheduleExpressionError(`cron(): ${(error as Error).message}`);
  }
  // croner's nextRun is strictly after its argument: start just before the first allowed instant.
  let after = new Date(notBefore - 1);
  for (;;) {
    const run = cron.nextRun(after);
    if (!run || (until !== undefined && run.getTime() > until)) return undefined;
    // Skip a fixed time croner moved past a DST gap (its wall time no longer matches) and the
    // second occurrence of a wall time repeated when the clocks go back.
    if (cron.match(run) && !isRepeatedWallTime(run.getTime(), tz)) return run.getTime();
    after = run;
  }
}

/** True when the wall-clock time of `ms` in `tz` already happened earlier (clocks went back). */
function isRepeatedWallTime(ms: number, tz: string): boolean {
  // Clock changes are at most a few hours; 6 h before sees any change that could repeat `ms`.
  const shift = offsetAt(ms - 6 * 60 * MINUTE, tz) - offsetAt(ms, tz);
  return shift > 0 && wallMs(ms - shift, tz) === wallMs(ms, tz);
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

/** The wall-clock time of an instant in `tz`, as milliseconds of the same reading in UTC. */
function wallMs(ms: number, tz: string): number {
  const w = Object.fromEntries(
    formatter(tz)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, Number(p.value)]),
  );
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** Offset of the zone at an instant, ms (wall clock minus UTC). */
function offsetAt(ms: number, tz: string): number {
  return wallMs(ms, tz) - Math.floor(ms / 1000) * 1000;
}

/** The instant a wall-clock time in `tz` names (a time skipped by DST maps past the gap). */
export function zonedToUtc(y: number, m: number, d: number, h: number, mi: number, tz: string): number {
  const wall = Date.UTC(y, m - 1, d, h, mi);
  const first = wall - offsetAt(wall, tz);
  const second = wall - offsetAt(first, tz);
  return first === second ? first : Math.max(first, second);
}
