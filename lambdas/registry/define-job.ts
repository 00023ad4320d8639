/** `defineJob` and `defineRegistry`: validated at definition time, so mistakes fail at cold start. */
import type * as z from 'zod';
import { MAX_BACKOFF_SECONDS } from '../shared/backoff';
import { intRangeText, isIntInRange, isJobType, JOB_TYPE_RULE } from '../shared/checks';
import {
  ConfigError,
  JobDefinitionError,
  PayloadValidationError,
  UnknownJobTypeError,
} from '../shared/errors';
import { type AnyJob, IDEMPOTENCY_MODES, type JobDefinition, type JobRegistry, type JobSpec } from './types';

/** Lane names as the JobQueue construct accepts them (lib/lanes.ts): no job can route elsewhere. */
const LANE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** `constructor`, `toString`, ...: names every plain object has, which the construct refuses as lanes. */
const RESERVED_LANE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Every key of JobSpec: adding one to the type without listing it here fails to compile. */
const SPEC_KEYS: { readonly [K in keyof JobSpec<string, z.ZodType, unknown>]-?: true } = {
  type: true,
  schema: true,
  lane: true,
  maxAttempts: true,
  backoff: true,
  timeoutSeconds: true,
  idempotency: true,
  idempotencyKey: true,
  keyRetentionSeconds: true,
  checkKeyPayload: true,
  tenant: true,
  tenantMetrics: true,
  rateLimit: true,
  concurrency: true,
  debounce: true,
  heartbeatSeconds: true,
  handler: true,
};
const BACKOFF_KEYS = ['baseSeconds', 'capSeconds'];
const RATE_LIMIT_KEYS = ['limit', 'perSeconds', 'key'];
const CONCURRENCY_KEYS = ['limit', 'key'];
const DEBOUNCE_KEYS = ['key', 'seconds', 'keep'];
/** Bounds of the job-control options (README "Job control"). */
export const JOB_CONTROL_LIMITS = {
  rateLimit: { min: 1, max: 100_000 },
  perSeconds: { min: 1, max: 86_400 },
  concurrency: { min: 1, max: 100 },
  debounceSeconds: { min: 1, max: 900 },
  heartbeatSeconds: { min: 1, max: 900 },
} as const;

/** Define a job type. The payload type of `handler` is inferred from `schema`. */
export function defineJob<const T extends string, S extends z.ZodType, R>(
  spec: JobSpec<T, S, R>,
): JobDefinition<T, S, R> {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new ConfigError('defineJob(spec)', 'an object with type, schema and handler', spec);
  }
  const where = `defineJob('${String(spec.type)}')`;
  // A misspelt option (`timeout`, `retries`) would otherwise be ignored without a word.
  checkKeys(where, spec, Object.keys(SPEC_KEYS));
  if (!isJobType(spec.type)) {
    throw new ConfigError(`${where}.type`, JOB_TYPE_RULE, spec.type);
  }
  if (!spec.schema || typeof (spec.schema as { safeParse?: unknown }).safeParse !== 'function') {
    throw new ConfigError(`${where}.schema`, 'a zod schema', typeof spec.schema);
  }
  if (typeof spec.handler !== 'function') {
    throw new ConfigError(`${where}.handler`, 'an async function', typeof spec.handler);
  }
  if (spec.idempotencyKey !== undefined && typeof spec.idempotencyKey !== 'function') {
    throw new ConfigError(
      `${where}.idempotencyKey`,
      'a function (payload) => string | undefined',
      typeof spec.idempotencyKey,
    );
  }
  if (spec.backoff !== undefined) {
    if (typeof spec.backoff !== 'object' || spec.backoff === null || Array.isArray(spec.backoff)) {
      throw new ConfigError(`${where}.backoff`, 'an object { baseSeconds?, capSeconds? }', spec.backoff);
    }
    checkKeys(`${where}.backoff`, spec.backoff, BACKOFF_KEYS);
  }
  checkInt(`${where}.maxAttempts`, spec.maxAttempts, 1, 1000);
  checkInt(`${where}.timeoutSeconds`, spec.timeoutSeconds, 1, 900);
  checkInt(`${where}.backoff.baseSeconds`, spec.backoff?.baseSeconds, 0, MAX_BACKOFF_SECONDS);
  checkInt(`${where}.backoff.capSeconds`, spec.backoff?.capSeconds, 0, MAX_BACKOFF_SECONDS);
  checkInt(`${where}.keyRetentionSeconds`, spec.keyRetentionSeconds, 60, 10 * 365 * 86400);
  if (spec.checkKeyPayload !== undefined && typeof spec.checkKeyPayload !== 'boolean') {
    throw new ConfigError(`${where}.checkKeyPayload`, 'true or false', spec.checkKeyPayload);
  }
  const idempotency = spec.idempotency ?? 'strict';
  if (!IDEMPOTENCY_MODES.includes(idempotency)) {
    throw new ConfigError(`${where}.idempotency`, `one of ${IDEMPOTENCY_MODES.join(', ')}`, idempotency);
  }
  checkJobControl(where, spec, idempotency);
  if (
    spec.lane !== undefined &&
    (typeof spec.lane !== 'string' ||
      !LANE_NAME_PATTERN.test(spec.lane) ||
      RESERVED_LANE_NAMES.has(spec.lane))
  ) {
    throw new ConfigError(
      `${where}.lane`,
      'a lane name: lowercase letters, digits and "-", starting with a letter, at most 32 characters, not a name every object has (constructor, toString, ...)',
      spec.lane,
    );
  }
  return Object.freeze({ ...spec, idempotency });
}

