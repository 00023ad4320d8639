import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { DLQ_ATTR } from '../../../lambdas/shared/contract';
import {
  consumerEnv,
  DLQ_URL,
  envelopeBody,
  lambdaContext,
  ledgerWrites,
  QUEUE_URL,
  quietTelemetry,
  readable,
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
/** Ignores its abort signal; runs until the test releases it. */
let releaseStubborn: () => void = () => undefined;
const stubborn = defineJob({
  type: 'stubborn',
  schema: z.object({}),
  timeoutSeconds: 1,
  handler: async () => {
    await new Promise<void>((resolve) => {
      releaseStubborn = resolve;
    });
    return 'late';
  },
});
const polite = defineJob({
  type: 'polite',
  schema: z.object({}),
  timeoutSeconds: 1,
  handler: async (_payload, ctx) => {
    seenSignals.push(ctx.signal);
    await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
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
const registry = defineRegistry([entry, slow, stubborn, polite, capped, optimistic, fireAndForget]);

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
  ddb.on(PutItemCommand).resolves({});
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
    // Prepare: the claim of a first delivery is a PutItem
    ddb.on(PutItemCommand).rejects(throttled());

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
    // Prepare: a fixed clock, so the time the test takes cannot shorten the lease it reads.
    const now = Date.now();
    const leaseUntil = now + 42_000;
    ddb.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'conditional',
        $metadata: {},
        Item: { jobId: { S: 'j1' }, status: { S: 'RUNNING' }, leaseUntil: { N: String(leaseUntil) } },
      }),
    );

    // Act
    const response = await handler({}, { now: () => now })(
      { Records: [record('m1', envelopeBody('j1', 'entry', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    const visibility =
      sqs.commandCalls(ChangeMessageVisibilityCommand)[0].args[0].input.VisibilityTimeout ?? 0;
    // the lease's 42 s, 1 s of slack, and up to 2 s of jitter so waiters spread out
    expect(visibility).toBeGreaterThanOrEqual(42);
    expect(visibility).toBeLessThanOrEqual(46);
  });

  it('uses no attempt for a deferral, and on the last receive the queue allows dead-letters the job itself, ledger DEAD with the reason', async () => {
    // Prepare: the claim is throttled on the queue's 20th (last) receive; the ledger has 1 run recorded
    ddb.on(UpdateItemCommand).rejectsOnce(throttled()).resolves({});
    ddb
      .on(GetItemCommand)
      .resolves({ Item: { jobId: { S: 'j1' }, status: { S: 'FAILED' }, attempts: { N: '1' } } });

    // Act
    const response = await handler()(
      { Records: [record('m1', envelopeBody('j1', 'entry', {}), { receiveCount: 20 })] },
      lambdaContext(),
    );

    // Assess: acknowledged because the consumer moved it to the DLQ itself
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([]);
    const dead = ddb.commandCalls(UpdateItemCommand)[1].args[0].input;
    expect(dead.ExpressionAttributeValues?.[':status']?.S).toBe('DEAD');
    expect(dead.ExpressionAttributeValues?.[':attempts']?.N).toBe('0'); // no attempt added
    expect(dead.ExpressionAttributeValues?.[':lastError']?.S).toMatch(
      /^ReceiveBudgetExhaustedError: Gave up after 20 receives .* with 1 attempt\(s\) run; last: ledger or SQS call failed: ProvisionedThroughputExceededException/,
    );
    const sent = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(sent.QueueUrl).toBe(DLQ_URL);
    expect(sent.MessageAttributes?.[DLQ_ATTR.errorType]?.StringValue).toBe('ReceiveBudgetExhaustedError');
    expect(sent.MessageAttributes?.[DLQ_ATTR.error]?.StringValue).toMatch(/\(ledger: DEAD\)/);
  });

  it('on the last receive, a job running elsewhere under a live lease is dead-lettered with the ledger saying why it is not DEAD', async () => {
    // Prepare: the claim finds a live lease; the DEAD write that respects leases is refused too
    const busy = new ConditionalCheckFailedException({
      message: 'conditional',
      $metadata: {},
      Item: { jobId: { S: 'j1' }, status: { S: 'RUNNING' }, leaseUntil: { N: String(Date.now() + 60_000) } },
    });
    ddb.on(UpdateItemCommand).rejects(busy);
    ddb
      .on(GetItemCommand)
      .resolves({ Item: { jobId: { S: 'j1' }, status: { S: 'RUNNING' }, attempts: { N: '2' } } });

    // Act
    await handler()(
      { Records: [record('m1', envelopeBody('j1', 'entry', {}), { receiveCount: 20 })] },
      lambdaContext(),
    );

    // Assess
    const sent = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(sent.MessageAttributes?.[DLQ_ATTR.error]?.StringValue).toMatch(
      /running elsewhere under a live lease \(ledger: not marked DEAD: another execution holds the job under a live lease\)/,
    );
  });
});

describe('consumer: attempts and dead-lettering', () => {
  it('dead-letters itself on the last attempt the ledger counts, whatever the receive count', async () => {
    // Prepare: the claim finds 2 earlier runs; this is the 7th receive (deferrals used the others)
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: { jobId: { S: 'j1' }, status: { S: 'FAILED' }, attempts: { N: '2' } } })
      .resolves({});

    // Act
    const response = await handler({ JOBS_MAX_ATTEMPTS: '3' })(
      { Records: [record('m1', envelopeBody('j1', 'entry', { fail: true }), { receiveCount: 7 })] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const statuses = ddb
      .commandCalls(UpdateItemCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':status']?.S);
    expect(statuses).toEqual(['RUNNING', 'DEAD']);
    const sent = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(sent.QueueUrl).toBe(DLQ_URL);
    expect(sent.MessageAttributes?.[DLQ_ATTR.attempts]).toEqual({ DataType: 'Number', StringValue: '3' });
    expect(sent.MessageAttributes?.[DLQ_ATTR.errorType]?.StringValue).toBe('AttemptsExhaustedError');
  });

  it('retries with jittered backoff and no DLQ before the last attempt, even on a high receive count', async () => {
    // Prepare: 1 earlier run recorded
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: { jobId: { S: 'j1' }, status: { S: 'FAILED' }, attempts: { N: '1' } } })
      .resolves({});

    // Act
    const response = await handler({ JOBS_MAX_ATTEMPTS: '3' })(
      { Records: [record('m1', envelopeBody('j1', 'entry', { fail: true }), { receiveCount: 9 })] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('dead-letters itself when the job allows fewer attempts than the lane', async () => {
    // Prepare: 1 earlier run recorded
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: { jobId: { S: 'j1' }, status: { S: 'FAILED' }, attempts: { N: '1' } } })
      .resolves({});

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

  it('retries with a backoff that grows with the attempts the ledger counts, not the receives', async () => {
    // Prepare: earlier runs per job: j1 none, j3 two, j4 three
    const earlier: Record<string, number> = { j1: 0, j3: 2, j4: 3 };
    ddb
      .on(UpdateItemCommand)
      .callsFake((input: { Key: { jobId: { S: string } }; ConditionExpression: string }) => {
        const id = input.Key.jobId.S;
        if (!input.ConditionExpression.includes(':nowMs')) return {};
        return {
          Attributes: { jobId: { S: id }, status: { S: 'FAILED' }, attempts: { N: String(earlier[id]) } },
        };
      });

    // Act: every message on its 6th receive
    await handler({ JOBS_BACKOFF_BASE_SECONDS: '10', JOBS_BACKOFF_CAP_SECONDS: '60' })(
      {
        Records: [
          record('m1', envelopeBody('j1', 'entry', { fail: true }), { receiveCount: 6 }),
          record('m3', envelopeBody('j3', 'entry', { fail: true }), { receiveCount: 6 }),
          record('m4', envelopeBody('j4', 'entry', { fail: true }), { receiveCount: 6 }),
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
      { Records: [record('m1', envelopeBody('j1', 'polite', {}))] },
      lambdaContext(),
    );

    // Assess: it stopped at the signal, so the lease is released (FAILED) for the retry
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(seenSignals[0].aborted).toBe(true);
    expect((seenSignals[0].reason as Error).name).toBe('JobTimeoutError');
    const failWrite = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(failWrite.ExpressionAttributeValues?.[':status']?.S).toBe('FAILED');
    expect(failWrite.ExpressionAttributeValues?.[':lastError']?.S).toMatch(/^JobTimeoutError: /);
  });

  it('keeps the lease of a handler that ignores its timeout until it settles, records its late outcome, and recycles the environment meanwhile', async () => {
    // Prepare
    const recycle = vi.fn();
    const consumer = handler({}, { settleGraceMs: 100, abandonedWaitMs: 100, recycle });

    // Act 1: the handler ignores the signal and runs past its 1 s timeout until released
    const first = await consumer(
      { Records: [record('m1', envelopeBody('j1', 'stubborn', {}))] },
      lambdaContext(),
    );

    // Assess 1: retried later, but the job stays RUNNING under a fresh lease (no FAILED write)
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    const abandon = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(abandon.ExpressionAttributeValues?.[':status']).toBeUndefined();
    expect(abandon.ExpressionAttributeValues?.[':leaseUntil']?.N).toBeDefined();
    expect(abandon.ExpressionAttributeValues?.[':lastError']?.S).toMatch(/^JobTimeoutError: /);

    // Act 2: the next invocation while it still runs hands its batch back and recycles
    const second = await consumer(
      { Records: [record('m2', envelopeBody('j2', 'entry', {}))] },
      lambdaContext(),
    );

    // Assess 2
    expect(recycle).toHaveBeenCalledTimes(1);
    expect(ran).toEqual([]);
    expect(second.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0].args[0].input.Entries?.[0]).toMatchObject(
      {
        ReceiptHandle: 'rh-m2',
        VisibilityTimeout: 0,
      },
    );

    // Act 3: once it settles, its success is recorded (so its retry is a duplicate) and the environment is usable
    releaseStubborn();
    await vi.waitFor(
      () => {
        const statuses = ddb
          .commandCalls(UpdateItemCommand)
          .map((c) => c.args[0].input.ExpressionAttributeValues?.[':status']?.S);
        expect(statuses).toContain('SUCCEEDED');
      },
      { timeout: 10_000, interval: 50 },
    );
    const third = await consumer(
      { Records: [record('m3', envelopeBody('j3', 'entry', {}))] },
      lambdaContext(),
    );
    expect(third.batchItemFailures).toEqual([]);
    expect(recycle).toHaveBeenCalledTimes(1);
  });

  it('waits for an abandoned handler that settles, records its late outcome first, then runs the batch without recycling', async () => {
    // Prepare
    const recycle = vi.fn();
    const consumer = handler({}, { settleGraceMs: 100, abandonedWaitMs: 20_000, recycle });
    await consumer({ Records: [record('m1', envelopeBody('j1', 'stubborn', {}))] }, lambdaContext());

    // Act: the next invocation arrives while it still runs; it finishes during the wait
    const second = consumer({ Records: [record('m2', envelopeBody('j2', 'entry', {}))] }, lambdaContext());
    await vi.waitFor(() => expect(ledgerWrites(ddb).length).toBeGreaterThanOrEqual(2));
    releaseStubborn();
    const response = await second;

    // Assess: nothing recycled, the batch ran, and j1's SUCCEEDED was written before j2 was claimed
    expect(recycle).not.toHaveBeenCalled();
    expect(response.batchItemFailures).toEqual([]);
    expect(ran).toEqual(['j2']);
    const writes = ledgerWrites(ddb);
    const j1Done = writes.findIndex((w) => w.jobId === 'j1' && w.status === 'SUCCEEDED');
    const j2Claim = writes.findIndex((w) => w.jobId === 'j2' && w.status === 'RUNNING');
    expect(j1Done).toBeGreaterThanOrEqual(0);
    expect(j2Claim).toBeGreaterThan(j1Done);
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
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

describe('consumer: the final SUCCEEDED write', () => {
  it('is retried when it is throttled, and the job runs once', async () => {
    // Prepare: claim ok (a PutItem), then the SUCCEEDED write is throttled twice
    ddb.on(UpdateItemCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});

    // Act
    const response = await handler({}, { sleep: async () => undefined })(
      { Records: [record('m1', envelopeBody('j1', 'entry', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual(['j1']);
    expect(response.batchItemFailures).toEqual([]);
    expect(ledgerWrites(ddb).map((w) => w.status)).toEqual([
      'RUNNING',
      'SUCCEEDED',
      'SUCCEEDED',
      'SUCCEEDED',
    ]);
  });

  it('when it keeps failing, hands the finished run to the next consumer, which records it without running the job again', async () => {
    // Prepare: claim ok (a PutItem), every later write throttled
    ddb.on(UpdateItemCommand).rejects(throttled());

    // Act 1
    const response = await handler({}, { sleep: async () => undefined })(
      { Records: [record('m1', envelopeBody('j1', 'entry', {}))] },
      lambdaContext(),
    );

    // Assess 1: acknowledged; a completion record went to the lane itself
    expect(ran).toEqual(['j1']);
    expect(response.batchItemFailures).toEqual([]);
    const sent = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(sent.QueueUrl).toBe(QUEUE_URL);
    const completion = JSON.parse(sent.MessageBody ?? '{}');
    const owner = ddb.commandCalls(PutItemCommand)[0].args[0].input.Item?.leaseOwner?.S;
    expect(completion).toMatchObject({
      id: 'j1',
      type: 'entry',
      completion: { owner, result: { ok: true } },
    });

    // Act 2: DynamoDB is back; the completion record arrives
    ddb.reset();
    ddb.on(UpdateItemCommand).resolves({});
    const again = await handler()({ Records: [record('m2', sent.MessageBody ?? '')] }, lambdaContext());

    // Assess 2: SUCCEEDED written under the finished run's owner; the handler did not run again
    expect(again.batchItemFailures).toEqual([]);
    expect(ran).toEqual(['j1']);
    const write = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(write.ExpressionAttributeValues).toMatchObject({
      ':status': { S: 'SUCCEEDED' },
      ':owner': { S: owner },
    });
  });
});

describe('consumer: idempotency modes', () => {
  it('optimistic: one consistent read and one conditional write per new job', async () => {
    // Act
    await handler()({ Records: [record('m1', envelopeBody('j1', 'optimistic', {}))] }, lambdaContext());

    // Assess
    expect(ddb.commandCalls(GetItemCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([true]);
    const writes = ddb.commandCalls(UpdateItemCommand).map((c) => readable(c.args[0].input));
    expect(writes).toHaveLength(1);
    // Never over SUCCEEDED, and not twice for one call (an SDK retry of an applied write)
    expect(writes[0].ConditionExpression).toBe(
      '(attribute_not_exists(#jobId) OR #status <> :succeeded) AND (attribute_not_exists(#outcomeWriteId) OR #outcomeWriteId <> :outcomeWriteId)',
    );
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

  it('gives up a follower held behind a failed message on its last receive, ledger DEAD with the reason', async () => {
    // Prepare
    const records = [
      record('a1', envelopeBody('ja1', 'entry', { fail: true }), { groupId: 'A' }),
      record('a2', envelopeBody('ja2', 'entry', {}), { groupId: 'A', receiveCount: 20 }),
      record('a3', envelopeBody('ja3', 'entry', {}), { groupId: 'A', receiveCount: 3 }),
    ];

    // Act
    const response = await handler({ JOBS_FIFO: 'true' })({ Records: records }, lambdaContext());

    // Assess: a2 left the lane through the DLQ with its reason; a3 is still held
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'a1' }, { itemIdentifier: 'a3' }]);
    expect(ran).toEqual(['ja1']);
    const sent = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(sent.MessageAttributes?.[DLQ_ATTR.error]?.StringValue).toMatch(
      /held behind message a1 of its FIFO group/,
    );
    const dead = ddb
      .commandCalls(UpdateItemCommand)
      .map((c) => c.args[0].input)
      .find((input) => input.Key?.jobId.S === 'ja2');
    expect(dead?.ExpressionAttributeValues?.[':status']?.S).toBe('DEAD');
    const held = sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0].args[0].input.Entries ?? [];
    expect(held.map((e) => e.ReceiptHandle)).toEqual(['rh-a3']);
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
