/**
 * Provisioned mode for a lane's event source mapping: dedicated pollers instead of a share of the
 * `totalConcurrency` budget (Lambda refuses both on one mapping), checked at synth time.
 */
import { type CfnElement, Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type JobQueue, JobQueueConfigError, type LaneOptions } from '../../../lib';
import { oneLaneQueue } from './helpers';

/** The event source mapping's properties per lane name. */
function mappings(queue: JobQueue): Record<string, Record<string, unknown>> {
  const stack = Stack.of(queue);
  const template = Template.fromStack(stack);
  const resources = template.findResources('AWS::Lambda::EventSourceMapping');
  const byLane: Record<string, Record<string, unknown>> = {};
  for (const lane of queue.lanes.values()) {
    const queueId = stack.getLogicalId(lane.queue.node.defaultChild as CfnElement);
    const mapping = Object.values(resources).find(
      (resource) => resource.Properties.EventSourceArn['Fn::GetAtt'][0] === queueId,
    );
    if (!mapping) throw new Error(`No event source mapping for lane ${lane.name}`);
    byLane[lane.name] = mapping.Properties;
  }
  return byLane;
}

function queueWith(lanes: LaneOptions[], totalConcurrency?: number): JobQueue {
  return oneLaneQueue({ lanes, totalConcurrency }).queue;
}

