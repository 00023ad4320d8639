import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { DLQ_ATTR, JOB_METRICS } from '../../../lambdas/shared/contract';
import { PermanentJobError } from '../../../lambdas/shared/errors';
import {
  consumerEnv,
  DLQ_URL,
  envelopeBody,
  lambdaContext,
  ledgerWrites,
  QUEUE_URL,
  quietTelemetry,
  record,
} from './support/fixtures';

const ddb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);

const ran: string[] = [];
const ok = defineJob({
  type: 'ok',
  schema: z.object({ n: z.number() }),
  handler: async (payload, ctx) => {
    ran.push(ctx.jobId);
    return { doubled: payload.n * 2 };
  },
});
const flaky = defineJob({
  type: 'flaky',
  schema: z.object({}),
  handler: async (_payload, ctx) => {
    ran.push(ctx.jobId);
    throw new Error('downstream 503');
  },
});
const doomed = defineJob({
  type: 'doomed',
  schema: z.object({}),
  handler: async (_payload, ctx) => {
    ran.push(ctx.jobId);
    throw new PermanentJobError('card declined');
  },
});
const registry = defineRegistry([ok, flaky, doomed]);

function conditionalFailure(item: Record<string, unknown>) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: item as never,
  });
}

function sqsCalls<T>(command: new (input: T) => unknown) {
  return sqs.commandCalls(command as never).map((call) => call.args[0].input as Record<string, unknown>);
}

