/**
 * The client side of large results and waiting: getJob reads a result stored in S3 back into
 * `result`, and waitFor polls getJob with a growing interval until the job finishes or time is up.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobClient } from '../../../lambdas/client';
import { ConfigError, ResultReadError, WaitTimeoutError } from '../../../lambdas/shared/errors';
import { testClientConfig } from './support/client-config';

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);

/** A ledger item as GetItem returns it. */
function item(status: string | undefined, extra: Record<string, { S: string }> = {}) {
  return {
    Item: {
      jobId: { S: 'job-1' },
      attempts: { N: '1' },
      ...(status === undefined ? {} : { status: { S: status } }),
      ...extra,
    },
  };
}

const body = (text: string) => ({ Body: { transformToString: async () => text } as never });

/** A client on a fake clock: `sleep` advances it and records each wait. */
function fakeClock(resultsBucket: string | null = 'results-bucket') {
  let now = 0;
  const sleeps: number[] = [];
  const client = JobClient.fromConfig(
    JSON.stringify(testClientConfig(resultsBucket === null ? {} : { resultsBucket })),
    {
      dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
      s3: new S3Client({ region: 'us-east-1' }),
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    },
  );
  return { client, sleeps, advance: (ms: number) => (now += ms) };
}

beforeEach(() => {
  ddb.reset();
  s3.reset();
});

describe('getJob with a result stored in S3', () => {
  it('returns the stored result as `result`, read from the bucket with the item’s key', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves(item('SUCCEEDED', { resultRef: { S: 'results/job-1/a.json' } }));
    s3.on(GetObjectCommand).resolves(body('{"rows":[1,2,3]}'));
    const { client } = fakeClock();

    // Act
    const job = await client.getJob('job-1');

    // Assess
    expect(job?.result).toEqual({ rows: [1, 2, 3] });
    expect(job?.resultRef).toBe('results/job-1/a.json');
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'results-bucket', Key: 'results/job-1/a.json' },
    ]);
  });

  it('makes no S3 call for a result kept inline', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves(item('SUCCEEDED', { result: { S: '{"ok":true}' } }));
    const { client } = fakeClock();

    // Act
    const job = await client.getJob('job-1');

    // Assess
    expect(job?.result).toEqual({ ok: true });
    expect(s3.commandCalls(GetObjectCommand)).toEqual([]);
  });

  it('throws a ResultReadError naming the job and the key when the object cannot be read', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves(item('SUCCEEDED', { resultRef: { S: 'results/job-1/a.json' } }));
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }),
    );
    const { client } = fakeClock();

    // Act
    const read = client.getJob('job-1');

    // Assess
    await expect(read).rejects.toThrow(ResultReadError);
    await expect(read).rejects.toThrow(/job job-1 .*key results\/job-1\/a\.json.*does not exist/);
  });

  it('throws a ResultReadError when the config names no results bucket', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves(item('SUCCEEDED', { resultRef: { S: 'results/job-1/a.json' } }));
    const { client } = fakeClock(null);

    // Act / Assess
    await expect(client.getJob('job-1')).rejects.toThrow(/no results bucket/);
  });
});

describe('waitFor', () => {
  it('polls with intervals growing ×1.5 up to the cap, and resolves with the finished record', async () => {
    // Prepare: unknown twice (an unkeyed job before its claim), then RUNNING, then SUCCEEDED from S3
    ddb
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolvesOnce({})
      .resolvesOnce(item('RUNNING'))
      .resolvesOnce(item('RUNNING'))
      .resolves(item('SUCCEEDED', { resultRef: { S: 'results/job-1/a.json' } }));
    s3.on(GetObjectCommand).resolves(body('{"big":true}'));
    const { client, sleeps } = fakeClock();

    // Act
    const job = await client.waitFor('job-1', { initialIntervalMs: 100, maxIntervalMs: 200 });

    // Assess
    expect(job.status).toBe('SUCCEEDED');
    expect(job.result).toEqual({ big: true });
    expect(sleeps).toEqual([100, 150, 200, 200]);
  });

  it.each(['DEAD', 'CANCELLED'])('resolves on %s', async (status) => {
    // Prepare
    ddb.on(GetItemCommand).resolvesOnce(item('FAILED')).resolves(item(status));
    const { client } = fakeClock();

    // Act
    const job = await client.waitFor('job-1');

    // Assess
    expect(job.status).toBe(status);
  });

  it('rejects with a WaitTimeoutError naming the job, the last status and the time waited', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves(item('FAILED'));
    const { client, sleeps } = fakeClock();

    // Act
    const wait = client.waitFor('job-1', { timeoutMs: 1000, initialIntervalMs: 400 });

    // Assess: 400 + 600 = 1000 ms waited, never past the timeout
    await expect(wait).rejects.toThrow(WaitTimeoutError);
    await expect(client.waitFor('job-1', { timeoutMs: 1000, initialIntervalMs: 400 })).rejects.toThrow(
      /job job-1 .*last status: FAILED/,
    );
    expect(sleeps.slice(0, 2)).toEqual([400, 600]);
  });

  it('says when the job was never seen', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves({});
    const { client } = fakeClock();

    // Act / Assess
    await expect(client.waitFor('job-1', { timeoutMs: 500 })).rejects.toMatchObject({
      name: 'WaitTimeoutError',
      jobId: 'job-1',
      lastStatus: undefined,
      waitedMs: 500,
    });
  });

  it('stops when its signal aborts, with the signal’s reason', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves(item('RUNNING'));
    const controller = new AbortController();
    const client = JobClient.fromConfig(JSON.stringify(testClientConfig()), {
      dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
      // A sleep that never ends by itself: only the abort ends the wait.
      sleep: () => new Promise<void>(() => undefined),
    });

    // Act
    const wait = client.waitFor('job-1', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 10);

    // Assess
    await expect(wait).rejects.toThrow('shutting down');
  });

  it.each([
    [
      { timeoutMs: -1 },
      /waitFor option timeoutMs must be an integer from 0 to 86400000 \(milliseconds\); got -1/,
    ],
    [
      { initialIntervalMs: 1.5 },
      /waitFor option initialIntervalMs must be an integer from 10 to 3600000.*got 1.5/,
    ],
    [
      { initialIntervalMs: 500, maxIntervalMs: 100 },
      /waitFor option maxIntervalMs must be an integer from 500 to 3600000.*got 100/,
    ],
  ])('refuses %j, naming the option, the range and the value', async (options, message) => {
    // Prepare
    const { client } = fakeClock();

    // Act
    const wait = client.waitFor('job-1', options);

    // Assess
    await expect(wait).rejects.toThrow(ConfigError);
    await expect(client.waitFor('job-1', options)).rejects.toThrow(message);
    expect(ddb.commandCalls(GetItemCommand)).toEqual([]);
  });
});
