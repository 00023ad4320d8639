/** JobClient's job control with mocked SQS, DynamoDB and Scheduler: tenants, debounce windows, cancel. */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobClient } from '../../../lambdas/client';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { jobIdForKey } from '../../../lambdas/shared/envelope';
import { ConfigError, EnqueueError } from '../../../lambdas/shared/errors';
import { testClientConfig } from './support/client-config';
import { readable } from './support/fixtures';

const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBClient);
const scheduler = mockClient(SchedulerClient);

/** 10 s into a 60 s window: the window ends at 12:01:00, 50 s later. */
const NOW = Date.parse('2025-06-01T12:00:10.000Z');
const WINDOW = Math.floor(NOW / 60_000);
const noop = async () => undefined;

const plain = defineJob({ type: 'plain', schema: z.object({ n: z.number() }), handler: noop });
const tenanted = defineJob({
  type: 'tenanted',
  schema: z.object({ org: z.string() }),
  tenant: (p) => p.org,
  handler: noop,
});
const ordered = defineJob({ type: 'ordered-job', lane: 'ordered', schema: z.object({}), handler: noop });
const last = defineJob({
  type: 'last',
  schema: z.object({ doc: z.string(), rev: z.number() }),
  debounce: { key: (p) => p.doc, seconds: 60 },
  handler: noop,
});
const first = defineJob({
  type: 'first',
  schema: z.object({ doc: z.string(), rev: z.number() }),
  debounce: { key: (p) => p.doc, seconds: 60, keep: 'first' },
  handler: noop,
});
const fifoDebounce = defineJob({
  type: 'fifo-debounce',
  lane: 'ordered',
  schema: z.object({ doc: z.string() }),
  debounce: { key: (p) => p.doc, seconds: 60 },
  handler: noop,
});
const uncancellable = defineJob({
  type: 'no-cancel',
  idempotency: 'none',
  schema: z.object({}),
  handler: noop,
});
const registry = defineRegistry([plain, tenanted, ordered, last, first, fifoDebounce, uncancellable]);

function client(now = NOW) {
  return JobClient.fromConfig(JSON.stringify(testClientConfig()), {
    registry,
    now: () => now,
    sleep: async () => undefined,
  });
}

function conditionalFailure(item: Record<string, unknown> | undefined) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: item as never,
  });
}

function sent() {
  return sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
}

function bodyOf(input: { MessageBody?: string }) {
  return JSON.parse(input.MessageBody ?? '{}') as Record<string, unknown>;
}

function updates(): UpdateItemCommandInput[] {
  return ddb.commandCalls(UpdateItemCommand).map((c) => readable(c.args[0].input));
}

function thrown(act: () => unknown): Promise<Error> {
  return Promise.resolve()
    .then(act)
    .then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: Error) => error,
    );
}

beforeEach(() => {
  sqs.reset();
  ddb.reset();
  scheduler.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'msg-1' });
  sqs.on(SendMessageBatchCommand).callsFake(async (input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })),
    Failed: [],
  }));
  ddb.on(PutItemCommand).resolves({});
  ddb.on(UpdateItemCommand).resolves({ Attributes: { debounceSeq: { N: '1' } } });
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
  scheduler.on(DeleteScheduleCommand).resolves({});
});