describe('provisionedPollers', () => {
  it('puts the lane in provisioned mode instead of a maximum concurrency, and changes nothing else', () => {
    // Prepare: the same queue without provisioned mode.
    const before = mappings(queueWith([{ name: 'fast' }, { name: 'slow', weight: 3 }, { name: 'bulk' }]));

    // Act
    const after = mappings(
      queueWith([
        { name: 'fast', provisionedPollers: { minimum: 5, maximum: 50 } },
        { name: 'slow', weight: 3 },
        { name: 'bulk' },
      ]),
    );

    // Assess: the lane swaps ScalingConfig for ProvisionedPollerConfig; the other lanes stay
    // on demand, only their share of the budget grows (next test).
    const { ScalingConfig: fastScaling, ...fastBefore } = before.fast;
    const { ProvisionedPollerConfig, ...fastAfter } = after.fast;
    expect(fastScaling).toEqual({ MaximumConcurrency: 4 });
    expect(ProvisionedPollerConfig).toEqual({ MinimumPollers: 5, MaximumPollers: 50 });
    expect(fastAfter).toEqual(fastBefore);
    expect(fastAfter.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    for (const lane of ['slow', 'bulk']) {
      const { ScalingConfig: scalingBefore, ...restBefore } = before[lane];
      const { ScalingConfig: scalingAfter, ...restAfter } = after[lane];
      expect(restAfter).toEqual(restBefore);
      expect(restAfter.ProvisionedPollerConfig).toBeUndefined();
      expect(scalingBefore).toBeDefined();
      expect(scalingAfter).toBeDefined();
    }
  });

  it('splits totalConcurrency among the on-demand lanes only', () => {
    // Act: 20 by weight 3 : 1 over the two on-demand lanes (with the provisioned lane counted,
    // weights 1 : 3 : 1 would give 12 and 4).
    const byLane = mappings(
      queueWith([{ name: 'fast', provisionedPollers: {} }, { name: 'slow', weight: 3 }, { name: 'bulk' }]),
    );

    // Assess
    expect(byLane.slow.ScalingConfig).toEqual({ MaximumConcurrency: 15 });
    expect(byLane.bulk.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
  });

  it('checks totalConcurrency against the on-demand lanes only, and not at all when every lane is provisioned', () => {
    // Act / Assess: 2 on-demand lanes need at least 4, the provisioned one needs none.
    expect(() =>
      queueWith([{ name: 'fast', provisionedPollers: {} }, { name: 'a' }, { name: 'b' }], 4),
    ).not.toThrow();
    expect(() =>
      queueWith([{ name: 'fast', provisionedPollers: {} }, { name: 'a' }, { name: 'b' }], 3),
    ).toThrow(/totalConcurrency must be an integer from 4 to 2000; got 3/);
    const all = mappings(queueWith([{ name: 'fast', provisionedPollers: { maximum: 10 } }], 1));
    expect(all.fast.ScalingConfig).toBeUndefined();
  });

  it.each([
    [{ minimum: 10 }, { MinimumPollers: 10, MaximumPollers: 200 }],
    [{ maximum: 40 }, { MinimumPollers: 2, MaximumPollers: 40 }],
    [{}, { MinimumPollers: 2, MaximumPollers: 200 }],
  ])('writes Lambda’s default for a bound not given: %j → %j', (provisionedPollers, expected) => {
    // Act
    const byLane = mappings(queueWith([{ name: 'fast', provisionedPollers }]));

    // Assess
    expect(byLane.fast.ProvisionedPollerConfig).toEqual(expected);
  });

  it('accepts the bounds AWS allows, FIFO lanes included', () => {
    // Act
    const byLane = mappings(
      queueWith([
        { name: 'low', provisionedPollers: { minimum: 2, maximum: 2 } },
        { name: 'high', provisionedPollers: { minimum: 200, maximum: 2000 } },
        { name: 'ordered', fifo: true, provisionedPollers: { minimum: 3, maximum: 30 } },
      ]),
    );

    // Assess
    expect(byLane.low.ProvisionedPollerConfig).toEqual({ MinimumPollers: 2, MaximumPollers: 2 });
    expect(byLane.high.ProvisionedPollerConfig).toEqual({ MinimumPollers: 200, MaximumPollers: 2000 });
    expect(byLane.ordered.ProvisionedPollerConfig).toEqual({ MinimumPollers: 3, MaximumPollers: 30 });
  });

  it('leaves unresolved tokens to the deploy', () => {
    // Prepare
    const minimum = Lazy.number({ produce: () => 4 });

    // Act
    const byLane = mappings(queueWith([{ name: 'fast', provisionedPollers: { minimum, maximum: 3 } }]));

    // Assess
    expect(byLane.fast.ProvisionedPollerConfig).toEqual({ MinimumPollers: 4, MaximumPollers: 3 });
  });

  const invalid: [string, LaneOptions, string, RegExp][] = [
    [
      'a minimum below 2',
      { name: 'x', provisionedPollers: { minimum: 1 } },
      'lanes[1].provisionedPollers.minimum',
      /lanes\[1\]\.provisionedPollers\.minimum must be an integer from 2 to 200; got 1/,
    ],
    [
      'a minimum above 200',
      { name: 'x', provisionedPollers: { minimum: 201, maximum: 500 } },
      'lanes[1].provisionedPollers.minimum',
      /lanes\[1\]\.provisionedPollers\.minimum must be an integer from 2 to 200; got 201/,
    ],
    [
      'a fractional minimum',
      { name: 'x', provisionedPollers: { minimum: 2.5 } },
      'lanes[1].provisionedPollers.minimum',
      /lanes\[1\]\.provisionedPollers\.minimum must be an integer from 2 to 200; got 2\.5/,
    ],
    [
      'a maximum below 2',
      { name: 'x', provisionedPollers: { maximum: 1 } },
      'lanes[1].provisionedPollers.maximum',
      /lanes\[1\]\.provisionedPollers\.maximum must be an integer from 2 to 2000; got 1/,
    ],
    [
      'a maximum above 2000',
      { name: 'x', provisionedPollers: { maximum: 2001 } },
      'lanes[1].provisionedPollers.maximum',
      /lanes\[1\]\.provisionedPollers\.maximum must be an integer from 2 to 2000; got 2001/,
    ],
    [
      'a minimum above the maximum',
      { name: 'x', provisionedPollers: { minimum: 50, maximum: 10 } },
      'lanes[1].provisionedPollers.maximum',
      /lanes\[1\]\.provisionedPollers\.maximum must be at least provisionedPollers\.minimum \(50\); got 10/,
    ],
    [
      'a weight next to provisioned pollers',
      { name: 'x', weight: 3, provisionedPollers: { minimum: 2 } },
      'lanes[1].weight',
      /lanes\[1\]\.weight must be left out on a lane with provisionedPollers \(provisioned mode and maximum concurrency are mutually exclusive.*its weight would be ignored\); got 3/,
    ],
    [
      'provisioned pollers that are not an object',
      { name: 'x', provisionedPollers: 5 as unknown as LaneOptions['provisionedPollers'] },
      'lanes[1].provisionedPollers',
      /lanes\[1\]\.provisionedPollers must be an object \{ minimum\?, maximum\? \} of poller counts; got 5/,
    ],
  ];

  it.each(invalid)('rejects %s, naming the field and the value', (_name, lane, prop, message) => {
    // Act
    let error: unknown;
    try {
      queueWith([{ name: 'ok' }, lane]);
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(JobQueueConfigError);
    expect((error as JobQueueConfigError).prop).toBe(prop);
    expect((error as Error).message).toMatch(message);
  });
});
