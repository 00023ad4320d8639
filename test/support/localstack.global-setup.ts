/**
 * vitest globalSetup for the `integ` project: a LocalStack for the tests, started or reused by
 * `useLocalstack()` (scripts/local/localstack.ts, which documents the reuse and lease rules) and
 * released on teardown.
 *
 * What tests get (env is inherited by vitest workers, verified; inject() works as well):
 *   inject('localstackEndpoint')  and  process.env.AWS_ENDPOINT_URL / LOCALSTACK_ENDPOINT
 *   process.env.AWS_ENDPOINT_URL_S3 (same endpoint; cdklocal refuses AWS_ENDPOINT_URL without it)
 *   AWS_REGION=AWS_DEFAULT_REGION=us-east-1, AWS_ACCESS_KEY_ID=AWS_SECRET_ACCESS_KEY=test,
 *   CDK_DEFAULT_ACCOUNT=000000000000, CDK_DEFAULT_REGION=us-east-1 (unless already set)
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { useLocalstack } from '../../scripts/local/localstack';

declare module 'vitest' {
  export interface ProvidedContext {
    localstackEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const localstack = await useLocalstack();
  project.provide('localstackEndpoint', localstack.endpoint);
  return localstack.release;
}
