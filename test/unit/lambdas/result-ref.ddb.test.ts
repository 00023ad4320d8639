/**
 * The S3 result reference on a real DynamoDB engine: a SUCCEEDED write with `resultRef` stores the
 * key and removes an inline result; one without it removes a key an earlier run left.
 */
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { Ledger } from '../../../lambdas/ledger/ledger';
import { createLedgerTable } from './support/ledger-table';

const endpoint = inject('dynamodbEndpoint') ?? process.env.DYNAMODB_ENDPOINT;
const client = new DynamoDBClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const tableName = `ledger-ref-${Date.now()}`;
const ledger = new Ledger({ client, tableName, ttlSeconds: 3600 });
let seq = 0;
let jobId = '';

async function rawItem() {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { jobId: { S: jobId } }, ConsistentRead: true }),
  );
  return out.Item;
}

const claim = (owner: string) =>
  ledger.claim({
    jobId,
    type: 'export',
    lane: 'default',
    enqueuedAt: '2025-06-01T11:59:00.000Z',
    owner,
    leaseMs: 60_000,
  });

beforeAll(() => createLedgerTable(client, tableName));
beforeEach(() => {
  jobId = `job-ref-${++seq}`;
});

describe('resultRef', () => {
  it('complete stores the key instead of the result, and a rerun with an inline result removes it', async () => {
    // Prepare
    await claim('owner-a');

    // Act
    await ledger.complete({ jobId, owner: 'owner-a', resultRef: 'results/j/a.json' });
    const stored = await rawItem();
    await ledger.recordOutcome({ jobId, lane: 'default', status: 'FAILED', error: new Error('x') });
    const afterFailedRerun = await rawItem();

    // Assess
    expect(stored?.resultRef).toEqual({ S: 'results/j/a.json' });
    expect(stored?.result).toBeUndefined();
    expect((await ledger.get(jobId))?.resultRef).toBe('results/j/a.json');
    // A FAILED write cannot overwrite SUCCEEDED: the key stays.
    expect(afterFailedRerun?.resultRef).toEqual({ S: 'results/j/a.json' });
  });

  it('an unowned SUCCEEDED write (optimistic) stores the key and no result', async () => {
    // Prepare: an earlier attempt failed
    await ledger.recordOutcome({ jobId, lane: 'default', status: 'FAILED', error: new Error('x') });

    // Act
    const written = await ledger.recordOutcome({
      jobId,
      type: 'export',
      lane: 'default',
      status: 'SUCCEEDED',
      resultRef: 'results/j/b.json',
    });

    // Assess
    expect(written).toBe(true);
    const item = await rawItem();
    expect(item?.status).toEqual({ S: 'SUCCEEDED' });
    expect(item?.resultRef).toEqual({ S: 'results/j/b.json' });
    expect(item?.result).toBeUndefined();
  });

  it.each([
    ['with a key, an inline result', 'result', { S: '{"stale":true}' }, { resultRef: 'results/j/new.json' }],
    ['without a key, a key', 'resultRef', { S: 'results/j/stale.json' }, { result: { rows: 1 } }],
  ])('a SUCCEEDED write %s left on the item is removed', async (_, attribute, stale, written) => {
    // Prepare: a running job whose item carries a leftover attribute
    await claim('owner-a');
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { jobId: { S: jobId } },
        UpdateExpression: 'SET #a = :v',
        ExpressionAttributeNames: { '#a': attribute },
        ExpressionAttributeValues: { ':v': stale },
      }),
    );

    // Act
    const completed = await ledger.complete({ jobId, owner: 'owner-a', ...written });

    // Assess
    expect(completed).toBe(true);
    const item = await rawItem();
    expect(item?.[attribute]).toBeUndefined();
    expect(item?.status).toEqual({ S: 'SUCCEEDED' });
  });
});
