/**
 * Validation of `enqueue` / `enqueueBatch` options, before anything is written or sent. Every
 * error is a ConfigError naming the option, the allowed values and the value given; the limits
 * are exported so the CLI checks its flags against the same numbers.
 */
import { GROUP_ID_PATTERN, isIntInRange, isJobType, JOB_TYPE_RULE } from '../shared/checks';
import { ConfigError } from '../shared/errors';
import type { EnqueueOptions } from './types';

/** Longest idempotency key, characters (it is hashed into the job id, but travels in every message). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 512;
/**
 * Longest delay: 365 days. A delay becomes a one-time Scheduler `at()` schedule; a year is far
 * beyond any ledger TTL, so a longer one is a unit mistake (ms for s) rather than a plan.
 */
export const MAX_DELAY_SECONDS = 365 * 24 * 3600;
/** Longest correlation id, characters (it is repeated in every log line of the job). */
export const MAX_CORRELATION_ID_LENGTH = 256;
/** SQS MessageGroupId: 1-128 characters, letters, digits and ASCII punctuation. */
export { GROUP_ID_PATTERN } from '../shared/checks';

/** Every key of EnqueueOptions: adding an option to the type without listing it here fails to compile. */
const OPTION_KEYS: { readonly [K in keyof Required<EnqueueOptions>]: true } = {
  lane: true,
  idempotencyKey: true,
  rerun: true,
  delaySeconds: true,
  runAt: true,
  groupId: true,
  tenant: true,
  correlationId: true,
};

/** The options with the delay resolved: `delaySeconds` is what the job waits, 0 to MAX_DELAY_SECONDS. */
export interface ValidEnqueueOptions {
  readonly lane?: string;
  readonly idempotencyKey?: string;
  readonly rerun?: boolean;
  readonly delaySeconds: number;
  readonly runAt?: Date;
  readonly groupId?: string;
  readonly tenant?: string;
  readonly correlationId?: string;
}

export interface EnqueueValidationContext {
  /** Epoch milliseconds: runAt is measured from here. */
  readonly now: number;
  /** The job definition's `idempotencyKey(payload)`, called only when the options carry no key. */
  readonly deriveKey?: () => unknown;
  /** The job definition's `tenant(payload)`, called only when the options carry no tenant. */
  readonly deriveTenant?: () => unknown;
}

const GROUP_ID_RULE =
  'a string of 1-128 characters: letters, digits and punctuation !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ (no spaces)';

/**
 * Checks one job's options. A `runAt` in the past runs the job now (delay 0): clocks differ and a
 * computed time may pass while it is being computed. Options not in EnqueueOptions are refused
 * (a misspelt `delay: 60` would otherwise run the job at once); keys set to `undefined` are ignored.
 */
