import { describe, expect, it } from 'vitest';
import {
  backoffCeilingSeconds,
  fullJitterBackoffSeconds,
  MAX_BACKOFF_SECONDS,
  retryHorizonSeconds,
} from '../../../lambdas/shared/backoff';

const opts = { baseSeconds: 2, capSeconds: 900 };

describe('full-jitter backoff', () => {
  it('doubles the ceiling per attempt until the cap', () => {
    // Act
    const ceilings = [1, 2, 3, 4, 10, 11].map((attempt) => backoffCeilingSeconds(attempt, opts));

    // Assess
    expect(ceilings).toEqual([2, 4, 8, 16, 900, 900]);
  });

  it('stays within [0, ceiling] at the extremes of the random source', () => {
    // Act
    const low = fullJitterBackoffSeconds(4, opts, () => 0);
    const high = fullJitterBackoffSeconds(4, opts, () => 0.999_999);

    // Assess
    expect(low).toBe(0);
    expect(high).toBe(16);
  });

  it('spreads delays over the whole range (full jitter, not equal jitter)', () => {
    // Prepare
    let seed = 42;
    const lcg = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };

    // Act
    const samples = Array.from({ length: 2000 }, () => fullJitterBackoffSeconds(6, opts, lcg));

    // Assess: ceiling 64 → values in the lower and the upper half, all integers.
    expect(samples.every((s) => Number.isInteger(s) && s >= 0 && s <= 64)).toBe(true);
    expect(samples.filter((s) => s < 16).length).toBeGreaterThan(300);
    expect(samples.filter((s) => s > 48).length).toBeGreaterThan(300);
    expect(new Set(samples).size).toBeGreaterThan(50);
  });

  it('clamps the cap to the 12 h SQS visibility limit, even for huge attempts', () => {
    // Act
    const delay = fullJitterBackoffSeconds(5000, { baseSeconds: 60, capSeconds: 100_000 }, () => 0.999_999);

    // Assess
    expect(delay).toBe(MAX_BACKOFF_SECONDS);
  });

  it('treats NaN from the random source as 0 and attempt 0 as the first attempt', () => {
    // Act & Assess
    expect(fullJitterBackoffSeconds(3, opts, () => Number.NaN)).toBe(0);
    expect(backoffCeilingSeconds(0, opts)).toBe(2);
  });

  it('sums the ceilings into the retry horizon', () => {
    // Act & Assess
    expect(retryHorizonSeconds(4, opts)).toBe(2 + 4 + 8 + 16);
  });
});
