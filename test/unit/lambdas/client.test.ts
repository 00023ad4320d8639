import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { JobClient, type JobClientOptions, readStackConfig, StackConfigError } from '../../../lambdas/client';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { CONFIG_OUTPUT_DESCRIPTION } from '../../../lambdas/shared/contract';
import { jobIdForKey } from '../../../lambdas/shared/envelope';
import {
  BacklogLimitError,
  ConfigError,
  EnqueueError,
  IdempotencyKeyConflictError,
  PayloadTooLargeError,
  PayloadValidationError,
  UnknownJobTypeError,
  UnknownLaneError,
} from '../../../lambdas/shared/errors';
import { payloadHash } from '../../../lambdas/shared/payload-hash';
import { testClientConfig, testLane } from './support/client-config';

const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBClient);
const scheduler = mockClient(SchedulerClient);
const cfn = mockClient(CloudFormationClient);

const config = testClientConfig();

const sendEmail = defineJob({
  type: 'send-email',
  lane: 'high',
  schema: z.object({ to: z.string().email(), body: z.string().default('') }),
  handler: async () => undefined,
});
const entry = defineJob({
  type: 'entry',
  lane: 'ordered',
  schema: z.object({ seq: z.number() }),
  idempotencyKey: (p) => `seq-${p.seq}`,
  handler: async () => undefined,
});
const registry = defineRegistry([sendEmail, entry]);
const NOW = Date.parse('2025-06-01T12:00:00.000Z');

function client(options: Omit<JobClientOptions, 'registry'> = {}) {
  return JobClient.fromConfig(JSON.stringify(config), {
    registry,
    now: () => NOW,
    sleep: async () => undefined,
    ...options,
  });
}

beforeEach(() => {
  sqs.reset();
  ddb.reset();
  scheduler.reset();
  cfn.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'msg-1' });
  ddb.on(PutItemCommand).resolves({});
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
});

