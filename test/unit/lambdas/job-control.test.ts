/**
 * The consumer's job control with mocked DynamoDB and SQS: cancel (before and during a run), rate
 * and concurrency limits (checked before the claim), tenants (logs, metrics, ctx) and debounce
 * (only the window's latest enqueue runs).
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type ConsumerOptions, createConsumerHandler } from '../../../lambdas/consumer';
import { limitDeferSeconds } from '../../../lambdas/consumer/limit-gate';
import { limitItemId } from '../../../lambdas/ledger/limits';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import type { JobContext } from '../../../lambdas/registry/types';
import { CONSUMER_ENV, DLQ_ATTR, JOB_METRICS } from '../../../lambdas/shared/contract';
import { JobCancelledError } from '../../../lambdas/shared/errors';
import {
  consumerEnv,
  DLQ_URL,
  envelopeBody,
  lambdaContext,
  QUEUE_URL,
  quietTelemetry,
  readable,
  record,
} from './support/fixtures';

const ddb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);

const NOW = Date.parse('2025-06-01T12:00:00.000Z');
const CANCEL_CHECK_MS = 50;

const ran: string[] = [];
const seen: JobContext[] = [];
let abortReason: unknown;

/** Waits on its signal and rethrows its reason (a handler that honours cancel). */
const waiter = defineJob({
  type: 'waiter',
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    await new Promise<void>((_, reject) => {
      ctx.signal.addEventListener('abort', () => {
        abortReason = ctx.signal.reason;
        reject(ctx.signal.reason);
      });
    });
  },
});
/** Waits until its signal aborts, then finishes its work anyway. */
const stubborn = defineJob({
  type: 'stubborn',
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    return { finished: true };
  },
});
const quick = defineJob({
  type: 'quick',
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    seen.push(ctx);
    return 'ok';
  },
});
/** Runs a few cancel intervals without looking at its signal. */
const slowNone = defineJob({
  type: 'slow-none',
  idempotency: 'none',
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    await new Promise((resolve) => setTimeout(resolve, CANCEL_CHECK_MS * 4));
  },
});
/** Runs until the consumer has made `SLOW_STRICT_READS` cancel reads (a condition, not a time). */
const SLOW_STRICT_READS = 3;
let readsSeen: () => void = () => {};
const slowStrict = defineJob({
  type: 'slow-strict',
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    await new Promise<void>((resolve) => {
      readsSeen = resolve;
    });
  },
});
const logs = defineJob({
  type: 'logs',
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ctx.logger.info('working');
  },
});
const flaky = defineJob({
  type: 'flaky',
  schema: z.object({}),
  handler: async () => {
    throw new Error('downstream 503');
  },
});
const optWaiter = defineJob({
  type: 'opt-waiter',
  idempotency: 'optimistic',
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    await new Promise<void>((_, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
    });
  },
});
let stuckDone: Promise<void> = Promise.resolve();
/** Lets the stuck handler finish: the test calls it once the invocation has returned. */
let releaseStuck: () => void = () => {};
const stuck = defineJob({
  type: 'stuck',
  timeoutSeconds: 1,
  schema: z.object({}),
  concurrency: { limit: 1 },
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    // Ignores its abort signal: still running after its timeout.
    stuckDone = new Promise((resolve) => {
      releaseStuck = resolve;
    });
    await stuckDone;
  },
});
const beating = defineJob({
  type: 'beating',
  heartbeatSeconds: 1,
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    await new Promise((resolve) => setTimeout(resolve, 1400));
  },
});
const optimistic = defineJob({
  type: 'opt',
  idempotency: 'optimistic',
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
  },
});
const rated = defineJob({
  type: 'rated',
  schema: z.object({ account: z.string() }),
  rateLimit: { limit: 1, perSeconds: 60 },
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
  },
});
const bounded = defineJob({
  type: 'bounded',
  schema: z.object({ fail: z.boolean().default(false) }),
  concurrency: { limit: 2 },
  handler: async (p, ctx) => {
    ran.push(ctx.jobId);
    if (p.fail) throw new Error('downstream 503');
  },
});
const both = defineJob({
  type: 'both',
  schema: z.object({ account: z.string() }),
  concurrency: { limit: 1, key: (p) => p.account },
  rateLimit: { limit: 1, perSeconds: 60, key: (p) => p.account },
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
  },
});
const badKey = defineJob({
  type: 'bad-key',
  schema: z.object({ account: z.string() }),
  rateLimit: { limit: 1, perSeconds: 1, key: (p) => p.account },
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
  },
});
const throwingKey = defineJob({
  type: 'throwing-key',
  schema: z.object({}),
  concurrency: {
    limit: 1,
    key: () => {
      throw new Error('no account in payload');
    },
  },
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
  },
});
const perTenant = defineJob({
  type: 'per-tenant',
  tenantMetrics: true,
  schema: z.object({}),
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    seen.push(ctx);
  },
});
/** Names its tenant from the payload; `t: 'has space'` is not a valid one. */
const derivedTenant = defineJob({
  type: 'derived-tenant',
  schema: z.object({ t: z.string() }),
  tenant: (p) => p.t,
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
    seen.push(ctx);
  },
});
const debounced = defineJob({
  type: 'debounced',
  schema: z.object({ doc: z.string() }),
  debounce: { key: (p) => p.doc, seconds: 10 },
  handler: async (_p, ctx) => {
    ran.push(ctx.jobId);
  },
});
const registry = defineRegistry([
  waiter,
  stubborn,
  quick,
  slowNone,
  slowStrict,
  optimistic,
  rated,
  bounded,
  both,
  badKey,
  throwingKey,
  perTenant,
  derivedTenant,
  debounced,
  logs,
  flaky,
  optWaiter,
  stuck,
  beating,
]);

