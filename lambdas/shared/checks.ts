/**
 * Pure value checks shared by the runtime and the constructs: no AWS SDK, no aws-cdk-lib, no
 * error classes (each caller throws its own, naming its setting).
 */

/**
 * Job type names: what `defineJob`, an untyped JobClient and a JobSchedule accept. 1-128
 * characters from [A-Za-z0-9._:-], starting with a letter or digit.
 */
export const JOB_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** JOB_TYPE_PATTERN as the allowed values of an error message. */
export const JOB_TYPE_RULE = 'a string of 1-128 characters [A-Za-z0-9._:-]';

/** True when `value` is a string matching JOB_TYPE_PATTERN. */
export function isJobType(value: unknown): value is string {
  return typeof value === 'string' && JOB_TYPE_PATTERN.test(value);
}

/** True when `value` is an integer from `min` to `max`, both included. */
/** SQS's MessageGroupId rule, which a group id and a tenant follow: 1-128 ASCII letters, digits, punctuation. */
export const GROUP_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

export function isGroupId(value: unknown): value is string {
  return typeof value === 'string' && GROUP_ID_PATTERN.test(value);
}

/** Group and chain ids (`enqueueGroup`, `enqueueChain`, `sqs-jobs group|chain`). */
export const WORKFLOW_ID_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;
export const WORKFLOW_ID_RULE = 'a string of 1-100 characters [A-Za-z0-9._:-]';

export function isWorkflowId(value: unknown): value is string {
  return typeof value === 'string' && WORKFLOW_ID_PATTERN.test(value);
}

/** A key a job definition derives from its payload (`rateLimit.key`, `concurrency.key`, `debounce.key`). */
export const USER_KEY_RULE = 'a string of 1 to 256 characters';

export function isUserKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 256;
}

export function isIntInRange(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * The allowed values of isIntInRange for an error message: `an integer from min to max`, or
 * `an integer ≥ min` when `max` is Number.MAX_SAFE_INTEGER (no real upper bound).
 */
export function intRangeText(min: number, max: number): string {
  return max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
}
