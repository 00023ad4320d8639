/**
 * The job lifecycle on the deployed example stack: happy path per lane, duplicate delivery,
 * retries with backoff, poison jobs, permanent errors and malformed messages.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DLQ_ATTR } from '../../lambdas/shared/contract';
import { createEnvelope, newJobId } from '../../lambdas/shared/envelope';
import { type DeployedStack, deployedStack } from '../support/deployed-stack';
import { envelopeId, peekMessages, waitFor, waitForStatus } from './helpers';

let stack: DeployedStack;
beforeAll(async () => {
  stack = await deployedStack();
});

describe.concurrent('lifecycle', () => {
  it('runs a job on each lane to SUCCEEDED with its result stored', async () => {
    const jobs = await Promise.all([
      stack.client.enqueue('send-email', { to: 'ada@example.com', subject: 'hello' }),
      stack.client.enqueue('flaky-task', {}),
      stack.client.enqueue('generate-report', { reportId: 'r-1', pages: 2 }),
      stack.client.enqueue('ledger-entry', { account: `acct-${Date.now()}`, seq: 0 }, { groupId: 'happy' }),
    ]);
    expect(jobs.map((j) => j.lane)).toEqual(['high', 'default', 'low', 'ordered']);
    const records = await Promise.all(jobs.map((j) => waitForStatus(stack, j.jobId, ['SUCCEEDED'])));
    expect(records[0].result).toMatchObject({ to: 'ada@example.com' });
    expect(records[1].result).toEqual({ attempt: 1 });
    expect(records[2]).toMatchObject({ result: { reportId: 'r-1', pages: 2 }, progress: 100 });
    expect(records[3].result).toMatchObject({ seq: 0 });
    for (const record of records) expect(record.attempts).toBe(1);
  });

  it('runs a job delivered twice only once', async () => {
    const envelope = createEnvelope({
      id: newJobId(),
      type: 'send-email',
      payload: { to: 'bob@example.com', subject: 'once' },
    });
    const body = JSON.stringify(envelope);
    const queueUrl = stack.config.lanes.high.queueUrl;
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const first = await waitForStatus(stack, envelope.id, ['SUCCEEDED']);
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    // The duplicate is acknowledged without running: the record does not change and the lane drains.
    await waitFor('the duplicate to be consumed', async () => {
      const left = await peekMessages(stack.sqs, queueUrl);
      return left.some((m) => envelopeId(m) === envelope.id) ? undefined : true;
    });
    const after = await stack.client.getJob(envelope.id);
    expect(after).toMatchObject({ status: 'SUCCEEDED', attempts: 1, finishedAt: first.finishedAt });
  });

  it('retries a job that fails twice with growing, jittered backoff, then succeeds', async () => {
    const { jobId } = await stack.client.enqueue('flaky-task', { failTimes: 2 });
    // Watch every claim: each attempt writes a new startedAt.
    const starts: number[] = [];
    const done = await waitFor(
      `job ${jobId} to succeed`,
      async () => {
        const job = await stack.client.getJob(jobId);
        const startedAt = job?.startedAt ? Date.parse(job.startedAt) : undefined;
        if (startedAt && !starts.includes(startedAt)) starts.push(startedAt);
        return job?.status === 'SUCCEEDED' ? job : undefined;
      },
      { intervalMs: 100, timeoutMs: 120_000 },
    );
    expect(done).toMatchObject({ attempts: 3, result: { attempt: 3 } });
    expect(starts).toHaveLength(3);
    const gaps = [starts[1] - starts[0], starts[2] - starts[1]];
    console.log(`[integ] retry gaps: ${gaps.map((g) => `${(g / 1000).toFixed(1)} s`).join(', ')}`);
    // Full jitter below a doubling ceiling (base 2 s: ≤ 2 s, then ≤ 4 s) plus event-source polling slack.
    const pollSlackMs = 6_000;
    expect(gaps[0]).toBeLessThanOrEqual(2_000 + pollSlackMs);
    expect(gaps[1]).toBeLessThanOrEqual(4_000 + pollSlackMs);
  });

  it('dead-letters a poison job after max attempts, with the ledger saying DEAD', async () => {
    const { jobId } = await stack.client.enqueue('flaky-task', { failTimes: 99 });
    const dead = await waitForStatus(stack, jobId, ['DEAD'], 150_000);
    expect(dead.attempts).toBe(stack.config.lanes.default.maxAttempts);
    expect(dead.lastError).toContain('planned failure');
    const inDlq = await waitFor('the poison job in the default DLQ', async () => {
      const messages = await peekMessages(stack.sqs, stack.config.lanes.default.dlqUrl);
      return messages.find((m) => envelopeId(m) === jobId);
    });
    expect(inDlq.Body).toContain('"failTimes":99');
  });

  it('sends a permanent failure to the DLQ at once, without retries, with the reason attached', async () => {
    const { jobId } = await stack.client.enqueue('flaky-task', { permanent: true });
    const dead = await waitForStatus(stack, jobId, ['DEAD']);
    expect(dead.attempts).toBe(1);
    const message = await waitFor('the permanent failure in the DLQ', async () => {
      const messages = await peekMessages(stack.sqs, stack.config.lanes.default.dlqUrl);
      return messages.find((m) => envelopeId(m) === jobId);
    });
    expect(message.MessageAttributes?.[DLQ_ATTR.errorType]?.StringValue).toBe('PermanentJobError');
    expect(message.MessageAttributes?.[DLQ_ATTR.error]?.StringValue).toContain('permanent failure');
  });

  it('sends a malformed message to the DLQ at once', async () => {
    const marker = `not json ${Date.now()}`;
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.config.lanes.low.queueUrl, MessageBody: marker }),
    );
    const message = await waitFor('the malformed message in the low DLQ', async () => {
      const messages = await peekMessages(stack.sqs, stack.config.lanes.low.dlqUrl);
      return messages.find((m) => m.Body === marker);
    });
    expect(message.MessageAttributes?.[DLQ_ATTR.errorType]?.StringValue).toBe('MalformedMessageError');
    // Dead-lettered on its first delivery (the receive count itself grows with every peek).
    expect(message.MessageAttributes?.[DLQ_ATTR.attempts]?.StringValue).toBe('1');
  });
});
