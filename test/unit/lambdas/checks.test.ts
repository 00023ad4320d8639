import { describe, expect, it } from 'vitest';
import {
  intRangeText,
  isIntInRange,
  isJobType,
  JOB_TYPE_PATTERN,
  JOB_TYPE_RULE,
} from '../../../lambdas/shared/checks';

describe('isJobType', () => {
  it.each(['a', 'send-email', 'billing:invoice.v2', 'A_1', 'x'.repeat(128)])('accepts %s', (type) => {
    expect(isJobType(type)).toBe(true);
    expect(JOB_TYPE_PATTERN.test(type)).toBe(true);
  });

  it.each(['', '-a', '.a', 'a b', 'a/b', 'x'.repeat(129), 7, undefined, null])('refuses %s', (type) => {
    expect(isJobType(type)).toBe(false);
  });

  it('describes the pattern', () => {
    expect(JOB_TYPE_RULE).toBe('a string of 1-128 characters [A-Za-z0-9._:-]');
  });
});

describe('isIntInRange', () => {
  it.each([0, 5, 10])('accepts %s in [0, 10]', (value) => {
    expect(isIntInRange(value, 0, 10)).toBe(true);
  });

  it.each([-1, 11, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5', undefined, null, 5n])(
    'refuses %s for [0, 10]',
    (value) => {
      expect(isIntInRange(value, 0, 10)).toBe(false);
    },
  );

  it('names the range', () => {
    expect(intRangeText(1, 10)).toBe('an integer from 1 to 10');
    expect(intRangeText(0, Number.MAX_SAFE_INTEGER)).toBe('an integer ≥ 0');
  });
});
