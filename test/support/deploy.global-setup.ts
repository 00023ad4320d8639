/**
 * vitest globalSetup for the `integ` project, after LocalStack is up: deploys the example stack
 * once for every test file (they read it through `deployedStack()`).
 */
import { DEFAULT_STACK_NAME } from '../../lambdas/shared/defaults';
import { deployExampleStack } from '../../scripts/local/deploy';

export default async function setup(): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL is not set: the LocalStack globalSetup must run first');
  const stackName = process.env.SQS_JOBS_STACK ?? DEFAULT_STACK_NAME;
  const started = Date.now();
  await deployExampleStack({ endpoint, stackName });
  process.env.SQS_JOBS_DEPLOYED_STACK = stackName;
  console.log(`[deploy] ${stackName} ready in ${Math.round((Date.now() - started) / 1000)} s`);
}
