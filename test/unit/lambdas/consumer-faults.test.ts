import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { DLQ_ATTR } from '../../../lambdas/shared/contract';
import {
  consumerEnv,
  DLQ_URL,
  envelopeBody,
  lambdaContext,
  quietTelemetry,
  record,
} from './support/fixtures';

const ddb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);

const ran: string[] = [];
const seenSignals: AbortSignal[] = [];
const entry = defineJob({
  type: 'entry',
  schema: z.object({ fail: z.boolean().default(false) }),
  handler: async (payload, ctx) => {
    ran.push(ctx.jobId);
    if (payload.fail) throw new Error('entry failed');
    return { ok: true };
  },
});
const slow = defineJob({
  type: 'slow',
  schema: z.object({ ms: z.number() }),
  timeoutSeconds: 1,
  handler: async (payload, ctx) => {
    seenSignals.push(ctx.signal);
    await new Promise((resolve) => setTimeout(resolve, payload.ms));
    return 'done';
  },
});
const capped = defineJob({
  type: 'capped',
  schema: z.object({}),
  maxAttempts: 2,
  handler: async () => {
    throw new Error('still broken');
  },
});
const optimistic = defineJob({
  type: 'optimistic',
  schema: z.object({}),
  idempotency: 'optimistic',
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    return 1;
  },
});
const fireAndForget = defineJob({
  type: 'none',
  schema: z.object({}),
  idempotency: 'none',
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
  },
});
const registry = defineRegistry([entry, slow, capped, optimistic, fireAndForget]);

function handler(env: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  const t = quietTelemetry();
  return createConsumerHandler(registry, {
    env: consumerEnv(env),
    logger: t.logger,
    metrics: t.metrics,
    random: () => 0.999,
    ...extra,
  });
}

function throttled() {
  const error = new Error('Rate of requests exceeds the allowed throughput');
  error.name = 'ProvisionedThroughputExceededException';
  return error;
}

beforeEach(() => {
  ran.length = 0;
  seenSignals.length = 0;
  ddb.reset();
  sqs.reset();
  ddb.on(UpdateItemCommand).resolves({});
  ddb.on(GetItemCommand).resolves({});
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq' });
});

