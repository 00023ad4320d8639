/**
 * Checks of flag and argument values, run before any AWS call. Every failure is a UsageError
 * (exit 2) whose message names the flag (or variable), the allowed values and the value given.
 */
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../lambdas/client/validate-options';
import { MAX_JOB_ID_LENGTH } from '../lambdas/shared/envelope';
import { UsageError } from './errors';

/** `--flag must be <allowed>; got '<given>'`, the one shape every bad value is reported in. */
export function flagError(flag: string, allowed: string, given: string, hint?: string): UsageError {
  const shown = given.length > 80 ? `${given.slice(0, 60)}… (${given.length} characters)` : given;
  return new UsageError(
    `${flag} must be ${allowed}; got '${shown}'`,
    hint === undefined ? undefined : { hint },
  );
}

/** A whole decimal number from min to max (no signs, exponents, hex or fractions). */
export function wholeNumber(flag: string, raw: string, min: number, max: number, unit = ''): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw flagError(flag, `a whole number${unit} from ${min} to ${max}`, raw);
  }
  return n;
}

/** A plain decimal number from min to max, e.g. `0.5`. */
export function decimalNumber(flag: string, raw: string, min: number, max: number, unit = ''): number {
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n < min || n > max) {
    throw flagError(flag, `a number${unit} from ${min} to ${max}`, raw);
  }
  return n;
}

/** An http(s) URL with a host: the SDK takes anything else for a host name and fails later. */
export function endpointUrl(source: string, raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw flagError(source, 'an http(s) URL', raw, 'For LocalStack: --endpoint-url http://127.0.0.1:4566');
  }
  return raw;
}

/** Region names are host-name labels (us-east-1, eu-central-2, us-gov-west-1). */
export function regionName(source: string, raw: string): string {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(raw) || raw.length > 64) {
    throw flagError(source, 'an AWS region name such as us-east-1 (lowercase letters, digits, hyphens)', raw);
  }
  return raw;
}

export function profileName(source: string, raw: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (raw.trim() === '' || /[\x00-\x1f\x7f]/.test(raw)) {
    throw flagError(source, 'a profile name from your AWS config (not empty)', raw);
  }
  return raw;
}

/** CloudFormation stack names, or a stack id (ARN) as DescribeStacks accepts it. */
export function stackName(source: string, raw: string): string {
  const name = /^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(raw);
  const arn = /^arn:[a-z-]+:cloudformation:[a-z0-9-]+:\d{12}:stack\/[A-Za-z][A-Za-z0-9-]*\/[\w-]+$/.test(raw);
  if (!name && !arn) {
    throw flagError(
      source,
      'a stack name (a letter, then letters, digits or hyphens; at most 128) or a stack ARN',
      raw,
    );
  }
  return raw;
}

/** A job id (or SQS message id) as a positional argument. */
export function jobIdArg(raw: string): string {
  if (raw.trim() === '' || raw.length > MAX_JOB_ID_LENGTH) {
    throw flagError('<jobId>', `a job id or message id of 1-${MAX_JOB_ID_LENGTH} characters`, raw);
  }
  return raw;
}

/** What an idempotency key may be, for messages. */
export const IDEMPOTENCY_KEY_RULE = `a string of 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters, not only whitespace`;

/** Whether `key` can name a keyed job (the client refuses others). */
export function isIdempotencyKey(key: string): boolean {
  return key.trim() !== '' && key.length <= MAX_IDEMPOTENCY_KEY_LENGTH;
}
