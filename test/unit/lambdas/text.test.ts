import { describe, expect, it } from 'vitest';
import { truncate } from '../../../lambdas/shared/text';

describe('truncate', () => {
  it('keeps text within the limit', () => {
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('cuts longer text to the limit, ending in an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcdef', 4)).toHaveLength(4);
  });
});
