/**
 * `JobClient.listJobs` against a real DynamoDB engine (DynamoDB Local): the search index's sharded
 * partitions merged newest-first, pages that add up to the whole set, time bounds, and type / lane
 * filters that match few items (Query's Limit counts items before the filter).
 */
import {
  type AttributeValue,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { JobClient } from '../../../lambdas/client/job-client';
import type { JobSummary, ListJobsOptions } from '../../../lambdas/client/types';
import { searchKeys, searchShard } from '../../../lambdas/ledger/history';
import { LEDGER_ATTR as A, type JobStatus, SEARCH_INDEX } from '../../../lambdas/shared/contract';
import { testClientConfig } from './support/client-config';

const endpoint = inject('dynamodbEndpoint') ?? process.env.DYNAMODB_ENDPOINT;
const client = new DynamoDBClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const NOW = Date.parse('2025-06-01T12:00:00.000Z');
let tableName = '';
let seq = 0;

/** A ledger table with the search index, shaped like the construct's (`jobSearch: true`). */
async function createSearchTable(name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [
        { AttributeName: A.jobId, AttributeType: 'S' },
        { AttributeName: SEARCH_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: SEARCH_INDEX.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: A.jobId, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: SEARCH_INDEX.name,
          KeySchema: [
            { AttributeName: SEARCH_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: SEARCH_INDEX.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...SEARCH_INDEX.projected] },
        },
      ],
    }),
  );
}

interface Fixture {
  readonly status: JobStatus;
  /** Seconds before NOW the job entered its status. */
  readonly ago: number;
  readonly type?: string;
  readonly lane?: string;
  readonly attempts?: number;
  readonly tenant?: string;
}

/** Ledger items as a status write with the index on leaves them; returns them as listJobs shows them. */
async function putJobs(fixtures: readonly Fixture[]): Promise<JobSummary[]> {
  const jobs = fixtures.map((f): JobSummary => {
    const atMs = NOW - f.ago * 1000;
    return {
      jobId: `job-${++seq}`,
      status: f.status,
      statusAt: new Date(atMs).toISOString(),
      type: f.type ?? 'resize',
      lane: f.lane ?? 'default',
      attempts: f.attempts ?? 1,
      enqueuedAt: new Date(atMs - 60_000).toISOString(),
      ...(f.tenant ? { tenant: f.tenant } : {}),
    };
  });
  for (let i = 0; i < jobs.length; i += 50) {
    await Promise.all(
      jobs.slice(i, i + 50).map((job) => {
        const keys = searchKeys(job.jobId, job.status, Date.parse(job.statusAt));
        const item: Record<string, AttributeValue> = {
          [A.jobId]: { S: job.jobId },
          [A.status]: { S: job.status },
          [A.type]: { S: job.type ?? '' },
          [A.lane]: { S: job.lane ?? '' },
          [A.attempts]: { N: String(job.attempts) },
          [A.enqueuedAt]: { S: job.enqueuedAt ?? '' },
          [A.updatedAt]: { S: job.statusAt },
          [A.statusKey]: { S: keys.statusKey },
          [A.statusAt]: { S: keys.statusAt },
          // Not projected: listJobs never sees it.
          [A.result]: { S: '{"big":true}' },
          ...(job.tenant ? { [A.tenant]: { S: job.tenant } } : {}),
        };
        return client.send(new PutItemCommand({ TableName: tableName, Item: item }));
      }),
    );
  }
  return jobs;
}

function jobClient(): JobClient {
  return JobClient.fromConfig(testClientConfig({ tableName, searchIndex: SEARCH_INDEX.name }), {
    dynamodb: client,
    now: () => NOW,
  });
}

/** Every page from the first, in order. */
async function allPages(c: JobClient, options: ListJobsOptions): Promise<JobSummary[][]> {
  const pages: JobSummary[][] = [];
  let cursor: string | undefined;
  do {
    const page = await c.listJobs({ ...options, cursor });
    pages.push([...page.jobs]);
    cursor = page.cursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor !== undefined);
  return pages;
}

const newestFirst = (jobs: readonly JobSummary[]) =>
  [...jobs].sort((a, b) => (a.statusAt < b.statusAt ? 1 : a.statusAt > b.statusAt ? -1 : 0));
const ids = (jobs: readonly JobSummary[]) => jobs.map((j) => j.jobId);

beforeEach(async () => {
  tableName = `search-${Date.now()}-${++seq}`;
  await createSearchTable(tableName);
});