describe('JobClient.enqueue', () => {
  it('sends a validated envelope to the job’s lane without touching the ledger', async () => {
    // Act
    const result = await client().enqueue('send-email', { to: 'a@b.co' }, { correlationId: 'c-1' });

    // Assess
    expect(result).toMatchObject({
      type: 'send-email',
      lane: 'high',
      status: 'enqueued',
      messageId: 'msg-1',
    });
    const input = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(input.QueueUrl).toBe('https://sqs.local/high');
    expect(JSON.parse(input.MessageBody ?? '')).toEqual({
      v: 1,
      id: result.jobId,
      type: 'send-email',
      payload: { to: 'a@b.co' },
      enqueuedAt: '2025-06-01T12:00:00.000Z',
      correlationId: 'c-1',
    });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('types the payload by job type', async () => {
    const c = client();
    expectTypeOf(c.enqueue<'send-email'>)
      .parameter(1)
      .toEqualTypeOf<{ to: string; body?: string | undefined }>();
    // @ts-expect-error: unknown job type
    await expect(c.enqueue('nope', {})).rejects.toThrow(UnknownJobTypeError);
  });

  it('rejects an invalid payload naming the field', async () => {
    await expect(client().enqueue('send-email', { to: 'nope' })).rejects.toThrow(PayloadValidationError);
    await expect(client().enqueue('send-email', { to: 'nope' })).rejects.toThrow(/at 'to'/);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('rejects an oversize message before sending, naming the size and the limit', async () => {
    // Prepare
    const c = client({ maxMessageBytes: 1024 });

    // Act
    const attempt = c.enqueue('send-email', { to: 'a@b.co', body: 'x'.repeat(2000) });

    // Assess
    await expect(attempt).rejects.toThrow(PayloadTooLargeError);
    await expect(c.enqueue('send-email', { to: 'a@b.co', body: 'x'.repeat(2000) })).rejects.toThrow(
      /Message is \d{4} bytes \(body \+ attributes\), over the limit of 1024 bytes/,
    );
    expect(sqs.calls()).toHaveLength(0);
  });

  it.each([
    ['batchRetries', { batchRetries: -1 }, /JobClient batchRetries must be an integer from 0 to 10; got -1/],
    [
      'backlogCacheMs',
      { backlogCacheMs: 1.5 },
      /JobClient backlogCacheMs must be an integer from 0 to 3600000; got 1.5/,
    ],
    [
      'ledgerTtlSeconds',
      { ledgerTtlSeconds: 10 },
      /JobClient ledgerTtlSeconds must be an integer from 60 to/,
    ],
    [
      'resendUnsentAfterSeconds',
      { resendUnsentAfterSeconds: Number.NaN },
      /JobClient resendUnsentAfterSeconds must be/,
    ],
    [
      'backlogLimits',
      { backlogLimits: { high: -5 } },
      /JobClient backlogLimits.high must be an integer ≥ 0; got -5/,
    ],
  ] as const)('refuses a bad %s, naming it, the range and the value', (_name, options, message) => {
    expect(() => client(options)).toThrow(message);
  });

  it('refuses a maxMessageBytes above the SQS limit', () => {
    expect(() => client({ maxMessageBytes: 2_000_000 })).toThrow(
      /maxMessageBytes must be an integer from 1 to 1048576/,
    );
  });

  it('rejects unknown lanes and a missing FIFO group id', async () => {
    await expect(client().enqueue('send-email', { to: 'a@b.co' }, { lane: 'urgent' })).rejects.toThrow(
      UnknownLaneError,
    );
    await expect(client().enqueue('entry', { seq: 1 })).rejects.toThrow(
      /options.groupId must be set \(or a tenant, which then is the group\): lane 'ordered' is FIFO/,
    );
  });

  it('fails with BacklogLimitError when the lane is over its limit, and caches the depth', async () => {
    // Prepare
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1500' } });
    const c = client({ backlogLimits: { high: 1000 } });

    // Act
    const first = c.enqueue('send-email', { to: 'a@b.co' });
    const second = c.enqueue('send-email', { to: 'a@b.co' });

    // Assess
    await expect(first).rejects.toThrow(BacklogLimitError);
    await expect(second).rejects.toThrow(
      /Lane 'high' has about 1500 messages waiting, over its backlog limit of 1000/,
    );
    expect(sqs.commandCalls(GetQueueAttributesCommand)).toHaveLength(1);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('uses DelaySeconds up to 900 s and a self-deleting one-time schedule beyond', async () => {
    // Act
    await client().enqueue('send-email', { to: 'a@b.co' }, { delaySeconds: 900 });
    const later = await client().enqueue('send-email', { to: 'a@b.co' }, { delaySeconds: 3600 });

    // Assess
    expect(sqs.commandCalls(SendMessageCommand)[0].args[0].input.DelaySeconds).toBe(900);
    expect(later.status).toBe('scheduled');
    const schedule = scheduler.commandCalls(CreateScheduleCommand)[0].args[0].input;
    expect(schedule).toMatchObject({
      Name: `job-${later.jobId}`,
      GroupName: 'jobs',
      ScheduleExpression: 'at(2025-06-01T13:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: 'arn:aws:sqs:us-east-1:1:high',
        RoleArn: 'arn:aws:iam::1:role/scheduler',
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:1:schedule-dlq' },
      },
    });
    expect(JSON.parse(schedule.Target?.Input ?? '').id).toBe(later.jobId);
  });

  it('sends FIFO jobs with the group id and the job id as dedup id', async () => {
    // Act
    const result = await client().enqueue('entry', { seq: 7 }, { groupId: 'acct-1' });

    // Assess
    expect(result.jobId).toBe(jobIdForKey('entry', 'seq-7'));
    expect(sqs.commandCalls(SendMessageCommand)[0].args[0].input).toMatchObject({
      MessageGroupId: 'acct-1',
      MessageDeduplicationId: result.jobId,
    });
  });

  it('returns the existing unfinished job for a repeated idempotency key', async () => {
    // Prepare
    ddb.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'conditional',
        $metadata: {},
        Item: { jobId: { S: 'k' }, status: { S: 'RUNNING' }, attempts: { N: '1' } },
      }),
    );

    // Act
    const result = await client().enqueue('send-email', { to: 'a@b.co' }, { idempotencyKey: 'welcome-42' });

    // Assess
    expect(result).toMatchObject({ status: 'duplicate', jobId: jobIdForKey('send-email', 'welcome-42') });
    expect(result.existing?.status).toBe('RUNNING');
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('removes its ENQUEUED ledger item when the send fails, so a retry with the key is not swallowed', async () => {
    // Prepare
    sqs.on(SendMessageCommand).rejects(new Error('ECONNREFUSED'));
    ddb.on(DeleteItemCommand).resolves({});

    // Act
    const attempt = client().enqueue('send-email', { to: 'a@b.co' }, { idempotencyKey: 'k' });

    // Assess
    await expect(attempt).rejects.toThrow(EnqueueError);
    const del = ddb.commandCalls(DeleteItemCommand)[0].args[0].input;
    expect(del.ConditionExpression).toBe('#status = :enqueued AND #enqueuedAt = :enqueuedAt');
  });
});

describe('JobClient.enqueue: a write the SDK retried after its first try was applied', () => {
  it('sends a keyed job whose ledger write failed its condition only against our own ENQUEUED item', async () => {
    // Prepare: the retried PutItem finds the item its first try wrote (same enqueuedAt and payload)
    ddb.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'conditional',
        $metadata: {},
        Item: {
          jobId: { S: jobIdForKey('send-email', 'k') },
          status: { S: 'ENQUEUED' },
          attempts: { N: '0' },
          enqueuedAt: { S: new Date(NOW).toISOString() },
          payloadHash: { S: payloadHash({ to: 'a@b.co', body: '' }) },
        },
      }),
    );

    // Act
    const result = await client().enqueue('send-email', { to: 'a@b.co' }, { idempotencyKey: 'k' });

    // Assess
    expect(result).toMatchObject({ status: 'enqueued', jobId: jobIdForKey('send-email', 'k') });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it.each([
    ['unkeyed', {}],
    ['keyed', { idempotencyKey: 'later-1' }],
  ] as const)(
    'treats a Conflict for the %s job’s own schedule name as scheduled, undoing nothing',
    async (_, options) => {
      // Prepare: the retried CreateSchedule finds the schedule its first try created
      scheduler.on(CreateScheduleCommand).rejects(
        new ConflictException({
          message: 'Schedule already exists.',
          Message: 'Schedule already exists.',
          $metadata: {},
        }),
      );
      ddb.on(DeleteItemCommand).resolves({});

      // Act
      const result = await client().enqueue(
        'send-email',
        { to: 'a@b.co' },
        { delaySeconds: 3600, ...options },
      );

      // Assess
      expect(result).toMatchObject({ status: 'scheduled', scheduleName: `job-${result.jobId}` });
      expect(scheduler.commandCalls(CreateScheduleCommand)[0].args[0].input.Name).toBe(`job-${result.jobId}`);
      expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(0);
    },
  );

  it('reports a scheduled job in a batch when its CreateSchedule retry hits its own schedule', async () => {
    // Prepare
    scheduler.on(CreateScheduleCommand).rejects(
      new ConflictException({
        message: 'Schedule already exists.',
        Message: 'Schedule already exists.',
        $metadata: {},
      }),
    );

    // Act
    const [result] = await client().enqueueBatch([
      { type: 'send-email', payload: { to: 'a@b.co' }, options: { delaySeconds: 3600 } },
    ]);

    // Assess
    expect(result).toMatchObject({ ok: true, status: 'scheduled' });
  });
});

describe('JobClient.enqueue: limits and failures it must not hide', () => {
  it('refuses a job delayed past 900 s whose body is over the Scheduler input limit, before writing anything', async () => {
    // Act
    const attempt = client().enqueue(
      'send-email',
      { to: 'a@b.co', body: 'x'.repeat(9000) },
      { delaySeconds: 3600, idempotencyKey: 'big' },
    );

    // Assess
    await expect(attempt).rejects.toThrow(PayloadTooLargeError);
    await expect(attempt).rejects.toThrow(
      /over the limit of 8192 bytes for a job delayed through EventBridge Scheduler/,
    );
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0);
  });

  it('sends a large body with a short delay straight to SQS (the Scheduler limit does not apply)', async () => {
    // Act
    const result = await client().enqueue(
      'send-email',
      { to: 'a@b.co', body: 'x'.repeat(9000) },
      { delaySeconds: 60 },
    );

    // Assess
    expect(result.status).toBe('enqueued');
  });

  it('refuses a key reused with another payload, sending nothing', async () => {
    // Prepare
    ddb.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'conditional',
        $metadata: {},
        Item: {
          jobId: { S: 'k' },
          status: { S: 'SUCCEEDED' },
          attempts: { N: '1' },
          payloadHash: { S: 'other' },
        },
      }),
    );

    // Act
    const attempt = client().enqueue('send-email', { to: 'a@b.co' }, { idempotencyKey: 'welcome-42' });

    // Assess
    await expect(attempt).rejects.toThrow(IdempotencyKeyConflictError);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('reports a failed undo in the batch result instead of swallowing it', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).rejects(new Error('ECONNREFUSED'));
    ddb
      .on(DeleteItemCommand)
      .rejects(new Error('AccessDeniedException: not authorized to perform dynamodb:DeleteItem'));

    // Act
    const [result] = await client().enqueueBatch([
      { type: 'send-email', payload: { to: 'a@b.co' }, options: { idempotencyKey: 'k' } },
    ]);

    // Assess
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.message).toMatch(
      /removing its ledger item also failed .*DeleteItem.*stays taken until 2025-06-01T12:15:00.000Z/,
    );
  });

  it('undoes the key of a batch job whose schedule failed, and reports a failed undo', async () => {
    // Prepare
    const refused = new Error('ServiceUnavailable');
    scheduler.on(CreateScheduleCommand).rejects(refused);
    ddb.on(DeleteItemCommand).rejectsOnce(new Error('AccessDeniedException')).resolves({});

    // Act
    const [held, freed] = await client().enqueueBatch([
      { type: 'send-email', payload: { to: 'a@b.co' }, options: { idempotencyKey: 'a', delaySeconds: 3600 } },
      { type: 'send-email', payload: { to: 'a@b.co' }, options: { idempotencyKey: 'b', delaySeconds: 3600 } },
    ]);

    // Assess
    expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(2);
    const errors = [held, freed].map((r) => (r.ok ? undefined : r.error));
    const withUndo = errors.find((e) => e !== refused);
    expect(errors).toContain(refused);
    expect(withUndo).toBeInstanceOf(EnqueueError);
    expect(withUndo?.message).toMatch(/^ServiceUnavailable; removing its ledger item also failed/);
    expect(withUndo?.cause).toBe(refused);
  });

  it('names the job id of a batch job refused by its lane backlog, writing nothing', async () => {
    // Prepare
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1500' } });

    // Act
    const [result] = await client({ backlogLimits: { high: 1000 } }).enqueueBatch([
      { type: 'send-email', payload: { to: 'a@b.co' }, options: { idempotencyKey: 'k' } },
    ]);

    // Assess
    expect(result).toMatchObject({ ok: false, type: 'send-email', jobId: jobIdForKey('send-email', 'k') });
    expect(!result.ok && result.error).toBeInstanceOf(BacklogLimitError);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });
});

