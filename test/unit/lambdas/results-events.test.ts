/**
 * Large results in S3 and lifecycle events, in the consumer: a result over the ledger's inline
 * limit is written to S3 before the SUCCEEDED write, which keeps only its key; S3 and EventBridge
 * failures never change a job's outcome.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, type PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { recordCompletion } from '../../../lambdas/consumer/completion';
import type { ProcessDeps } from '../../../lambdas/consumer/process-record';
import { Ledger } from '../../../lambdas/ledger/ledger';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import {
  CONSUMER_ENV,
  type JobEnvelope,
  LEDGER_LIMITS,
  LIFECYCLE_EVENTS,
  RESULT_OBJECTS,
} from '../../../lambdas/shared/contract';
import { PermanentJobError } from '../../../lambdas/shared/errors';
import {
  consumerEnv,
  envelopeBody,
  lambdaContext,
  quietTelemetry,
  readable,
  record,
} from './support/fixtures';

const ddb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
const s3 = mockClient(S3Client);
const eventBridge = mockClient(EventBridgeClient);

/** A result of about `bytes` bytes of JSON. */
const sized = (bytes: number) => ({ text: 'x'.repeat(bytes) });

const big = defineJob({
  type: 'big',
  schema: z.object({ bytes: z.number() }),
  handler: async (payload) => sized(payload.bytes),
});
const bigOptimistic = defineJob({
  type: 'big-optimistic',
  schema: z.object({ bytes: z.number() }),
  idempotency: 'optimistic',
  handler: async (payload) => sized(payload.bytes),
});
const doomed = defineJob({
  type: 'doomed',
  schema: z.object({}),
  handler: async () => {
    throw new PermanentJobError('card declined');
  },
});
const registry = defineRegistry([big, bigOptimistic, doomed]);

/** Every SDK call in order, as `service:Command`. */
let order: string[] = [];

function answerEverything(): void {
  for (const m of [ddb, sqs, s3, eventBridge]) m.reset();
  order = [];
  ddb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    order.push(`ddb:${input.ExpressionAttributeValues?.[':status']?.S ?? 'update'}`);
    return Promise.resolve({ Attributes: {} });
  });
  ddb.on(GetItemCommand).resolves({});
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  s3.on(PutObjectCommand).callsFake(() => {
    order.push('s3:PutObject');
    return Promise.resolve({});
  });
  eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) =>
    Promise.resolve({
      FailedEntryCount: 0,
      Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `e-${i}` })),
    }),
  );
}

function handler(env: Record<string, string> = {}, logger = quietTelemetry().logger) {
  const t = quietTelemetry();
  return createConsumerHandler(registry, {
    env: consumerEnv({ [CONSUMER_ENV.resultsBucket]: 'results-bucket', ...env }),
    logger,
    metrics: t.metrics,
    random: () => 0,
    s3: new S3Client({ region: 'us-east-1' }),
    eventBridge: new EventBridgeClient({ region: 'us-east-1' }),
  });
}

/** The SUCCEEDED UpdateItem's input. */
function succeededWrite(): UpdateItemCommandInput {
  const write = ddb
    .commandCalls(UpdateItemCommand)
    .map((c) => readable(c.args[0].input))
    .find((input) => input.ExpressionAttributeValues?.[':status']?.S === 'SUCCEEDED');
  if (!write) throw new Error('no SUCCEEDED write');
  return write;
}

function putObjects(): PutObjectCommandInput[] {
  return s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
}

beforeEach(answerEverything);
afterEach(() => vi.restoreAllMocks());

