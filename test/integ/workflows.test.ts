/**
 * Groups and chains end to end on LocalStack, counted from the outside: every example job records
 * each of its runs in the stack's SideEffects table (bin/jobs.ts), so "exactly once" is what the
 * jobs themselves saw, not what the ledger says.
 * - a group's members delivered twice (every message sent again by hand) and a consumer killed
 *   while members run: each member counted once, the callback run once;
 * - a chain: each step once, in order, the result passed along; a failed step stops it.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { describeStack } from '../../scripts/local/deploy';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
import { consumerPids, waitFor, waitForStatus } from './helpers';

let stack: DeployedStack;
let sideEffects: string;
beforeAll(async () => {
  stack = await deployedStack();
  const outputs = (await describeStack(stack.endpoint, stack.stackName)).Outputs ?? [];
  const table = outputs.find((o) => o.OutputKey?.startsWith('SideEffectsTable'))?.OutputValue;
  if (!table) throw new Error('the example stack publishes no SideEffectsTable output');
  sideEffects = table;
});

/** How many times the job ran, as it recorded itself. */
async function runs(jobId: string): Promise<number> {
  const out = await stack.dynamodb.send(
    new GetItemCommand({ TableName: sideEffects, Key: { id: { S: jobId } }, ConsistentRead: true }),
  );
  return Number(out.Item?.runs?.N ?? 0);
}

const LONG = 300_000;

/** The group's status once COMPLETE (its callbacks enqueued). */
function groupComplete(groupId: string, timeoutMs = LONG) {
  return waitFor(
    `group ${groupId} COMPLETE`,
    async () => {
      const g = await stack.client.getGroup(groupId);
      return g?.state === 'COMPLETE' ? g : undefined;
    },
    { timeoutMs },
  );
}