/** Build the registry the consumer and producer share. Duplicate types fail. */
export function defineRegistry<const J extends readonly AnyJob[]>(jobs: J): JobRegistry<J[number]> {
  if (!Array.isArray(jobs)) {
    throw new JobDefinitionError(
      `defineRegistry(jobs) takes an array of defineJob(...) results; got ${typeof jobs}`,
    );
  }
  const byType = new Map<string, AnyJob>();
  for (const [index, job] of jobs.entries()) {
    if (!isDefinedJob(job)) {
      throw new JobDefinitionError(
        `defineRegistry(jobs): jobs[${index}] must be a defineJob(...) result (type, schema, handler); got ${describe(job)}`,
      );
    }
    if (byType.has(job.type))
      throw new JobDefinitionError(`Job type '${job.type}' is defined twice in the registry`);
    byType.set(job.type, job);
  }
  const types = [...byType.keys()] as J[number]['type'][];
  return Object.freeze({
    types,
    get: <T extends string>(type: T) => byType.get(type) as Extract<J[number], { type: T }> | undefined,
    has: (type: string) => byType.has(type),
  });
}

/** Look a type up or throw the permanent `UnknownJobTypeError`. */
export function requireJob(registry: JobRegistry, type: string): AnyJob {
  const job = registry.get(type);
  if (!job) throw new UnknownJobTypeError(type, registry.types);
  return job;
}

/** Validate a payload against its job's schema; the error names the first failing field. */
export function parsePayload<S extends z.ZodType>(
  job: JobDefinition<string, S, unknown>,
  payload: unknown,
): z.output<S> {
  const parsed = job.schema.safeParse(payload);
  if (parsed.success) return parsed.data as z.output<S>;
  const issue = parsed.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  throw new PayloadValidationError(job.type, path, issue?.message ?? parsed.error.message, {
    cause: parsed.error,
  });
}

