/**
 * Idempotency keys name one business operation, end to end on a real DynamoDB engine: the
 * producer (JobClient) and the consumer share the ledger; SQS is mocked so every send is visible.
 */
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { JobClient } from '../../../lambdas/client';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { EnqueueError, IdempotencyKeyConflictError } from '../../../lambdas/shared/errors';
import { testClientConfig, testLane } from './support/client-config';
import { consumerEnv, lambdaContext, quietTelemetry, record } from './support/fixtures';
import { createLedgerTable } from './support/ledger-table';

const dynamodb = new DynamoDBClient({
  endpoint: inject('dynamodbEndpoint') ?? process.env.DYNAMODB_ENDPOINT,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const sqs = mockClient(SQSClient);
const tableName = `keyed-${Date.now()}`;
const emailsSent: Record<string, number> = {};

const sendWelcomeEmail = defineJob({
  type: 'send-welcome-email',
  schema: z.object({ userId: z.number(), locale: z.string().default('en') }),
  idempotencyKey: (p) => `user:${p.userId}`,
  handler: async (payload) => {
    emailsSent[payload.userId] = (emailsSent[payload.userId] ?? 0) + 1;
    return { sent: true };
  },
});
const registry = defineRegistry([sendWelcomeEmail]);
const config = testClientConfig({
  tableName,
  lanes: { default: testLane('default') },
  ledgerTtlSeconds: 86_400,
});
let now = Date.now();
let userId = 1000;

const client = () => JobClient.fromConfig(config, { registry, dynamodb, now: () => now });
const consumer = () => {
  const t = quietTelemetry();
  return createConsumerHandler(registry, {
    env: consumerEnv({ JOBS_LEDGER_TABLE: tableName }),
    dynamodb,
    logger: t.logger,
    metrics: t.metrics,
  });
};
/** Delivers every message the producer has sent so far (and clears the record of them). */
async function deliverSent(): Promise<void> {
  const bodies = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageBody as string);
  sqs.resetHistory();
  for (const [i, body] of bodies.entries()) {
    await consumer()({ Records: [record(`m-${userId}-${i}`, body)] }, lambdaContext());
  }
}

/** Every DeleteItem (the producer's undo of its key) fails with `error` until the mocks are restored. */
function failDeletes(error: Error): void {
  const send = dynamodb.send.bind(dynamodb);
  vi.spyOn(dynamodb, 'send').mockImplementation(((command: unknown) => {
    if (command instanceof DeleteItemCommand) return Promise.reject(error);
    return send(command as never);
  }) as typeof dynamodb.send);
}

beforeAll(() => createLedgerTable(dynamodb, tableName));

beforeEach(() => {
  userId++;
  now = Date.now();
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});

afterEach(() => vi.restoreAllMocks());

describe('idempotency keys (producer + consumer on DynamoDB Local)', () => {
  it('the same key after the job succeeded returns it as a duplicate and sends nothing: one email', async () => {
    // Prepare
    const first = await client().enqueue('send-welcome-email', { userId });
    await deliverSent();

    // Act
    const again = await client().enqueue('send-welcome-email', { userId });

    // Assess
    expect(again).toMatchObject({
      status: 'duplicate',
      jobId: first.jobId,
      existing: { status: 'SUCCEEDED', attempts: 1, result: { sent: true } },
    });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    await deliverSent();
    expect(emailsSent[userId]).toBe(1);
  });

  it('re-running a finished keyed job is explicit: rerun: true sends it again and it runs again', async () => {
    // Prepare
    await client().enqueue('send-welcome-email', { userId });
    await deliverSent();

    // Act
    const rerun = await client().enqueue('send-welcome-email', { userId }, { rerun: true });
    await deliverSent();

    // Assess
    expect(rerun.status).toBe('enqueued');
    expect(emailsSent[userId]).toBe(2);
    expect(await client().getJob(rerun.jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('a key reused with another payload is an error, and nothing is written or sent', async () => {
    // Prepare
    const first = await client().enqueue('send-welcome-email', { userId, locale: 'en' });
    sqs.resetHistory();

    // Act
    const reuse = client().enqueue('send-welcome-email', { userId, locale: 'fr' });

    // Assess
    await expect(reuse).rejects.toThrow(IdempotencyKeyConflictError);
    await expect(reuse).rejects.toThrow(/another payload/);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(await client().getJob(first.jobId)).toMatchObject({ status: 'ENQUEUED' });
  });

  it('a producer that fails to send and to undo does not block the key: it says so, and the key sends again later, running once', async () => {
    // Prepare: the send fails (the request may still have reached SQS), and so does the undo
    sqs.on(SendMessageCommand).rejectsOnce(new Error('ECONNRESET')).resolves({ MessageId: 'm2' });
    failDeletes(new Error('AccessDeniedException'));

    // Act
    const failed = await client()
      .enqueue('send-welcome-email', { userId })
      .catch((e: Error) => e);
    vi.restoreAllMocks();
    now += 1_000; // a later call (one in the same ms with the same payload would count as our own write)
    const held = await client().enqueue('send-welcome-email', { userId });
    now += 901_000; // past the resend grace (900 s after its due time)
    const resent = await client().enqueue('send-welcome-email', { userId });
    await deliverSent(); // both the "failed" send and the resend arrive

    // Assess
    expect(failed).toBeInstanceOf(EnqueueError);
    expect((failed as Error).message).toMatch(
      /removing its ledger item also failed \(Error: AccessDeniedException\).*stays taken until/,
    );
    expect(held).toMatchObject({ status: 'duplicate', existing: { status: 'ENQUEUED', attempts: 0 } });
    expect(resent).toMatchObject({ status: 'enqueued', jobId: held.jobId });
    expect(emailsSent[userId]).toBe(1);
    expect(await client().getJob(held.jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('a key write that was applied but answered with an error is removed again, so the retry sends the job: one email', async () => {
    // Prepare: the ledger write lands, then its answer is lost and the SDK gives up (the item stays)
    const send = dynamodb.send.bind(dynamodb);
    let lostAnswers = 1;
    vi.spyOn(dynamodb, 'send').mockImplementation((async (command: unknown) => {
      const out = await send(command as never);
      if (command instanceof PutItemCommand && lostAnswers-- > 0) throw new Error('socket hang up');
      return out;
    }) as typeof dynamodb.send);

    // Act
    const failed = await client()
      .enqueue('send-welcome-email', { userId })
      .catch((e: Error) => e);
    vi.restoreAllMocks();
    now += 1_000; // the application's retry, a moment later
    const retried = await client().enqueue('send-welcome-email', { userId });
    await deliverSent();

    // Assess
    expect((failed as Error).message).toBe('socket hang up');
    expect(retried).toMatchObject({ status: 'enqueued' });
    expect(emailsSent[userId]).toBe(1);
    expect(await client().getJob(retried.jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it("the same client's retry takes over an item it could neither send nor remove; another client still sees a duplicate", async () => {
    // Prepare: the send fails and so does the undo; the same client instance retries
    sqs.on(SendMessageCommand).rejectsOnce(new Error('ECONNRESET')).resolves({ MessageId: 'm2' });
    failDeletes(new Error('ThrottlingException'));
    const producer = client();
    const failed = await producer.enqueue('send-welcome-email', { userId }).catch((e: Error) => e);
    vi.restoreAllMocks();
    now += 1_000;

    // Act
    const elsewhere = await client().enqueue('send-welcome-email', { userId });
    const retried = await producer.enqueue('send-welcome-email', { userId });
    now += 1_000;
    const again = await producer.enqueue('send-welcome-email', { userId });
    await deliverSent();

    // Assess
    expect((failed as Error).message).toMatch(/removing its ledger item also failed/);
    expect(elsewhere).toMatchObject({ status: 'duplicate', existing: { status: 'ENQUEUED' } });
    expect(retried).toMatchObject({ status: 'enqueued', jobId: elsewhere.jobId });
    expect(again).toMatchObject({ status: 'duplicate' });
    expect(emailsSent[userId]).toBe(1);
    expect(await client().getJob(retried.jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('a key write that landed behind an error, whose removal fails too, says so, and the same client takes the key over on its retry', async () => {
    // Prepare: the PutItem lands but its answer is lost, and every DeleteItem fails meanwhile
    const send = dynamodb.send.bind(dynamodb);
    let lostAnswers = 1;
    vi.spyOn(dynamodb, 'send').mockImplementation((async (command: unknown) => {
      if (command instanceof DeleteItemCommand) throw new Error('ThrottlingException');
      const out = await send(command as never);
      if (command instanceof PutItemCommand && lostAnswers-- > 0) throw new Error('socket hang up');
      return out;
    }) as typeof dynamodb.send);
    const producer = client();
    const failed = await producer.enqueue('send-welcome-email', { userId }).catch((e: Error) => e);
    vi.restoreAllMocks();
    now += 1_000;

    // Act
    const retried = await producer.enqueue('send-welcome-email', { userId });
    await deliverSent();

    // Assess
    expect(failed).toBeInstanceOf(EnqueueError);
    expect((failed as Error).message).toMatch(
      /^Could not record the key of job k-\S+ \(send-welcome-email\); removing its ledger item also failed \(Error: ThrottlingException\)/,
    );
    expect(retried).toMatchObject({ status: 'enqueued' });
    expect(emailsSent[userId]).toBe(1);
  });
});