export function validateEnqueueOptions(
  type: unknown,
  options: unknown,
  context: EnqueueValidationContext,
): ValidEnqueueOptions {
  const where = `enqueue(${JSON.stringify(type) ?? String(type)})`;
  if (!isJobType(type)) {
    throw new ConfigError(`${where} type`, JOB_TYPE_RULE, summary(type));
  }
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(`${where} options`, 'an object (EnqueueOptions) or undefined', summary(options));
  }
  const o = options as Record<string, unknown>;
  const field = (name: string) => `${where} options.${name}`;

  for (const [name, value] of Object.entries(o)) {
    if (value !== undefined && !Object.hasOwn(OPTION_KEYS, name)) {
      throw new ConfigError(
        field(name),
        `absent: known options are ${Object.keys(OPTION_KEYS).join(', ')}`,
        summary(value),
      );
    }
  }

  if (o.lane !== undefined && (typeof o.lane !== 'string' || o.lane.trim() === '')) {
    throw new ConfigError(field('lane'), 'a non-empty lane name', summary(o.lane));
  }

  let idempotencyKey = checkKey(field('idempotencyKey'), o.idempotencyKey);
  if (idempotencyKey === undefined && o.idempotencyKey === undefined && context.deriveKey) {
    idempotencyKey = checkKey(`defineJob('${type}').idempotencyKey(payload)`, context.deriveKey());
  }

  if (o.rerun !== undefined && typeof o.rerun !== 'boolean') {
    throw new ConfigError(field('rerun'), 'true or false', summary(o.rerun));
  }

  if (o.delaySeconds !== undefined && o.runAt !== undefined) {
    throw new ConfigError(`${where} options.delaySeconds and options.runAt`, 'one or the other, not both', {
      delaySeconds: summary(o.delaySeconds),
      runAt: dateText(o.runAt),
    });
  }
  let delaySeconds = 0;
  let runAt: Date | undefined;
  if (o.runAt !== undefined) {
    runAt = checkRunAt(field('runAt'), o.runAt, context.now);
    delaySeconds = Math.max(0, Math.ceil((runAt.getTime() - context.now) / 1000));
  } else if (o.delaySeconds !== undefined) {
    const d = o.delaySeconds;
    if (!isIntInRange(d, 0, MAX_DELAY_SECONDS)) {
      throw new ConfigError(
        field('delaySeconds'),
        `a whole number of seconds from 0 to ${MAX_DELAY_SECONDS} (365 days)`,
        summary(d),
      );
    }
    delaySeconds = d;
  }

  if (o.groupId !== undefined && (typeof o.groupId !== 'string' || !GROUP_ID_PATTERN.test(o.groupId))) {
    throw new ConfigError(field('groupId'), GROUP_ID_RULE, summary(o.groupId));
  }
  // The tenant becomes a MessageGroupId, so it follows the same rule.
  let tenant = o.tenant;
  let tenantSetting = field('tenant');
  if (tenant === undefined && context.deriveTenant) {
    tenant = context.deriveTenant();
    tenantSetting = `defineJob('${type}').tenant(payload)`;
  }
  if (tenant !== undefined && (typeof tenant !== 'string' || !GROUP_ID_PATTERN.test(tenant))) {
    throw new ConfigError(tenantSetting, GROUP_ID_RULE, summary(tenant));
  }

  const correlationId = o.correlationId;
  if (
    correlationId !== undefined &&
    (typeof correlationId !== 'string' ||
      correlationId.trim() === '' ||
      correlationId.length > MAX_CORRELATION_ID_LENGTH)
  ) {
    throw new ConfigError(
      field('correlationId'),
      `a non-empty string of at most ${MAX_CORRELATION_ID_LENGTH} characters`,
      summary(correlationId),
    );
  }

  return {
    lane: o.lane as string | undefined,
    idempotencyKey,
    rerun: o.rerun as boolean | undefined,
    delaySeconds,
    runAt,
    groupId: o.groupId as string | undefined,
    tenant: tenant as string | undefined,
    correlationId: correlationId as string | undefined,
  };
}

function checkKey(setting: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new ConfigError(
      setting,
      `a string of 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters, not only whitespace`,
      summary(value),
    );
  }
  return value;
}

function checkRunAt(setting: string, value: unknown, now: number): Date {
  const latest = now + MAX_DELAY_SECONDS * 1000;
  const allowed = `a valid Date at most 365 days ahead (until ${new Date(latest).toISOString()}; a past time runs now)`;
  if (!isDate(value) || !Number.isFinite(value.getTime()))
    throw new ConfigError(setting, allowed, dateText(value));
  if (value.getTime() > latest) throw new ConfigError(setting, allowed, value.toISOString());
  return value;
}

function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

/** A Date as its ISO text ('Invalid Date' when it has none); anything else as summary() does. */
function dateText(value: unknown): unknown {
  if (!isDate(value)) return summary(value);
  return Number.isFinite(value.getTime()) ? value.toISOString() : 'Invalid Date';
}

/** The given value for an error message: long strings clipped, values JSON cannot show named. */
function summary(value: unknown): unknown {
  if (typeof value === 'string' && value.length > 60)
    return `${value.slice(0, 40)}… (${value.length} characters)`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function' || typeof value === 'symbol') return `(${typeof value})`;
  if (isDate(value)) return dateText(value);
  return value;
}