describe('listJobs on the search index', () => {
  it('merges the shards of a status newest-first, with the projected attributes', async () => {
    // Prepare: 30 SUCCEEDED jobs a second apart, and others that must not show
    const succeeded = await putJobs(
      Array.from({ length: 30 }, (_, i) => ({ status: 'SUCCEEDED' as const, ago: 10 + i, tenant: 't-1' })),
    );
    await putJobs([
      { status: 'DEAD', ago: 1 },
      { status: 'RUNNING', ago: 2 },
    ]);

    // Act
    const page = await jobClient().listJobs({ status: 'SUCCEEDED', limit: 100 });

    // Assess
    expect(new Set(succeeded.map((j) => searchShard(j.jobId))).size).toBeGreaterThan(3);
    expect(page.cursor).toBeUndefined();
    expect(page.jobs).toEqual(newestFirst(succeeded));
  });

  it('pages through several statuses: 4 pages add up to the whole set, no job twice', async () => {
    // Prepare
    const statuses: JobStatus[] = ['SUCCEEDED', 'DEAD', 'FAILED'];
    const jobs = await putJobs(
      Array.from({ length: 25 }, (_, i) => ({ status: statuses[i % 3], ago: 5 + i })),
    );
    await putJobs([{ status: 'RUNNING', ago: 3 }]);

    // Act
    const pages = await allPages(jobClient(), { status: statuses, limit: 7 });

    // Assess
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 4]);
    const listed = pages.flat();
    expect(new Set(ids(listed)).size).toBe(listed.length);
    expect(ids(listed)).toEqual(ids(newestFirst(jobs)));
  });

  it('lists every status by default; a page that ends the set has no cursor', async () => {
    // Prepare
    const jobs = await putJobs([
      { status: 'ENQUEUED', ago: 1 },
      { status: 'RUNNING', ago: 2 },
      { status: 'SUCCEEDED', ago: 3 },
      { status: 'FAILED', ago: 4 },
      { status: 'DEAD', ago: 5 },
      { status: 'CANCELLED', ago: 6 },
    ]);

    // Act
    const pages = await allPages(jobClient(), { limit: 3 });

    // Assess
    expect(pages.map((p) => ids(p))).toEqual([ids(jobs.slice(0, 3)), ids(jobs.slice(3))]);
  });

  it('bounds by time: since is included, until is not', async () => {
    // Prepare: jobs 10, 20, 30, 40 and 50 seconds ago
    const jobs = await putJobs([10, 20, 30, 40, 50].map((ago) => ({ status: 'DEAD' as const, ago })));
    const at = (ago: number) => new Date(NOW - ago * 1000);

    // Act
    const between = await jobClient().listJobs({ status: 'DEAD', since: at(40), until: at(20) });
    const recent = await jobClient().listJobs({ status: 'DEAD', since: at(30) });
    const empty = await jobClient().listJobs({ status: 'DEAD', since: at(30), until: at(30) });

    // Assess
    expect(ids(between.jobs)).toEqual(ids([jobs[2], jobs[3]]));
    expect(ids(recent.jobs)).toEqual(ids(jobs.slice(0, 3)));
    expect(empty).toEqual({ jobs: [] });
  });

  it('finds the few jobs of a type and lane under many others, querying on past non-matching items', async () => {
    // Prepare: 400 newer jobs of another type, then 3 matches (oldest), one of them on another lane
    await putJobs(Array.from({ length: 400 }, (_, i) => ({ status: 'SUCCEEDED' as const, ago: 100 + i })));
    const matches = await putJobs([
      { status: 'SUCCEEDED', ago: 1000, type: 'invoice', lane: 'high' },
      { status: 'SUCCEEDED', ago: 1001, type: 'invoice', lane: 'default' },
      { status: 'SUCCEEDED', ago: 1002, type: 'invoice', lane: 'high' },
    ]);
    const queries = vi.spyOn(client, 'send');

    // Act
    const pages = await allPages(jobClient(), { type: 'invoice', lane: 'high', limit: 1 });
    const byType = await jobClient().listJobs({ status: ['SUCCEEDED'], type: 'invoice' });

    // Assess
    expect(pages.map((p) => ids(p))).toEqual([[matches[0].jobId], [matches[2].jobId]]);
    expect(ids(byType.jobs)).toEqual(ids(matches));
    // 400 items over 8 shards: about 50 per shard, more than one Query reads.
    const succeededQueries = queries.mock.calls.filter(
      ([command]) =>
        command instanceof QueryCommand &&
        command.input.ExpressionAttributeValues?.[':pk']?.S?.startsWith('SUCCEEDED#'),
    );
    expect(succeededQueries.length).toBeGreaterThan(2 * SEARCH_INDEX.shards);
    queries.mockRestore();
  });

  it('refuses a cursor of another listing, naming both filters', async () => {
    // Prepare
    await putJobs(Array.from({ length: 5 }, (_, i) => ({ status: 'DEAD' as const, ago: i + 1 })));
    const first = await jobClient().listJobs({ status: 'DEAD', limit: 2 });

    // Act
    const other = await jobClient()
      .listJobs({ status: 'SUCCEEDED', limit: 2, cursor: first.cursor })
      .catch((error: unknown) => error);
    const next = await jobClient().listJobs({ status: 'DEAD', limit: 2, cursor: first.cursor });

    // Assess
    expect(first.cursor).toBeDefined();
    expect(String(other)).toMatch(
      /cursor must be the cursor of a listing with the same filters \(it was made for status DEAD, until .*\); got "status SUCCEEDED/,
    );
    expect(next.jobs).toHaveLength(2);
  });
});
