/** `listJobs` input checks (before any call) and the Query it sends, with DynamoDB mocked. */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobClient } from '../../../lambdas/client/job-client';
import type { ListJobsOptions } from '../../../lambdas/client/types';
import { SEARCH_INDEX } from '../../../lambdas/shared/contract';
import { testClientConfig } from './support/client-config';

const ddb = mockClient(DynamoDBClient);
const NOW = Date.parse('2025-06-01T12:00:00.000Z');

/** `searchIndex` empty: a queue without the index. */
function client(searchIndex: string = SEARCH_INDEX.name): JobClient {
  return JobClient.fromConfig(testClientConfig(searchIndex ? { searchIndex } : {}), {
    dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
    now: () => NOW,
  });
}

beforeEach(() => {
  ddb.reset();
  ddb.on(QueryCommand).resolves({ Items: [] });
});

describe('listJobs input checks', () => {
  it.each<[string, ListJobsOptions, RegExp]>([
    [
      'an unknown status',
      { status: 'DONE' as never },
      /status must be one of ENQUEUED, RUNNING, .*CANCELLED; got "DONE"/,
    ],
    ['an empty status list', { status: [] }, /status must be a status or a non-empty list of/],
    ['limit 0', { limit: 0 }, /limit must be an integer from 1 to 1000; got 0/],
    ['limit 1001', { limit: 1001 }, /limit must be an integer from 1 to 1000; got 1001/],
    ['a fractional limit', { limit: 2.5 }, /limit must be an integer from 1 to 1000; got 2.5/],
    [
      'since after until',
      { since: new Date(NOW), until: new Date(NOW - 1000) },
      /since must be at or before until \(2025-06-01T11:59:59.000Z\); got "2025-06-01T12:00:00.000Z"/,
    ],
    ['an invalid date', { since: new Date(Number.NaN) }, /since must be a valid Date/],
    ['an empty type', { type: '' }, /type must be a non-empty string; got ""/],
    [
      'a cursor that is not base64url',
      { cursor: 'not a cursor!' },
      /cursor must be the `cursor` of a previous listJobs page/,
    ],
    [
      'a cursor of the wrong shape',
      { cursor: Buffer.from('{"v":1}').toString('base64url') },
      /cursor must be the `cursor` of a previous listJobs page/,
    ],
  ])('refuses %s, naming the option, before any call', async (_, options, message) => {
    // Act
    const error = await client()
      .listJobs(options)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'ConfigError' });
    expect(String(error)).toMatch(message);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('tells to set jobSearch when the queue has no search index', async () => {
    await expect(client('').listJobs()).rejects.toThrow(/searchIndex' must be set: .*jobSearch: true/);
  });

  it('refuses a cursor naming partitions of statuses it was not made for', async () => {
    // Prepare: a well-formed cursor for DEAD that names a SUCCEEDED partition
    const cursor = Buffer.from(
      JSON.stringify({ v: 1, f: { s: ['DEAD'], b: new Date(NOW).toISOString() }, p: { 'SUCCEEDED#0': 0 } }),
    ).toString('base64url');

    // Act / Assess
    await expect(client().listJobs({ status: 'DEAD', cursor })).rejects.toThrow(
      /cursor must be the `cursor`/,
    );
  });
});

describe('listJobs queries', () => {
  it('queries every shard of each status on the index, newest first, with until exclusive', async () => {
    // Act
    const page = await client().listJobs({ status: ['DEAD', 'SUCCEEDED'], type: 'resize', lane: 'high' });

    // Assess
    expect(page).toEqual({ jobs: [] });
    const inputs = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.ExpressionAttributeValues?.[':pk'].S).sort()).toEqual([
      ...Array.from({ length: 8 }, (_, n) => `DEAD#${n}`),
      ...Array.from({ length: 8 }, (_, n) => `SUCCEEDED#${n}`),
    ]);
    expect(inputs[0]).toMatchObject({
      TableName: 'ledger',
      IndexName: SEARCH_INDEX.name,
      ScanIndexForward: false,
      KeyConditionExpression: '#pk = :pk AND #sk <= :until',
      FilterExpression: '#type = :type AND #lane = :lane',
    });
    expect(inputs[0].ExpressionAttributeValues?.[':until']).toEqual({ S: '2025-06-01T11:59:59.999Z' });
  });
});
