/** Builders for SQS events, Lambda contexts, envelopes and a quiet logger / metrics pair. */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, SQSRecord } from 'aws-lambda';
import { vi } from 'vitest';
import { CONSUMER_ENV, ENVELOPE_VERSION } from '../../../../lambdas/shared/contract';

export const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs-default';
export const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs-default-dlq';

export function consumerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    [CONSUMER_ENV.ledgerTable]: 'ledger',
    [CONSUMER_ENV.lane]: 'default',
    [CONSUMER_ENV.queueUrl]: QUEUE_URL,
    [CONSUMER_ENV.dlqUrl]: DLQ_URL,
    [CONSUMER_ENV.maxAttempts]: '5',
    [CONSUMER_ENV.maxReceiveCount]: '20',
    [CONSUMER_ENV.visibilityTimeoutSeconds]: '180',
    [CONSUMER_ENV.backoffBaseSeconds]: '2',
    [CONSUMER_ENV.backoffCapSeconds]: '900',
    [CONSUMER_ENV.ledgerTtlSeconds]: '86400',
    [CONSUMER_ENV.batchParallelism]: '4',
    [CONSUMER_ENV.fifo]: 'false',
    ...overrides,
  };
}

export function envelopeBody(
  id: string,
  type: string,
  payload: unknown,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    v: ENVELOPE_VERSION,
    id,
    type,
    payload,
    enqueuedAt: '2025-01-01T00:00:00.000Z',
    ...extra,
  });
}

export function record(
  messageId: string,
  body: string,
  options: { receiveCount?: number; groupId?: string } = {},
): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: '1735689600000',
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: '1735689600000',
      ...(options.groupId ? { MessageGroupId: options.groupId, MessageDeduplicationId: messageId } : {}),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:jobs-default',
    awsRegion: 'us-east-1',
  };
}

export function lambdaContext(remainingMs = 60_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'consumer',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:consumer',
    memoryLimitInMB: '256',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/consumer',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A silent logger and metrics whose calls the tests can read. */
export function quietTelemetry() {
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
  metrics.clearDefaultDimensions();
  const addMetric = vi.spyOn(metrics, 'addMetric');
  const addDimensions = vi.spyOn(metrics, 'addDimensions');
  vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
    metrics.clearMetrics();
    metrics.clearDimensions();
    return metrics;
  });
  const outcomes = vi.spyOn(logger, 'info');
  // Success and duplicate outcome lines are debug lines: `outcomes` sees them too, `debugs` alone.
  const debugs = vi
    .spyOn(logger, 'debug')
    .mockImplementation((...args) => (logger.info as (...a: unknown[]) => void)(...args));
  return { logger, metrics, addMetric, addDimensions, outcomes, debugs };
}

/**
 * The ledger writes a mocked DynamoDB client received, in order, as update-shaped inputs: a strict
 * claim of a job's first delivery is a PutItem (its item's attributes appear as `:name` values,
 * as an UpdateItem's would), every other write an UpdateItem.
 */
export interface LedgerWrite {
  readonly jobId?: string;
  readonly status?: string;
  readonly command: 'PutItem' | 'UpdateItem';
  readonly ExpressionAttributeValues: Record<string, AttributeValue>;
  readonly ConditionExpression?: string;
}

export function ledgerWrites(ddb: { calls(): { args: unknown[] }[] }): LedgerWrite[] {
  return ddb.calls().flatMap((call): LedgerWrite[] => {
    const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
    const input = command.input as {
      Key?: Record<string, AttributeValue>;
      Item?: Record<string, AttributeValue>;
      ExpressionAttributeValues?: Record<string, AttributeValue>;
      ConditionExpression?: string;
    };
    if (command.constructor.name === 'PutItemCommand' && input.Item) {
      const values = Object.fromEntries(Object.entries(input.Item).map(([k, v]) => [`:${k}`, v]));
      return [
        {
          jobId: input.Item.jobId?.S,
          status: input.Item.status?.S,
          command: 'PutItem',
          ExpressionAttributeValues: values,
          ConditionExpression: input.ConditionExpression,
        },
      ];
    }
    if (command.constructor.name !== 'UpdateItemCommand') return [];
    const values = input.ExpressionAttributeValues ?? {};
    return [
      {
        jobId: input.Key?.jobId?.S,
        status: values[':status']?.S,
        command: 'UpdateItem',
        ExpressionAttributeValues: values,
        ConditionExpression: readable(input as { ConditionExpression?: string }).ConditionExpression,
      },
    ];
  });
}

/**
 * An UpdateItem input with its short name placeholders (`#0`, `#1`: the ledger's hot-path writes
 * shorten them, see `compactPlaceholders`) written back as `#<attribute name>`, so tests read the
 * expressions as the code builds them.
 */
export function readable<
  T extends {
    UpdateExpression?: string;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
  },
>(input: T): T {
  const names = input.ExpressionAttributeNames ?? {};
  const expand = (expression: string | undefined) =>
    expression?.replace(/#[A-Za-z0-9_]+/g, (token) =>
      /^#\d+$/.test(token) && names[token] ? `#${names[token]}` : token,
    );
  return {
    ...input,
    UpdateExpression: expand(input.UpdateExpression),
    ConditionExpression: expand(input.ConditionExpression),
  };
}