describe('JobClient.enqueueBatch', () => {
  it('sends groups of 10 and retries throttled entries with per-job results', async () => {
    // Prepare: the first call fails entry 3 (throttled) and entry 4 (sender fault); the retry succeeds.
    let call = 0;
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      call++;
      const failedIds = call === 1 ? ['3', '4'] : [];
      return {
        Successful: input.Entries.filter((e) => !failedIds.includes(e.Id)).map((e) => ({
          Id: e.Id,
          MessageId: `m${e.Id}`,
        })),
        Failed: [
          ...(failedIds.includes('3') ? [{ Id: '3', Code: 'ThrottlingException', SenderFault: false }] : []),
          ...(failedIds.includes('4') ? [{ Id: '4', Code: 'InvalidParameterValue', SenderFault: true }] : []),
        ],
      };
    });
    const items = Array.from({ length: 12 }, (_, i) => ({
      type: 'send-email' as const,
      payload: { to: `u${i}@b.co` },
    }));

    // Act
    const results = await client().enqueueBatch([...items, { type: 'send-email', payload: { to: 'bad' } }]);

    // Assess
    const sizes = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.length);
    // The first group retries its throttled entry before the second group goes out.
    expect(sizes).toEqual([10, 1, 2]);
    expect(results.map((r) => r.ok)).toEqual([
      true,
      true,
      true,
      true,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(results[3]).toMatchObject({ ok: true, status: 'enqueued', messageId: 'm3' });
    expect(results[4].ok === false && results[4].error.message).toMatch(/InvalidParameterValue/);
    expect(results[12].ok === false && results[12].error).toBeInstanceOf(PayloadValidationError);
  });

  it('gives up after the retries when every call is throttled', async () => {
    // Prepare
    const throttled = new Error('Rate exceeded');
    throttled.name = 'ThrottlingException';
    sqs.on(SendMessageBatchCommand).rejects(throttled);

    // Act
    const results = await client({ batchRetries: 2 }).enqueueBatch([
      { type: 'send-email', payload: { to: 'a@b.co' } },
    ]);

    // Assess
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
    expect(results[0].ok).toBe(false);
    expect(results[0].ok === false && (results[0].error.cause as Error).name).toBe('ThrottlingException');
  });
});