describe('results over the ledger limit', () => {
  it.each(['big', 'big-optimistic'])(
    'a %s job: stored in S3 before the SUCCEEDED write, which keeps only the key and removes any inline result',
    async (type) => {
      // Act
      const out = await handler()(
        { Records: [record('m1', envelopeBody('job-1', type, { bytes: 2048 }))] },
        lambdaContext(),
      );

      // Assess
      expect(out.batchItemFailures).toEqual([]);
      const [put] = putObjects();
      expect(put.Bucket).toBe('results-bucket');
      expect(put.Key).toMatch(new RegExp(`^${RESULT_OBJECTS.prefix}job-1/[0-9a-f-]{36}\\.json$`));
      expect(JSON.parse(String(put.Body))).toEqual(sized(2048));
      expect(order.indexOf('s3:PutObject')).toBeLessThan(order.indexOf('ddb:SUCCEEDED'));
      const write = succeededWrite();
      expect(write.ExpressionAttributeValues?.[':resultRef']).toEqual({ S: put.Key });
      expect(write.ExpressionAttributeValues?.[':result']).toBeUndefined();
      expect(write.UpdateExpression).toMatch(/REMOVE .*#result\b/);
    },
  );

  it('keeps a small result inline, writes nothing to S3 and, on a redelivery, removes a stale reference', async () => {
    // Act: a redelivery claims an item an earlier run may have left a reference on
    await handler()(
      { Records: [record('m1', envelopeBody('job-1', 'big', { bytes: 10 }), { receiveCount: 2 })] },
      lambdaContext(),
    );

    // Assess
    expect(putObjects()).toEqual([]);
    const write = succeededWrite();
    expect(JSON.parse(String(write.ExpressionAttributeValues?.[':result']?.S))).toEqual(sized(10));
    expect(write.UpdateExpression).toMatch(/REMOVE .*#resultRef/);
  });

  it('on a first delivery, whose claim created the item, removes no reference (there can be none)', async () => {
    // Act
    await handler()(
      { Records: [record('m1', envelopeBody('job-1', 'big', { bytes: 10 }))] },
      lambdaContext(),
    );

    // Assess
    const write = succeededWrite();
    expect(JSON.parse(String(write.ExpressionAttributeValues?.[':result']?.S))).toEqual(sized(10));
    expect(write.UpdateExpression).not.toMatch(/resultRef/);
  });

  it('notes a result over the S3 cap instead of storing it', async () => {
    // Act
    await handler()(
      { Records: [record('m1', envelopeBody('job-1', 'big', { bytes: RESULT_OBJECTS.maxBytes + 1 }))] },
      lambdaContext(),
    );

    // Assess
    expect(putObjects()).toEqual([]);
    const note = JSON.parse(String(succeededWrite().ExpressionAttributeValues?.[':result']?.S));
    expect(note.omitted).toMatch(/over the 5242880-byte results limit/);
  });

  it('without a bucket, notes a large result as before', async () => {
    // Act
    await handler({ [CONSUMER_ENV.resultsBucket]: '' })(
      { Records: [record('m1', envelopeBody('job-1', 'big', { bytes: 2048 }))] },
      lambdaContext(),
    );

    // Assess
    expect(putObjects()).toEqual([]);
    const note = JSON.parse(String(succeededWrite().ExpressionAttributeValues?.[':result']?.S));
    expect(note.omitted).toMatch(/ledger limit/);
  });

  it('when S3 refuses the object, the job still succeeds once, with a note and a warning', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const { logger } = quietTelemetry();
    const warn = vi.spyOn(logger, 'warn');

    // Act
    const out = await handler({}, logger)(
      { Records: [record('m1', envelopeBody('job-1', 'big', { bytes: 2048 }))] },
      lambdaContext(),
    );

    // Assess
    expect(out.batchItemFailures).toEqual([]);
    const write = succeededWrite();
    expect(write.ExpressionAttributeValues?.[':resultRef']).toBeUndefined();
    const note = JSON.parse(String(write.ExpressionAttributeValues?.[':result']?.S));
    expect(note.omitted).toMatch(
      /2\d{3} bytes and could not be stored in S3 \(AccessDenied: Access Denied\)/,
    );
    expect(Buffer.byteLength(JSON.stringify(note))).toBeLessThanOrEqual(LEDGER_LIMITS.resultBytes);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/could not store a large result/),
      expect.objectContaining({ jobId: 'job-1', bucket: 'results-bucket' }),
    );
  });

  it('a SUCCEEDED write that keeps failing hands on a completion record carrying the key, not the result', async () => {
    // Prepare: the claim works, every SUCCEEDED write is throttled
    ddb
      .on(UpdateItemCommand)
      .callsFake((input: UpdateItemCommandInput) =>
        input.ExpressionAttributeValues?.[':status']?.S === 'SUCCEEDED'
          ? Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
          : Promise.resolve({ Attributes: {} }),
      );

    // Act
    await handler()(
      { Records: [record('m1', envelopeBody('job-1', 'big', { bytes: 2048 }))] },
      lambdaContext(),
    );

    // Assess
    const [put] = putObjects();
    const sent = sqs
      .commandCalls(SendMessageCommand)
      .map((c) => JSON.parse(String(c.args[0].input.MessageBody)));
    expect(sent).toHaveLength(1);
    expect(sent[0].completion.resultRef).toBe(put.Key);
    expect(sent[0].completion.result).toBeUndefined();
    expect(JSON.stringify(sent[0]).length).toBeLessThan(1000);
  });

  it('a completion record with a key writes the key (strict and optimistic)', async () => {
    // Prepare
    const ledger = new Ledger({
      client: new DynamoDBClient({ region: 'us-east-1' }),
      tableName: 't',
      ttlSeconds: 3600,
    });
    const deps = { ledger, config: { lane: 'default' } } as unknown as ProcessDeps;
    const envelope = JSON.parse(envelopeBody('job-1', 'big', null)) as JobEnvelope;
    const ids = { messageId: 'm1', attempt: 1, jobId: 'job-1', type: 'big' };

    // Act
    await recordCompletion(envelope, { owner: 'o-1', resultRef: 'results/job-1/a.json' }, ids, deps);
    await recordCompletion(envelope, { resultRef: 'results/job-1/b.json' }, ids, deps);

    // Assess
    const refs = ddb
      .commandCalls(UpdateItemCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':resultRef']?.S);
    expect(refs).toEqual(['results/job-1/a.json', 'results/job-1/b.json']);
  });
});

