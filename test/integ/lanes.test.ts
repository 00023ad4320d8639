/** Lane behaviour on the deployed stack: weighted capacity across lanes, FIFO ordering. */
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../lambdas/shared/contract';
import { type DeployedStack, deployedStack } from '../support/deployed-stack';
import { waitForStatus } from './helpers';

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

  it('gives each lane its weighted concurrency and starves no lane under a backlog in every lane', async () => {
    // The deployed event source mappings carry the weights (total 20, weights 6:3:1:1).
    const lambda = new LambdaClient({});
    const expected: Record<string, number> = { high: 10, default: 5, low: 2, ordered: 2 };
    for (const [lane, maxConcurrency] of Object.entries(expected)) {
      const { EventSourceMappings = [] } = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: stack.config.lanes[lane].functionName }),
      );
      expect(EventSourceMappings[0]?.ScalingConfig?.MaximumConcurrency).toBe(maxConcurrency);
    }

    // LocalStack runs one poller per mapping and ignores MaximumConcurrency, so the drain order here
    // says nothing about weights; what it does show is that no lane waits for another to drain.
    const perLane = 30;
    const lanes = ['high', 'default', 'low'] as const;
    const enqueued = await stack.client.enqueueBatch(
      lanes.flatMap((lane) =>
        Array.from({ length: perLane }, () => ({
          type: 'flaky-task' as const,
          payload: { sleepMs: 100 },
          options: { lane },
        })),
      ),
    );
    expect(enqueued.every((r) => r.ok)).toBe(true);
    const byLane = new Map<string, JobRecord[]>();
    await Promise.all(
      enqueued.map(async (r) => {
        if (!r.ok) return;
        const record = await waitForStatus(stack, r.jobId, ['SUCCEEDED'], 300_000);
        byLane.set(r.lane, [...(byLane.get(r.lane) ?? []), record]);
      }),
    );
    const finished = (lane: string) =>
      (byLane.get(lane) ?? []).map((r) => Date.parse(r.finishedAt ?? '')).sort((a, b) => a - b);
    const firstDrained = Math.min(...lanes.map((lane) => finished(lane).at(-1) ?? 0));
    const progress = lanes.map((lane) => finished(lane).filter((t) => t <= firstDrained).length);
    console.log(
      `[integ] jobs done per lane when the first lane drained: ${lanes.map((l, i) => `${l} ${progress[i]}`).join(', ')}`,
    );
    for (const done of progress) expect(done).toBeGreaterThan(perLane / 3);
  });
});
