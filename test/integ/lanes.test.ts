/** Lane behaviour on the deployed stack: weighted capacity across lanes, FIFO ordering. */
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

  it('drains the high lane first under a backlog in every lane, while the low lane still progresses', async () => {
    const perLane = 30;
    const lanes = ['high', 'default', 'low'] as const;
    const enqueued = await stack.client.enqueueBatch(
      lanes.flatMap((lane) =>
        Array.from({ length: perLane }, () => ({
          type: 'flaky-task' as const,
          payload: { sleepMs: 300 },
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
      (byLane.get(lane) ?? []).map((r) => Date.parse(r.finishedAt ?? '')).sort();
    const highDrained = finished('high').at(-1) ?? 0;
    const lowDrained = finished('low').at(-1) ?? 0;
    const lowBeforeHighDrained = finished('low').filter((t) => t <= highDrained).length;
    console.log(
      `[integ] drain: high ${new Date(highDrained).toISOString()}, low ${new Date(lowDrained).toISOString()}, low jobs done before high drained: ${lowBeforeHighDrained}/${perLane}`,
    );
    expect(highDrained).toBeLessThanOrEqual(lowDrained);
    expect(lowBeforeHighDrained).toBeGreaterThan(0);
  });
});