/** tenant, tenantMetrics, rateLimit, concurrency, debounce, heartbeatSeconds. */
function checkJobControl(
  where: string,
  spec: JobSpec<string, z.ZodType, unknown>,
  idempotency: (typeof IDEMPOTENCY_MODES)[number],
): void {
  const L = JOB_CONTROL_LIMITS;
  checkFunction(`${where}.tenant`, spec.tenant, 'a function (payload) => string | undefined');
  if (spec.tenantMetrics !== undefined && typeof spec.tenantMetrics !== 'boolean') {
    throw new ConfigError(`${where}.tenantMetrics`, 'true or false', spec.tenantMetrics);
  }
  checkInt(
    `${where}.heartbeatSeconds`,
    spec.heartbeatSeconds,
    L.heartbeatSeconds.min,
    L.heartbeatSeconds.max,
  );
  if (spec.rateLimit !== undefined) {
    const at = `${where}.rateLimit`;
    checkObject(at, spec.rateLimit, '{ limit, perSeconds, key? }');
    checkKeys(at, spec.rateLimit, RATE_LIMIT_KEYS);
    requireInt(`${at}.limit`, spec.rateLimit.limit, L.rateLimit.min, L.rateLimit.max);
    requireInt(`${at}.perSeconds`, spec.rateLimit.perSeconds, L.perSeconds.min, L.perSeconds.max);
    checkFunction(`${at}.key`, spec.rateLimit.key, 'a function (payload) => string');
  }
  if (spec.concurrency !== undefined) {
    const at = `${where}.concurrency`;
    checkObject(at, spec.concurrency, '{ limit, key? }');
    checkKeys(at, spec.concurrency, CONCURRENCY_KEYS);
    requireInt(`${at}.limit`, spec.concurrency.limit, L.concurrency.min, L.concurrency.max);
    checkFunction(`${at}.key`, spec.concurrency.key, 'a function (payload) => string');
  }
  if (spec.debounce !== undefined) {
    const at = `${where}.debounce`;
    checkObject(at, spec.debounce, '{ key, seconds, keep? }');
    checkKeys(at, spec.debounce, DEBOUNCE_KEYS);
    if (typeof spec.debounce.key !== 'function') {
      throw new ConfigError(`${at}.key`, 'a function (payload) => string', typeof spec.debounce.key);
    }
    requireInt(`${at}.seconds`, spec.debounce.seconds, L.debounceSeconds.min, L.debounceSeconds.max);
    const keep = spec.debounce.keep;
    if (keep !== undefined && keep !== 'last' && keep !== 'first') {
      throw new ConfigError(`${at}.keep`, "'last' or 'first'", keep);
    }
    // The window's job is one ledger item; a consumer that reads nothing could not tell the
    // superseded enqueues of a window from the one that runs.
    if (idempotency === 'none') {
      throw new ConfigError(
        `${where}.debounce`,
        "absent with idempotency 'none' (use 'strict' or 'optimistic')",
        'set',
      );
    }
    if (spec.idempotencyKey !== undefined) {
      throw new ConfigError(
        `${where}.idempotencyKey`,
        'absent on a debounced job type: the debounce key already names the job of each window',
        'a function',
      );
    }
  }
}

function checkObject(where: string, value: unknown, shape: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(where, `an object ${shape}`, value);
  }
}

function checkFunction(where: string, value: unknown, allowed: string): void {
  if (value !== undefined && typeof value !== 'function') throw new ConfigError(where, allowed, typeof value);
}

function requireInt(setting: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || !isIntInRange(value, min, max)) {
    throw new ConfigError(setting, intRangeText(min, max), value);
  }
}

function checkKeys(where: string, value: object, known: readonly string[]): void {
  for (const [key, given] of Object.entries(value)) {
    if (given !== undefined && !known.includes(key)) {
      throw new ConfigError(
        `${where}.${key}`,
        `absent: known options are ${known.join(', ')}`,
        typeof given === 'object' || typeof given === 'function' ? describe(given) : given,
      );
    }
  }
}

/** What defineJob returns: frozen, with a type, a schema, a handler and a resolved idempotency mode. */
function isDefinedJob(job: unknown): job is AnyJob {
  const j = job as Partial<AnyJob> | null;
  return (
    typeof j === 'object' &&
    j !== null &&
    typeof j.type === 'string' &&
    typeof j.handler === 'function' &&
    typeof (j.schema as { safeParse?: unknown } | undefined)?.safeParse === 'function' &&
    IDEMPOTENCY_MODES.includes(j.idempotency as never)
  );
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null)
    return Array.isArray(value) ? 'an array' : 'an object without type/schema/handler';
  return JSON.stringify(value) ?? String(value);
}

function checkInt(setting: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !isIntInRange(value, min, max)) {
    throw new ConfigError(setting, intRangeText(min, max), value);
  }
}
