/**
 * Reads back results the consumer stored in S3 (over the ledger's inline limit): `getJob` returns
 * them as `result`, so callers never see where a result was kept.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JobRecord } from '../shared/contract';
import { ResultReadError } from '../shared/errors';

export class ResultReader {
  private client?: S3Client;

  constructor(
    /** The queue's results bucket (JobQueueConfig.resultsBucket). */
    private readonly bucket: string | undefined,
    /** Builds the S3 client on first use: clients that never meet a stored result never make one. */
    private readonly makeClient: () => S3Client,
  ) {}

  /** The record with its stored result read into `result`; throws ResultReadError when it cannot be read. */
  async resolve(record: JobRecord | undefined): Promise<JobRecord | undefined> {
    if (record?.resultRef === undefined) return record;
    const { jobId, resultRef: key } = record;
    if (this.bucket === undefined) {
      throw new ResultReadError(jobId, key, {
        cause: new Error('the queue config names no results bucket (resultsBucket)'),
      });
    }
    this.client ??= this.makeClient();
    let text: string | undefined;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = await out.Body?.transformToString('utf-8');
    } catch (error) {
      throw new ResultReadError(jobId, key, { cause: error });
    }
    try {
      return { ...record, result: JSON.parse(text ?? '') };
    } catch (error) {
      throw new ResultReadError(jobId, key, {
        cause: new Error(`the object is not JSON (${String(error)})`),
      });
    }
  }
}