describe('JobClient: tenants', () => {
  it('sends the tenant as MessageGroupId on a standard lane, and in the envelope', async () => {
    // Act
    const result = await client().enqueue('plain', { n: 1 }, { tenant: 'acme' });

    // Assess
    expect(result.status).toBe('enqueued');
    expect(sent()).toEqual([
      { QueueUrl: 'https://sqs.local/default', MessageBody: expect.any(String), MessageGroupId: 'acme' },
    ]);
    expect(bodyOf(sent()[0])).toMatchObject({ id: result.jobId, type: 'plain', tenant: 'acme' });
  });

  it('sends no MessageGroupId and no tenant without one', async () => {
    // Act
    await client().enqueue('plain', { n: 1 });

    // Assess
    expect(sent()[0].MessageGroupId).toBeUndefined();
    expect(bodyOf(sent()[0]).tenant).toBeUndefined();
  });

  it('takes the tenant from the job definition, the option winning', async () => {
    // Act
    await client().enqueue('tenanted', { org: 'org-1' });
    await client().enqueue('tenanted', { org: 'org-1' }, { tenant: 'org-2' });

    // Assess
    expect(sent().map((s) => [s.MessageGroupId, bodyOf(s).tenant])).toEqual([
      ['org-1', 'org-1'],
      ['org-2', 'org-2'],
    ]);
  });

  it('sends the tenant as MessageGroupId in SendMessageBatch entries', async () => {
    // Act
    const results = await client().enqueueBatch([
      { type: 'plain', payload: { n: 1 }, options: { tenant: 'acme' } },
      { type: 'plain', payload: { n: 2 } },
    ]);

    // Assess
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    const entries = sqs.commandCalls(SendMessageBatchCommand)[0].args[0].input.Entries ?? [];
    expect(entries.map((e) => e.MessageGroupId)).toEqual(['acme', undefined]);
    expect(entries.map((e) => JSON.parse(e.MessageBody ?? '{}').tenant)).toEqual(['acme', undefined]);
  });

  it('uses the tenant as the group on a FIFO lane, and groupId when both are given', async () => {
    // Act
    const byTenant = await client().enqueue('ordered-job', {}, { tenant: 'acme' });
    const byGroup = await client().enqueue('ordered-job', {}, { tenant: 'acme', groupId: 'g-1' });

    // Assess
    expect(sent()).toEqual([
      {
        QueueUrl: 'https://sqs.local/ordered.fifo',
        MessageBody: expect.any(String),
        MessageGroupId: 'acme',
        MessageDeduplicationId: byTenant.jobId,
      },
      {
        QueueUrl: 'https://sqs.local/ordered.fifo',
        MessageBody: expect.any(String),
        MessageGroupId: 'g-1',
        MessageDeduplicationId: byGroup.jobId,
      },
    ]);
    expect(bodyOf(sent()[1]).tenant).toBe('acme');
  });

  it('refuses a bad tenant option, naming options.tenant, and sends nothing', async () => {
    // Act
    const error = await thrown(() => client().enqueue('plain', { n: 1 }, { tenant: 'has space' }));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^enqueue\("plain"\) options\.tenant must be .*; got "has space"$/);
    expect(sent()).toEqual([]);
  });

  it('refuses a bad derived tenant, naming the definition’s tenant(payload)', async () => {
    // Act
    const error = await thrown(() => client().enqueue('tenanted', { org: 'a/b c' }));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^defineJob\('tenanted'\)\.tenant\(payload\) must be .*; got "a\/b c"$/);
    expect(sent()).toEqual([]);
  });
});