describe('JobClient configuration', () => {
  /** DescribeStacks of stack 'Jobs' answers these outputs. */
  function stackOutputs(outputs: { OutputKey: string; OutputValue: string; Description?: string }[]) {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: 'Jobs', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: outputs },
      ],
    });
  }

  it('finds the config output of a stack by its description', async () => {
    // Prepare
    stackOutputs([
      { OutputKey: 'Other', OutputValue: 'x', Description: 'something else' },
      {
        OutputKey: 'JobsConfig',
        OutputValue: JSON.stringify(config),
        Description: CONFIG_OUTPUT_DESCRIPTION,
      },
    ]);

    // Act
    const c = await JobClient.fromStack('Jobs', { registry });

    // Assess
    expect(c.config.tableName).toBe('ledger');
  });

  it('finds the config output without a description (LocalStack omits output descriptions)', async () => {
    stackOutputs([
      { OutputKey: 'Other', OutputValue: 'arn:aws:sns:us-east-1:1:x' },
      { OutputKey: 'JobsConfigB1F64BB8', OutputValue: JSON.stringify(config) },
    ]);
    const c = await JobClient.fromStack('Jobs');
    expect(c.config.tableName).toBe('ledger');
  });

  it('refuses to guess between two undescribed JobQueue configs', async () => {
    stackOutputs([
      { OutputKey: 'A', OutputValue: JSON.stringify(config) },
      { OutputKey: 'B', OutputValue: JSON.stringify(config) },
    ]);
    await expect(JobClient.fromStack('Jobs')).rejects.toThrow(/several JobQueues found.*\["A","B"\]/);
  });

  it('says which output is missing', async () => {
    stackOutputs([]);
    await expect(JobClient.fromStack('Jobs')).rejects.toThrow(
      /an output holding a JobQueue config \(described as 'sqs-jobs:config'\)/,
    );
  });

  it.each([
    ['not json', /JobQueue config must be the JSON of the stack config output/],
    [JSON.stringify({ ...config, version: 2 }), /field 'version'/],
    [
      JSON.stringify({ ...config, defaultLane: 'nope' }),
      /'defaultLane' must be one of high, default, ordered; got "nope"/,
    ],
    [
      JSON.stringify({ ...config, lanes: { x: { ...testLane('x'), maxAttempts: 0 } }, defaultLane: 'x' }),
      /field 'lanes.x.maxAttempts'/,
    ],
  ])('rejects a bad config: %s', (json, message) => {
    expect(() => JobClient.fromConfig(json)).toThrow(ConfigError);
    expect(() => JobClient.fromConfig(json)).toThrow(message);
  });

  it('readStackConfig names the stack outputs when none holds a config', async () => {
    // Prepare
    stackOutputs([
      { OutputKey: 'Bad', OutputValue: 'not json', Description: CONFIG_OUTPUT_DESCRIPTION },
      { OutputKey: 'Other', OutputValue: 'x' },
    ]);

    // Act
    const error = await readStackConfig(new CloudFormationClient({}), 'Jobs').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(StackConfigError);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      name: 'ConfigError',
      stackName: 'Jobs',
      outputKeys: ['Bad', 'Other'],
      message: expect.stringMatching(/JobQueue config must be the JSON of the stack config output/),
    });
    expect(cfn.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'Jobs' });
  });
});
