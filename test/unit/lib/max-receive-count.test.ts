/**
 * Redrive is a backstop: attempts are counted by the ledger, so the lane queue's maxReceiveCount
 * leaves headroom for receives that use no attempt, and reaches the consumer and the config output.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONSUMER_ENV } from '../../../lambdas/shared/contract';
import type { LaneOptions } from '../../../lib';
import { defaultMaxReceiveCount } from '../../../lib/lanes';
import { oneLaneQueue } from './helpers';

function withLane(lane: Omit<LaneOptions, 'name'>) {
  return oneLaneQueue({ lanes: [{ name: 'only', ...lane }] });
}

describe('maxReceiveCount', () => {
  it.each([
    [1, 12],
    [5, 20],
    [100, 210],
    [495, 1000],
    [995, 1000],
  ])('defaults to min(1000, maxAttempts × 2 + 10): %i attempts → %i receives', (maxAttempts, expected) => {
    // Act
    const { stack } = withLane({ maxAttempts });

    // Assess
    expect(defaultMaxReceiveCount(maxAttempts)).toBe(expected);
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: expected }),
    });
  });

  it('takes an explicit value, and passes it to the consumer next to maxAttempts', () => {
    // Act
    const { stack } = withLane({ maxAttempts: 3, maxReceiveCount: 8 });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 8 }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [CONSUMER_ENV.maxAttempts]: '3',
          [CONSUMER_ENV.maxReceiveCount]: '8',
        }),
      },
    });
  });

  it('is published per lane in the config output, with the ledger TTL', () => {
    // Act
    const { stack, queue } = oneLaneQueue({
      lanes: [{ name: 'only', maxAttempts: 4 }],
      ledgerTtl: Duration.days(10),
    });

    // Assess
    expect(queue.config.lanes.only).toMatchObject({ maxAttempts: 4, maxReceiveCount: 18 });
    expect(queue.config.ledgerTtlSeconds).toBe(10 * 86_400);
    const output = Object.values(
      Template.fromStack(stack).toJSON().Outputs as Record<string, { Value: unknown }>,
    )[0];
    const json = JSON.stringify(Stack.of(queue).resolve(output.Value));
    expect(json).toContain('\\"maxReceiveCount\\":18');
    expect(json).toContain('\\"ledgerTtlSeconds\\":864000');
  });

  it.each([
    [
      { maxAttempts: 5, maxReceiveCount: 9 },
      /lanes\[0\]\.maxReceiveCount must be an integer from 10 \(maxAttempts 5 \+ 5 receives of headroom\) to 1000; got 9/,
    ],
    [
      { maxAttempts: 5, maxReceiveCount: 1001 },
      /lanes\[0\]\.maxReceiveCount must be an integer from 10 .* to 1000; got 1001/,
    ],
    [
      { maxAttempts: 5, maxReceiveCount: 12.5 },
      /lanes\[0\]\.maxReceiveCount must be an integer from 10 .* to 1000; got 12\.5/,
    ],
    [{ maxAttempts: 996 }, /lanes\[0\]\.maxAttempts must be an integer from 1 to 995; got 996/],
  ])('rejects %j', (lane, message) => {
    expect(() => withLane(lane)).toThrow(message);
  });
});