describe('groups', () => {
  it('members delivered twice are counted once, and the callback runs exactly once', async () => {
    const groupId = `dup-${Date.now()}`;
    const members = Array.from({ length: 12 }, (_, n) => ({
      type: 'tally' as const,
      payload: { n, fail: n === 4 || n === 9 },
    }));
    const group = await stack.client.enqueueGroup(members, {
      groupId,
      onComplete: { type: 'group-report', payload: { label: 'dup' } },
      onSuccess: { type: 'group-report', payload: { label: 'dup-all-ok' } },
    });
    // Every member sent a second time, as SQS may deliver a message twice.
    for (const [n, jobId] of group.jobIds.entries()) {
      await stack.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.config.lanes.default.queueUrl,
          MessageBody: JSON.stringify({
            v: 1,
            id: jobId,
            type: 'tally',
            payload: members[n].payload,
            key: `group:${groupId}:${n}`,
            enqueuedAt: new Date().toISOString(),
            group: { id: groupId, shard: 0, index: n },
          }),
        }),
      );
    }

    const status = await groupComplete(groupId);
    const onComplete = group.callbacks.onComplete as string;
    await waitForStatus(stack, onComplete, ['SUCCEEDED'], LONG);

    expect(status).toMatchObject({ total: 12, pending: 0, succeeded: 10, dead: 2, cancelled: 0 });
    expect(new Set(status.failedJobIds)).toEqual(new Set([group.jobIds[4], group.jobIds[9]]));
    for (const [n, jobId] of group.jobIds.entries()) {
      if (n !== 4 && n !== 9) expect(await runs(jobId), `member ${n}`).toBe(1);
    }
    expect(await runs(onComplete)).toBe(1);
    const report = await stack.client.getJob(onComplete);
    expect(report?.result).toEqual({ label: 'dup', total: 12, succeeded: 10, dead: 2, cancelled: 0 });
    // Not every member succeeded: onSuccess is never enqueued.
    expect(await stack.client.getJob(group.callbacks.onSuccess as string)).toBeUndefined();
  });

  it('a consumer killed while members run: the group completes and its callback runs exactly once', async () => {
    // On a busy machine the kill can miss (the members finished first): then try a new group.
    for (let round = 1; round <= 3; round++) {
      const groupId = `crash-${Date.now()}`;
      const group = await stack.client.enqueueGroup(
        [0, 1, 2].map((n) => ({ type: 'tally' as const, payload: { n, sleepMs: 5_000 } })),
        { groupId, onSuccess: { type: 'group-report', payload: { label: 'crash' } } },
      );
      // Kill the lane's consumers while a member runs (its handler sleeps 5 s); its message comes
      // back after the visibility timeout and the dead lease is taken over.
      await waitFor(
        'a member RUNNING',
        async () => {
          for (const jobId of group.jobIds) {
            if ((await stack.client.getJob(jobId))?.status === 'RUNNING') return jobId;
          }
          return undefined;
        },
        { timeoutMs: LONG, intervalMs: 100 },
      );
      for (const pid of consumerPids(stack.config.lanes.default.functionName)) process.kill(pid, 'SIGKILL');

      const status = await groupComplete(groupId, 600_000);
      const onSuccess = group.callbacks.onSuccess as string;
      await waitForStatus(stack, onSuccess, ['SUCCEEDED'], LONG);
      const members = await Promise.all(group.jobIds.map((id) => stack.client.getJob(id)));
      if (!members.some((m) => (m?.attempts ?? 0) >= 2)) continue;

      expect(status).toMatchObject({ total: 3, succeeded: 3, pending: 0 });
      // The promise: the callback ran once. A member killed after its side effect and before its
      // SUCCEEDED write runs again (at least once), which the ledger cannot prevent.
      expect(await runs(onSuccess)).toBe(1);
      for (const jobId of group.jobIds) expect(await runs(jobId)).toBeGreaterThanOrEqual(1);
      return;
    }
    throw new Error('three groups finished before the kill reached a member');
  }, 1_800_000);

  it('sqs-jobs group shows the counts and the callbacks', async () => {
    const groupId = `cli-${Date.now()}`;
    await stack.client.enqueueGroup([{ type: 'tally', payload: { n: 0 } }], {
      groupId,
      onComplete: { type: 'group-report', payload: { label: 'cli' } },
    });
    await groupComplete(groupId);
    let out = '';
    const code = await main(['group', groupId, '--json', '--stack', stack.stackName], {
      stdout: (text) => {
        out += text;
      },
      stderr: () => undefined,
      isTTY: false,
    });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ groupId, total: 1, succeeded: 1, state: 'COMPLETE' });
  });
});

describe('chains', () => {
  it('runs each step once, in order, passing each result along', async () => {
    const chain = await stack.client.enqueueChain([
      { type: 'pipeline-step', payload: { add: 1 } },
      { type: 'pipeline-step', payload: { add: 10 } },
      { type: 'pipeline-step', payload: { add: 100 } },
    ]);
    const last = await waitForStatus(stack, chain.jobIds[2], ['SUCCEEDED'], LONG);

    expect(last.result).toEqual({ total: 111, step: 2 });
    expect(await stack.client.getChain(chain.chainId)).toMatchObject({ state: 'SUCCEEDED', current: 3 });
    for (const jobId of chain.jobIds) expect(await runs(jobId)).toBe(1);
  });

  it('a step that fails for good stops the chain, and the chain says where', async () => {
    const chain = await stack.client.enqueueChain([
      { type: 'pipeline-step', payload: { add: 1 } },
      { type: 'pipeline-step', payload: { add: 2, fail: true } },
      { type: 'pipeline-step', payload: { add: 3 } },
    ]);
    const status = await waitFor(
      'the chain FAILED',
      async () => {
        const c = await stack.client.getChain(chain.chainId);
        return c?.state === 'FAILED' ? c : undefined;
      },
      { timeoutMs: LONG },
    );

    expect(status.failed).toMatchObject({ index: 1, jobId: chain.jobIds[1], status: 'DEAD' });
    expect(status.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'DEAD', undefined]);
    expect(await runs(chain.jobIds[2])).toBe(0);
  });
});
