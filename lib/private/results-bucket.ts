/**
 * The results bucket a JobQueue creates by default: results over the ledger's inline limit, as
 * `results/<jobId>/<random>.json`, kept as long as the ledger items that point at them.
 */
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { RESULT_OBJECTS } from '../../lambdas/shared/contract';

export interface ResultsBucketOptions {
  /** The queue's key: SSE-KMS with it (and an S3 bucket key, fewer KMS calls); else SSE-S3. */
  readonly encryptionKey?: kms.IKey;
  /** The ledger TTL: a result object expires with the item that points at it (rounded up to days). */
  readonly ledgerTtl: Duration;
  readonly removalPolicy: RemovalPolicy;
}

export function createResultsBucket(scope: Construct, id: string, options: ResultsBucketOptions): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    ...(options.encryptionKey
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: options.encryptionKey, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED }),
    lifecycleRules: [
      {
        id: 'ExpireResults',
        prefix: RESULT_OBJECTS.prefix,
        expiration: Duration.days(Math.max(1, Math.ceil(options.ledgerTtl.toSeconds() / 86_400))),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    removalPolicy: options.removalPolicy,
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'Only the consumers write here (one object per large job result) and only readers granted by grantStatusRead read it; the ledger and CloudTrail already record who ran which job. Server access logs would need a second bucket and cost more than the results themselves.',
  });
  return bucket;
}