function conditionalFailure(item: Record<string, unknown> | undefined) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: item as never,
  });
}

function consumer(options: Partial<ConsumerOptions> = {}) {
  const t = quietTelemetry();
  const handler = createConsumerHandler(registry, {
    env: consumerEnv(),
    sqs: new SQSClient({}),
    dynamodb: new DynamoDBClient({}),
    logger: t.logger,
    metrics: t.metrics,
    random: () => 0.5,
    cancelCheckIntervalMs: CANCEL_CHECK_MS,
    ...options,
  });
  return { handler, t };
}

function outcomeLines(t: ReturnType<typeof quietTelemetry>) {
  return t.outcomes.mock.calls
    .filter((c) => c[0] === 'job outcome')
    .map((c) => c[1] as unknown as Record<string, unknown>);
}

/**
 * The ledger's writes in order, update-shaped: a first delivery's claim is a PutItem, shown with
 * its item's attributes as `:name` values and its item's key.
 */
function updates(): UpdateItemCommandInput[] {
  return ddb.calls().flatMap((c) => {
    const command = c.args[0];
    if (command instanceof UpdateItemCommand) return [readable(command.input)];
    if (!(command instanceof PutItemCommand)) return [];
    const item = command.input.Item ?? {};
    return [
      {
        TableName: command.input.TableName,
        Key: { jobId: item.jobId },
        ConditionExpression: command.input.ConditionExpression,
        ExpressionAttributeNames: command.input.ExpressionAttributeNames,
        ExpressionAttributeValues: Object.fromEntries(Object.entries(item).map(([k, v]) => [`:${k}`, v])),
      },
    ];
  });
}

function updatesFor(id: string): UpdateItemCommandInput[] {
  return updates().filter((u) => u.Key?.jobId?.S === id);
}

function sqsCalls<T>(command: new (input: T) => unknown) {
  return sqs.commandCalls(command as never).map((call) => call.args[0].input as Record<string, unknown>);
}

function cancelReads() {
  return ddb
    .commandCalls(GetItemCommand)
    .filter((c) => c.args[0].input.ProjectionExpression !== undefined)
    .map((c) => c.args[0].input);
}

function counted(t: ReturnType<typeof quietTelemetry>, name: string) {
  return t.addMetric.mock.calls.filter((c) => c[0] === name).map((c) => c[2]);
}

beforeEach(() => {
  ran.length = 0;
  seen.length = 0;
  abortReason = undefined;
  ddb.reset();
  sqs.reset();
  ddb.on(UpdateItemCommand).resolves({ Attributes: {} });
  ddb.on(PutItemCommand).resolves({});
  ddb.on(GetItemCommand).resolves({});
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'sent-1' });
});
afterEach(() => vi.restoreAllMocks());

