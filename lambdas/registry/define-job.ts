/** `defineJob` and `defineRegistry`: validated at definition time, so mistakes fail at cold start. */
import type { z } from 'zod';
import { MAX_BACKOFF_SECONDS } from '../consumer/backoff';
import {
  ConfigError,
  JobDefinitionError,
  PayloadValidationError,
  UnknownJobTypeError,
} from '../shared/errors';
import { type AnyJob, IDEMPOTENCY_MODES, type JobDefinition, type JobRegistry, type JobSpec } from './types';

/** Job type names: also what an untyped JobClient accepts as a type. */
export const JOB_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Define a job type. The payload type of `handler` is inferred from `schema`. */
export function defineJob<const T extends string, S extends z.ZodType, R>(
  spec: JobSpec<T, S, R>,
): JobDefinition<T, S, R> {
  const where = `defineJob('${String(spec.type)}')`;
  if (typeof spec.type !== 'string' || !JOB_TYPE_PATTERN.test(spec.type)) {
    throw new ConfigError(`${where}.type`, 'a string of 1-128 characters [A-Za-z0-9._:-]', spec.type);
  }
  if (!spec.schema || typeof (spec.schema as { safeParse?: unknown }).safeParse !== 'function') {
    throw new ConfigError(`${where}.schema`, 'a zod schema', typeof spec.schema);
  }
  if (typeof spec.handler !== 'function') {
    throw new ConfigError(`${where}.handler`, 'an async function', typeof spec.handler);
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
  if (spec.lane !== undefined && (typeof spec.lane !== 'string' || spec.lane.length === 0)) {
    throw new ConfigError(`${where}.lane`, 'a non-empty lane name', spec.lane);
  }
  return Object.freeze({ ...spec, idempotency });
}

/** Build the registry the consumer and producer share. Duplicate types fail. */
export function defineRegistry<const J extends readonly AnyJob[]>(jobs: J): JobRegistry<J[number]> {
  const byType = new Map<string, AnyJob>();
  for (const job of jobs) {
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

function checkInt(setting: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(setting, `an integer from ${min} to ${max}`, value);
  }
}