describe("JobClient: debounce keep 'last'", () => {
  const jobId = jobIdForKey('last', `~debounce:60:${WINDOW}:doc-1`);

  it('counts the enqueue in the window’s ledger item, then sends it delayed to the window end', async () => {
    // Prepare
    ddb.on(UpdateItemCommand).resolves({ Attributes: { debounceSeq: { N: '4' } } });

    // Act
    const result = await client().enqueue('last', { doc: 'doc-1', rev: 7 });

    // Assess
    expect(result).toEqual({
      jobId,
      type: 'last',
      lane: 'default',
      status: 'debounced',
      messageId: 'msg-1',
      windowEndsAt: '2025-06-01T12:01:00.000Z',
    });
    const [fold] = updates();
    expect(updates()).toHaveLength(1);
    expect(fold.Key).toEqual({ jobId: { S: jobId } });
    expect(fold.UpdateExpression).toContain(
      '#debounceSeq = if_not_exists(#debounceSeq, :zero) + :debounceSeq',
    );
    expect(fold.ExpressionAttributeValues?.[':debounceSeq']).toEqual({ N: '1' });
    expect(fold.ConditionExpression).toBe('attribute_not_exists(#jobId) OR #status = :enqueued');
    expect(sent()).toEqual([
      { QueueUrl: 'https://sqs.local/default', MessageBody: expect.any(String), DelaySeconds: 50 },
    ]);
    expect(bodyOf(sent()[0])).toMatchObject({
      id: jobId,
      type: 'last',
      payload: { doc: 'doc-1', rev: 7 },
      debounce: { seq: 4 },
    });
    expect(bodyOf(sent()[0]).key).toBeUndefined(); // the window key is internal
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  it('gives every enqueue of a window the same job id, and the next window another', async () => {
    // Act
    const a = await client(NOW).enqueue('last', { doc: 'doc-1', rev: 1 });
    const b = await client(NOW + 49_000).enqueue('last', { doc: 'doc-1', rev: 2 });
    const c = await client(NOW + 50_000).enqueue('last', { doc: 'doc-1', rev: 3 });
    const other = await client(NOW).enqueue('last', { doc: 'doc-2', rev: 1 });

    // Assess
    expect(a.jobId).toBe(jobId);
    expect(b.jobId).toBe(jobId);
    expect(c.jobId).toBe(jobIdForKey('last', `~debounce:60:${WINDOW + 1}:doc-1`));
    expect(other.jobId).not.toBe(jobId);
    expect(sent().map((s) => s.DelaySeconds)).toEqual([50, 1, 60, 50]);
    expect(c.windowEndsAt).toBe('2025-06-01T12:02:00.000Z');
  });

  it('marks the number unsent and throws when the send fails', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: { debounceSeq: { N: '5' } } })
      .resolves({});
    sqs.on(SendMessageCommand).rejects(new Error('SQS is down'));

    // Act
    const error = await thrown(() => client().enqueue('last', { doc: 'doc-1', rev: 1 }));

    // Assess
    expect(error).toBeInstanceOf(EnqueueError);
    expect((error as Error & { cause: Error }).cause.message).toBe('SQS is down');
    expect(updates()).toHaveLength(2);
    expect(updates()[1]).toEqual({
      TableName: 'ledger',
      Key: { jobId: { S: jobId } },
      UpdateExpression: 'ADD #debounceFailed :seqs',
      ConditionExpression: 'attribute_exists(#jobId)',
      ExpressionAttributeNames: { '#jobId': 'jobId', '#debounceFailed': 'debounceFailed' },
      ExpressionAttributeValues: { ':seqs': { NS: ['5'] } },
    });
  });

  it('says so in the error when marking the number unsent fails too', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: { debounceSeq: { N: '5' } } })
      .rejects(new Error('throttled'));
    sqs.on(SendMessageCommand).rejects(new Error('SQS is down'));

    // Act
    const error = await thrown(() => client().enqueue('last', { doc: 'doc-1', rev: 1 }));

    // Assess
    expect(error.message).toContain('marking it unsent in the ledger also failed (Error: throttled)');
  });

  it('marks the numbers of failed batch entries unsent', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: { debounceSeq: { N: '2' } } })
      .resolves({});
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', Code: 'InvalidParameterValue', SenderFault: true, Message: 'bad' }],
    });

    // Act
    const [result] = await client().enqueueBatch([{ type: 'last', payload: { doc: 'doc-1', rev: 1 } }]);

    // Assess
    expect(result.ok).toBe(false);
    expect(updates()[1].UpdateExpression).toBe('ADD #debounceFailed :seqs');
    expect(updates()[1].ExpressionAttributeValues?.[':seqs']).toEqual({ NS: ['2'] });
    const entry = sqs.commandCalls(SendMessageBatchCommand)[0].args[0].input.Entries?.[0];
    expect(entry?.DelaySeconds).toBe(50);
  });

  it('moves to the next window when the ledger says this window’s job has started', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionalFailure({ jobId: { S: jobId }, status: { S: 'RUNNING' } }))
      .resolves({ Attributes: { debounceSeq: { N: '1' } } });

    // Act
    const result = await client().enqueue('last', { doc: 'doc-1', rev: 1 });

    // Assess
    const next = jobIdForKey('last', `~debounce:60:${WINDOW + 1}:doc-1`);
    expect(updates().map((u) => u.Key?.jobId.S)).toEqual([jobId, next]);
    expect(result.jobId).toBe(next);
    expect(sent()[0].DelaySeconds).toBe(110);
  });

  // biome-ignore format: a table reads better one row per line
  it.each([
    ['idempotencyKey', { idempotencyKey: 'k' }, /^enqueue\('last'\) options\.idempotencyKey must be absent: 'last' is debounced .*; got "k"$/],
    ['delaySeconds', { delaySeconds: 30 }, /^enqueue\('last'\) options\.delaySeconds must be absent: 'last' is debounced .*; got 30$/],
    ['runAt', { runAt: new Date(NOW + 600_000) }, /^enqueue\('last'\) options\.runAt must be absent: 'last' is debounced .*; got "2025-06-01T12:10:10\.000Z"$/],
    ['rerun', { rerun: true }, /^enqueue\('last'\) options\.rerun must be absent: 'last' is debounced .*; got true$/],
    ['a FIFO lane', { lane: 'ordered' }, /^defineJob\('last'\)\.debounce must be a standard lane: .*; got "a FIFO lane"$/],
  ])('refuses %s, naming the field, and writes nothing', async (_label, options, message) => {
    // Act
    const error = await thrown(() => client().enqueue('last', { doc: 'doc-1', rev: 1 }, options));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
    expect(updates()).toEqual([]);
    expect(sent()).toEqual([]);
  });

  it('refuses a debounced job type defined on a FIFO lane', async () => {
    // Act
    const error = await thrown(() => client().enqueue('fifo-debounce', { doc: 'd' }, { groupId: 'g' }));

    // Assess
    expect(error.message).toMatch(/^defineJob\('fifo-debounce'\)\.debounce must be a standard lane/);
    expect(updates()).toEqual([]);
  });
});

