/**
 * The runtime's own SDK clients resolve each command's middleware stack once (`cacheMiddleware`,
 * SDK_CLIENT_DEFAULTS). The resolved handler and its context are then shared by every call of a
 * command class, so this checks on a real DynamoDB engine that concurrent calls of the same
 * commands still each get their own answer: claims that succeed next to claims that fail their
 * condition (whose returned item must be the job's own), and completions.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { Ledger } from '../../../lambdas/ledger/ledger';
import { createS3Client } from '../../../lambdas/shared/s3-client';
import { SDK_CLIENT_DEFAULTS } from '../../../lambdas/shared/sdk-clients';
import { createLedgerTable } from './support/ledger-table';

const endpoint = inject('dynamodbEndpoint') ?? process.env.DYNAMODB_ENDPOINT;
const client = new DynamoDBClient({
  ...SDK_CLIENT_DEFAULTS,
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const tableName = `ledger-sdk-${Date.now()}`;
const ledger = new Ledger({ client, tableName, ttlSeconds: 3600 });

const claim = (jobId: string, owner: string) =>
  ledger.claim({
    jobId,
    type: 'export',
    lane: 'default',
    enqueuedAt: '2025-06-01T11:59:00.000Z',
    owner,
    leaseMs: 60_000,
    fresh: true,
  });

beforeAll(() => createLedgerTable(client, tableName));

describe('SDK_CLIENT_DEFAULTS', () => {
  it('turns on the middleware cache, and the runtime builds its S3 client with it', () => {
    expect(SDK_CLIENT_DEFAULTS.cacheMiddleware).toBe(true);
    expect(createS3Client({}).config.cacheMiddleware).toBe(true);
  });

  it('concurrent ledger calls on one cached client each get their own answer', async () => {
    // Prepare: 20 jobs already finished (each with its own result), 20 new ones
    const finished = Array.from({ length: 20 }, (_, i) => `sdk-done-${Date.now()}-${i}`);
    const fresh = Array.from({ length: 20 }, (_, i) => `sdk-new-${Date.now()}-${i}`);
    await Promise.all(
      finished.map(async (jobId, i) => {
        await claim(jobId, `first-${i}`);
        await ledger.complete({ jobId, owner: `first-${i}`, result: { n: i } });
      }),
    );

    // Act: all 40 claims at once, interleaved, then the new ones completed at once
    const jobs = finished.flatMap((done, i) => [done, fresh[i]]);
    const claims = await Promise.all(jobs.map((jobId, i) => claim(jobId, `second-${i}`)));
    const completions = await Promise.all(
      fresh.map((jobId) => ledger.complete({ jobId, owner: `second-${jobs.indexOf(jobId)}`, result: jobId })),
    );

    // Assess
    claims.forEach((outcome, i) => {
      const jobId = jobs[i];
      if (finished.includes(jobId)) {
        expect(outcome.kind, jobId).toBe('finished');
        // The item the failed condition returned is this job's, not another concurrent call's.
        expect(outcome.kind === 'finished' && outcome.record.jobId).toBe(jobId);
        expect(outcome.kind === 'finished' && outcome.record.result).toEqual({ n: finished.indexOf(jobId) });
      } else {
        expect(outcome, jobId).toMatchObject({ kind: 'claimed', attempts: 1, created: true });
      }
    });
    expect(completions).toEqual(fresh.map(() => true));
    const records = await Promise.all(fresh.map((jobId) => ledger.get(jobId)));
    expect(records.map((r) => [r?.status, r?.result])).toEqual(fresh.map((jobId) => ['SUCCEEDED', jobId]));
  });
});
