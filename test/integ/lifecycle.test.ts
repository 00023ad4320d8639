/**
 * The job lifecycle on the deployed example stack: happy path per lane, duplicate delivery,
 * retries with backoff, poison jobs, permanent errors and malformed messages.
 */
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DLQ_ATTR } from '../../lambdas/shared/contract';
import { createEnvelope, newJobId } from '../../lambdas/shared/envelope';
import { type DeployedStack, deployedStack } from '../../scripts/local/deployed-stack';
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
    await waitFor(
      'the duplicate to be consumed',
      async () => {
        const left = await peekMessages(stack.sqs, queueUrl);
        return left.some((m) => envelopeId(m) === envelope.id) ? undefined : true;
      },
      // Every peek is a receive of each visible message: poll gently.
      { intervalMs: 2_000 },
    );
    const after = await stack.client.getJob(envelope.id);
    expect(after).toMatchObject({ status: 'SUCCEEDED', attempts: 1, finishedAt: first.finishedAt });
  });

  it('retries a job that fails twice after its backoff, well before the visibility timeout, then succeeds', async () => {
    const { jobId } = await stack.client.enqueue('flaky-task', { failTimes: 2 });
    // Watch the claims: each attempt writes a new startedAt. A poll can miss an attempt (a
    // backoff can be 0 s), so gaps are taken only between attempts seen one after the other.
    const starts = new Map<number, number>();
    const done = await waitFor(
      `job ${jobId} to succeed`,
      async () => {
        const job = await stack.client.getJob(jobId);
        if (job?.startedAt && job.attempts > 0 && !starts.has(job.attempts))
          starts.set(job.attempts, Date.parse(job.startedAt));
        return job?.status === 'SUCCEEDED' ? job : undefined;
      },
      { intervalMs: 100 },
    );
    expect(done).toMatchObject({ attempts: 3, result: { attempt: 3 } });
    const gaps = [1, 2].flatMap((a) => {
      const [from, to] = [starts.get(a), starts.get(a + 1)];
      return from !== undefined && to !== undefined ? [to - from] : [];
    });
    console.log(`[integ] retry gaps seen: ${gaps.map((g) => `${(g / 1000).toFixed(1)} s`).join(', ')}`);
    // The backoff (full jitter below 2 s, then 4 s) decides when a failed job comes back, not the
    // lane's visibility timeout (60 s), which SQS would apply had the consumer not shortened it.
    // How far below 60 s depends on the machine; that it is below does not.
    const { Attributes = {} } = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.config.lanes.default.queueUrl,
        AttributeNames: ['VisibilityTimeout'],
      }),
    );
    const visibilityMs = Number(Attributes.VisibilityTimeout) * 1000;
    expect(visibilityMs).toBeGreaterThan(0);
    for (const gap of gaps) expect(gap).toBeLessThan(visibilityMs);
  });

  it('dead-letters a poison job after max attempts, with the ledger saying DEAD', async () => {
    const { jobId } = await stack.client.enqueue('flaky-task', { failTimes: 99 });
    const dead = await waitForStatus(stack, jobId, ['DEAD'], 300_000);
    expect(dead.attempts).toBe(stack.config.lanes.default.maxAttempts);
    expect(dead.lastError).toContain('planned failure');
    const inDlq = await waitFor('the poison job in the default DLQ', async () => {
      const messages = await peekMessages(stack.sqs, stack.config.lanes.default.dlqUrl);
      return messages.find((m) => envelopeId(m) === jobId);
    });
    // The job itself, compared as JSON: LocalStack's SQS poller re-serializes bodies it hands to
    // Lambda (json.loads then json.dumps), so the bytes can differ from what was sent.
    expect(JSON.parse(inDlq.Body ?? '{}')).toMatchObject({ id: jobId, payload: { failTimes: 99 } });
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
