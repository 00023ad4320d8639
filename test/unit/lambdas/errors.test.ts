/**
 * Error classification must survive a second copy of the runtime in one process or bundle (a
 * user's registry importing the built package while the consumer came from another path): the
 * classes carry registered-symbol brands, and `isPermanent` / `isJobsError` read them.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createConsumerHandler } from '../../../lambdas/consumer';
import { defineJob, defineRegistry } from '../../../lambdas/registry';
import { DLQ_ATTR } from '../../../lambdas/shared/contract';
import * as errors from '../../../lambdas/shared/errors';
import {
  consumerEnv,
  DLQ_URL,
  envelopeBody,
  lambdaContext,
  QUEUE_URL,
  quietTelemetry,
  record,
} from './support/fixtures';

type ErrorsModule = typeof errors;

/** A second, separately evaluated copy of errors.ts: its own classes, so `instanceof` says no. */
async function loadSecondCopy(): Promise<ErrorsModule> {
  vi.resetModules();
  const copy: ErrorsModule = await import('../../../lambdas/shared/errors');
  vi.resetModules();
  return copy;
}

describe('error brands', () => {
  let other: ErrorsModule;
  beforeAll(async () => {
    other = await loadSecondCopy();
  });

  it('loads a genuinely separate copy of the classes', () => {
    expect(other.PermanentJobError).not.toBe(errors.PermanentJobError);
    expect(new other.PermanentJobError('x')).not.toBeInstanceOf(errors.PermanentJobError);
  });

  it("recognises another copy's permanent errors (and subclasses) as permanent", () => {
    expect(errors.isPermanent(new other.PermanentJobError('card declined'))).toBe(true);
    expect(errors.isPermanent(new other.UnknownJobTypeError('x', []))).toBe(true);
    expect(errors.isPermanent(new other.PayloadValidationError('t', '(root)', 'bad'))).toBe(true);
    expect(other.isPermanent(new errors.PermanentJobError('card declined'))).toBe(true);
  });

  it("recognises another copy's errors as JobsErrors, but not as permanent when retryable", () => {
    const timeout = new other.JobTimeoutError(1000);
    expect(errors.isJobsError(timeout)).toBe(true);
    expect(errors.isPermanent(timeout)).toBe(false);
    expect(errors.isJobsError(new other.ConfigError('s', 'a number', 'x'))).toBe(true);
  });

  it('recognises a hand-built object that carries the registered brands', () => {
    const permanent = Object.assign(new Error('from elsewhere'), {
      [Symbol.for('sqs-jobs.error')]: true,
      [Symbol.for('sqs-jobs.error.permanent')]: true,
    });
    expect(errors.isPermanent(permanent)).toBe(true);
    expect(errors.isJobsError(permanent)).toBe(true);
  });

  it('does not mistake plain errors, look-alikes or non-objects for permanent ones', () => {
    const named = Object.assign(new Error('x'), { name: 'PermanentJobError' });
    const truthyNotTrue = { [Symbol.for('sqs-jobs.error.permanent')]: 'yes' };
    for (const value of [new Error('x'), named, truthyNotTrue, null, undefined, 'PermanentJobError', 42]) {
      expect(errors.isPermanent(value)).toBe(false);
    }
    expect(errors.isJobsError(new Error('x'))).toBe(false);
  });

  it('keeps the brands out of enumeration, JSON and describeError', () => {
    const error = new errors.PermanentJobError('card declined');
    expect(Object.keys(error)).toEqual(['name']);
    expect(Object.getOwnPropertySymbols(error)).toHaveLength(2);
    expect(
      Object.getOwnPropertySymbols(error).every(
        (s) => !Object.getOwnPropertyDescriptor(error, s)?.enumerable,
      ),
    ).toBe(true);
    expect(JSON.stringify(error)).toBe('{"name":"PermanentJobError"}');
    expect(errors.describeError(error)).toEqual({ type: 'PermanentJobError', message: 'card declined' });
  });
});

describe('consumer with a handler that throws another copy of PermanentJobError', () => {
  const ddb = mockClient(DynamoDBClient);
  const sqs = mockClient(SQSClient);
  let other: ErrorsModule;
  beforeAll(async () => {
    other = await loadSecondCopy();
  });
  beforeEach(() => {
    ddb.reset();
    sqs.reset();
    ddb.on(UpdateItemCommand).resolves({ Attributes: {} });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  });

  it('dead-letters it at once with its errorType instead of retrying', async () => {
    // Prepare
    const doomed = defineJob({
      type: 'doomed',
      schema: z.object({}),
      handler: async () => {
        throw new other.PermanentJobError('card declined');
      },
    });
    const t = quietTelemetry();
    const handler = createConsumerHandler(defineRegistry([doomed]), {
      env: consumerEnv(),
      sqs: new SQSClient({}),
      dynamodb: new DynamoDBClient({}),
      logger: t.logger,
      metrics: t.metrics,
      random: () => 0.5,
    });

    // Act
    const response = await handler(
      { Records: [record('m-doomed', envelopeBody('job-doomed', 'doomed', {}))] },
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const sent = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(sent.map((input) => input.QueueUrl)).toEqual([DLQ_URL]);
    expect(sent[0].MessageAttributes?.[DLQ_ATTR.errorType]?.StringValue).toBe('PermanentJobError');
    expect(
      sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input.QueueUrl),
    ).not.toContain(QUEUE_URL);
  });
});