describe('consumer: fault injection', () => {
  it('reports a permanent failure as a batch failure when the DLQ send fails', async () => {
    // Prepare
    sqs.on(SendMessageCommand).rejects(new Error('socket hang up'));

    // Act
    const response = await handler()({ Records: [record('m-bad', '"just a string"')] }, lambdaContext());

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-bad' }]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('does not run the handler and retries later when the claim is throttled', async () => {
    // Prepare
    ddb.on(UpdateItemCommand).rejects(throttled());

    // Act
    const response = await handler()(
      { Records: [record('m1', envelopeBody('j1', 'entry', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    // random 0.999, attempt 1, base 2 → ceiling 2 → 2 s.
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0].args[0].input.VisibilityTimeout).toBe(2);
  });

  it('still reports a retryable failure when the visibility change fails on the network', async () => {
    // Prepare
    sqs.on(ChangeMessageVisibilityCommand).rejects(new Error('ECONNRESET'));

    // Act
    const response = await handler()(
      { Records: [record('m1', envelopeBody('j1', 'entry', { fail: true }))] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  });

  it('defers a job running under a live lease elsewhere until the lease ends', async () => {
    // Prepare
    const leaseUntil = Date.now() + 42_000;
    ddb.on(UpdateItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'conditional',
        $metadata: {},
        Item: { jobId: { S: 'j1' }, status: { S: 'RUNNING' }, leaseUntil: { N: String(leaseUntil) } },
      }),
    );

    // Act
    const response = await handler()(
      { Records: [record('m1', envelopeBody('j1', 'entry', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    const visibility =
      sqs.commandCalls(ChangeMessageVisibilityCommand)[0].args[0].input.VisibilityTimeout ?? 0;
    expect(visibility).toBeGreaterThanOrEqual(42);
    expect(visibility).toBeLessThanOrEqual(44);
  });
});

describe('consumer: attempts and dead-lettering', () => {
  it('marks the ledger DEAD on the lane’s last attempt and leaves the redrive to SQS', async () => {
    // Act
    const response = await handler({ JOBS_MAX_ATTEMPTS: '3' })(
      { Records: [record('m1', envelopeBody('j1', 'entry', { fail: true }), { receiveCount: 3 })] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    const statuses = ddb
      .commandCalls(UpdateItemCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':status']?.S);
    expect(statuses).toEqual(['RUNNING', 'DEAD']);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0].args[0].input.VisibilityTimeout).toBe(0);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('dead-letters itself when the job allows fewer attempts than the lane', async () => {
    // Act
    const response = await handler({ JOBS_MAX_ATTEMPTS: '5' })(
      { Records: [record('m1', envelopeBody('j1', 'capped', {}), { receiveCount: 2 })] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const sent = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(sent.QueueUrl).toBe(DLQ_URL);
    expect(sent.MessageAttributes?.[DLQ_ATTR.attempts]).toEqual({ DataType: 'Number', StringValue: '2' });
    expect(sent.MessageAttributes?.[DLQ_ATTR.error]?.StringValue).toMatch(
      /Gave up after 2 attempts.*still broken/,
    );
  });

  it('retries with a backoff that grows with the receive count', async () => {
    // Act
    await handler({ JOBS_BACKOFF_BASE_SECONDS: '10', JOBS_BACKOFF_CAP_SECONDS: '60' })(
      {
        Records: [
          record('m1', envelopeBody('j1', 'entry', { fail: true }), { receiveCount: 1 }),
          record('m3', envelopeBody('j3', 'entry', { fail: true }), { receiveCount: 3 }),
          record('m4', envelopeBody('j4', 'entry', { fail: true }), { receiveCount: 4 }),
        ],
      },
      lambdaContext(),
    );

    // Assess: random 0.999 → the ceiling: 10, 40, min(60, 80) = 60.
    const byHandle = Object.fromEntries(
      sqs
        .commandCalls(ChangeMessageVisibilityCommand)
        .map((c) => [c.args[0].input.ReceiptHandle, c.args[0].input.VisibilityTimeout]),
    );
    expect(byHandle).toEqual({ 'rh-m1': 10, 'rh-m3': 40, 'rh-m4': 60 });
  });
});

describe('consumer: deadlines and heartbeat', () => {
  it('aborts a handler at its timeout and retries it', async () => {
    // Act
    const response = await handler()(
      { Records: [record('m1', envelopeBody('j1', 'slow', { ms: 3000 }))] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(seenSignals[0].aborted).toBe(true);
    expect((seenSignals[0].reason as Error).name).toBe('JobTimeoutError');
    const failWrite = ddb.commandCalls(UpdateItemCommand)[1].args[0].input;
    expect(failWrite.ExpressionAttributeValues?.[':lastError']?.S).toMatch(/^JobTimeoutError: /);
  });

  it('hands a message back without running it when the invocation is nearly out of time', async () => {
    // Act
    const response = await handler()(
      { Records: [record('m1', envelopeBody('j1', 'entry', {}))] },
      lambdaContext(2500),
    );

    // Assess
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  it('extends the message visibility while a handler outlives it', async () => {
    // Act
    const response = await handler({ JOBS_VISIBILITY_TIMEOUT_SECONDS: '1' }, { heartbeatIntervalMs: 200 })(
      { Records: [record('m1', envelopeBody('j1', 'slow', { ms: 900 }))] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const beats = sqs
      .commandCalls(ChangeMessageVisibilityCommand)
      .map((c) => c.args[0].input.VisibilityTimeout);
    expect(beats.length).toBeGreaterThanOrEqual(1);
    expect(beats.every((v) => v === 1)).toBe(true);
  });
});

describe('consumer: idempotency modes', () => {
  it('optimistic: one consistent read and one conditional write per new job', async () => {
    // Act
    await handler()({ Records: [record('m1', envelopeBody('j1', 'optimistic', {}))] }, lambdaContext());

    // Assess
    expect(ddb.commandCalls(GetItemCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([true]);
    const writes = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(writes).toHaveLength(1);
    expect(writes[0].ConditionExpression).toBe('attribute_not_exists(#jobId) OR #status <> :succeeded');
  });

  it('optimistic: skips a job the ledger says SUCCEEDED', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves({ Item: { jobId: { S: 'j1' }, status: { S: 'SUCCEEDED' } } });

    // Act
    const response = await handler()(
      { Records: [record('m1', envelopeBody('j1', 'optimistic', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([]);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  it('none: no ledger traffic for a first-attempt success, one write after an earlier failure', async () => {
    // Act
    await handler()(
      {
        Records: [
          record('m1', envelopeBody('j1', 'none', {}), { receiveCount: 1 }),
          record('m2', envelopeBody('j2', 'none', {}), { receiveCount: 2 }),
        ],
      },
      lambdaContext(),
    );

    // Assess
    expect(ran.sort()).toEqual(['j1', 'j2']);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input.Key?.jobId.S)).toEqual(['j2']);
  });
});

describe('consumer: FIFO lanes', () => {
  it('fails the failed message and every later one of its group, and lets other groups run', async () => {
    // Prepare
    const fifo = handler({ JOBS_FIFO: 'true' });
    const records = [
      record('a1', envelopeBody('ja1', 'entry', {}), { groupId: 'A' }),
      record('b1', envelopeBody('jb1', 'entry', {}), { groupId: 'B' }),
      record('a2', envelopeBody('ja2', 'entry', { fail: true }), { groupId: 'A' }),
      record('a3', envelopeBody('ja3', 'entry', {}), { groupId: 'A' }),
      record('b2', envelopeBody('jb2', 'entry', {}), { groupId: 'B' }),
      record('a4', envelopeBody('ja4', 'entry', {}), { groupId: 'A' }),
    ];

    // Act
    const response = await fifo({ Records: records }, lambdaContext());

    // Assess
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'a2' },
      { itemIdentifier: 'a3' },
      { itemIdentifier: 'a4' },
    ]);
    expect(ran.sort()).toEqual(['ja1', 'ja2', 'jb1', 'jb2']);
    const held = sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0].args[0].input.Entries ?? [];
    expect(held.map((e) => e.ReceiptHandle)).toEqual(['rh-a3', 'rh-a4']);
  });

  it('sends FIFO dead letters with the message group and a dedup id', async () => {
    // Act
    await handler({ JOBS_FIFO: 'true' })(
      { Records: [record('a1', 'not json', { groupId: 'acct-7' })] },
      lambdaContext(),
    );

    // Assess
    const sent = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(sent).toMatchObject({ MessageGroupId: 'acct-7', MessageDeduplicationId: 'a1' });
  });
});
