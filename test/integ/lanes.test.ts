/** Lane behaviour on the deployed stack: weighted capacity across lanes, FIFO ordering. */
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DeployedStack, deployedStack } from '../support/deployed-stack';
import { waitFor, waitForStatus } from './helpers';

let stack: DeployedStack;
beforeAll(async () => {
  stack = await deployedStack();
});

describe('lanes', () => {
  it('keeps order within a FIFO group when one of its jobs fails', async () => {
    const account = `acct-${Date.now()}`;
    const ids: string[] = [];
    for (let seq = 0; seq < 5; seq++) {
      const { jobId } = await stack.client.enqueue(
        'ledger-entry',
        { account, seq, failTimes: seq === 2 ? 1 : 0 },
        { groupId: account },
      );
      ids.push(jobId);
    }
    const records = await Promise.all(ids.map((id) => waitForStatus(stack, id, ['SUCCEEDED'], 120_000)));
    const applied = records.map((r) => (r.result as { seq: number; appliedAt: string }).appliedAt);
    expect([...applied].sort()).toEqual(applied);
    expect(records[2].attempts).toBe(2);
  });

  it('drains the high lane first under a backlog in every lane, while the low lane still makes progress', async () => {
    // The deployed event source mappings carry the weights (total 20, weights 6:3:1:1) ...
    const lambda = new LambdaClient({});
    const expected: Record<string, number> = { high: 10, default: 5, low: 2, ordered: 2 };
    for (const [lane, maxConcurrency] of Object.entries(expected)) {
      const { EventSourceMappings = [] } = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: stack.config.lanes[lane].functionName }),
      );
      expect(EventSourceMappings[0]?.ScalingConfig?.MaximumConcurrency).toBe(maxConcurrency);
    }

    // ... and shape throughput (on LocalStack, the host executor runs MaximumConcurrency pollers per
    // SQS mapping, as AWS does). Same backlog in every lane: 20 batches of 10 half-second jobs.
    const perLane = 200;
    const lanes = ['high', 'default', 'low'] as const;
    const started = Date.now();
    const enqueued = await stack.client.enqueueBatch(
      lanes.flatMap((lane) =>
        Array.from({ length: perLane }, () => ({
          type: 'flaky-task' as const,
          payload: { sleepMs: 500 },
          options: { lane },
        })),
      ),
    );
    expect(enqueued.every((r) => r.ok)).toBe(true);

    const left = async (lane: string) => {
      const { Attributes = {} } = await stack.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.config.lanes[lane].queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible)
      );
    };
    const drainedAt: Record<string, number> = {};
    let lowDoneWhenHighDrained = -1;
    await waitFor(
      'every lane to drain',
      async () => {
        const counts = await Promise.all(lanes.map(left));
        lanes.forEach((lane, i) => {
          if (counts[i] === 0) drainedAt[lane] ??= Date.now() - started;
        });
        if (drainedAt.high !== undefined && lowDoneWhenHighDrained < 0)
          lowDoneWhenHighDrained = perLane - counts[2];
        return lanes.every((lane) => drainedAt[lane] !== undefined) ? true : undefined;
      },
      { timeoutMs: 400_000, intervalMs: 250 },
    );
    console.log(
      `[integ] drained after ${lanes.map((l) => `${l} ${(drainedAt[l] / 1000).toFixed(1)} s`).join(', ')}; low jobs done when high drained: ${lowDoneWhenHighDrained}/${perLane}`,
    );
    expect(drainedAt.high).toBeLessThan(drainedAt.low);
    expect(lowDoneWhenHighDrained).toBeGreaterThan(0);
    // Every job ran to SUCCEEDED (checked 25 at a time to keep the ledger reads modest).
    for (let i = 0; i < enqueued.length; i += 25) {
      const records = await Promise.all(
        enqueued.slice(i, i + 25).map((r) => (r.ok ? stack.client.getJob(r.jobId) : undefined)),
      );
      for (const record of records) expect(record?.status).toBe('SUCCEEDED');
    }
  });
});
