/**
 * The example stack deployed on LocalStack, for integration tests (the end-to-end benchmark deploys
 * its own app, bench/handwired, through `deployExampleStack({ appDir })`).
 *
 * `deployedStack()` deploys once per process (memoized) unless the integ globalSetup already did
 * (it sets SQS_JOBS_DEPLOYED_STACK), then returns the stack's JobQueue config and SDK clients
 * pointed at LocalStack. Requires AWS_ENDPOINT_URL (set by `useLocalstack()` in ./localstack).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { registry } from '../../bin/jobs';
import { JobClient } from '../../lambdas/client';
import type { JobQueueConfig } from '../../lambdas/shared/contract';
import { DEFAULT_STACK_NAME } from '../../lambdas/shared/defaults';
import { deployExampleStack } from './deploy';

export interface DeployedStack {
  readonly stackName: string;
  readonly endpoint: string;
  readonly config: JobQueueConfig;
  readonly client: JobClient<typeof registry>;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly scheduler: SchedulerClient;
  readonly cloudwatch: CloudWatchClient;
}

let deployment: Promise<DeployedStack> | undefined;

export function deployedStack(
  stackName = process.env.SQS_JOBS_STACK ?? DEFAULT_STACK_NAME,
): Promise<DeployedStack> {
  deployment ??= (async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL;
    if (!endpoint)
      throw new Error('AWS_ENDPOINT_URL is not set: start LocalStack first (scripts/localstack/up.sh)');
    if (process.env.SQS_JOBS_DEPLOYED_STACK !== stackName) {
      await deployExampleStack({ endpoint, stackName });
      process.env.SQS_JOBS_DEPLOYED_STACK = stackName;
    }
    const client = await JobClient.fromStack(stackName, { registry });
    return {
      stackName,
      endpoint,
      config: client.config,
      client,
      sqs: new SQSClient({}),
      dynamodb: new DynamoDBClient({}),
      scheduler: new SchedulerClient({}),
      cloudwatch: new CloudWatchClient({}),
    };
  })();
  return deployment;
}
