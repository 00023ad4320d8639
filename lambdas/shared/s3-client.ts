/** One way for the runtime to build its S3 client (the consumer writes results, the client reads them). */
import { S3Client } from '@aws-sdk/client-s3';
import { SDK_CLIENT_DEFAULTS } from './sdk-clients';

/**
 * An S3 client with the default chain (region, credentials, endpoint). With a custom endpoint
 * (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL: LocalStack, MinIO) it addresses buckets path-style,
 * since `<bucket>.<host>` names seldom resolve there; on AWS it keeps virtual-hosted style.
 */
export function createS3Client(env: Readonly<Record<string, string | undefined>> = process.env): S3Client {
  return new S3Client({
    ...SDK_CLIENT_DEFAULTS,
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL),
  });
}