describe('lifecycle events', () => {
  const withBus = { [CONSUMER_ENV.eventBus]: 'jobs-bus' };

  function sentEntries() {
    return eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
  }

  it('sends one event per job that succeeded or went DEAD, with its detail', async () => {
    // Act
    const out = await handler(withBus)(
      {
        Records: [
          record(
            'm1',
            envelopeBody(
              'job-ok',
              'big',
              { bytes: 1 },
              { tenant: 'acme', group: { id: 'g-1', shard: 0, index: 0 } },
            ),
          ),
          record('m2', envelopeBody('job-dead', 'doomed', {})),
        ],
      },
      lambdaContext(),
    );

    // Assess
    expect(out.batchItemFailures).toEqual([]);
    const entries = sentEntries();
    expect(entries.map((e) => [e.Source, e.DetailType, e.EventBusName])).toEqual([
      [LIFECYCLE_EVENTS.source, 'Job Succeeded', 'jobs-bus'],
      [LIFECYCLE_EVENTS.source, 'Job Dead-Lettered', 'jobs-bus'],
    ]);
    const [succeeded, dead] = entries.map((e) => JSON.parse(String(e.Detail)));
    expect(succeeded).toMatchObject({
      jobId: 'job-ok',
      type: 'big',
      lane: 'default',
      status: 'SUCCEEDED',
      attempt: 1,
      tenant: 'acme',
      group: 'g-1',
    });
    expect(succeeded.durationMs).toEqual(expect.any(Number));
    expect(Number.isNaN(Date.parse(succeeded.at))).toBe(false);
    expect(dead).toMatchObject({
      jobId: 'job-dead',
      type: 'doomed',
      status: 'DEAD',
      error: { type: 'PermanentJobError', message: 'card declined' },
    });
  });

  it('sends nothing without an event bus', async () => {
    // Act
    await handler()(
      { Records: [record('m1', envelopeBody('job-ok', 'big', { bytes: 1 }))] },
      lambdaContext(),
    );

    // Assess
    expect(eventBridge.commandCalls(PutEventsCommand)).toEqual([]);
  });

  it('sends at most 10 entries per call', async () => {
    // Act
    const records = Array.from({ length: 12 }, (_, i) =>
      record(`m${i}`, envelopeBody(`job-${i}`, 'big', { bytes: 1 })),
    );
    await handler(withBus)({ Records: records }, lambdaContext());

    // Assess
    const calls = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
    expect(calls.sort()).toEqual([10, 2]);
  });

  it('sends refused entries once more, then logs those refused again; the batch is unchanged', async () => {
    // Prepare: the first call refuses its second entry, the retry refuses it again
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) =>
      Promise.resolve({
        FailedEntryCount: 1,
        Entries: (input.Entries ?? []).map((entry) =>
          JSON.parse(String(entry.Detail)).jobId === 'job-dead'
            ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }
            : { EventId: 'e' },
        ),
      }),
    );
    const { logger } = quietTelemetry();
    const warn = vi.spyOn(logger, 'warn');

    // Act
    const out = await handler(withBus, logger)(
      {
        Records: [
          record('m1', envelopeBody('job-ok', 'big', { bytes: 1 })),
          record('m2', envelopeBody('job-dead', 'doomed', {})),
        ],
      },
      lambdaContext(),
    );

    // Assess
    expect(out.batchItemFailures).toEqual([]);
    const calls = eventBridge
      .commandCalls(PutEventsCommand)
      .map((c) => (c.args[0].input.Entries ?? []).map((e) => JSON.parse(String(e.Detail)).jobId));
    expect(calls).toEqual([['job-ok', 'job-dead'], ['job-dead']]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/refused them twice/),
      expect.objectContaining({
        events: [expect.objectContaining({ jobId: 'job-dead', errorCode: 'InternalFailure' })],
      }),
    );
  });

  it('a PutEvents call that throws is logged and changes no outcome', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).rejects(new Error('network down'));
    const { logger } = quietTelemetry();
    const warn = vi.spyOn(logger, 'warn');

    // Act
    const out = await handler(withBus, logger)(
      { Records: [record('m1', envelopeBody('job-ok', 'big', { bytes: 1 }))] },
      lambdaContext(),
    );

    // Assess
    expect(out.batchItemFailures).toEqual([]);
    expect(succeededWrite()).toBeDefined();
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/PutEvents failed/),
      expect.objectContaining({ events: [expect.objectContaining({ jobId: 'job-ok' })] }),
    );
  });
});
