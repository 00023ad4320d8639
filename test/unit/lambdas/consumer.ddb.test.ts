/** The consumer against a real DynamoDB engine: outcomes, duplicates and the writes per job per mode. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { Ledger } from '../../../lambdas/ledger/ledger';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { PermanentJobError } from '../../../lambdas/shared/errors';
import { consumerEnv, envelopeBody, lambdaContext, quietTelemetry, record } from './support/fixtures';
import { createLedgerTable } from './support/ledger-table';

const dynamodb = new DynamoDBClient({
  endpoint: inject('dynamodbEndpoint') ?? process.env.DYNAMODB_ENDPOINT,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const sqs = mockClient(SQSClient);
const tableName = `consumer-${Date.now()}`;
const ledger = new Ledger({ client: dynamodb, tableName, ttlSeconds: 3600 });
const runs: Record<string, number> = {};

const job = (type: string, idempotency: 'strict' | 'optimistic' | 'none') =>
  defineJob({
    type,
    idempotency,
    schema: z.object({
      fail: z.enum(['no', 'retry', 'permanent']).default('no'),
      progress: z.boolean().default(true),
    }),
    handler: async (payload, ctx) => {
      runs[ctx.jobId] = (runs[ctx.jobId] ?? 0) + 1;
      if (payload.progress) await ctx.progress(50);
      if (payload.fail === 'retry') throw new Error('try again');
      if (payload.fail === 'permanent') throw new PermanentJobError('never');
      return { ok: ctx.jobId };
    },
  });
const registry = defineRegistry([
  job('strict', 'strict'),
  job('optimistic', 'optimistic'),
  job('none', 'none'),
]);

function consumer() {
  const t = quietTelemetry();
  return createConsumerHandler(registry, {
    env: consumerEnv({ JOBS_LEDGER_TABLE: tableName }),
    dynamodb,
    logger: t.logger,
    metrics: t.metrics,
    progressIntervalMs: 60_000,
  });
}

function countCalls() {
  const send = vi.spyOn(dynamodb, 'send');
  return () => {
    const names = send.mock.calls.map((c) => (c[0] as object).constructor.name);
    send.mockRestore();
    return names;
  };
}

beforeAll(() => createLedgerTable(dynamodb, tableName));

beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});

describe('consumer on DynamoDB Local', () => {
  it('mixed batch: exact failures, DLQ sends and ledger states', async () => {
    // Prepare
    const handler = consumer();
    const event = {
      Records: [
        record('m1', envelopeBody('mix-ok', 'strict', {})),
        record('m2', envelopeBody('mix-retry', 'strict', { fail: 'retry' })),
        record('m3', envelopeBody('mix-perm', 'strict', { fail: 'permanent' })),
        record('m4', envelopeBody('mix-unknown', 'nope', {})),
        record('m5', '{broken'),
        record('m6', envelopeBody('mix-schema', 'strict', { fail: 'maybe' })),
      ],
    };

    // Act
    const response = await handler(event, lambdaContext());
    const duplicate = await handler(
      { Records: [record('m1-again', envelopeBody('mix-ok', 'strict', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect(duplicate.batchItemFailures).toEqual([]);
    expect(runs['mix-ok']).toBe(1);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(4);
    const status = async (id: string) => (await ledger.get(id))?.status;
    expect(await status('mix-ok')).toBe('SUCCEEDED');
    expect(await status('mix-retry')).toBe('FAILED');
    expect(await status('mix-perm')).toBe('DEAD');
    expect(await status('mix-unknown')).toBe('DEAD');
    expect(await status('mix-schema')).toBe('DEAD');
    expect((await ledger.get('mix-ok'))?.progress).toBe(50);
  });

  it.each([
    // A new job's claim creates its item with one conditional PutItem.
    ['strict', ['PutItemCommand', 'UpdateItemCommand']],
    ['optimistic', ['GetItemCommand', 'UpdateItemCommand']],
    ['none', []],
  ])('%s: ledger calls per successful new job', async (type, expected) => {
    // Prepare
    const handler = consumer();
    const calls = countCalls();

    // Act
    await handler(
      { Records: [record(`c-${type}`, envelopeBody(`cost-${type}`, type, { progress: false }))] },
      lambdaContext(),
    );

    // Assess
    expect(calls()).toEqual(expected);
  });

  it('none: a progress write costs one write and one more to record SUCCEEDED', async () => {
    // Prepare
    const handler = consumer();
    const calls = countCalls();

    // Act
    await handler(
      { Records: [record('c-none', envelopeBody('progress-none', 'none', {}))] },
      lambdaContext(),
    );

    // Assess: the progress write marks it RUNNING, so one more write records SUCCEEDED.
    expect(calls()).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    expect((await ledger.get('progress-none'))?.status).toBe('SUCCEEDED');
  });
});
