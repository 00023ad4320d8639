/**
 * Results too large for the ledger item (over LEDGER_LIMITS.resultBytes) go to the queue's results
 * bucket, written before the ledger's SUCCEEDED write, so the item never points at a missing object.
 * The item then keeps only the object's key (LEDGER_ATTR.resultRef); `JobClient.getJob` reads it.
 *
 * Storing a result never fails a job: a job that ran is not run again for its result. When the
 * object cannot be written (after the SDK's retries), or the result is over RESULT_OBJECTS.maxBytes,
 * or the queue has no bucket, the ledger gets the usual `{"omitted": ...}` note instead.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LEDGER_LIMITS, RESULT_OBJECTS } from '../shared/contract';
import { describeError } from '../shared/errors';
import { truncate } from '../shared/text';

/** What the SUCCEEDED write stores: the result inline (the ledger encodes or omits it), or its key. */
export type StoredResult =
  | { readonly result: unknown; readonly resultRef?: undefined }
  | { readonly result?: undefined; readonly resultRef: string };

export interface ResultStoreOptions {
  readonly s3: S3Client;
  /** The results bucket; absent: large results are replaced by a note, as before. */
  readonly bucket?: string;
  readonly logger: Logger;
  /** @default randomUUID */
  readonly newId?: () => string;
}

export class ResultStore {
  constructor(private readonly options: ResultStoreOptions) {}

  /** Writes a large result to S3 when it can; never throws. */
  async store(jobId: string, result: unknown): Promise<StoredResult> {
    const { bucket } = this.options;
    if (bucket === undefined || result === undefined) return { result };
    let json: string | undefined;
    try {
      json = JSON.stringify(result);
    } catch {
      return { result }; // the ledger's encoder notes it as not serialisable
    }
    if (json === undefined) return { result };
    const bytes = Buffer.byteLength(json);
    if (bytes <= LEDGER_LIMITS.resultBytes) return { result };
    if (bytes > RESULT_OBJECTS.maxBytes) {
      return {
        result: {
          omitted: `result is ${bytes} bytes, over the ${RESULT_OBJECTS.maxBytes}-byte results limit`,
        },
      };
    }
    const key = `${RESULT_OBJECTS.prefix}${jobId}/${(this.options.newId ?? randomUUID)()}.json`;
    try {
      await this.options.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: json, ContentType: 'application/json' }),
      );
      return { resultRef: key };
    } catch (error) {
      const described = describeError(error);
      this.options.logger.warn('could not store a large result in S3; the ledger keeps a note instead', {
        jobId,
        bucket,
        key,
        bytes,
        error: described,
      });
      return {
        result: {
          omitted: truncate(
            `result is ${bytes} bytes and could not be stored in S3 (${described.type}: ${described.message})`,
            LEDGER_LIMITS.lastErrorChars,
          ),
        },
      };
    }
  }
}