describe("JobClient: debounce keep 'first'", () => {
  const jobId = jobIdForKey('first', `~debounce:60:${WINDOW}:doc-1`);

  it('sends the first enqueue of a window at once, keyed in the ledger', async () => {
    // Act
    const result = await client().enqueue('first', { doc: 'doc-1', rev: 1 });

    // Assess
    expect(result).toEqual({
      jobId,
      type: 'first',
      lane: 'default',
      status: 'enqueued',
      messageId: 'msg-1',
      windowEndsAt: '2025-06-01T12:01:00.000Z',
    });
    const put = ddb.commandCalls(PutItemCommand)[0].args[0].input;
    expect(put.Item?.jobId).toEqual({ S: jobId });
    expect(put.Item?.keyUntil).toEqual({ N: String(Date.parse('2025-06-01T12:01:00.000Z') / 1000) });
    // checkPayload false: a later payload of the window is not a key conflict
    expect(put.ConditionExpression).not.toContain('payloadHash');
    expect(sent()).toEqual([{ QueueUrl: 'https://sqs.local/default', MessageBody: expect.any(String) }]);
    expect(bodyOf(sent()[0]).debounce).toBeUndefined();
  });

  it('returns debounced without sending for a later enqueue of the window', async () => {
    // Prepare
    ddb.on(PutItemCommand).rejects(
      conditionalFailure({
        jobId: { S: jobId },
        status: { S: 'ENQUEUED' },
        attempts: { N: '0' },
        enqueuedAt: { S: '2025-06-01T12:00:01.000Z' },
        payloadHash: { S: 'another' },
      }),
    );

    // Act
    const result = await client().enqueue('first', { doc: 'doc-1', rev: 2 });

    // Assess
    expect(result).toMatchObject({ jobId, status: 'debounced', windowEndsAt: '2025-06-01T12:01:00.000Z' });
    expect(sent()).toEqual([]);
  });
});

