/**
 * Idempotency keys on the deployed stack: a key names one business operation, so the same key
 * after the job finished returns it instead of running it again; re-running is explicit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyKeyConflictError } from '../../lambdas/shared/errors';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import { waitFor, waitForStatus } from './helpers';

let stack: DeployedStack;
beforeAll(async () => {
  stack = await deployedStack();
});

describe('idempotency keys', () => {
  it('returns a finished keyed job as a duplicate, re-runs it only with rerun, and refuses another payload', async () => {
    const idempotencyKey = `send-welcome-email:user:${Date.now()}`;

    // The first enqueue runs once.
    const first = await stack.client.enqueue('flaky-task', {}, { idempotencyKey });
    expect(first.status).toBe('enqueued');
    const done = await waitForStatus(stack, first.jobId, ['SUCCEEDED'], 120_000);
    expect(done).toMatchObject({ attempts: 1, result: { attempt: 1 } });

    // The same key again: nothing is sent, the finished job comes back.
    const again = await stack.client.enqueue('flaky-task', {}, { idempotencyKey });
    expect(again).toMatchObject({
      status: 'duplicate',
      jobId: first.jobId,
      existing: { status: 'SUCCEEDED', attempts: 1, result: { attempt: 1 } },
    });
    expect(await stack.client.getJob(first.jobId)).toMatchObject({ finishedAt: done.finishedAt });

    // Another payload under the same key is refused.
    await expect(
      stack.client.enqueue('flaky-task', { sleepMs: 1 }, { idempotencyKey }),
    ).rejects.toBeInstanceOf(IdempotencyKeyConflictError);

    // rerun: an explicit second run under the same id.
    const rerun = await stack.client.enqueue('flaky-task', {}, { idempotencyKey, rerun: true });
    expect(rerun).toMatchObject({ status: 'enqueued', jobId: first.jobId });
    const rerunDone = await waitFor2ndRun(first.jobId, done.finishedAt ?? '');
    expect(rerunDone).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });
});

/** Waits until the job has SUCCEEDED again, after `finishedBefore`. */
function waitFor2ndRun(jobId: string, finishedBefore: string) {
  return waitFor(
    `job ${jobId} to succeed a second time`,
    async () => {
      const job = await stack.client.getJob(jobId);
      return job?.status === 'SUCCEEDED' && (job.finishedAt ?? '') > finishedBefore ? job : undefined;
    },
    { timeoutMs: 120_000 },
  );
}
