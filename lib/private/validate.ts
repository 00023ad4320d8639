import { type Duration, Token } from 'aws-cdk-lib';
import { intRangeText, isIntInRange } from '../../lambdas/shared/checks';
import { JobQueueConfigError } from '../errors';

/** Throws unless `value` is an integer in [min, max]; unresolved tokens pass (checked at deploy). */
export function checkInt(prop: string, value: number, min: number, max: number): void {
  if (Token.isUnresolved(value)) return;
  if (!isIntInRange(value, min, max)) throw new JobQueueConfigError(prop, intRangeText(min, max), value);
}

/** Throws unless the duration, in seconds, lies in [minSeconds, maxSeconds]. */
export function checkSeconds(prop: string, value: Duration, minSeconds: number, maxSeconds: number): void {
  if (value.isUnresolved()) return;
  const seconds = value.toSeconds({ integral: false });
  if (seconds < minSeconds || seconds > maxSeconds) {
    throw new JobQueueConfigError(
      prop,
      `between ${minSeconds} and ${maxSeconds} seconds`,
      `${value.toHumanString()} (${seconds} s)`,
    );
  }
}

/** Throws unless `value` is one of `allowed` (compared exactly); unresolved tokens pass. */
export function checkOneOf<T extends string>(prop: string, value: T, allowed: readonly T[]): void {
  if (Token.isUnresolved(value)) return;
  if (!allowed.includes(value)) {
    throw new JobQueueConfigError(prop, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
}