describe('JobClient.cancel', () => {
  const cancelled = (previous?: string) =>
    ddb.on(UpdateItemCommand).resolves({
      Attributes:
        previous === undefined
          ? undefined
          : { jobId: { S: 'job-1' }, status: { S: previous }, attempts: { N: '0' } },
    });

  it('cancels a queued job and deletes its one-time schedule', async () => {
    // Prepare
    cancelled('ENQUEUED');

    // Act
    const result = await client().cancel('job-1');

    // Assess
    expect(result).toEqual({
      jobId: 'job-1',
      outcome: 'cancelled',
      status: 'CANCELLED',
      previousStatus: 'ENQUEUED',
      scheduleDeleted: true,
      message: 'Job job-1 cancelled (was ENQUEUED): it will not run; its one-time schedule was deleted.',
    });
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([
      { Name: 'job-job-1', GroupName: 'jobs' },
    ]);
    const [write] = updates();
    expect(write.Key).toEqual({ jobId: { S: 'job-1' } });
    expect(write.ConditionExpression).toBe('attribute_not_exists(#jobId) OR #status IN (:enqueued, :failed)');
    expect(write.ExpressionAttributeValues?.[':status']).toEqual({ S: 'CANCELLED' });
  });

  it('cancels a job not in the ledger yet; no schedule found is no news', async () => {
    // Prepare
    cancelled(undefined);
    scheduler.on(DeleteScheduleCommand).rejects(
      new ResourceNotFoundException({
        message: 'Schedule not found',
        Message: 'Schedule not found',
        $metadata: {},
      }),
    );

    // Act
    const result = await client().cancel('job-1');

    // Assess
    expect(result).toEqual({
      jobId: 'job-1',
      outcome: 'cancelled',
      status: 'CANCELLED',
      previousStatus: undefined,
      scheduleDeleted: false,
      message: 'Job job-1 cancelled (not in the ledger yet): it will not run.',
    });
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
  });

  it('reports a schedule it could not delete without throwing', async () => {
    // Prepare
    cancelled('ENQUEUED');
    const denied = Object.assign(new Error('not authorized to DeleteSchedule'), {
      name: 'AccessDeniedException',
    });
    scheduler.on(DeleteScheduleCommand).rejects(denied);

    // Act
    const result = await client().cancel('job-1');

    // Assess
    expect(result.outcome).toBe('cancelled');
    expect(result.scheduleDeleted).toBe(false);
    expect(result.message).toBe(
      'Job job-1 cancelled (was ENQUEUED): it will not run; its one-time schedule could not be deleted (AccessDeniedException: not authorized to DeleteSchedule), so it still fires, and that delivery is acknowledged without running.',
    );
  });

  it('cancels a job waiting for a retry without touching schedules', async () => {
    // Prepare
    cancelled('FAILED');

    // Act
    const result = await client().cancel('job-1');

    // Assess
    expect(result).toMatchObject({ outcome: 'cancelled', previousStatus: 'FAILED', scheduleDeleted: false });
    expect(result.message).toBe('Job job-1 cancelled (was FAILED): it will not run.');
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
  });

  it('asks a running job to stop', async () => {
    // Prepare
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(
        conditionalFailure({ jobId: { S: 'job-1' }, status: { S: 'RUNNING' }, attempts: { N: '1' } }),
      )
      .resolves({});

    // Act
    const result = await client().cancel('job-1');

    // Assess
    expect(result).toMatchObject({
      jobId: 'job-1',
      outcome: 'cancelling',
      status: 'RUNNING',
      previousStatus: 'RUNNING',
      scheduleDeleted: false,
    });
    expect(result.message).toMatch(/^Job job-1 is running: asked to stop\. .*within one heartbeat/);
    const [, request] = updates();
    expect(request.ConditionExpression).toBe('#status = :running');
    expect(request.UpdateExpression).toContain('#cancelRequestedAt = if_not_exists(#cancelRequestedAt,');
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
  });

  it.each(['SUCCEEDED', 'DEAD', 'CANCELLED'])('leaves a %s job alone', async (status) => {
    // Prepare
    ddb.on(UpdateItemCommand).rejects(
      conditionalFailure({
        jobId: { S: 'job-1' },
        status: { S: status },
        attempts: { N: '1' },
        finishedAt: { S: '2025-06-01T11:00:00.000Z' },
      }),
    );

    // Act
    const result = await client().cancel('job-1');

    // Assess
    expect(result).toEqual({
      jobId: 'job-1',
      outcome: 'already-finished',
      status,
      previousStatus: status,
      scheduleDeleted: false,
      message: `Job job-1 is already ${status} at 2025-06-01T11:00:00.000Z: nothing to cancel.`,
    });
    expect(updates()).toHaveLength(1);
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(0);
  });

  it('cancels by type and idempotency key (the job id the key names)', async () => {
    // Prepare
    cancelled('ENQUEUED');

    // Act
    const result = await client().cancel({ type: 'plain', key: 'order-7' });

    // Assess
    const jobId = jobIdForKey('plain', 'order-7');
    expect(result.jobId).toBe(jobId);
    expect(updates()[0].Key).toEqual({ jobId: { S: jobId } });
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0].args[0].input.Name).toBe(
      `job-${jobId}`.slice(0, 64),
    );
  });

  it('names the schedule with the first 64 characters of job-<id>', async () => {
    // Prepare
    cancelled('ENQUEUED');
    const long = 'x'.repeat(100);

    // Act
    await client().cancel(long);

    // Assess
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0].args[0].input.Name).toBe(`job-${'x'.repeat(60)}`);
  });

  it("refuses to cancel an idempotency 'none' job type by key", async () => {
    // Act
    const error = await thrown(() => client().cancel({ type: 'no-cancel', key: 'k' }));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(
      /^cancel\(\{ type: 'no-cancel' \}\) must be a job type with idempotency 'strict' or 'optimistic'/,
    );
    expect(updates()).toEqual([]);
  });

  it.each([
    [
      'an empty id',
      '',
      /^cancel\(jobId\) must be a job id of 1 to 512 characters, not starting with '~'; got ""$/,
    ],
    ['a too long id', 'x'.repeat(513), /^cancel\(jobId\) must be a job id of 1 to 512 characters/],
    ['a limit item id', '~rate#sync', /^cancel\(jobId\) must be .*not starting with '~'; got "~rate#sync"$/],
    ['a key without type', { key: 'k' }, /^cancel\(target\) must be a job id, or \{ type, key \}/],
    ['a blank key', { type: 'plain', key: ' ' }, /^cancel\(target\) must be a job id, or \{ type, key \}/],
    ['a number', 42, /^cancel\(target\) must be a job id, or \{ type, key \}.*; got 42$/],
    ['null', null, /^cancel\(target\) must be/],
  ])('refuses %s as a target and writes nothing', async (_label, target, message) => {
    // Act
    const error = await thrown(() => client().cancel(target as never));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
    expect(updates()).toEqual([]);
  });

  it('refuses an unknown job type by key', async () => {
    // Act
    const error = await thrown(() => client().cancel({ type: 'nope', key: 'k' }));

    // Assess
    expect(error.name).toBe('UnknownJobTypeError');
    expect(updates()).toEqual([]);
  });
});