describe('consumer: cancel', () => {
  it('acknowledges a delivery of a CANCELLED job unrun, counting JobCancelled', async () => {
    // Prepare: the claim (a first delivery's PutItem) finds the job CANCELLED
    ddb.on(PutItemCommand, { Item: { jobId: { S: 'job-c' } } }).rejects(
      conditionalFailure({
        jobId: { S: 'job-c' },
        status: { S: 'CANCELLED' },
        attempts: { N: '0' },
        cancelRequestedAt: { S: '2025-06-01T11:00:00.000Z' },
      }),
    );
    const { handler, t } = consumer();

    // Act
    const response = await handler(
      { Records: [record('m-c', envelopeBody('job-c', 'quick', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(ran).toEqual([]);
    expect(outcomeLines(t)).toEqual([
      expect.objectContaining({
        jobId: 'job-c',
        status: 'CANCELLED',
        ran: false,
        cancelRequestedAt: '2025-06-01T11:00:00.000Z',
      }),
    ]);
    expect(updatesFor('job-c')).toHaveLength(1); // the claim only
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(sqsCalls(SendMessageCommand)).toEqual([]);
    expect(counted(t, JOB_METRICS.names.cancelled)).toEqual([1]);
  });

  it('aborts a running handler with JobCancelledError within one check interval and records CANCELLED', async () => {
    // Prepare: the first cancel read finds the request
    ddb.on(GetItemCommand).resolves({
      Item: { status: { S: 'RUNNING' }, cancelRequestedAt: { S: '2025-06-01T12:00:00.000Z' } },
    });
    const { handler, t } = consumer();

    // Act
    const response = await handler(
      { Records: [record('m-w', envelopeBody('job-w', 'waiter', {}))] },
      lambdaContext(),
    );

    // Assess: aborted at the first read (exactly one), not at the end of the handler's wait
    expect(abortReason).toBeInstanceOf(JobCancelledError);
    expect((abortReason as JobCancelledError).jobId).toBe('job-w');
    expect(cancelReads()).toEqual([
      {
        TableName: 'ledger',
        Key: { jobId: { S: 'job-w' } },
        ProjectionExpression: '#status, #cancelRequestedAt',
        ExpressionAttributeNames: { '#status': 'status', '#cancelRequestedAt': 'cancelRequestedAt' },
      },
    ]);
    const writes = updatesFor('job-w');
    expect(writes.map((u) => u.ExpressionAttributeValues?.[':status']?.S)).toEqual(['RUNNING', 'CANCELLED']);
    const claimOwner = writes[0].ExpressionAttributeValues?.[':leaseOwner']?.S;
    expect(claimOwner).toMatch(/^[0-9a-f-]{36}$/);
    expect(writes[1].ConditionExpression).toBe('#leaseOwner = :owner AND #status = :running');
    expect(writes[1].ExpressionAttributeValues?.[':owner']?.S).toBe(claimOwner);
    expect(response.batchItemFailures).toEqual([]);
    expect(outcomeLines(t)).toEqual([
      expect.objectContaining({ jobId: 'job-w', status: 'CANCELLED', ran: true, attempt: 1 }),
    ]);
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(sqsCalls(SendMessageCommand)).toEqual([]); // nothing dead-lettered
    expect(counted(t, JOB_METRICS.names.cancelled)).toEqual([1]);
    expect(counted(t, JOB_METRICS.names.retried)).toEqual([]);
  });

  it('keeps checking while no cancel was requested, and aborts at the first read that sees one', async () => {
    // Prepare: two reads see nothing, the third sees the job CANCELLED
    ddb
      .on(GetItemCommand)
      .resolvesOnce({ Item: { status: { S: 'RUNNING' } } })
      .resolvesOnce({ Item: { status: { S: 'RUNNING' } } })
      .resolves({ Item: { status: { S: 'CANCELLED' } } });
    const { handler, t } = consumer();

    // Act
    await handler({ Records: [record('m-w', envelopeBody('job-w3', 'waiter', {}))] }, lambdaContext());

    // Assess
    expect(cancelReads()).toHaveLength(3);
    expect(abortReason).toBeInstanceOf(JobCancelledError);
    expect(outcomeLines(t)[0]).toMatchObject({ status: 'CANCELLED' });
  });

  it('ends SUCCEEDED when the handler ignores the abort and returns a result', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves({
      Item: { status: { S: 'RUNNING' }, cancelRequestedAt: { S: '2025-06-01T12:00:00.000Z' } },
    });
    const { handler, t } = consumer();

    // Act
    const response = await handler(
      { Records: [record('m-s', envelopeBody('job-s', 'stubborn', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const writes = updatesFor('job-s');
    expect(writes.map((u) => u.ExpressionAttributeValues?.[':status']?.S)).toEqual(['RUNNING', 'SUCCEEDED']);
    expect(writes[1].ExpressionAttributeValues?.[':result']).toEqual({ S: '{"finished":true}' });
    expect(outcomeLines(t)).toEqual([expect.objectContaining({ jobId: 'job-s', status: 'SUCCEEDED' })]);
    expect(counted(t, JOB_METRICS.names.cancelled)).toEqual([]);
  });

  it('makes no cancel read for a run shorter than the interval', async () => {
    // Prepare
    const { handler } = consumer();

    // Act
    await handler({ Records: [record('m-q', envelopeBody('job-q', 'quick', {}))] }, lambdaContext());
    await new Promise((resolve) => setTimeout(resolve, CANCEL_CHECK_MS * 2));

    // Assess: no read during the run, and the check stopped with it
    expect(ran).toEqual(['job-q']);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('keeps reading once per interval while a run lasts, and stops with it', async () => {
    // Prepare: the handler ends when the consumer has read SLOW_STRICT_READS times
    let reads = 0;
    ddb.on(GetItemCommand).callsFake(async () => {
      reads++;
      if (reads === SLOW_STRICT_READS) readsSeen();
      return { Item: { status: { S: 'RUNNING' } } };
    });
    const { handler } = consumer();

    // Act
    await handler({ Records: [record('m-l', envelopeBody('job-l', 'slow-strict', {}))] }, lambdaContext());
    const during = cancelReads().length;
    await new Promise((resolve) => setTimeout(resolve, CANCEL_CHECK_MS * 3));

    // Assess: the reads the run needed, and none after it ended
    expect(during).toBe(SLOW_STRICT_READS);
    expect(cancelReads()).toHaveLength(during);
  });

  it('checks every heartbeatSeconds of the job when the consumer sets no interval', async () => {
    // Prepare: no cancelCheckIntervalMs override
    const { handler } = consumer({ cancelCheckIntervalMs: undefined });

    // Act: a run of 1.4 s with heartbeatSeconds 1
    await handler({ Records: [record('m-h', envelopeBody('job-h', 'beating', {}))] }, lambdaContext());

    // Assess
    expect(ran).toEqual(['job-h']);
    expect(cancelReads()).toHaveLength(1);
  });

  it("makes no cancel read for an idempotency 'none' job, however long it runs", async () => {
    // Prepare: a read would say cancelled
    ddb.on(GetItemCommand).resolves({ Item: { status: { S: 'CANCELLED' } } });
    const { handler, t } = consumer();

    // Act
    await handler({ Records: [record('m-n', envelopeBody('job-n', 'slow-none', {}))] }, lambdaContext());

    // Assess
    expect(ran).toEqual(['job-n']);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
    expect(outcomeLines(t)[0]).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('records CANCELLED for an optimistic run stopped by a cancel (an unowned write)', async () => {
    // Prepare: no item before the run; the cancel read then finds the job CANCELLED
    ddb.on(GetItemCommand, { ConsistentRead: true }).resolves({});
    ddb
      .on(GetItemCommand, { ProjectionExpression: '#status, #cancelRequestedAt' })
      .resolves({ Item: { status: { S: 'CANCELLED' } } });
    const { handler, t } = consumer();

    // Act
    const response = await handler(
      { Records: [record('m-ow', envelopeBody('job-ow', 'opt-waiter', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual(['job-ow']);
    expect(response.batchItemFailures).toEqual([]);
    const writes = updatesFor('job-ow');
    expect(writes.map((u) => u.ExpressionAttributeValues?.[':status']?.S)).toEqual(['CANCELLED']);
    expect(writes[0].ExpressionAttributeValues?.[':owner']).toBeUndefined();
    expect(outcomeLines(t)).toEqual([expect.objectContaining({ status: 'CANCELLED', ran: true })]);
    expect(sqsCalls(SendMessageCommand)).toEqual([]);
  });

  it('keeps the run going when a cancel read fails, and checks again at the next interval', async () => {
    // Prepare
    ddb
      .on(GetItemCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ Item: { status: { S: 'RUNNING' }, cancelRequestedAt: { S: '2025-06-01T12:00:00.000Z' } } });
    const { handler, t } = consumer();

    // Act
    await handler({ Records: [record('m-w', envelopeBody('job-wf', 'waiter', {}))] }, lambdaContext());

    // Assess
    expect(cancelReads()).toHaveLength(2);
    expect(abortReason).toBeInstanceOf(JobCancelledError);
    expect(outcomeLines(t)[0]).toMatchObject({ status: 'CANCELLED' });
  });

  it('says so when the CANCELLED write finds the lease lost', async () => {
    // Prepare: the final owner-conditional write fails its condition
    ddb.on(GetItemCommand).resolves({ Item: { status: { S: 'RUNNING' }, cancelRequestedAt: { S: 'x' } } });
    ddb.on(UpdateItemCommand, { Key: { jobId: { S: 'job-ll' } } }).rejects(conditionalFailure(undefined));
    const { handler, t } = consumer();

    // Act
    const response = await handler(
      { Records: [record('m-ll', envelopeBody('job-ll', 'waiter', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(outcomeLines(t)[0]).toMatchObject({
      status: 'CANCELLED',
      ledger: 'not recorded: another execution owns the job',
    });
  });

  it('acknowledges an optimistic job unrun when its ledger read shows CANCELLED', async () => {
    // Prepare
    ddb.on(GetItemCommand, { Key: { jobId: { S: 'job-o' } } }).resolves({
      Item: { jobId: { S: 'job-o' }, status: { S: 'CANCELLED' }, attempts: { N: '0' } },
    });
    const { handler, t } = consumer();

    // Act
    const response = await handler(
      { Records: [record('m-o', envelopeBody('job-o', 'opt', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([]);
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input.ConsistentRead).toBe(true);
    expect(updates()).toEqual([]);
    expect(outcomeLines(t)).toEqual([expect.objectContaining({ status: 'CANCELLED', ran: false })]);
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([]);
  });
});

/**
 * Routes the consumer's UpdateItem calls: the limiter items by id (rate bucket, concurrency map
 * acquire / release), everything else (the job's claim and outcome) succeeds.
 */
function limiter(options: { rate?: 'allow' | 'refuse'; slot?: 'allow' | 'refuse' }) {
  ddb.on(UpdateItemCommand).callsFake(async (input: UpdateItemCommandInput) => {
    const id = input.Key?.jobId?.S ?? '';
    if (id.startsWith('~rate#')) {
      if (options.rate === 'refuse') {
        // The bucket is 30 s past its limit: retry after 30 s.
        throw conditionalFailure({ jobId: { S: id }, tat: { N: String(NOW + 30_000) } });
      }
      return {};
    }
    if (id.startsWith('~conc#')) {
      if (input.UpdateExpression?.startsWith('REMOVE')) return {};
      if (options.slot === 'refuse') {
        // Two live leases, the earliest ending in 20 s.
        throw conditionalFailure({
          jobId: { S: id },
          holders: { M: { a: { N: String(NOW + 20_000) }, b: { N: String(NOW + 40_000) } } },
        });
      }
      return {};
    }
    return { Attributes: {} };
  });
}

function limiterCalls(prefix: string) {
  return updates().filter((u) => u.Key?.jobId?.S?.startsWith(prefix));
}

describe('consumer: rate and concurrency limits', () => {
  it('defers a job whose rate token is refused, before any claim, with the computed delay', async () => {
    // Prepare
    limiter({ rate: 'refuse' });
    const { handler, t } = consumer({ now: () => NOW });

    // Act
    const response = await handler(
      { Records: [record('m-r', envelopeBody('job-r', 'rated', { account: 'a1' }), { receiveCount: 3 })] },
      lambdaContext(),
    );

    // Assess: wait 30 s + jitter floor(0.5 × (2^3 + 1)) = 4
    const expected = limitDeferSeconds(30_000, 3, () => 0.5);
    expect(expected).toBe(34);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-r' }]);
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-m-r', VisibilityTimeout: 34 },
    ]);
    expect(ran).toEqual([]);
    expect(updatesFor('job-r')).toEqual([]); // no claim: no attempt used
    expect(limiterCalls('~rate#').map((u) => u.Key?.jobId?.S)).toEqual([limitItemId('rate', 'rated')]);
    expect(outcomeLines(t)).toEqual([
      expect.objectContaining({
        jobId: 'job-r',
        status: 'LIMITED',
        limit: 'rate',
        reason: 'rate limit reached: 1 per 60 s',
        retryAfterSeconds: 34,
      }),
    ]);
    expect(counted(t, JOB_METRICS.names.limited)).toEqual([1]);
    expect(sqsCalls(SendMessageCommand)).toEqual([]);
  });

  it('defers a job refused a concurrency slot, before any claim', async () => {
    // Prepare
    limiter({ slot: 'refuse' });
    const { handler, t } = consumer({ now: () => NOW });

    // Act
    const response = await handler(
      { Records: [record('m-b', envelopeBody('job-b', 'bounded', {}))] },
      lambdaContext(),
    );

    // Assess: earliest lease ends in 20 s, jitter floor(0.5 × 3) = 1
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-b' }]);
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-m-b', VisibilityTimeout: 21 },
    ]);
    expect(ran).toEqual([]);
    expect(updatesFor('job-b')).toEqual([]);
    expect(limiterCalls('~conc#').map((u) => u.UpdateExpression)).toEqual([
      'SET #holders.#me = :until, #expiresAt = :expiresAt',
    ]);
    expect(outcomeLines(t)[0]).toMatchObject({
      status: 'LIMITED',
      limit: 'concurrency',
      reason: 'concurrency limit reached: 2 of 2 running',
    });
  });

  it.each([
    ['succeeds', false, 'SUCCEEDED'],
    ['throws', true, 'RETRY'],
  ])('releases an admitted job’s concurrency slot after a run that %s', async (_label, fail, status) => {
    // Prepare
    limiter({ slot: 'allow' });
    const { handler, t } = consumer({ now: () => NOW });
    const warnings = vi.spyOn(t.logger, 'warn');

    // Act
    await handler({ Records: [record('m-b', envelopeBody('job-b', 'bounded', { fail }))] }, lambdaContext());

    // Assess: acquire, then the job's claim and outcome, then release of the same holder
    expect(ran).toEqual(['job-b']);
    const conc = limiterCalls('~conc#');
    expect(conc.map((u) => u.UpdateExpression)).toEqual([
      'SET #holders.#me = :until, #expiresAt = :expiresAt',
      'REMOVE #holders.#me',
    ]);
    expect(conc[1].ExpressionAttributeNames?.['#me']).toBe(conc[0].ExpressionAttributeNames?.['#me']);
    const ids = updates().map((u) => u.Key?.jobId?.S);
    expect(ids).toEqual([
      limitItemId('concurrency', 'bounded'),
      'job-b',
      'job-b',
      limitItemId('concurrency', 'bounded'),
    ]);
    const lines = [...t.outcomes.mock.calls, ...warnings.mock.calls].filter((c) => c[0] === 'job outcome');
    expect(lines.map((c) => (c[1] as unknown as { status: string }).status)).toEqual([status]);
  });

  it('keeps the slot of a run abandoned after its timeout (its lease frees it)', async () => {
    // Prepare
    limiter({ slot: 'allow' });
    const { handler } = consumer({ settleGraceMs: 10 });

    // Act
    const response = await handler(
      { Records: [record('m-s', envelopeBody('job-s', 'stuck', {}))] },
      lambdaContext(),
    );
    const afterInvocation = limiterCalls('~conc#').map((u) => u.UpdateExpression);
    releaseStuck();
    await stuckDone;
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Assess: acquired, never released
    expect(ran).toEqual(['job-s']);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-s' }]);
    expect(afterInvocation).toEqual(['SET #holders.#me = :until, #expiresAt = :expiresAt']);
    expect(limiterCalls('~conc#').map((u) => u.UpdateExpression)).toEqual(afterInvocation);
  });

  it('releases the slot at once when the rate limit then refuses the job', async () => {
    // Prepare
    limiter({ slot: 'allow', rate: 'refuse' });
    const { handler, t } = consumer({ now: () => NOW });

    // Act
    const response = await handler(
      { Records: [record('m-2', envelopeBody('job-2', 'both', { account: 'acct-9' }))] },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    expect(updates().map((u) => [u.Key?.jobId?.S, u.UpdateExpression?.split(' ')[0]])).toEqual([
      [limitItemId('concurrency', 'both', 'acct-9'), 'SET'],
      [limitItemId('rate', 'both', 'acct-9'), expect.any(String)],
      [limitItemId('concurrency', 'both', 'acct-9'), 'REMOVE'],
    ]);
    expect(outcomeLines(t)[0]).toMatchObject({ status: 'LIMITED', limit: 'rate' });
  });

  it('releases the slot and defers without an attempt when the rate bucket write throws', async () => {
    // Prepare
    ddb.on(UpdateItemCommand).callsFake(async (input: UpdateItemCommandInput) => {
      if (input.Key?.jobId?.S?.startsWith('~rate#')) throw new Error('ProvisionedThroughputExceeded');
      return {};
    });
    const { handler, t } = consumer({ now: () => NOW });
    const warnings = vi.spyOn(t.logger, 'warn');

    // Act
    const response = await handler(
      { Records: [record('m-2', envelopeBody('job-2', 'both', { account: 'acct-9' }))] },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    expect(updates().map((u) => u.UpdateExpression?.split(' ')[0])).toEqual([
      'SET',
      expect.any(String),
      'REMOVE',
    ]);
    expect(updatesFor('job-2')).toEqual([]);
    const line = warnings.mock.calls.find((c) => c[0] === 'job outcome')?.[1];
    expect(line).toMatchObject({ status: 'DEFERRED' });
  });

  it('requeues a limited job as a fresh message on a standard lane at maxReceiveCount - 1', async () => {
    // Prepare
    limiter({ rate: 'refuse' });
    const { handler, t } = consumer({ now: () => NOW });
    const body = envelopeBody('job-q', 'rated', { account: 'a1' }, { tenant: 'acme' });

    // Act: maxReceiveCount is 20
    const response = await handler({ Records: [record('m-q', body, { receiveCount: 19 })] }, lambdaContext());

    // Assess: 30 s + floor(0.5 × 61) = 60
    expect(response.batchItemFailures).toEqual([]);
    expect(sqsCalls(SendMessageCommand)).toEqual([
      { QueueUrl: QUEUE_URL, MessageBody: body, DelaySeconds: 60, MessageGroupId: 'acme' },
    ]);
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(updatesFor('job-q')).toEqual([]);
    expect(outcomeLines(t)[0]).toMatchObject({ status: 'LIMITED', requeued: true, tenant: 'acme' });
  });

  it('defers the message instead when the requeue send fails', async () => {
    // Prepare
    limiter({ rate: 'refuse' });
    sqs.on(SendMessageCommand).rejects(new Error('SQS is down'));
    const { handler, t } = consumer({ now: () => NOW });
    const warnings = vi.spyOn(t.logger, 'warn');
    const body = envelopeBody('job-q', 'rated', { account: 'a1' }, { tenant: 'acme' });

    // Act
    const response = await handler({ Records: [record('m-q', body, { receiveCount: 19 })] }, lambdaContext());

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-q' }]);
    expect(sqsCalls(SendMessageCommand)).toHaveLength(1);
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-m-q', VisibilityTimeout: 60 },
    ]);
    expect(warnings.mock.calls.map((c) => c[0])).toContain(
      'requeue of a limited job failed; deferring the message instead',
    );
    expect(outcomeLines(t)[0]).toMatchObject({ status: 'LIMITED', retryAfterSeconds: 60 });
  });

  it('caps the requeue delay at 900 s', async () => {
    // Prepare: a bucket 2 h past its limit
    ddb.on(UpdateItemCommand).callsFake(async (input: UpdateItemCommandInput) => {
      const id = input.Key?.jobId?.S ?? '';
      throw conditionalFailure({ jobId: { S: id }, tat: { N: String(NOW + 7_200_000) } });
    });
    const { handler } = consumer({ now: () => NOW });
    const body = envelopeBody('job-q', 'rated', { account: 'a1' });

    // Act
    await handler({ Records: [record('m-q', body, { receiveCount: 19 })] }, lambdaContext());

    // Assess: no tenant, no group
    expect(sqsCalls(SendMessageCommand)).toEqual([
      { QueueUrl: QUEUE_URL, MessageBody: body, DelaySeconds: 900 },
    ]);
  });

  it('keeps deferring (no requeue) on a FIFO lane at maxReceiveCount - 1', async () => {
    // Prepare
    limiter({ rate: 'refuse' });
    const { handler, t } = consumer({ now: () => NOW, env: consumerEnv({ [CONSUMER_ENV.fifo]: 'true' }) });
    const body = envelopeBody('job-f', 'rated', { account: 'a1' }, { tenant: 'acme' });

    // Act
    const response = await handler(
      { Records: [record('m-f', body, { receiveCount: 19, groupId: 'acme' })] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-f' }]);
    expect(sqsCalls(SendMessageCommand)).toEqual([]);
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-m-f', VisibilityTimeout: 60 },
    ]);
    expect(outcomeLines(t)[0]).toMatchObject({ status: 'LIMITED' });
    expect(outcomeLines(t)[0].requeued).toBeUndefined();
  });

  it.each([
    ['throws', 'throwing-key', {}, 'Error', 'no account in payload'],
    [
      'returns an empty key',
      'bad-key',
      { account: '' },
      'ConfigError',
      `defineJob('bad-key').rateLimit.key(payload) must be a string of 1 to 256 characters; got ""`,
    ],
  ])(
    'dead-letters as bad input a job whose key function %s',
    async (_label, type, payload, errorType, text) => {
      // Prepare
      const { handler } = consumer({ now: () => NOW });

      // Act
      const response = await handler(
        { Records: [record('m-k', envelopeBody('job-k', type, payload))] },
        lambdaContext(),
      );

      // Assess: no limiter write, no claim; the ledger says DEAD, the DLQ has the reason
      expect(response.batchItemFailures).toEqual([]);
      expect(ran).toEqual([]);
      expect(limiterCalls('~')).toEqual([]);
      expect(updates().map((u) => [u.Key?.jobId?.S, u.ExpressionAttributeValues?.[':status']?.S])).toEqual([
        ['job-k', 'DEAD'],
      ]);
      const dlq = sqsCalls(SendMessageCommand);
      expect(dlq).toHaveLength(1);
      expect(dlq[0].QueueUrl).toBe(DLQ_URL);
      const attributes = dlq[0].MessageAttributes as Record<string, { StringValue: string }>;
      expect(attributes[DLQ_ATTR.errorType].StringValue).toBe(errorType);
      expect(attributes[DLQ_ATTR.error].StringValue).toBe(text);
    },
  );
});

describe('limitDeferSeconds', () => {
  it('is at least 1 s, even for no wait and no jitter', () => {
    expect(limitDeferSeconds(0, 1, () => 0)).toBe(1);
    expect(limitDeferSeconds(-5000, 1, () => 0)).toBe(1);
    expect(limitDeferSeconds(1, 1, () => 0)).toBe(1);
  });

  it('rounds the wait up to whole seconds', () => {
    expect(limitDeferSeconds(1001, 1, () => 0)).toBe(2);
  });

  it('spreads more the more receives, up to 60 s of jitter', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((r) => limitDeferSeconds(1000, r, top))).toEqual([
      1 + 2,
      1 + 4,
      1 + 8,
      1 + 16,
      1 + 32,
      1 + 60,
      1 + 60,
      1 + 60,
    ]);
    expect(limitDeferSeconds(1000, 0, top)).toBe(3); // receives below 1 count as 1
  });

  it('never exceeds 43200 s (the SQS visibility limit)', () => {
    expect(limitDeferSeconds(100_000_000, 6, () => 0.999_999)).toBe(43_200);
    expect(limitDeferSeconds(43_199_000, 6, () => 0)).toBe(43_199);
  });
});

describe('consumer: tenants', () => {
  it("derives the tenant from the definition's tenant(payload) when the message carries none", async () => {
    // Prepare: a producer without the definition (an untyped client, a cron schedule's input)
    const { handler, t } = consumer();

    // Act
    await handler(
      { Records: [record('m-d', envelopeBody('job-d', 'derived-tenant', { t: 'globex' }))] },
      lambdaContext(),
    );

    // Assess: in the outcome line, ctx.tenant and the claim's ledger write
    expect(outcomeLines(t)).toEqual([expect.objectContaining({ jobId: 'job-d', tenant: 'globex' })]);
    expect(seen.map((ctx) => ctx.tenant)).toEqual(['globex']);
    expect(updatesFor('job-d')[0].ExpressionAttributeValues?.[':tenant']).toEqual({ S: 'globex' });
  });

  it("runs without a tenant, and says so, when tenant(payload) gives an invalid one; the message's own tenant wins", async () => {
    // Prepare
    const { handler, t } = consumer();
    const warn = vi.spyOn(t.logger, 'warn');

    // Act
    await handler(
      {
        Records: [
          record('m-x', envelopeBody('job-x', 'derived-tenant', { t: 'has space' })),
          record('m-y', envelopeBody('job-y', 'derived-tenant', { t: 'globex' }, { tenant: 'acme' })),
        ],
      },
      lambdaContext(),
    );

    // Assess
    expect(ran.sort()).toEqual(['job-x', 'job-y']);
    const lines = outcomeLines(t);
    expect(lines.find((l) => l.jobId === 'job-x')).toMatchObject({ status: 'SUCCEEDED', tenant: undefined });
    expect(lines.find((l) => l.jobId === 'job-y')).toMatchObject({ status: 'SUCCEEDED', tenant: 'acme' });
    expect(warn).toHaveBeenCalledWith('tenant(payload) gave no valid tenant; running without one', {
      type: 'derived-tenant',
    });
  });

  it('puts the tenant in the outcome line and in ctx.tenant', async () => {
    // Prepare
    const { handler, t } = consumer();

    // Act
    await handler(
      { Records: [record('m-t', envelopeBody('job-t', 'quick', {}, { tenant: 'acme' }))] },
      lambdaContext(),
    );

    // Assess
    expect(outcomeLines(t)).toEqual([
      expect.objectContaining({ jobId: 'job-t', tenant: 'acme', status: 'SUCCEEDED' }),
    ]);
    expect(seen.map((ctx) => ctx.tenant)).toEqual(['acme']);
    expect(updatesFor('job-t')[0].ExpressionAttributeValues?.[':tenant']).toEqual({ S: 'acme' });
  });

  it('leaves ctx.tenant undefined without one', async () => {
    // Prepare
    const { handler } = consumer();

    // Act
    await handler({ Records: [record('m-t', envelopeBody('job-t', 'quick', {}))] }, lambdaContext());

    // Assess
    expect(seen).toHaveLength(1);
    expect(seen[0].tenant).toBeUndefined();
  });

  it('emits a {JobType, Lane, Tenant} document per tenant only for tenantMetrics job types', async () => {
    // Prepare
    const { handler, t } = consumer();

    // Act
    await handler(
      {
        Records: [
          record('m1', envelopeBody('job-1', 'per-tenant', {}, { tenant: 'acme' })),
          record('m2', envelopeBody('job-2', 'per-tenant', {}, { tenant: 'acme' })),
          record('m3', envelopeBody('job-3', 'per-tenant', {}, { tenant: 'globex' })),
          record('m4', envelopeBody('job-4', 'quick', {}, { tenant: 'acme' })),
        ],
      },
      lambdaContext(),
    );

    // Assess: one document per (type), plus one per (type, tenant) for per-tenant
    expect(t.addDimensions.mock.calls.map((c) => c[0])).toEqual([
      { JobType: 'per-tenant', Lane: 'default' },
      { JobType: 'per-tenant', Lane: 'default', Tenant: 'acme' },
      { JobType: 'per-tenant', Lane: 'default', Tenant: 'globex' },
      { JobType: 'quick', Lane: 'default' },
    ]);
    expect(counted(t, JOB_METRICS.names.succeeded)).toEqual([3, 2, 1, 1]);
    expect(t.metrics.publishStoredMetrics).toHaveBeenCalledTimes(4);
  });
});

describe('consumer: tenants in logs', () => {
  it('gives the handler a logger whose every line carries the tenant', async () => {
    // Prepare
    const { handler, t } = consumer();
    const createChild = vi.spyOn(t.logger, 'createChild');

    // Act
    await handler(
      { Records: [record('m-l', envelopeBody('job-l', 'logs', {}, { tenant: 'acme' }))] },
      lambdaContext(),
    );

    // Assess
    expect(createChild).toHaveBeenCalledTimes(1);
    expect(createChild.mock.calls[0][0]?.persistentKeys).toMatchObject({
      jobId: 'job-l',
      jobType: 'logs',
      tenant: 'acme',
    });
  });

  it('puts the tenant in the line of a FIFO follower given up at its last receive', async () => {
    // Prepare
    const { handler, t } = consumer({ env: consumerEnv({ [CONSUMER_ENV.fifo]: 'true' }) });
    const errors = vi.spyOn(t.logger, 'error');

    // Act: the first of the group fails, the second is on its last receive (maxReceiveCount 20)
    await handler(
      {
        Records: [
          record('m-1', envelopeBody('job-1', 'flaky', {}, { tenant: 'acme' }), { groupId: 'acme' }),
          record('m-2', envelopeBody('job-2', 'quick', {}, { tenant: 'acme' }), {
            groupId: 'acme',
            receiveCount: 20,
          }),
        ],
      },
      lambdaContext(),
    );

    // Assess
    const dead = errors.mock.calls.find((c) => c[0] === 'job outcome')?.[1];
    expect(dead).toMatchObject({ jobId: 'job-2', status: 'DEAD', tenant: 'acme' });
    expect(ran).toEqual([]);
  });
});

describe('consumer: envelopes with job-control fields', () => {
  it.each([
    ['a numeric tenant', { tenant: 7 }, "Invalid job envelope: 'tenant' must be a string"],
    [
      'debounce seq 0',
      { debounce: { seq: 0 } },
      "Invalid job envelope: 'debounce' must be an object { seq } with a positive integer seq",
    ],
    [
      'a fractional debounce seq',
      { debounce: { seq: 1.5 } },
      "Invalid job envelope: 'debounce' must be an object { seq } with a positive integer seq",
    ],
    [
      'debounce as a number',
      { debounce: 2 },
      "Invalid job envelope: 'debounce' must be an object { seq } with a positive integer seq",
    ],
    [
      'debounce null',
      { debounce: null },
      "Invalid job envelope: 'debounce' must be an object { seq } with a positive integer seq",
    ],
  ])('dead-letters an envelope with %s, unrun', async (_label, extra, text) => {
    // Prepare
    const { handler } = consumer();

    // Act
    const response = await handler(
      { Records: [record('m-e', envelopeBody('job-e', 'quick', {}, extra))] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(ran).toEqual([]);
    const [dlq] = sqsCalls(SendMessageCommand);
    const attributes = dlq.MessageAttributes as Record<string, { StringValue: string }>;
    expect(dlq.QueueUrl).toBe(DLQ_URL);
    expect(attributes[DLQ_ATTR.errorType].StringValue).toBe('MalformedMessageError');
    expect(attributes[DLQ_ATTR.error].StringValue).toBe(text);
  });
});

describe('consumer: debounce', () => {
  it('claims only under the message’s own debounce number', async () => {
    // Prepare
    const { handler } = consumer();

    // Act
    await handler(
      {
        Records: [record('m-d', envelopeBody('job-d', 'debounced', { doc: 'd1' }, { debounce: { seq: 2 } }))],
      },
      lambdaContext(),
    );

    // Assess
    const claim = updatesFor('job-d')[0];
    expect(claim.ConditionExpression).toContain(
      '(attribute_not_exists(#jobId) OR #debounceSeq = :debounceSeq)',
    );
    expect(Object.values(claim.ExpressionAttributeNames ?? {})).toContain('debounceSeq');
    expect(claim.ExpressionAttributeValues?.[':debounceSeq']).toEqual({ N: '2' });
    expect(ran).toEqual(['job-d']);
  });

  it('sends no debounce condition for a message without a number', async () => {
    // Prepare
    const { handler } = consumer();

    // Act
    await handler(
      { Records: [record('m-d', envelopeBody('job-d', 'debounced', { doc: 'd1' }))] },
      lambdaContext(),
    );

    // Assess
    expect(updatesFor('job-d')[0].ConditionExpression).not.toContain('debounceSeq');
  });

  it('acknowledges unrun a message a later enqueue of its window superseded', async () => {
    // Prepare
    ddb.on(UpdateItemCommand, { Key: { jobId: { S: 'job-d' } } }).rejects(
      conditionalFailure({
        jobId: { S: 'job-d' },
        status: { S: 'ENQUEUED' },
        attempts: { N: '0' },
        debounceSeq: { N: '3' },
      }),
    );
    const { handler, t } = consumer();

    // Act
    const response = await handler(
      {
        Records: [record('m-d', envelopeBody('job-d', 'debounced', { doc: 'd1' }, { debounce: { seq: 2 } }))],
      },
      lambdaContext(),
    );

    // Assess
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([]);
    expect(updatesFor('job-d')).toHaveLength(1);
    expect(outcomeLines(t)).toEqual([expect.objectContaining({ status: 'SUPERSEDED', latestSeq: 3 })]);
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(sqsCalls(SendMessageCommand)).toEqual([]);
  });

  it('runs the latest sent number when every later one failed to send', async () => {
    // Prepare: number 3's send failed, so 2 is the window's latest
    ddb
      .on(UpdateItemCommand, { Key: { jobId: { S: 'job-d' } } })
      .rejectsOnce(
        conditionalFailure({
          jobId: { S: 'job-d' },
          status: { S: 'ENQUEUED' },
          attempts: { N: '0' },
          debounceSeq: { N: '3' },
          debounceFailed: { NS: ['3'] },
        }),
      )
      .resolves({ Attributes: { jobId: { S: 'job-d' }, status: { S: 'ENQUEUED' }, attempts: { N: '0' } } });
    const { handler, t } = consumer();

    // Act
    const response = await handler(
      {
        Records: [record('m-d', envelopeBody('job-d', 'debounced', { doc: 'd1' }, { debounce: { seq: 2 } }))],
      },
      lambdaContext(),
    );

    // Assess: the claim is retried under the stored number, then the job runs
    expect(ran).toEqual(['job-d']);
    expect(response.batchItemFailures).toEqual([]);
    const writes = updatesFor('job-d');
    expect(writes.map((u) => u.ExpressionAttributeValues?.[':debounceSeq'])).toEqual([
      { N: '2' },
      { N: '3' },
      undefined,
    ]);
    expect(writes.map((u) => u.ExpressionAttributeValues?.[':status']?.S)).toEqual([
      'RUNNING',
      'RUNNING',
      'SUCCEEDED',
    ]);
    expect(outcomeLines(t)[0]).toMatchObject({ status: 'SUCCEEDED', attempt: 1 });
  });
});