describe('consumer: mixed batch', () => {
  beforeEach(() => {
    ran.length = 0;
    ddb.reset();
    sqs.reset();
    ddb.on(UpdateItemCommand).resolves({ Attributes: {} });
    ddb.on(PutItemCommand).resolves({});
    // A first delivery's claim is a PutItem; it finds the finished job's item.
    ddb
      .on(PutItemCommand, { Item: { jobId: { S: 'job-dup' } } })
      .rejects(
        conditionalFailure({ jobId: { S: 'job-dup' }, status: { S: 'SUCCEEDED' }, attempts: { N: '1' } }),
      );
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  });
  afterEach(() => vi.restoreAllMocks());

  it('acks success, duplicate and permanent failures, and reports only the retryable one', async () => {
    // Prepare
    const t = quietTelemetry();
    const handler = createConsumerHandler(registry, {
      env: consumerEnv(),
      sqs: new SQSClient({}),
      dynamodb: new DynamoDBClient({}),
      logger: t.logger,
      metrics: t.metrics,
      random: () => 0.5,
    });
    const event = {
      Records: [
        record('m-ok', envelopeBody('job-ok', 'ok', { n: 21 })),
        record('m-flaky', envelopeBody('job-flaky', 'flaky', {})),
        record('m-doomed', envelopeBody('job-doomed', 'doomed', {})),
        record('m-dup', envelopeBody('job-dup', 'ok', { n: 1 })),
        record('m-unknown', envelopeBody('job-unknown', 'no-such-type', {})),
        record('m-malformed', '{not json'),
        record('m-schema', envelopeBody('job-schema', 'ok', { n: 'NaN' })),
      ],
    };

    // Act
    const response = await handler(event, lambdaContext());

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-flaky' }]);
    expect(ran.sort()).toEqual(['job-doomed', 'job-flaky', 'job-ok']);
    const dlq = sqsCalls(SendMessageCommand);
    expect(dlq.map((input) => input.QueueUrl)).toEqual([DLQ_URL, DLQ_URL, DLQ_URL, DLQ_URL]);
    const errorTypes = dlq.map(
      (input) =>
        (input.MessageAttributes as Record<string, { StringValue: string }>)[DLQ_ATTR.errorType].StringValue,
    );
    expect(errorTypes.sort()).toEqual([
      'MalformedMessageError',
      'PayloadValidationError',
      'PermanentJobError',
      'UnknownJobTypeError',
    ]);
    const malformed = dlq.find((input) => input.MessageBody === '{not json');
    expect(malformed).toBeDefined();
    // Backoff for attempt 1 with base 2: ceiling 2, random 0.5 → floor(0.5 × 3) = 1 s.
    expect(sqsCalls(ChangeMessageVisibilityCommand)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-m-flaky', VisibilityTimeout: 1 },
    ]);
  });

  it('writes the ledger transitions each outcome needs', async () => {
    // Prepare
    const t = quietTelemetry();
    const handler = createConsumerHandler(registry, {
      env: consumerEnv(),
      logger: t.logger,
      metrics: t.metrics,
    });

    // Act
    await handler(
      {
        Records: [
          record('m-ok', envelopeBody('job-ok', 'ok', { n: 2 })),
          record('m-flaky', envelopeBody('job-flaky', 'flaky', {})),
          record('m-doomed', envelopeBody('job-doomed', 'doomed', {})),
        ],
      },
      lambdaContext(),
    );

    // Assess
    const writes = ledgerWrites(ddb);
    const statusesFor = (jobId: string) => writes.filter((w) => w.jobId === jobId).map((w) => w.status);
    expect(statusesFor('job-ok')).toEqual(['RUNNING', 'SUCCEEDED']);
    expect(statusesFor('job-flaky')).toEqual(['RUNNING', 'FAILED']);
    expect(statusesFor('job-doomed')).toEqual(['RUNNING', 'DEAD']);
    // First deliveries: each claim creates the item with one conditional PutItem.
    const claims = writes.filter((w) => w.status === 'RUNNING');
    expect(claims.map((w) => [w.command, w.ConditionExpression])).toEqual(
      claims.map(() => ['PutItem', 'attribute_not_exists(#jobId)']),
    );
    const complete = writes.find((w) => w.status === 'SUCCEEDED');
    expect(complete?.ExpressionAttributeValues?.[':result']).toEqual({ S: '{"doubled":4}' });
    expect(complete?.ConditionExpression).toBe('#leaseOwner = :owner AND #status = :running');
  });

  it('emits metrics by job type and lane, once per type per batch', async () => {
    // Prepare
    const t = quietTelemetry();
    const handler = createConsumerHandler(registry, {
      env: consumerEnv(),
      logger: t.logger,
      metrics: t.metrics,
    });

    // Act
    await handler(
      {
        Records: [
          record('m1', envelopeBody('job-1', 'ok', { n: 1 })),
          record('m2', envelopeBody('job-2', 'ok', { n: 1 })),
          record('m-dup', envelopeBody('job-dup', 'ok', { n: 1 })),
          record('m3', envelopeBody('job-3', 'flaky', {})),
        ],
      },
      lambdaContext(),
    );

    // Assess
    expect(t.addDimensions.mock.calls.map((c) => c[0])).toEqual([
      { JobType: 'ok', Lane: 'default' },
      { JobType: 'flaky', Lane: 'default' },
    ]);
    const counts = t.addMetric.mock.calls
      .filter((c) => c[0] !== JOB_METRICS.names.duration)
      .map((c) => [c[0], c[2]]);
    expect(counts).toEqual([
      ['JobSucceeded', 2],
      ['JobDuplicateSkipped', 1],
      ['JobRetried', 1],
      ['JobFailed', 1],
    ]);
    expect(t.addMetric.mock.calls.filter((c) => c[0] === 'JobDuration')).toHaveLength(3);
  });

  it('logs one structured line per job outcome', async () => {
    // Prepare
    const t = quietTelemetry();
    const handler = createConsumerHandler(registry, {
      env: consumerEnv(),
      logger: t.logger,
      metrics: t.metrics,
    });

    // Act
    await handler(
      { Records: [record('m1', envelopeBody('job-1', 'ok', { n: 1 }), { receiveCount: 2 })] },
      lambdaContext(),
    );

    // Assess: the second receive, but the first run the ledger counts (the claim found no earlier run)
    const line = t.outcomes.mock.calls.find((c) => c[0] === 'job outcome')?.[1];
    expect(line).toMatchObject({
      jobId: 'job-1',
      type: 'ok',
      lane: 'default',
      attempt: 1,
      status: 'SUCCEEDED',
    });
    expect(typeof (line as { durationMs: number }).durationMs).toBe('number');
  });
});
