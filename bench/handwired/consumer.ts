/**
 * The hand-wired consumer: what a careful CDK user writes for an SQS-triggered Lambda with
 * idempotent jobs, using AWS Lambda Powertools. `processPartialResponse` with a `BatchProcessor`
 * reports failed records (the event source has `reportBatchItemFailures`), and `makeIdempotent`
 * with a DynamoDB persistence layer keyed on the message's job id keeps a redelivered job from
 * running twice. The body is `{ id, payload }`; the payload is validated with the same schema our
 * registry uses, then the shared no-op job runs.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { IDEMPOTENCY_TABLE_ENV, noopJob, noopSchema } from './jobs';

const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: process.env[IDEMPOTENCY_TABLE_ENV] ?? 'idempotency',
});
const config = new IdempotencyConfig({ eventKeyJmesPath: 'powertools_json(body).id' });
const processor = new BatchProcessor(EventType.SQS);

const recordHandler = async (record: SQSRecord) => {
  const body = JSON.parse(record.body) as { id: string; payload: unknown };
  return noopJob(noopSchema.parse(body.payload));
};
const idempotent = makeIdempotent(recordHandler, { persistenceStore, config });

export const handler = async (event: SQSEvent, context: Context) => {
  config.registerLambdaContext(context);
  return processPartialResponse(event, idempotent, processor, { context });
};
